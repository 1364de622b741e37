package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/variables"
)

// Invoker is a provider whose jobs a worker outside the engine does and
// reports through the job operations (PutJobSuccessResult,
// PutJobFailureResult): the function of a Lambda invoke action. Its Run
// checks the job and returns InProgress without starting anything; the
// runtime calls Invoke once the job is recorded, so that the worker never
// reports a job that does not exist yet, and again, with the next job and
// its continuation token, each time a report asks to continue. Invoke hands
// the job over and returns; an error fails the job. The job's Log is not
// theirs to keep.
type Invoker interface {
	Invoke(ctx context.Context, job *action.Job, continuation string) error
}

// invoke hands a recorded job to its provider, if the provider is an
// Invoker.
func (r *Runtime) invoke(ctx context.Context, job *action.Job, continuation string) error {
	p, err := r.Providers.Lookup(job.ActionType)
	if err != nil {
		return nil // the registry failed the job when it ran
	}
	inv, ok := p.(Invoker)
	if !ok {
		return nil
	}
	if err := inv.Invoke(ctx, job, continuation); err != nil {
		return r.FailJob(ctx, job.ID, action.Failed(action.CodeJobFailed, "invoke the job's worker: %v", err))
	}
	return nil
}

// jobReported reports whether a job's worker has reported it.
func jobReported(j store.Job) bool {
	return j.Status != store.JobInProgress && j.Status != store.JobCreated
}

// JobReport is a worker's report on its job: PutJobSuccessResult or
// PutJobFailureResult.
type JobReport struct {
	// Result is the outcome: its summary, external execution id and
	// current revision (executionDetails, currentRevision), output
	// variables, or failure.
	Result *action.Result
	// Continuation, when set, asks for the job to go on with a new job
	// that carries it.
	Continuation string
	// PercentComplete is the progress the worker reports
	// (executionDetails.percentComplete); nil when it gives none.
	PercentComplete *int
}

// SettleJob records a worker's report on its job. Without a continuation,
// the report ends the job's action attempt; with one, the job succeeds,
// what the report says of its progress is recorded on the attempt (its
// summary, external execution id, percentage complete, current revision),
// and the attempt goes on with a new job that carries the token, handed to
// the provider (the Lambda function is invoked again). A job reported
// already is InvalidJobStateException. A report on a job whose attempt has
// ended (stopped, or superseded by a retry) is recorded and changes
// nothing else.
func (r *Runtime) SettleJob(ctx context.Context, j store.Versioned[store.Job], rep JobReport) error {
	v, res := j.Value, rep.Result
	if jobReported(v) {
		return &execution.Rejection{Code: "InvalidJobStateException", Message: fmt.Sprintf("job %s is %s, not InProgress", v.ID, v.Status)}
	}
	current, err := r.jobAttempt(ctx, v)
	if err != nil {
		return err
	}
	if current != nil {
		if err := r.recordProgress(ctx, current, rep); err != nil {
			return fmt.Errorf("record the progress of job %s: %w", v.ID, err)
		}
	}
	if rep.Continuation != "" {
		return r.continueJob(ctx, j, current, rep.Continuation)
	}
	if current != nil {
		if err := r.CompleteAction(ctx, v.PipelineName, v.PipelineExecutionID, v.StageName, v.ActionName, res); err != nil {
			return fmt.Errorf("complete job %s: %w", v.ID, err)
		}
	}
	status := store.JobSucceeded
	if res.Status != action.StatusSucceeded {
		status = store.JobFailed
	}
	return r.recordJob(ctx, j, status)
}

// recordProgress records on an attempt in progress what a report says of
// its progress: the percentage complete, and for a continued job its
// summary, external execution id and current revision (a final report
// records them as it completes the attempt).
func (r *Runtime) recordProgress(ctx context.Context, a *store.ActionExecution, rep JobReport) error {
	if rep.PercentComplete == nil && rep.Continuation == "" {
		return nil
	}
	return r.updateAction(ctx, a, func(rec *store.ActionExecution) bool {
		if rec.Status != store.ActionInProgress {
			return false
		}
		if p := rep.PercentComplete; p != nil {
			n := int32(*p)
			rec.PercentComplete = &n
		}
		if res := rep.Result; rep.Continuation != "" && res != nil {
			rec.Output.ExecutionResult = mergeResult(rec.Output.ExecutionResult, res)
			if res.Revision != nil {
				rec.Revision = revisionOf(res.Revision)
			}
		}
		rec.LastUpdateTime = r.now()
		return true
	})
}

// updateAction applies change to an action attempt with a conditional
// write, again on conflict; change returns false when there is nothing to
// write.
func (r *Runtime) updateAction(ctx context.Context, a *store.ActionExecution, change func(*store.ActionExecution) bool) error {
	for range maxConflicts {
		rec, err := r.Store.GetActionExecution(ctx, a.PipelineName, a.PipelineExecutionID, a.StageName, a.ActionName, a.Attempt)
		if err != nil {
			return fmt.Errorf("read action execution: %w", err)
		}
		if !change(&rec.Value) {
			return nil
		}
		err = r.Store.PutActionExecution(ctx, rec)
		if !errors.Is(err, store.ErrConditionFailed) {
			return err
		}
	}
	return fmt.Errorf("update action execution: still conflicting after %d attempts", maxConflicts)
}

// jobAttempt returns the record of the job's attempt while its task waits
// for the outcome (also when the outcome is recorded but was not delivered:
// a report cut short is finished by reporting again), nil once the attempt
// has ended otherwise: stopped, or superseded by a retry.
func (r *Runtime) jobAttempt(ctx context.Context, v store.Job) (*store.ActionExecution, error) {
	pk, err := r.Store.GetParkedTask(ctx, v.PipelineName, v.PipelineExecutionID, v.StageName, v.ActionName)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read parked task: %w", err)
	case pk.Value.Attempt != v.Attempt:
		return nil, nil
	}
	rec, err := r.Store.GetActionExecution(ctx, v.PipelineName, v.PipelineExecutionID, v.StageName, v.ActionName, v.Attempt)
	if err != nil {
		return nil, fmt.Errorf("read the action execution of job %s: %w", v.ID, err)
	}
	if rec.Value.Status == store.ActionAbandoned {
		return nil, nil
	}
	return &rec.Value, nil
}

// recordJob records a job's new status.
func (r *Runtime) recordJob(ctx context.Context, j store.Versioned[store.Job], status string) error {
	j.Value.Status, j.Value.LastUpdateTime = status, r.now().Truncate(time.Millisecond)
	w, err := store.JobWrite(j)
	if err != nil {
		return err
	}
	return r.writeJobs(ctx, j.Value.ID, w)
}

func (r *Runtime) writeJobs(ctx context.Context, id string, writes ...store.Write) error {
	err := r.Store.Transact(ctx, writes...)
	if errors.Is(err, store.ErrConditionFailed) {
		return &execution.Rejection{Code: "InvalidJobStateException", Message: fmt.Sprintf("job %s changed meanwhile", id)}
	}
	if err != nil {
		return fmt.Errorf("record job %s: %w", id, err)
	}
	return nil
}

// continueJob ends a job that asked to continue and, while its attempt
// waits, records the next job and hands it to the provider.
func (r *Runtime) continueJob(ctx context.Context, j store.Versioned[store.Job], rec *store.ActionExecution, token string) error {
	now := r.now().Truncate(time.Millisecond)
	v := j.Value
	j.Value.Status, j.Value.LastUpdateTime = store.JobSucceeded, now
	w, err := store.JobWrite(j)
	if err != nil {
		return err
	}
	if rec == nil || rec.Status != store.ActionInProgress {
		return r.writeJobs(ctx, v.ID, w)
	}
	next := store.Job{
		ID: r.newID(), PipelineName: v.PipelineName, PipelineExecutionID: v.PipelineExecutionID,
		StageName: v.StageName, ActionName: v.ActionName, Attempt: v.Attempt,
		Status: store.JobInProgress, ContinuationToken: token, Created: now, LastUpdateTime: now,
	}
	nw, err := store.JobWrite(store.Versioned[store.Job]{Value: next})
	if err != nil {
		return err
	}
	if err := r.writeJobs(ctx, v.ID, w, nw); err != nil {
		return err
	}
	job, problem, err := r.attemptJob(ctx, rec)
	if err != nil {
		return err
	}
	if problem != nil {
		return r.FailJob(ctx, next.ID, problem)
	}
	job.ID = next.ID
	return r.invoke(ctx, job, token)
}

// attemptJob builds the provider's job of an attempt in progress again, as
// run built it.
func (r *Runtime) attemptJob(ctx context.Context, rec *store.ActionExecution) (*action.Job, *action.Result, error) {
	ac, err := r.load(ctx, ActionEvent{Pipeline: rec.PipelineName, Execution: rec.PipelineExecutionID, Stage: rec.StageName, Action: rec.ActionName})
	if err != nil {
		return nil, nil, err
	}
	all, err := r.priorOf(ctx, ac)
	if err != nil {
		return nil, nil, err
	}
	vc := variables.Context{
		PipelineExecutionID: rec.PipelineExecutionID,
		Pipeline:            variables.Map(ac.exec.Value.Variables),
		Namespaces:          namespaces(all),
	}
	again := *rec
	job, problem := r.job(ac, &again, all, vc)
	return job, problem, nil
}

// JobWaiting reports whether a job waits for its worker's report: it is
// not reported, and its attempt is in progress. A job that does not exist
// does not wait.
func (r *Runtime) JobWaiting(ctx context.Context, id string) (bool, error) {
	j, err := r.Store.GetJob(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read job %s: %w", id, err)
	case jobReported(j.Value):
		return false, nil
	}
	rec, err := r.jobAttempt(ctx, j.Value)
	return rec != nil && rec.Status == store.ActionInProgress, err
}

// FailJob fails a job that its worker ended without reporting (a Lambda
// function that crashed, timed out, or returned without calling
// PutJobSuccessResult or PutJobFailureResult). A job reported meanwhile is
// left as it is.
func (r *Runtime) FailJob(ctx context.Context, id string, res *action.Result) error {
	j, err := r.Store.GetJob(ctx, id)
	if err != nil {
		return fmt.Errorf("read job %s: %w", id, err)
	}
	if jobReported(j.Value) {
		return nil
	}
	err = r.SettleJob(ctx, j, JobReport{Result: res})
	var rej *execution.Rejection
	if errors.As(err, &rej) {
		return nil // reported meanwhile
	}
	return err
}
