package authn

import (
	"bytes"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// TestVerifyTOTP: the code of this step or one beside it, with the step
// it belongs to; wrong, expired, future and malformed codes refused.
func TestVerifyTOTP(t *testing.T) {
	secret := NewTOTPSecret()
	now := time.Unix(1_800_000_015, 0) // mid-step
	step := now.Unix() / 30
	code := func(at time.Time) string {
		c, err := TOTPCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	wrong := func(c string) string {
		b := []byte(c)
		b[0] = '0' + (b[0]-'0'+1)%10
		return string(b)
	}
	for _, tc := range []struct {
		name     string
		code     string
		wantOK   bool
		wantStep int64
	}{
		{"this step's code", code(now), true, step},
		{"the previous step's code (clock skew)", code(now.Add(-30 * time.Second)), true, step - 1},
		{"the next step's code (clock skew)", code(now.Add(30 * time.Second)), true, step + 1},
		{"expired: two steps old", code(now.Add(-60 * time.Second)), false, 0},
		{"two steps ahead", code(now.Add(60 * time.Second)), false, 0},
		{"a wrong code", wrong(code(now)), false, 0},
		{"too short", code(now)[:5], false, 0},
		{"too long", code(now) + "0", false, 0},
		{"not digits", "abcdef", false, 0},
		{"empty", "", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := VerifyTOTP(secret, tc.code, now)
			if ok != tc.wantOK || s != tc.wantStep {
				t.Fatalf("VerifyTOTP = %d, %v; want %d, %v", s, ok, tc.wantStep, tc.wantOK)
			}
		})
	}
	// The library's own validator agrees on the code of the step at hand.
	if c, _ := TOTPCode(secret, time.Now()); !totp.Validate(c, secret) {
		t.Fatal("pquerna/otp refuses the code TOTPCode made")
	}
	if _, ok := VerifyTOTP("not base32!", "123456", now); ok {
		t.Fatal("a broken secret verified a code")
	}
}

// TestTOTPURI: what an authenticator app imports.
func TestTOTPURI(t *testing.T) {
	secret := NewTOTPSecret()
	if len(secret) != 32 {
		t.Fatalf("secret %q: want 160 bits in 32 base32 characters", secret)
	}
	raw, err := TOTPURI(secret, "Bank", "alice")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || !strings.Contains(u.Path, "alice") {
		t.Fatalf("uri %q", raw)
	}
	q := u.Query()
	if q.Get("secret") != secret || q.Get("issuer") != "Bank" || q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Fatalf("uri parameters %v", q)
	}
	if _, err := TOTPURI("not base32!", "Bank", "alice"); err == nil {
		t.Fatal("a broken secret made a URI")
	}
	qr, err := TOTPQRCode(raw)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(qr))
	if err != nil || img.Bounds().Dx() != qrSize {
		t.Fatalf("QR code: %v, %v", err, img)
	}
}

// BenchmarkVerifyTOTP: checking a one-time code, the right one (found at
// the current step) and a wrong one (all three steps of the window tried).
func BenchmarkVerifyTOTP(b *testing.B) {
	secret := NewTOTPSecret()
	now := time.Now()
	right, err := TOTPCode(secret, now)
	if err != nil {
		b.Fatal(err)
	}
	wrong := "000000"
	if right == wrong {
		wrong = "000001"
	}
	for name, code := range map[string]string{"right": right, "wrong": wrong} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, ok := VerifyTOTP(secret, code, now); ok != (code == right) {
					b.Fatal("unexpected verdict")
				}
			}
		})
	}
}
