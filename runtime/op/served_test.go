package op

import (
	"slices"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ida"
)

func TestClientPolicy(t *testing.T) {
	p := ida.Policy{
		AnyTrustFramework: true,
		TrustFrameworks: []ida.TrustFramework{
			{Identifier: "de_aml", Claims: []string{"given_name", "family_name", "birthdate"}},
			{Identifier: "jp_oidf_ida", Claims: []string{"name", "birthdate"}},
		},
		Profiles: []string{ida.ProfileJPBasic},
	}
	got := clientPolicy(p, &config.Client{TrustFrameworks: []string{"de_aml"}, VerifiedClaims: []string{"family_name#ja-Kana-JP", "birthdate"}})
	if got.AnyTrustFramework || len(got.TrustFrameworks) != 1 || !slices.Equal(got.TrustFrameworks[0].Claims, []string{"family_name", "birthdate"}) || len(got.Profiles) != 0 {
		t.Fatalf("narrowed policy: %+v", got)
	}
	if got := clientPolicy(p, &config.Client{}); len(got.TrustFrameworks) != 0 {
		t.Fatalf("empty registration allows %+v", got.TrustFrameworks)
	}
	got = clientPolicy(p, &config.Client{TrustFrameworks: []string{"jp_oidf_ida"}, VerifiedClaims: []string{"name"}})
	if len(got.Profiles) != 1 {
		t.Fatal("jp profile dropped although jp_oidf_ida is allowed")
	}
	if _, err := ida.NewEngine(got); err != nil {
		t.Fatal(err)
	}
}

// TestCodeLifetime: the configured lifetime, at most 60 seconds under
// FAPI 2.0 (Security Profile §5.3.2.1).
func TestCodeLifetime(t *testing.T) {
	long := func(s *config.Snapshot) { s.Provider.Tokens.AuthorizationCode.Duration = 10 * time.Minute }
	if got := newFixture(t, long).p.served.Load().codeLifetime(); got != 10*time.Minute {
		t.Errorf("default profile: %v", got)
	}
	if got := newFixture(t, long, fapi2Only).p.served.Load().codeLifetime(); got != time.Minute {
		t.Errorf("FAPI2: %v", got)
	}
}
