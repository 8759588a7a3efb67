package ida

import (
	"encoding/json"
	"time"
)

// Result holds, per target, the claims the request releases: each member
// is a top-level claim of the ID Token or UserInfo response, ready to merge
// into it. verified_claims is absent where nothing is released.
type Result struct {
	IDToken  map[string]json.RawMessage `json:"id_token"`
	UserInfo map[string]json.RawMessage `json:"userinfo"`
	// IDTokenReleases and UserInfoReleases describe each object of the
	// target's verified_claims, in order, without values: what an audit
	// record needs, without parsing the encoded claims again.
	IDTokenReleases  []Release `json:"-"`
	UserInfoReleases []Release `json:"-"`
}

// Release describes one released verified_claims object: its
// verification's trust_framework ("" when it has none) and the names of
// its claims members (none for an error object or an empty match).
type Release struct {
	TrustFramework string
	Claims         []string
}

// releases describes a verified_claims value: one object or an array of
// them.
func releases(vc *value) []Release {
	var objs []*value
	switch vc.kind {
	case kObject:
		objs = []*value{vc}
	case kArray:
		for i := range vc.arr {
			if vc.arr[i].kind == kObject {
				objs = append(objs, &vc.arr[i])
			}
		}
	}
	out := make([]Release, 0, len(objs))
	for _, o := range objs {
		var r Release
		if ver := o.get("verification"); ver != nil && ver.kind == kObject {
			if tf := ver.get("trust_framework"); tf.isString() {
				r.TrustFramework = tf.str
			}
		}
		if cl := o.get("claims"); cl != nil && cl.kind == kObject {
			r.Claims = make([]string, 0, len(cl.obj))
			for i := range cl.obj {
				r.Claims = append(r.Claims, cl.obj[i].name)
			}
		}
		out = append(out, r)
	}
	return out
}

// Target names where released claims go; EvaluateFor decides for the
// targets asked for only.
type Target uint8

const (
	TargetIDToken Target = 1 << iota
	TargetUserInfo
	TargetAll = TargetIDToken | TargetUserInfo
)

// Evaluate decides what to release for one request and one person's
// dataset at time now (the clock max_age and years_ago use). It never
// fails: what cannot be released is left out (IDA §5.7).
func (e *Engine) Evaluate(r *Request, ds *Dataset, now time.Time) *Result {
	return e.EvaluateFor(r, ds, now, TargetAll)
}

// EvaluateFor is Evaluate for the given targets only: the token endpoint
// needs the ID token's claims, UserInfo its own, and neither pays for the
// other's. A target not asked for has a nil map and no releases.
func (e *Engine) EvaluateFor(r *Request, ds *Dataset, now time.Time, targets Target) *Result {
	c := &evalCtx{e: e, now: now}
	views := e.trustedViews(ds)
	res := &Result{}
	buf := make([]byte, 0, 1024)
	if targets&TargetIDToken != 0 {
		res.IDToken = map[string]json.RawMessage{}
		buf = c.target(&r.idToken, ds, views, res.IDToken, &res.IDTokenReleases, buf)
	}
	if targets&TargetUserInfo == 0 {
		return res
	}
	res.UserInfo = map[string]json.RawMessage{}
	buf = c.target(&r.userInfo, ds, views, res.UserInfo, &res.UserInfoReleases, buf)
	if len(r.profile) > 0 {
		vc := c.evalProfile(r.profile, views)
		start := len(buf)
		buf = appendJSON(buf, &vc)
		res.UserInfo["verified_claims"] = json.RawMessage(buf[start:len(buf):len(buf)])
		res.UserInfoReleases = releases(&vc)
	}
	return res
}

// target releases one target's top-level claims and verified_claims,
// encoding each member into buf.
func (c *evalCtx) target(t *targetRequest, ds *Dataset, views []view, dst map[string]json.RawMessage, rel *[]Release, buf []byte) []byte {
	if !t.present {
		return buf
	}
	if len(t.claims.children) > 0 {
		top, present, _ := c.evalObject(&t.claims, &ds.top)
		if present {
			for i := range top.obj {
				start := len(buf)
				buf = appendJSON(buf, &top.obj[i].val)
				dst[top.obj[i].name] = json.RawMessage(buf[start:len(buf):len(buf)])
			}
		}
	}
	if len(t.verified) == 0 {
		return buf
	}
	var outs []value
	for i := range t.verified {
		if out, ok := c.evalVerifiedClaims(&t.verified[i], views); ok {
			outs = append(outs, out)
		}
	}
	if len(outs) == 0 {
		return buf // no match: no verified_claims at all (IDA §5.7.2)
	}
	vc := outs[0]
	if t.array {
		vc = value{kind: kArray, arr: outs}
	}
	start := len(buf)
	buf = appendJSON(buf, &vc)
	dst["verified_claims"] = json.RawMessage(buf[start:len(buf):len(buf)])
	*rel = releases(&vc)
	return buf
}

// evalVerifiedClaims answers one verified_claims request object (IDA §5.6:
// each array element on its own). Of the datasets whose verification
// matches, the one releasing the most requested claims answers; ties go to
// the earlier dataset. A match with no available claim answers with
// "claims": {} (SCH §5.3 allows it, and relying parties then still learn
// that the verification matched).
func (c *evalCtx) evalVerifiedClaims(r *vcRequest, views []view) (value, bool) {
	var best value
	var bestClaims value
	found := false
	for i := range views {
		ver, present, ok := c.eval(&r.verification, &views[i].verification)
		if !ok || !present {
			continue
		}
		claims, _, _ := c.eval(&r.claims, &views[i].claims)
		if claims.kind != kObject {
			claims = value{kind: kObject, obj: []member{}}
		}
		if !found || len(claims.obj) > len(bestClaims.obj) {
			best, bestClaims, found = ver, claims, true
		}
	}
	if !found {
		return value{}, false
	}
	pruneDerivedClaims(&best, &bestClaims)
	return value{kind: kObject, obj: []member{
		{name: "verification", val: best},
		{name: "claims", val: bestClaims},
	}}, true
}
