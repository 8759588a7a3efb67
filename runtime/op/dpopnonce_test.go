package op

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/idaop/ida-operator/runtime/config"
)

// With requireDPoPNonce, a proof without a current nonce is answered with
// use_dpop_nonce and the nonce to retry with (RFC 9449 §8 at the token
// endpoint, §9 at UserInfo); nothing is spent by the refusal, and every
// answer to a proof offers the current nonce.
func TestDPoPNonces(t *testing.T) {
	f := newFixture(t, func(s *config.Snapshot) { s.Provider.Security.RequireDPoPNonce = true })
	tokenURL, userinfoURL := f.url(config.PathToken), f.url(config.PathUserInfo)
	code, verifier := f.codeFor(clientPost, nil)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"code_verifier": {verifier}, "client_id": {clientPost}, "client_secret": {testSecret}}
	token := func(proof string) (*http.Response, map[string]any) {
		t.Helper()
		resp := f.post(config.PathToken, form, map[string]string{"DPoP": proof})
		return resp, decode(t, resp)
	}

	resp, body := token(f.proof("POST", tokenURL, ""))
	nonce := resp.Header.Get("DPoP-Nonce")
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "use_dpop_nonce" || nonce == "" {
		t.Fatalf("a proof without a nonce: %d %v, DPoP-Nonce %q", resp.StatusCode, body, nonce)
	}
	sv := f.p.served.Load()
	now := f.clock.now()
	for name, n := range map[string]string{
		"forged":          makeNonce([]byte("not derived from the provider's keys"), now.Unix()/int64(dpopNonceWindow.Seconds())),
		"two windows old": sv.dpopNonce(now.Add(-2 * dpopNonceWindow)),
		"not a nonce":     "x",
	} {
		if resp, body := token(f.proofNonce("POST", tokenURL, "", n)); resp.StatusCode != http.StatusBadRequest || body["error"] != "use_dpop_nonce" {
			t.Fatalf("%s nonce: %d %v", name, resp.StatusCode, body)
		}
	}

	// The refusals spent nothing: the code is redeemed with the nonce.
	resp, body = token(f.proofNonce("POST", tokenURL, "", nonce))
	if resp.StatusCode != http.StatusOK || body["token_type"] != "DPoP" || resp.Header.Get("DPoP-Nonce") != nonce {
		t.Fatalf("with the nonce: %d %v, DPoP-Nonce %q", resp.StatusCode, body, resp.Header.Get("DPoP-Nonce"))
	}
	at, _ := body["access_token"].(string)

	// UserInfo: the challenge names the error, the header the nonce.
	r := f.dpopUserinfo(at, f.proof("GET", userinfoURL, at))
	if r.status != http.StatusUnauthorized || r.body["error"] != "use_dpop_nonce" || r.header.Get("DPoP-Nonce") != nonce ||
		!strings.Contains(r.header.Get("WWW-Authenticate"), `DPoP`) || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="use_dpop_nonce"`) {
		t.Fatalf("UserInfo without a nonce: %d %v %v", r.status, r.body, r.header)
	}
	// The previous window's nonce is still good: a nonce lives 5 to 10
	// minutes.
	r = f.dpopUserinfo(at, f.proofNonce("GET", userinfoURL, at, sv.dpopNonce(now.Add(-dpopNonceWindow))))
	if r.status != http.StatusOK || r.body["sub"] != testSubject || r.header.Get("DPoP-Nonce") != nonce {
		t.Fatalf("UserInfo with the previous window's nonce: %d %v %v", r.status, r.body, r.header)
	}

	// Another replica with the same configuration accepts the nonce, and
	// a new signing key does not change the nonces while the old key is
	// in the set.
	other, err := buildServed(f.snap, f.p.ui, now)
	if err != nil {
		t.Fatal(err)
	}
	if !other.validDPoPNonce(nonce, now) {
		t.Fatal("a second replica refuses the first one's nonce")
	}
	rotated := *f.snap
	keys := *f.snap.Keys
	newer := keys.Keys[0]
	newer.ID, newer.CreatedAt, newer.PrivateJWK = "newer", now, []byte(`{"other":"material"}`)
	keys.Keys = append(keys.Keys, newer)
	rotated.Keys = &keys
	if n := nonceKeys(rotated.Keys); string(n[0]) != string(sv.nonceKeys[0]) || len(n) != len(sv.nonceKeys)+1 {
		t.Fatal("a newer key changed the key that issues nonces")
	}
}

// Without requireDPoPNonce, proofs need no nonce and answers offer none.
func TestDPoPWithoutNonces(t *testing.T) {
	f := newFixture(t)
	code, verifier := f.codeFor(clientPost, nil)
	resp := f.post(config.PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"code_verifier": {verifier}, "client_id": {clientPost}, "client_secret": {testSecret}},
		map[string]string{"DPoP": f.proof("POST", f.url(config.PathToken), "")})
	if body := decode(t, resp); resp.StatusCode != http.StatusOK || body["token_type"] != "DPoP" || resp.Header.Get("DPoP-Nonce") != "" {
		t.Fatalf("%d %v, DPoP-Nonce %q", resp.StatusCode, body, resp.Header.Get("DPoP-Nonce"))
	}
}
