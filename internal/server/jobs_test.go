package server_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/sluice-ci/sluice/internal/action"
)

// workers is an action provider whose jobs a worker outside reports (a
// runtime.Invoker): it hands each job over, by action, once it is
// recorded.
type workers struct {
	mu   sync.Mutex
	jobs map[string][]string // job ids by action name, in the order handed over
}

func (w *workers) Run(context.Context, *action.Job) (*action.Result, error) {
	return &action.Result{Status: action.StatusInProgress, ExternalExecutionURL: "https://example.com/runs"}, nil
}

func (w *workers) Invoke(_ context.Context, job *action.Job, _ string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.jobs[job.ActionName] = append(w.jobs[job.ActionName], job.ID)
	return nil
}

// job waits for the nth job of an action to be handed over.
func (w *workers) job(t *testing.T, actionName string, n int) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		w.mu.Lock()
		jobs := w.jobs[actionName]
		w.mu.Unlock()
		if len(jobs) >= n {
			return jobs[n-1]
		}
	}
	t.Fatalf("no job %d of %s was handed over", n, actionName)
	return ""
}

// TestJobProgress reports on jobs with PutJobSuccessResult and
// PutJobFailureResult and reads what the action shows: the summary,
// external execution id and percentage complete of executionDetails and
// the current revision, while the job continues and once it ends, in
// GetPipelineState and ListActionExecutions.
func TestJobProgress(t *testing.T) {
	ts := startServer(t, "")
	w := &workers{jobs: map[string][]string{}}
	ts.srv.Local.Runtime.Providers.Register(action.Type{Category: "Invoke", Owner: "AWS", Provider: "Lambda"}, w)
	ts.putSource("v1")
	c := ts.client
	ctx := context.Background()
	if _, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(t, "invoke.json", "invoke")}); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	type want struct {
		status                  types.ActionExecutionStatus
		summary, id, url, rev   string
		percent                 int32 // -1: none
		errorMessage, exception string
	}
	tests := []struct {
		name   string
		action string
		job    int
		report func(job string) error
		want   want
	}{
		{"a report out of range is refused", "Succeed", 1, func(job string) error {
			_, err := c.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: aws.String(job),
				ContinuationToken: aws.String("step-2"), ExecutionDetails: &types.ExecutionDetails{PercentComplete: aws.Int32(101)}})
			return err
		}, want{status: types.ActionExecutionStatusInProgress, url: "https://example.com/runs", percent: -1, exception: "ValidationException"}},
		{"a job that continues shows its progress", "Succeed", 1, func(job string) error {
			_, err := c.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: aws.String(job),
				ContinuationToken: aws.String("step-2"),
				ExecutionDetails:  &types.ExecutionDetails{Summary: aws.String("building"), ExternalExecutionId: aws.String("build-7"), PercentComplete: aws.Int32(40)},
				CurrentRevision:   &types.CurrentRevision{Revision: aws.String("r1"), ChangeIdentifier: aws.String("ch1"), Created: aws.Time(created)}})
			return err
		}, want{status: types.ActionExecutionStatusInProgress, summary: "building", id: "build-7", url: "https://example.com/runs", rev: "r1", percent: 40}},
		{"the job's end keeps what it does not change", "Succeed", 2, func(job string) error {
			_, err := c.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: aws.String(job),
				ExecutionDetails: &types.ExecutionDetails{Summary: aws.String("built"), PercentComplete: aws.Int32(100)}})
			return err
		}, want{status: types.ActionExecutionStatusSucceeded, summary: "built", id: "build-7", url: "https://example.com/runs", rev: "r1", percent: 100}},
		{"a failure with its external id", "Fail", 1, func(job string) error {
			_, err := c.PutJobFailureResult(ctx, &codepipeline.PutJobFailureResultInput{JobId: aws.String(job),
				FailureDetails: &types.FailureDetails{Type: types.FailureTypeJobFailed, Message: aws.String("tests failed"), ExternalExecutionId: aws.String("test-3")}})
			return err
		}, want{status: types.ActionExecutionStatusFailed, id: "test-3", url: "https://example.com/runs", percent: -1, errorMessage: "tests failed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.report(w.job(t, tc.action, tc.job))
			if tc.want.exception != "" {
				wantCode(t, "report", err, tc.want.exception)
			} else if err != nil {
				t.Fatal(err)
			}
			var le *types.ActionExecution
			var as types.ActionState
			for range 3000 {
				st, err := c.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String("invoke")})
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range st.StageStates[1].ActionStates {
					if aws.ToString(a.ActionName) == tc.action {
						as, le = a, a.LatestExecution
					}
				}
				if le != nil && le.Status == tc.want.status {
					break
				}
				sleep()
			}
			if le == nil || le.Status != tc.want.status {
				t.Fatalf("GetPipelineState: %s is %+v, want %s", tc.action, le, tc.want.status)
			}
			percent := int32(-1)
			if le.PercentComplete != nil {
				percent = *le.PercentComplete
			}
			if aws.ToString(le.Summary) != tc.want.summary || aws.ToString(le.ExternalExecutionId) != tc.want.id ||
				aws.ToString(le.ExternalExecutionUrl) != tc.want.url || percent != tc.want.percent {
				t.Errorf("GetPipelineState: summary %q, external id %q, url %q, percent %d; want %+v",
					aws.ToString(le.Summary), aws.ToString(le.ExternalExecutionId), aws.ToString(le.ExternalExecutionUrl), percent, tc.want)
			}
			if tc.want.rev != "" && (as.CurrentRevision == nil || aws.ToString(as.CurrentRevision.RevisionId) != tc.want.rev ||
				aws.ToString(as.CurrentRevision.RevisionChangeId) != "ch1" || !aws.ToTime(as.CurrentRevision.Created).Equal(created)) {
				t.Errorf("GetPipelineState: current revision %+v, want %s", as.CurrentRevision, tc.want.rev)
			}
			if tc.want.errorMessage != "" && (le.ErrorDetails == nil || aws.ToString(le.ErrorDetails.Message) != tc.want.errorMessage) {
				t.Errorf("GetPipelineState: error details %+v", le.ErrorDetails)
			}
			acts, err := c.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String("invoke")})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range acts.ActionExecutionDetails {
				if aws.ToString(a.ActionName) != tc.action {
					continue
				}
				r := a.Output.ExecutionResult
				if r == nil || aws.ToString(r.ExternalExecutionSummary) != tc.want.summary || aws.ToString(r.ExternalExecutionId) != tc.want.id ||
					aws.ToString(r.ExternalExecutionUrl) != tc.want.url {
					t.Errorf("ListActionExecutions: execution result %+v, want %+v", r, tc.want)
				}
			}
		})
	}
}

// TestJobDetailsKeepSecrets hands the job of a source with an OAuthToken
// to a worker: GetJobDetails gives the job's configuration with the
// secret masked.
func TestJobDetailsKeepSecrets(t *testing.T) {
	ts := startServer(t, "")
	ctx := context.Background()
	w := &workers{jobs: map[string][]string{}}
	ts.srv.Local.Runtime.Providers.Register(action.Type{Category: "Source", Owner: "ThirdParty", Provider: "GitHub"}, w)
	if _, err := ts.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(t, "github.json", "legacy")}); err != nil {
		t.Fatal(err)
	}
	details := ts.jobDetails(w.job(t, "GitHub", 1))
	data := details.JobDetails.Data
	got := data.ActionConfiguration.Configuration
	if got["OAuthToken"] != "****" || got["Repo"] != "legacy" {
		t.Errorf("the job's configuration %v, want the OAuthToken masked", got)
	}
	// The artifact the job puts: where the action's output goes.
	exec := aws.ToString(data.PipelineContext.PipelineExecutionId)
	if outs := data.OutputArtifacts; len(outs) != 1 || aws.ToString(outs[0].Name) != "Code" ||
		aws.ToString(outs[0].Location.S3Location.ObjectKey) != "legacy/"+exec+"/Code" {
		t.Errorf("the job's output artifacts %+v", outs)
	}
}
