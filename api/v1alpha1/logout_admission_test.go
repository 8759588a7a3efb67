package v1alpha1_test

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestSessionsAndLogoutFieldsAccepted: session timeouts, an egress allow
// list and a relying party's logout URIs, each at its limits.
func TestSessionsAndLogoutFieldsAccepted(t *testing.T) {
	idp := decode(t, validIdentityProvider)
	set(idp, "spec.sessions", map[string]any{"idleTimeout": "12h", "absoluteLifetime": "12h", "maxPerUser": int64(100)})
	set(idp, "spec.egress", map[string]any{"allowedCIDRs": []any{"10.0.0.0/8", "fd00::/8"}, "allowedHosts": []any{"rp.team-a.svc.cluster.local"}})
	rp := decode(t, validRelyingParty)
	set(rp, "spec.postLogoutRedirectURIs", []any{"https://app.example/bye?x=1", "http://127.0.0.1:3000/bye", "http://localhost/bye"})
	set(rp, "spec.backchannelLogoutURI", "https://app.example/backchannel")
	set(rp, "spec.backchannelLogoutSessionRequired", true)
	for _, u := range []*unstructured.Unstructured{idp, rp} {
		if err := createDryRun(u); err != nil {
			t.Errorf("valid %s refused: %v", u.GetKind(), err)
		}
	}
	// Defaults: 30m idle, 12h absolute, 16 sessions a person.
	idp = decode(t, validIdentityProvider)
	if err := createDryRun(idp); err != nil {
		t.Fatal(err)
	}
	s, _, _ := unstructured.NestedMap(idp.Object, "spec", "sessions")
	if s["idleTimeout"] != "30m" || s["absoluteLifetime"] != "12h" || s["maxPerUser"] != int64(16) {
		t.Errorf("sessions defaulted to %v", s)
	}
}

func TestSessionsAndLogoutFieldsRejected(t *testing.T) {
	for _, tc := range []admissionCase{
		{"idle longer than absolute", validIdentityProvider, "spec.sessions", map[string]any{"idleTimeout": "13h"}, "spec.sessions", "idleTimeout must not be longer than sessions.absoluteLifetime"},
		{"idle below a minute", validIdentityProvider, "spec.sessions", map[string]any{"idleTimeout": "30s"}, "spec.sessions.idleTimeout", "at least 1m"},
		{"absolute over 30 days", validIdentityProvider, "spec.sessions", map[string]any{"absoluteLifetime": "721h"}, "spec.sessions.absoluteLifetime", "between 1m and 720h"},
		{"no sessions a person", validIdentityProvider, "spec.sessions", map[string]any{"maxPerUser": int64(0)}, "spec.sessions.maxPerUser", "greater than or equal to 1"},
		{"egress CIDR not a prefix", validIdentityProvider, "spec.egress", map[string]any{"allowedCIDRs": []any{"10.0.0.1"}}, "spec.egress.allowedCIDRs", "must be an IP prefix"},
		{"egress host with a wildcard", validIdentityProvider, "spec.egress", map[string]any{"allowedHosts": []any{"*.svc"}}, "spec.egress.allowedHosts[0]", "should match"},
		{"post-logout URI over http", validRelyingParty, "spec.postLogoutRedirectURIs", []any{"http://app.example/bye"}, "spec.postLogoutRedirectURIs", "must be an absolute https URL"},
		{"post-logout URI relative", validRelyingParty, "spec.postLogoutRedirectURIs", []any{"/bye"}, "spec.postLogoutRedirectURIs", "must be an absolute https URL"},
		{"post-logout URI with a fragment", validRelyingParty, "spec.postLogoutRedirectURIs", []any{"https://app.example/bye#x"}, "spec.postLogoutRedirectURIs", "must not contain a fragment"},
		{"back-channel URI over http", validRelyingParty, "spec.backchannelLogoutURI", "http://app.example/bc", "spec.backchannelLogoutURI", "must be an absolute https URL"},
		{"back-channel URI with a fragment", validRelyingParty, "spec.backchannelLogoutURI", "https://app.example/bc#x", "spec.backchannelLogoutURI", "must not contain a fragment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := decode(t, tc.base)
			set(u, tc.path, tc.value)
			err := createDryRun(u)
			if err == nil {
				t.Fatalf("the API server accepted it; want a refusal naming %s: %s", tc.wantField, tc.wantMsg)
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.wantField+":") || !strings.Contains(msg, tc.wantMsg) {
				t.Fatalf("refusal does not name %s with %q:\n%s", tc.wantField, tc.wantMsg, msg)
			}
		})
	}
}
