package op

import (
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// checkIDTokenHint: an id_token_hint is an ID token this provider issued
// (its signature verifies with a published key, its iss is the issuer);
// its subject is who the client expects to be signed in, which nextStage
// then holds the session to (OIDC Core §3.1.2.1). An expired one is still
// a good hint.
func checkIDTokenHint(a *authzCtx) *oauthError {
	if a.idTokenHint == "" {
		return nil
	}
	sub, err := a.sv.ownIDTokenSubject(a.idTokenHint, a.p.now())
	if err != nil {
		return errInvalidRequest("id_token_hint " + err.Error())
	}
	a.req.HintSubject = sub
	return nil
}

// ownIDTokenSubject verifies an ID token this provider signed and returns
// its subject.
func (sv *served) ownIDTokenSubject(raw string, now time.Time) (string, error) {
	h, err := sv.ownIDToken(raw, now)
	if err != nil {
		return "", err
	}
	return h.Subject, nil
}

// ownIDTokenClaims are what a hint's checks read of it.
type ownIDTokenClaims struct {
	jwt.Claims
	SID string `json:"sid,omitempty"`
}

// ownIDToken verifies an ID token this provider signed: a published key's
// signature, this issuer, a subject. Its expiry is not checked: an
// expired ID token is still a good hint (OIDC Core §3.1.2.1, RP-Initiated
// Logout 1.0 §2).
func (sv *served) ownIDToken(raw string, now time.Time) (*ownIDTokenClaims, error) {
	var algs []jose.SignatureAlgorithm
	for _, a := range sv.provider.SigningAlgorithms {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	if strings.Count(raw, ".") == 4 {
		// The provider holds no key to decrypt with; the client has the
		// signed ID token inside (OIDC Core §3.1.2.1).
		return nil, errors.New("is encrypted: send the signed ID token inside it")
	}
	tok, err := jwt.ParseSigned(raw, algs)
	if err != nil || len(tok.Headers) != 1 {
		return nil, errors.New("is not a JWT signed with the provider's algorithms")
	}
	// The provider signs other JWTs with the same keys (at+jwt,
	// logout+jwt, ...); only an ID token is a hint.
	if typ, _ := tok.Headers[0].ExtraHeaders[jose.HeaderType].(string); typ != "" && !strings.EqualFold(typ, "JWT") {
		return nil, errors.New("is not an ID token")
	}
	kid := tok.Headers[0].KeyID
	for _, k := range sv.snap.Keys.Published(now) {
		if k.ID != kid {
			continue
		}
		pub, err := k.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("cannot be checked: %w", err)
		}
		var cl ownIDTokenClaims
		if err := tok.Claims(pub.Key, &cl); err != nil {
			return nil, errors.New("signature does not verify")
		}
		if cl.Issuer != sv.issuer {
			return nil, errors.New("was issued by another provider")
		}
		if cl.Subject == "" {
			return nil, errors.New("has no sub")
		}
		return &cl, nil
	}
	return nil, errors.New("was not signed with a key of this provider")
}
