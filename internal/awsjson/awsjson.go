// Package awsjson owns the wire of AWS's JSON protocols (1.0 and 1.1) on
// the server side: reading a request (POST /, the operation named by
// X-Amz-Target, a JSON object body under a size cap), writing a response
// or an exception ({"__type": "<Exception>", "message": "..."} with its
// HTTP status), the ValidationException messages AWS words for members
// that break a constraint of the API model, and page tokens bound to the
// listing that gave them (Listing).
//
// The AWS SDKs ship clients of these protocols, not servers, so this small
// part is written by hand with encoding/json.
package awsjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// Error is an exception of an API: Code is its name, written as __type,
// Status the HTTP status.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Exception is a client error (HTTP 400) named code.
func Exception(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal is a server error (HTTP 500): InternalFailure, AWS's name for
// a failure that is not the caller's.
func Internal(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: err.Error()}
}

// Protocol says what one API's requests look like.
type Protocol struct {
	// TargetPrefix is the part of X-Amz-Target before the operation's
	// name, dot included ("CodePipeline_20150709.").
	TargetPrefix string
	// ContentType is the protocol's media type.
	ContentType string
	// MaxBody caps a request body.
	MaxBody int64
	// Service names the API in messages.
	Service string
}

// ReadRequest checks an API request's method and target and reads its
// body. It returns the operation's name.
func (p Protocol) ReadRequest(w http.ResponseWriter, r *http.Request) (string, []byte, *Error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return "", nil, &Error{Status: http.StatusMethodNotAllowed, Code: "UnknownOperationException",
			Message: fmt.Sprintf("method %s is not supported: %s requests are POST /", r.Method, p.Service)}
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, p.TargetPrefix)
	if !ok || name == "" {
		msg := "the X-Amz-Target header is missing"
		if target != "" {
			msg = fmt.Sprintf("unknown operation %q: %s targets start with %q", target, p.Service, p.TargetPrefix)
		}
		return "", nil, Exception("UnknownOperationException", "%s", msg)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return name, nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: "ValidationException",
				Message: fmt.Sprintf("the request body exceeds %d bytes", p.MaxBody)}
		}
		return name, nil, Exception("SerializationException", "read request body: %v", err)
	}
	return name, body, nil
}

// Write sends v as the response.
func (p Protocol) Write(w http.ResponseWriter, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", p.ContentType)
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(buf.Bytes())
	return err
}

// WriteError sends an exception.
func (p Protocol) WriteError(w http.ResponseWriter, e *Error) {
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Code, e.Message})
	w.Header().Set("Content-Type", p.ContentType)
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	w.Write(body)
}

// Decode reads a request body into v; an empty body is an empty object. A
// body that is not a JSON object of the right member types is a
// SerializationException.
func Decode(body []byte, v any) *Error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return Exception("SerializationException", "decode request: %v", err)
	}
	return nil
}

// Constraint is a ValidationException in the words AWS uses for a member
// that breaks a constraint of the model.
func Constraint(value, member, rule string) *Error {
	return Exception("ValidationException", "1 validation error detected: Value %s at '%s' failed to satisfy constraint: %s",
		value, member, rule)
}

func quote(v string) string { return "'" + v + "'" }

// Check gathers the constraint checks of one request; the first failure
// is its Err.
type Check struct {
	Err *Error
}

func (c *Check) fail(e *Error) {
	if c.Err == nil {
		c.Err = e
	}
}

// Required checks a string member the model requires.
func (c *Check) Required(member, v string) *Check {
	if v == "" {
		c.fail(Constraint("null", member, "Member must not be null"))
	}
	return c
}

// Length checks the length of a string member that is set.
func (c *Check) Length(member, v string, lo, hi int) *Check {
	switch {
	case v == "":
	case len(v) < lo:
		c.fail(Constraint(quote(v), member, fmt.Sprintf("Member must have length greater than or equal to %d", lo)))
	case len(v) > hi:
		c.fail(Constraint(quote(v), member, fmt.Sprintf("Member must have length less than or equal to %d", hi)))
	}
	return c
}

// Pattern checks a string member that is set against the model's pattern
// (matched whole).
func (c *Check) Pattern(member, v string, re *regexp.Regexp) *Check {
	if v != "" && !re.MatchString(v) {
		c.fail(Constraint(quote(v), member, "Member must satisfy regular expression pattern: "+strings.TrimSuffix(strings.TrimPrefix(re.String(), "^(?:"), ")$")))
	}
	return c
}

// Enum checks a string member that is set against the model's enum.
func (c *Check) Enum(member, v string, allowed ...string) *Check {
	if v != "" && !slices.Contains(allowed, v) {
		c.fail(Constraint(quote(v), member, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]"))
	}
	return c
}

// Range checks an integer member that is set (0: not set).
func (c *Check) Range(member string, v, lo, hi int) *Check {
	switch {
	case v == 0:
	case v < lo:
		c.fail(Constraint(fmt.Sprint(v), member, fmt.Sprintf("Member must have value greater than or equal to %d", lo)))
	case v > hi:
		c.fail(Constraint(fmt.Sprint(v), member, fmt.Sprintf("Member must have value less than or equal to %d", hi)))
	}
	return c
}

// Model compiles a pattern of the API model so that it matches whole
// values, as the model's patterns do.
func Model(pattern string) *regexp.Regexp {
	return regexp.MustCompile("^(?:" + pattern + ")$")
}
