package jsonpath_test

import (
	"errors"
	"testing"

	"github.com/sluice-ci/sluice/internal/jsonpath"
	"github.com/sluice-ci/sluice/internal/jsonpath/jsonpathtest"
)

// TestConformance replays the recorded one-state Pass machines whose data
// flow is made of paths only (InputPath, Result, ResultPath, OutputPath) and
// compares the output, or the States.Runtime cause, with AWS's.
func TestConformance(t *testing.T) {
	ran := 0
	for _, c := range jsonpathtest.Cases(t) {
		st := c.OnlyState()
		if st["Type"] != "Pass" || !pathsOnly(st) ||
			(c.Expected.Status != "SUCCEEDED" && c.Expected.Error != "States.Runtime") {
			// Other failures (payload size limits) are the interpreter's.
			continue
		}
		ran++
		t.Run(c.ID, func(t *testing.T) {
			out, err := passFlow(st, c.Input)
			c.Check(t, out, err)
		})
	}
	if ran == 0 {
		t.Fatal("the corpus has no one-state path-only Pass case: the selection reproduces nothing")
	}
	t.Logf("reproduced %d one-state path-only Pass cases", ran)
}

func pathsOnly(st map[string]any) bool {
	for k, v := range st {
		switch k {
		case "Type", "End", "Comment", "Result":
		case "InputPath", "OutputPath", "ResultPath":
			// The whole context object is the interpreter's to build.
			if s, ok := v.(string); !ok || s == "$$" {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// passFlow is a Pass state's JSONPath data flow over paths.
func passFlow(st map[string]any, input any) (any, error) {
	env := jsonpath.Env{Input: input, Context: map[string]any{"Execution": map[string]any{"Input": input}}}
	get := func(field string) (any, error) {
		text, ok := st[field].(string)
		if !ok {
			return env.Input, nil
		}
		v, err := jsonpath.MustCompile(text).Get(env)
		var nf *jsonpath.NotFoundError
		if errors.As(err, &nf) {
			return nil, nf.Invalid()
		}
		return v, err
	}
	effective, err := get("InputPath")
	if err != nil {
		return nil, err
	}
	result := effective
	if r, ok := st["Result"]; ok {
		result = r
	}
	if rp, ok := st["ResultPath"].(string); ok {
		if result, err = jsonpath.MustCompile(rp).Set(input, result); err != nil {
			return nil, err
		}
	}
	env.Input = result
	return get("OutputPath")
}
