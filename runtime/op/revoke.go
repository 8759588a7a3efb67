package op

import (
	"net/http"

	"github.com/idaop/ida-operator/runtime/config"
)

// revoke is the revocation endpoint (RFC 7009): the client authenticates
// and names one of its tokens; a refresh token takes its whole grant with
// it. Unknown tokens, and tokens of other clients, get the same 200.
func (p *Provider) revoke(sv *served, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, c, tok, err := p.readNamedToken(sv, r, config.PathRevoke)
	if err != nil {
		writeJSONError(w, err)
		return
	}
	if err := p.grants.RevokeToken(ctx, tok, c.ClientID, form.Get("token_type_hint") == "refresh_token"); err != nil {
		writeJSONError(w, p.storeFailed(err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
