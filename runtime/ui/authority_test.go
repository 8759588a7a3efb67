package ui

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestConsentSaysWhomYouActFor: an authority claim is described for people
// and names the entities, escaped, in English and Japanese.
func TestConsentSaysWhomYouActFor(t *testing.T) {
	r := renderer(t)
	for lang, want := range map[string][]string{
		English:  {"Your authority to act for a company or another person", `<p class="acts-for" dir="auto">You act for 株式会社サンプル, A&amp;B &lt;Ltd&gt;</p>`},
		Japanese: {"法人や他の人を代理する権限", `<p class="acts-for" dir="auto">あなたは 株式会社サンプル、A&amp;B &lt;Ltd&gt; の代理として行動します</p>`},
	} {
		w := httptest.NewRecorder()
		if err := r.Consent(w, ConsentData{Lang: lang, Action: "/c", Claims: []ConsentClaim{
			{Name: "given_name", Verified: true},
			{Name: "authority", Verified: true, TrustFrameworks: []string{"jp_gbizid_v1"}, ActsFor: []string{"株式会社サンプル", "A&B <Ltd>"}},
		}}); err != nil {
			t.Fatal(err)
		}
		body := w.Body.String()
		for _, s := range want {
			if !strings.Contains(body, s) {
				t.Errorf("%s: missing %q in\n%s", lang, s, body)
			}
		}
		if strings.Count(body, "acts-for") != 1 {
			t.Errorf("%s: acts-for shown %d times, want once (the authority claim only)", lang, strings.Count(body, "acts-for"))
		}
	}
}
