package authn

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"image/png"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Time-based one-time codes (RFC 6238) with the parameters every
// authenticator app reads from an otpauth URI: HMAC-SHA-1, 6 digits, a
// 30-second step. github.com/pquerna/otp computes the codes and writes the
// URI; the rules around it (skew, the step a code belongs to, so it can
// be used once) are here.
const (
	TOTPPeriod = 30 * time.Second
	// TOTPSkew is how many steps before or after now a code may be from
	// (RFC 6238 §5.2 recommends at most one).
	TOTPSkew    = 1
	totpDigits  = otp.DigitsSix
	secretBytes = 20 // 160 bits, RFC 4226 §4's recommendation
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a fresh secret, base32 without padding as
// authenticator apps take it.
func NewTOTPSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return b32.EncodeToString(b)
}

// TOTPURI is the otpauth URI an authenticator app imports (as a QR code
// or pasted): the issuer's name and the account label it shows.
func TOTPURI(secret, issuer, account string) (string, error) {
	raw, err := b32.DecodeString(secret)
	if err != nil {
		return "", fmt.Errorf("totp secret: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: account, Period: uint(TOTPPeriod / time.Second),
		Secret: raw, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", fmt.Errorf("totp uri: %w", err)
	}
	return key.URL(), nil
}

// qrSize is the QR code's side in pixels: large enough for a phone's
// camera at arm's length, small in the page.
const qrSize = 200

// TOTPQRCode is the otpauth URI as a QR code, a PNG, as authenticator
// apps scan it.
func TOTPQRCode(uri string) ([]byte, error) {
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return nil, fmt.Errorf("totp qr: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return nil, fmt.Errorf("totp qr: %w", err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("totp qr: %w", err)
	}
	return b.Bytes(), nil
}

// TOTPCode is the code for the step that holds t, as an app shows it.
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, opts())
}

func opts() totp.ValidateOpts {
	return totp.ValidateOpts{Period: uint(TOTPPeriod / time.Second), Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}
}

// VerifyTOTP reports whether code is the code of a step within TOTPSkew
// of now, and which step (its RFC 6238 counter T), so that the caller can
// refuse the same step twice (RFC 6238 §5.2: a verifier must not accept
// the second attempt of the same OTP). Codes are compared in constant
// time; a code of the wrong length or with other characters is false.
func VerifyTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	if len(code) != totpDigits.Length() {
		return 0, false
	}
	current := now.Unix() / int64(TOTPPeriod/time.Second)
	for d := -TOTPSkew; d <= TOTPSkew; d++ {
		s := current + int64(d)
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*int64(TOTPPeriod/time.Second), 0), opts())
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}
