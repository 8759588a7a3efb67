package op

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/idaop/ida-operator/internal/testlog"
	"github.com/idaop/ida-operator/runtime/logsink"
)

// With audit events written in groups (logsink), each release's event is
// out before its answer: only Sync writes a deferred event, so a provider
// that answered without it would leave the event pending.
func TestAuditEventWrittenBeforeTheAnswer(t *testing.T) {
	out := &testlog.Buffer{}
	sink := logsink.New(out)
	f := newFixtureWith(t, func(o *Options) {
		o.Audit = slog.New(slog.NewJSONHandler(sink.Deferred(), nil))
		o.AuditSync = sink.Sync
	})
	// The same request in both targets, so both release (this client may
	// receive given_name only).
	both := `{"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": null}}}`
	code, verifier := f.codeFor(clientBasic, url.Values{"claims": {`{"id_token":` + both + `,"userinfo":` + both + `}`}})
	resp, tok := f.exchange(clientBasic, code, verifier)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, tok)
	}
	if logs := out.String(); strings.Count(logs, `"logger":"audit"`) != 1 || !strings.Contains(logs, `"target":"id_token"`) {
		t.Fatalf("after the token answer the sink holds %q", logs)
	}
	resp, ui := f.userinfo(tok["access_token"].(string))
	if resp.StatusCode != http.StatusOK || ui["verified_claims"] == nil {
		t.Fatalf("userinfo: %d %v", resp.StatusCode, ui)
	}
	if logs := out.String(); strings.Count(logs, `"logger":"audit"`) != 2 || !strings.Contains(logs, `"target":"userinfo"`) {
		t.Fatalf("after the UserInfo answer the sink holds %q", logs)
	}
	if strings.Contains(f.logs.String(), `"logger":"audit"`) {
		t.Fatal("audit events also went to the operational log")
	}
}
