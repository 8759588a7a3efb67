package op

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
)

const benchClaims = `{"userinfo":{"verified_claims":{"verification":{"trust_framework":null},"claims":{"given_name":null,"family_name":null,"birthdate":null}}},` +
	`"id_token":{"verified_claims":{"verification":{"trust_framework":{"value":"de_aml"}},"claims":{"family_name":null}}}}`

// benchCodes stores n codes as the authorization endpoint would.
func benchCodes(b *testing.B, f *fixture, clientID, jkt string, n int) ([]string, string) {
	verifier, challenge := pkce()
	now := f.clock.now()
	codes := make([]string, n)
	for i := range codes {
		rec := grants.Code{
			Info: grants.Info{GrantID: grants.NewSecret(), ClientID: clientID, Subject: testSubject, Scope: "openid email",
				Claims: benchClaims, AuthTime: now.Unix(), SessionID: "sid"},
			RedirectURI: redirectURI, CodeChallenge: challenge, Nonce: "n", DPoPJKT: jkt, ExpiresAt: now.Add(time.Hour).Unix(),
		}
		code, err := f.p.grants.PutCode(context.Background(), &rec)
		if err != nil {
			b.Fatal(err)
		}
		codes[i] = code
	}
	return codes, verifier
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// BenchmarkTokenAuthorizationCode: the code grant with client_secret_basic,
// an ES256 ID token carrying verified_claims (user lookup and IDA
// evaluation included).
func BenchmarkTokenAuthorizationCode(b *testing.B) {
	benchTokenRequests(b, newFixture(b), clientBasic)
}

// BenchmarkTokenAuthorizationCodeFAPI: the same with private_key_jwt and a
// DPoP proof (both ES256): two more signature verifications.
func BenchmarkTokenAuthorizationCodeFAPI(b *testing.B) {
	f := newFixture(b)
	h := f.p.Handler()
	codes, verifier := benchCodes(b, f, clientFAPI, "", b.N)
	assertions := make([]string, b.N)
	proofs := make([]string, b.N)
	for i := range assertions {
		assertions[i] = f.assertion(nil)
		proofs[i] = f.proof("POST", f.url(config.PathToken), "")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		form := "grant_type=authorization_code&code=" + codes[i] + "&redirect_uri=" + url.QueryEscape(redirectURI) + "&code_verifier=" + verifier +
			"&client_assertion_type=" + url.QueryEscape(clientAssertionType) + "&client_assertion=" + assertions[i]
		r := httptest.NewRequest(http.MethodPost, f.url(config.PathToken), strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("DPoP", proofs[i])
		if w := serve(h, r); w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkUserInfoVerifiedClaims: UserInfo with a Bearer token whose
// claims request releases verified_claims.
func BenchmarkUserInfoVerifiedClaims(b *testing.B) {
	f := newFixture(b)
	h := f.p.Handler()
	codes, verifier := benchCodes(b, f, clientSigned, "", 1)
	codes2, _ := benchCodes(b, f, clientBasic, "", 1)
	_ = codes2
	f.snap.Clients[clientSigned].UserInfoSignedResponseAlg = ""
	if err := f.p.Apply(f.snap); err != nil {
		b.Fatal(err)
	}
	_, tok := f.exchange(clientSigned, codes[0], verifier)
	at, _ := tok["access_token"].(string)
	if at == "" {
		b.Fatalf("no token: %v", tok)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := httptest.NewRequest(http.MethodGet, f.url(config.PathUserInfo), nil)
		r.Header.Set("Authorization", "Bearer "+at)
		w := serve(h, r)
		if w.Code != 200 || !strings.Contains(w.Body.String(), "verified_claims") {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkPAR: a pushed authorization request with client_secret_basic
// and a claims parameter asking for verified_claims.
func BenchmarkPAR(b *testing.B) {
	// Every push stays live for a request_uri's lifetime: lift the
	// per-client bound, or a long run gets 429 after 10,000.
	f := newFixture(b, func(s *config.Snapshot) { s.Provider.Security.PushedRequestsPerClient = 1 << 30 })
	h := f.p.Handler()
	_, challenge := pkce()
	u, _ := f.authorizeURL(clientBasic, nil)
	q := u[strings.Index(u, "?")+1:]
	form := q + "&claims=" + strings.ReplaceAll(strings.ReplaceAll(benchClaims, "{", "%7B"), "}", "%7D")
	form = strings.Replace(form, "code_challenge=", "code_challenge="+challenge+"&x=", 1)
	auth := basicAuth(clientBasic, testSecret)["Authorization"]
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, f.url(config.PathPAR), strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", auth)
		if w := serve(h, r); w.Code != http.StatusCreated {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
