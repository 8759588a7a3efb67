// What the relying party scripts share: the JSON-lines protocol with the
// Go tests (out, readLine), the environment, the client key and error
// reports.
import { createInterface } from 'node:readline'

export function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

export function env(name, fallback) {
  const v = process.env[name]
  if (v === undefined || v === '') {
    if (fallback === undefined) throw new Error(`${name} is required`)
    return fallback
  }
  return v
}

export async function importPrivateKey(jwk) {
  let algorithm
  switch (jwk.alg || (jwk.kty === 'EC' ? 'ES256' : 'PS256')) {
    case 'ES256':
      algorithm = { name: 'ECDSA', namedCurve: 'P-256' }
      break
    case 'PS256':
      algorithm = { name: 'RSA-PSS', hash: 'SHA-256' }
      break
    case 'RS256':
      algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      break
    default:
      throw new Error(`unsupported client key alg ${jwk.alg}`)
  }
  const { kid, alg, use, key_ops, ...material } = jwk
  const key = await crypto.subtle.importKey('jwk', material, algorithm, false, ['sign'])
  return { key, kid }
}

// importDecryptionKey imports a private JWK for decrypting responses, as
// openid-client's enableDecryptingResponses takes it: RSA for RSA-OAEP-256,
// EC for the ECDH-ES family.
export async function importDecryptionKey(jwk) {
  const { kid, alg, use, key_ops, ...material } = jwk
  const [algorithm, usages] =
    jwk.kty === 'RSA'
      ? [{ name: 'RSA-OAEP', hash: 'SHA-256' }, ['decrypt', 'unwrapKey']]
      : [{ name: 'ECDH', namedCurve: jwk.crv }, ['deriveBits']]
  const key = await crypto.subtle.importKey('jwk', material, algorithm, false, usages)
  return kid ? { key, kid } : { key }
}

// joseHeader is the decoded protected header of a compact JWS or JWE, and
// how many parts it has (3: signed, 5: encrypted).
export function joseHeader(compact) {
  const parts = compact.split('.')
  return { parts: parts.length, header: JSON.parse(Buffer.from(parts[0], 'base64url').toString()) }
}

export function readLine() {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin })
    rl.once('line', (line) => {
      resolve(line.trim())
      rl.close()
    })
    rl.once('close', () => reject(new Error('stdin closed before the callback URL arrived')))
  })
}

export function errorDetails(err) {
  const d = { message: String(err?.message ?? err) }
  for (const k of ['code', 'error', 'error_description', 'status']) {
    if (err?.[k] !== undefined) d[k] = err[k]
  }
  if (err?.cause !== undefined) {
    try {
      d.cause = JSON.parse(JSON.stringify(err.cause))
    } catch {
      d.cause = String(err.cause)
    }
  }
  return d
}
