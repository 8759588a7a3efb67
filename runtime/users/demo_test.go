package users

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/idaop/ida-operator/internal/idatest"
	"github.com/idaop/ida-operator/internal/specdir"
	"github.com/idaop/ida-operator/runtime/ida"
)

func TestDemoUsers(t *testing.T) {
	data, err := DemoUsers("demo-password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBuiltin(data)
	if err != nil {
		t.Fatal(err)
	}
	u, err := b.Authenticate(context.Background(), DemoUsername, "demo-password")
	if err != nil {
		t.Fatal(err)
	}
	if u.Subject != DemoSubject {
		t.Errorf("subject = %q", u.Subject)
	}
	for _, c := range []string{"name", "email", "email_verified", "birthdate"} {
		if _, ok := u.Claims[c]; !ok {
			t.Errorf("standard claim %s missing", c)
		}
	}

	var ds struct {
		VerifiedClaims []struct {
			Verification struct {
				TrustFramework string `json:"trust_framework"`
				Time           string `json:"time"`
				Evidence       []struct {
					Type         string `json:"type"`
					CheckDetails []struct {
						CheckMethod string `json:"check_method"`
						Time        string `json:"time"`
					} `json:"check_details"`
					DocumentDetails struct{ Type string } `json:"document_details"`
					Record          struct{ Type string } `json:"record"`
				} `json:"evidence"`
			} `json:"verification"`
			Claims map[string]json.RawMessage `json:"claims"`
		} `json:"verified_claims"`
	}
	if err := json.Unmarshal(u.Dataset, &ds); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, vc := range ds.VerifiedClaims {
		v := vc.Verification
		got[v.TrustFramework] = true
		if v.TrustFramework == "jp_gbizid_v1" {
			if !bytes.Contains(vc.Claims["authority"], []byte(DemoCompany)) {
				t.Errorf("jp_gbizid_v1: no authority for %s: %s", DemoCompany, vc.Claims["authority"])
			}
			continue
		}
		if v.Time == "" || len(v.Evidence) == 0 || v.Evidence[0].CheckDetails[0].Time == "" {
			t.Errorf("%s: time and evidence expected", v.TrustFramework)
		}
		e := v.Evidence[0]
		switch {
		case v.TrustFramework == "jp_oidf_ida" && e.Type == "document":
			if e.DocumentDetails.Type != "jp_drivers_license" || e.CheckDetails[0].CheckMethod != "vpip" {
				t.Errorf("jp_oidf_ida document evidence: %+v", e)
			}
			for _, c := range []string{"name", "birthdate", "address"} {
				if _, ok := vc.Claims[c]; !ok {
					t.Errorf("jp_oidf_ida: %s missing", c)
				}
			}
		case v.TrustFramework == "jp_oidf_ida":
			if e.Type != "electronic_record" || e.Record.Type != "mno" || vc.Claims["msisdn"] == nil {
				t.Errorf("jp_oidf_ida msisdn entry: %+v", vc)
			}
		default:
			for _, c := range []string{"given_name", "family_name", "birthdate", "address"} {
				if _, ok := vc.Claims[c]; !ok {
					t.Errorf("%s: %s missing", v.TrustFramework, c)
				}
			}
		}
	}
	for _, tf := range []string{"jp_oidf_ida", "jp_aml", "uk_tfida", "jp_gbizid_v1"} {
		if !got[tf] {
			t.Errorf("no verified claims under %s", tf)
		}
	}
	if len(ds.VerifiedClaims) != 5 {
		t.Errorf("%d verified_claims entries, want 5", len(ds.VerifiedClaims))
	}

	var whole map[string]json.RawMessage
	if err := json.Unmarshal(u.Dataset, &whole); err != nil {
		t.Fatal(err)
	}
	validateVerifiedClaims(t, "demo dataset", whole["verified_claims"])
}

// validateVerifiedClaims checks verified_claims against the project's own
// schema, and the official one as official-spec-extra when the spec folder
// is there.
func validateVerifiedClaims(t *testing.T, what string, vc json.RawMessage) {
	t.Helper()
	own, err := idatest.VerifiedClaimsSchema()
	if err != nil {
		t.Fatal(err)
	}
	if err := idatest.Validate(own, vc); err != nil {
		t.Errorf("%s fails the project's schema: %v", what, err)
	}
	dir, looked := specdir.Find()
	if dir == "" {
		t.Logf("official-spec-extra left out: spec folder not found; looked in %v", looked)
		return
	}
	t.Run("official-spec-extra", func(t *testing.T) {
		off, err := idatest.OfficialVerifiedClaimsSchema(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := idatest.Validate(off, vc); err != nil {
			t.Errorf("%s fails the official schema: %v", what, err)
		}
	})
}

// The demo user must answer the Japanese profile's scopes under a catalog
// like config/samples' trust frameworks, or `make demo` shows errors.
func TestDemoUsersAnswerJPProfile(t *testing.T) {
	data, err := DemoUsers("pw")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBuiltin(data)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := b.Lookup(context.Background(), DemoSubject)
	eng, err := ida.NewEngine(ida.Policy{
		Profiles: []string{ida.ProfileJPBasic},
		TrustFrameworks: []ida.TrustFramework{{
			Identifier:            "jp_oidf_ida",
			EvidenceTypes:         []string{"document", "electronic_record"},
			DocumentTypes:         []string{"jp_drivers_license"},
			CheckMethods:          []string{"vpip", "data"},
			ElectronicRecordTypes: []string{"mno"},
			Claims:                []string{"name", "birthdate", "address", "msisdn"},
		}, {
			Identifier:       "jp_aml",
			EvidenceTypes:    []string{"document"},
			DocumentTypes:    []string{"jp_drivers_license"},
			CheckMethods:     []string{"vpip"},
			Claims:           []string{"family_name", "given_name", "family_name#ja-Kana-JP", "given_name#ja-Kana-JP", "birthdate", "address"},
			RequiredElements: []string{"time", "evidence"},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	req, err := eng.ParseRequest(nil, ida.RequestOptions{Scope: "openid jp_oidf_ida_with_evidence jp_oidf_ida_msisdn"})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ida.ParseDataset(u.Dataset)
	if err != nil {
		t.Fatal(err)
	}
	res := eng.Evaluate(req, ds, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	raw := res.UserInfo["verified_claims"]
	var out []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != 2 {
		t.Fatalf("UserInfo verified_claims = %s (%v)", raw, err)
	}
	for i, vc := range out {
		if md, ok := vc["__response_metadata"]; ok {
			t.Errorf("entry %d carries an error: %s", i, md)
		}
	}
	if !bytes.Contains(out[1]["claims"], []byte("819012345678")) {
		t.Errorf("msisdn entry = %s", out[1]["claims"])
	}
	validateVerifiedClaims(t, "released verified_claims", raw)
}
