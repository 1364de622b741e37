package sfnapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/sluice-ci/sluice/internal/states"
)

// Error is an exception of the API. Code is the exception name, written as
// __type; Status the HTTP status (400 for every exception of the Step
// Functions model, which declares no other).
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// toError maps an operation's error to the exception the API returns: the
// engine's *states.APIError one to one by name, anything else (the store
// failing, the engine shutting down) as InternalFailure.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var api *states.APIError
	if errors.As(err, &api) {
		return &Error{Status: http.StatusBadRequest, Code: api.Code, Message: api.Message}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: err.Error()}
}

func writeError(w http.ResponseWriter, e *Error) {
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Code, e.Message})
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(e.Status)
	w.Write(body)
}

func exception(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

func serializationError(err error) *Error {
	return exception("SerializationException", "decode request: %v", err)
}

// constraint is a ValidationException in the words AWS uses for a member
// that breaks a constraint of the model.
func constraint(value, member, rule string) *Error {
	return exception("ValidationException", "1 validation error detected: Value %s at '%s' failed to satisfy constraint: %s",
		value, member, rule)
}

// required checks a member the model requires.
func required(member string, v *string) error {
	if v == nil {
		return constraint("null", member, "Member must not be null")
	}
	if *v == "" {
		return constraint("''", member, "Member must have length greater than or equal to 1")
	}
	return nil
}

// maxLength checks the length of an optional string member.
func maxLength(member string, v *string, n int) error {
	if v != nil && len(*v) > n {
		return constraint("'"+*v+"'", member, fmt.Sprintf("Member must have length less than or equal to %d", n))
	}
	return nil
}

// enum checks an optional enum member.
func enum(member, v string, allowed ...string) error {
	if v == "" || slices.Contains(allowed, v) {
		return nil
	}
	return constraint("'"+v+"'", member, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

// Limits of the model shared by several operations.
const (
	maxErrorLen = 256
	maxCauseLen = 32768
	maxTokenLen = 2048
)

// errorAndCause checks the error and cause members of StopExecution and
// SendTaskFailure.
func errorAndCause(errName, cause *string) error {
	if err := maxLength("error", errName, maxErrorLen); err != nil {
		return err
	}
	return maxLength("cause", cause, maxCauseLen)
}
