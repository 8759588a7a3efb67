package op

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
)

// introspection is the answer of the introspection endpoint (RFC 7662
// §2.2): active, and for an active token what a resource server needs to
// decide; cnf carries a DPoP-bound token's key thumbprint (RFC 9449 §6.2).
type introspection struct {
	Active    bool               `json:"active"`
	Scope     string             `json:"scope,omitempty"`
	ClientID  string             `json:"client_id,omitempty"`
	Subject   string             `json:"sub,omitempty"`
	Audience  json.RawMessage    `json:"aud,omitempty"`
	Issuer    string             `json:"iss,omitempty"`
	IssuedAt  int64              `json:"iat,omitempty"`
	ExpiresAt int64              `json:"exp,omitempty"`
	TokenType string             `json:"token_type,omitempty"`
	Cnf       *introspectionConf `json:"cnf,omitempty"`
}

type introspectionConf struct {
	JKT string `json:"jkt"`
}

// inactive is the whole answer for a token the caller learns nothing of.
var inactive = &introspection{Active: false}

// introspect is the introspection endpoint (RFC 7662): the caller
// authenticates as a client and names an access token; the answer
// describes it when it is active and the caller's own.
func (p *Provider) introspect(sv *served, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, caller, tok, err := p.readNamedToken(sv, r, config.PathIntrospect)
	if err != nil {
		writeJSONError(w, err)
		return
	}
	rec, serr := p.grants.AccessToken(ctx, tok)
	switch {
	case errors.Is(serr, grants.ErrNotFound):
		rec = nil
	case serr != nil:
		writeJSONError(w, p.storeFailed(serr))
		return
	}
	answer := describeToken(sv, caller, rec, p.now())
	if !wantsJWT(r) {
		writeJSON(w, http.StatusOK, answer)
		return
	}
	// RFC 9701 §5: signed, then encrypted when the caller registered
	// introspection_encrypted_response_alg.
	to, oerr := p.encryptionRecipient(ctx, caller, caller.IntrospectionEncryption(), "introspection response")
	if oerr != nil {
		writeJSONError(w, oerr)
		return
	}
	jwt, jerr := p.signIntrospection(sv, caller, answer)
	if jerr != nil {
		writeJSONError(w, p.signingFailed("the introspection response", caller.ClientID, jerr))
		return
	}
	if jwt, jerr = to.seal(jwt); jerr != nil {
		p.log.Error("encrypting the introspection response failed", "client_id", caller.ClientID, "error", jerr)
		writeJSONError(w, errServer("encrypting the response failed"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", introspectionJWT)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(jwt))
}

// introspectionJWT is the media type, and the JWT typ, of a signed
// introspection response (RFC 9701 §4, §5).
const introspectionJWT = "application/token-introspection+jwt"

// wantsJWT: the caller asked for a signed response (RFC 9701 §4).
func wantsJWT(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
			if mt == introspectionJWT {
				return true
			}
		}
	}
	return false
}

// signIntrospection is a signed introspection response (RFC 9701 §5): the
// answer as the token_introspection claim, for the caller, signed with
// the provider's default algorithm so a resource server can keep it as
// evidence of what the provider said.
func (p *Provider) signIntrospection(sv *served, caller *client, answer *introspection) (string, error) {
	body, err := json.Marshal(answer)
	if err != nil {
		return "", err
	}
	now := p.now()
	claims := map[string]json.RawMessage{
		"iss":                 jsonString(sv.issuer),
		"aud":                 jsonString(caller.ClientID),
		"iat":                 jsonInt(now.Unix()),
		"token_introspection": body,
	}
	return signClaims(sv, sv.sec.DefaultSigningAlgorithm(), "token-introspection+jwt", claims, now)
}

// describeToken decides what the caller learns about an access token
// record (nil: unknown, revoked or spent). The client the token was issued
// to may see it, and a client registered as a resource server may see any
// client's; for anyone else, and for a token that expired or whose client
// was disabled or removed, the answer is active: false and nothing more
// (RFC 7662 §2.2), so the answer never tells whether a token exists.
// Refresh tokens are not introspected: resource servers never see them.
func describeToken(sv *served, caller *client, rec *grants.Token, now time.Time) *introspection {
	if rec == nil || (rec.ClientID != caller.ClientID && !caller.ResourceServer) || now.Unix() >= rec.ExpiresAt {
		return inactive
	}
	owner, ok := sv.clients[rec.ClientID]
	if !ok || owner.Disabled {
		return inactive
	}
	in := &introspection{
		Active: true, Scope: sv.grantedScope(owner, rec.Scope), ClientID: rec.ClientID, Subject: subjectFor(sv, owner, rec.Subject),
		Audience: jsonAudience(tokenAudience(sv, rec.Resources)), Issuer: sv.issuer, IssuedAt: rec.IssuedAt, ExpiresAt: rec.ExpiresAt, TokenType: "Bearer",
	}
	if rec.JKT != "" {
		in.TokenType, in.Cnf = "DPoP", &introspectionConf{JKT: rec.JKT}
	}
	return in
}
