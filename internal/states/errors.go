package states

import (
	"errors"
	"fmt"
	"reflect"
)

// APIError is an error of an engine operation. Code is the name of the
// Step Functions exception it stands for, so an API server maps it one to
// one; errors.Is matches two APIErrors by Code.
type APIError struct {
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Is matches APIErrors by Code.
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	return ok && t.Code == e.Code
}

// The errors of the engine's operations, named after Step Functions'
// exceptions. Operations return them with a message; compare with errors.Is.
var (
	ErrExecutionAlreadyExists    = &APIError{Code: "ExecutionAlreadyExists"}
	ErrExecutionDoesNotExist     = &APIError{Code: "ExecutionDoesNotExist"}
	ErrExecutionLimitExceeded    = &APIError{Code: "ExecutionLimitExceeded"}
	ErrExecutionNotRedrivable    = &APIError{Code: "ExecutionNotRedrivable"}
	ErrInvalidArn                = &APIError{Code: "InvalidArn"}
	ErrInvalidDefinition         = &APIError{Code: "InvalidDefinition"}
	ErrInvalidExecutionInput     = &APIError{Code: "InvalidExecutionInput"}
	ErrInvalidName               = &APIError{Code: "InvalidName"}
	ErrInvalidOutput             = &APIError{Code: "InvalidOutput"}
	ErrInvalidToken              = &APIError{Code: "InvalidToken"}
	ErrStateMachineAlreadyExists = &APIError{Code: "StateMachineAlreadyExists"}
	ErrStateMachineDeleting      = &APIError{Code: "StateMachineDeleting"}
	ErrStateMachineDoesNotExist  = &APIError{Code: "StateMachineDoesNotExist"}
	ErrTaskDoesNotExist          = &APIError{Code: "TaskDoesNotExist"}
	ErrTaskTimedOut              = &APIError{Code: "TaskTimedOut"}
	ErrValidation                = &APIError{Code: "ValidationException"}
)

func apiError(kind *APIError, format string, args ...any) error {
	return &APIError{Code: kind.Code, Message: fmt.Sprintf(format, args...)}
}

// statesError is implemented by errors that carry a Step Functions error
// name and cause (the expression packages' errors, and handler errors that
// choose their name).
type statesError interface {
	StatesError() (name, cause string)
}

// failure is an error as Step Functions records it: a name and a cause,
// each possibly absent.
type failure struct {
	Error    *string
	Cause    *string
	terminal bool // States.Runtime and States.DataLimitExceeded: never retried or caught
}

func newFailure(name, cause string) *failure {
	return &failure{Error: &name, Cause: &cause}
}

func (f *failure) name() string {
	if f.Error == nil {
		return ""
	}
	return *f.Error
}

// output is the error output a Catch passes on: {"Error": ..., "Cause": ...}.
func (f *failure) output() map[string]any {
	out := map[string]any{"Error": nil, "Cause": nil}
	if f.Error != nil {
		out["Error"] = *f.Error
	}
	if f.Cause != nil {
		out["Cause"] = *f.Cause
	}
	return out
}

// runtimeFailure is a States.Runtime failure.
func runtimeFailure(cause string) *failure {
	f := newFailure("States.Runtime", cause)
	f.terminal = true
	return f
}

// ErrorName returns the name Step Functions gives a task handler's error,
// as aws-lambda-go reports it: the Go type name of the error, without
// package or pointer, unless the error names itself with
// StatesError() (name, cause string).
func ErrorName(err error) string {
	var se statesError
	if errors.As(err, &se) {
		name, _ := se.StatesError()
		return name
	}
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}
