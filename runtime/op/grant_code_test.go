package op

import (
	"net/url"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/op/dpop"
)

// TestCodeChecks: each case breaks one rule of redeeming a code (RFC 6749
// §4.1.3, RFC 7636 §4.6, RFC 9449 §10) and is refused with invalid_grant.
func TestCodeChecks(t *testing.T) {
	_, sv := servedFor(t)
	now := time.Unix(1_800_000_000, 0)
	verifier, challenge := pkce()
	other, _ := pkce()
	valid := func() *codeRedemption {
		return &codeRedemption{
			client: sv.clients[clientBasic],
			form:   url.Values{"redirect_uri": {redirectURI}, "code_verifier": {verifier}},
			rec: &grants.Code{
				Info:        grants.Info{ClientID: clientBasic},
				RedirectURI: redirectURI, CodeChallenge: challenge, ExpiresAt: now.Unix() + 60,
			},
			now: now,
		}
	}
	cases := []struct {
		name string
		edit func(*codeRedemption)
		code string
	}{
		{"valid redemption", func(*codeRedemption) {}, ""},
		{"code issued to another client", func(cr *codeRedemption) { cr.client = sv.clients[clientPost] }, "invalid_grant"},
		{"code expired, at its expiry second", func(cr *codeRedemption) { cr.now = time.Unix(cr.rec.ExpiresAt, 0) }, "invalid_grant"},
		{"redirect_uri missing", func(cr *codeRedemption) { cr.form.Del("redirect_uri") }, "invalid_grant"},
		{"redirect_uri differs from the request's", func(cr *codeRedemption) { cr.form.Set("redirect_uri", "https://rp.example.com/other") }, "invalid_grant"},
		{"code_verifier missing", func(cr *codeRedemption) { cr.form.Del("code_verifier") }, "invalid_grant"},
		{"code_verifier too short", func(cr *codeRedemption) { cr.form.Set("code_verifier", "abc") }, "invalid_grant"},
		{"code_verifier of another challenge", func(cr *codeRedemption) { cr.form.Set("code_verifier", other) }, "invalid_grant"},
		{"DPoP-bound code without a proof", func(cr *codeRedemption) { cr.rec.DPoPJKT = "jkt-a" }, "invalid_grant"},
		{"DPoP-bound code, proof of another key", func(cr *codeRedemption) {
			cr.rec.DPoPJKT, cr.proof = "jkt-a", &dpop.Proof{JKT: "jkt-b"}
		}, "invalid_grant"},
		{"DPoP-bound code, proof of its key", func(cr *codeRedemption) {
			cr.rec.DPoPJKT, cr.proof = "jkt-a", &dpop.Proof{JKT: "jkt-a"}
		}, ""},
		{"unbound code with a proof", func(cr *codeRedemption) { cr.proof = &dpop.Proof{JKT: "jkt-b"} }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cr := valid()
			tc.edit(cr)
			if got := codeOf(runChecks(cr, codeChecks)); got != tc.code {
				t.Fatalf("got %q, want %q", got, tc.code)
			}
		})
	}
}
