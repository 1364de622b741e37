package compile

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/asl"
	"github.com/sluice-ci/sluice/internal/pipeline"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// loadFixtures compiles every pipeline of every file in testdata/pipelines,
// keyed by pipeline name.
func loadFixtures(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/pipelines/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		cs, err := File(f, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			out[c.Pipeline] = c.Definition
		}
	}
	return out
}

func TestGolden(t *testing.T) {
	for name, got := range loadFixtures(t) {
		t.Run(name, func(t *testing.T) {
			golden := filepath.Join("testdata", "golden", name+".asl.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the compiled machine; run go test ./internal/compile -update and review the diff", golden)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	d := wide(5, 7, 3)
	var first []byte
	for i := range 5 {
		m, err := Compile(d, Options{Account: "111122223333", Region: "cn-north-1", Stack: "ci"})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := Marshal(m, false)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = raw
			if !bytes.Contains(raw, []byte(`"arn:aws-cn:lambda:cn-north-1:111122223333:function:ci-gate"`)) {
				t.Errorf("gate ARN not built from the options")
			}
			continue
		}
		if !bytes.Equal(raw, first) {
			t.Fatal("two compilations of the same declaration differ")
		}
	}
}

// TestEngineValidation checks every compiled machine with the embedded
// engine's CreateStateMachine rules.
func TestEngineValidation(t *testing.T) {
	for name, raw := range allMachines(t) {
		if _, err := asl.Parse(raw); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestASLValidator runs the npm package asl-validator (installed by npm ci
// from the Makefile's test target) over every compiled machine.
func TestASLValidator(t *testing.T) {
	bin := filepath.Join(repoRoot(t), "node_modules", ".bin", "asl-validator")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("asl-validator is missing (%v): run npm ci at the repository root", err)
		}
		t.Skipf("asl-validator is not installed (npm ci at the repository root installs it)")
	}
	dir := t.TempDir()
	args := []string{}
	for name, raw := range allMachines(t) {
		path := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".asl.json")
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--json-path", path)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("asl-validator: %v\n%s", err, out)
	}
}

// allMachines is every machine the checks run over: the fixtures, the
// repository's pipelines and a pipeline at CodePipeline's limits.
func allMachines(t *testing.T) map[string][]byte {
	machines := loadFixtures(t)
	if compiled, err := Dir(filepath.Join(repoRoot(t), "pipelines"), Options{}); err == nil {
		for _, c := range compiled {
			machines["pipelines/"+c.Pipeline] = c.Definition
		}
	} else if !os.IsNotExist(errors.Unwrap(err)) {
		t.Fatal(err)
	}
	m, err := Compile(wide(50, 50, 1), Options{})
	if err != nil {
		t.Fatal(err)
	}
	machines["wide"], _ = Marshal(m, false)
	return machines
}

func repoRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

func TestCompileErrors(t *testing.T) {
	oneAction := []pipeline.Action{{Name: "A", ActionTypeID: pipeline.ActionTypeID{Category: "Build", Owner: "AWS", Provider: "CodeBuild", Version: "1"}}}
	tests := []struct {
		name string
		d    *pipeline.Declaration
		want string
	}{
		{"nil", nil, "no declaration"},
		{"no stages", &pipeline.Declaration{Name: "p"}, "has no stages"},
		{"empty stage", &pipeline.Declaration{Name: "p", Stages: []pipeline.Stage{{Name: "S", Actions: oneAction}, {Name: "T"}}}, "stages[1] (T) has no actions"},
		{"duplicate stage", &pipeline.Declaration{Name: "p", Stages: []pipeline.Stage{{Name: "S", Actions: oneAction}, {Name: "S", Actions: oneAction}}}, `stages[0] and stages[1] are both named "S"`},
	}
	for _, tt := range tests {
		_, err := Compile(tt.d, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestStateNames(t *testing.T) {
	long := strings.Repeat("S", 100)
	d := wide(2, 1, 1)
	d.Stages[0].Name = long
	d.Stages[1].Name = long[:99] + "T"
	m, err := Compile(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name := range allStates(m.States) {
		if len(name) > maxStateName {
			t.Errorf("state name %q is %d characters", name, len(name))
		}
	}
	if _, ok := m.States[long[:80-len(": enter")-2]+"~1: enter"]; !ok {
		t.Errorf("long stage name not cut as expected: %v", keys(m.States))
	}
}

func allStates(states map[string]any) map[string]any {
	out := map[string]any{}
	for name, s := range states {
		out[name] = s
		if ms, ok := s.(mapState); ok {
			for n, v := range allStates(ms.ItemProcessor.States) {
				out[n] = v
			}
		}
	}
	return out
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestGroupsAndTimeouts checks the runOrder groups the entry gate writes.
func TestGroupsAndTimeouts(t *testing.T) {
	file, err := pipeline.Load("testdata/pipelines/release.yaml", pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(file.Pipelines[0].Declaration, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		state string
		want  string
	}{
		{"Build: enter", `[[{"action":"Compile","timeout":129600},{"action":"UnitTest","timeout":129600}],[{"action":"Package","timeout":129600}]]`},
		{"Approve: enter", `[{"action":"Release","timeout":3600}]`},
		{"Deploy: enter", `[{"action":"Upload","timeout":5400}]`},
		{"Source: enter", `[{"action":"Checkout","timeout":3600}]`},
	}
	for _, tt := range tests {
		rs := m.States[tt.state].(task).ResultSelector
		g, ok := rs["g"]
		if !ok {
			g = rs["cur"]
		}
		got, _ := json.Marshal(g)
		if string(got) != tt.want {
			t.Errorf("%s groups = %s, want %s", tt.state, got, tt.want)
		}
	}
}

// successTransitions walks a machine along its success path, every action
// succeeding, and counts the states entered: Step Functions bills one state
// transition for each.
func successTransitions(t testing.TB, m *Machine) int {
	n := 0
	var groups [][]groupItem
	var cur []groupItem
	i := 0
	for state := m.StartAt; state != ""; {
		n++
		switch s := m.States[state].(type) {
		case task:
			if g, ok := s.ResultSelector["g"]; ok {
				groups, i = g.([][]groupItem), 0
			} else if c, ok := s.ResultSelector["cur"]; ok {
				cur = c.([]groupItem)
			}
			state = s.Next
		case pass:
			cur, i = groups[i], i+1
			state = s.Next
		case mapState:
			n += len(cur) // one run-action task per item
			state = s.Next
		case choice:
			state = s.Default
			if i < len(groups) {
				state = s.Choices[1].Next
			}
		default:
			t.Fatalf("unexpected state %s on the success path", state)
		}
	}
	return n
}

func TestTransitionsPerAction(t *testing.T) {
	tests := []struct {
		stages, actions, perGroup int
		want                      int
	}{
		{2, 1, 1, 2 * 4},            // enter, map, action, exit
		{1, 2, 1, 2 + 2*(3+1)},      // enter, 2 × (pass, map, choice, action), exit
		{1, 50, 50, 3 + 50},         // one group of 50
		{1, 50, 1, 2 + 50*(3+1)},    // 50 groups of one
		{50, 50, 1, 50 * (2 + 200)}, // CodePipeline's limits, every action in its own group
	}
	for _, tt := range tests {
		d := wide(tt.stages, tt.actions, tt.perGroup)
		m, err := Compile(d, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := successTransitions(t, m)
		if got != tt.want {
			t.Errorf("%d×%d, %d per group: %d transitions, want %d", tt.stages, tt.actions, tt.perGroup, got, tt.want)
		}
		if perAction := float64(got) / float64(tt.stages*tt.actions); perAction > 6 {
			t.Errorf("%d×%d: %.2f transitions per action, more than 6", tt.stages, tt.actions, perAction)
		}
	}
}

func TestLimitPipelineFitsStepFunctions(t *testing.T) {
	m, err := Compile(wide(50, 50, 1), Options{})
	if err != nil {
		t.Fatal(err)
	}
	compact, _ := Marshal(m, false)
	indented, _ := Marshal(m, true)
	const limit = 1 << 20
	if len(compact) >= limit || len(indented) >= limit {
		t.Errorf("50×50 definition: %d bytes compact, %d indented; Step Functions takes at most %d", len(compact), len(indented), limit)
	}
}

// wide is a pipeline of stages×actions: a source stage, then build stages
// whose actions run perGroup to a runOrder.
func wide(stages, actions, perGroup int) *pipeline.Declaration {
	d := &pipeline.Declaration{Name: "wide"}
	for s := range stages {
		st := pipeline.Stage{Name: fmt.Sprintf("Stage%02d", s+1)}
		for a := range actions {
			order := int32(1 + a/perGroup)
			act := pipeline.Action{
				Name:         fmt.Sprintf("Action%02d", a+1),
				ActionTypeID: pipeline.ActionTypeID{Category: "Build", Owner: "AWS", Provider: "CodeBuild", Version: "1"},
				RunOrder:     &order,
			}
			if s == 0 {
				act.ActionTypeID = pipeline.ActionTypeID{Category: "Source", Owner: "AWS", Provider: "S3", Version: "1"}
			}
			st.Actions = append(st.Actions, act)
		}
		d.Stages = append(d.Stages, st)
	}
	return d
}

func BenchmarkCompile50x50(b *testing.B) {
	d := wide(50, 50, 1)
	var size int
	for b.Loop() {
		m, err := Compile(d, Options{})
		if err != nil {
			b.Fatal(err)
		}
		raw, err := Marshal(m, false)
		if err != nil {
			b.Fatal(err)
		}
		size = len(raw)
	}
	m, _ := Compile(d, Options{})
	b.ReportMetric(float64(size), "bytes/definition")
	b.ReportMetric(float64(successTransitions(b, m))/2500, "transitions/action")
}
