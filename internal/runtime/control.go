package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sluice-ci/sluice/internal/compile"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/variables"
)

// PutPipeline stores a new version of a pipeline and deploys its compiled
// state machine. The declaration is taken as it is: validate it first. It
// returns the version stored.
func (r *Runtime) PutPipeline(ctx context.Context, d *pipeline.Declaration) (int, error) {
	m, err := compile.Compile(d, r.Compile)
	if err != nil {
		return 0, err
	}
	def, err := compile.Marshal(m, false)
	if err != nil {
		return 0, err
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return 0, fmt.Errorf("encode pipeline %s: %w", d.Name, err)
	}
	version := 1
	switch latest, err := r.Store.GetPipeline(ctx, d.Name, 0); {
	case err == nil:
		version = latest.Version + 1
	case !errors.Is(err, store.ErrNotFound):
		return 0, fmt.Errorf("read pipeline %s: %w", d.Name, err)
	}
	if err := r.Engine.PutStateMachine(ctx, d.Name, def); err != nil {
		return 0, fmt.Errorf("deploy state machine of %s: %w", d.Name, err)
	}
	err = r.Store.PutPipeline(ctx, store.Pipeline{Name: d.Name, Version: version, Declaration: raw, Created: r.now()})
	if err != nil {
		return 0, fmt.Errorf("store pipeline %s: %w", d.Name, err)
	}
	return version, nil
}

// StartInput is StartPipelineExecution's request.
type StartInput struct {
	Pipeline string
	// ExecutionID names the execution (a UUID); empty: a new one. Starting
	// an id that exists already starts nothing and returns it.
	ExecutionID     string
	Trigger         store.ExecutionTrigger // default: StartPipelineExecution
	Variables       map[string]string
	SourceRevisions []store.SourceRevisionOverride
}

// StartPipelineExecution records a new execution of the pipeline's latest
// version, with its pipeline-level variables settled, and starts its state
// machine execution, named after it.
func (r *Runtime) StartPipelineExecution(ctx context.Context, in StartInput) (string, error) {
	p, err := r.Store.GetPipeline(ctx, in.Pipeline, 0)
	if errors.Is(err, store.ErrNotFound) {
		return "", &execution.Rejection{Code: "PipelineNotFoundException", Message: "no pipeline named " + in.Pipeline}
	}
	if err != nil {
		return "", fmt.Errorf("read pipeline %s: %w", in.Pipeline, err)
	}
	d, err := r.declaration(ctx, in.Pipeline, p.Version)
	if err != nil {
		return "", err
	}
	vars, err := variables.Pipeline(d.Variables, in.Variables)
	if err != nil {
		return "", &execution.Rejection{Code: "ValidationException", Message: err.Error()}
	}
	id := in.ExecutionID
	if id == "" {
		id = r.newID()
	}
	trigger := in.Trigger
	if trigger.TriggerType == "" {
		trigger.TriggerType = "StartPipelineExecution"
	}
	now := r.now()
	e := store.PipelineExecution{
		PipelineName: in.Pipeline, PipelineVersion: p.Version, PipelineExecutionID: id,
		Status: store.ExecutionInProgress, Variables: vars, Trigger: trigger,
		ExecutionMode: string(d.EffectiveExecutionMode()), ExecutionType: store.TypeStandard,
		StartTime: now, LastUpdateTime: now, SourceRevisions: in.SourceRevisions,
	}
	if err := r.Store.CreatePipelineExecution(ctx, e); err != nil && !errors.Is(err, store.ErrConditionFailed) {
		return "", fmt.Errorf("record pipeline execution: %w", err)
	}
	if err := r.Engine.StartExecution(ctx, in.Pipeline, id, json.RawMessage(`{}`)); err != nil {
		return "", fmt.Errorf("start state machine execution: %w", err)
	}
	return id, nil
}

// StopPipelineExecution stops an execution. Stop and wait lets the actions
// in progress finish and starts no other: the execution is Stopping until
// the gate ends it at its stage's exit, at once if it waits at a stage's
// entry. Abandoning stops the state machine execution now, marks the actions
// in progress Abandoned and releases the stage.
func (r *Runtime) StopPipelineExecution(ctx context.Context, pipelineName, id string, abandon bool, reason string) error {
	var stopped store.PipelineExecution
	err := r.updateExecutionChecked(ctx, pipelineName, id, func(e *store.PipelineExecution) error {
		next, err := execution.Stop(*e, abandon, reason, r.now())
		*e, stopped = next, next
		return err
	})
	if err != nil {
		return err
	}
	d, err := r.declaration(ctx, pipelineName, stopped.PipelineVersion)
	if err != nil {
		return err
	}
	// An execution waiting at a stage's entry stops there, in either mode.
	for _, st := range d.Stages {
		if err := r.withdraw(ctx, pipelineName, st.Name, id, stopped.ExecutionMode); err != nil {
			return err
		}
	}
	if !abandon {
		return nil
	}
	if err := r.Engine.StopExecution(ctx, pipelineName, id, execution.ErrPipelineStopped, reason); err != nil {
		return fmt.Errorf("stop state machine execution: %w", err)
	}
	return r.ExecutionEnded(ctx, pipelineName, id, store.ExecutionStopped, reason)
}

// withdraw takes the execution out of a stage's waiters, failing its entry.
func (r *Runtime) withdraw(ctx context.Context, pipelineName, stage, id, mode string) error {
	c, err := r.Store.GetStageControl(ctx, pipelineName, stage)
	if err != nil {
		return fmt.Errorf("read stage %s: %w", stage, err)
	}
	waiting := execution.Parks(c.Value, id)
	for _, w := range c.Value.Waiters {
		waiting = waiting || w.PipelineExecutionID == id
	}
	if !waiting {
		return nil
	}
	now := r.now()
	_, err = r.Gate().Apply(ctx, pipelineName, stage, func(ctx context.Context, c store.StageControl) (execution.Decision, []store.Write, error) {
		d := execution.Withdraw(c, mode, id, execution.ErrPipelineStopped, "Pipeline execution "+id+" was stopped.", now)
		e, err := r.Store.GetPipelineExecution(ctx, pipelineName, id)
		if err != nil {
			return d, nil, err
		}
		e.Value.Status, e.Value.LastUpdateTime = store.ExecutionStopped, now
		w, err := store.PipelineExecutionWrite(e)
		if err != nil {
			return d, nil, err
		}
		writes := []store.Write{w}
		// Let in, its entry conditions waiting: the stage stops there.
		se, err := r.Store.GetStageExecution(ctx, pipelineName, id, stage)
		switch {
		case err == nil && se.Value.Status == store.StageInProgress:
			se.Value.Status, se.Value.LastUpdateTime = store.StageStopped, now
			sw, err := store.StageExecutionWrite(se)
			if err != nil {
				return d, nil, err
			}
			writes = append(writes, sw)
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return d, nil, fmt.Errorf("read stage execution: %w", err)
		}
		return d, writes, nil
	})
	return err
}

// RetryStageExecution retries a failed (or stopped-and-waited) stage within
// the same execution: the decision records the next attempt, and the state
// machine execution is redriven from the stage's exit, which sends it back to
// the stage's entry.
func (r *Runtime) RetryStageExecution(ctx context.Context, pipelineName, stage, id, mode string) error {
	e, err := r.Store.GetPipelineExecution(ctx, pipelineName, id)
	if errors.Is(err, store.ErrNotFound) {
		return &execution.Rejection{Code: "PipelineExecutionNotFoundException", Message: "no execution " + id + " of pipeline " + pipelineName}
	}
	if err != nil {
		return fmt.Errorf("read pipeline execution: %w", err)
	}
	latest, err := r.Store.GetPipeline(ctx, pipelineName, 0)
	if err != nil {
		return fmt.Errorf("read pipeline %s: %w", pipelineName, err)
	}
	d, err := r.declaration(ctx, pipelineName, e.Value.PipelineVersion)
	if err != nil {
		return err
	}
	st := d.Stage(stage)
	if st == nil {
		return &execution.Rejection{Code: "StageNotFoundException", Message: "pipeline " + pipelineName + " has no stage " + stage}
	}
	req := execution.RetryRequest{Mode: mode, Execution: e.Value, PipelineVersion: latest.Version}
	se, err := r.Store.GetStageExecution(ctx, pipelineName, id, stage)
	switch {
	case err == nil:
		req.Stage = &se.Value
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("read stage execution: %w", err)
	}
	c, err := r.Store.GetStageControl(ctx, pipelineName, stage)
	if err != nil {
		return fmt.Errorf("read stage %s: %w", stage, err)
	}
	req.Control = c.Value
	for _, a := range st.Actions {
		l, err := r.Store.LatestActionExecution(ctx, pipelineName, id, stage, a.Name)
		if err == nil {
			req.Actions = append(req.Actions, l.Value)
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("read action execution: %w", err)
		}
	}
	nse, ne, err := execution.Retry(req, r.now())
	if err != nil {
		return err
	}
	sw, err := store.StageExecutionWrite(store.Versioned[store.StageExecution]{Value: nse, Version: se.Version})
	if err != nil {
		return err
	}
	ew, err := store.PipelineExecutionWrite(store.Versioned[store.PipelineExecution]{Value: ne, Version: e.Version})
	if err != nil {
		return err
	}
	if err := r.Store.Transact(ctx, sw, ew); err != nil {
		if errors.Is(err, store.ErrConditionFailed) {
			return &execution.Rejection{Code: "ConflictException", Message: "the execution changed while the retry was decided; try again"}
		}
		return fmt.Errorf("record retry: %w", err)
	}
	if err := r.Engine.RedriveExecution(ctx, pipelineName, id); err != nil {
		return fmt.Errorf("redrive state machine execution: %w", err)
	}
	return nil
}

// DisableStageTransition closes a stage's inbound transition.
func (r *Runtime) DisableStageTransition(ctx context.Context, pipelineName, stage, reason, user string) error {
	if _, err := r.latestWithStage(ctx, pipelineName, stage); err != nil {
		return err
	}
	now := r.now()
	_, err := r.Gate().Apply(ctx, pipelineName, stage, func(_ context.Context, c store.StageControl) (execution.Decision, []store.Write, error) {
		nc, err := execution.DisableInbound(c, reason, user, now)
		return execution.Decision{Control: nc}, nil, err
	})
	return err
}

// EnableStageTransition opens a stage's inbound transition and lets the
// waiting execution in.
func (r *Runtime) EnableStageTransition(ctx context.Context, pipelineName, stage, user string) error {
	d, err := r.latestWithStage(ctx, pipelineName, stage)
	if err != nil {
		return err
	}
	mode, now := string(d.EffectiveExecutionMode()), r.now()
	_, err = r.Gate().Apply(ctx, pipelineName, stage, func(_ context.Context, c store.StageControl) (execution.Decision, []store.Write, error) {
		return execution.EnableInbound(c, mode, user, now), nil, nil
	})
	return err
}

// latestWithStage returns the pipeline's latest declaration, which must
// have the stage.
func (r *Runtime) latestWithStage(ctx context.Context, pipelineName, stage string) (*pipeline.Declaration, error) {
	d, _, err := r.Declaration(ctx, pipelineName, 0)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &execution.Rejection{Code: "PipelineNotFoundException", Message: "no pipeline named " + pipelineName}
	}
	if err != nil {
		return nil, err
	}
	if d.Stage(stage) == nil {
		return nil, &execution.Rejection{Code: "StageNotFoundException", Message: "pipeline " + pipelineName + " has no stage " + stage}
	}
	return d, nil
}

// updateExecutionChecked applies a change that may be refused, with a
// conditional write, again on conflict.
func (r *Runtime) updateExecutionChecked(ctx context.Context, pipelineName, id string, change func(*store.PipelineExecution) error) error {
	for range maxConflicts {
		e, err := r.Store.GetPipelineExecution(ctx, pipelineName, id)
		if errors.Is(err, store.ErrNotFound) {
			return &execution.Rejection{Code: "PipelineExecutionNotFoundException", Message: "no execution " + id + " of pipeline " + pipelineName}
		}
		if err != nil {
			return fmt.Errorf("read pipeline execution %s: %w", id, err)
		}
		if err := change(&e.Value); errors.Is(err, errUnchanged) {
			return nil
		} else if err != nil {
			return err
		}
		err = r.Store.PutPipelineExecution(ctx, e)
		if !errors.Is(err, store.ErrConditionFailed) {
			return err
		}
	}
	return fmt.Errorf("update pipeline execution %s: still conflicting after %d attempts", id, maxConflicts)
}
