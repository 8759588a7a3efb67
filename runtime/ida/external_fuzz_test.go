package ida

import (
	"testing"
)

// FuzzReleasesExternal: an external verified_claims object is released
// whole only if the engine, given it as the person's only dataset, would
// release exactly it to the same target: passing on a signed assertion
// never gives a relying party more than minimising would.
func FuzzReleasesExternal(f *testing.F) {
	f.Add([]byte(`{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": null, "family_name": null}}}}`),
		[]byte(`{"verification": {"trust_framework": "de_aml"}, "claims": {"given_name": "Max", "family_name": "Meier"}}`))
	f.Add([]byte(everything), []byte(`{"verification": {"trust_framework": "de_aml", "time": "2023-12-01T10:00Z"}, "claims": {"given_name": "Max"}}`))
	f.Add([]byte(`{"id_token": {"verified_claims": [{"verification": {"trust_framework": {"value": "uk_tfida"}}, "claims": {"given_name": null}}, {"verification": {"trust_framework": null, "evidence": [{"type": {"value": "electronic_record"}, "record": {"type": null}, "derived_claims": null}]}, "claims": {"address": null}}]}}`),
		[]byte(`{"verification": {"trust_framework": "uk_tfida", "evidence": [{"type": "electronic_record", "record": {"type": "bank_account"}, "derived_claims": {"address": {"country": "DE"}}}]}, "claims": {"address": {"country": "DE"}}}`))
	engines := fuzzEngines(f)
	f.Fuzz(func(t *testing.T, request, vc []byte) {
		for _, e := range engines {
			req, err := e.ParseRequest(request, RequestOptions{IntegrityProtected: true})
			if err != nil {
				continue
			}
			entry, err := parseJSON(vc)
			if err != nil || entry.kind != kObject || checkDatasetEntry(&entry, "vc") != nil {
				continue
			}
			tf := entry.get("verification").get("trust_framework").str
			if !entry.has("claims") {
				// The engine answers a match without claims with "claims": {}.
				entry = with(entry, "claims", emptyObject)
			}
			for _, target := range []Target{TargetIDToken, TargetUserInfo} {
				if !e.ReleasesExternal(req, target, vc, []string{tf}, testNow) {
					continue
				}
				ds, err := ParseDataset(append(append([]byte(`{"verified_claims": `), vc...), '}'))
				if err != nil {
					t.Fatalf("released an assertion that is no dataset: %v", err)
				}
				res := e.EvaluateFor(req, ds, testNow, target)
				got := res.IDToken["verified_claims"]
				if target == TargetUserInfo {
					got = res.UserInfo["verified_claims"]
				}
				if !releasesEntry(got, &entry) {
					t.Fatalf("released whole, but minimising gives something else\nrequest: %s\nassertion: %s\nminimised: %s", request, vc, got)
				}
			}
		}
	})
}

// releasesEntry: the released verified_claims (an object or an array of
// them) holds entry exactly.
func releasesEntry(released []byte, entry *value) bool {
	if len(released) == 0 {
		return false
	}
	v, err := parseJSON(released)
	if err != nil {
		return false
	}
	if v.kind == kObject {
		return v.equal(entry)
	}
	for i := range v.arr {
		if v.arr[i].equal(entry) {
			return true
		}
	}
	return false
}
