package op

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ui"
)

// BenchmarkPasskeySignIn: the server's CPU for a passkey sign-in, beside
// BenchmarkVerifyTOTP (runtime/authn) and BenchmarkAuthenticatePassword
// (runtime/users). "verify" is the WebAuthn check alone (parse the
// answer, client data, authenticator data, the ES256 signature); "sign-in"
// is what the form does before the session starts: the challenge spent,
// the owner and the user's sealed record read and opened, the check, the
// record sealed and written back (memory store). The authenticator's
// signing is outside the timer.
func BenchmarkPasskeySignIn(b *testing.B) {
	f := newPasskeyFixture(b, nil)
	key := newSoftKey(b, f.origin(), true)
	enrolPasskey(b, f, f.browser(), key)
	sv := f.p.served.Load()
	ctx := context.Background()
	rec, err := f.p.loadPasskeys(ctx, sv, testSubject)
	if err != nil {
		b.Fatal(err)
	}
	uv := webauthn.WithUserVerification(protocol.VerificationRequired)

	b.Run("verify", func(b *testing.B) {
		options, session, err := sv.passkeyRP.BeginDiscoverableLogin(uv)
		if err != nil {
			b.Fatal(err)
		}
		opts, _ := json.Marshal(options)
		answer := []byte(key.get(string(opts)))
		user := &passkeyUser{subject: testSubject, name: testSubject, rec: rec}
		find := func(rawID, userHandle []byte) (webauthn.User, error) { return user, nil }
		for b.Loop() {
			parsed, err := protocol.ParseCredentialRequestResponseBytes(answer)
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := sv.passkeyRP.ValidatePasskeyLogin(find, *session, parsed); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("sign-in", func(b *testing.B) {
		c := sv.clients[clientBasic]
		for range b.N {
			b.StopTimer()
			options, session, err := sv.passkeyRP.BeginDiscoverableLogin(uv)
			if err != nil {
				b.Fatal(err)
			}
			opts, _ := json.Marshal(options)
			sess, _ := json.Marshal(session)
			in := &interaction{
				form:   url.Values{ui.FieldCredential: {key.get(string(opts))}},
				sealed: &sealedInteraction{Interaction: grants.Interaction{Passkey: string(sess)}},
				client: c,
			}
			b.StartTimer()
			if subject, _, err := f.p.verifyDiscoverable(ctx, sv, in, f.clock.now()); err != nil || subject != testSubject {
				b.Fatalf("sign-in: %q, %v", subject, err)
			}
		}
	})
}
