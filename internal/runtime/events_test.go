package runtime

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/compile"
	"github.com/sluice-ci/sluice/internal/gate"
	"github.com/sluice-ci/sluice/internal/pipeline"
)

// TestCompiledPayloadsDecode checks the contract between the compiler and
// the handlers: every payload the compiled machine sends, with its paths
// given sample values, decodes into the handler's event with no unknown
// field, and names an op the handler knows.
func TestCompiledPayloadsDecode(t *testing.T) {
	raw, err := os.ReadFile("testdata/release.json")
	if err != nil {
		t.Fatal(err)
	}
	var d pipeline.Declaration
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	// The release pipeline, and stages whose groups take every kind of
	// state: a Task, a Parallel state, a Map state.
	for _, d := range []*pipeline.Declaration{&d, noopGroups(2, 1, 2, 6)} {
		t.Run(d.Name, func(t *testing.T) { checkPayloads(t, d) })
	}
}

func checkPayloads(t *testing.T, d *pipeline.Declaration) {
	m, err := compile.Compile(d, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	def, _ := compile.Marshal(m, false)
	var doc struct {
		States map[string]json.RawMessage
	}
	if err := json.Unmarshal(def, &doc); err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	var walk func(states map[string]json.RawMessage)
	walk = func(states map[string]json.RawMessage) {
		for name, s := range states {
			var st struct {
				Type          string
				Resource      string
				Parameters    map[string]any
				ItemProcessor struct{ States map[string]json.RawMessage }
				Branches      []struct{ States map[string]json.RawMessage }
			}
			if err := json.Unmarshal(s, &st); err != nil {
				t.Fatal(err)
			}
			walk(st.ItemProcessor.States)
			for _, b := range st.Branches {
				walk(b.States)
			}
			if st.Type != "Task" {
				continue
			}
			payload := st.Parameters
			if p, ok := st.Parameters["Payload"].(map[string]any); ok {
				payload = p
			}
			sample := map[string]any{}
			for k, v := range payload {
				if strings.HasSuffix(k, ".$") {
					k, v = strings.TrimSuffix(k, ".$"), "sample"
					switch k {
					case "halt":
						v = true
					case "h":
						v = map[string]any{"halt": true}
					case "at":
						v = map[string]any{"s": "sample", "n": 1, "h": map[string]any{"halt": true}}
					}
				}
				sample[k] = v
			}
			body, _ := json.Marshal(sample)
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			var op string
			if strings.HasSuffix(st.Resource, "-gate") || payloadFunction(st.Parameters, "-gate") {
				var ev gate.Event
				err = dec.Decode(&ev)
				op = "gate " + ev.Op
			} else {
				var ev ActionEvent
				err = dec.Decode(&ev)
				op = "action " + ev.Op
			}
			if err != nil {
				t.Errorf("%s: payload %s: %v", name, body, err)
			}
			ops[op]++
		}
	}
	walk(doc.States)
	for _, op := range []string{"gate enter", "gate exit", "action run", "action failed"} {
		if ops[op] == 0 {
			t.Errorf("no task sends %s (saw %v)", op, ops)
		}
	}
	for op := range ops {
		switch op {
		case "gate enter", "gate exit", "action run", "action failed":
		default:
			t.Errorf("a task sends an unknown op: %s", op)
		}
	}
}

func payloadFunction(params map[string]any, suffix string) bool {
	fn, _ := params["FunctionName"].(string)
	return strings.HasSuffix(fn, suffix)
}
