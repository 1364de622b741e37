package local

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/golden"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
)

// TestProgress feeds the display the snapshots a run would read, changes
// noticed late and out of order included, and compares what it printed
// with a golden file.
func TestProgress(t *testing.T) {
	f, err := pipeline.Load("testdata/site.yaml", pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	stage := func(name, status string, attempt, from, to int) store.StageExecution {
		return store.StageExecution{StageName: name, Status: status, Attempt: attempt, RetryMode: "FAILED_ACTIONS", StartTime: at(from), LastUpdateTime: at(to)}
	}
	act := func(stage, name, category, status string, from, to int) store.ActionExecution {
		return store.ActionExecution{StageName: stage, ActionName: name, Status: status, Attempt: 1, StartTime: at(from), LastUpdateTime: at(to),
			Input: store.ActionExecutionInput{ActionTypeID: store.ActionTypeID{Category: category}}}
	}
	source := act("Source", "Checkout", "Source", store.ActionSucceeded, 10, 40)
	source.Revision = &store.ActionRevision{RevisionID: "1a2b3c4d5e6f7a8b9c0d", RevisionSummary: "Add the guide\n\nLonger text."}
	render := act("Build", "Render", "Build", store.ActionFailed, 60, 1260)
	render.Output.ExecutionResult.ErrorDetails = &store.ErrorDetails{Code: "JobFailed", Message: "Build terminated with state: FAILED.\nLast lines of the log:\nsite.css:3: missing semicolon"}
	check := act("Build", "Check", "Test", store.ActionSucceeded, 60, 300)
	check.Output.ExecutionResult.ExternalExecutionSummary = "Build site-test:1 succeeded"
	approve := act("Approval", "Approve", "Approval", store.ActionSucceeded, 2000, 95000)
	approve.Output.ExecutionResult.ExternalExecutionSummary = "looks right"
	approve.UpdatedBy = "dave"
	snapshots := []struct {
		stages  []store.StageExecution
		actions []store.ActionExecution
		waiting []string // stage, reason
	}{
		{stages: []store.StageExecution{stage("Source", store.StageInProgress, 1, 0, 0)}},
		// Noticed late: Source ended, Build started and Check ended in one
		// snapshot.
		{stages: []store.StageExecution{stage("Source", store.StageSucceeded, 1, 0, 50), stage("Build", store.StageInProgress, 1, 55, 55)},
			actions: []store.ActionExecution{check, source, act("Build", "Render", "Build", store.ActionInProgress, 60, 60)}},
		{stages: []store.StageExecution{stage("Source", store.StageSucceeded, 1, 0, 50), stage("Build", store.StageFailed, 1, 55, 1270)},
			actions: []store.ActionExecution{check, source, render}},
		{waiting: []string{"Build", "the inbound transition is disabled: freeze (ops)"}},
		{waiting: []string{"Build", "the inbound transition is disabled: freeze (ops)"}},
		{stages: []store.StageExecution{stage("Build", store.StageSucceeded, 2, 1500, 1900), stage("Approval", store.StageSucceeded, 1, 1950, 95100)},
			actions: []store.ActionExecution{approve}},
	}
	var out bytes.Buffer
	p := newProgress(&out, f.Pipelines[0].Declaration, func(s, a string) string { return filepath.Join("testdata", "no-such-log") })
	p.loc, p.now = time.UTC, func() time.Time { return at(1400) }
	for _, s := range snapshots {
		p.update(s.stages, s.actions)
		if s.waiting != nil {
			p.waiting(s.waiting[0], s.waiting[1])
		}
	}
	golden.Check(t, filepath.Join("testdata", "golden", "progress.txt"), out.Bytes())
}

func TestPrefixWriter(t *testing.T) {
	var out bytes.Buffer
	p := &prefixWriter{out: &out, prefix: "  | Build/Render: "}
	for _, chunk := range []string{"first ", "line\r\nsecond line\n", "", "third", " line, unfinished"} {
		p.Write([]byte(chunk))
	}
	p.flush()
	want := "  | Build/Render: first line\n  | Build/Render: second line\n  | Build/Render: third line, unfinished\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}
