package users

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ida"
)

// A person acting for a company (Authority Claims Extension draft): the
// authority claim sits in verified_claims.claims like any other claim.
const authorityVerified = `{"verification":{"trust_framework":"jp_gbizid_v1","assurance_level":"ial2"},
 "claims":{"family_name":"田中","authority":{"applies_to":{"registration_number":"1234567890123","organization_name":"株式会社サンプル"},
 "permission":[{"role":"prime"}],"granted_by":{"method":"appointed"}}}}`

// releasesAuthority runs the engine on a user's dataset, as the provider
// does, and reports the released authority's company name.
func releasesAuthority(t *testing.T, u *User) string {
	t.Helper()
	eng, err := ida.NewEngine(ida.Policy{TrustFrameworks: []ida.TrustFramework{{Identifier: "jp_gbizid_v1", Claims: []string{"family_name", "authority"}}}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := eng.ParseRequest([]byte(`{"userinfo":{"verified_claims":{"verification":{"trust_framework":null},
	  "claims":{"authority":{"applies_to":{"organization_name":null},"permission":null}}}}}`), ida.RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ida.ParseDataset(u.Dataset)
	if err != nil {
		t.Fatal(err)
	}
	var vc struct {
		Claims struct {
			Authority struct {
				AppliesTo map[string]string `json:"applies_to"`
			} `json:"authority"`
		} `json:"claims"`
	}
	raw := eng.Evaluate(req, ds, time.Now()).UserInfo["verified_claims"]
	if err := json.Unmarshal(raw, &vc); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return vc.Claims.Authority.AppliesTo["organization_name"]
}

func TestBuiltinHoldsAuthority(t *testing.T) {
	b, err := NewBuiltin(usersDoc(userEntry("s-corp", "tanaka", `"verified_claims":`+authorityVerified)))
	if err != nil {
		t.Fatal(err)
	}
	u, err := b.Lookup(context.Background(), "s-corp")
	if err != nil {
		t.Fatal(err)
	}
	if got := releasesAuthority(t, u); got != "株式会社サンプル" {
		t.Errorf("released organization_name %q", got)
	}
}

func TestHTTPHoldsAuthority(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken || !strings.HasPrefix(r.URL.Path, "/kyc/users/") {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"username":"tanaka","verified_claims":` + authorityVerified + `}`))
	}))
	t.Cleanup(srv.Close)
	h := NewHTTP(config.HTTPUsers{URL: srv.URL + "/kyc/", Timeout: config.Duration{Duration: 2 * time.Second}}, testToken, srv.Client())
	u, err := h.Lookup(context.Background(), "s-corp")
	if err != nil {
		t.Fatal(err)
	}
	if got := releasesAuthority(t, u); got != "株式会社サンプル" {
		t.Errorf("released organization_name %q", got)
	}
}
