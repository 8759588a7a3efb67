package ui

import (
	"html"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func renderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var sampleConsent = ConsentData{
	ClientName:  "Acme Bank",
	Purpose:     "To open your account",
	Action:      "/consent?interaction=abc",
	CSRFToken:   "csrf-123",
	Interaction: "abc",
	Scopes:      []string{"openid", "jp_oidf_ida", "x-custom"},
	Claims: []ConsentClaim{
		{Name: "given_name", Purpose: "To address you", Verified: true, TrustFrameworks: []string{"jp_aml"}},
		{Name: "email"},
	},
}

func TestPagesInBothLanguages(t *testing.T) {
	r := renderer(t)
	for _, c := range []struct {
		lang string
		want []string
	}{
		{"en", []string{`<html lang="en">`, "<h1>Sign in</h1>", "Sign in to continue to Acme Bank.",
			"Acme Bank is asking for access", "Given name", "Verified", "Not verified", "Japanese anti-money-laundering law",
			"Your verified name, birth date and address", "x-custom", ">Allow</button>", ">Deny</button>", "<h1>Something went wrong</h1>"}},
		{"ja", []string{`<html lang="ja">`, "<h1>ログイン</h1>", "Acme Bank を利用するにはログインしてください。",
			"Acme Bank があなたの情報へのアクセスを求めています", "名", "確認済み", "未確認", "犯罪収益移転防止法",
			"本人確認済みの氏名、生年月日、住所", "x-custom", ">許可する</button>", ">拒否する</button>", "<h1>エラーが発生しました</h1>"}},
	} {
		t.Run(c.lang, func(t *testing.T) {
			var all strings.Builder
			w := httptest.NewRecorder()
			if err := r.Login(w, LoginData{Lang: c.lang, ClientName: "Acme Bank", Action: "/login", CSRFToken: "csrf-123", Interaction: "abc"}); err != nil {
				t.Fatal(err)
			}
			login := w.Body.String()
			all.WriteString(login)
			d := sampleConsent
			d.Lang = c.lang
			w = httptest.NewRecorder()
			if err := r.Consent(w, d); err != nil {
				t.Fatal(err)
			}
			consent := w.Body.String()
			all.WriteString(consent)
			w = httptest.NewRecorder()
			if err := r.Error(w, http.StatusBadRequest, ErrorData{Lang: c.lang}); err != nil {
				t.Fatal(err)
			}
			all.WriteString(w.Body.String())
			if w.Code != http.StatusBadRequest {
				t.Errorf("error page status %d", w.Code)
			}
			if got := w.Header().Get("Content-Language"); got != c.lang {
				t.Errorf("Content-Language %q", got)
			}
			for _, s := range c.want {
				if !strings.Contains(all.String(), s) {
					t.Errorf("missing %q", s)
				}
			}
			checkAccessible(t, login)
			checkAccessible(t, consent)
			for _, s := range []string{
				`name="` + FieldUsername + `"`, `name="` + FieldPassword + `"`, `type="password"`,
				`name="` + FieldCSRFToken + `" value="csrf-123"`, `name="` + FieldInteraction + `" value="abc"`,
				`autocomplete="current-password"`, `action="/login"`, `method="post"`,
			} {
				if !strings.Contains(login, s) {
					t.Errorf("login page lacks %s", s)
				}
			}
			for _, s := range []string{
				`<button type="submit" name="` + FieldDecision + `" value="` + DecisionApprove + `"`,
				`<button type="submit" name="` + FieldDecision + `" value="` + DecisionDeny + `"`,
				`name="` + FieldCSRFToken + `" value="csrf-123"`, `action="/consent?interaction=abc"`,
			} {
				if !strings.Contains(consent, s) {
					t.Errorf("consent page lacks %s", s)
				}
			}
		})
	}
}

var (
	labelFor = regexp.MustCompile(`<label for="([^"]+)">`)
	inputID  = regexp.MustCompile(`<input id="([^"]+)"`)
	headings = regexp.MustCompile(`<h1>`)
)

// checkAccessible: one h1, every visible input has a label bound to it,
// no scripts, no inline styles (the CSP would block them anyway).
func checkAccessible(t *testing.T, page string) {
	t.Helper()
	if n := len(headings.FindAllString(page, -1)); n != 1 {
		t.Errorf("%d h1 elements", n)
	}
	var labels, ids []string
	for _, m := range labelFor.FindAllStringSubmatch(page, -1) {
		labels = append(labels, m[1])
	}
	for _, m := range inputID.FindAllStringSubmatch(page, -1) {
		ids = append(ids, m[1])
	}
	slices.Sort(labels)
	slices.Sort(ids)
	if !slices.Equal(labels, ids) {
		t.Errorf("labels %v do not match inputs %v", labels, ids)
	}
	for _, bad := range []string{"<script", "style=", "<style", "javascript:", `type="submit" value=`, "<input type=\"submit\""} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
}

func TestLoginErrorsAndFocus(t *testing.T) {
	r := renderer(t)
	for _, c := range []struct {
		key, want string
	}{
		{"invalid_credentials", "The username or password is incorrect."},
		{"unavailable", "Sign-in is temporarily unavailable."},
		{"expired", "This page has expired."},
		{"<b>made-up</b>", "Sign-in did not work."},
	} {
		w := httptest.NewRecorder()
		r.Login(w, LoginData{Action: "/login", Username: "ada", ErrorKey: c.key})
		body := w.Body.String()
		if !strings.Contains(body, `role="alert"`) || !strings.Contains(body, c.want) {
			t.Errorf("%s: message missing", c.key)
		}
		if strings.Contains(body, "made-up") {
			t.Errorf("raw error key shown")
		}
		if !strings.Contains(body, `aria-describedby="login-error"`) || !strings.Contains(body, `value="ada"`) {
			t.Errorf("%s: input not tied to the error or username lost", c.key)
		}
		// The username is kept, so the password field gets the focus.
		if !strings.Contains(body, `autocomplete="current-password" maxlength="1024" required aria-invalid="true" aria-describedby="login-error" autofocus>`) {
			t.Errorf("password field not focused")
		}
	}
	w := httptest.NewRecorder()
	r.Login(w, LoginData{Lang: "ja", Action: "/login"})
	if body := w.Body.String(); strings.Contains(body, "alert") || !strings.Contains(body, "続けるにはログインしてください。") {
		t.Errorf("plain login page:\n%s", body)
	}
}

var purposeRE = regexp.MustCompile(`(?s)<p class="purpose" dir="auto">(.*?)</p>`)
var claimPurposeRE = regexp.MustCompile(`(?s)<span class="purpose" dir="auto">(.*?)</span>`)

// RULES I2: the purpose is escaped against XSS and defacing, and no
// character is stripped.
func TestPurposeEscapedNotStripped(t *testing.T) {
	r := renderer(t)
	purpose := "<script>alert('x')</script> & \"quotes\" <b>bold</b>\nline two\t{{.}} 日本語 😀 \u202eRTL"
	d := sampleConsent
	d.Purpose = purpose
	d.ClientName = `<img src=x onerror=alert(1)>`
	d.Claims = []ConsentClaim{{Name: "<i>name</i>", Purpose: purpose}}
	w := httptest.NewRecorder()
	if err := r.Consent(w, d); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	for _, bad := range []string{"<script>", "<b>", "<img", "<i>"} {
		if strings.Contains(body, bad) {
			t.Errorf("unescaped %q in page", bad)
		}
	}
	m := purposeRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("purpose not shown")
	}
	if got := html.UnescapeString(m[1]); got != purpose {
		t.Errorf("purpose changed:\n got %q\nwant %q", got, purpose)
	}
	if !strings.Contains(m[1], "&lt;script&gt;") {
		t.Errorf("purpose not escaped: %s", m[1])
	}
	m = claimPurposeRE.FindStringSubmatch(body)
	if m == nil || html.UnescapeString(m[1]) != purpose {
		t.Errorf("claim purpose changed: %v", m)
	}
	if !strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;") || !strings.Contains(body, "&lt;i&gt;name&lt;/i&gt;") {
		t.Error("client or claim name not shown escaped")
	}
}

func TestConsentWithoutPurposeOrClient(t *testing.T) {
	r := renderer(t)
	w := httptest.NewRecorder()
	r.Consent(w, ConsentData{Action: "/c", Claims: []ConsentClaim{{Name: "birthdate"}}})
	body := w.Body.String()
	for _, s := range []string{"An application is asking for access", "No purpose given", "Date of birth", "Not verified"} {
		if !strings.Contains(body, s) {
			t.Errorf("missing %q", s)
		}
	}
	if strings.Contains(body, "purpose-heading") || strings.Contains(body, "scopes-heading") || strings.Contains(body, "signin-heading") {
		t.Error("empty sections shown")
	}
}

// TestConsentSaysHowYouSignedIn: the sign-in methods, named for people in
// both languages; mfa adds nothing to the list it summarises.
func TestConsentSaysHowYouSignedIn(t *testing.T) {
	r := renderer(t)
	for lang, want := range map[string]string{
		English:  "How you signed in</h2>\n<p>Password, One-time code from your authenticator app</p>",
		Japanese: "サインインの方法</h2>\n<p>パスワード、認証アプリのワンタイムコード</p>",
	} {
		w := httptest.NewRecorder()
		r.Consent(w, ConsentData{Lang: lang, Action: "/c", Claims: []ConsentClaim{{Name: "birthdate", Verified: true}},
			SignedInWith: []string{"pwd", "otp", "mfa"}})
		if body := w.Body.String(); !strings.Contains(body, want) {
			t.Errorf("%s: want %q in\n%s", lang, want, body)
		}
	}
}

func TestClaimName(t *testing.T) {
	en, ja := &view{Lang: English}, &view{Lang: Japanese}
	for _, c := range []struct{ name, en, ja string }{
		{"given_name", "Given name", "名"},
		{"address.formatted", "Address", "住所"},
		{"claims.userinfo.verified_claims[1].claims.address.formatted", "Address", "住所"},
		{"verified_claims.claims.birthdate", "Date of birth", "生年月日"},
		{"family_name#ja-Kana-JP", "Family name (ja-Kana-JP)", "姓 (ja-Kana-JP)"},
		{":age_18_or_over", "Whether you are 18 or older", "18歳以上かどうか"},
		{"favourite_colour", "favourite_colour", "favourite_colour"},
	} {
		if got := en.ClaimName(c.name); got != c.en {
			t.Errorf("en %s = %q", c.name, got)
		}
		if got := ja.ClaimName(c.name); got != c.ja {
			t.Errorf("ja %s = %q", c.name, got)
		}
	}
}

func TestErrorPage(t *testing.T) {
	r := renderer(t)
	w := httptest.NewRecorder()
	r.Error(w, http.StatusServiceUnavailable, ErrorData{Lang: "ja", Title: Text("ja", "error.unavailable.title"), Message: "<b>x</b>"})
	body := w.Body.String()
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(body, "<title>一時的に利用できません</title>") || !strings.Contains(body, "&lt;b&gt;x&lt;/b&gt;") {
		t.Errorf("%d\n%s", w.Code, body)
	}
	if w.Header().Get("X-Frame-Options") != "DENY" {
		t.Error("error page without security headers")
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := http.Header{}
	SecurityHeaders(h)
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}

	r := renderer(t)
	w := httptest.NewRecorder()
	SecurityHeadersFor(w.Header(), "https://rp.example.com:8443/cb?x=1", "javascript:alert(1)", "not a url", "com.example.app:/oauth", "http://127.0.0.1:5000/cb")
	r.Consent(w, sampleConsent)
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' https://rp.example.com:8443 com.example.app: http://127.0.0.1:5000;") {
		t.Errorf("CSP = %q", csp)
	}
	if strings.Contains(csp, "javascript") || strings.Contains(csp, "/cb") {
		t.Errorf("CSP = %q", csp)
	}
	for k := range want {
		if w.Header().Get(k) == "" {
			t.Errorf("%s missing", k)
		}
	}
}

func TestCSPSource(t *testing.T) {
	for in, want := range map[string]string{
		"https://RP.example/cb":           "https://rp.example",
		"http://[::1]:8080/cb":            "http://[::1]:8080",
		"https://rp.example;script-src *": "",
		"https:///cb":                     "",
		"/relative":                       "",
		"data:text/html,hi":               "",
		"com.example.app:/cb":             "com.example.app:",
	} {
		if got := cspSource(in); got != want {
			t.Errorf("cspSource(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStylesheet(t *testing.T) {
	r := renderer(t)
	p := r.StylesheetPath()
	if !regexp.MustCompile(`^/ui/style\.[0-9a-f]{12}\.css$`).MatchString(p) {
		t.Fatalf("path %q", p)
	}
	w := httptest.NewRecorder()
	r.Login(w, LoginData{Action: "/login"})
	if !strings.Contains(w.Body.String(), `<link rel="stylesheet" href="`+p+`">`) {
		t.Error("page does not link the stylesheet")
	}

	srv := httptest.NewServer(r.StylesheetHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + p)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%d %v", resp.StatusCode, resp.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: %d", resp.StatusCode)
	}
	for path, code := range map[string]int{"/ui/style.000000000000.css": 404, "/ui/": 404} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != code {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	resp, err = http.Post(srv.URL+p, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}

	b := r.WithBasePath("/tenant-a/")
	if got := b.StylesheetPath(); got != "/tenant-a"+p {
		t.Errorf("with base path: %q", got)
	}
	if r.StylesheetPath() != p {
		t.Error("WithBasePath changed the original")
	}
}

func TestPickLanguage(t *testing.T) {
	for _, c := range []struct{ ui, al, want string }{
		{"", "", "en"},
		{"ja", "", "ja"},
		{"ja-JP", "en", "ja"},
		{"fr-CA ja en", "en", "ja"},
		{"en-GB ja", "ja", "en"},
		{"fr", "ja,en;q=0.5", "ja"},
		{"", "en-US,en;q=0.9,ja;q=0.8", "en"},
		{"", "ja;q=0.8,en;q=0.9", "en"},
		{"", "en;q=0.1,ja", "ja"},
		{"", "de-DE,ja;q=0.2", "ja"},
		{"", "de, fr", "en"},
		{"", "ja;q=0", "en"},
		{"", "*", "en"},
		{"!!! ja", "", "ja"},
		{"", "not a header;;;", "en"},
		{"", strings.Repeat("ja,", 500), "en"},
		{"zh-Hant", "ko", "en"},
	} {
		if got := PickLanguage(c.ui, c.al); got != c.want {
			t.Errorf("PickLanguage(%q, %q) = %q, want %q", c.ui, c.al, got, c.want)
		}
	}
}

// Both catalogs hold the same keys, and every key a template asks for
// exists.
func TestCatalogsComplete(t *testing.T) {
	for k := range en {
		if _, ok := ja[k]; !ok {
			t.Errorf("ja lacks %q", k)
		}
	}
	for k := range ja {
		if _, ok := en[k]; !ok {
			t.Errorf("en lacks %q", k)
		}
	}
	keyRE := regexp.MustCompile(`\.(T|Or \S+|WithClient) "([^"]+)"`)
	found := 0
	err := fs.WalkDir(files, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			keys := []string{m[2]}
			if m[1] == "WithClient" {
				keys = append(keys, m[2]+".noclient")
			}
			for _, k := range keys {
				found++
				if _, ok := en[k]; !ok {
					t.Errorf("%s uses unknown key %q", p, k)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 20 {
		t.Errorf("found only %d message keys in the templates", found)
	}
	for _, k := range []string{"invalid_credentials", "required", "unavailable", "expired", "generic"} {
		if _, ok := en["login.error."+k]; !ok {
			t.Errorf("login.error.%s missing", k)
		}
	}
	for _, s := range []string{"openid", "profile", "email", "address", "phone", "jp_oidf_ida", "jp_oidf_ida_with_evidence",
		"jp_oidf_ida_age_over_16", "jp_oidf_ida_age_over_18", "jp_oidf_ida_age_over_20", "jp_oidf_ida_msisdn"} {
		if _, ok := en["scope."+s]; !ok {
			t.Errorf("scope %s has no description", s)
		}
	}
	if Text("ja", "no.such.key") != "no.such.key" || Text("fr", "login.title") != "Sign in" || Text("ja-JP", "login.title") != "ログイン" {
		t.Error("Text fallbacks")
	}
}

// TestOTPPage: the code page and the enrolment page, in both languages; the
// field is labelled, numeric, filled by the platform's one-time code
// autofill, focused, and tied to its error.
func TestOTPPage(t *testing.T) {
	r := renderer(t)
	for _, c := range []struct {
		name string
		d    OTPData
		want []string
		not  []string
	}{
		{"code", OTPData{ClientName: "Acme Bank", Action: "/interaction/otp"},
			[]string{"Enter your one-time code", "Acme Bank asks for a second step.", `<label for="code">6-digit code</label>`, `inputmode="numeric"`, `autocomplete="one-time-code"`, "autofocus", `action="/interaction/otp"`},
			[]string{"otp-secret", "alert"}},
		{"enrol", OTPData{Lang: "ja", Action: "/interaction/otp-enrol", Enrol: true, Secret: "JBSWY3DPEHPK3PXP", URI: "otpauth://totp/idp:alice?secret=JBSWY3DPEHPK3PXP&issuer=idp", QRCode: []byte("\x89PNG")},
			[]string{"認証アプリの設定", "セットアップキー", `<img src="data:image/png;base64,iVBORw==" width="200" height="200" alt="認証アプリ用のQRコード`, `<code id="otp-secret">JBSWY3DPEHPK3PXP</code>`, "otpauth://totp/idp:alice?secret=JBSWY3DPEHPK3PXP&amp;issuer=idp", "6桁のコード"},
			[]string{"Enter your"}},
		{"wrong code", OTPData{Action: "/interaction/otp", ErrorKey: "invalid_code"},
			[]string{`role="alert" id="otp-error">That code did not work.`, `aria-invalid="true" aria-describedby="otp-error"`}, nil},
		{"locked", OTPData{Lang: "ja", Action: "/interaction/otp", ErrorKey: "too_many_attempts"},
			[]string{"誤ったコードの入力が続いたため"}, nil},
		{"made-up key", OTPData{Action: "/interaction/otp", ErrorKey: "<b>x</b>"},
			[]string{"Sign-in did not work."}, []string{"<b>x</b>"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			if err := r.OTP(w, c.d); err != nil {
				t.Fatal(err)
			}
			body := w.Body.String()
			if csp := w.Header().Get("Content-Security-Policy"); strings.Contains(csp, "img-src") != (len(c.d.QRCode) > 0) || !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("policy %q", csp)
			}
			for _, s := range c.want {
				if !strings.Contains(body, s) {
					t.Errorf("missing %q in:\n%s", s, body)
				}
			}
			for _, s := range c.not {
				if strings.Contains(body, s) {
					t.Errorf("unexpected %q", s)
				}
			}
		})
	}
}
