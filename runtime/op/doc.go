// Package op is the OpenID Provider's HTTP side: discovery, JWKS, pushed
// authorization requests, authorization with login and consent, token,
// UserInfo and revocation, built on net/http and go-jose.
//
// An endpoint is a step file: it parses its request into a small context,
// runs an ordered list of named checks over it (checks.go; each rule of
// the standard in one check, named after it, with a table test beside
// the file), decides, then responds. authorize_checks.go, par.go,
// grant_code.go, grant_refresh.go and clientauth.go hold the lists;
// decide.go the one login/consent decision. What is released as
// verified_claims is decided by the IDA engine (package ida); this package
// carries out the decision, records an audit event for it and never logs
// secrets, tokens or claim values.
//
// The configuration is a config.Snapshot, served as a whole (served.go)
// and swapped atomically by Apply. What outlives a request (codes,
// sessions, tokens, grants, replay markers) is kept through package
// grants, never as store keys here; login and consent pages carry their
// own state, sealed (sealed.go).
package op
