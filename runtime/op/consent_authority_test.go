package op

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/users"
)

// TestConsentAndReleaseOfAuthority: a person acting for two companies
// (gBizID-style authority claims) is told on the consent page which company
// the client asks about, and UserInfo then carries that authority only.
func TestConsentAndReleaseOfAuthority(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]any{"users": []any{map[string]any{
		"subject": testSubject, "username": testUsername, "password_hash": string(hash),
		"verified_claims": json.RawMessage(`{"verification": {"trust_framework": "jp_gbizid_v1", "assurance_level": "ial2"},
		  "claims": {"family_name": "田中", "authority": [
		    {"applies_to": {"registration_number": "1234567890123", "organization_name": "株式会社サンプル"}, "permission": [{"role": "prime"}]},
		    {"applies_to": {"registration_number": "9876543210987", "organization_name": "合同会社例"}, "permission": [{"role": "member"}]}]}}`),
	}}})
	src, err := users.NewBuiltin(doc)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, func(o *Options) { o.Users = src }, func(s *config.Snapshot) {
		s.Provider.IDA.TrustFrameworks = append(s.Provider.IDA.TrustFrameworks, ida.TrustFramework{
			Identifier: "jp_gbizid_v1", AssuranceLevels: []string{"ial2"}, Claims: []string{"family_name", "authority"},
		})
		c := s.Clients[clientBasic]
		c.TrustFrameworks = []string{"jp_gbizid_v1"}
		c.VerifiedClaims = []string{"family_name", "authority"}
	})
	claims := `{"userinfo": {"verified_claims": {"verification": {"trust_framework": {"value": "jp_gbizid_v1"}},
	  "claims": {"family_name": null, "authority": {"applies_to": {"organization_name": null}, "permission": [{"role": {"value": "prime"}}]}}}}}`

	for lang, want := range map[string]string{
		"en": "You act for 株式会社サンプル</p>",
		"ja": "あなたは 株式会社サンプル の代理として行動します</p>",
	} {
		b := f.browser()
		// prompt=consent: the page shows in each language though the first
		// approval is remembered.
		u, verifier := f.authorizeURL(clientBasic, url.Values{"claims": {claims}, "ui_locales": {lang}, "prompt": {"consent"}})
		consent := f.submit(b, pathLogin, f.get(b, u), url.Values{"username": {testUsername}, "password": {testPassword}})
		if consent.status != http.StatusOK || !strings.Contains(consent.body, `name="decision"`) {
			t.Fatalf("no consent page: %d %.300s", consent.status, consent.body)
		}
		if !strings.Contains(consent.body, want) || strings.Contains(consent.body, "合同会社例") {
			t.Fatalf("%s: consent page does not name exactly the company asked about:\n%s", lang, consent.body)
		}
		if lang != "en" {
			continue
		}
		q := redirectParams(t, f.submit(b, pathConsent, consent, url.Values{"decision": {"approve"}}))
		_, tok := f.exchange(clientBasic, q.Get("code"), verifier)
		resp, body := f.userinfo(tok["access_token"].(string))
		vc, _ := json.Marshal(body["verified_claims"])
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("userinfo %d %v", resp.StatusCode, body)
		}
		assertJSON(t, vc, `{"verification": {"trust_framework": "jp_gbizid_v1"}, "claims": {"family_name": "田中",
		  "authority": [{"applies_to": {"organization_name": "株式会社サンプル"}, "permission": [{"role": "prime"}]}]}}`)
	}
}

func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("got  %s\nwant %s", gb, wb)
	}
}
