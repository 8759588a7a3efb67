package op

import (
	"context"
	"net/http"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/store"
)

// revoke is the revocation endpoint (RFC 7009): the client authenticates
// and names one of its tokens; a refresh token takes its whole grant with
// it. Unknown tokens, and tokens of other clients, get the same 200.
func (p *Provider) revoke(st *state, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, perr := readParams(r)
	if perr != nil {
		writeJSONError(w, perr)
		return
	}
	c, err := p.authenticateClient(ctx, st, r, form, st.url(config.PathRevoke))
	if err != nil {
		writeJSONError(w, err)
		return
	}
	tok := form.Get("token")
	if tok == "" {
		writeJSONError(w, errInvalidRequest("token is required"))
		return
	}
	kinds := []store.Kind{store.KindAccessToken, store.KindRefreshToken}
	if form.Get("token_type_hint") == "refresh_token" {
		kinds = []store.Kind{store.KindRefreshToken, store.KindAccessToken}
	}
	for _, k := range kinds {
		if p.revokeToken(ctx, c, k, storeKey(tok)) {
			break
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// revokeToken deletes a token of the client's; it reports whether the
// token was found.
func (p *Provider) revokeToken(ctx context.Context, c *client, kind store.Kind, key string) bool {
	rec, err := getJSON[tokenRecord](ctx, p.store, kind, key)
	if err != nil {
		return false
	}
	if rec.ClientID != c.ClientID {
		return true // not this client's: say nothing, change nothing
	}
	if kind == store.KindRefreshToken {
		p.revokeGrant(ctx, rec.GrantID)
	}
	_ = p.store.Delete(ctx, kind, key)
	return true
}
