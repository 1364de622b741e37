package client

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/aws/smithy-go"
)

// Target names what a call was about, for the words of its errors.
type Target struct {
	Pipeline, Execution, Stage, Action string
}

// Error is a failed call, in words a user can act on.
type Error struct {
	// Code is the API's exception name; empty when no answer came.
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.Err }

// Exception codes the server answers for refused credentials.
var authCodes = map[string]bool{
	"MissingAuthenticationTokenException": true,
	"IncompleteSignatureException":        true,
	"InvalidSignatureException":           true,
	"SignatureDoesNotMatch":               true,
	"UnrecognizedClientException":         true,
	"InvalidClientTokenId":                true,
	"ExpiredTokenException":               true,
	"AccessDeniedException":               true,
}

// Explain turns the error of a call into an *Error: the API's "not found"
// exceptions named after what was not found, an endpoint that does not
// answer, refused credentials with where they came from, and any other
// exception as its name and message. Explain(nil, …) is nil.
func (c *Conn) Explain(err error, t Target) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		var op *net.OpError
		var dns *net.DNSError
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return &Error{Err: err, Message: fmt.Sprintf("no Sluice server answers at %s: start one with 'sluice serve', or point --endpoint (or SLUICE_ENDPOINT) at one", c.Endpoint)}
		case errors.As(err, &dns), errors.As(err, &op):
			return &Error{Err: err, Message: fmt.Sprintf("cannot reach %s: %v", c.Endpoint, err)}
		}
		return err
	}
	code, msg := ae.ErrorCode(), ae.ErrorMessage()
	e := &Error{Code: code, Err: err, Message: code + ": " + msg}
	switch {
	case code == "PipelineNotFoundException" && t.Pipeline != "":
		e.Message = fmt.Sprintf("pipeline '%s' not found", t.Pipeline)
	case code == "PipelineExecutionNotFoundException" && t.Execution != "":
		e.Message = fmt.Sprintf("execution '%s' of pipeline '%s' not found", t.Execution, t.Pipeline)
	case code == "StageNotFoundException" && t.Stage != "":
		e.Message = fmt.Sprintf("pipeline '%s' has no stage '%s'", t.Pipeline, t.Stage)
	case code == "ActionNotFoundException" && t.Action != "":
		e.Message = fmt.Sprintf("stage '%s' of pipeline '%s' has no action '%s'", t.Stage, t.Pipeline, t.Action)
	case authCodes[code]:
		e.Message = fmt.Sprintf("%s refused the request (%s: %s); it was signed with %s", c.Endpoint, code, msg, c.Credentials)
	}
	return e
}
