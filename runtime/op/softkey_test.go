package op

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"html"
	"regexp"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// softKey is a passkey authenticator in software for tests without a
// browser: it answers the options a page carries the way a browser and a
// platform authenticator would (WebAuthn §6.1 authenticator data, §5.8.1
// client data, attestation "none", ES256), always with user presence and
// verification. The browser tests use Chromium's virtual authenticator.
type softKey struct {
	t       testing.TB
	priv    *ecdsa.PrivateKey
	id      []byte
	handle  []byte
	origin  string
	counter uint32
	synced  bool // backup eligible and backed up: a synced passkey
	// noUV answers without user verification.
	noUV bool
}

func newSoftKey(t testing.TB, origin string, synced bool) *softKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &softKey{t: t, priv: priv, id: id, origin: origin, synced: synced}
}

var passkeyOptionsRE = regexp.MustCompile(`data-passkey-options="([^"]*)"`)

// pageOptions are the passkey options of a page, or "" without any.
func pageOptions(body string) string {
	m := passkeyOptionsRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

type ceremonyOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		UserVerification       string `json:"userVerification"`
		AuthenticatorSelection struct {
			ResidentKey      string `json:"residentKey"`
			UserVerification string `json:"userVerification"`
		} `json:"authenticatorSelection"`
	} `json:"publicKey"`
}

func (k *softKey) parse(options string) ceremonyOptions {
	k.t.Helper()
	var o ceremonyOptions
	if err := json.Unmarshal([]byte(options), &o); err != nil || o.PublicKey.Challenge == "" {
		k.t.Fatalf("passkey options %q: %v", options, err)
	}
	return o
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (k *softKey) clientData(typ, challenge string) []byte {
	cd, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.origin, "crossOrigin": false})
	return cd
}

// authData is the authenticator data (WebAuthn §6.1), with the attested
// credential data when attested.
func (k *softKey) authData(rpID string, attested bool) []byte {
	rp := sha256.Sum256([]byte(rpID))
	flags := byte(0x01) // UP
	if !k.noUV {
		flags |= 0x04
	}
	if k.synced {
		flags |= 0x08 | 0x10
	}
	if attested {
		flags |= 0x40
	}
	out := append(rp[:], flags)
	out = binary.BigEndian.AppendUint32(out, k.counter)
	if attested {
		out = append(out, make([]byte, 16)...) // AAGUID: none
		out = binary.BigEndian.AppendUint16(out, uint16(len(k.id)))
		out = append(out, k.id...)
		x, y := k.priv.X.FillBytes(make([]byte, 32)), k.priv.Y.FillBytes(make([]byte, 32))
		cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
		if err != nil {
			k.t.Fatal(err)
		}
		out = append(out, cose...)
	}
	return out
}

// create answers navigator.credentials.create.
func (k *softKey) create(options string) string {
	k.t.Helper()
	o := k.parse(options)
	h, err := base64.RawURLEncoding.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		k.t.Fatal(err)
	}
	k.handle = h
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(o.PublicKey.RP.ID, true)})
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{
		"id": b64(k.id), "rawId": b64(k.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64(k.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64(att), "transports": []string{"internal"},
		},
		"clientExtensionResults": map[string]any{},
	})
	return string(out)
}

// get answers navigator.credentials.get.
func (k *softKey) get(options string) string {
	k.t.Helper()
	o := k.parse(options)
	k.counter++
	if k.synced {
		k.counter = 0 // synced passkeys keep no counter
	}
	ad := k.authData(o.PublicKey.RPID, false)
	cd := k.clientData("webauthn.get", o.PublicKey.Challenge)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{
		"id": b64(k.id), "rawId": b64(k.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON": b64(cd), "authenticatorData": b64(ad), "signature": b64(sig), "userHandle": b64(k.handle),
		},
		"clientExtensionResults": map[string]any{},
	})
	return string(out)
}
