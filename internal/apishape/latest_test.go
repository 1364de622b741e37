package apishape

import (
	"context"
	"testing"

	"github.com/sluice-ci/sluice/internal/store"
)

// attempt is an action attempt to record: execution, stage, action,
// attempt, status, start minute, approval token.
type attempt struct {
	exec, stage, action string
	n                   int
	status              string
	start               int
	token               string
}

// recorded returns a view over a store holding the release pipeline and
// the given attempts, with the stages' latest executions.
func recorded(t *testing.T, attempts []attempt, latest map[string]string) *View {
	t.Helper()
	ctx := context.Background()
	st := releaseStore(t)
	execs := map[string]bool{}
	for _, a := range attempts {
		if !execs[a.exec] {
			execs[a.exec] = true
			e := store.PipelineExecution{PipelineName: "release", PipelineVersion: 1, PipelineExecutionID: a.exec,
				Status: store.ExecutionInProgress, StartTime: at(a.start), LastUpdateTime: at(a.start)}
			if err := st.CreatePipelineExecution(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		cat := map[string]string{"Source": "Source", "Build": "Build", "Approve": "Approval"}[a.stage]
		rec := store.ActionExecution{PipelineName: "release", PipelineExecutionID: a.exec, ActionExecutionID: a.exec + "-" + a.action + "-" + string(rune('0'+a.n)),
			PipelineVersion: 1, StageName: a.stage, ActionName: a.action, Attempt: a.n, Status: a.status, StartTime: at(a.start), LastUpdateTime: at(a.start + 1),
			Input: store.ActionExecutionInput{ActionTypeID: store.ActionTypeID{Category: cat, Owner: "AWS", Provider: "CodeBuild", Version: "1"}}, Token: a.token}
		if err := st.PutActionExecution(ctx, store.Versioned[store.ActionExecution]{Value: rec}); err != nil {
			t.Fatal(err)
		}
	}
	for stage, id := range latest {
		w, _ := store.StageControlWrite(store.Versioned[store.StageControl]{Value: store.StageControl{PipelineName: "release", StageName: stage, LatestExecutionID: id}})
		sw, _ := store.StageExecutionWrite(store.Versioned[store.StageExecution]{Value: store.StageExecution{PipelineName: "release", PipelineExecutionID: id, StageName: stage, Status: store.StageInProgress, Attempt: 1}})
		if err := st.Transact(ctx, w, sw); err != nil {
			t.Fatal(err)
		}
	}
	return &View{Store: st}
}

// TestActionLatestRuns: each action of GetPipelineState shows its latest
// run, in whichever execution ran it last; ListActionExecutions of an
// execution gives the token of its waiting approval, so that the
// approvals of every execution in progress are reachable.
func TestActionLatestRuns(t *testing.T) {
	tests := []struct {
		name     string
		attempts []attempt
		latest   map[string]string
		want     map[string]string // action: "execution attempt status token"
		tokens   map[string]string // execution: the token ListActionExecutions gives, "" for none
	}{
		{"an action the latest execution did not reach shows its earlier run",
			[]attempt{
				{"e1", "Build", "Compile", 1, store.ActionSucceeded, 0, ""},
				{"e1", "Build", "Lint", 1, store.ActionSucceeded, 0, ""},
				{"e2", "Build", "Compile", 1, store.ActionFailed, 10, ""},
			},
			map[string]string{"Build": "e2"},
			map[string]string{"Compile": "e2 1 Failed ", "Lint": "e1 1 Succeeded "},
			map[string]string{"e1": "", "e2": ""}},
		{"a retried action shows its latest attempt",
			[]attempt{
				{"e1", "Build", "Compile", 1, store.ActionFailed, 0, ""},
				{"e1", "Build", "Lint", 1, store.ActionSucceeded, 0, ""},
				{"e1", "Build", "Compile", 2, store.ActionSucceeded, 5, ""},
			},
			map[string]string{"Build": "e1"},
			map[string]string{"Compile": "e1 2 Succeeded ", "Lint": "e1 1 Succeeded "},
			map[string]string{"e1": ""}},
		{"approvals of parallel executions",
			[]attempt{
				{"e1", "Approve", "Release", 1, store.ActionInProgress, 0, "token-e1"},
				{"e3", "Approve", "Release", 1, store.ActionSucceeded, 1, "token-e3"},
				{"e2", "Approve", "Release", 1, store.ActionInProgress, 5, "token-e2"},
			},
			map[string]string{"Approve": "e2"},
			map[string]string{"Release": "e2 1 InProgress token-e2"},
			map[string]string{"e1": "token-e1", "e2": "token-e2", "e3": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := recorded(t, tc.attempts, tc.latest)
			ctx := context.Background()
			out, err := v.GetPipelineState(ctx, "release")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, st := range out.StageStates {
				for _, a := range st.ActionStates {
					if e := a.LatestExecution; e != nil {
						var rec attempt
						for _, x := range tc.attempts {
							if x.exec+"-"+x.action+"-"+string(rune('0'+x.n)) == e.ActionExecutionID {
								rec = x
							}
						}
						got[a.ActionName] = rec.exec + " " + string(rune('0'+rec.n)) + " " + e.Status + " " + e.Token
					}
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("actions with a latest execution: %v, want %v", got, tc.want)
			}
			for name, want := range tc.want {
				if got[name] != want {
					t.Errorf("action %s: %q, want %q", name, got[name], want)
				}
			}
			for id, want := range tc.tokens {
				out, err := v.ListActionExecutions(ctx, ListActionExecutionsInput{PipelineName: "release", Filter: &ActionExecutionFilter{PipelineExecutionID: id}})
				if err != nil {
					t.Fatal(err)
				}
				got := ""
				for _, d := range out.ActionExecutionDetails {
					if r := d.Output.ExecutionResult; r != nil && d.StageName == "Approve" {
						got = r.ExternalExecutionID
					}
				}
				if got != want {
					t.Errorf("ListActionExecutions of %s: approval token %q, want %q", id, got, want)
				}
			}
		})
	}
}
