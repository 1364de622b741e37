// Package sfnapi owns the Step Functions API of the embedded engine: an
// http.Handler that speaks the AWS JSON 1.0 protocol of AWS Step Functions
// (POST /, X-Amz-Target: AWSStepFunctions.<Operation>, Content-Type
// application/x-amz-json-1.0) over a states.Engine, so that the AWS SDKs
// and the AWS CLI drive the local engine unchanged.
//
// Request and response members, enums, timestamps (epoch seconds) and
// exceptions ({"__type": "<Exception>", "message": "..."}, HTTP 400) are
// those of the Step Functions API model. The package owns what is API and
// not engine: decoding and checking requests (required members, enums,
// lengths, page sizes), opaque nextToken values around the engine's
// cursors, the includedData and includeExecutionData views, and the
// mapping of the engine's *states.APIError values to exceptions.
// Everything that decides what happens to a state machine or an execution
// stays in the engine, which also checks ARNs (InvalidArn).
//
// Authentication is not checked: any request is accepted whatever its
// SigV4 signature or credentials, because the server is a local stand-in
// for the service, bound to the loopback interface by `sluice states
// serve`. Signature verification of Sluice's own CodePipeline API lives
// with that API.
//
// The wire format is written by hand with encoding/json: the SDKs ship
// clients of the protocol, not servers, and the protocol is small (one
// JSON object in, one out).
package sfnapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/sluice-ci/sluice/internal/states"
)

// TargetPrefix is the X-Amz-Target prefix of Step Functions operations.
const TargetPrefix = "AWSStepFunctions."

// ContentType is the media type of requests and responses.
const ContentType = "application/x-amz-json-1.0"

// MaxRequestBytes caps a request body: a definition may hold 1 MB of
// text, which JSON escaping can grow.
const MaxRequestBytes = 4 << 20

// Server serves the Step Functions API over an engine. Its zero value is
// not usable; call New.
type Server struct {
	eng *states.Engine
	ops map[string]operation
}

// operation decodes the body of one operation and runs it; the result is
// marshalled as the response.
type operation func(ctx context.Context, body []byte) (any, error)

// New returns the API server of an engine. The caller keeps ownership of
// the engine (and closes it after the HTTP server has shut down).
func New(eng *states.Engine) *Server {
	s := &Server{eng: eng}
	s.ops = map[string]operation{
		"CreateStateMachine":               op(s.createStateMachine),
		"UpdateStateMachine":               op(s.updateStateMachine),
		"DescribeStateMachine":             op(s.describeStateMachine),
		"ListStateMachines":                op(s.listStateMachines),
		"DeleteStateMachine":               op(s.deleteStateMachine),
		"ValidateStateMachineDefinition":   op(s.validateStateMachineDefinition),
		"DescribeStateMachineForExecution": op(s.describeStateMachineForExecution),
		"StartExecution":                   op(s.startExecution),
		"StopExecution":                    op(s.stopExecution),
		"DescribeExecution":                op(s.describeExecution),
		"ListExecutions":                   op(s.listExecutions),
		"GetExecutionHistory":              op(s.getExecutionHistory),
		"RedriveExecution":                 op(s.redriveExecution),
		"SendTaskSuccess":                  op(s.sendTaskSuccess),
		"SendTaskFailure":                  op(s.sendTaskFailure),
		"SendTaskHeartbeat":                op(s.sendTaskHeartbeat),
	}
	return s
}

// op adapts a typed operation: it decodes the JSON body into In.
func op[In any](f func(context.Context, *In) (any, error)) operation {
	return func(ctx context.Context, body []byte) (any, error) {
		in := new(In)
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, in); err != nil {
				return nil, serializationError(err)
			}
		}
		return f(ctx, in)
	}
}

// ServeHTTP answers one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", uuid.NewString())
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: "UnknownOperationException",
			Message: fmt.Sprintf("method %s is not supported: Step Functions requests are POST /", r.Method)})
		return
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, TargetPrefix)
	run := s.ops[name]
	if !ok || run == nil {
		writeError(w, unknownOperation(target))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, &Error{Status: http.StatusRequestEntityTooLarge, Code: "ValidationException",
				Message: fmt.Sprintf("the request body exceeds %d bytes", MaxRequestBytes)})
			return
		}
		writeError(w, &Error{Status: http.StatusBadRequest, Code: "SerializationException", Message: "read request body: " + err.Error()})
		return
	}
	out, err := run(r.Context(), body)
	if err != nil {
		writeError(w, toError(err))
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		writeError(w, toError(fmt.Errorf("encode %s response: %w", name, err)))
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

func unknownOperation(target string) *Error {
	msg := "the X-Amz-Target header is missing"
	switch {
	case strings.HasPrefix(target, TargetPrefix):
		msg = fmt.Sprintf("Sluice's embedded Step Functions engine does not offer the operation %s", strings.TrimPrefix(target, TargetPrefix))
	case target != "":
		msg = fmt.Sprintf("unknown operation %q: Step Functions targets start with %q", target, TargetPrefix)
	}
	return &Error{Status: http.StatusBadRequest, Code: "UnknownOperationException", Message: msg}
}
