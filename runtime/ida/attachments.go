package ida

import (
	"slices"
	"strings"
)

// releaseAttachments returns the evidence attachments the provider offers
// (ATT §4): embedded ones (content inline) when "embedded" is
// supported, external ones (url + digest) when "external" is and their
// digest algorithm is one the provider publishes. Each is released whole,
// so an external attachment keeps its digest (and access token, if any).
// Items that are neither valid embedded nor valid external are left out.
func (e *Engine) releaseAttachments(d *value) (value, bool) {
	if d.kind != kArray {
		return value{}, false
	}
	var out []value
	for i := range d.arr {
		a := &d.arr[i]
		if a.kind != kObject {
			continue
		}
		if a.has("content") {
			if e.embedded && validEmbedded(a) {
				out = append(out, *a)
			}
			continue
		}
		if e.external && e.validExternal(a) {
			out = append(out, *a)
		}
	}
	if len(out) == 0 {
		return value{}, false
	}
	return value{kind: kArray, arr: out}, true
}

// validEmbedded: content_type and base64 content are required; multipart
// and message types are not allowed (ATT §4.1).
func validEmbedded(a *value) bool {
	ct, content := a.get("content_type"), a.get("content")
	if !ct.isString() || !content.isString() || !strings.Contains(ct.str, "/") {
		return false
	}
	lower := strings.ToLower(ct.str)
	return !strings.HasPrefix(lower, "multipart/") && !strings.HasPrefix(lower, "message/")
}

// validExternal: url and digest {alg, value} are required (ATT §4.2).
func (e *Engine) validExternal(a *value) bool {
	if !a.get("url").isString() {
		return false
	}
	dg := a.get("digest")
	if dg == nil || dg.kind != kObject {
		return false
	}
	alg := dg.get("alg")
	return alg.isString() && dg.get("value").isString() && slices.Contains(e.digestAlgs, alg.str)
}
