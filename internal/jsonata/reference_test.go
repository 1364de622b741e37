package jsonata

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-ci/sluice/internal/golden"
	"github.com/sluice-ci/sluice/internal/jsonpath"
)

// refCase is one expression of testdata/cases.json. The expected results were
// taken from the JSONata 2.0.6 reference implementation; a note marks the few
// where this package follows AWS or its own value model instead.
type refCase struct {
	Expr      string         `json:"expr"`
	Input     any            `json:"input,omitempty"`
	Bindings  map[string]any `json:"bindings,omitempty"`
	Want      any            `json:"want,omitempty"`
	Undefined bool           `json:"undefined,omitempty"`
	Error     string         `json:"error,omitempty"`
	Message   string         `json:"message,omitempty"`
	Note      string         `json:"note,omitempty"`
}

func runRefCase(c refCase) (result refCase) {
	result = refCase{Expr: c.Expr, Input: c.Input, Bindings: c.Bindings, Note: c.Note}
	x, err := Compile(c.Expr)
	if err == nil {
		var v any
		var ok bool
		if v, ok, err = x.Eval(c.Input, c.Bindings); err == nil {
			if ok {
				result.Want = v
			} else {
				result.Undefined = true
			}
			return result
		}
	}
	if je, ok := err.(*Error); ok {
		result.Error, result.Message = je.Code, je.Text()
	} else {
		result.Error = err.Error()
	}
	return result
}

func TestReferenceCases(t *testing.T) {
	path := filepath.Join("testdata", "cases.json")
	var cases []refCase
	readJSONFile(t, path, &cases)
	var results []refCase
	for _, c := range cases {
		got := runRefCase(c)
		results = append(results, got)
		if golden.Updating() {
			continue
		}
		switch {
		case c.Error != "":
			if got.Error != c.Error || got.Message != c.Message {
				t.Errorf("%s: got %s %q %v, want error %s %q", c.Expr, got.Error, got.Message, got.Want, c.Error, c.Message)
			}
		case c.Undefined:
			if !got.Undefined {
				t.Errorf("%s: got %s %s, want undefined", c.Expr, JSONText(got.Want), got.Error)
			}
		default:
			if got.Error != "" || got.Undefined || !jsonpath.Equal(got.Want, c.Want) {
				t.Errorf("%s: got %s (%s %s), want %s", c.Expr, JSONText(got.Want), got.Error, got.Message, JSONText(c.Want))
			}
		}
	}
	if golden.Updating() {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", " ")
		if err := enc.Encode(results); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
