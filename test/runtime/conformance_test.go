package runtime_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/idaop/ida-operator/test/internal/rptest"
)

// TestConformancePlan replays the OpenID Foundation's eKYC/IDA OP test plan
// (../shared/spec/CONFORMANCE.md: the requests each module sends and the
// conditions it asserts) against the runtime, through x/oauth2, go-oidc
// and the login and consent forms. The suite itself (Java, MongoDB, a TLS
// front end) does not run here; this is its logic, so a change that would
// fail certification fails here first.
func TestConformancePlan(t *testing.T) {
	t.Parallel()
	e := getEnv(t)
	e.dumpLogsOnFailure(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	md := checkEKYCDiscovery(t, ctx, e)

	// The plan's configuration: ekyc.verified_claim_names = given_name
	// (a claim the demo user has under every framework); plain claims are
	// the first two of claims_supported that the suite accepts.
	const known = "given_name"
	if !slices.Contains(md.ClaimsInVC, known) {
		t.Fatalf("%s is not in claims_in_verified_claims_supported %v", known, md.ClaimsInVC)
	}
	plain := plainClaimNames(md.ClaimsSupported, 2)
	if len(plain) == 0 {
		t.Fatalf("no usable plain claim in claims_supported %v", md.ClaimsSupported)
	}

	idToken, userinfo := []string{"id_token"}, []string{"userinfo"}
	both := []string{"id_token", "userinfo"}
	for _, m := range []struct {
		name    string
		targets []string
		claims  map[string]any // the verified_claims "claims" member
		// tf is the trust_framework element; nil means null.
		tf    any
		check func(t *testing.T, res conformanceResult)
	}{
		{name: "happypath/id_token", targets: idToken, claims: map[string]any{known: nil}, check: happyPath(md, idToken, known)},
		{name: "happypath/userinfo", targets: userinfo, claims: map[string]any{known: nil}, check: happyPath(md, userinfo, known)},
		{name: "happypath/both", targets: both, claims: map[string]any{known: nil}, check: happyPath(md, both, known)},
		{name: "happypath-emptyobject", targets: both, claims: map[string]any{known: map[string]any{}}, check: happyPath(md, both, known)},
		{name: "happypath-essentialfalse", targets: both, claims: map[string]any{known: map[string]any{"essential": false}}, check: happyPath(md, both, known)},
		{name: "unknown-claim-omitted", targets: both, claims: map[string]any{known: nil, rptest.RandomString(): nil}, check: happyPath(md, both, known)},
		{name: "unknown-essential-claim-omitted", targets: both, claims: map[string]any{known: nil, rptest.RandomString(): map[string]any{"essential": true}}, check: happyPath(md, both, known)},
		{name: "unknown-claim-specialchars-omitted", targets: both, claims: map[string]any{known: nil, "claim%1/a&,.b": nil}, check: happyPath(md, both, known)},
		{name: "one-claim-with-random-value-omitted", targets: both, claims: map[string]any{known: map[string]any{"value": rptest.RandomString()}}, check: func(t *testing.T, res conformanceResult) {
			res.mustSucceed(t)
			// EnsureIdTokenDoesNotContainVerifiedClaims: none, or claims {}.
			if vc, ok := res.idToken["verified_claims"]; ok && len(namesIn(vc)) > 0 {
				t.Errorf("ID token releases a claim whose value did not match: %v", vc)
			}
			// EnsureUserinfoDoesNotContainRequestedClaimInVerifiedClaims,
			// which needs verified_claims to be there.
			vc, ok := res.userinfo["verified_claims"]
			if !ok {
				t.Fatalf("UserInfo has no verified_claims (the suite's precondition fails): %v", res.userinfo)
			}
			if slices.Contains(namesIn(vc), known) {
				t.Errorf("UserInfo releases %s although its value did not match: %v", known, vc)
			}
			checkAgainstMetadata(t, md, "UserInfo", vc)
		}},
		{name: "request-only-in-idtoken", targets: idToken, claims: map[string]any{known: nil}, check: func(t *testing.T, res conformanceResult) {
			happyPath(md, idToken, known)(t, res)
			if vc, ok := res.userinfo["verified_claims"]; ok && len(namesIn(vc)) > 0 {
				t.Errorf("UserInfo releases verified claims that were asked for the ID token only: %v", vc)
			}
		}},
		{name: "request-only-in-userinfo", targets: userinfo, claims: map[string]any{known: nil}, check: func(t *testing.T, res conformanceResult) {
			happyPath(md, userinfo, known)(t, res)
			if vc, ok := res.idToken["verified_claims"]; ok && len(namesIn(vc)) > 0 {
				t.Errorf("the ID token releases verified claims that were asked for UserInfo only: %v", vc)
			}
		}},
		{name: "test-userinfo-notfoundinop", targets: userinfo, claims: map[string]any{known: nil},
			tf: map[string]any{"value": "xx_not_offered"}, check: func(t *testing.T, res conformanceResult) {
				// An error may end the authorization, then invalid_request;
				// otherwise nothing unadvertised may come back.
				if res.err != "" {
					if res.err != "invalid_request" {
						t.Fatalf("authorization error %q, the plan allows invalid_request only", res.err)
					}
					return
				}
				for where, claims := range map[string]map[string]any{"ID token": res.idToken, "UserInfo": res.userinfo} {
					if vc, ok := claims["verified_claims"]; ok {
						rptest.ValidateVerifiedClaims(t, e.specDir, where, claims)
						checkAgainstMetadata(t, md, where, vc)
					}
				}
			}},
	} {
		t.Run(m.name, func(t *testing.T) {
			vc := map[string]any{"verification": map[string]any{"trust_framework": m.tf}, "claims": m.claims}
			req := map[string]any{}
			for _, target := range m.targets {
				part := map[string]any{"verified_claims": vc}
				for _, n := range plain {
					part[n] = map[string]any{"essential": false}
				}
				req[target] = part
			}
			raw, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			res := runConformanceFlow(t, ctx, e, string(raw))
			if res.err == "" {
				for where, claims := range map[string]map[string]any{"ID token": res.idToken, "UserInfo": res.userinfo} {
					rptest.ValidateVerifiedClaims(t, e.specDir, where, claims)
				}
			}
			m.check(t, res)
		})
	}
}

// ekycMetadata is the part of discovery the plan reads.
type ekycMetadata struct {
	ClaimsParameterSupported bool     `json:"claims_parameter_supported"`
	ClaimsSupported          []string `json:"claims_supported"`
	TrustFrameworks          []string `json:"trust_frameworks_supported"`
	Evidence                 []string `json:"evidence_supported"`
	Documents                []string `json:"documents_supported"`
	DocumentsCheckMethods    []string `json:"documents_check_methods_supported"`
	ElectronicRecords        []string `json:"electronic_records_supported"`
	ClaimsInVC               []string `json:"claims_in_verified_claims_supported"`
}

// checkEKYCDiscovery is the happy path module's discovery checks.
func checkEKYCDiscovery(t *testing.T, ctx context.Context, e *env) ekycMetadata {
	t.Helper()
	rp := newGoRP(t, ctx, e, clientBasic)
	var raw map[string]json.RawMessage
	var md ekycMetadata
	if err := rp.provider.Claims(&raw); err != nil {
		t.Fatal(err)
	}
	if err := rp.provider.Claims(&md); err != nil {
		t.Fatalf("discovery: an eKYC member is not what the plan reads: %v", err)
	}
	switch {
	case !md.ClaimsParameterSupported:
		t.Fatal("claims_parameter_supported is not true")
	case len(md.ClaimsSupported) == 0:
		t.Fatal("claims_supported is missing: the plan cannot build its request")
	case len(md.TrustFrameworks) == 0:
		t.Fatal("trust_frameworks_supported is missing or empty")
	case len(md.ClaimsInVC) == 0:
		t.Fatal("claims_in_verified_claims_supported is missing or empty")
	case slices.Contains(md.Evidence, "document") && len(md.Documents) == 0:
		t.Fatal("evidence_supported has document but documents_supported is missing or empty")
	case slices.Contains(md.Evidence, "electronic_record") && len(md.ElectronicRecords) == 0:
		t.Fatal("evidence_supported has electronic_record but electronic_records_supported is missing or empty")
	}
	for _, k := range []string{"evidence_supported", "documents_check_methods_supported"} {
		if v, ok := raw[k]; ok {
			var list []string
			if json.Unmarshal(v, &list) != nil {
				t.Errorf("%s is not an array of strings: %s", k, v)
			}
		}
	}
	return md
}

// conformanceResult is one flow's outcome: an authorization error, or the
// verified ID token's claims and the UserInfo answer.
type conformanceResult struct {
	err               string
	idToken, userinfo map[string]any
}

func (r conformanceResult) mustSucceed(t *testing.T) {
	t.Helper()
	if r.err != "" {
		t.Fatalf("authorization ended with error %q", r.err)
	}
}

// runConformanceFlow runs one code flow of the plan with claims.
func runConformanceFlow(t *testing.T, ctx context.Context, e *env, claims string) conformanceResult {
	t.Helper()
	rp := newGoRP(t, ctx, e, clientBasic)
	got := e.cb.Expect(rp.state)
	formSignIn(t, rp.authCodeURL(claims, ""), demoPassword)
	cb := rptest.Wait(t, got, 10*time.Second)
	if code := cb.Query().Get("error"); code != "" {
		return conformanceResult{err: code}
	}
	idc, _, ui := rp.finish(t, ctx, e, cb)
	return conformanceResult{idToken: idc, userinfo: ui}
}

// happyPath is §3 of the plan for each target asked: verified_claims
// present, valid against the schema (done by the caller), against the
// OP's metadata and against the request (at least one requested claim).
func happyPath(md ekycMetadata, targets []string, requested ...string) func(*testing.T, conformanceResult) {
	return func(t *testing.T, res conformanceResult) {
		t.Helper()
		res.mustSucceed(t)
		for _, target := range targets {
			claims, where := res.idToken, "ID token"
			if target == "userinfo" {
				claims, where = res.userinfo, "UserInfo"
			}
			vc, ok := claims["verified_claims"]
			if !ok {
				t.Fatalf("%s has no verified_claims: %v", where, claims)
			}
			checkAgainstMetadata(t, md, where, vc)
			names := namesIn(vc)
			if !slices.ContainsFunc(requested, func(n string) bool { return slices.Contains(names, n) }) {
				t.Errorf("%s verified_claims has none of the requested claims %v: %v", where, requested, vc)
			}
		}
	}
}

// checkAgainstMetadata is ValidateVerifiedClaimsAgainstOPMetadata.
func checkAgainstMetadata(t *testing.T, md ekycMetadata, where string, vc any) {
	t.Helper()
	for _, obj := range vcObjects(vc) {
		ver, _ := obj["verification"].(map[string]any)
		if tf, _ := ver["trust_framework"].(string); !slices.Contains(md.TrustFrameworks, tf) {
			t.Errorf("%s: trust_framework %q is not in trust_frameworks_supported %v", where, tf, md.TrustFrameworks)
		}
		if ev, present := ver["evidence"]; present {
			items, isArray := ev.([]any)
			if !isArray {
				t.Errorf("%s: evidence is not an array: %v", where, ev)
			}
			for _, it := range items {
				item, _ := it.(map[string]any)
				typ, _ := item["type"].(string)
				if !slices.Contains(md.Evidence, typ) {
					t.Errorf("%s: evidence type %q is not in evidence_supported %v", where, typ, md.Evidence)
				}
				if typ == "document" {
					dd, ok := item["document_details"].(map[string]any)
					if !ok {
						t.Errorf("%s: document evidence without document_details: %v", where, item)
					} else if dt, _ := dd["type"].(string); !slices.Contains(md.Documents, dt) {
						t.Errorf("%s: document type %q is not in documents_supported %v", where, dt, md.Documents)
					}
				}
				if cds, ok := item["check_details"].([]any); ok && slices.Contains([]string{"document", "electronic_record", "vouch"}, typ) {
					for _, cd := range cds {
						m, _ := cd.(map[string]any)
						if cm, _ := m["check_method"].(string); !slices.Contains(md.DocumentsCheckMethods, cm) {
							t.Errorf("%s: check_method %q is not in documents_check_methods_supported %v", where, cm, md.DocumentsCheckMethods)
						}
					}
				}
			}
		}
		for _, n := range namesIn(obj) {
			if !slices.Contains(md.ClaimsInVC, n) {
				t.Errorf("%s: claim %q is not in claims_in_verified_claims_supported", where, n)
			}
		}
	}
}

// vcObjects is verified_claims as a list of objects.
func vcObjects(vc any) []map[string]any {
	switch v := vc.(type) {
	case map[string]any:
		return []map[string]any{v}
	case []any:
		var out []map[string]any
		for _, x := range v {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// namesIn lists the claim names released in verified_claims.
func namesIn(vc any) []string {
	var names []string
	for _, obj := range vcObjects(vc) {
		if c, ok := obj["claims"].(map[string]any); ok {
			names = append(names, slices.Collect(maps.Keys(c))...)
		}
	}
	return names
}

// plainClaimNames picks up to n names from claims_supported the way the
// plan does: not sub, and an OpenID Connect or IDA claim.
func plainClaimNames(supported []string, n int) []string {
	standard := []string{"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale",
		"phone_number", "phone_number_verified", "address", "updated_at", "place_of_birth", "nationalities",
		"birth_family_name", "birth_given_name", "birth_middle_name", "salutation", "title", "msisdn", "also_known_as"}
	var out []string
	for _, s := range supported {
		if len(out) < n && s != "sub" && slices.Contains(standard, s) {
			out = append(out, s)
		}
	}
	return out
}
