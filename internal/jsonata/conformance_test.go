package jsonata

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/sluice-ci/sluice/internal/jsonpath"
	"github.com/sluice-ci/sluice/internal/jsonpath/jsonpathtest"
)

// awsCase is one expression with the result AWS recorded for it, extracted
// from the conformance corpus into testdata/aws_recorded.json.
type awsCase struct {
	ID         string         `json:"id"`
	Field      string         `json:"field"`
	Template   any            `json:"template"`
	Input      any            `json:"input"`
	Variables  map[string]any `json:"variables"`
	Want       any            `json:"want"`
	Cause      string         `json:"cause"`
	ExpectType string         `json:"expect_type"`
}

func readJSONFile(t testing.TB, path string, into any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
}

func TestAWSRecordedResults(t *testing.T) {
	var cases []awsCase
	readJSONFile(t, filepath.Join("testdata", "aws_recorded.json"), &cases)
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			tmpl, err := CompileTemplate(c.Field, c.Template)
			if err != nil {
				t.Fatal(err)
			}
			bindings := map[string]any{"states": map[string]any{"input": c.Input}}
			for k, v := range c.Variables {
				bindings[k] = v
			}
			got, err := tmpl.Eval(nil, bindings)
			if err == nil && c.ExpectType == "array" {
				if _, ok := got.([]any); !ok {
					expr, _ := IsExpression(c.Template.(string))
					err = TypeError(c.Field, expr, "array", got)
				}
			}
			if c.Cause != "" {
				var qe *QueryError
				if !errors.As(err, &qe) {
					t.Fatalf("got %v, %v; want failure %q", got, err, c.Cause)
				}
				if _, cause := qe.StatesError(); cause != c.Cause {
					t.Fatalf("cause %q\nwant  %q", cause, c.Cause)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !jsonpath.Equal(got, c.Want) {
				t.Fatalf("got %s, want %s", JSONText(got), JSONText(c.Want))
			}
		})
	}
}

// collectExpressions gathers every {% %} string of a definition with the
// field path it sits at.
func collectExpressions(path string, v any, out map[string]string) {
	switch x := v.(type) {
	case string:
		if expr, ok := IsExpression(x); ok {
			out[path] = expr
		}
	case map[string]any:
		for k, val := range x {
			collectExpressions(path+"/"+k, val, out)
		}
	case []any:
		for i, val := range x {
			collectExpressions(path+"["+itoa(i)+"]", val, out)
		}
	}
}

// TestCorpusExpressionsCompile compiles every JSONata expression of the
// conformance corpus: all of them are accepted by AWS.
func TestCorpusExpressionsCompile(t *testing.T) {
	exprs := map[string]string{}
	for _, c := range jsonpathtest.Cases(t) {
		found := map[string]string{}
		collectExpressions("", c.Definition, found)
		for p, e := range found {
			exprs[e] = c.ID + " " + p
		}
	}
	if len(exprs) == 0 {
		t.Fatal("no JSONata expression found in the corpus")
	}
	keys := make([]string, 0, len(exprs))
	for e := range exprs {
		keys = append(keys, e)
	}
	sort.Strings(keys)
	for _, e := range keys {
		if _, err := Compile(e); err != nil {
			t.Errorf("%s: %q: %v", exprs[e], e, err)
		}
	}
	t.Logf("%d distinct JSONata expressions compiled", len(keys))
}
