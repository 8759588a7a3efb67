// A resource server built on oauth4webapi: an API that accepts the
// provider's JWT access tokens (RFC 9068) with validateJwtAccessToken,
// which checks the signature against the provider's jwks_uri, typ at+jwt,
// iss, exp, aud (this API's resource indicator, RFC 8707) and, for a
// DPoP-bound token, the request's DPoP proof against cnf.jkt (RFC 9449
// §7). It answers 200 with the token's claims or 401 with a challenge.
import { createServer } from 'node:http'
import * as oauth from 'oauth4webapi'

export async function startResourceServer(as, audience, options) {
  const server = createServer(async (req, res) => {
    const url = `http://${req.headers.host}${req.url}`
    const headers = new Headers()
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string') headers.set(k, v)
    }
    try {
      const claims = await oauth.validateJwtAccessToken(as, new Request(url, { method: req.method, headers }), audience, options)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ sub: claims.sub, aud: claims.aud, client_id: claims.client_id, scope: claims.scope, jkt: claims.cnf?.jkt }))
    } catch (err) {
      const scheme = headers.get('authorization')?.toLowerCase().startsWith('dpop') ? 'DPoP' : 'Bearer'
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': `${scheme} error="invalid_token", algs="ES256 PS256"`,
      })
      res.end(JSON.stringify({ error: 'invalid_token', reason: String(err?.message ?? err) }))
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  return { url: new URL(`http://127.0.0.1:${port}/accounts`), close: () => server.close() }
}

// callResourceServer calls it as a client would, with oauth4webapi's
// protectedResourceRequest (which adds the DPoP proof for the handle),
// and reports the status and body, or the challenge it was refused with.
export async function callResourceServer(rs, accessToken, options) {
  try {
    const resp = await oauth.protectedResourceRequest(accessToken, 'GET', rs.url, new Headers(), null, options)
    return { status: resp.status, body: await resp.json() }
  } catch (err) {
    if (err instanceof oauth.WWWAuthenticateChallengeError) {
      return { status: err.response.status, body: await err.response.json() }
    }
    throw err
  }
}
