//go:build cgo

package op

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idaop/ida-operator/runtime/config"
)

// BenchmarkTokenSigning: the code grant of BenchmarkTokenAuthorizationCode
// with the signing key in the key Secret and in SoftHSM2, side by side in
// one run: ES256 ID tokens (rp-basic) and PS256 ones (rp-signed).
func BenchmarkTokenSigning(b *testing.B) {
	for _, store := range []string{storeSecret, storePKCS11} {
		for _, tc := range []struct{ alg, client string }{{config.ES256, clientBasic}, {config.PS256, clientSigned}} {
			b.Run(store+"-"+tc.alg, func(b *testing.B) {
				var f *fixture
				if store == storeSecret {
					f = newFixture(b)
				} else {
					f, _ = hsmFixture(b, prometheus.NewRegistry(), nil, 0)
				}
				benchTokenRequests(b, f, tc.client)
			})
		}
	}
}

// benchTokenRequests redeems b.N codes of clientID with
// client_secret_basic.
func benchTokenRequests(b *testing.B, f *fixture, clientID string) {
	h := f.p.Handler()
	codes, verifier := benchCodes(b, f, clientID, "", b.N)
	auth := basicAuth(clientID, testSecret)["Authorization"]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		form := "grant_type=authorization_code&code=" + codes[i] + "&redirect_uri=" + url.QueryEscape(redirectURI) + "&code_verifier=" + verifier
		r := httptest.NewRequest(http.MethodPost, f.url(config.PathToken), strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", auth)
		if w := serve(h, r); w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
