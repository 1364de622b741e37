package compile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/asl"
	"github.com/sluice-ci/sluice/internal/golden"
	"github.com/sluice-ci/sluice/internal/pipeline"
)

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
			golden.Check(t, filepath.Join("testdata", "golden", name+".asl.json"), got)
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

// TestASLValidator runs the npm package asl-validator, at the version the
// repository's package-lock.json pins, over every compiled machine. The
// Makefile's test target installs it; run alone, the test installs it
// itself with npm ci, and skips only where npm is not installed (outside
// CI).
func TestASLValidator(t *testing.T) {
	root := repoRoot(t)
	bin := filepath.Join(root, "node_modules", ".bin", "asl-validator")
	if _, err := os.Stat(bin); err != nil {
		npm, lookErr := exec.LookPath("npm")
		switch {
		case lookErr == nil:
			install := exec.Command(npm, "ci", "--no-audit", "--no-fund")
			install.Dir = root
			if out, err := install.CombinedOutput(); err != nil {
				t.Fatalf("install asl-validator: npm ci: %v\n%s", err, out)
			}
		case os.Getenv("CI") != "":
			t.Fatalf("asl-validator is missing and npm is not installed: %v", lookErr)
		default:
			t.Skipf("asl-validator is not installed, and npm is not there to install it")
		}
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
// repository's pipelines and the pipelines at CodePipeline's limits.
func allMachines(t *testing.T) map[string][]byte {
	machines := loadFixtures(t)
	if compiled, err := Dir(filepath.Join(repoRoot(t), "pipelines"), Options{}); err == nil {
		for _, c := range compiled {
			machines["pipelines/"+c.Pipeline] = c.Definition
		}
	} else if !os.IsNotExist(errors.Unwrap(err)) {
		t.Fatal(err)
	}
	for _, sh := range shapes {
		m, err := Compile(shaped(50, sh.sizes...), Options{})
		if err != nil {
			t.Fatal(err)
		}
		machines["50x50, "+sh.name], _ = Marshal(m, false)
	}
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
		{"duplicate action", &pipeline.Declaration{Name: "p", Stages: []pipeline.Stage{{Name: "S", Actions: oneAction}, {Name: "T", Actions: slices.Concat(oneAction, oneAction)}}},
			`stages[1].actions[0] and stages[1].actions[1] are both named "A"`},
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
		switch s := s.(type) {
		case mapState:
			maps.Copy(out, allStates(s.ItemProcessor.States))
		case parallel:
			for _, b := range s.Branches {
				maps.Copy(out, allStates(b.States))
			}
		}
	}
	return out
}

func keys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

// TestGroupsAndTimeouts checks the runOrder groups the entry gates write.
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
		{"Build: enter", `{"s":"Build","k":2,"a":[{"action":"Compile","timeout":129600},{"action":"UnitTest","timeout":129600}],` +
			`"next":{"s":"Build","k":1,"a":[{"action":"Package","timeout":129600}],"next":{"s":"Build","k":0,"n.$":"$.attempt"}}}`},
		{"Approve: enter", `{"s":"Approve","k":1,"a":[{"action":"Release","timeout":3600}],"next":{"s":"Approve","k":0,"n.$":"$.attempt"}}`},
		{"Deploy: enter", `{"s":"Deploy","k":1,"a":[{"action":"Upload","timeout":5400}],"next":{"s":"Deploy","k":0,"n.$":"$.attempt"}}`},
		{"Source: enter", `{"s":"Source","k":1,"a":[{"action":"Checkout","timeout":3600}],"next":{"s":"Source","k":0,"n.$":"$.attempt"}}`},
	}
	for _, tt := range tests {
		got, _ := json.Marshal(m.States[tt.state].(task).ResultSelector)
		if string(got) != tt.want {
			t.Errorf("%s groups = %s, want %s", tt.state, got, tt.want)
		}
	}
}

// TestRouting checks, for pipelines of every mix of group sizes, the
// states that run groups and the rules of the routing Choice: one per
// stage to its exit, one per kind of group state that a stage's second or
// later group needs.
func TestRouting(t *testing.T) {
	exits := func(stages int) []string {
		var out []string
		for i := range stages {
			out = append(out, fmt.Sprintf("Stage%02d halts or ends -> Stage%02d: exit", i+1, i+1))
		}
		return out
	}
	tests := []struct {
		stages int
		sizes  []int
		states []string // the group states, and where the entry gates lead
		rules  []string
	}{
		{1, []int{1}, []string{"run action", "Stage01: enter -> run action"}, exits(1)},
		{2, []int{3}, []string{"run 3 actions", "Stage01: enter -> run 3 actions", "Stage02: enter -> run 3 actions"}, exits(2)},
		{1, []int{9}, []string{"run actions", "Stage01: enter -> run actions"}, exits(1)},
		{1, []int{1, 1}, []string{"run action", "Stage01: enter -> run action"},
			append(exits(1), "k=1 -> run action")},
		{1, []int{2, 1}, []string{"run 2 actions", "run action", "Stage01: enter -> run 2 actions"},
			append(exits(1), "k=1 -> run action")},
		{1, []int{7, 2, 5, 6, 2, 4, 3}, []string{"run 2 actions", "run 3 actions", "run 4 actions", "run 5 actions", "run actions", "Stage01: enter -> run actions"},
			append(exits(1), "k=2 -> run 2 actions", "k=3 -> run 3 actions", "k=4 -> run 4 actions", "k=5 -> run 5 actions", "k>5 -> run actions")},
	}
	for _, tt := range tests {
		m, err := Compile(shaped(tt.stages, tt.sizes...), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var states, rules []string
		for name, s := range m.States {
			switch s := s.(type) {
			case choice:
				for _, r := range s.Choices {
					switch {
					case r.And != nil:
						rules = append(rules, fmt.Sprintf("%s halts or ends -> %s", *r.And[0].StringEquals, r.Next))
					case r.NumericEquals != nil:
						rules = append(rules, fmt.Sprintf("k=%d -> %s", *r.NumericEquals, r.Next))
					default:
						rules = append(rules, fmt.Sprintf("k>%d -> %s", *r.NumericGreaterThan, r.Next))
					}
				}
			case parallel, mapState:
				states = append(states, name)
				if next := reflect.ValueOf(s).FieldByName("Next").String(); next != StateRoute {
					t.Errorf("%s goes to %s", name, next)
				}
			case task:
				switch {
				case name == "run action":
					states = append(states, name)
				case strings.HasSuffix(name, ": enter"):
					states = append(states, name+" -> "+s.Next)
				}
			}
		}
		slices.Sort(states)
		slices.Sort(tt.states)
		if !slices.Equal(states, tt.states) {
			t.Errorf("%d stages of groups %v: states\n got %q\nwant %q", tt.stages, tt.sizes, states, tt.states)
		}
		if !slices.Equal(rules, tt.rules) {
			t.Errorf("%d stages of groups %v: rules\n got %q\nwant %q", tt.stages, tt.sizes, rules, tt.rules)
		}
	}
}

// shapes are the pipelines at CodePipeline's limits, 50 stages of 50
// actions, grouped by runOrder in the ways that cost the most history
// events or definition bytes.
var shapes = []struct {
	name  string
	sizes []int // group sizes of every stage
}{
	{"all sequential", repeat(50, 1)},
	{"one group per stage", []int{50}},
	{"25 groups of 2", repeat(25, 2)},
	{"10 groups of 5", repeat(10, 5)},
	{"17 groups of 3", append(repeat(16, 3), 2)},
	{"8 groups of 6", append(repeat(8, 6), 2)},
	{"a group of 49 and one of 1", []int{49, 1}},
	{"every kind of group", []int{1, 2, 3, 4, 5, 35}},
}

func repeat(n, size int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = size
	}
	return out
}

// Step Functions' limits: 25,000 history events per execution, and
// definitions of at most 1 MB.
const (
	maxEvents     = 25000
	maxDefinition = 1 << 20
)

// TestBudget compiles every shape at CodePipeline's limits and checks it
// against Step Functions' limits: with 5% of the history left over, at most
// 6 state transitions per action, and a definition under 1 MB, compact (as
// deployed) and indented (as kept in statemachines/), with short names and
// with CodePipeline's longest.
func TestBudget(t *testing.T) {
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			for _, long := range []bool{false, true} {
				d := shaped(50, sh.sizes...)
				if long {
					longestNames(d)
				}
				m, err := Compile(d, Options{})
				if err != nil {
					t.Fatal(err)
				}
				cost, err := m.Cost()
				if err != nil {
					t.Fatal(err)
				}
				compact, _ := Marshal(m, false)
				indented, _ := Marshal(m, true)
				t.Logf("longest names %t: %d events, %.2f transitions per action, %d bytes (%d indented)",
					long, cost.Events, float64(cost.Transitions)/2500, len(compact), len(indented))
				if cost.Events > maxEvents*95/100 {
					t.Errorf("%d history events, more than 95%% of Step Functions' %d", cost.Events, maxEvents)
				}
				if perAction := float64(cost.Transitions) / 2500; perAction > 6 {
					t.Errorf("%.2f state transitions per action, more than 6", perAction)
				}
				if len(compact) >= maxDefinition || len(indented) >= maxDefinition {
					t.Errorf("longest names %t: definition of %d bytes compact, %d indented; Step Functions takes at most %d",
						long, len(compact), len(indented), maxDefinition)
				}
			}
		})
	}
}

// longestNames gives a pipeline, its stages and their actions names of
// CodePipeline's longest, 100 characters.
func longestNames(d *pipeline.Declaration) {
	d.Name = strings.Repeat("p", 100)
	for i := range d.Stages {
		d.Stages[i].Name = fmt.Sprintf("%s%03d", strings.Repeat("S", 97), i)
		for j := range d.Stages[i].Actions {
			d.Stages[i].Actions[j].Name = fmt.Sprintf("%s%03d", strings.Repeat("A", 97), j)
		}
	}
}

// TestIndentedIsCompact checks that the indented encoding, with its lists
// of groups kept on one line, holds the same JSON as the compact one.
func TestIndentedIsCompact(t *testing.T) {
	for _, d := range []*pipeline.Declaration{shaped(3, 1, 2, 6), shaped(2, 50)} {
		m, err := Compile(d, Options{})
		if err != nil {
			t.Fatal(err)
		}
		compact, _ := Marshal(m, false)
		indented, _ := Marshal(m, true)
		var a, b any
		if err := json.Unmarshal(compact, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(indented, &b); err != nil {
			t.Fatalf("indented: %v", err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Error("the indented definition differs from the compact one")
		}
		if bytes.Contains(indented, []byte("\x00")) || bytes.Contains(indented, []byte(`\u0000`)) {
			t.Error("a placeholder is left in the indented definition")
		}
	}
}

// TestCost checks the walk's counts on small machines, state by state.
func TestCost(t *testing.T) {
	const (
		gates = eventsCallbackTask + eventsLambdaTask // entry and exit of a stage
		one   = eventsCallbackTask                    // a group of one action
		route = eventsChoice
	)
	par := func(k int) int { return eventsFanOut + k*eventsCallbackTask }
	mapped := func(k int) int { return eventsFanOut + k*(eventsIteration+eventsCallbackTask) }
	tests := []struct {
		stages      int
		sizes       []int
		events      int
		transitions int
	}{
		{1, []int{1}, 2 + gates + one + route, 4},
		{2, []int{1}, 2 + 2*(gates+one+route), 8},
		{1, []int{1, 1}, 2 + gates + 2*(one+route), 2 + 4},
		{1, []int{2, 1}, 2 + gates + par(2) + route + one + route, 2 + 4 + 2},
		{1, []int{5, 6, 6}, 2 + gates + par(5) + 3*route + 2*mapped(6), 2 + 6 + 3 + 2*7},
		{1, []int{50}, 2 + gates + mapped(50) + route, 2 + 52},
	}
	for _, tt := range tests {
		m, err := Compile(shaped(tt.stages, tt.sizes...), Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Cost()
		if err != nil {
			t.Fatal(err)
		}
		if want := (Cost{Events: tt.events, Transitions: tt.transitions}); got != want {
			t.Errorf("%d stages of groups %v: %+v, want %+v", tt.stages, tt.sizes, got, want)
		}
	}
}

// wide is a pipeline of stages×actions: a source stage, then build stages
// whose actions run perGroup to a runOrder.
func wide(stages, actions, perGroup int) *pipeline.Declaration {
	sizes := repeat(actions/perGroup, perGroup)
	if rest := actions % perGroup; rest > 0 {
		sizes = append(sizes, rest)
	}
	return shaped(stages, sizes...)
}

// shaped is a pipeline of stages whose actions run in runOrder groups of the
// given sizes: a source stage, then build stages.
func shaped(stages int, sizes ...int) *pipeline.Declaration {
	d := &pipeline.Declaration{Name: "wide"}
	for s := range stages {
		st := pipeline.Stage{Name: fmt.Sprintf("Stage%02d", s+1)}
		for g, size := range sizes {
			order := int32(g + 1)
			for range size {
				act := pipeline.Action{
					Name:         fmt.Sprintf("Action%02d", len(st.Actions)+1),
					ActionTypeID: pipeline.ActionTypeID{Category: "Build", Owner: "AWS", Provider: "CodeBuild", Version: "1"},
					RunOrder:     &order,
				}
				if s == 0 {
					act.ActionTypeID = pipeline.ActionTypeID{Category: "Source", Owner: "AWS", Provider: "S3", Version: "1"}
				}
				st.Actions = append(st.Actions, act)
			}
		}
		d.Stages = append(d.Stages, st)
	}
	return d
}

// BenchmarkCompile50x50 compiles the pipelines at CodePipeline's limits.
func BenchmarkCompile50x50(b *testing.B) {
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			d := shaped(50, sh.sizes...)
			var m *Machine
			var size int
			for b.Loop() {
				var err error
				if m, err = Compile(d, Options{}); err != nil {
					b.Fatal(err)
				}
				raw, err := Marshal(m, false)
				if err != nil {
					b.Fatal(err)
				}
				size = len(raw)
			}
			cost, err := m.Cost()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(size), "bytes/definition")
			b.ReportMetric(float64(cost.Events), "events")
			b.ReportMetric(float64(cost.Transitions)/2500, "transitions/action")
		})
	}
}
