// A relying party built on openid-client v6 (panva), a certified client
// library nobody in this project wrote. The Go tests in test/runtime start it
// against a runtime on loopback and play the browser's part.
//
// It speaks JSON lines on stdout:
//
//   1. {"event":"authorize","authorization_url":...,"state":...,"nonce":...}
//      after discovery and the pushed authorization request;
//   2. it then reads one line on stdin: the callback URL the browser was
//      redirected to (query with code, state and iss);
//   3. {"event":"result",...} with the token response, the ID token's
//      claims and the UserInfo response.
//
// On failure it prints {"event":"error",...} and exits with status 1.
//
// Environment:
//   ISSUER            issuer URL (http is allowed: loopback tests only)
//   CLIENT_ID         the client's id
//   CLIENT_JWK        the client's private JWK (JSON, EC P-256 or RSA) for
//                     private_key_jwt; its "kid" and "alg" are used
//   CLIENT_SECRET     without CLIENT_JWK: the secret for client_secret_basic
//   REDIRECT_URI      the registered redirect URI
//   SCOPE             scope to ask for (default "openid")
//   CLAIMS            optional claims parameter (JSON text)
//   PURPOSE           optional purpose parameter
//   DPOP              "1" (default) binds tokens to a fresh DPoP key
//   PAR               "1" (default) pushes the authorization request
//   JAR               "1": the authorization request goes as a request
//                     object signed with CLIENT_JWK (RFC 9101), pushed when
//                     PAR is "1"
//   NON_REPUDIATION   "1" (default) also verifies the ID token's signature
//                     against the issuer's published JWKS
//   REFRESH           "1": after UserInfo, a refresh grant and UserInfo again
//   REVOKE            "1": then revoke the access token and call UserInfo,
//                     which must refuse it
//   EXPOSE_TOKENS     "1": the result also carries the raw id_token and
//                     refresh_token, for the caller to verify and use
//   DECRYPT_JWKS      a JSON array of private JWKs (with kid): openid-client
//                     decrypts encrypted ID tokens, UserInfo and
//                     introspection answers with them, and the result's
//                     "wire" member tells what each response was on the
//                     wire (content type, JOSE header, parts)
//   INTROSPECT        "jwt": after UserInfo, introspect the access token
//                     asking for a JWT answer (RFC 9701)
//   POST_LOGOUT_REDIRECT_URI  after the result, print
//                     {"event":"end_session","url":...,"state":...}: the
//                     logout URL buildEndSessionUrl makes with the ID token
//                     as id_token_hint, this URI and a fresh state
import * as client from 'openid-client'
import { env, errorDetails, importDecryptionKey, importPrivateKey, joseHeader, out, readLine } from './lib.mjs'

async function main() {
  const issuer = new URL(env('ISSUER'))
  const clientId = env('CLIENT_ID')
  const redirectUri = env('REDIRECT_URI')
  const scope = env('SCOPE', 'openid')
  const claims = process.env.CLAIMS || ''
  const purpose = process.env.PURPOSE || ''
  const useDPoP = env('DPOP', '1') === '1'
  const usePAR = env('PAR', '1') === '1'
  const useJAR = env('JAR', '0') === '1'
  const nonRepudiation = env('NON_REPUDIATION', '1') === '1'
  const metadata = { redirect_uris: [redirectUri] }
  let clientAuth
  let signingKey
  if (process.env.CLIENT_JWK) {
    const jwk = JSON.parse(process.env.CLIENT_JWK)
    metadata.token_endpoint_auth_signing_alg = jwk.alg
    metadata.request_object_signing_alg = jwk.alg
    signingKey = await importPrivateKey(jwk)
    clientAuth = client.PrivateKeyJwt(signingKey)
  } else {
    clientAuth = client.ClientSecretBasic(env('CLIENT_SECRET'))
  }

  const execute = [client.allowInsecureRequests]
  if (nonRepudiation) execute.push(client.enableNonRepudiationChecks)
  // An answer in a JWT is asked for by the client's metadata.
  if (process.env.INTROSPECT === 'jwt') metadata.introspection_signed_response_alg = 'ES256'
  const config = await client.discovery(issuer, clientId, metadata, clientAuth, { execute })
  const meta = config.serverMetadata()

  // What the responses were on the wire, before openid-client decrypted
  // them: the last successful answer of each endpoint.
  const wire = {}
  if (process.env.DECRYPT_JWKS) {
    const keys = await Promise.all(JSON.parse(process.env.DECRYPT_JWKS).map(importDecryptionKey))
    client.enableDecryptingResponses(config, undefined, ...keys)
    config[client.customFetch] = async (url, options) => {
      const res = await fetch(url, options)
      if (res.status === 200) {
        const path = new URL(url).pathname.split('/').pop()
        const type = res.headers.get('content-type') || ''
        const body = await res.clone().text()
        if (path === 'token') {
          const idt = JSON.parse(body).id_token
          if (idt) wire.id_token = { content_type: type, ...joseHeader(idt) }
        } else if ((path === 'userinfo' || path === 'introspect') && !type.includes('json')) {
          wire[path] = { content_type: type, ...joseHeader(body) }
        }
      }
      return res
    }
  }

  const dpop = useDPoP ? client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256')) : undefined
  const codeVerifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const params = {
    redirect_uri: redirectUri,
    scope,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  }
  if (claims) params.claims = claims
  if (purpose) params.purpose = purpose
  if (process.env.PROMPT) params.prompt = process.env.PROMPT

  let authorizationUrl
  if (useJAR) {
    if (!signingKey) throw new Error('JAR needs CLIENT_JWK')
    const signed = await client.buildAuthorizationUrlWithJAR(config, params, signingKey)
    authorizationUrl = usePAR
      ? await client.buildAuthorizationUrlWithPAR(config, signed.searchParams, { DPoP: dpop })
      : signed
  } else {
    authorizationUrl = usePAR
      ? await client.buildAuthorizationUrlWithPAR(config, params, { DPoP: dpop })
      : client.buildAuthorizationUrl(config, params)
  }
  out({
    event: 'authorize',
    authorization_url: authorizationUrl.href,
    state,
    nonce,
    par: usePAR,
    jar: useJAR,
    dpop: useDPoP,
    discovery: {
      issuer: meta.issuer,
      pushed_authorization_request_endpoint: meta.pushed_authorization_request_endpoint,
      dpop_signing_alg_values_supported: meta.dpop_signing_alg_values_supported,
      authorization_response_iss_parameter_supported: meta.authorization_response_iss_parameter_supported,
    },
  })

  const callback = new URL(await readLine())
  const tokens = await client.authorizationCodeGrant(
    config,
    callback,
    { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true },
    undefined,
    { DPoP: dpop },
  )
  const idClaims = tokens.claims()
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub, { DPoP: dpop })
  const result = {
    event: 'result',
    token_type: tokens.token_type,
    scope: tokens.scope,
    expires_in: tokens.expiresIn(),
    has_refresh_token: typeof tokens.refresh_token === 'string',
    id_token_header: joseHeader(tokens.id_token).header,
    id_token_claims: idClaims,
    userinfo,
    wire,
  }
  if (process.env.INTROSPECT === 'jwt') {
    result.introspection = await client.tokenIntrospection(config, tokens.access_token)
  }
  if (process.env.EXPOSE_TOKENS === '1') {
    result.id_token = tokens.id_token
    result.refresh_token = tokens.refresh_token
  }

  // REFRESH=1: a refresh grant (DPoP-bound, private_key_jwt), then UserInfo
  // with the new access token.
  let accessToken = tokens.access_token
  if (process.env.REFRESH === '1' && result.has_refresh_token) {
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: dpop })
    accessToken = refreshed.access_token
    result.refresh = {
      token_type: refreshed.token_type,
      rotated: typeof refreshed.refresh_token === 'string' && refreshed.refresh_token !== tokens.refresh_token,
      id_token_claims: refreshed.id_token ? refreshed.claims() : null,
      userinfo: await client.fetchUserInfo(config, accessToken, idClaims.sub, { DPoP: dpop }),
    }
  }

  // REVOKE=1: revoke the (latest) access token (RFC 7009), then UserInfo
  // must refuse it.
  if (process.env.REVOKE === '1') {
    await client.tokenRevocation(config, accessToken, { token_type_hint: 'access_token' })
    try {
      await client.fetchUserInfo(config, accessToken, idClaims.sub, { DPoP: dpop })
      result.after_revocation = { refused: false }
    } catch (err) {
      result.after_revocation = { refused: true, ...errorDetails(err) }
    }
  }
  out(result)

  // RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the URL
  // the relying party sends the browser to.
  if (process.env.POST_LOGOUT_REDIRECT_URI) {
    const logoutState = client.randomState()
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: process.env.POST_LOGOUT_REDIRECT_URI,
      state: logoutState,
    })
    out({ event: 'end_session', url: url.href, state: logoutState, end_session_endpoint: meta.end_session_endpoint })
  }
}

main().catch((err) => {
  out({ event: 'error', ...errorDetails(err) })
  process.exitCode = 1
})
