package users

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// External is verified_claims a user holds at an external claim source
// (IDA §6, OIDC Core §5.6.2), as the user source returns it:
//
//	{"issuer": "https://kyc.example", "jwt": "eyJ..."}                   // aggregated
//	{"issuer": "https://kyc.example", "endpoint": "https://kyc.example/claims",
//	 "access_token": "...", "verified_claims": {...}}                     // distributed
//
// An aggregated entry is the source's signed assertion, passed on as it
// is; a distributed one is where a relying party fetches it, with the
// token to present, and a description of what the source returns (the
// shape of verified_claims, null for values the provider does not know),
// which decides whether a request asks for it. Whether the source is
// trusted and the assertion valid is the runtime's decision at release.
type External struct {
	Issuer string
	// JWT is an aggregated assertion; empty for a distributed entry.
	JWT string
	// Endpoint and AccessToken name a distributed source.
	Endpoint    string
	AccessToken string
	// VerifiedClaims describes a distributed source's content.
	VerifiedClaims json.RawMessage
}

// Distributed reports whether the entry is a reference, not an assertion.
func (x *External) Distributed() bool { return x.JWT == "" }

// Bounds of external claims: a few sources per person, an assertion the
// size of a rich ID token.
const (
	maxExternal      = 16
	maxAssertionSize = 64 << 10
	maxTokenSize     = 4096
)

var externalMembers = []string{"issuer", "jwt", "endpoint", "access_token", "verified_claims"}

// parseExternal checks a user's external_claims member; path prefixes
// errors ("users[3].external_claims"). Nothing of the values is quoted.
func parseExternal(path string, raw json.RawMessage) ([]External, error) {
	if len(raw) == 0 || isNull(raw) {
		return nil, nil
	}
	if !isArray(raw) {
		return nil, fmt.Errorf("%s: must be an array", path)
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(entries) > maxExternal {
		return nil, fmt.Errorf("%s: more than %d entries", path, maxExternal)
	}
	out := make([]External, 0, len(entries))
	for i, e := range entries {
		x, err := parseExternalEntry(fmt.Sprintf("%s[%d]", path, i), e)
		if err != nil {
			return nil, err
		}
		out = append(out, *x)
	}
	return out, nil
}

func parseExternalEntry(path string, raw json.RawMessage) (*External, error) {
	var m map[string]json.RawMessage
	if !isObject(raw) || json.Unmarshal(raw, &m) != nil {
		return nil, fmt.Errorf("%s: must be an object", path)
	}
	for k := range m {
		if !contains(externalMembers, k) {
			return nil, fmt.Errorf("%s.%s: unknown member (expected one of %s)", path, k, strings.Join(externalMembers, ", "))
		}
	}
	str := func(name string) (string, bool, error) {
		v, ok := m[name]
		if !ok {
			return "", false, nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil || s == "" {
			return "", true, fmt.Errorf("%s.%s: must be a non-empty string", path, name)
		}
		return s, true, nil
	}
	var x External
	var err error
	var has bool
	if x.Issuer, has, err = str("issuer"); err != nil {
		return nil, err
	} else if !has {
		return nil, fmt.Errorf("%s.issuer: required", path)
	}
	if !httpsURL(x.Issuer) {
		return nil, fmt.Errorf("%s.issuer: must be an https URL", path)
	}
	hasJWT := false
	if x.JWT, hasJWT, err = str("jwt"); err != nil {
		return nil, err
	}
	_, hasEndpoint := m["endpoint"]
	_, hasToken := m["access_token"]
	_, hasVC := m["verified_claims"]
	switch {
	case hasJWT && (hasEndpoint || hasToken || hasVC):
		return nil, fmt.Errorf("%s: jwt (aggregated) and endpoint, access_token, verified_claims (distributed) exclude each other", path)
	case hasJWT:
		if err := checkCompactJWS(x.JWT); err != nil {
			return nil, fmt.Errorf("%s.jwt: %v", path, err)
		}
		return &x, nil
	}
	if x.Endpoint, has, err = str("endpoint"); err != nil {
		return nil, err
	} else if !has {
		return nil, fmt.Errorf("%s: needs jwt (aggregated) or endpoint (distributed)", path)
	}
	// IDA §6.1: a distributed endpoint uses https.
	if !httpsURL(x.Endpoint) {
		return nil, fmt.Errorf("%s.endpoint: must be an https URL", path)
	}
	if x.AccessToken, has, err = str("access_token"); err != nil {
		return nil, err
	} else if !has {
		return nil, fmt.Errorf("%s.access_token: required with endpoint", path)
	}
	if len(x.AccessToken) > maxTokenSize || !isPrintableASCII(x.AccessToken) {
		return nil, fmt.Errorf("%s.access_token: must be at most %d printable ASCII characters", path, maxTokenSize)
	}
	if !hasVC {
		return nil, fmt.Errorf("%s.verified_claims: required with endpoint (what the source returns)", path)
	}
	if err := checkVerifiedShape(path+".verified_claims", m["verified_claims"]); err != nil {
		return nil, err
	}
	x.VerifiedClaims = m["verified_claims"]
	return &x, nil
}

// checkCompactJWS checks the form of a signed JWT (RFC 7515 §7.1): three
// base64url parts, a JSON header and payload. The signature is the
// runtime's to check, against the source's keys.
func checkCompactJWS(s string) error {
	if len(s) > maxAssertionSize {
		return fmt.Errorf("longer than %d KiB", maxAssertionSize>>10)
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[2] == "" {
		return fmt.Errorf("must be a signed JWT in compact form (three parts)")
	}
	for i, name := range []string{"header", "payload"} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || !isObject(b) || !json.Valid(b) {
			return fmt.Errorf("its %s is not base64url-encoded JSON", name)
		}
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return fmt.Errorf("its signature is not base64url")
	}
	return nil
}

func httpsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && u.Fragment == ""
}
