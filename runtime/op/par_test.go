package op

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
)

// TestCheckClientForPAR: a pushed request names no other client than the
// authenticated one and pushes no request_uri (RFC 9126 §2.1).
func TestCheckClientForPAR(t *testing.T) {
	_, sv := servedFor(t)
	cases := []struct {
		name   string
		params url.Values
		code   string
	}{
		{"client_id may be left out", url.Values{}, ""},
		{"client_id of the authenticated client", url.Values{"client_id": {clientPost}}, ""},
		{"client_id of another client", url.Values{"client_id": {clientBasic}}, "invalid_request"},
		{"request_uri must not be pushed", url.Values{"request_uri": {requestURIPrefix + "x"}}, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := readAuthzRequest(tc.params)
			err := checkClientForPAR(a, sv.clients[clientPost])
			if got := codeOf(err); got != tc.code {
				t.Fatalf("got %q, want %q", got, tc.code)
			}
			if err == nil && a.req.ClientID != clientPost {
				t.Fatalf("client_id %q", a.req.ClientID)
			}
		})
	}
}

// TestLoadPushedRequest: a request_uri is this provider's, one-time,
// unexpired and its client's (RFC 9126 §4); the pushed parameters replace
// the query's.
func TestLoadPushedRequest(t *testing.T) {
	p, _ := servedFor(t)
	now := p.now()
	push := func(clientID string, exp time.Time) string {
		id, err := p.grants.Push(t.Context(), &grants.Request{ClientID: clientID, Scope: "openid", ViaPAR: true, ExpiresAt: exp.Unix()}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return requestURIPrefix + id
	}
	used := push(clientBasic, now.Add(time.Minute))
	if err := p.loadPushedRequest(t.Context(), readAuthzRequest(url.Values{"client_id": {clientBasic}, "request_uri": {used}})); err != nil {
		t.Fatal(err)
	}
	used2 := push(clientBasic, now.Add(time.Minute))
	cases := []struct {
		name, clientID, requestURI, code string
	}{
		{"pushed request of the client", clientBasic, push(clientBasic, now.Add(time.Minute)), ""},
		{"request_uri of another provider", clientBasic, "https://rp.example.com/request.jwt", "invalid_request_uri"},
		{"request_uri without an id", clientBasic, requestURIPrefix, "invalid_request_uri"},
		{"client_id is required", "", push(clientBasic, now.Add(time.Minute)), "invalid_request"},
		{"request_uri of another client", clientPost, used2, "invalid_request_uri"},
		{"the client's request_uri after another client tried it", clientBasic, used2, ""},
		{"request_uri used before", clientBasic, used, "invalid_request_uri"},
		{"request_uri expired", clientBasic, push(clientBasic, now.Add(-time.Second)), "invalid_request_uri"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := readAuthzRequest(url.Values{"client_id": {tc.clientID}, "request_uri": {tc.requestURI}, "scope": {"openid profile"}})
			err := p.loadPushedRequest(t.Context(), a)
			if got := codeOf(err); got != tc.code {
				t.Fatalf("got %q (%v), want %q", got, err, tc.code)
			}
			if err == nil && (a.req.Scope != "openid" || !a.req.ViaPAR || a.responseType != "code") {
				t.Fatalf("pushed parameters not in place: %+v", a.req)
			}
		})
	}
}

// TestPushBudget: a client that pushes more than its bound within a
// request_uri's lifetime gets 429 temporarily_unavailable with
// Retry-After; its pushed requests so far still work, and another client
// is not affected, however the first one floods.
func TestPushBudget(t *testing.T) {
	f := newFixture(t, func(s *config.Snapshot) { s.Provider.Security.PushedRequestsPerClient = 5 })
	push := func(clientID string) (*http.Response, map[string]any) {
		_, challenge := pkce()
		resp := f.post(config.PathPAR, url.Values{
			"response_type": {"code"}, "redirect_uri": {redirectURI}, "scope": {"openid"},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"},
		}, basicAuth(clientID, testSecret))
		return resp, decode(t, resp)
	}
	var first string
	for i := range 5 {
		resp, body := push(clientBasic)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("push %d within the bound: %d %v", i+1, resp.StatusCode, body)
		}
		if i == 0 {
			first = body["request_uri"].(string)
		}
	}
	for range 20 {
		resp, body := push(clientBasic)
		if resp.StatusCode != http.StatusTooManyRequests || body["error"] != "temporarily_unavailable" || resp.Header.Get("Retry-After") != "90" {
			t.Fatalf("push past the bound: %d %v Retry-After %q", resp.StatusCode, body, resp.Header.Get("Retry-After"))
		}
	}
	if resp, body := push(clientSigned); resp.StatusCode != http.StatusCreated {
		t.Fatalf("another client during the flood: %d %v", resp.StatusCode, body)
	}
	pg := f.get(f.browser(), f.url(config.PathAuthorize)+"?"+url.Values{"client_id": {clientBasic}, "request_uri": {first}}.Encode())
	if pg.status != http.StatusOK || pg.interaction == "" {
		t.Fatalf("a request pushed before the bound: %d %.200s", pg.status, pg.body)
	}
}
