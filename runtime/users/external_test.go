package users

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"
)

// testAssertion has the form of a signed JWT; the runtime checks its
// signature, the user source only its form.
var testAssertion = b64(`{"alg":"ES256","typ":"provided-claims+jwt"}`) + "." +
	b64(`{"iss":"https://kyc.example","sub":"k-1","verified_claims":{"verification":{"trust_framework":"uk_tfida"},"claims":{"given_name":"Ada"}}}`) + ".c2ln"

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestExternalClaimsLoad(t *testing.T) {
	const described = `"verified_claims":{"verification":{"trust_framework":"uk_tfida"},"claims":{"given_name":null}}`
	b, err := NewBuiltin(usersDoc(userEntry("s1", "ada", `"external_claims":[{"issuer":"https://kyc.example","jwt":"`+testAssertion+`"},`+
		`{"issuer":"https://bank.example","endpoint":"https://bank.example/claims","access_token":"tok-1",`+described+`}]`)))
	if err != nil {
		t.Fatal(err)
	}
	u, err := b.Lookup(context.Background(), "s1")
	if err != nil {
		t.Fatal(err)
	}
	if len(u.External) != 2 || u.External[0].JWT != testAssertion || u.External[0].Distributed() ||
		!u.External[1].Distributed() || u.External[1].Endpoint != "https://bank.example/claims" || u.External[1].AccessToken != "tok-1" {
		t.Fatalf("External = %+v", u.External)
	}
}

func TestExternalClaimsInvalid(t *testing.T) {
	const vc = `"verified_claims":{"verification":{"trust_framework":"uk_tfida"},"claims":{}}`
	cases := []struct{ name, entry, want string }{
		{"not an array", `{}`, "users[0].external_claims: must be an array"},
		{"an entry not an object", `["x"]`, "users[0].external_claims[0]: must be an object"},
		{"no issuer", `[{"jwt":"` + testAssertion + `"}]`, "external_claims[0].issuer: required"},
		{"an http issuer", `[{"issuer":"http://kyc.example","jwt":"` + testAssertion + `"}]`, "issuer: must be an https URL"},
		{"an unknown member", `[{"issuer":"https://kyc.example","jwt":"` + testAssertion + `","exp":1}]`, "external_claims[0].exp: unknown member"},
		{"neither kind", `[{"issuer":"https://kyc.example"}]`, "needs jwt (aggregated) or endpoint (distributed)"},
		{"both kinds", `[{"issuer":"https://kyc.example","jwt":"` + testAssertion + `","endpoint":"https://kyc.example/c"}]`, "exclude each other"},
		{"a JWT of two parts", `[{"issuer":"https://kyc.example","jwt":"a.b"}]`, "jwt: must be a signed JWT in compact form"},
		{"an unsigned JWT", `[{"issuer":"https://kyc.example","jwt":"` + strings.TrimSuffix(testAssertion, "c2ln") + `"}]`, "jwt: must be a signed JWT"},
		{"a header that is not JSON", `[{"issuer":"https://kyc.example","jwt":"` + b64("x") + `.` + b64("{}") + `.c2ln"}]`, "its header is not base64url-encoded JSON"},
		{"an http endpoint", `[{"issuer":"https://kyc.example","endpoint":"http://kyc.example/c","access_token":"t",` + vc + `}]`, "endpoint: must be an https URL"},
		{"a distributed entry without a token", `[{"issuer":"https://kyc.example","endpoint":"https://kyc.example/c",` + vc + `}]`, "access_token: required with endpoint"},
		{"a distributed entry without a description", `[{"issuer":"https://kyc.example","endpoint":"https://kyc.example/c","access_token":"t"}]`, "verified_claims: required with endpoint"},
		{"a description without a trust framework", `[{"issuer":"https://kyc.example","endpoint":"https://kyc.example/c","access_token":"t","verified_claims":{"verification":{},"claims":{}}}]`, "external_claims[0].verified_claims.verification.trust_framework: must be a non-empty string"},
		{"too many", `[` + strings.Repeat(`{"issuer":"https://kyc.example","jwt":"`+testAssertion+`"},`, 16) + `{"issuer":"https://kyc.example","jwt":"` + testAssertion + `"}]`, "more than 16 entries"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewBuiltin(usersDoc(userEntry("s1", "ada", `"external_claims":`+c.entry)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), "tok-") || strings.Contains(err.Error(), testAssertion) {
				t.Errorf("the error quotes a secret: %v", err)
			}
		})
	}
}

func TestHTTPExternalClaims(t *testing.T) {
	f := newFixture(t, time.Second)
	f.k.fail = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet {
			return false
		}
		_, _ = w.Write([]byte(`{"username":"ada","external_claims":[{"issuer":"https://kyc.example","jwt":"` + testAssertion + `"}]}`))
		return true
	}
	u, err := f.h.Lookup(context.Background(), testSubject)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.External) != 1 || u.External[0].Issuer != "https://kyc.example" || u.External[0].JWT != testAssertion {
		t.Errorf("External = %+v", u.External)
	}
}
