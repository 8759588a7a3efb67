package ui

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestLogoutPages: the confirmation page and the signed-out page in both
// languages, keyboard usable (real buttons in a form, the default one
// focused), with the sealed request and the relying party's name escaped.
func TestLogoutPages(t *testing.T) {
	r := renderer(t)
	for _, c := range []struct {
		lang string
		want []string
	}{
		{"en", []string{`<html lang="en">`, "<h1>Sign out</h1>", "Acme &amp; Co asks to sign you out.", ">Sign out</button>", ">Stay signed in</button>",
			"<h1>You are signed out</h1>", "<h1>You are still signed in</h1>"}},
		{"ja", []string{`<html lang="ja">`, "<h1>ログアウト</h1>", "Acme &amp; Co がログアウトを求めています。", ">ログアウトする</button>", ">ログインしたままにする</button>",
			"<h1>ログアウトしました</h1>", "<h1>ログインしたままです</h1>"}},
	} {
		t.Run(c.lang, func(t *testing.T) {
			w := httptest.NewRecorder()
			if err := r.Logout(w, LogoutData{Lang: c.lang, ClientName: "Acme & Co", Action: "/logout/confirm", Token: "sealed-1"}); err != nil {
				t.Fatal(err)
			}
			confirm := w.Body.String()
			checkAccessible(t, confirm)
			for _, s := range []string{
				`<form method="post" action="/logout/confirm">`, `name="` + FieldInteraction + `" value="sealed-1"`,
				`<button type="submit" name="` + FieldLogout + `" value="` + DecisionLogout + `" class="primary" autofocus>`,
				`<button type="submit" name="` + FieldLogout + `" value="` + DecisionStay + `"`,
			} {
				if !strings.Contains(confirm, s) {
					t.Errorf("confirmation page lacks %s", s)
				}
			}
			all := confirm
			for _, still := range []bool{false, true} {
				w = httptest.NewRecorder()
				if err := r.SignedOut(w, SignedOutData{Lang: c.lang, StillSignedIn: still}); err != nil {
					t.Fatal(err)
				}
				checkAccessible(t, w.Body.String())
				all += w.Body.String()
			}
			for _, s := range c.want {
				if !strings.Contains(all, s) {
					t.Errorf("missing %q", s)
				}
			}
		})
	}
}
