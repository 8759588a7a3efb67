package ui

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var sampleAccount = AccountData{
	Action: "/interaction/withdraw", CSRFToken: "csrf-9", Interaction: "sealed",
	Parties: []SharedWith{
		{
			ClientID: "acme", ClientName: "Acme Bank", Consented: true,
			ConsentedAt: time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC),
			Scopes: []string{"openid", "email"}, Purposes: []string{"Open an <account>"},
			Claims: []ConsentClaim{{Name: "given_name", Verified: true, TrustFrameworks: []string{"jp_aml"}, Purpose: "KYC"}, {Name: "email"}},
			Releases: []SharedRelease{{At: time.Date(2026, 6, 2, 10, 1, 0, 0, time.UTC), Target: "userinfo", Count: 3,
				Claims: []string{"email"}, Verified: []string{"given_name"}, TrustFrameworks: []string{"jp_aml"}}},
		},
		{ClientID: "gone-rp", Releases: []SharedRelease{{At: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), Target: "id_token", Claims: []string{"email"}}}},
	},
}

// TestAccountPage: the page lists each relying party with what was agreed
// and sent, in both languages; only a party with a consent in force has a
// withdrawal form, posted with the CSRF token; purposes are escaped.
func TestAccountPage(t *testing.T) {
	r := renderer(t)
	for _, c := range []struct {
		lang string
		want []string
	}{
		{"en", []string{"<h1>Your shared information</h1>", "<h2 id=\"rp-0\">Acme Bank</h2>", "<h2 id=\"rp-1\">gone-rp</h2>",
			"1 May 2026, 09:30 UTC", "2 June 2026, 10:00 UTC", "Given name", "Email address", "3 times", "on request", "at sign-in",
			"Japanese anti-money-laundering law", "Open an &lt;account&gt;", ">Withdraw consent for Acme Bank</button>",
			"No consent is in force for this application."}},
		{"ja", []string{"<h1>提供した情報</h1>", "2026年5月1日 09:30 UTC", "名", "3 回", "アプリケーションからの要求時", "ログイン時",
			">Acme Bank への同意を撤回する</button>"}},
	} {
		t.Run(c.lang, func(t *testing.T) {
			d := sampleAccount
			d.Lang = c.lang
			w := httptest.NewRecorder()
			if err := r.Account(w, d); err != nil {
				t.Fatal(err)
			}
			page := w.Body.String()
			for _, s := range c.want {
				if !strings.Contains(page, s) {
					t.Errorf("missing %q", s)
				}
			}
			checkAccessible(t, page)
			if n := strings.Count(page, `<form method="post" action="/interaction/withdraw">`); n != 1 {
				t.Errorf("%d withdrawal forms, want 1 (only for the consent in force)", n)
			}
			for _, s := range []string{`name="csrf_token" value="csrf-9"`, `name="interaction" value="sealed"`, `name="client_id" value="acme"`} {
				if !strings.Contains(page, s) {
					t.Errorf("form lacks %s", s)
				}
			}
		})
	}
	w := httptest.NewRecorder()
	if err := r.Account(w, AccountData{Lang: "en", Withdrawn: "Acme Bank"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`role="status"`, "Your consent for Acme Bank is withdrawn", "You have not shared information with any application."} {
		if !strings.Contains(w.Body.String(), s) {
			t.Errorf("empty page after withdrawal lacks %q", s)
		}
	}
}
