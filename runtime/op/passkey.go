package op

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/grants"
)

// Passkeys (WebAuthn Level 3) with github.com/go-webauthn/webauthn: the
// relying party is the issuer (RP ID its host, the one origin its
// origin), every credential is discoverable (a passkey alone signs in,
// from the login page) and every ceremony requires user verification, so
// a passkey is two factors by itself (authn.MethodPasskey). A ceremony's
// challenge travels in the sealed interaction, like everything else of a
// page in progress, and its answer is accepted once (a marker in the
// store). Credentials are kept per user in the store, sealed like the
// code generator, with an owner record per credential id that leads a
// discoverable credential to its user.

const (
	// passkeyCeremonyLifetime bounds a prompt: a challenge not answered
	// within it is refused.
	passkeyCeremonyLifetime = 5 * time.Minute
	// maxPasskeys a user may keep; a further enrolment is refused.
	maxPasskeys = 10
	// maxCredentialBytes bounds a posted WebAuthn response.
	maxCredentialBytes = 16 << 10
	// passkeyHandleBytes is the size of the random user handle (WebAuthn
	// §14.6.1: no personal data in it).
	passkeyHandleBytes = 32
)

// newPasskeyRP is the WebAuthn relying party of an issuer. An issuer whose
// host is not a domain (an IP address) can have none: WebAuthn scopes
// credentials to a domain, so such a provider offers no passkeys.
func newPasskeyRP(issuer string) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("passkeys: issuer %q has no host", issuer)
	}
	timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: passkeyCeremonyLifetime, TimeoutUVD: passkeyCeremonyLifetime}
	return webauthn.New(&webauthn.Config{
		RPID:                  u.Hostname(),
		RPDisplayName:         u.Hostname(),
		RPOrigins:             []string{u.Scheme + "://" + u.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
}

// passkeyRecord is what the store keeps of a user's passkeys (sealed).
type passkeyRecord struct {
	// Handle is the user handle every passkey of the user carries.
	Handle []byte          `json:"handle"`
	Keys   []storedPasskey `json:"keys"`
}

// storedPasskey is one credential, with when it was added and last used
// (Unix seconds), for the factor page.
type storedPasskey struct {
	Credential webauthn.Credential `json:"credential"`
	Created    int64               `json:"created"`
	LastUsed   int64               `json:"last_used,omitempty"`
}

// passkeyUser is a user as the WebAuthn library sees them.
type passkeyUser struct {
	subject, name string
	rec           *passkeyRecord
}

func (u *passkeyUser) WebAuthnID() []byte          { return u.rec.Handle }
func (u *passkeyUser) WebAuthnName() string        { return u.name }
func (u *passkeyUser) WebAuthnDisplayName() string { return u.name }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(u.rec.Keys))
	for i, k := range u.rec.Keys {
		out[i] = k.Credential
	}
	return out
}

// passkeysOffered: the platform team named passkeys in a level, the
// provider can run their ceremonies and its user source keeps them.
func (sv *served) passkeysOffered() bool {
	return sv.passkeyRP != nil && slices.Contains(sv.authMethods, authn.MethodPasskey) && sv.authn().Names(authn.MethodPasskey)
}

// passkeySignInOffered: the login page shows the passkey button when a
// passkey alone reaches the request's level.
func (sv *served) passkeySignInOffered(req *grants.Request) bool {
	return sv.passkeysOffered() && sv.authn().Meets(req.ACR, []string{authn.MethodHWK})
}

// passkeyOwnerAD binds a sealed owner record to its credential.
func passkeyOwnerAD(credentialID []byte) string {
	return "passkey-owner\x00" + base64.RawURLEncoding.EncodeToString(credentialID)
}

// loadPasskeys opens a user's record; a user without passkeys gets an
// empty one. An error is the store's, or a record no key opens.
func (p *Provider) loadPasskeys(ctx context.Context, sv *served, subject string) (*passkeyRecord, error) {
	sealed, err := p.factors().Passkeys(ctx, subject)
	if errors.Is(err, grants.ErrNotFound) {
		return &passkeyRecord{}, nil
	}
	if err != nil {
		return nil, err
	}
	plain, err := sv.openFactor(subject, sealed)
	if err != nil {
		return nil, err
	}
	var rec passkeyRecord
	if err := json.Unmarshal([]byte(plain), &rec); err != nil {
		return nil, fmt.Errorf("passkeys: stored record: %w", err)
	}
	return &rec, nil
}

// savePasskeys stores a user's record sealed, its lifetime started again,
// and the owner record of each credential in touched (new or just used).
func (p *Provider) savePasskeys(ctx context.Context, sv *served, subject string, rec *passkeyRecord, touched ...[]byte) error {
	if len(rec.Keys) == 0 {
		return p.factors().DeletePasskeys(ctx, subject)
	}
	plain, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	sealed, err := sv.sealFactor(subject, string(plain))
	if err != nil {
		return err
	}
	if err := p.factors().PutPasskeys(ctx, subject, sealed, factorLifetime); err != nil {
		return err
	}
	for _, id := range touched {
		owner, err := sv.sealFactor(passkeyOwnerAD(id), subject)
		if err != nil {
			return err
		}
		if err := p.factors().PutPasskeyOwner(ctx, id, owner, factorLifetime); err != nil {
			return err
		}
	}
	return nil
}

// passkeyOwner is the subject a credential id belongs to, or
// grants.ErrNotFound.
func (p *Provider) passkeyOwner(ctx context.Context, sv *served, credentialID []byte) (string, error) {
	sealed, err := p.factors().PasskeyOwner(ctx, credentialID)
	if err != nil {
		return "", err
	}
	return sv.openFactor(passkeyOwnerAD(credentialID), sealed)
}

// passkeyStage is the page a step-up to a passkey shows: the prompt for
// one of the user's passkeys, or enrolment for a user who has none. A
// store that fails shows the prompt, whose answer then reports it.
func (p *Provider) passkeyStage(ctx context.Context, sv *served, subject string) string {
	if rec, err := p.loadPasskeys(ctx, sv, subject); err == nil && len(rec.Keys) == 0 {
		return grants.StagePasskeyEnrol
	}
	return grants.StagePasskey
}

// beginPasskey starts the ceremony the interaction's page offers, keeps
// its session data in the interaction (sealed with it) and returns the
// options for navigator.credentials as JSON; "" when the page offers no
// passkey.
func (p *Provider) beginPasskey(ctx context.Context, sv *served, rec *grants.Interaction) (string, error) {
	var (
		options any
		session *webauthn.SessionData
		err     error
	)
	uv := webauthn.WithUserVerification(protocol.VerificationRequired)
	switch {
	case rec.Stage == grants.StageLogin && sv.passkeySignInOffered(&rec.Request):
		options, session, err = sv.passkeyRP.BeginDiscoverableLogin(uv)
	case rec.Stage == grants.StagePasskey:
		var u *passkeyUser
		if u, err = p.passkeyUserOf(ctx, sv, rec.Subject); err == nil {
			options, session, err = sv.passkeyRP.BeginLogin(u, uv)
		}
	case rec.Stage == grants.StagePasskeyEnrol:
		var u *passkeyUser
		if u, err = p.passkeyUserOf(ctx, sv, rec.Subject); err == nil {
			if len(u.rec.Handle) == 0 {
				u.rec.Handle = []byte(grants.NewSecret()[:passkeyHandleBytes])
			}
			options, session, err = sv.passkeyRP.BeginRegistration(u,
				webauthn.WithExclusions(webauthn.Credentials(u.WebAuthnCredentials()).CredentialDescriptors()))
		}
	default:
		return "", nil
	}
	if err != nil {
		return "", err
	}
	sess, err := json.Marshal(session)
	if err != nil {
		return "", err
	}
	opts, err := json.Marshal(options)
	if err != nil {
		return "", err
	}
	rec.Passkey = string(sess)
	return string(opts), nil
}

// passkeyUserOf is a signed-in user with their passkeys, named as the
// user source knows them (their subject when it cannot say).
func (p *Provider) passkeyUserOf(ctx context.Context, sv *served, subject string) (*passkeyUser, error) {
	rec, err := p.loadPasskeys(ctx, sv, subject)
	if err != nil {
		return nil, err
	}
	name := subject
	if src := p.userSource(); src != nil {
		if u, err := src.Lookup(ctx, subject); err == nil && u.Username != "" {
			name = u.Username
		}
	}
	return &passkeyUser{subject: subject, name: name, rec: rec}, nil
}

// passkeyCeremony is the session data of the interaction's ceremony, once:
// a second answer to one challenge is refused (a replay). ok false: no
// ceremony, or answered before. An error is the store's.
func (p *Provider) passkeyCeremony(ctx context.Context, in *interaction) (*webauthn.SessionData, bool, error) {
	var session webauthn.SessionData
	if err := json.Unmarshal([]byte(in.rec().Passkey), &session); err != nil || session.Challenge == "" {
		return nil, false, nil
	}
	fresh, err := p.grants.SpendPasskeyChallenge(ctx, session.Challenge, interactionLifetime)
	if err != nil {
		return nil, false, err
	}
	if !fresh {
		p.securityEvent(eventReplay, in.client.ClientID, "passkey answer used twice")
	}
	return &session, fresh, nil
}

// usePasskey records a successful assertion in the user's record: the
// counter and flags the library updated, when it was used.
func usePasskey(rec *passkeyRecord, cred *webauthn.Credential, now time.Time) {
	for i := range rec.Keys {
		if bytes.Equal(rec.Keys[i].Credential.ID, cred.ID) {
			rec.Keys[i].Credential = *cred
			rec.Keys[i].LastUsed = now.Unix()
		}
	}
}

// offerPasskey decides the enrolment offer after a password sign-in: a
// user with no second factor (no passkey, no code generator) is offered,
// once per interaction, to add a passkey, and may skip it (a level that
// needs one asks through the step-up instead, without the skip). Not
// after any other method, and not when the provider offers no passkeys.
// A store that fails makes no offer.
func (p *Provider) offerPasskey(ctx context.Context, sv *served, rec *grants.Interaction, sess *grants.Session) bool {
	if rec.EnrolOffered || !sv.passkeysOffered() || !slices.Equal(sess.MethodNames(), []string{authn.MethodPassword}) {
		return false
	}
	if _, err := p.factors().TOTP(ctx, sess.Subject); !errors.Is(err, grants.ErrNotFound) {
		return false
	}
	if keys, err := p.loadPasskeys(ctx, sv, sess.Subject); err != nil || len(keys.Keys) > 0 {
		return false
	}
	rec.EnrolOffered = true
	return true
}
