package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The headers of a GitHub delivery.
const (
	HeaderSignature = "X-Hub-Signature-256"
	HeaderEvent     = "X-GitHub-Event"
	HeaderDelivery  = "X-GitHub-Delivery"
)

// MaxBody is GitHub's cap on a delivery's payload: 25 MB.
const MaxBody = 25 << 20

const signaturePrefix = "sha256="

// Sign returns the X-Hub-Signature-256 value of body under secret, as
// GitHub computes it.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// ErrSignature is the refusal of a delivery whose X-Hub-Signature-256 is
// missing or wrong.
var ErrSignature = errors.New("X-Hub-Signature-256 is missing or does not match the body")

// VerifySignature checks header, an X-Hub-Signature-256 value, against the
// HMAC-SHA256 of body under secret, in constant time.
func VerifySignature(secret, body []byte, header string) error {
	hexSum, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok || len(hexSum) != sha256.Size*2 {
		return ErrSignature
	}
	var got [sha256.Size]byte
	if _, err := hex.Decode(got[:], []byte(hexSum)); err != nil {
		return ErrSignature
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	if !hmac.Equal(m.Sum(nil), got[:]) {
		return ErrSignature
	}
	return nil
}

// TooLargeError is the refusal of a body over the cap.
type TooLargeError struct {
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("payload larger than %d bytes", e.Limit)
}

// ReadBody reads the body of r, at most limit bytes. A body announced as
// larger by Content-Length is refused before a byte of it is read; one that
// turns out larger is refused as soon as it passes the limit.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1)); err != nil {
		return nil, fmt.Errorf("read payload: %w", err)
	}
	if int64(buf.Len()) > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	return buf.Bytes(), nil
}
