package op

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/users"
)

// claimSource is a test external claim source: its own key, its JWKS and
// a distributed claims endpoint over TLS.
type claimSource struct {
	srv   *httptest.Server
	key   *claimSourceKey
	token string // the access token its endpoint accepts
	// distributed is what its endpoint returns, signed when asked.
	distributed map[string]any
}

func newClaimSource(t *testing.T) *claimSource {
	t.Helper()
	cs := &claimSource{key: newClaimSourceKey(t, "cs-1"), token: "dist-token-" + t.Name()}
	mux := http.NewServeMux()
	mux.HandleFunc("/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{cs.key.public()}})
	})
	mux.HandleFunc("/claims", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+cs.token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/jwt")
		_, _ = io.WriteString(w, cs.key.sign(t, providedClaimsType, cs.distributed))
	})
	cs.srv = httptest.NewTLSServer(mux)
	t.Cleanup(cs.srv.Close)
	cs.distributed = map[string]any{
		"iss": cs.srv.URL, "sub": "kyc-7781",
		"verified_claims": map[string]any{
			"verification": map[string]any{"trust_framework": "uk_tfida"},
			"claims":       map[string]any{"given_name": "Max", "birthdate": "1956-01-28"},
		},
	}
	return cs
}

// clientExternal may receive verified claims under de_aml and uk_tfida.
const clientExternal = "rp-external"

// externalFixture serves a user holding, besides the provider's own
// de_aml data, five external entries: a good aggregated assertion, a
// tampered one, one from an untrusted issuer, one with aud, and a
// distributed reference to cs.
func externalFixture(t *testing.T, cs *claimSource, lookAhead bool) (*fixture, map[string]string) {
	t.Helper()
	evil := newClaimSourceKey(t, "cs-1") // same kid, other key
	payload := func(iss string, extra map[string]any) map[string]any {
		m := map[string]any{"iss": iss, "sub": "kyc-7781", "verified_claims": map[string]any{
			"verification": map[string]any{"trust_framework": "uk_tfida"},
			"claims":       map[string]any{"given_name": "Max", "family_name": "Meier"},
		}}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	good := cs.key.sign(t, providedClaimsType, payload(cs.srv.URL, nil))
	parts := strings.Split(cs.key.sign(t, providedClaimsType, payload(cs.srv.URL, map[string]any{"pad": "x"})), ".")
	tampered := strings.Split(good, ".")[0] + "." + parts[1] + "." + strings.Split(good, ".")[2]
	jwts := map[string]string{
		"good":      good,
		"tampered":  tampered,
		"untrusted": evil.sign(t, providedClaimsType, payload("https://evil.example", nil)),
		"forged":    evil.sign(t, providedClaimsType, payload(cs.srv.URL, nil)),
		"with aud":  cs.key.sign(t, providedClaimsType, payload(cs.srv.URL, map[string]any{"aud": clientExternal})),
	}
	external := []any{}
	for _, name := range []string{"tampered", "good", "untrusted", "forged", "with aud"} {
		iss := cs.srv.URL
		if name == "untrusted" {
			iss = "https://evil.example"
		}
		external = append(external, map[string]any{"issuer": iss, "jwt": jwts[name]})
	}
	external = append(external, map[string]any{
		"issuer": cs.srv.URL, "endpoint": cs.srv.URL + "/claims", "access_token": cs.token,
		"verified_claims": map[string]any{
			"verification": map[string]any{"trust_framework": "uk_tfida"},
			"claims":       map[string]any{"given_name": nil, "birthdate": nil},
		},
	})
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]any{"users": []any{map[string]any{
		"subject": testSubject, "username": testUsername, "password_hash": string(hash),
		"claims":          map[string]any{"email": "janedoe@example.com"},
		"verified_claims": json.RawMessage(`{"verification": {"trust_framework": "de_aml"}, "claims": {"given_name": "Max", "family_name": "Meier"}}`),
		"external_claims": external,
	}}})
	src, err := users.NewBuiltin(doc)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, func(o *Options) { o.HTTPClient = cs.srv.Client(); o.Users = src }, func(s *config.Snapshot) {
		s.Provider.IDA.TrustFrameworks = append(s.Provider.IDA.TrustFrameworks, ida.TrustFramework{
			Identifier: "uk_tfida", Claims: []string{"given_name", "family_name", "birthdate"},
		})
		s.Provider.ExternalClaims = &config.ExternalClaims{LookAhead: lookAhead, Sources: []config.ExternalClaimSource{{
			Issuer: cs.srv.URL, JWKSURI: cs.srv.URL + "/jwks.json", TrustFrameworks: []string{"uk_tfida"},
		}}}
		c := baseClient(clientExternal, config.AuthClientSecretBasic)
		c.TrustFrameworks = []string{"de_aml", "uk_tfida"}
		s.Clients[clientExternal] = c
	})
	return f, jwts
}

// externalRequest asks both targets for names (and birthdate when wide)
// verified under any framework.
func externalRequest(wide bool) string {
	claims := `{"given_name": null, "family_name": null}`
	if wide {
		claims = `{"given_name": null, "family_name": null, "birthdate": null}`
	}
	vc := `{"verification": {"trust_framework": null}, "claims": ` + claims + `}`
	return `{"id_token": {"verified_claims": ` + vc + `}, "userinfo": {"verified_claims": ` + vc + `}}`
}

func TestExternalClaimsEndToEnd(t *testing.T) {
	cs := newClaimSource(t)
	f, jwts := externalFixture(t, cs, false)
	code, verifier := f.codeFor(clientExternal, url.Values{"claims": {externalRequest(true)}})
	resp, body := f.exchange(clientExternal, code, verifier)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, body)
	}
	rp := &relyingParty{t: t, hc: cs.srv.Client(), trusted: map[string]string{cs.srv.URL: cs.srv.URL + "/jwks.json"}}
	idt := idTokenClaims(t, body)
	_, uiBody := f.userinfo(body["access_token"].(string))
	for target, claims := range map[string]map[string]any{"id_token": idt, "userinfo": uiBody} {
		t.Run(target, func(t *testing.T) {
			rp.t = t
			// The provider's own verified claims still come as they did.
			if vc, _ := claims["verified_claims"].(map[string]any); vc == nil {
				t.Errorf("no own verified_claims: %v", claims)
			}
			names, _ := claims["_claim_names"].(map[string]any)
			if got, _ := json.Marshal(names["verified_claims"]); string(got) != `["src1","src2"]` {
				t.Fatalf("_claim_names = %v", claims["_claim_names"])
			}
			sources := claims["_claim_sources"].(map[string]any)
			// The good assertion goes out exactly as the source signed it.
			if got := sources["src1"].(map[string]any)["JWT"]; got != jwts["good"] {
				t.Errorf("src1 is not the source's assertion: %v", got)
			}
			raw, _ := json.Marshal(claims)
			for _, bad := range []string{"tampered", "untrusted", "forged", "with aud"} {
				if strings.Contains(string(raw), jwts[bad]) {
					t.Errorf("the %s assertion was passed on", bad)
				}
			}
			if got := sources["src2"].(map[string]any); got["endpoint"] != cs.srv.URL+"/claims" || got["access_token"] != cs.token {
				t.Errorf("src2 = %v", got)
			}
			// The relying party validates both by IDA §6.2.
			got := rp.validate(claims)
			if len(got) != 2 {
				t.Fatalf("the relying party accepted %d sources", len(got))
			}
			if g := got["src1"]["claims"].(map[string]any); g["given_name"] != "Max" || g["family_name"] != "Meier" {
				t.Errorf("aggregated verified_claims = %v", got["src1"])
			}
			if g := got["src2"]["claims"].(map[string]any); g["birthdate"] != "1956-01-28" {
				t.Errorf("distributed verified_claims = %v", got["src2"])
			}
		})
	}
	// The person's release records name what the sources hold, under
	// their frameworks, never the carrier members.
	rs, err := f.p.grants.Releases(context.Background(), testSubject)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Items) != 2 {
		t.Fatalf("release records: %+v", rs.Items)
	}
	for _, r := range rs.Items {
		if slices.Contains(r.Claims, "_claim_names") || slices.Contains(r.Claims, "_claim_sources") ||
			!slices.Contains(r.TrustFrameworks, "uk_tfida") || !slices.Contains(r.Verified, "birthdate") || !slices.Contains(r.Verified, "family_name") {
			t.Errorf("release record %+v", r)
		}
	}
	logs := f.logs.String()
	for _, reason := range []string{"the signature does not verify", "the issuer is not a trusted claim source", "it has aud"} {
		if !strings.Contains(logs, reason) {
			t.Errorf("no log says %q", reason)
		}
	}
	// One audit record per target says which sources went to the client.
	for _, target := range []string{"id_token", "userinfo"} {
		want := `"event":"external_verified_claims_released","client_id":"` + clientExternal + `","subject":"` + testSubject + `"`
		found := false
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, want) && strings.Contains(line, `"target":"`+target+`"`) &&
				strings.Contains(line, `"aggregated_issuers":["`+cs.srv.URL+`"]`) && strings.Contains(line, `"distributed_endpoints":["`+cs.srv.URL+`/claims"]`) {
				found = true
			}
		}
		if !found {
			t.Errorf("no audit record of the %s release:\n%s", target, logs)
		}
	}
	for _, secret := range []string{"Meier", "kyc-7781", cs.token, jwts["good"][:40]} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold %q", secret)
		}
	}
}

func TestExternalClaimsOnlyWhatIsAsked(t *testing.T) {
	cs := newClaimSource(t)
	f, jwts := externalFixture(t, cs, false)
	// Names only: the distributed source also holds the birthdate, so it
	// is not passed on; the aggregated assertion holds names only.
	code, verifier := f.codeFor(clientExternal, url.Values{"claims": {externalRequest(false)}})
	_, body := f.exchange(clientExternal, code, verifier)
	idt := idTokenClaims(t, body)
	if got, _ := json.Marshal(idt["_claim_names"]); string(got) != `{"verified_claims":"src1"}` {
		t.Errorf("_claim_names = %s", got)
	}
	if got := idt["_claim_sources"].(map[string]any)["src1"].(map[string]any)["JWT"]; got != jwts["good"] {
		t.Errorf("src1 = %v", got)
	}
	// Given name only: no external source is passed on, the provider's
	// own data is minimised as ever.
	code, verifier = f.codeFor(clientExternal, url.Values{"claims": {`{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": null}}}}`}})
	_, body = f.exchange(clientExternal, code, verifier)
	_, ui := f.userinfo(body["access_token"].(string))
	if _, ok := ui["_claim_names"]; ok {
		t.Errorf("an assertion holding more than was asked went out: %v", ui)
	}
	if ui["verified_claims"] == nil {
		t.Errorf("own verified_claims missing: %v", ui)
	}
	// A client not allowed family_name receives no assertion holding it.
	code, verifier = f.codeFor(clientBasic, url.Values{"claims": {externalRequest(true)}})
	_, body = f.exchange(clientBasic, code, verifier)
	if _, ok := idTokenClaims(t, body)["_claim_names"]; ok {
		t.Error("a client without uk_tfida received external claims")
	}
}

func TestExternalClaimsLookAhead(t *testing.T) {
	cs := newClaimSource(t)
	f, _ := externalFixture(t, cs, true)
	code, verifier := f.codeFor(clientExternal, url.Values{"claims": {externalRequest(true)}})
	_, body := f.exchange(clientExternal, code, verifier)
	_, ui := f.userinfo(body["access_token"].(string))
	got, _ := json.Marshal(ui["_claim_names"])
	want := `{"verified_claims":{"src1":{"claims":{"family_name":null,"given_name":null},"verification":{"trust_framework":{"value":"uk_tfida"}}},` +
		`"src2":{"claims":{"birthdate":null,"given_name":null},"verification":{"trust_framework":{"value":"uk_tfida"}}}}}`
	if string(got) != want {
		t.Errorf("_claim_names =\n%s\nwant\n%s", got, want)
	}
	rp := &relyingParty{t: t, hc: cs.srv.Client(), trusted: map[string]string{cs.srv.URL: cs.srv.URL + "/jwks.json"}}
	if n := len(rp.validate(ui)); n != 2 {
		t.Errorf("the relying party accepted %d sources", n)
	}
}

func TestExternalClaimsSourceKeysUnavailable(t *testing.T) {
	cs := newClaimSource(t)
	f, _ := externalFixture(t, cs, false)
	cs.srv.Close() // the JWKS cannot be fetched
	code, verifier := f.codeFor(clientExternal, url.Values{"claims": {externalRequest(false)}})
	resp, body := f.exchange(clientExternal, code, verifier)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, body)
	}
	if _, ok := idTokenClaims(t, body)["_claim_names"]; ok {
		t.Error("an assertion went out unchecked")
	}
	if !strings.Contains(f.logs.String(), "the source's keys") {
		t.Error("no log says the keys could not be fetched")
	}
}

// relyingParty validates aggregated and distributed verified_claims as
// IDA §6.2 tells a client to, with go-jose, independently of the
// provider's code.
type relyingParty struct {
	t       testing.TB
	hc      *http.Client
	trusted map[string]string // claim source issuer -> jwks_uri
}

// validate returns each source's verified_claims by source name.
func (rp *relyingParty) validate(claims map[string]any) map[string]map[string]any {
	t := rp.t
	t.Helper()
	names, ok1 := claims["_claim_names"].(map[string]any)
	sources, ok2 := claims["_claim_sources"].(map[string]any)
	if !ok1 || !ok2 || len(sources) == 0 { // steps 1 and 4
		t.Fatalf("_claim_names or _claim_sources missing: %v", claims)
	}
	var refs []string
	switch v := names["verified_claims"].(type) { // steps 2 and 3
	case string:
		refs = []string{v}
	case []any:
		for _, s := range v {
			refs = append(refs, s.(string))
		}
	case map[string]any:
		for s, la := range v {
			m := la.(map[string]any)
			if _, ok := m["verification"]; !ok {
				t.Errorf("look-ahead %s lacks verification", s)
			}
			refs = append(refs, s)
		}
	default:
		t.Fatalf("_claim_names.verified_claims = %v", v)
	}
	if len(refs) != len(sources) { // step 5
		t.Fatalf("names %v for %d sources", refs, len(sources))
	}
	out := map[string]map[string]any{}
	for _, ref := range refs {
		src, ok := sources[ref].(map[string]any)
		if !ok {
			t.Fatalf("%s has no source", ref)
		}
		var jwt string
		if ep, ok := src["endpoint"].(string); ok {
			if !strings.HasPrefix(ep, "https://") {
				t.Fatalf("%s: endpoint %q is not https", ref, ep)
			}
			req, _ := http.NewRequest(http.MethodGet, ep, nil)
			req.Header.Set("Authorization", "Bearer "+src["access_token"].(string))
			resp, err := rp.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: endpoint answered %d", ref, resp.StatusCode)
			}
			jwt = string(b)
		} else {
			jwt = src["JWT"].(string)
		}
		out[ref] = rp.checkJWT(ref, jwt)
	}
	return out
}

func (rp *relyingParty) checkJWT(ref, raw string) map[string]any {
	t := rp.t
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.RS256})
	if err != nil {
		t.Fatalf("%s: not a JWT: %v", ref, err)
	}
	h := jws.Signatures[0].Protected
	if h.ExtraHeaders[jose.HeaderType] != "provided-claims+jwt" {
		t.Fatalf("%s: typ %v", ref, h.ExtraHeaders[jose.HeaderType])
	}
	var unverified struct {
		Iss string `json:"iss"`
	}
	_ = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &unverified)
	jwksURI, ok := rp.trusted[unverified.Iss]
	if !ok {
		t.Fatalf("%s: untrusted issuer %q", ref, unverified.Iss)
	}
	resp, err := rp.hc.Get(jwksURI)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("%s: kid %q not in the source's set", ref, h.KeyID)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("%s: signature: %v", ref, err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"iss", "sub"} {
		if s, _ := c[m].(string); s == "" {
			t.Fatalf("%s: %s missing", ref, m)
		}
	}
	for _, m := range []string{"exp", "aud"} {
		if _, ok := c[m]; ok {
			t.Fatalf("%s: has %s", ref, m)
		}
	}
	vc, ok := c["verified_claims"].(map[string]any)
	if !ok {
		t.Fatalf("%s: verified_claims %v", ref, c["verified_claims"])
	}
	return vc
}

// TestExternalClaimsLevel: external verified claims follow the provider's
// level for verified claims as its own do: a password-only grant gets
// none once the level asks for more.
func TestExternalClaimsLevel(t *testing.T) {
	cs := newClaimSource(t)
	f, _ := externalFixture(t, cs, false)
	withLevels(f.snap)
	if err := f.p.Apply(f.snap); err != nil {
		t.Fatal(err)
	}
	code, verifier := f.codeFor(clientExternal, url.Values{"claims": {externalRequest(true)}})
	f.snap.Provider.Authentication.VerifiedClaimsLevel = acrMFA
	if err := f.p.Apply(f.snap); err != nil {
		t.Fatal(err)
	}
	_, body := f.exchange(clientExternal, code, verifier)
	if _, ok := idTokenClaims(t, body)["_claim_names"]; ok {
		t.Error("a password-only grant got external claims in its ID token")
	}
	_, ui := f.userinfo(body["access_token"].(string))
	if _, ok := ui["_claim_sources"]; ok {
		t.Error("a password-only grant got external claims at UserInfo")
	}
}

// A trust framework's own level (TrustFramework requiredAuthenticationLevel)
// holds external assertions under it back too: a password-only grant gets
// none of the uk_tfida assertions once that framework needs two factors.
func TestExternalClaimsFrameworkLevel(t *testing.T) {
	cs := newClaimSource(t)
	f, _ := externalFixture(t, cs, false)
	withLevels(f.snap)
	if err := f.p.Apply(f.snap); err != nil {
		t.Fatal(err)
	}
	code, verifier := f.codeFor(clientExternal, url.Values{"claims": {externalRequest(true)}})
	f.snap.Provider.Authentication.TrustFrameworkLevels = map[string]string{"uk_tfida": acrMFA}
	if err := f.p.Apply(f.snap); err != nil {
		t.Fatal(err)
	}
	_, body := f.exchange(clientExternal, code, verifier)
	if _, ok := idTokenClaims(t, body)["_claim_names"]; ok {
		t.Error("a password-only grant got uk_tfida assertions in its ID token")
	}
	_, ui := f.userinfo(body["access_token"].(string))
	if _, ok := ui["_claim_sources"]; ok {
		t.Error("a password-only grant got uk_tfida assertions at UserInfo")
	}
}
