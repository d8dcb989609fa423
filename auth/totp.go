package auth

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TOTP follows RFC 6238 as authenticator apps expect it: HMAC-SHA1, six digits, 30-second steps.
// A code is accepted for its own step and the one before and after (clocks drift), and each step
// once: the account remembers the last step used.
const (
	TOTPPeriod  = 30
	TOTPDigits  = 6
	TOTPIssuer  = "fixgraph"
	totpSkew    = 1
	secretBytes = 20
)

var totpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// totpStep returns the RFC 6238 time step of t.
func totpStep(t time.Time) int64 { return t.Unix() / TOTPPeriod }

// matchTOTP returns the step within the window around now whose code is code and that is later
// than last, the step used last; ok is false when there is none.
func matchTOTP(secret, code string, now time.Time, last int64) (step int64, ok bool) {
	if !isTOTPCode(code) {
		return 0, false
	}
	cur := totpStep(now)
	for s := cur - totpSkew; s <= cur+totpSkew; s++ {
		if s <= last || s < 0 {
			continue
		}
		if good, err := hotp.ValidateCustom(code, uint64(s), secret, totpOpts); err == nil && good {
			return s, true
		}
	}
	return 0, false
}

// isTOTPCode reports whether code looks like a TOTP code (six digits) rather than a recovery code.
func isTOTPCode(code string) bool {
	if len(code) != TOTPDigits {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// TOTPCode returns the code of secret (base32, as in an otpauth:// URI) at t, as an
// authenticator app would show it. Tests and scripts use it; the server only checks codes.
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: TOTPPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// newTOTPKey makes the key of the account name with secret, or with a new random one when
// secret is nil.
func newTOTPKey(name string, secret []byte) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: name, Period: TOTPPeriod,
		SecretSize: secretBytes, Secret: secret, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// b32NoPad reads secrets as otpauth:// URIs write them.
var b32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// qrDataURI returns the otpauth:// URI of key as a QR code in a data: URI (PNG), for an <img>
// under a Content-Security-Policy that allows data: images and no inline script.
func qrDataURI(key *otp.Key) (string, error) {
	img, err := key.Image(240, 240)
	if err != nil {
		return "", fmt.Errorf("drawing the QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("encoding the QR code: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// RecoveryCodes is how many one-time recovery codes an enrolment gives.
const RecoveryCodes = 10

// recoveryEncoding writes recovery codes with lower-case letters and digits, leaving out i, l, o
// and 1, which read like others; an o typed for a 0 is taken as one.
var recoveryEncoding = base32.NewEncoding("0abcdefghjkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// newRecoveryCode returns a random recovery code of 80 bits written as four groups of four,
// such as "k7qm-2xpa-9fhd-wn3c". Only its hash is stored; 80 bits make the hash safe to keep.
func newRecoveryCode() string {
	b := make([]byte, 10)
	rand.Read(b)
	s := recoveryEncoding.EncodeToString(b)[:16]
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// normalRecoveryCode is code as stored: lower case, without the dashes and spaces people type.
func normalRecoveryCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			return -1
		case r == 'o' || r == 'O':
			return '0'
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, code)
}

// recoveryHash is what is stored of a recovery code.
func recoveryHash(code string) string {
	return sha("fixgraph recovery code " + normalRecoveryCode(code))
}

// useRecoveryCode returns hashes without the one code hashes to, and whether it was there.
func useRecoveryCode(hashes []string, code string) ([]string, bool) {
	h := recoveryHash(code)
	found := -1
	for i, x := range hashes {
		if subtle.ConstantTimeCompare([]byte(x), []byte(h)) == 1 {
			found = i
		}
	}
	if found < 0 {
		return hashes, false
	}
	out := append([]string(nil), hashes[:found]...)
	return append(out, hashes[found+1:]...), true
}

// sealPrefix marks a TOTP secret sealed with the store's SecretKey.
const sealPrefix = "sealed:v1:"

// seal encrypts a TOTP secret with key (AES-256-GCM, the account name as associated data, so a
// sealed secret cannot be moved to another account). A nil key leaves it as it is: the auth
// store's file is readable by its owner only.
func seal(key []byte, name, secret string) (string, error) {
	if key == nil {
		return secret, nil
	}
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	ct := aead.Seal(nonce, nonce, []byte(secret), []byte("fixgraph totp "+name))
	return sealPrefix + base64.RawStdEncoding.EncodeToString(ct), nil
}

// unseal reverses seal.
func unseal(key []byte, name, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealPrefix)
	if !ok {
		return stored, nil
	}
	if key == nil {
		return "", fmt.Errorf("the TOTP secret of %q is sealed and the store has no key (FIXGRAPH_MFA_KEY or DIR/mfa.key)", name)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	ct, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil || len(ct) < aead.NonceSize() {
		return "", fmt.Errorf("the sealed TOTP secret of %q is malformed", name)
	}
	pt, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], []byte("fixgraph totp "+name))
	if err != nil {
		return "", fmt.Errorf("the TOTP secret of %q does not open with this key (is FIXGRAPH_MFA_KEY or DIR/mfa.key the one it was sealed with?)", name)
	}
	return string(pt), nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("the MFA key has %d bytes; it needs 32", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
