package op

import (
	"slices"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ida"
)

func TestInteractionNeeded(t *testing.T) {
	now := time.Unix(10_000, 0)
	req := &authzRequest{ClientID: "c", Scope: "openid"}
	key := consentKey(req)
	sess := &sessionRecord{Subject: "s", AuthTime: now.Unix() - 100, Consents: []string{key}}
	age := func(n int64) *int64 { return &n }
	cases := []struct {
		name   string
		prompt string
		maxAge *int64
		sess   *sessionRecord
		want   string
	}{
		{"no session", "", nil, nil, stageLogin},
		{"session and consent", "", nil, sess, ""},
		{"prompt login", "login", nil, sess, stageLogin},
		{"prompt consent", "consent", nil, sess, stageConsent},
		{"max_age exceeded", "", age(50), sess, stageLogin},
		{"max_age met", "", age(500), sess, ""},
		{"no consent yet", "", nil, &sessionRecord{Subject: "s", AuthTime: now.Unix()}, stageConsent},
	}
	for _, tc := range cases {
		r := *req
		r.Prompt, r.MaxAge = tc.prompt, tc.maxAge
		if got := interactionNeeded(&r, tc.sess, key, now); got != tc.want {
			t.Errorf("%s: got %q want %q", tc.name, got, tc.want)
		}
	}
	if e := checkPromptNone(&authzRequest{Prompt: "none"}, stageLogin); e == nil || e.Code != "login_required" {
		t.Errorf("prompt=none login: %v", e)
	}
	if e := checkPromptNone(&authzRequest{Prompt: "none"}, stageConsent); e == nil || e.Code != "consent_required" {
		t.Errorf("prompt=none consent: %v", e)
	}
}

func TestClientPolicy(t *testing.T) {
	p := ida.Policy{
		AnyTrustFramework: true,
		TrustFrameworks: []ida.TrustFramework{
			{Identifier: "de_aml", Claims: []string{"given_name", "family_name", "birthdate"}},
			{Identifier: "jp_oidf_ida", Claims: []string{"name", "birthdate"}},
		},
		Profiles: []string{ida.ProfileJPBasic},
	}
	got := clientPolicy(p, &config.Client{TrustFrameworks: []string{"de_aml"}, VerifiedClaims: []string{"family_name#ja-Kana-JP", "birthdate"}})
	if got.AnyTrustFramework || len(got.TrustFrameworks) != 1 || !slices.Equal(got.TrustFrameworks[0].Claims, []string{"family_name", "birthdate"}) || len(got.Profiles) != 0 {
		t.Fatalf("narrowed policy: %+v", got)
	}
	if got := clientPolicy(p, &config.Client{}); len(got.TrustFrameworks) != 0 {
		t.Fatalf("empty registration allows %+v", got.TrustFrameworks)
	}
	got = clientPolicy(p, &config.Client{TrustFrameworks: []string{"jp_oidf_ida"}, VerifiedClaims: []string{"name"}})
	if len(got.Profiles) != 1 {
		t.Fatal("jp profile dropped although jp_oidf_ida is allowed")
	}
	if _, err := ida.NewEngine(got); err != nil {
		t.Fatal(err)
	}
}

func TestConsentClaims(t *testing.T) {
	raw := `{"userinfo":{"email":null,"verified_claims":[{"verification":{"trust_framework":{"value":"de_aml"}},"claims":{"given_name":{"purpose":"greeting"}}}]},
	"id_token":{"verified_claims":{"verification":{"trust_framework":{"values":["eidas"]}},"claims":{"given_name":null}}}}`
	got := consentClaims(raw, []string{ida.ScopeJPAgeOver18})
	if len(got) != 3 {
		t.Fatalf("%+v", got)
	}
	if got[0].Name != "email" || got[0].Verified || got[1].Name != "given_name" || got[1].Purpose != "greeting" ||
		!slices.Equal(got[1].TrustFrameworks, []string{"de_aml", "eidas"}) || got[2].Name != "age_18_or_over" {
		t.Fatalf("%+v", got)
	}
}
