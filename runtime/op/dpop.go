package op

import (
	"context"
	"net/http"

	"github.com/idaop/ida-operator/runtime/op/dpop"
)

// verifyDPoP checks the request's DPoP proof for the endpoint at url (and,
// at a resource, the access token it must hash), then records its jti so
// it is never accepted again.
func (p *Provider) verifyDPoP(ctx context.Context, sv *served, r *http.Request, url, accessToken string) (*dpop.Proof, *oauthError) {
	vals := r.Header.Values(dpop.Header)
	if len(vals) != 1 {
		return nil, errInvalidDPoP("exactly one DPoP header is required")
	}
	proof, err := dpop.Verify(vals[0], dpop.Check{
		Method: r.Method, URL: url, AccessToken: accessToken,
		Algorithms: sv.sec.ClientSigningAlgorithms, Now: p.now(),
	})
	if err != nil {
		return nil, errInvalidDPoP(err.Error())
	}
	if sv.sec.RequireDPoPNonce && !sv.validDPoPNonce(proof.Nonce, p.now()) {
		desc := "the DPoP proof needs the nonce in the DPoP-Nonce header"
		if proof.Nonce != "" {
			desc = "the DPoP proof's nonce is not current; use the one in the DPoP-Nonce header"
		}
		return nil, errUseDPoPNonce(desc, sv.dpopNonce(p.now()))
	}
	fresh, serr := p.grants.SpendDPoPProof(ctx, proof.ReplayKey(), 2*dpop.DefaultLeeway)
	if serr != nil {
		return nil, p.storeFailed(serr)
	}
	if !fresh {
		p.securityEvent(eventReplay, "", "DPoP proof")
		return nil, errInvalidDPoP("the DPoP proof was already used")
	}
	return proof, nil
}

// offerDPoPNonce sends the current nonce with an answer to a request that
// carried a proof, so the client's next proof needs no retry (RFC 9449
// §8.2).
func (p *Provider) offerDPoPNonce(w http.ResponseWriter, sv *served, carriedProof bool) {
	if carriedProof && sv.sec.RequireDPoPNonce {
		w.Header().Set(DPoPNonceHeader, sv.dpopNonce(p.now()))
	}
}

// tokenDPoP is the token endpoint's DPoP rule: a proof, when sent, must be
// valid and binds the tokens; the client's registration or the provider's
// profile can require one.
func (p *Provider) tokenDPoP(ctx context.Context, sv *served, r *http.Request, c *client, url string) (*dpop.Proof, *oauthError) {
	if r.Header.Get(dpop.Header) == "" {
		if sv.requireDPoP(c) {
			return nil, errInvalidDPoP("a DPoP proof is required")
		}
		return nil, nil
	}
	return p.verifyDPoP(ctx, sv, r, url, "")
}
