// Package grants keeps what an authorization leaves behind between
// requests: pushed requests, sessions, authorization codes, access and
// refresh tokens, the grants that tie tokens together, each person's
// remembered consents and release records (consents.go), and the markers and
// counters that make things one-time or bounded (answered consent pages,
// client assertions, DPoP proofs, failed sign-ins). The protocol (package op) speaks in its verbs (push,
// redeem a code, rotate a refresh token, revoke a grant); the store keys,
// the record encoding, the replay markers and which step must be atomic
// are this package's business.
//
// A bearer secret (code, token, cookie value, request_uri id) is never
// stored: records are keyed by its SHA-256 hash. Records go to a shared
// store as JSON and to a store.Local one in the compact binary form of
// codec.go.
package grants
