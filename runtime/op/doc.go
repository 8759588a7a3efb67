// Package op is the OpenID Provider's HTTP side: discovery, JWKS, pushed
// authorization requests, authorization with login and consent, token,
// UserInfo and revocation, built on net/http and go-jose.
//
// Every endpoint is a pipeline: parse the request, run the checks (one
// function per rule, named after it, each returning one OAuth error), decide,
// then respond. What is released as verified_claims is decided by the IDA
// engine (package ida); this package carries out the decision, records an
// audit event for it and never logs secrets, tokens or claim values.
//
// The configuration is a config.Snapshot swapped atomically by Apply; the
// per-request state (codes, sessions, tokens, replay caches) lives in a
// store.Store, so several replicas can share it.
package op
