package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/gate"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/variables"
)

// Ops of an ActionEvent.
const (
	OpRun    = "run"
	OpFailed = "failed"
)

// ActionEvent is what the compiled state machine sends the action handler:
// run an action (with the task token to answer), or record that its task
// failed (an error or timeout caught by the machine).
type ActionEvent struct {
	Op        string `json:"op"`
	Pipeline  string `json:"pipeline"`
	Stage     string `json:"stage"`
	Action    string `json:"action"`
	Execution string `json:"execution"`
	Token     string `json:"token,omitempty"`
	Error     string `json:"error,omitempty"`
	Cause     string `json:"cause,omitempty"`
}

// ActionResult is an action's outcome as the state machine reads it: the run
// op sends it through the task token, the failed op returns it. OK false
// halts the stage after the action's runOrder group.
type ActionResult struct {
	OK     bool   `json:"ok"`
	Status string `json:"status"`
}

// HandleAction is the action's Lambda handler.
func (r *Runtime) HandleAction(ctx context.Context, ev ActionEvent) (ActionResult, error) {
	if ev.Pipeline == "" || ev.Stage == "" || ev.Action == "" || ev.Execution == "" {
		return ActionResult{}, &gate.Invalid{Cause: fmt.Sprintf("action event %q: pipeline, stage, action and execution are required", ev.Op)}
	}
	var (
		res ActionResult
		err error
	)
	switch ev.Op {
	case OpRun:
		if ev.Token == "" {
			return ActionResult{}, &gate.Invalid{Cause: fmt.Sprintf("action event run %s/%s: no task token", ev.Stage, ev.Action)}
		}
		res, err = r.run(ctx, ev)
	case OpFailed:
		res, err = r.recordFailure(ctx, ev)
	default:
		return ActionResult{}, &gate.Invalid{Cause: fmt.Sprintf("action event: unknown op %q", ev.Op)}
	}
	if err != nil {
		cause := fmt.Sprintf("action %s/%s: %v", ev.Stage, ev.Action, err)
		var invalid *gate.Invalid
		if errors.As(err, &invalid) {
			return res, &gate.Invalid{Cause: cause}
		}
		return res, &gate.Transient{Cause: cause}
	}
	return res, nil
}

// attemptContext is what running an action attempt reads first.
type attemptContext struct {
	exec   store.Versioned[store.PipelineExecution]
	stage  store.StageExecution
	decl   *pipeline.Declaration
	action *pipeline.Action
	latest *store.Versioned[store.ActionExecution] // this action's newest attempt, if any
}

func (r *Runtime) load(ctx context.Context, ev ActionEvent) (*attemptContext, error) {
	e, err := r.Store.GetPipelineExecution(ctx, ev.Pipeline, ev.Execution)
	if err != nil {
		return nil, fmt.Errorf("read pipeline execution: %w", err)
	}
	se, err := r.Store.GetStageExecution(ctx, ev.Pipeline, ev.Execution, ev.Stage)
	if err != nil {
		return nil, fmt.Errorf("read stage execution: %w", err)
	}
	d, err := r.declaration(ctx, ev.Pipeline, e.Value.PipelineVersion)
	if err != nil {
		return nil, err
	}
	ac := &attemptContext{exec: e, stage: se.Value, decl: d}
	if st := d.Stage(ev.Stage); st != nil {
		ac.action = st.Action(ev.Action)
	}
	if ac.action == nil {
		return nil, &gate.Invalid{Cause: fmt.Sprintf("pipeline %s version %d has no action %s in stage %s", ev.Pipeline, e.Value.PipelineVersion, ev.Action, ev.Stage)}
	}
	latest, err := r.Store.LatestActionExecution(ctx, ev.Pipeline, ev.Execution, ev.Stage, ev.Action)
	switch {
	case err == nil:
		ac.latest = &latest
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("read action execution: %w", err)
	}
	return ac, nil
}

// run runs one action attempt, or answers again for one that ran.
func (r *Runtime) run(ctx context.Context, ev ActionEvent) (ActionResult, error) {
	ac, err := r.load(ctx, ev)
	if err != nil {
		return ActionResult{}, err
	}
	if ac.exec.Value.Status != store.ExecutionInProgress || ac.stage.Status != store.StageInProgress {
		// Stopping: actions that have not started do not start.
		return r.answer(ctx, ev.Token, execution.ResultStopped)
	}
	rec := store.Versioned[store.ActionExecution]{}
	if l := ac.latest; l != nil && l.Value.Attempt == ac.stage.Attempt {
		switch l.Value.Status {
		case store.ActionSucceeded, store.ActionFailed:
			return r.answer(ctx, ev.Token, l.Value.Status)
		case store.ActionAbandoned:
			return r.answer(ctx, ev.Token, execution.ResultStopped)
		}
		if ac.action.ActionTypeID.Category == pipeline.CategoryApproval {
			return r.repark(ctx, l.Value, ev.Token)
		}
		rec = *l // in progress: run again; the provider de-duplicates on the job id
	} else if ac.latest != nil && execution.SkipOnRetry(ac.stage, &ac.latest.Value) {
		return r.answer(ctx, ev.Token, execution.ResultSucceeded)
	}

	now := r.now()
	all, err := r.priorOf(ctx, ac)
	if err != nil {
		return ActionResult{}, err
	}
	if rec.Version == 0 {
		rec.Value = r.newAttempt(ac, all, now)
	}
	a := ac.action
	vc := variables.Context{
		PipelineExecutionID: ev.Execution,
		Pipeline:            variables.Map(ac.exec.Value.Variables),
		Namespaces:          namespaces(all),
	}
	job, problem := r.job(ac, &rec.Value, all, vc)
	if problem != nil {
		rec.Value = finish(rec.Value, problem, nil, now)
		if err := r.Store.PutActionExecution(ctx, rec); err != nil {
			return ActionResult{}, fmt.Errorf("record action: %w", err)
		}
		return r.answer(ctx, ev.Token, store.ActionFailed)
	}
	if a.ActionTypeID.Category == pipeline.CategoryApproval {
		return r.park(ctx, ac, rec, ev.Token, now)
	}
	if rec.Version == 0 {
		if err := r.Store.PutActionExecution(ctx, rec); err != nil {
			return ActionResult{}, fmt.Errorf("record action start: %w", err)
		}
		rec.Version = 1
	}
	if r.Logs != nil {
		w, err := r.Logs(ev.Pipeline, ev.Execution, ev.Stage, ev.Action)
		if err != nil {
			return ActionResult{}, err
		}
		defer w.Close()
		job.Log = w
	}
	res, err := r.Providers.Run(ctx, job)
	if err != nil {
		return ActionResult{}, fmt.Errorf("run %s: %w", a.ActionTypeID, err)
	}
	if res.Status == action.StatusInProgress {
		// The outcome arrives later; CompleteAction answers the token.
		rec.Value.Output.ExecutionResult.ExternalExecutionID = res.ExternalExecutionID
		rec.Value.Output.ExecutionResult.ExternalExecutionURL = res.ExternalExecutionURL
		rec.Value.Output.ExecutionResult.ExternalExecutionSummary = res.Summary
		rec.Value.LastUpdateTime = r.now()
		if err := r.parkTask(ctx, rec, ev.Token); err != nil {
			return ActionResult{}, err
		}
		if err := r.invoke(ctx, job, ""); err != nil {
			return ActionResult{}, err
		}
		return ActionResult{Status: store.ActionInProgress}, nil
	}
	return r.complete(ctx, ac.exec.Value, rec, res, job.OutputArtifacts, ev.Token)
}

// priorOf returns the latest attempts of the actions an action depends on:
// those that produce its input artifacts and those whose namespaces its
// configuration, commands and environment refer to.
func (r *Runtime) priorOf(ctx context.Context, ac *attemptContext) ([]store.ActionExecution, error) {
	a := ac.action
	values := slices.Collect(maps.Values(a.Configuration))
	values = append(values, a.Commands...)
	for _, ev := range a.EnvironmentVariables {
		values = append(values, ev.Value)
	}
	return r.prior(ctx, ac.decl, ac.exec.Value, ac.stage.StageName, values, a.InputArtifacts)
}

// prior returns the latest attempts, in execution e, of the actions that
// produce inputs or whose namespaces values refer to. A rollback execution
// runs its stage alone: what the other stages produced is read from the
// execution it rolls back to. Reading only these keeps an action's cost
// independent of the pipeline's size.
func (r *Runtime) prior(ctx context.Context, d *pipeline.Declaration, e store.PipelineExecution, stage string, values []string, inputs []pipeline.InputArtifact) ([]store.ActionExecution, error) {
	refs := variables.Namespaces(values...)
	type key struct{ stage, action string }
	var deps []key
	for _, st := range d.Stages {
		for _, other := range st.Actions {
			k := key{st.Name, other.Name}
			if other.Namespace != "" && slices.Contains(refs, other.Namespace) {
				deps = append(deps, k)
				continue
			}
			for _, oa := range other.OutputArtifacts {
				if slices.ContainsFunc(inputs, func(ia pipeline.InputArtifact) bool { return ia.Name == oa.Name }) {
					deps = append(deps, k)
					break
				}
			}
		}
	}
	var out []store.ActionExecution
	for _, k := range deps {
		from := e.PipelineExecutionID
		if rb := e.Rollback; rb != nil && k.stage != stage {
			from = rb.RollbackTargetPipelineExecutionID
		}
		l, err := r.Store.LatestActionExecution(ctx, e.PipelineName, from, k.stage, k.action)
		switch {
		case err == nil:
			out = append(out, l.Value)
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("read action execution %s/%s: %w", k.stage, k.action, err)
		}
	}
	return out, nil
}

// newAttempt is the record of an action attempt about to start.
func (r *Runtime) newAttempt(ac *attemptContext, all []store.ActionExecution, now time.Time) store.ActionExecution {
	a := ac.action
	in := store.ActionExecutionInput{
		ActionTypeID: store.ActionTypeID{
			Category: string(a.ActionTypeID.Category), Owner: string(a.ActionTypeID.Owner),
			Provider: a.ActionTypeID.Provider, Version: a.ActionTypeID.Version,
		},
		Configuration: pipeline.MaskSecrets(a.ActionTypeID, a.Configuration),
		RoleArn:       a.RoleArn,
		Region:        a.Region,
		Namespace:     a.Namespace,
	}
	for _, ia := range a.InputArtifacts {
		if p := producer(all, ia.Name); p != nil {
			in.InputArtifacts = append(in.InputArtifacts, artifactDetail(p, ia.Name))
		}
	}
	return store.ActionExecution{
		PipelineName:        ac.exec.Value.PipelineName,
		PipelineExecutionID: ac.exec.Value.PipelineExecutionID,
		ActionExecutionID:   r.newID(),
		PipelineVersion:     ac.exec.Value.PipelineVersion,
		StageName:           ac.stage.StageName,
		ActionName:          a.Name,
		Attempt:             ac.stage.Attempt,
		StartTime:           now,
		LastUpdateTime:      now,
		Status:              store.ActionInProgress,
		Input:               in,
	}
}

// job builds the provider's job, resolving variables just before the
// action starts and recording the resolved configuration, its secret
// properties masked: the job alone carries their values. A problem (a
// variable or input artifact that does not resolve) fails the action.
func (r *Runtime) job(ac *attemptContext, rec *store.ActionExecution, all []store.ActionExecution, vc variables.Context) (*action.Job, *action.Result) {
	a := ac.action
	resolved, err := variables.Resolve(a.Configuration, vc)
	if err != nil {
		return nil, action.Failed(action.CodeConfigurationError, "%v", err)
	}
	rec.Input.ResolvedConfiguration = pipeline.MaskSecrets(a.ActionTypeID, resolved)
	job := &action.Job{
		ID:                  rec.ActionExecutionID,
		PipelineName:        rec.PipelineName,
		PipelineExecutionID: rec.PipelineExecutionID,
		StageName:           rec.StageName,
		ActionName:          rec.ActionName,
		ActionType: action.Type{
			Category: rec.Input.ActionTypeID.Category, Owner: rec.Input.ActionTypeID.Owner,
			Provider: rec.Input.ActionTypeID.Provider, Version: rec.Input.ActionTypeID.Version,
		},
		Configuration:   resolved,
		Region:          a.Region,
		RoleArn:         a.RoleArn,
		OutputVariables: a.OutputVariables,
		Artifacts:       r.Artifacts,
	}
	for _, c := range a.Commands {
		v, err := variables.String(c, vc)
		if err != nil {
			return nil, action.Failed(action.CodeConfigurationError, "command %q: %v", c, err)
		}
		job.Commands = append(job.Commands, v)
	}
	for _, ev := range a.EnvironmentVariables {
		v, err := variables.String(ev.Value, vc)
		if err != nil {
			return nil, action.Failed(action.CodeConfigurationError, "environment variable %s: %v", ev.Name, err)
		}
		job.EnvironmentVariables = append(job.EnvironmentVariables, action.EnvironmentVariable{Name: ev.Name, Value: v, Type: string(ev.Type)})
	}
	for _, ia := range a.InputArtifacts {
		p := producer(all, ia.Name)
		if p == nil {
			return nil, action.Failed(action.CodeConfigurationError, "input artifact %s was not produced by an earlier action of this execution", ia.Name)
		}
		// Where its producer put it: in this execution, or in the one a
		// rollback runs with.
		in := action.Artifact{Name: ia.Name, Key: ArtifactKey(rec.PipelineName, p.PipelineExecutionID, ia.Name)}
		if loc := artifactDetail(p, ia.Name).S3Location; loc.Key != "" {
			in.Key = loc.Key
		}
		if p.Revision != nil {
			in.Revision = p.Revision.RevisionID
		}
		job.InputArtifacts = append(job.InputArtifacts, in)
	}
	for _, oa := range a.OutputArtifacts {
		job.OutputArtifacts = append(job.OutputArtifacts, action.Artifact{
			Name: oa.Name, Key: ArtifactKey(rec.PipelineName, rec.PipelineExecutionID, oa.Name), Files: oa.Files,
		})
	}
	for _, sr := range ac.exec.Value.SourceRevisions {
		if sr.ActionName == a.Name {
			job.SourceRevisions = append(job.SourceRevisions, action.SourceRevisionOverride{RevisionType: sr.RevisionType, RevisionValue: sr.RevisionValue})
		}
	}
	return job, nil
}

// producer is the newest succeeded action attempt of the execution that
// output the artifact.
func producer(all []store.ActionExecution, artifactName string) *store.ActionExecution {
	var best *store.ActionExecution
	for i := range all {
		a := &all[i]
		if a.Status != store.ActionSucceeded {
			continue
		}
		for _, oa := range a.Output.OutputArtifacts {
			if oa.Name == artifactName && (best == nil || a.Attempt > best.Attempt) {
				best = a
			}
		}
	}
	return best
}

func artifactDetail(p *store.ActionExecution, name string) store.ArtifactDetail {
	for _, oa := range p.Output.OutputArtifacts {
		if oa.Name == name {
			return oa
		}
	}
	return store.ArtifactDetail{Name: name}
}

// namespaces maps each namespace to the output variables of the newest
// succeeded attempt of the action that has it.
func namespaces(all []store.ActionExecution) map[string]map[string]string {
	out := map[string]map[string]string{}
	attempt := map[string]int{}
	for _, a := range all {
		ns := a.Input.Namespace
		if ns == "" || a.Status != store.ActionSucceeded || a.Attempt < attempt[ns] {
			continue
		}
		attempt[ns] = a.Attempt
		out[ns] = a.Output.OutputVariables
	}
	return out
}

// finish records an attempt's outcome. What the outcome leaves out of its
// external execution (id, summary, URL) stays as the attempt recorded it
// while in progress (its provider's answer, a continued job's report).
func finish(rec store.ActionExecution, res *action.Result, outputs []action.Artifact, now time.Time) store.ActionExecution {
	rec.Status = string(res.Status)
	rec.LastUpdateTime = now
	rec.Output.ExecutionResult = mergeResult(rec.Output.ExecutionResult, res)
	rec.Output.ExecutionResult.ErrorDetails = nil
	if res.ErrorDetails != nil {
		rec.Output.ExecutionResult.ErrorDetails = &store.ErrorDetails{Code: res.ErrorDetails.Code, Message: res.ErrorDetails.Message}
	}
	rec.Output.OutputVariables = res.OutputVariables
	if res.Status == action.StatusSucceeded {
		rec.Output.OutputArtifacts = nil
		for _, o := range outputs {
			rec.Output.OutputArtifacts = append(rec.Output.OutputArtifacts, store.ArtifactDetail{Name: o.Name, S3Location: store.S3Location{Key: o.Key}})
		}
	}
	if res.Revision != nil {
		rec.Revision = revisionOf(res.Revision)
	}
	return rec
}

// mergeResult is an attempt's external execution with what res says of it.
func mergeResult(r store.ActionExecutionResult, res *action.Result) store.ActionExecutionResult {
	if res.ExternalExecutionID != "" {
		r.ExternalExecutionID = res.ExternalExecutionID
	}
	if res.Summary != "" {
		r.ExternalExecutionSummary = res.Summary
	}
	if res.ExternalExecutionURL != "" {
		r.ExternalExecutionURL = res.ExternalExecutionURL
	}
	return r
}

func revisionOf(r *action.Revision) *store.ActionRevision {
	return &store.ActionRevision{
		RevisionID: r.RevisionID, RevisionChangeID: r.ChangeIdentifier,
		RevisionSummary: r.RevisionSummary, RevisionURL: r.RevisionURL, Created: r.Created,
	}
}

// complete records a finished attempt, adds a source revision to the
// execution's artifact revisions, and answers the task token.
func (r *Runtime) complete(ctx context.Context, e store.PipelineExecution, rec store.Versioned[store.ActionExecution], res *action.Result, outputs []action.Artifact, token string) (ActionResult, error) {
	if res.Status != action.StatusSucceeded && res.Status != action.StatusFailed {
		return ActionResult{}, fmt.Errorf("provider returned status %q", res.Status)
	}
	rec.Value = finish(rec.Value, res, outputs, r.now())
	if err := r.Store.PutActionExecution(ctx, rec); err != nil {
		return ActionResult{}, fmt.Errorf("record action result: %w", err)
	}
	if res.Revision != nil && res.Status == action.StatusSucceeded {
		err := r.updateExecution(ctx, e.PipelineName, e.PipelineExecutionID, func(x *store.PipelineExecution) bool {
			changed := false
			for _, o := range rec.Value.Output.OutputArtifacts {
				rev := store.ArtifactRevision{
					Name: o.Name, RevisionID: res.Revision.RevisionID, RevisionChangeIdentifier: res.Revision.ChangeIdentifier,
					RevisionSummary: res.Revision.RevisionSummary, RevisionURL: res.Revision.RevisionURL, Created: res.Revision.Created,
				}
				changed = setRevision(x, rev) || changed
			}
			return changed
		})
		if err != nil {
			return ActionResult{}, err
		}
	}
	return r.answer(ctx, token, string(res.Status))
}

func setRevision(e *store.PipelineExecution, rev store.ArtifactRevision) bool {
	for i, have := range e.ArtifactRevisions {
		if have.Name == rev.Name {
			if have == rev {
				return false
			}
			e.ArtifactRevisions[i] = rev
			return true
		}
	}
	e.ArtifactRevisions = append(e.ArtifactRevisions, rev)
	return true
}

// updateExecution applies change to an execution with a conditional write,
// again on conflict; change returns false when there is nothing to write.
func (r *Runtime) updateExecution(ctx context.Context, pipelineName, id string, change func(*store.PipelineExecution) bool) error {
	return r.updateExecutionChecked(ctx, pipelineName, id, func(e *store.PipelineExecution) error {
		if !change(e) {
			return errUnchanged
		}
		e.LastUpdateTime = r.now()
		return nil
	})
}

// errUnchanged stops an update that has nothing to write.
var errUnchanged = errors.New("unchanged")

const maxConflicts = 50

// answer sends an action's outcome through its task token; a token that no
// longer waits has had its answer.
func (r *Runtime) answer(ctx context.Context, token, status string) (ActionResult, error) {
	res := ActionResult{OK: status == execution.ResultSucceeded, Status: status}
	out, _ := json.Marshal(res)
	if err := r.Tokens.SendTaskSuccess(ctx, token, out); err != nil && !errors.Is(err, gate.ErrTaskGone) {
		return res, fmt.Errorf("answer task: %w", err)
	}
	return res, nil
}

// recordFailure records an action whose task failed or timed out (caught by
// the state machine) and returns the result that halts its stage.
func (r *Runtime) recordFailure(ctx context.Context, ev ActionEvent) (ActionResult, error) {
	ac, err := r.load(ctx, ev)
	if err != nil {
		return ActionResult{}, err
	}
	failed := ActionResult{OK: false, Status: store.ActionFailed}
	now := r.now()
	rec := store.Versioned[store.ActionExecution]{}
	if l := ac.latest; l != nil && l.Value.Attempt == ac.stage.Attempt {
		if l.Value.Status != store.ActionInProgress {
			return ActionResult{OK: l.Value.Status == store.ActionSucceeded, Status: l.Value.Status}, nil
		}
		rec = *l
	} else {
		all, err := r.priorOf(ctx, ac)
		if err != nil {
			return ActionResult{}, err
		}
		rec.Value = r.newAttempt(ac, all, now)
	}
	msg := ev.Error
	if ev.Cause != "" {
		msg += ": " + ev.Cause
	}
	isApproval := ac.action.ActionTypeID.Category == pipeline.CategoryApproval
	if ev.Error == "States.Timeout" {
		msg = "The action did not finish before its timeout."
		if isApproval {
			msg = "The approval request expired: nobody approved or rejected it before its timeout."
		}
	}
	rec.Value = finish(rec.Value, action.Failed(action.CodeJobFailed, "%s", msg), nil, now)
	writes := []store.Write{}
	w, err := store.ActionExecutionWrite(rec)
	if err != nil {
		return ActionResult{}, err
	}
	writes = append(writes, w)
	if isApproval && rec.Value.Token != "" {
		ap, err := r.Store.GetApproval(ctx, ev.Pipeline, rec.Value.Token)
		if err == nil && ap.Value.Status == store.ApprovalPending {
			ap.Value.Status, ap.Value.DecidedAt = store.ApprovalExpired, now
			aw, err := store.ApprovalWrite(ap)
			if err != nil {
				return ActionResult{}, err
			}
			writes = append(writes, aw)
		}
	}
	if err := r.Store.Transact(ctx, writes...); err != nil {
		return ActionResult{}, fmt.Errorf("record action failure: %w", err)
	}
	return failed, nil
}
