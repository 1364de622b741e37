package runtime

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/store"
)

// invoker is an Invoker that records the jobs it is handed.
type invoker struct {
	mu    sync.Mutex
	err   error
	calls []invoked
}

type invoked struct {
	job          *action.Job
	continuation string
}

func (p *invoker) Run(context.Context, *action.Job) (*action.Result, error) {
	return &action.Result{Status: action.StatusInProgress}, nil
}

func (p *invoker) Invoke(_ context.Context, job *action.Job, continuation string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, invoked{job, continuation})
	return p.err
}

func (p *invoker) last() invoked {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[len(p.calls)-1]
}

// report is one report on the latest job handed to the invoker.
type report struct {
	continuation string
	res          *action.Result
	wantErr      string // the exception, if it is refused
}

func TestJobReports(t *testing.T) {
	succeeded := &action.Result{Status: action.StatusSucceeded, OutputVariables: map[string]string{"Version": "1.2.3"}}
	failed := action.Failed(action.CodeJobFailed, "it broke")
	tests := []struct {
		name        string
		invokeErr   error
		reports     []report
		abandon     bool // the attempt is abandoned before the reports
		wantInvoked []string
		wantSent    string
		wantStatus  string
		wantMessage string
	}{
		{
			name:        "success after two continuations",
			reports:     []report{{continuation: "t1"}, {continuation: "t2"}, {res: succeeded}},
			wantInvoked: []string{"", "t1", "t2"},
			wantSent:    `tok-Compile {"ok":true,"status":"Succeeded"}`,
			wantStatus:  store.ActionSucceeded,
		},
		{
			name:        "failure of a continued job",
			reports:     []report{{continuation: "t1"}, {res: failed}},
			wantInvoked: []string{"", "t1"},
			wantSent:    `tok-Compile {"ok":false,"status":"Failed"}`,
			wantStatus:  store.ActionFailed,
			wantMessage: "it broke",
		},
		{
			name:        "a job reported twice",
			reports:     []report{{res: succeeded}, {res: failed, wantErr: "InvalidJobStateException"}},
			wantInvoked: []string{""},
			wantSent:    `tok-Compile {"ok":true,"status":"Succeeded"}`,
			wantStatus:  store.ActionSucceeded,
		},
		{
			name:        "a worker that cannot be invoked",
			invokeErr:   errors.New("no such function"),
			wantInvoked: []string{""},
			wantSent:    `tok-Compile {"ok":false,"status":"Failed"}`,
			wantStatus:  store.ActionFailed,
			wantMessage: "invoke the job's worker: no such function",
		},
		{
			name:        "a continuation after the attempt was abandoned",
			abandon:     true,
			reports:     []report{{continuation: "t1"}},
			wantInvoked: []string{""},
			wantStatus:  store.ActionAbandoned,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			inv := &invoker{err: tt.invokeErr}
			f.rt.Providers.Register(action.Type{Category: "Build", Owner: "AWS", Provider: "CodeBuild"}, inv)
			f.prov.results["Checkout"] = []*action.Result{{Status: action.StatusSucceeded, OutputVariables: map[string]string{"BranchName": "main"}}}
			f.enter(t, "Source")
			f.run(t, "Source", "Checkout")
			f.exit(t, "Source", false)
			f.enter(t, "Build")
			f.tk.take()
			if _, err := f.run(t, "Build", "Compile"); err != nil {
				t.Fatal(err)
			}
			if tt.abandon {
				if err := f.rt.StopPipelineExecution(f.ctx, "release", f.id, true, "stop"); err != nil {
					t.Fatal(err)
				}
				f.tk.take()
			}
			for i, r := range tt.reports {
				j, err := f.rt.Store.GetJob(f.ctx, inv.last().job.ID)
				if err != nil {
					t.Fatalf("report %d: %v", i, err)
				}
				err = f.rt.SettleJob(f.ctx, j, JobReport{Result: r.res, Continuation: r.continuation})
				var rej *execution.Rejection
				switch {
				case r.wantErr == "" && err != nil:
					t.Fatalf("report %d: %v", i, err)
				case r.wantErr != "" && !(errors.As(err, &rej) && rej.Code == r.wantErr):
					t.Fatalf("report %d: %v, want %s", i, err, r.wantErr)
				}
			}
			rec := f.record(t, "Build", "Compile", 1)
			var tokens []string
			seen := map[string]bool{}
			for i, c := range inv.calls {
				tokens = append(tokens, c.continuation)
				if c.job.Configuration["ProjectName"] != "app-main" {
					t.Errorf("invocation %d: configuration %v, want it resolved", i, c.job.Configuration)
				}
				j, err := f.rt.Store.GetJob(f.ctx, c.job.ID)
				switch {
				case err != nil:
					t.Errorf("invocation %d: job %s: %v", i, c.job.ID, err)
				case seen[c.job.ID]:
					t.Errorf("invocation %d: job %s was invoked before", i, c.job.ID)
				case i == 0 && c.job.ID != rec.ActionExecutionID:
					t.Errorf("invocation 0: job %s, want the attempt's id %s", c.job.ID, rec.ActionExecutionID)
				case j.Value.ContinuationToken != c.continuation || j.Value.Attempt != 1 || j.Value.ActionName != "Compile":
					t.Errorf("invocation %d: job %+v, want one of attempt 1 of Compile with token %q", i, j.Value, c.continuation)
				case i < len(inv.calls)-1 && j.Value.Status != store.JobSucceeded:
					t.Errorf("invocation %d: a continued job is %s", i, j.Value.Status)
				}
				seen[c.job.ID] = true
			}
			if strings.Join(tokens, ",") != strings.Join(tt.wantInvoked, ",") {
				t.Errorf("invoked with tokens %q, want %q", tokens, tt.wantInvoked)
			}
			if got := f.tk.take(); got != tt.wantSent {
				t.Errorf("sent %q, want %q", got, tt.wantSent)
			}
			if rec.Status != tt.wantStatus {
				t.Errorf("action %s, want %s", rec.Status, tt.wantStatus)
			}
			if ed := rec.Output.ExecutionResult.ErrorDetails; tt.wantMessage != "" && (ed == nil || ed.Message != tt.wantMessage) {
				t.Errorf("error details %+v, want %q", ed, tt.wantMessage)
			}
		})
	}
}

// TestFailJob fails the jobs whose worker ended without reporting, and
// leaves those it reported; only an unreported job waits.
func TestFailJob(t *testing.T) {
	crashed := action.Failed(action.CodeJobFailed, "the function crashed")
	tests := []struct {
		name       string
		report     *action.Result
		wantStatus string
		wantJob    string
	}{
		{"unreported", nil, store.ActionFailed, store.JobFailed},
		{"reported", &action.Result{Status: action.StatusSucceeded}, store.ActionSucceeded, store.JobSucceeded},
	}
	if waiting, err := newFixture(t).rt.JobWaiting(context.Background(), "00000000-0000-4000-8000-999999999999"); err != nil || waiting {
		t.Errorf("a job that does not exist waits: %t, %v", waiting, err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.prov.results["Checkout"] = []*action.Result{{Status: action.StatusInProgress}}
			f.enter(t, "Source")
			if _, err := f.run(t, "Source", "Checkout"); err != nil {
				t.Fatal(err)
			}
			id := f.record(t, "Source", "Checkout", 1).ActionExecutionID
			if tt.report != nil {
				j, err := f.rt.Store.GetJob(f.ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if err := f.rt.SettleJob(f.ctx, j, JobReport{Result: tt.report}); err != nil {
					t.Fatal(err)
				}
			}
			if waiting, err := f.rt.JobWaiting(f.ctx, id); err != nil || waiting != (tt.report == nil) {
				t.Errorf("job waiting: %t, %v", waiting, err)
			}
			if err := f.rt.FailJob(f.ctx, id, crashed); err != nil {
				t.Fatal(err)
			}
			if waiting, err := f.rt.JobWaiting(f.ctx, id); err != nil || waiting {
				t.Errorf("job waiting after it failed: %t, %v", waiting, err)
			}
			if rec := f.record(t, "Source", "Checkout", 1); rec.Status != tt.wantStatus {
				t.Errorf("action %s, want %s", rec.Status, tt.wantStatus)
			}
			if j, err := f.rt.Store.GetJob(f.ctx, id); err != nil || j.Value.Status != tt.wantJob {
				t.Errorf("job %+v, %v, want %s", j.Value, err, tt.wantJob)
			}
		})
	}
}
