// A FAPI 2.0 relying party built directly on oauth4webapi (panva), the
// strict OAuth library under openid-client: it checks the issuer of
// every response (RFC 9207), DPoP nonces, the ID token, and sends client
// assertions whose aud is the issuer identifier as a string, as FAPI 2.0
// asks. The Go tests in test/runtime drive it against a runtime under the
// FAPI2 profile, with the same JSON-lines protocol as rp.mjs:
//
//   1. {"event":"authorize","authorization_url":...,"state":...} after
//      discovery and the pushed authorization request;
//   2. one line on stdin: the callback URL;
//   3. {"event":"result",...}: the token response, the ID token's claims,
//      UserInfo, the introspection of the access token, two refresh
//      grants with the same refresh token and, with RESOURCE, what a
//      resource server built on oauth4webapi says of the tokens.
//
// Environment: ISSUER, CLIENT_ID, CLIENT_JWK (private JWK, ES256),
// REDIRECT_URI, SCOPE, CLAIMS, PURPOSE, RESOURCE (an API's resource
// indicator: the tokens are asked for it and the issuer, RFC 8707).
import * as oauth from 'oauth4webapi'
import { env, errorDetails, importPrivateKey, out, readLine } from './lib.mjs'
import { callResourceServer, startResourceServer } from './resourceserver.mjs'

// withNonce retries once when the server asks for a DPoP nonce (RFC 9449
// §8): the DPoP handle has learnt it from the refusal.
async function withNonce(fn) {
  try {
    return await fn()
  } catch (err) {
    if (oauth.isDPoPNonceError(err)) return await fn()
    throw err
  }
}

async function main() {
  const issuer = new URL(env('ISSUER'))
  const client = { client_id: env('CLIENT_ID') }
  const redirectUri = env('REDIRECT_URI')
  const clientAuth = oauth.PrivateKeyJwt(await importPrivateKey(JSON.parse(env('CLIENT_JWK'))))
  // Loopback tests only: the issuer is http.
  const insecure = { [oauth.allowInsecureRequests]: true }

  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }))
  const dpop = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
  const opts = { DPoP: dpop, ...insecure }

  const codeVerifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const nonce = oauth.generateRandomNonce()
  const params = new URLSearchParams({
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: env('SCOPE', 'openid'),
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  })
  if (process.env.CLAIMS) params.set('claims', process.env.CLAIMS)
  if (process.env.PURPOSE) params.set('purpose', process.env.PURPOSE)
  const resource = process.env.RESOURCE
  if (resource) {
    params.append('resource', resource)
    params.append('resource', env('ISSUER'))
  }

  const par = await withNonce(async () =>
    oauth.processPushedAuthorizationResponse(as, client, await oauth.pushedAuthorizationRequest(as, client, clientAuth, params, opts)),
  )
  const authorizationUrl = new URL(as.authorization_endpoint)
  authorizationUrl.searchParams.set('client_id', client.client_id)
  authorizationUrl.searchParams.set('request_uri', par.request_uri)
  out({
    event: 'authorize',
    authorization_url: authorizationUrl.href,
    state,
    discovery: {
      token_endpoint_auth_methods_supported: as.token_endpoint_auth_methods_supported,
      require_pushed_authorization_requests: as.require_pushed_authorization_requests,
      dpop_signing_alg_values_supported: as.dpop_signing_alg_values_supported,
    },
  })

  // The response must come from this issuer (RFC 9207) with our state.
  const callback = oauth.validateAuthResponse(as, client, new URL(await readLine()), state)
  const tokens = await withNonce(async () =>
    oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, callback, redirectUri, codeVerifier, opts),
      { expectedNonce: nonce, requireIdToken: true },
    ),
  )
  const idClaims = oauth.getValidatedIdTokenClaims(tokens)
  const userinfo = await withNonce(async () =>
    oauth.processUserInfoResponse(as, client, idClaims.sub, await oauth.userInfoRequest(as, client, tokens.access_token, opts)),
  )
  // The client asks about its own access token (RFC 7662), as a resource
  // server of its own would, for a signed answer (RFC 9701), whose
  // signature it then checks against the provider's JWKS.
  const introspectionResponse = await oauth.introspectionRequest(as, client, clientAuth, tokens.access_token, {
    requestJwtResponse: true,
    ...insecure,
  })
  const introspected = await oauth.processIntrospectionResponse(as, client, introspectionResponse)
  await oauth.validateApplicationLevelSignature(as, introspectionResponse, insecure)
  const result = {
    event: 'result',
    token_type: tokens.token_type,
    scope: tokens.scope,
    has_refresh_token: typeof tokens.refresh_token === 'string',
    id_token_claims: idClaims,
    userinfo,
    introspection: introspected,
  }
  if (result.has_refresh_token) {
    // FAPI 2.0: the refresh token is not rotated, so the same one works
    // again (a client whose answer was lost can retry).
    const refresh = async () =>
      withNonce(async () =>
        oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, opts)),
      )
    const first = await refresh()
    const second = await refresh()
    result.refresh = {
      token_type: first.token_type,
      new_refresh_token: typeof first.refresh_token === 'string' && first.refresh_token !== tokens.refresh_token,
      second_with_same_token: typeof second.access_token === 'string',
      userinfo: await withNonce(async () =>
        oauth.processUserInfoResponse(as, client, idClaims.sub, await oauth.userInfoRequest(as, client, second.access_token, opts)),
      ),
    }
  }
  if (resource) result.resource_server = await useResourceServer(as, client, clientAuth, tokens, idClaims.sub, dpop, resource, insecure)
  out(result)
}

// useResourceServer presents the access token to an API that checks it
// with oauth4webapi: with the DPoP key it is bound to, with another key,
// and as a Bearer token; then refreshes for the API alone (RFC 8707
// §2.2) and presents that token at the API and at UserInfo.
async function useResourceServer(as, client, clientAuth, tokens, sub, dpop, resource, insecure) {
  const rs = await startResourceServer(as, resource, insecure)
  try {
    const otherKey = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
    const bearer = await fetch(rs.url, { headers: { authorization: `Bearer ${tokens.access_token}` } })
    const forAPI = await withNonce(async () =>
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, {
          DPoP: dpop,
          additionalParameters: { resource },
          ...insecure,
        }),
      ),
    )
    let userinfoWithAPIToken
    try {
      await oauth.processUserInfoResponse(as, client, sub, await oauth.userInfoRequest(as, client, forAPI.access_token, { DPoP: dpop, ...insecure }))
      userinfoWithAPIToken = { accepted: true }
    } catch (err) {
      userinfoWithAPIToken = { accepted: false, ...errorDetails(err) }
    }
    return {
      own_key: await callResourceServer(rs, tokens.access_token, { DPoP: dpop, ...insecure }),
      other_key: await callResourceServer(rs, tokens.access_token, { DPoP: otherKey, ...insecure }),
      bearer: { status: bearer.status, body: await bearer.json() },
      api_only: await callResourceServer(rs, forAPI.access_token, { DPoP: dpop, ...insecure }),
      userinfo_with_api_token: userinfoWithAPIToken,
    }
  } finally {
    rs.close()
  }
}

main().catch((err) => {
  out({ event: 'error', ...errorDetails(err) })
  process.exitCode = 1
})
