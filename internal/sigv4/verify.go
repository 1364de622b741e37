package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// UnsignedPayload is the payload hash of a request whose body is not signed.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

const (
	isoFormat   = "20060102T150405Z"
	terminator  = "aws4_request"
	defaultSkew = 15 * time.Minute
	maxExpires  = 7 * 24 * 60 * 60 // a presigned URL lives a week at most
	maxKeyCache = 256
)

// Credentials are an access key and its secret, with the session token
// that temporary credentials carry.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// CredentialSource finds the credentials of an access key id.
type CredentialSource interface {
	Credentials(accessKeyID string) (Credentials, bool)
}

// Keys is a fixed set of credentials, by access key id.
type Keys map[string]Credentials

// NewKeys returns the set of the given credentials.
func NewKeys(creds ...Credentials) Keys {
	k := make(Keys, len(creds))
	for _, c := range creds {
		k[c.AccessKeyID] = c
	}
	return k
}

// Credentials implements CredentialSource.
func (k Keys) Credentials(id string) (Credentials, bool) {
	c, ok := k[id]
	return c, ok
}

// Config says what a Verifier accepts.
type Config struct {
	// Credentials knows the secret of every access key allowed in.
	Credentials CredentialSource
	// Service is the signing name the credential scope must give
	// ("codepipeline").
	Service string
	// Region, when set, is the one region the credential scope may give.
	// Empty accepts any region, which suits a local server that clients
	// reach with whatever region they have configured.
	Region string
	// MaxSkew bounds the distance between the request's date and the
	// server's clock; zero means AWS's 15 minutes.
	MaxSkew time.Duration
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time
	// RejectUnsignedPayload refuses requests whose body is left out of the
	// signature (x-amz-content-sha256: UNSIGNED-PAYLOAD).
	RejectUnsignedPayload bool
}

// Identity is who signed an accepted request.
type Identity struct {
	AccessKeyID string
	Region      string
	Service     string
	SignedAt    time.Time
	// Presigned is set when the signature came in the query string.
	Presigned bool
	// UnsignedPayload is set when the body was not part of the signature.
	UnsignedPayload bool
}

// Verifier checks the SigV4 signatures of incoming requests. It is safe for
// concurrent use; it keeps the signing keys it derives, one per access key,
// day, region and service.
type Verifier struct {
	cfg  Config
	mu   sync.Mutex
	keys map[scopeKey]derivedKey
}

type scopeKey struct{ id, date, region, service string }

type derivedKey struct {
	secret string
	key    []byte
}

// NewVerifier returns a Verifier for cfg.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.Credentials == nil {
		return nil, errors.New("sigv4 verifier: no credential source")
	}
	if cfg.Service == "" {
		return nil, errors.New("sigv4 verifier: no service signing name")
	}
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = defaultSkew
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Verifier{cfg: cfg, keys: map[scopeKey]derivedKey{}}, nil
}

// signed is what a request claims: the parts of its Authorization header,
// or of its presigned query string.
type signed struct {
	raw           string // the Authorization header, quoted in messages
	credential    string
	signedHeaders string
	signature     string
	amzDate       string
	date          time.Time
	token         string
	expires       time.Duration // presigned only
	presigned     bool
}

// Verify checks the signature of r, whose body is body, and returns who
// signed it. A refusal is an *Error.
func (v *Verifier) Verify(r *http.Request, body []byte) (*Identity, error) {
	var s signed
	var err *Error
	switch {
	case r.Header.Get("Authorization") != "":
		s, err = parseHeader(r)
	case strings.Contains(r.URL.RawQuery, "X-Amz-"):
		s, err = parseQuery(r)
	default:
		err = refuse(CodeMissingAuthenticationToken, msgMissingToken)
	}
	if err != nil {
		return nil, err
	}

	scope := strings.Split(s.credential, "/")
	if len(scope) != 5 {
		return nil, refuse(CodeIncompleteSignature, fmt.Sprintf(
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", s.credential))
	}
	id, day, region, service, term := scope[0], scope[1], scope[2], scope[3], scope[4]
	if !hasHost(s.signedHeaders) {
		return nil, refuse(CodeIncompleteSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if err := v.checkTime(&s); err != nil {
		return nil, err
	}
	creds, ok := v.cfg.Credentials.Credentials(id)
	if !ok {
		return nil, refuse(CodeUnrecognizedClient, msgBadToken)
	}
	if err := v.checkScope(s.amzDate, day, region, service, term); err != nil {
		return nil, err
	}
	if s.token != "" || creds.SessionToken != "" {
		if subtle.ConstantTimeCompare([]byte(s.token), []byte(creds.SessionToken)) != 1 {
			return nil, refuse(CodeUnrecognizedClient, msgBadToken)
		}
	}

	hashes, unsigned, err := v.payloadHashes(r, body, s.presigned)
	if err != nil {
		return nil, err
	}
	key := v.signingKey(creds, day, region, service)
	credScope := day + "/" + region + "/" + service + "/" + terminator
	skip := ""
	if s.presigned {
		skip = "X-Amz-Signature"
	}
	uri, query := canonicalURI(requestPath(r)), canonicalQuery(r.URL.RawQuery, skip)
	var creq, sts string
	for _, h := range hashes {
		creq = canonicalRequest(r, uri, query, s.signedHeaders, h)
		sts = stringToSign(s.amzDate, credScope, creq)
		if signatureMatches(key, sts, s.signature) {
			return &Identity{
				AccessKeyID:     id,
				Region:          region,
				Service:         service,
				SignedAt:        s.date,
				Presigned:       s.presigned,
				UnsignedPayload: unsigned || h == UnsignedPayload,
			}, nil
		}
	}
	e := refuse(CodeInvalidSignature, msgMismatch)
	e.CanonicalRequest, e.StringToSign = creq, sts
	return nil, e
}

// parseHeader reads the Authorization header and the request's date.
func parseHeader(r *http.Request) (signed, *Error) {
	h := r.Header.Get("Authorization")
	s := signed{raw: h, token: r.Header.Get("X-Amz-Security-Token")}
	alg, rest, _ := strings.Cut(h, " ")
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return s, refuse(CodeIncompleteSignature, fmt.Sprintf(
				"'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", part, h))
		}
		switch k {
		case "Credential":
			s.credential = val
		case "SignedHeaders":
			s.signedHeaders = val
		case "Signature":
			s.signature = val
		}
	}
	var missing []string
	if s.credential == "" {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if s.signature == "" {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if s.signedHeaders == "" {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	amz, date := r.Header.Get("X-Amz-Date"), r.Header.Get("Date")
	if amz == "" && date == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return s, refuse(CodeIncompleteSignature, strings.Join(missing, " ")+" Authorization="+h)
	}
	if alg != Algorithm {
		return s, refuse(CodeIncompleteSignature, fmt.Sprintf("Unsupported AWS 'algorithm': '%s'", alg))
	}
	if amz != "" {
		t, err := time.Parse(isoFormat, amz)
		if err != nil {
			return s, badDate(amz)
		}
		s.amzDate, s.date = amz, t
		return s, nil
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return s, badDate(date)
	}
	s.date = t.UTC()
	s.amzDate = s.date.Format(isoFormat)
	return s, nil
}

func badDate(v string) *Error {
	return refuse(CodeIncompleteSignature, fmt.Sprintf(
		"Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", v))
}

// parseQuery reads the X-Amz-* parameters of a presigned request.
func parseQuery(r *http.Request) (signed, *Error) {
	q, _ := url.ParseQuery(r.URL.RawQuery)
	s := signed{
		presigned:     true,
		credential:    q.Get("X-Amz-Credential"),
		signedHeaders: q.Get("X-Amz-SignedHeaders"),
		signature:     q.Get("X-Amz-Signature"),
		amzDate:       q.Get("X-Amz-Date"),
		token:         q.Get("X-Amz-Security-Token"),
	}
	alg, exp := q.Get("X-Amz-Algorithm"), q.Get("X-Amz-Expires")
	if alg == "" || s.credential == "" || s.signature == "" || s.amzDate == "" || s.signedHeaders == "" || exp == "" {
		if alg == "" && s.credential == "" && s.signature == "" {
			return s, refuse(CodeMissingAuthenticationToken, msgMissingToken)
		}
		return s, refuse(CodeIncompleteSignature, "Query-string authentication version 4 requires the X-Amz-Algorithm, "+
			"X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
	}
	if alg != Algorithm {
		return s, refuse(CodeIncompleteSignature, `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"`)
	}
	n, err := strconv.Atoi(exp)
	switch {
	case err != nil || n < 0:
		return s, refuse(CodeIncompleteSignature, "X-Amz-Expires must be non-negative")
	case n > maxExpires:
		return s, refuse(CodeIncompleteSignature, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	s.expires = time.Duration(n) * time.Second
	t, perr := time.Parse(isoFormat, s.amzDate)
	if perr != nil {
		return s, badDate(s.amzDate)
	}
	s.date = t
	return s, nil
}

func hasHost(signedHeaders string) bool {
	for h := range strings.SplitSeq(signedHeaders, ";") {
		if strings.EqualFold(h, "host") {
			return true
		}
	}
	return false
}

// checkTime refuses a request dated too far from the server's clock, in
// AWS's words, or a presigned request past its expiry.
func (v *Verifier) checkTime(s *signed) *Error {
	now := v.cfg.Now().UTC().Truncate(time.Second)
	skew := v.cfg.MaxSkew
	mins := int(skew / time.Minute)
	if late := now.Add(skew); s.date.After(late) {
		return refuse(CodeInvalidSignature, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %d min.)",
			s.amzDate, late.Format(isoFormat), now.Format(isoFormat), mins))
	}
	if s.presigned {
		if earliest := now.Add(-s.expires); s.date.Before(earliest) {
			return refuse(CodeInvalidSignature, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %d sec.)",
				s.amzDate, earliest.Format(isoFormat), now.Format(isoFormat), int(s.expires/time.Second)))
		}
		return nil
	}
	if earliest := now.Add(-skew); s.date.Before(earliest) {
		return refuse(CodeInvalidSignature, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %d min.)",
			s.amzDate, earliest.Format(isoFormat), now.Format(isoFormat), mins))
	}
	return nil
}

// checkScope compares the credential scope with the request's date and
// with what the server is.
func (v *Verifier) checkScope(amzDate, day, region, service, term string) *Error {
	if day != amzDate[:8] {
		return refuse(CodeInvalidSignature, fmt.Sprintf(
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			day, amzDate[:8], amzDate))
	}
	var msg strings.Builder
	if v.cfg.Region != "" && region != v.cfg.Region {
		fmt.Fprintf(&msg, "Credential should be scoped to a valid region, not '%s'. ", region)
	}
	if service != v.cfg.Service {
		fmt.Fprintf(&msg, "Credential should be scoped to correct service: '%s'. ", v.cfg.Service)
	}
	if term != terminator {
		fmt.Fprintf(&msg, "Credential should be scoped with a valid terminator: '%s', not '%s'. ", terminator, term)
	}
	if msg.Len() > 0 {
		return refuse(CodeInvalidSignature, msg.String())
	}
	return nil
}

// payloadHashes returns the payload hashes to try, in order: the one the
// client declared in x-amz-content-sha256 (checked against the body), or
// the body's own hash; a presigned request without the header is tried
// with UNSIGNED-PAYLOAD first, as botocore and S3 presign.
func (v *Verifier) payloadHashes(r *http.Request, body []byte, presigned bool) ([]string, bool, *Error) {
	declared := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case declared == UnsignedPayload:
		if v.cfg.RejectUnsignedPayload {
			return nil, false, refuse(CodeInvalidSignature, "This service requires a signed payload: UNSIGNED-PAYLOAD is not accepted.")
		}
		return []string{UnsignedPayload}, true, nil
	case declared != "":
		if len(declared) != sha256.Size*2 || !isHex(declared) {
			return nil, false, refuse(CodeInvalidSignature,
				"x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.")
		}
		if !strings.EqualFold(declared, hashHex(body)) {
			return nil, false, refuse(CodeContentSHA256Mismatch,
				"The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
		return []string{declared}, false, nil
	case presigned && !v.cfg.RejectUnsignedPayload:
		return []string{UnsignedPayload, hashHex(body)}, false, nil
	}
	return []string{hashHex(body)}, false, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// canonicalRequest builds the CanonicalRequest of SigV4.
func canonicalRequest(r *http.Request, uri, query, signedHeaders, payloadHash string) string {
	var b strings.Builder
	b.Grow(256 + len(uri) + len(query))
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	for name := range strings.SplitSeq(signedHeaders, ";") {
		name = strings.ToLower(name)
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(signedHeaders)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

func stringToSign(amzDate, scope, creq string) string {
	sum := sha256.Sum256([]byte(creq))
	return Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// signatureMatches compares the signature of sts under key with the one the
// client sent, in constant time.
func signatureMatches(key []byte, sts, got string) bool {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(sts))
	var want [sha256.Size * 2]byte
	hex.Encode(want[:], m.Sum(nil))
	return subtle.ConstantTimeCompare(want[:], []byte(got)) == 1
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// signingKey derives the signing key of creds for one day, region and
// service, or returns it from the cache.
func (v *Verifier) signingKey(creds Credentials, day, region, service string) []byte {
	k := scopeKey{creds.AccessKeyID, day, region, service}
	v.mu.Lock()
	d, ok := v.keys[k]
	v.mu.Unlock()
	if ok && d.secret == creds.SecretAccessKey {
		return d.key
	}
	key := hmacSHA256([]byte("AWS4"+creds.SecretAccessKey), day)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, terminator)
	v.mu.Lock()
	if len(v.keys) >= maxKeyCache {
		clear(v.keys)
	}
	v.keys[k] = derivedKey{secret: creds.SecretAccessKey, key: key}
	v.mu.Unlock()
	return key
}
