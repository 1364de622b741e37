package asl

import (
	"fmt"
	"time"

	"github.com/sluice-ci/sluice/internal/choice"
	"github.com/sluice-ci/sluice/internal/intrinsic"
	"github.com/sluice-ci/sluice/internal/jsonata"
	"github.com/sluice-ci/sluice/internal/jsonpath"
	"github.com/sluice-ci/sluice/internal/payload"
)

// isJSONata reports whether s is a JSONata expression string, {% ... %}.
func isJSONata(s string) bool {
	_, ok := jsonata.IsExpression(s)
	return ok
}

// ParseTimestamp parses an ISO-8601 extended offset date-time as Step
// Functions accepts it in Wait states.
func ParseTimestamp(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

func checkPath(s string, reference bool) error {
	var err error
	if reference {
		_, err = jsonpath.CompileReference(s)
	} else {
		_, err = jsonpath.Compile(s)
	}
	return err
}

// stringFunctions are the intrinsic functions that return a string, the
// only ones ErrorPath and CausePath accept.
var stringFunctions = map[string]bool{
	"States.Format": true, "States.JsonToString": true, "States.ArrayGetItem": true,
	"States.Base64Decode": true, "States.Base64Encode": true, "States.Hash": true, "States.UUID": true,
}

// checkErrorPath checks the ErrorPath or CausePath of a Fail state: a path,
// or an intrinsic function that returns a string.
func checkErrorPath(s string) error {
	if !intrinsic.IsIntrinsic(s) {
		return checkPath(s, false)
	}
	c, err := intrinsic.Parse(s)
	if err != nil {
		return err
	}
	if !stringFunctions[c.Name()] {
		return fmt.Errorf("the intrinsic function %s does not return a string", c.Name())
	}
	return nil
}

// checkPayload checks a JSONPath-mode payload template.
func checkPayload(v any) error {
	_, err := payload.Compile(v)
	return err
}

func checkChoiceRule(rule map[string]any) error {
	_, err := choice.Parse(rule)
	return err
}

func checkJSONataString(s string) error {
	src, ok := jsonata.IsExpression(s)
	if !ok {
		return fmt.Errorf("the value %q is not a JSONata expression of the form {%% ... %%}", s)
	}
	if _, err := jsonata.Compile(src); err != nil {
		return fmt.Errorf("invalid JSONata expression %q: %w", src, err)
	}
	return nil
}

// checkJSONataTemplate checks every {% %} string of a JSONata-mode value.
func checkJSONataTemplate(field string, v any) error {
	_, err := jsonata.CompileTemplate(field, v)
	return err
}
