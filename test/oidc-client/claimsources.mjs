// A relying party's validation of aggregated and distributed verified
// claims (OpenID Connect for Identity Assurance 1.0 §6.2) with the jose
// library (openid-client's own JWT library, pinned in package-lock.json).
//
// TRUSTED_SOURCES is a JSON object: claim source issuer -> jwks_uri, the
// sources this relying party knows. Each stdin line is a JSON object
// {"where": "...", "claims": <ID token claims or UserInfo>}; for each the
// script prints {"event": "validated", "where", "sources": {name:
// {"kind", "iss", "verified_claims"}}} or {"event": "error", ...}.
import { createInterface } from 'node:readline'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { out, env, errorDetails } from './lib.mjs'

const trusted = JSON.parse(env('TRUSTED_SOURCES'))
const keySets = new Map()

function keysOf(iss) {
  const uri = trusted[iss]
  if (!uri) throw new Error(`untrusted claim source ${iss}`)
  if (!keySets.has(iss)) keySets.set(iss, createRemoteJWKSet(new URL(uri)))
  return keySets.get(iss)
}

function fail(msg) {
  throw new Error(msg)
}

// sourceNames applies steps 1 to 5 of the first list of IDA §6.2.
function sourceNames(claims) {
  const names = claims._claim_names
  const sources = claims._claim_sources
  if (!names || !sources) fail('_claim_names and _claim_sources must both be present')
  const vc = names.verified_claims
  if (vc === undefined) fail('_claim_names has no verified_claims')
  let refs
  if (typeof vc === 'string') refs = [vc]
  else if (Array.isArray(vc)) refs = vc
  else if (vc && typeof vc === 'object') {
    refs = Object.keys(vc)
    for (const r of refs) {
      if (typeof vc[r] !== 'object' || !('claims' in vc[r]) || !('verification' in vc[r])) fail(`look-ahead ${r} lacks claims or verification`)
    }
  } else fail('_claim_names.verified_claims has an unknown form')
  if (typeof sources !== 'object' || Object.keys(sources).length === 0) fail('_claim_sources must have members')
  for (const r of refs) if (!(r in sources)) fail(`${r} is not in _claim_sources`)
  for (const s of Object.keys(sources)) if (!refs.includes(s)) fail(`_claim_sources.${s} is not named`)
  return refs
}

// assertion applies the steps for each JWT: signature with the source's
// keys, typ, iss, sub, verified_claims, and neither exp nor aud.
async function assertion(jwt) {
  const [, body] = jwt.split('.')
  const iss = JSON.parse(Buffer.from(body ?? '', 'base64url').toString()).iss
  const { payload, protectedHeader } = await jwtVerify(jwt, keysOf(iss), {
    issuer: iss,
    typ: 'provided-claims+jwt',
    algorithms: ['ES256', 'PS256', 'RS256'],
  })
  if (protectedHeader.typ !== 'provided-claims+jwt') fail(`typ ${protectedHeader.typ}`)
  for (const m of ['iss', 'sub', 'verified_claims']) {
    const v = payload[m]
    if (v === undefined || v === null || v === '' || (typeof v === 'object' && Object.keys(v).length === 0)) fail(`${m} is missing or empty`)
  }
  for (const m of ['exp', 'aud']) if (m in payload) fail(`the assertion has ${m}`)
  return { iss, verified_claims: payload.verified_claims }
}

async function validate(claims) {
  const result = {}
  for (const ref of sourceNames(claims)) {
    const src = claims._claim_sources[ref]
    if (typeof src.endpoint === 'string') {
      const url = new URL(src.endpoint)
      if (url.protocol !== 'https:') fail(`${ref}: the endpoint is not https`)
      const resp = await fetch(url, { headers: { authorization: `Bearer ${src.access_token}` } })
      if (resp.status !== 200) fail(`${ref}: the endpoint answered ${resp.status}`)
      result[ref] = { kind: 'distributed', ...(await assertion((await resp.text()).trim())) }
    } else if (typeof src.JWT === 'string') {
      result[ref] = { kind: 'aggregated', ...(await assertion(src.JWT)) }
    } else fail(`${ref}: neither JWT nor endpoint`)
  }
  return result
}

const rl = createInterface({ input: process.stdin })
for await (const line of rl) {
  if (!line.trim()) continue
  const { where, claims } = JSON.parse(line)
  try {
    out({ event: 'validated', where, sources: await validate(claims) })
  } catch (err) {
    out({ event: 'error', where, error: errorDetails(err) })
  }
}
