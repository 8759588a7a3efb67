package trustframework

import (
	"strings"
	"testing"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

func TestValidate(t *testing.T) {
	valid := idav1alpha1.TrustFrameworkSpec{
		Identifier: "jp_aml",
		Claims:     []idav1alpha1.ClaimName{"family_name", "family_name#ja-Kana-JP", "birthdate", "https://bank.example/claims/customer_no", "msisdn", "authority"},
		Evidence: []idav1alpha1.EvidenceSpec{{
			Type:          idav1alpha1.EvidenceDocument,
			DocumentTypes: []idav1alpha1.Identifier{"jp_drivers_license", "passport", "urn:example:doc"},
			CheckMethods:  []idav1alpha1.Identifier{"vpip", "vcrypt"},
		}},
	}
	if p := Validate(&valid); len(p) != 0 {
		t.Fatalf("valid spec reported problems: %v", p)
	}

	cases := []struct {
		name      string
		mutate    func(*idav1alpha1.TrustFrameworkSpec)
		wantField string
		wantText  string
	}{
		{"unregistered claim", func(s *idav1alpha1.TrustFrameworkSpec) { s.Claims = append(s.Claims, "customer_number") },
			"spec.claims[6]", "not a registered claim"},
		{"bad language tag", func(s *idav1alpha1.TrustFrameworkSpec) { s.Claims = append(s.Claims, "family_name#ja_JP!") },
			"spec.claims[6]", "invalid language tag"},
		{"duplicate by language tag case", func(s *idav1alpha1.TrustFrameworkSpec) { s.Claims = append(s.Claims, "family_name#ja-kana-jp") },
			"spec.claims[6]", "repeats spec.claims[1]"},
		{"language-tagged authority", func(s *idav1alpha1.TrustFrameworkSpec) { s.Claims = append(s.Claims, "authority#ja") },
			"spec.claims[6]", "takes no language tag"},
		{"mixed-case document type", func(s *idav1alpha1.TrustFrameworkSpec) {
			s.Evidence[0].DocumentTypes = append(s.Evidence[0].DocumentTypes, "Passport")
		}, "spec.evidence[0].documentTypes[3]", `"passport"`},
		{"mixed-case check method", func(s *idav1alpha1.TrustFrameworkSpec) {
			s.Evidence[0].CheckMethods = []idav1alpha1.Identifier{"VPIP"}
		}, "spec.evidence[0].checkMethods[0]", "neither a predefined identifier"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := *valid.DeepCopy()
			tc.mutate(&spec)
			problems := Validate(&spec)
			if len(problems) != 1 {
				t.Fatalf("want one problem, got %v", problems)
			}
			if problems[0].Field != tc.wantField || !strings.Contains(problems[0].Detail, tc.wantText) {
				t.Fatalf("got %q, want field %s and text %q", problems[0], tc.wantField, tc.wantText)
			}
		})
	}
}
