package ui

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

var scriptTag = regexp.MustCompile(`<script[^>]*>`)

// onlyExternalScript: every script element loads the provider's passkey
// script; none is inline.
func onlyExternalScript(t *testing.T, r *Renderer, page string) {
	t.Helper()
	tags := scriptTag.FindAllString(page, -1)
	if len(tags) != 1 || !strings.Contains(tags[0], `src="`+r.ScriptPath()+`"`) || strings.Contains(page, "onclick") {
		t.Fatalf("scripts %v in %.600s", tags, page)
	}
}

// TestPasskeyPages: the login page's passkey button, the passkey page
// (prompt, enrolment, the skippable offer) and their policy: the
// provider's own script allowed only where a passkey is offered, never
// inline; the options travel escaped in an attribute; both languages.
func TestPasskeyPages(t *testing.T) {
	r := renderer(t)
	opts := `{"publicKey":{"challenge":"abc","rpId":"idp.example"}}`

	w := httptest.NewRecorder()
	if err := r.Login(w, LoginData{Lang: English, Action: "/login", PasskeyAction: "/passkey-login", PasskeyOptions: opts}); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	if csp := w.Header().Get("Content-Security-Policy"); !strings.HasSuffix(csp, "; script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Fatalf("login with passkeys: CSP %q", csp)
	}
	onlyExternalScript(t, r, body)
	for _, want := range []string{`data-passkey="get"`, `data-passkey-options="{&#34;publicKey&#34;`, `action="/passkey-login"`, "Sign in with a passkey", `name="credential"`} {
		if !strings.Contains(body, want) {
			t.Errorf("login page without %q", want)
		}
	}
	w = httptest.NewRecorder()
	if err := r.Login(w, LoginData{Lang: English, Action: "/login"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(w.Header().Get("Content-Security-Policy"), "script-src") || strings.Contains(w.Body.String(), "<script") {
		t.Fatal("a login page without passkeys allows or loads a script")
	}

	for _, c := range []struct {
		d    PasskeyData
		want []string
		not  []string
	}{
		{PasskeyData{Lang: English, ClientName: "Acme", Options: opts}, []string{"Use your passkey", `data-passkey="get"`, "Acme asks for a second step"}, []string{"Not now"}},
		{PasskeyData{Lang: English, Enrol: true, Options: opts}, []string{"Add a passkey", `data-passkey="create"`}, []string{"Not now"}},
		{PasskeyData{Lang: English, Enrol: true, Skippable: true, Options: opts}, []string{"Add a passkey", `name="skip"`, "Not now"}, nil},
		{PasskeyData{Lang: Japanese, Enrol: true, Skippable: true, Options: opts, ErrorKey: "passkey_refused"}, []string{"パスキーの登録", "今はしない", "パスキーを確認できませんでした"}, nil},
	} {
		w := httptest.NewRecorder()
		if err := r.Passkey(w, c.d); err != nil {
			t.Fatal(err)
		}
		body := w.Body.String()
		onlyExternalScript(t, r, body)
		if !strings.HasSuffix(w.Header().Get("Content-Security-Policy"), "; script-src 'self'") {
			t.Errorf("passkey page CSP %q", w.Header().Get("Content-Security-Policy"))
		}
		for _, s := range c.want {
			if !strings.Contains(body, s) {
				t.Errorf("%+v: page without %q", c.d, s)
			}
		}
		for _, s := range c.not {
			if strings.Contains(body, s) {
				t.Errorf("%+v: page with %q", c.d, s)
			}
		}
	}
}

// TestFactorsPage: the list with remove forms, in both languages; signed
// out, only the advice and 401; no script.
func TestFactorsPage(t *testing.T) {
	r := renderer(t)
	day := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	d := FactorsData{Lang: Japanese, Action: "/account/factors", CSRFToken: "tok", TOTP: true, Notice: "removed",
		Passkeys: []FactorPasskey{{ID: "Y3JlZA", Synced: true, Added: day, LastUsed: day}}}
	w := httptest.NewRecorder()
	if err := r.Factors(w, http.StatusOK, d); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	for _, want := range []string{"ログイン方法", "パスキー（端末間で同期）", "2026年12月3日", `name="id" value="Y3JlZA"`, `value="totp"`, `name="csrf_token" value="tok"`, "削除しました"} {
		if !strings.Contains(body, want) {
			t.Errorf("factor page without %q", want)
		}
	}
	if strings.Contains(body, "<script") || strings.Contains(w.Header().Get("Content-Security-Policy"), "script-src") {
		t.Error("the factor page loads or allows a script")
	}
	w = httptest.NewRecorder()
	if err := r.Factors(w, http.StatusUnauthorized, FactorsData{Lang: English, SignedOut: true}); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "Sign in through one of the applications first") || strings.Contains(w.Body.String(), "<form") {
		t.Fatalf("signed out: %d %.400s", w.Code, w.Body.String())
	}
}

// TestPasskeyScript: served at its hashed path as JavaScript, cacheable,
// never under another name.
func TestPasskeyScript(t *testing.T) {
	r := renderer(t).WithBasePath("/tenant")
	w := httptest.NewRecorder()
	r.StylesheetHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, r.ScriptPath(), nil))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(w.Body.String(), "navigator.credentials") {
		t.Fatalf("script: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if !strings.HasPrefix(r.ScriptPath(), "/tenant/ui/passkey.") {
		t.Fatalf("script path %q", r.ScriptPath())
	}
	w = httptest.NewRecorder()
	r.StylesheetHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/tenant/ui/passkey.js", nil))
	if w.Code != http.StatusNotFound {
		t.Fatalf("an unhashed name: %d", w.Code)
	}
}
