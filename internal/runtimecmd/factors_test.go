package runtimecmd

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/store/storetest"
	"github.com/idaop/ida-operator/runtime/users"
)

var otpSecret = regexp.MustCompile(`<code id="otp-secret">([A-Z2-7]+)</code>`)

// TestTwoRuntimesShareTOTP: an authenticator set up through one runtime
// is the one the other asks for, and a code used at one is refused at the
// other: factors and used-code markers live in the shared Redis, and both
// runtimes open the sealed secret with keys derived from the same signing
// keys.
func TestTwoRuntimesShareTOTP(t *testing.T) {
	addr := storetest.StartRedis(t)
	lnA, lnB := listen(t), listen(t)
	issuer := "http://" + lnA.Addr().String()
	dir := writeConfigDir(t, issuer, config.SessionStore{Type: config.SessionStoreRedis, Redis: &config.RedisStore{Address: addr}}, func(p *config.Provider) {
		p.Authentication = authn.Policy{
			Levels: []authn.Level{
				{ACR: "urn:bank:acr:pwd", Methods: [][]string{{"pwd"}}},
				{ACR: "urn:bank:acr:mfa", Methods: [][]string{{"pwd", "otp"}}},
			},
			DefaultLevel: "urn:bank:acr:pwd",
		}
	})
	a := serve(t, dir, lnA)
	b := serve(t, dir, lnB)
	mfa := func(base string) string { return authorizeURL(base) + "&acr_values=urn%3Abank%3Aacr%3Amfa" }
	next := func(p page, fields url.Values) url.Values {
		fields.Set("interaction", p.interaction)
		fields.Set("csrf_token", p.csrfT)
		return fields
	}
	password := url.Values{"username": {users.DemoUsername}, "password": {testPassword}}

	// Enrolment: the password at A, the setup page, its code at B.
	br := browser()
	enrol := post(t, br, a+"/interaction/login", next(get(t, br, mfa(a)), password))
	m := otpSecret.FindStringSubmatch(enrol.body)
	if m == nil {
		t.Fatalf("no setup page at A: %d %.300s", enrol.status, enrol.body)
	}
	code, err := authn.TOTPCode(m[1], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	consent := post(t, br, b+"/interaction/otp-enrol", next(enrol, url.Values{"code": {code}}))
	codeFrom(t, post(t, br, a+"/interaction/consent", next(consent, url.Values{"decision": {"approve"}})))

	// Another browser, the password at B, then the code page at A (not the
	// setup page: the factor enrolled through the other runtime is found).
	br2 := browser()
	step := post(t, br2, b+"/interaction/login", next(get(t, br2, mfa(b)), password))
	if !strings.Contains(step.body, `action="/interaction/otp"`) {
		t.Fatalf("want the code page at B: %d %.400s", step.status, step.body)
	}
	// The code used through B at enrolment is refused at A.
	again := post(t, br2, a+"/interaction/otp", next(step, url.Values{"code": {code}}))
	if again.status != http.StatusOK || !strings.Contains(again.body, "That code did not work") {
		t.Fatalf("a used code was taken at the other runtime: %d %q %.300s", again.status, again.location, again.body)
	}
	nextCode, err := authn.TOTPCode(m[1], time.Now().Add(authn.TOTPPeriod))
	if err != nil {
		t.Fatal(err)
	}
	consent = post(t, br2, a+"/interaction/otp", next(again, url.Values{"code": {nextCode}}))
	if consent.location == "" {
		consent = post(t, br2, b+"/interaction/consent", next(consent, url.Values{"decision": {"approve"}}))
	}
	codeFrom(t, consent)
}
