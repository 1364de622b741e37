package execution

import (
	"errors"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/store"
)

func code(err error) string {
	var r *Rejection
	if errors.As(err, &r) {
		return r.Code
	}
	if err != nil {
		return "unexpected: " + err.Error()
	}
	return ""
}

func TestRetry(t *testing.T) {
	exec := store.PipelineExecution{PipelineExecutionID: "e1", Status: store.ExecutionFailed, PipelineVersion: 2}
	failed := store.StageExecution{PipelineExecutionID: "e1", StageName: "Build", Status: store.StageFailed, Attempt: 1}
	actions := []store.ActionExecution{{ActionName: "a", Status: store.ActionFailed}, {ActionName: "b", Status: store.ActionSucceeded}}
	base := func() RetryRequest {
		se := failed
		return RetryRequest{Mode: RetryFailedActions, Execution: exec, Stage: &se,
			Control: store.StageControl{LatestExecutionID: "e1"}, Actions: actions, PipelineVersion: 2}
	}
	tests := []struct {
		name   string
		change func(*RetryRequest)
		want   string
	}{
		{"failed actions", func(*RetryRequest) {}, ""},
		{"all actions", func(r *RetryRequest) { r.Mode = RetryAllActions }, ""},
		{"unknown mode", func(r *RetryRequest) { r.Mode = "SOME" }, "ValidationException"},
		{"stage never ran", func(r *RetryRequest) { r.Stage = nil }, "StageNotRetryableException"},
		{"a later execution ran the stage", func(r *RetryRequest) { r.Control.LatestExecutionID = "e2" }, "NotLatestPipelineExecutionException"},
		{"stage succeeded", func(r *RetryRequest) { r.Stage.Status = store.StageSucceeded }, "StageNotRetryableException"},
		{"stage in progress", func(r *RetryRequest) { r.Stage.Status = store.StageInProgress }, "StageNotRetryableException"},
		{"retry already asked for", func(r *RetryRequest) { r.Stage.NextAttempt = 2 }, "ConflictException"},
		{"pipeline updated since", func(r *RetryRequest) { r.PipelineVersion = 3 }, "StageNotRetryableException"},
		{"no failed action", func(r *RetryRequest) { r.Actions = actions[1:] }, "StageNotRetryableException"},
		{"all actions with one in progress", func(r *RetryRequest) {
			r.Mode = RetryAllActions
			r.Actions = append(r.Actions, store.ActionExecution{ActionName: "c", Status: store.ActionInProgress})
		}, "StageNotRetryableException"},
		{"failed actions with one in progress", func(r *RetryRequest) {
			r.Actions = append(r.Actions, store.ActionExecution{ActionName: "c", Status: store.ActionInProgress})
		}, ""},
		{"stopped by waiting", func(r *RetryRequest) {
			r.Stage.Status = store.StageStopped
			r.Execution.Status = store.ExecutionStopped
			r.Actions = actions[1:]
		}, ""},
		{"stopped by abandoning", func(r *RetryRequest) {
			r.Stage.Status = store.StageStopped
			r.Execution.Status = store.ExecutionStopped
			r.Execution.Abandon = true
			r.Actions = []store.ActionExecution{{ActionName: "a", Status: store.ActionAbandoned}, actions[1]}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base()
			tt.change(&r)
			se, e, err := Retry(r, t0)
			if got := code(err); got != tt.want {
				t.Fatalf("code %q, want %q (%v)", got, tt.want, err)
			}
			if err != nil {
				return
			}
			if se.NextAttempt != 2 || se.RetryMode != r.Mode || e.Status != store.ExecutionInProgress || e.StopTrigger != nil || e.Abandon {
				t.Errorf("stage %+v, execution %+v", se, e)
			}
		})
	}
}

func TestEnterStage(t *testing.T) {
	retried := &store.StageExecution{Status: store.StageFailed, Attempt: 1, NextAttempt: 2}
	running := &store.StageExecution{Status: store.StageInProgress, Attempt: 2}
	tests := []struct {
		name     string
		existing *store.StageExecution
		attempt  int
		status   string
	}{
		{"first entry", nil, 1, store.StageInProgress},
		{"entry after a retry", retried, 2, store.StageInProgress},
		{"redelivered entry", running, 2, store.StageInProgress},
		{"failed, no retry asked", &store.StageExecution{Status: store.StageFailed, Attempt: 1}, 1, store.StageFailed},
	}
	for _, tt := range tests {
		se := EnterStage(tt.existing, "p", "e1", "Build", t0)
		if se.Attempt != tt.attempt || se.Status != tt.status || se.NextAttempt != 0 && tt.existing == retried {
			t.Errorf("%s: %+v", tt.name, se)
		}
	}
}

func TestSkipOnRetry(t *testing.T) {
	retry := store.StageExecution{Attempt: 2, RetryMode: RetryFailedActions}
	tests := []struct {
		name   string
		stage  store.StageExecution
		latest *store.ActionExecution
		want   bool
	}{
		{"succeeded before", retry, &store.ActionExecution{Attempt: 1, Status: store.ActionSucceeded}, true},
		{"failed before", retry, &store.ActionExecution{Attempt: 1, Status: store.ActionFailed}, false},
		{"never ran (later runOrder)", retry, nil, false},
		{"all actions", store.StageExecution{Attempt: 2, RetryMode: RetryAllActions}, &store.ActionExecution{Attempt: 1, Status: store.ActionSucceeded}, false},
		{"this attempt (redelivery)", retry, &store.ActionExecution{Attempt: 2, Status: store.ActionSucceeded}, false},
		{"first attempt", store.StageExecution{Attempt: 1}, nil, false},
	}
	for _, tt := range tests {
		if got := SkipOnRetry(tt.stage, tt.latest); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFinishStage(t *testing.T) {
	tests := []struct {
		name       string
		status     string
		outcome    Outcome
		last       bool
		wantStage  string
		wantExec   string
		wantErrorN string
	}{
		{"completed", store.ExecutionInProgress, Completed, false, store.StageSucceeded, store.ExecutionInProgress, ""},
		{"last stage completed", store.ExecutionInProgress, Completed, true, store.StageSucceeded, store.ExecutionSucceeded, ""},
		{"failed", store.ExecutionInProgress, FailedActions, false, store.StageFailed, store.ExecutionFailed, ErrStageFailed},
		{"stopping", store.ExecutionStopping, Completed, false, store.StageSucceeded, store.ExecutionStopped, ErrPipelineStopped},
		{"stopping with a failure", store.ExecutionStopping, FailedActions, true, store.StageStopped, store.ExecutionStopped, ErrPipelineStopped},
	}
	for _, tt := range tests {
		se, e, name := FinishStage(store.StageExecution{StageName: "Build"}, store.PipelineExecution{Status: tt.status}, tt.outcome, tt.last, t0)
		if se.Status != tt.wantStage || e.Status != tt.wantExec || name != tt.wantErrorN {
			t.Errorf("%s: stage %s, execution %s, error %q", tt.name, se.Status, e.Status, name)
		}
	}
}

func TestStop(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		abandon bool // earlier stop
		now     bool // this stop
		want    string
	}{
		{"stop and wait", store.ExecutionInProgress, false, false, ""},
		{"abandon", store.ExecutionInProgress, false, true, ""},
		{"wait, then abandon", store.ExecutionStopping, false, true, ""},
		{"wait twice", store.ExecutionStopping, false, false, "DuplicatedStopRequestException"},
		{"abandon twice", store.ExecutionStopping, true, true, "DuplicatedStopRequestException"},
		{"finished", store.ExecutionSucceeded, false, false, "PipelineExecutionNotStoppableException"},
		{"stopped", store.ExecutionStopped, false, true, "PipelineExecutionNotStoppableException"},
	}
	for _, tt := range tests {
		e, err := Stop(store.PipelineExecution{Status: tt.status, Abandon: tt.abandon}, tt.now, "why", t0)
		if got := code(err); got != tt.want {
			t.Errorf("%s: code %q, want %q", tt.name, got, tt.want)
			continue
		}
		if err == nil && (e.Status != store.ExecutionStopping || e.Abandon != tt.now || e.StopTrigger.Reason != "why") {
			t.Errorf("%s: %+v", tt.name, e)
		}
	}
}

func TestDecide(t *testing.T) {
	pending := store.Approval{Token: "tk", StageName: "Approve", ActionName: "Ok", Status: store.ApprovalPending, Expires: t0.Add(time.Hour)}
	tests := []struct {
		name          string
		approval      store.Approval
		token, status string
		at            time.Time
		want          string
	}{
		{"approve", pending, "tk", store.ApprovalApproved, t0, ""},
		{"reject", pending, "tk", store.ApprovalRejected, t0, ""},
		{"bad status", pending, "tk", "Maybe", t0, "ValidationException"},
		{"wrong token", pending, "other", store.ApprovalApproved, t0, "InvalidApprovalTokenException"},
		{"already decided", store.Approval{Token: "tk", StageName: "Approve", ActionName: "Ok", Status: store.ApprovalApproved, Expires: t0.Add(time.Hour)},
			"tk", store.ApprovalRejected, t0, "ApprovalAlreadyCompletedException"},
		{"expired", pending, "tk", store.ApprovalApproved, t0.Add(time.Hour), "ApprovalAlreadyCompletedException"},
	}
	for _, tt := range tests {
		a, err := Decide(tt.approval, "Approve", "Ok", tt.token, tt.status, "looks good", "alice", tt.at)
		if got := code(err); got != tt.want {
			t.Errorf("%s: code %q, want %q", tt.name, got, tt.want)
			continue
		}
		if err == nil && (a.Status != tt.status || a.Summary != "looks good" || a.DecidedBy != "alice") {
			t.Errorf("%s: %+v", tt.name, a)
		}
	}
}

func TestApprovalTimeout(t *testing.T) {
	if got := ApprovalTimeout(0); got != 7*24*time.Hour {
		t.Errorf("default = %v", got)
	}
	if got := ApprovalTimeout(5); got != 5*time.Minute {
		t.Errorf("5 minutes = %v", got)
	}
}
