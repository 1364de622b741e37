package jsonpath

import "fmt"

// Error names shared by the JSONPath-mode packages of the engine.
const (
	ErrRuntime                = "States.Runtime"
	ErrResultPathMatchFailure = "States.ResultPathMatchFailure"
	ErrIntrinsicFailure       = "States.IntrinsicFailure"
)

// Failure is an error that surfaces as a Step Functions error. Cause is the
// detail AWS prints after its "An error occurred while executing the state"
// prefix, which the interpreter adds.
type Failure struct {
	Name  string
	Cause string
}

// Error returns "name: cause".
func (f *Failure) Error() string { return f.Name + ": " + f.Cause }

// StatesError reports the Step Functions error name and cause.
func (f *Failure) StatesError() (name, cause string) { return f.Name, f.Cause }

// NotFoundError reports that a definite path selected nothing. Its message is
// the text Jayway JsonPath (which AWS uses) gives, for example
// "No results for path: $['x']" or "Missing property in path $['a']".
type NotFoundError struct {
	// Path is the path as written in the definition, for example "$.x".
	Path string
	// Msg is the Jayway text.
	Msg string
}

func (e *NotFoundError) Error() string { return e.Msg }

// Invalid returns the States.Runtime failure AWS reports when a path field
// such as InputPath or OutputPath selects nothing:
// "Invalid path '$.x' : No results for path: $['x']".
func (e *NotFoundError) Invalid() *Failure {
	return &Failure{Name: ErrRuntime, Cause: "Invalid path '" + e.Path + "' : " + e.Msg}
}

// FieldNotFound returns the States.Runtime failure AWS reports when the path
// of a field (a ".$" key of a payload template, ErrorPath, CausePath, ...)
// selects nothing in the state input.
func FieldNotFound(field, path string, input any) *Failure {
	return &Failure{Name: ErrRuntime, Cause: fmt.Sprintf(
		"The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'",
		path, field, Text(input))}
}
