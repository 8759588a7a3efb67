package relyingparty

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/runtime/config"
)

// TestDecideSector: SectorReady from the registration, the provider's
// default and a fetched list, each case named after its rule.
func TestDecideSector(t *testing.T) {
	reg := func(subjectType, sectorURI string, redirects ...string) *config.Client {
		return &config.Client{SubjectType: subjectType, SectorIdentifierURI: sectorURI, RedirectURIs: redirects}
	}
	listing := func(uris ...string) *sectorCheck { return &sectorCheck{uris: uris} }
	public, pairwise := &config.Provider{}, &config.Provider{Subjects: config.Subjects{Type: config.SubjectPairwise}}
	cases := []struct {
		name    string
		reg     *config.Client
		p       *config.Provider
		fetched *sectorCheck
		reason  idav1alpha1.ConditionReason
		message string
		// verified: SectorReady was True at this generation before.
		verified bool
	}{
		{"public, no sector identifier URI", reg("", "", "https://a.example/cb", "https://b.example/cb"), public, nil, idav1alpha1.ReasonSectorResolved, "public", false},
		{"pairwise: the redirect URIs' host", reg(config.SubjectPairwise, "", "https://a.example/cb"), public, nil, idav1alpha1.ReasonSectorResolved, "sector a.example", false},
		{"pairwise by the provider's default: several hosts", reg("", "", "https://a.example/cb", "https://b.example/cb"), pairwise, nil, idav1alpha1.ReasonSectorAmbiguous, "a.example, b.example", false},
		{"a public client of a pairwise provider", reg(config.SubjectPublic, "", "https://a.example/cb", "https://b.example/cb"), pairwise, nil, idav1alpha1.ReasonSectorResolved, "public", false},
		{"several hosts under one sector identifier URI", reg(config.SubjectPairwise, "https://sector.example/uris.json", "https://a.example/cb", "https://b.example/cb"), public,
			listing("https://a.example/cb", "https://b.example/cb", "https://c.example/cb"), idav1alpha1.ReasonSectorResolved, "sector sector.example", false},
		{"the list lacks a redirect URI", reg(config.SubjectPairwise, "https://sector.example/uris.json", "https://a.example/cb", "https://b.example/cb"), public,
			listing("https://a.example/cb"), idav1alpha1.ReasonSectorIdentifierMismatch, "https://b.example/cb", false},
		{"a public client's sector identifier URI is checked too", reg(config.SubjectPublic, "https://sector.example/uris.json", "https://a.example/cb"), public,
			listing("https://a.example/cb/"), idav1alpha1.ReasonSectorIdentifierMismatch, "https://a.example/cb", false},
		{"the fetch failed", reg(config.SubjectPairwise, "https://sector.example/uris.json", "https://a.example/cb"), public,
			&sectorCheck{problem: &sectorProblem{idav1alpha1.ReasonSectorIdentifierUnreachable, "timeout"}}, idav1alpha1.ReasonSectorIdentifierUnreachable, "timeout", false},
		{"not fetched yet", reg(config.SubjectPairwise, "https://sector.example/uris.json", "https://a.example/cb"), public, nil, idav1alpha1.ReasonPending, "not fetched", false},
		{"unreachable after it was verified: the verdict stands", reg(config.SubjectPairwise, "https://sector.example/uris.json", "https://a.example/cb"), public,
			&sectorCheck{problem: &sectorProblem{idav1alpha1.ReasonSectorIdentifierUnreachable, "timeout"}}, idav1alpha1.ReasonSectorResolved, "as verified before; the latest check failed: timeout", true},
		{"a broken list after it was verified: refused", reg(config.SubjectPairwise, "https://sector.example/uris.json", "https://a.example/cb"), public,
			&sectorCheck{problem: &sectorProblem{idav1alpha1.ReasonSectorIdentifierInvalid, "is not a JSON array"}}, idav1alpha1.ReasonSectorIdentifierInvalid, "JSON array", true},
		{"a list lacking a redirect URI after it was verified: refused", reg(config.SubjectPairwise, "https://sector.example/uris.json", "https://a.example/cb"), public,
			listing("https://other.example/cb"), idav1alpha1.ReasonSectorIdentifierMismatch, "https://a.example/cb", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := decideSector(tc.reg, tc.p, tc.fetched, tc.verified)
			if got.Reason != tc.reason || got.True != (tc.reason == idav1alpha1.ReasonSectorResolved) || !strings.Contains(got.Message, tc.message) {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

// TestFetchSector: a real TLS server serving good, lying-shaped, broken
// and oversized lists, a redirect to http, and an error status.
func TestFetchSector(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/good.json", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`["https://a.example/cb", "https://b.example/cb"]`))
	})
	mux.HandleFunc("/object.json", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"redirect_uris": []}`)) })
	mux.HandleFunc("/relative.json", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`["/cb"]`)) })
	mux.HandleFunc("/huge.json", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`["https://a.example/` + strings.Repeat("x", sectorMaxBytes) + `"]`))
	})
	mux.HandleFunc("/to-http", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://a.example/uris.json", http.StatusFound)
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	hc := sectorHTTPClient(srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs)

	cases := []struct {
		path    string
		reason  idav1alpha1.ConditionReason // empty: a list
		message string
	}{
		{"/good.json", "", ""},
		{"/object.json", idav1alpha1.ReasonSectorIdentifierInvalid, "not a JSON array"},
		{"/relative.json", idav1alpha1.ReasonSectorIdentifierInvalid, "not an absolute URL"},
		{"/huge.json", idav1alpha1.ReasonSectorIdentifierInvalid, "larger than 64 KiB"},
		{"/to-http", idav1alpha1.ReasonSectorIdentifierUnreachable, "not https"},
		{"/missing.json", idav1alpha1.ReasonSectorIdentifierUnreachable, "404"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			got := fetchSector(t.Context(), hc, srv.URL+tc.path)
			if tc.reason == "" {
				if got.problem != nil || len(got.uris) != 2 {
					t.Fatalf("got %+v %+v", got, got.problem)
				}
				return
			}
			if got.problem == nil || got.problem.reason != tc.reason || !strings.Contains(got.problem.message, tc.message) {
				t.Fatalf("got %+v %+v", got, got.problem)
			}
		})
	}
	// A server the roots do not vouch for is unreachable, not trusted.
	if got := fetchSector(t.Context(), sectorHTTPClient(nil), srv.URL+"/good.json"); got.problem == nil || got.problem.reason != idav1alpha1.ReasonSectorIdentifierUnreachable {
		t.Fatalf("untrusted server: %+v", got)
	}
}

// TestSectorCheckDue: a verified list is fetched again hourly, a failure
// every minute, and any spec change at once.
func TestSectorCheckDue(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ok := sectorCheck{key: "3\nhttps://s.example/u.json", at: at}
	failed := ok
	failed.problem = &sectorProblem{idav1alpha1.ReasonSectorIdentifierUnreachable, "x"}
	cases := []struct {
		name  string
		check sectorCheck
		key   string
		now   time.Time
		want  bool
	}{
		{"verified, within the hour", ok, ok.key, at.Add(59 * time.Minute), false},
		{"verified, an hour on", ok, ok.key, at.Add(time.Hour), true},
		{"failed, within the minute", failed, ok.key, at.Add(59 * time.Second), false},
		{"failed, a minute on", failed, ok.key, at.Add(time.Minute), true},
		{"the spec changed", ok, "4\nhttps://s.example/u.json", at.Add(time.Second), true},
		{"the clock went back", ok, ok.key, at.Add(-time.Second), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.check.due(tc.key, tc.now); got != tc.want {
				t.Fatalf("due = %v, want %v", got, tc.want)
			}
		})
	}
}
