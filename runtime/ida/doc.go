// Package ida is the OpenID Connect for Identity Assurance engine: it parses
// and validates the verified_claims parts of a claims request, and decides,
// for one request and one person's verified data, exactly what to release.
//
// It is pure: no I/O, an injected clock, stdlib and golang.org/x/text only.
// The flow is parse, then check, then decide:
//
//	eng, err := ida.NewEngine(policy)              // once per provider config
//	req, err := eng.ParseRequest(claims, ida.RequestOptions{Scope: scope})
//	ds, err := ida.ParseDataset(personJSON)        // what the provider holds
//	res := eng.Evaluate(req, ds, now)              // res.IDToken, res.UserInfo
//
// A refused request is an *Error carrying invalid_request or invalid_scope
// and a description naming the JSON path. The rules follow the final IDA
// text and its companions (SCH, ATT, ASC); where those are silent, the
// choice and its reason sit in a comment beside the code.
package ida
