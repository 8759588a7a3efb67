package op

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idaop/ida-operator/internal/testlog"
	"github.com/idaop/ida-operator/runtime/config"
)

// testSalt is 32 bytes 0x00..0x1f.
func testSalt() []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// TestPairwiseSubject: known answers computed apart from this code (HMAC-
// SHA-256 over the length-prefixed sector and id), and what each input
// changes.
func TestPairwiseSubject(t *testing.T) {
	ff := make([]byte, 32)
	for i := range ff {
		ff[i] = 0xff
	}
	cases := []struct {
		name, sector, local string
		salt                []byte
		want                string
	}{
		{"known answer", "rp.example", "alice", testSalt(), "cklh6elEC7HNv1L-RuyrJd-dqifsSHPiYEw3Np-bG1c"},
		{"another person, same sector", "rp.example", "bob", testSalt(), "KFcrDkZaDJ7B_tKic138LpHvZC1GpoCieoI6N4BNxGQ"},
		{"same person, another sector", "other.example", "alice", testSalt(), "Rp8sdpFv2Rlau1RBndxd6KNZH_P9B8rdprTmHEkZhbg"},
		{"another salt", "rp.example", "alice", ff, "HIYZ6W6G7lnf1IOfhxne4PThwf-hrjn-gne7myTV-sk"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := pairwiseSubject(tc.salt, tc.sector, tc.local); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	// Without the length prefixes these two would hash the same bytes.
	if pairwiseSubject(testSalt(), "ab", "c") == pairwiseSubject(testSalt(), "a", "bc") {
		t.Fatal("sector and id run together")
	}
}

// TestSubjectFor: a public client sees the local id, a pairwise one its
// sector's pseudonym.
func TestSubjectFor(t *testing.T) {
	sv := &served{snap: &config.Snapshot{PairwiseSalt: testSalt()}}
	if got := subjectFor(sv, &client{}, "alice"); got != "alice" {
		t.Errorf("public: %s", got)
	}
	if got := subjectFor(sv, &client{sector: "rp.example"}, "alice"); got != "cklh6elEC7HNv1L-RuyrJd-dqifsSHPiYEw3Np-bG1c" {
		t.Errorf("pairwise: %s", got)
	}
}

// pairwiseFixture: clientBasic pairwise for its redirect URIs' host
// (rp.example.com), clientSigned pairwise for another sector named by its
// sector_identifier_uri, clientPost public.
func pairwiseFixture(t *testing.T, opt func(*Options)) *fixture {
	return newFixtureWith(t, opt, func(s *config.Snapshot) {
		s.PairwiseSalt = testSalt()
		s.Clients[clientBasic].SubjectType = config.SubjectPairwise
		s.Clients[clientSigned].SubjectType = config.SubjectPairwise
		s.Clients[clientSigned].SectorIdentifierURI = "https://sector.example.org/uris.json"
	})
}

// TestPairwiseSubjectsAgree: for one person, the ID token, UserInfo,
// introspection and the audit event give each client its own sub: the
// sector's pseudonym for pairwise clients, the local id for a public one.
func TestPairwiseSubjectsAgree(t *testing.T) {
	out := &testlog.Buffer{}
	f := pairwiseFixture(t, func(o *Options) { o.Audit = slog.New(slog.NewJSONHandler(out, nil)) })
	want := map[string]string{
		clientBasic:  pairwiseSubject(testSalt(), "rp.example.com", testSubject),
		clientSigned: pairwiseSubject(testSalt(), "sector.example.org", testSubject),
		clientPost:   testSubject,
	}
	if want[clientBasic] == want[clientSigned] || want[clientBasic] == testSubject {
		t.Fatal("the test's subjects are not distinct")
	}
	claims := url.Values{"claims": {`{"userinfo":{"verified_claims":{"verification":{"trust_framework":null},"claims":{"given_name":null}}}}`}}
	for _, id := range []string{clientBasic, clientSigned, clientPost} {
		code, verifier := f.codeFor(id, claims)
		var resp *http.Response
		var tok map[string]any
		if id == clientPost {
			resp = f.post(config.PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
				"code_verifier": {verifier}, "client_id": {id}, "client_secret": {testSecret}}, nil)
			tok = decode(t, resp)
		} else {
			resp, tok = f.exchange(id, code, verifier)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s token: %d %v", id, resp.StatusCode, tok)
		}
		if sub := idTokenSubject(t, tok["id_token"].(string)); sub != want[id] {
			t.Errorf("%s ID token sub %s, want %s", id, sub, want[id])
		}
		at := tok["access_token"].(string)
		if id == clientSigned {
			if sub := signedUserinfoSubject(t, f, at); sub != want[id] {
				t.Errorf("%s signed UserInfo sub %s, want %s", id, sub, want[id])
			}
		} else if _, ui := f.userinfo(at); ui["sub"] != want[id] {
			t.Errorf("%s UserInfo sub %v, want %s", id, ui["sub"], want[id])
		}
		auth := basicAuth(id, testSecret)
		form := url.Values{"token": {at}}
		if id == clientPost {
			auth, form = nil, url.Values{"token": {at}, "client_id": {id}, "client_secret": {testSecret}}
		}
		if body := decode(t, f.post(config.PathIntrospect, form, auth)); body["sub"] != want[id] {
			t.Errorf("%s introspection sub %v, want %s", id, body["sub"], want[id])
		}
	}
	events := strings.Count(out.String(), `"client_subject"`)
	for _, id := range []string{clientBasic, clientSigned} {
		if !strings.Contains(out.String(), `"client_id":"`+id+`","subject":"`+testSubject+`","client_subject":"`+want[id]+`"`) {
			t.Errorf("no audit event of %s with both subjects in %s", id, out.String())
		}
	}
	if events < 2 {
		t.Errorf("%d audit events", events)
	}
}

// TestPairwiseIDTokenHint: a hint carries the client's view of the person;
// the signed-in person matches it through subjectFor, and the local id in
// a hint is another person to this client.
func TestPairwiseIDTokenHint(t *testing.T) {
	f := pairwiseFixture(t, nil)
	b := f.browser()
	u, _ := f.authorizeURL(clientBasic, nil)
	if q := f.signIn(b, u); q.Get("code") == "" {
		t.Fatalf("sign-in: %v", q)
	}
	for _, tc := range []struct {
		name, sub, want string
	}{
		{"the client's pairwise sub of the signed-in person", pairwiseSubject(testSalt(), "rp.example.com", testSubject), "code"},
		{"the local id is not this client's sub", testSubject, "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hint := f.idToken(map[string]any{"iss": f.issuer, "sub": tc.sub, "aud": clientBasic})
			u, _ := f.authorizeURL(clientBasic, url.Values{"prompt": {"none"}, "id_token_hint": {hint}})
			q := redirectParams(t, f.get(b, u))
			if q.Get(tc.want) == "" {
				t.Fatalf("want %s, got %v", tc.want, q)
			}
			if tc.want == "error" && q.Get("error") != "login_required" {
				t.Fatalf("error %v", q)
			}
		})
	}
}

func idTokenSubject(t *testing.T, raw string) string {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.PS256})
	if err != nil {
		t.Fatal(err)
	}
	var cl jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&cl); err != nil {
		t.Fatal(err)
	}
	return cl.Subject
}

func signedUserinfoSubject(t *testing.T, f *fixture, at string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.url(config.PathUserInfo), nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw strings.Builder
	if _, err := copyBody(&raw, &http.Request{Body: resp.Body}); err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Type") != "application/jwt" {
		t.Fatalf("signed UserInfo: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw.String())
	}
	return idTokenSubject(t, raw.String())
}
