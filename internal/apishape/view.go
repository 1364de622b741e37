package apishape

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/sluice-ci/sluice/internal/condition"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
)

// View answers the read operations from a store. It is safe for concurrent
// use.
type View struct {
	Store *store.Store
	// EntityURL, when set, gives an action's entityUrl (the repository,
	// project or bucket it works on).
	EntityURL func(a *pipeline.Action) string
	// Region is where the actions that name no region of their own run,
	// shown as their input's region; empty leaves it out.
	Region string

	mu    sync.Mutex
	decls map[declKey]*pipeline.Declaration
}

type declKey struct {
	name    string
	version int
}

// Page sizes of the list operations: CodePipeline's default and maximum.
const (
	defaultMaxResults = 100
	maxMaxResults     = 100
)

func notFound(code, msg string) error { return &execution.Rejection{Code: code, Message: msg} }

func invalid(msg string) error {
	return &execution.Rejection{Code: "ValidationException", Message: msg}
}

// declaration returns a pipeline version's declaration (the latest for 0)
// and its record.
func (v *View) declaration(ctx context.Context, name string, version int) (*pipeline.Declaration, store.Pipeline, error) {
	p, err := v.Store.GetPipeline(ctx, name, version)
	if errors.Is(err, store.ErrNotFound) {
		return nil, p, notFound("PipelineNotFoundException", "no pipeline named "+name)
	}
	if err != nil {
		return nil, p, fmt.Errorf("read pipeline %s: %w", name, err)
	}
	k := declKey{name, p.Version}
	v.mu.Lock()
	d, ok := v.decls[k]
	v.mu.Unlock()
	if ok {
		return d, p, nil
	}
	d = new(pipeline.Declaration)
	if err := json.Unmarshal(p.Declaration, d); err != nil {
		return nil, p, fmt.Errorf("decode pipeline %s version %d: %w", name, p.Version, err)
	}
	v.mu.Lock()
	if v.decls == nil {
		v.decls = map[declKey]*pipeline.Declaration{}
	}
	v.decls[k] = d
	v.mu.Unlock()
	return d, p, nil
}

// GetPipelineExecution answers GetPipelineExecution.
func (v *View) GetPipelineExecution(ctx context.Context, pipelineName, id string) (*GetPipelineExecutionOutput, error) {
	if _, _, err := v.declaration(ctx, pipelineName, 0); err != nil {
		return nil, err
	}
	e, err := v.Store.GetPipelineExecution(ctx, pipelineName, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("PipelineExecutionNotFoundException", "no execution "+id+" of pipeline "+pipelineName)
	}
	if err != nil {
		return nil, fmt.Errorf("read pipeline execution %s: %w", id, err)
	}
	return &GetPipelineExecutionOutput{PipelineExecution: NewPipelineExecution(e.Value)}, nil
}

// NewPipelineExecution shapes an execution record.
func NewPipelineExecution(e store.PipelineExecution) *PipelineExecution {
	out := &PipelineExecution{
		PipelineName: e.PipelineName, PipelineVersion: int32(e.PipelineVersion), PipelineExecutionID: e.PipelineExecutionID,
		Status: e.Status, StatusSummary: e.StatusSummary, ExecutionMode: e.ExecutionMode, ExecutionType: e.ExecutionType,
		ArtifactRevisions: []ArtifactRevision{},
	}
	for _, r := range e.ArtifactRevisions {
		out.ArtifactRevisions = append(out.ArtifactRevisions, ArtifactRevision{
			Name: r.Name, RevisionID: r.RevisionID, RevisionChangeIdentifier: r.RevisionChangeIdentifier,
			RevisionSummary: r.RevisionSummary, Created: At(r.Created), RevisionURL: r.RevisionURL,
		})
	}
	for _, pv := range e.Variables {
		out.Variables = append(out.Variables, ResolvedPipelineVariable(pv))
	}
	out.Trigger = triggerOf(e.Trigger)
	out.RollbackMetadata = rollbackOf(e)
	return out
}

// executionType is an execution's type: STANDARD for a record from before
// the store kept it.
func executionType(e store.PipelineExecution) string {
	if e.ExecutionType == "" {
		return store.TypeStandard
	}
	return e.ExecutionType
}

// rollbackOf is the rollback metadata of a ROLLBACK execution, nil for
// another.
func rollbackOf(e store.PipelineExecution) *RollbackMetadata {
	if e.Rollback == nil {
		return nil
	}
	return &RollbackMetadata{RollbackTargetPipelineExecutionID: e.Rollback.RollbackTargetPipelineExecutionID}
}

// GetPipelineState answers GetPipelineState: the stages of the pipeline's
// latest version, each with its inbound transition, the executions waiting
// to enter it, its latest execution, and each action's latest run: its
// latest attempt in the latest execution that ran it, which for an action
// the stage's latest execution did not reach (a later runOrder group of a
// failed stage) is an earlier execution's, as CodePipeline shows it.
//
// In PARALLEL mode a stage's latestExecution is the execution that entered
// it last, and each action's latestExecution its latest run, whichever
// execution that is. AWS's console shows no pipeline state for PARALLEL
// pipelines, only each execution's own view, and GetPipelineState shows
// one execution per stage: the approvals of the other executions in
// progress are reached through ListActionExecutions filtered by their
// pipelineExecutionId, which gives a waiting approval's token (see
// NewActionExecutionDetail).
func (v *View) GetPipelineState(ctx context.Context, pipelineName string) (*GetPipelineStateOutput, error) {
	d, latest, err := v.declaration(ctx, pipelineName, 0)
	if err != nil {
		return nil, err
	}
	out := &GetPipelineStateOutput{PipelineName: pipelineName, PipelineVersion: int32(latest.Version), Updated: At(latest.Created)}
	out.Created = out.Updated
	if latest.Version > 1 {
		if first, err := v.Store.GetPipeline(ctx, pipelineName, 1); err == nil {
			out.Created = At(first.Created)
		}
	}
	mode := string(d.EffectiveExecutionMode())
	execs := map[string]store.PipelineExecution{}
	status := func(id string) (store.PipelineExecution, error) {
		if e, ok := execs[id]; ok {
			return e, nil
		}
		e, err := v.Store.GetPipelineExecution(ctx, pipelineName, id)
		if err != nil {
			return store.PipelineExecution{}, fmt.Errorf("read pipeline execution %s: %w", id, err)
		}
		execs[id] = e.Value
		return e.Value, nil
	}
	for i := range d.Stages {
		st := &d.Stages[i]
		ss, err := v.stageState(ctx, pipelineName, st, mode, status)
		if err != nil {
			return nil, err
		}
		out.StageStates = append(out.StageStates, ss)
	}
	return out, nil
}

func (v *View) stageState(ctx context.Context, pipelineName string, st *pipeline.Stage, mode string, execOf func(string) (store.PipelineExecution, error)) (StageState, error) {
	ss := StageState{StageName: st.Name, ActionStates: []ActionState{}}
	c, err := v.Store.GetStageControl(ctx, pipelineName, st.Name)
	if err != nil {
		return ss, fmt.Errorf("read stage %s: %w", st.Name, err)
	}
	in := c.Value.Inbound
	ss.InboundTransitionState = &TransitionState{
		Enabled: !in.Disabled, LastChangedBy: in.LastChangedBy, LastChangedAt: At(in.LastChangedAt), DisabledReason: in.DisabledReason,
	}
	for _, w := range c.Value.Waiters {
		e, err := execOf(w.PipelineExecutionID)
		if err != nil {
			return ss, err
		}
		se := StageExecution{PipelineExecutionID: w.PipelineExecutionID, Status: store.StageInProgress, Type: executionType(e)}
		if ss.InboundExecution == nil {
			ss.InboundExecution = &se
		}
		if mode != store.ModeSuperseded {
			ss.InboundExecutions = append(ss.InboundExecutions, se)
		}
	}
	var latest *store.StageExecution
	if id := c.Value.LatestExecutionID; id != "" {
		se, err := v.Store.GetStageExecution(ctx, pipelineName, id, st.Name)
		switch {
		case err == nil:
			latest = &se.Value
		case !errors.Is(err, store.ErrNotFound):
			return ss, fmt.Errorf("read stage execution %s/%s: %w", id, st.Name, err)
		}
	}
	if latest != nil {
		e, err := execOf(latest.PipelineExecutionID)
		if err != nil {
			return ss, err
		}
		status := latest.Status
		if status == store.StageInProgress && e.Status == store.ExecutionStopping {
			status = store.StageStopping
		}
		ss.LatestExecution = &StageExecution{PipelineExecutionID: latest.PipelineExecutionID, Status: status, Type: latest.Type}
		ss.RetryStageMetadata = retryMetadata(*latest)
		for _, run := range latest.Conditions {
			cs := conditionState(run)
			switch run.Kind {
			case condition.BeforeEntry:
				ss.BeforeEntryConditionState = cs
			case condition.OnSuccess:
				ss.OnSuccessConditionState = cs
			case condition.OnFailure:
				ss.OnFailureConditionState = cs
			}
		}
	}
	for j := range st.Actions {
		a := &st.Actions[j]
		as := ActionState{ActionName: a.Name}
		if v.EntityURL != nil {
			as.EntityURL = v.EntityURL(a)
		}
		rec, err := v.Store.LatestRunOf(ctx, pipelineName, st.Name, a.Name)
		if errors.Is(err, store.ErrNotFound) && latest != nil {
			// Recorded before the store kept each action's latest run.
			rec, err = v.Store.LatestActionExecution(ctx, pipelineName, latest.PipelineExecutionID, st.Name, a.Name)
		}
		switch {
		case err == nil:
			as.LatestExecution = NewActionExecution(rec.Value)
			if r := rec.Value.Revision; r != nil {
				as.CurrentRevision = &ActionRevision{RevisionID: r.RevisionID, RevisionChangeID: r.RevisionChangeID, Created: At(r.Created)}
				as.RevisionURL = r.RevisionURL
			}
		case !errors.Is(err, store.ErrNotFound):
			return ss, fmt.Errorf("read action execution %s/%s: %w", st.Name, a.Name, err)
		}
		ss.ActionStates = append(ss.ActionStates, as)
	}
	return ss, nil
}

// retryMetadata counts a stage execution's retries, automatic (its
// onFailure result RETRY) and manual (RetryStageExecution); nil when it
// was not retried. A record from before the store counted them has only
// its attempt, every retry of which was manual.
func retryMetadata(se store.StageExecution) *RetryStageMetadata {
	auto, manual, trigger := se.AutoRetries, se.ManualRetries, se.LatestRetryTrigger
	if auto+manual == 0 {
		if se.Attempt <= 1 {
			return nil
		}
		manual, trigger = se.Attempt-1, store.RetryManual
	}
	m := &RetryStageMetadata{LatestRetryTrigger: trigger}
	if auto > 0 {
		n := int32(auto)
		m.AutoStageRetryAttempt = &n
	}
	if manual > 0 {
		n := int32(manual)
		m.ManualStageRetryAttempt = &n
	}
	return m
}

// conditionState shapes the run of a stage's conditions of one kind.
// Sluice evaluates a kind's first condition, so the run is that
// condition's.
func conditionState(run store.ConditionRun) *StageConditionState {
	cs := ConditionState{LatestExecution: &ConditionExecution{Status: run.Status, Summary: run.Summary, LastStatusChange: At(run.LastStatusChange)}}
	for _, r := range run.Rules {
		cs.RuleStates = append(cs.RuleStates, RuleState{RuleName: r.RuleName, LatestExecution: &RuleExecution{
			RuleExecutionID: r.RuleExecutionID, Status: r.Status, Summary: r.Summary,
			LastStatusChange: At(r.LastUpdateTime), LastUpdatedBy: r.UpdatedBy, ErrorDetails: errorDetails(r.ErrorDetails),
		}})
	}
	return &StageConditionState{
		LatestExecution: &StageConditionsExecution{Status: run.Status, Summary: run.Summary},
		ConditionStates: []ConditionState{cs},
	}
}

// NewActionExecution shapes an action attempt as GetPipelineState's
// latestExecution. The approval token is shown only while the approval
// waits.
func NewActionExecution(a store.ActionExecution) *ActionExecution {
	r := a.Output.ExecutionResult
	out := &ActionExecution{
		ActionExecutionID: a.ActionExecutionID, Status: a.Status, Summary: r.ExternalExecutionSummary,
		LastStatusChange: At(a.LastUpdateTime), LastUpdatedBy: a.UpdatedBy,
		ExternalExecutionID: r.ExternalExecutionID, ExternalExecutionURL: r.ExternalExecutionURL,
		PercentComplete: a.PercentComplete, ErrorDetails: errorDetails(r.ErrorDetails),
	}
	if a.Status == store.ActionInProgress {
		out.Token = a.Token
	}
	return out
}

func errorDetails(e *store.ErrorDetails) *ErrorDetails {
	if e == nil {
		return nil
	}
	return &ErrorDetails{Code: e.Code, Message: e.Message}
}

// ListPipelineExecutions answers ListPipelineExecutions, newest first.
func (v *View) ListPipelineExecutions(ctx context.Context, in ListPipelineExecutionsInput) (*ListPipelineExecutionsOutput, error) {
	limit, err := pageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	if _, _, err := v.declaration(ctx, in.PipelineName, 0); err != nil {
		return nil, err
	}
	filter := ""
	if f := in.Filter; f != nil && f.SucceededInStage != nil {
		filter = "succeededInStage=" + f.SucceededInStage.StageName
	}
	const op = "ListPipelineExecutions"
	sc := scope(in.PipelineName, filter)
	after, err := decodeToken(op, sc, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ListPipelineExecutionsOutput{PipelineExecutionSummaries: []PipelineExecutionSummary{}}
	for len(out.PipelineExecutionSummaries) < limit {
		execs, next, err := v.Store.ListPipelineExecutions(ctx, in.PipelineName, limit-len(out.PipelineExecutionSummaries), after)
		if errors.Is(err, store.ErrCursor) {
			return nil, invalidToken(op)
		}
		if err != nil {
			return nil, err
		}
		for _, e := range execs {
			keep, err := v.matches(ctx, e, in.Filter)
			if err != nil {
				return nil, err
			}
			if !keep {
				continue
			}
			s, err := v.summary(ctx, e)
			if err != nil {
				return nil, err
			}
			out.PipelineExecutionSummaries = append(out.PipelineExecutionSummaries, s)
		}
		after = next
		if next == "" {
			break
		}
	}
	if after != "" {
		out.NextToken = encodeToken(op, sc, after)
	}
	return out, nil
}

func (v *View) matches(ctx context.Context, e store.PipelineExecution, f *PipelineExecutionFilter) (bool, error) {
	if f == nil || f.SucceededInStage == nil {
		return true, nil
	}
	se, err := v.Store.GetStageExecution(ctx, e.PipelineName, e.PipelineExecutionID, f.SucceededInStage.StageName)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read stage execution: %w", err)
	}
	return se.Value.Status == store.StageSucceeded, nil
}

// summary shapes an execution for ListPipelineExecutions; its source
// revisions are those of its first stage's source actions, or, for a
// rollback (which runs one later stage), those of the execution it rolls
// back to, whose revisions it runs with.
func (v *View) summary(ctx context.Context, e store.PipelineExecution) (PipelineExecutionSummary, error) {
	s := PipelineExecutionSummary{
		PipelineExecutionID: e.PipelineExecutionID, Status: e.Status, StatusSummary: e.StatusSummary,
		StartTime: At(e.StartTime), LastUpdateTime: At(e.LastUpdateTime), SourceRevisions: []SourceRevision{},
		ExecutionMode: e.ExecutionMode, ExecutionType: e.ExecutionType, RollbackMetadata: rollbackOf(e),
	}
	s.Trigger = triggerOf(e.Trigger)
	if e.StopTrigger != nil {
		s.StopTrigger = &StopExecutionTrigger{Reason: e.StopTrigger.Reason}
	}
	d, _, err := v.declaration(ctx, e.PipelineName, e.PipelineVersion)
	if err != nil || len(d.Stages) == 0 {
		return s, err
	}
	first, ran := d.Stages[0], e.PipelineExecutionID
	if e.Rollback != nil {
		ran = e.Rollback.RollbackTargetPipelineExecutionID
	}
	for _, a := range first.Actions {
		if a.ActionTypeID.Category != pipeline.CategorySource {
			continue
		}
		rec, err := v.Store.LatestActionExecution(ctx, e.PipelineName, ran, first.Name, a.Name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return s, fmt.Errorf("read action execution %s/%s: %w", first.Name, a.Name, err)
		}
		if r := rec.Value.Revision; r != nil {
			s.SourceRevisions = append(s.SourceRevisions, SourceRevision{
				ActionName: a.Name, RevisionID: r.RevisionID, RevisionSummary: r.RevisionSummary, RevisionURL: r.RevisionURL,
			})
		}
	}
	return s, nil
}

// ListActionExecutions answers ListActionExecutions, newest first: the
// attempts of one execution (filter.pipelineExecutionId), the latest attempt
// of each action of one execution (filter.latestInPipelineExecution), or of
// every execution.
func (v *View) ListActionExecutions(ctx context.Context, in ListActionExecutionsInput) (*ListActionExecutionsOutput, error) {
	limit, id, latestOnly, err := v.listing(ctx, in.PipelineName, in.MaxResults, in.Filter)
	if err != nil {
		return nil, err
	}
	all, err := v.Store.ListActionExecutions(ctx, in.PipelineName, id)
	if err != nil {
		return nil, err
	}
	if latestOnly {
		all = latestAttempts(all)
	}
	const op = "ListActionExecutions"
	items, next, err := page(all, func(a store.ActionExecution) string { return a.ActionExecutionID },
		op, scope(in.PipelineName, id, strconv.FormatBool(latestOnly)), in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	out := &ListActionExecutionsOutput{ActionExecutionDetails: make([]ActionExecutionDetail, 0, len(items)), NextToken: next}
	for _, a := range items {
		d := NewActionExecutionDetail(a)
		if d.Input.Region == "" {
			d.Input.Region = v.Region
		}
		if d.Input.RoleArn == "" {
			// The action acts with the pipeline's role.
			if decl, _, err := v.declaration(ctx, in.PipelineName, a.PipelineVersion); err == nil {
				d.Input.RoleArn = decl.RoleArn
			}
		}
		out.ActionExecutionDetails = append(out.ActionExecutionDetails, d)
	}
	return out, nil
}

// listing reads a request of ListActionExecutions or ListRuleExecutions:
// the page size, the pipeline, which must exist, and the filter: the
// execution it names (empty: every execution), which must exist, and
// whether only the latest attempts are wanted.
func (v *View) listing(ctx context.Context, pipelineName string, maxResults int32, f *ActionExecutionFilter) (limit int, id string, latestOnly bool, err error) {
	if limit, err = pageSize(maxResults); err != nil {
		return 0, "", false, err
	}
	if _, _, err := v.declaration(ctx, pipelineName, 0); err != nil {
		return 0, "", false, err
	}
	if f != nil {
		id = f.PipelineExecutionID
		if l := f.LatestInPipelineExecution; l != nil {
			if id != "" && id != l.PipelineExecutionID {
				return 0, "", false, invalid("filter: pipelineExecutionId and latestInPipelineExecution name different executions")
			}
			id, latestOnly = l.PipelineExecutionID, true
		}
	}
	if id == "" {
		return limit, "", latestOnly, nil
	}
	if _, err := v.Store.GetPipelineExecution(ctx, pipelineName, id); errors.Is(err, store.ErrNotFound) {
		return 0, "", false, notFound("PipelineExecutionNotFoundException", "no execution "+id+" of pipeline "+pipelineName)
	} else if err != nil {
		return 0, "", false, fmt.Errorf("read pipeline execution %s: %w", id, err)
	}
	return limit, id, latestOnly, nil
}

// page is the part of a listing that one page shows: up to limit items
// after the one the token names (by key), and the token of the next page.
// Pages continue after the last item given, which keeps them in place
// while new items are added at the front.
func page[T any](all []T, key func(T) string, op, sc, token string, limit int) ([]T, string, error) {
	after, err := decodeToken(op, sc, token)
	if err != nil {
		return nil, "", err
	}
	start := 0
	if after != "" {
		i := slices.IndexFunc(all, func(t T) bool { return key(t) == after })
		if i < 0 || i+1 >= len(all) {
			return nil, "", invalidToken(op)
		}
		start = i + 1
	}
	end := min(start+limit, len(all))
	next := ""
	if end < len(all) {
		next = encodeToken(op, sc, key(all[end-1]))
	}
	return all[start:end], next, nil
}

// latestAttempts keeps the newest attempt of each action; the order stays.
func latestAttempts(all []store.ActionExecution) []store.ActionExecution {
	type key struct{ stage, action string }
	best := map[key]int{}
	for _, a := range all {
		k := key{a.StageName, a.ActionName}
		best[k] = max(best[k], a.Attempt)
	}
	out := all[:0:0]
	for _, a := range all {
		if best[key{a.StageName, a.ActionName}] == a.Attempt {
			out = append(out, a)
		}
	}
	return out
}

// NewActionExecutionDetail shapes an action attempt for
// ListActionExecutions. A manual approval that waits for its decision
// gives its approval token as its executionResult's externalExecutionId
// (the id of the approval request, the "external execution" of an
// approval): GetPipelineState shows one execution per stage, and this is
// how the approver of another execution in progress (PARALLEL mode)
// reaches its approval. The API gives it only to callers who may approve
// it, as it does GetPipelineState's token.
func NewActionExecutionDetail(a store.ActionExecution) ActionExecutionDetail {
	in := a.Input
	d := ActionExecutionDetail{
		PipelineExecutionID: a.PipelineExecutionID, ActionExecutionID: a.ActionExecutionID,
		PipelineVersion: int32(a.PipelineVersion), StageName: a.StageName, ActionName: a.ActionName,
		StartTime: At(a.StartTime), LastUpdateTime: At(a.LastUpdateTime), UpdatedBy: a.UpdatedBy, Status: a.Status,
		Input: &ActionExecutionInput{
			ActionTypeID:          (*ActionTypeID)(&in.ActionTypeID),
			Configuration:         orEmpty(in.Configuration),
			ResolvedConfiguration: orEmpty(in.ResolvedConfiguration),
			RoleArn:               in.RoleArn, Region: in.Region, Namespace: in.Namespace,
			InputArtifacts: artifactDetails(in.InputArtifacts),
		},
		Output: &ActionExecutionOutput{
			OutputArtifacts: artifactDetails(a.Output.OutputArtifacts),
			OutputVariables: orEmpty(a.Output.OutputVariables),
		},
	}
	r := a.Output.ExecutionResult
	if a.Status == store.ActionInProgress && a.Token != "" {
		r.ExternalExecutionID = a.Token
	}
	if r != (store.ActionExecutionResult{}) {
		d.Output.ExecutionResult = &ActionExecutionResult{
			ExternalExecutionID: r.ExternalExecutionID, ExternalExecutionSummary: r.ExternalExecutionSummary,
			ExternalExecutionURL: r.ExternalExecutionURL, ErrorDetails: errorDetails(r.ErrorDetails),
		}
	}
	return d
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

func artifactDetails(in []store.ArtifactDetail) []ArtifactDetail {
	out := make([]ArtifactDetail, 0, len(in))
	for _, a := range in {
		out = append(out, ArtifactDetail{Name: a.Name, S3Location: &S3Location{Bucket: a.S3Location.Bucket, Key: a.S3Location.Key}})
	}
	return out
}

func pageSize(n int32) (int, error) {
	switch {
	case n == 0:
		return defaultMaxResults, nil
	case n < 1 || n > maxMaxResults:
		return 0, invalid(fmt.Sprintf("maxResults %d is not between 1 and %d", n, maxMaxResults))
	}
	return int(n), nil
}
