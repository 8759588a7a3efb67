package grants

import (
	"time"

	"github.com/idaop/ida-operator/runtime/store"
)

// Request is an authorization request that passed every check: what a
// pushed request, an interaction and, in part, a code carry.
type Request struct {
	ClientID      string `json:"client_id"`
	RedirectURI   string `json:"redirect_uri"`
	Scope         string `json:"scope"`
	State         string `json:"state,omitempty"`
	Nonce         string `json:"nonce,omitempty"`
	CodeChallenge string `json:"code_challenge"`
	Claims        string `json:"claims,omitempty"`
	Purpose       string `json:"purpose,omitempty"`
	Prompt        string `json:"prompt,omitempty"`
	MaxAge        *int64 `json:"max_age,omitempty"`
	UILocales     string `json:"ui_locales,omitempty"`
	DPoPJKT       string `json:"dpop_jkt,omitempty"`
	// Resources are the resource indicators the request names (RFC 8707).
	Resources []string `json:"resource,omitempty"`
	// HintSubject is the subject of a verified id_token_hint: the user the
	// client expects to be signed in.
	HintSubject string `json:"hint_sub,omitempty"`
	// ACR is the authentication level the sign-in must reach (package
	// authn's Target); empty when the provider declares no levels.
	ACR string `json:"acr,omitempty"`
	// ACRValues are the acr values the request named, space separated in
	// order of preference: the ID token states the first one met.
	ACRValues string `json:"acr_values,omitempty"`
	// ViaPAR: the request came by PAR, so it is integrity protected.
	ViaPAR bool `json:"via_par,omitempty"`
	// Signed: the request came in a request object the client signed
	// (JAR), so it is integrity protected too.
	Signed bool `json:"signed,omitempty"`
	// ExpiresAt bounds a pushed request, whatever the store's clock says.
	ExpiresAt int64 `json:"exp,omitempty"`
}

// IntegrityProtected: the request could not be changed on its way from
// the client (PAR or JAR), which the IDA engine asks of some requests.
func (r *Request) IntegrityProtected() bool { return r.ViaPAR || r.Signed }

// Info is what an authorization granted; codes, access and refresh tokens
// all carry it.
type Info struct {
	GrantID   string `json:"grant_id"`
	ClientID  string `json:"client_id"`
	Subject   string `json:"sub"`
	Scope     string `json:"scope"`
	Claims    string `json:"claims,omitempty"`
	Purpose   string `json:"purpose,omitempty"`
	ViaPAR    bool   `json:"via_par,omitempty"`
	Signed    bool   `json:"signed,omitempty"`
	AuthTime  int64  `json:"auth_time"`
	SessionID string `json:"sid,omitempty"`
	// Resources are the resource indicators (RFC 8707) the record stands
	// for: a code's and a refresh token's what the authorization named,
	// an access token's its audience. Empty means none were named.
	Resources []string `json:"resource,omitempty"`
	// ACR and AMR say how the user signed in (the ID token's acr and
	// amr); ACR is empty when the provider declares no levels.
	ACR string   `json:"acr,omitempty"`
	AMR []string `json:"amr,omitempty"`
}

// SignedInFor is how long ago the user signed in, to the millisecond
// where the session knows it.
func (s *Session) SignedInFor(now time.Time) time.Duration {
	if s.AuthTimeMillis != 0 {
		return now.Sub(time.UnixMilli(s.AuthTimeMillis))
	}
	return now.Sub(time.Unix(s.AuthTime, 0))
}

// IntegrityProtected: the authorization request came by PAR or JAR.
func (g *Info) IntegrityProtected() bool { return g.ViaPAR || g.Signed }

// Code is an authorization code's record.
type Code struct {
	Info
	RedirectURI   string `json:"redirect_uri"`
	CodeChallenge string `json:"code_challenge"`
	Nonce         string `json:"nonce,omitempty"`
	DPoPJKT       string `json:"dpop_jkt,omitempty"`
	ExpiresAt     int64  `json:"exp"`
}

// Token is an access or refresh token's record.
type Token struct {
	Info
	// JKT binds an access token to a DPoP key (RFC 9449 §6).
	JKT       string `json:"jkt,omitempty"`
	IssuedAt  int64  `json:"iat,omitempty"`
	ExpiresAt int64  `json:"exp"`
}

// Grant lists the tokens issued under one authorization, so that replaying
// its code or a rotated refresh token revokes all of them.
type Grant struct {
	ClientID string     `json:"client_id"`
	Revoked  bool       `json:"revoked,omitempty"`
	Tokens   []TokenRef `json:"tokens,omitempty"`
	// ExpiresAt is when the grant's last token expires.
	ExpiresAt int64 `json:"exp"`
}

// TokenRef names one token of a grant by its kind and store key.
type TokenRef struct {
	Kind store.Kind `json:"kind"`
	Key  string     `json:"key"`
}

// Session is a signed-in browser.
type Session struct {
	// SID is the session's public identifier (the ID token's sid); the
	// cookie value itself is never written anywhere.
	SID     string `json:"sid"`
	Subject string `json:"sub"`
	// AuthTime is when the user signed in, in Unix seconds (the ID
	// token's auth_time); AuthTimeMillis the same in milliseconds, for
	// max_age (0 in sessions written before it existed).
	AuthTime       int64 `json:"auth_time"`
	AuthTimeMillis int64 `json:"auth_time_ms,omitempty"`
	ExpiresAt      int64 `json:"exp"`
	// LastSeen is when the session was last used, in Unix seconds, for
	// the idle timeout; 0 in sessions written before it existed (then
	// AuthTime counts).
	LastSeen int64 `json:"seen,omitempty"`
	// Methods are the authentication methods done in this session, in
	// the order done, each with when (the password first, then any
	// second factor a step-up asked for).
	Methods []MethodUse `json:"methods,omitempty"`
	// Consents are no longer read: consent is remembered per person
	// (consents.go). Kept so that sessions written before decode.
	Consents []string `json:"consents,omitempty"`
}

// MethodUse is one authentication method done, in Unix seconds.
type MethodUse struct {
	Method string `json:"m"`
	At     int64  `json:"at"`
}

// MethodNames are the methods the session did, in order. A session
// written before methods were recorded was a password sign-in.
func (s *Session) MethodNames() []string {
	if len(s.Methods) == 0 {
		return []string{"pwd"}
	}
	out := make([]string, len(s.Methods))
	for i, m := range s.Methods {
		out[i] = m.Method
	}
	return out
}

// Interaction is a login or consent page in progress. It is not stored: it
// travels sealed in its own form (package op), and only the answer to a
// consent page leaves a marker (SpendInteraction).
type Interaction struct {
	CSRF    string  `json:"csrf"`
	Request Request `json:"request"`
	// Stage is StageLogin, StageOTP, StageOTPEnrol, StagePasskey,
	// StagePasskeyEnrol or StageConsent.
	Stage     string `json:"stage"`
	Subject   string `json:"sub,omitempty"`
	AuthTime  int64  `json:"auth_time,omitempty"`
	SessionID string `json:"sid,omitempty"`
	// AMR is how the signed-in user authenticated (RFC 8176 values), for
	// the consent page.
	AMR []string `json:"amr,omitempty"`
	// OTPSecret is the code generator secret being enrolled
	// (StageOTPEnrol): shown on the page, stored once a code confirms it.
	OTPSecret string `json:"otp_secret,omitempty"`
	// Account: the interaction is the person's own account page (or the
	// sign-in before it), for no relying party; Request is empty.
	Account bool `json:"account,omitempty"`
	// Passkey is the WebAuthn ceremony the page began (its challenge and
	// what it allows, as JSON), for the login page's passkey button,
	// StagePasskey and StagePasskeyEnrol; its answer is accepted once.
	Passkey string `json:"passkey,omitempty"`
	// EnrolOffered: after the password, this interaction offered a user
	// without a second factor to add a passkey (skippable); it offers it
	// once.
	EnrolOffered bool `json:"enrol_offered,omitempty"`
}

// The stages of an interaction.
const (
	StageLogin = "login"
	// StageStepUp is nextStage's answer for a session below the level:
	// StageOTP or StageOTPEnrol, whichever the user's factors call for.
	StageStepUp = "step_up"
	// StageOTP asks a signed-in user for a one-time code (a step-up).
	StageOTP = "otp"
	// StageOTPEnrol sets up a code generator for a user who has none.
	StageOTPEnrol = "otp_enrol"
	// StagePasskey asks a signed-in user for one of their passkeys.
	StagePasskey = "passkey"
	// StagePasskeyEnrol registers a passkey for a user who has none.
	StagePasskeyEnrol = "passkey_enrol"
	StageConsent      = "consent"
	// StageAccount is the account page, whose forms withdraw consents.
	StageAccount = "account"
)
