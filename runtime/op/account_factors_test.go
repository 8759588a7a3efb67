package op

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/idaop/ida-operator/runtime/grants"
)

var factorIDRE = regexp.MustCompile(`name="id" value="([^"]+)"`)

// TestFactorPage: a signed-in user sees their own passkeys and code
// generator and removes them with the page's forms; a removed passkey
// no longer signs in. Without a session the page says to sign in (401);
// a post without the page's CSRF token, or naming a factor the user does
// not have, is refused.
func TestFactorPage(t *testing.T) {
	f := newPasskeyFixture(t, nil)
	key := newSoftKey(t, f.origin(), false)
	b := f.browser()
	enrolPasskey(t, f, b, key)
	ctx := context.Background()
	sealed, err := f.p.served.Load().sealFactor(testSubject, "JBSWY3DPEHPK3PXP")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.p.grants.PutTOTP(ctx, testSubject, sealed, factorLifetime); err != nil {
		t.Fatal(err)
	}

	if pg := f.get(f.browser(), f.url(pathAccountFactors)); pg.status != http.StatusUnauthorized || !strings.Contains(pg.body, "Sign in through one of the applications first") {
		t.Fatalf("without a session: %d %.300s", pg.status, pg.body)
	}
	pg := f.get(b, f.url(pathAccountFactors))
	if pg.status != http.StatusOK || !strings.Contains(pg.body, "Passkey on one device") || !strings.Contains(pg.body, "Authenticator app") || !strings.Contains(pg.body, `value="totp"`) {
		t.Fatalf("the factor page: %d %.900s", pg.status, pg.body)
	}
	m := factorIDRE.FindStringSubmatch(pg.body)
	if m == nil || m[1] != b64(key.id) {
		t.Fatalf("the page does not name the passkey: %.900s", pg.body)
	}
	post := func(b *http.Client, form url.Values) *page {
		t.Helper()
		resp, err := b.PostForm(f.url(pathAccountFactors), form)
		if err != nil {
			t.Fatal(err)
		}
		return readPage(t, resp)
	}
	if pg := post(b, url.Values{"remove": {"passkey"}, "id": {m[1]}, "csrf_token": {"forged"}}); pg.status != http.StatusBadRequest {
		t.Fatalf("a forged CSRF token: %d", pg.status)
	}
	if pg := post(b, url.Values{"remove": {"passkey"}, "id": {b64([]byte("not-mine"))}, "csrf_token": {pg.csrf}}); pg.status != http.StatusBadRequest {
		t.Fatalf("another passkey: %d", pg.status)
	}
	if pg := post(f.browser(), url.Values{"remove": {"passkey"}, "id": {m[1]}, "csrf_token": {pg.csrf}}); pg.status != http.StatusUnauthorized {
		t.Fatalf("another browser with the token: %d", pg.status)
	}
	pg = post(b, url.Values{"remove": {"passkey"}, "id": {m[1]}, "csrf_token": {pg.csrf}})
	if pg.status != http.StatusOK || !strings.Contains(pg.body, "Removed.") || strings.Contains(pg.body, m[1]) {
		t.Fatalf("after removing the passkey: %d %.900s", pg.status, pg.body)
	}
	pg = post(b, url.Values{"remove": {"totp"}, "csrf_token": {pg.csrf}})
	if pg.status != http.StatusOK || strings.Contains(pg.body, `value="totp"`) {
		t.Fatalf("after removing the code generator: %d %.900s", pg.status, pg.body)
	}
	if _, err := f.p.grants.TOTP(ctx, testSubject); !errors.Is(err, grants.ErrNotFound) {
		t.Fatalf("the code generator remains: %v", err)
	}

	// The removed passkey signs in no one.
	b2 := f.browser()
	u, _ := f.authorizeURL(clientBasic, nil)
	login := f.get(b2, u)
	if pg := f.submit(b2, pathPasskeyLogin, login, url.Values{"credential": {key.get(pageOptions(login.body))}}); pg.location != "" || !strings.Contains(pg.body, "That passkey did not work here") {
		t.Fatalf("a removed passkey: %d %q", pg.status, pg.location)
	}
}
