package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// Store reads and writes Sluice's records over a Backend. Each pipeline is
// one partition; the sort keys are:
//
//	decl#<version>                                   Pipeline
//	exec#<execution>                                 PipelineExecution
//	start#<start, unix ns>#<execution>               listing index of executions by start
//	stage#<stage>                                    StageControl
//	sx#<execution>#<stage>                           StageExecution
//	ax#<execution>#<stage>#<action>#<attempt>        ActionExecution
//	run#<stage>#<action>                             LatestRun: the action's latest attempt
//	approval#<token>                                 Approval
//	park#<execution>#<stage>#<action>                ParkedTask
//
// CodePipeline's names allow no '#', so keys never collide.
//
// Writes of execution records that change their status add an entry to the
// event outbox in the same transaction (see OutboxEntries).
type Store struct {
	b   Backend
	obs atomic.Pointer[Observer] // see Observe
}

// New returns a Store over b.
func New(b Backend) *Store {
	s := &Store{}
	s.b = outboxed{Backend: b, obs: &s.obs}
	return s
}

func partition(pipeline string) string { return "pipeline#" + pipeline }

func declKey(version int) string   { return fmt.Sprintf("decl#%010d", version) }
func execKey(id string) string     { return "exec#" + id }
func stageKey(stage string) string { return "stage#" + stage }
func stageExecKey(id, stage string) string {
	return "sx#" + id + "#" + stage
}
func actionExecPrefix(id, stage, action string) string {
	return "ax#" + id + "#" + stage + "#" + action + "#"
}
func actionExecKey(id, stage, action string, attempt int) string {
	return fmt.Sprintf("%s%04d", actionExecPrefix(id, stage, action), attempt)
}
func approvalKey(token string) string { return "approval#" + token }
func parkKey(id, stage, action string) string {
	return "park#" + id + "#" + stage + "#" + action
}
func startKey(t time.Time, id string) string {
	return fmt.Sprintf("start#%020d#%s", t.UnixNano(), id)
}

// Versioned is a record with the version it was read at; write it back with
// that version to make the write conditional on nobody else having written.
type Versioned[T any] struct {
	Value   T
	Version int64 // 0: the record does not exist yet
}

func get[T any](ctx context.Context, b Backend, pk, sk string) (Versioned[T], error) {
	var v Versioned[T]
	it, err := b.Get(ctx, pk, sk)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(it.Body, &v.Value); err != nil {
		return v, fmt.Errorf("decode %s/%s: %w", pk, sk, err)
	}
	v.Version = it.Version
	return v, nil
}

// getOrZero is get with ErrNotFound turned into the zero record at version 0.
func getOrZero[T any](ctx context.Context, b Backend, pk, sk string) (Versioned[T], error) {
	v, err := get[T](ctx, b, pk, sk)
	if errors.Is(err, ErrNotFound) {
		return Versioned[T]{}, nil
	}
	return v, err
}

func query[T any](ctx context.Context, b Backend, pk, prefix string, opts QueryOptions) ([]T, error) {
	items, err := b.Query(ctx, pk, prefix, opts)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it.Body, &out[i]); err != nil {
			return nil, fmt.Errorf("decode %s/%s: %w", pk, it.SK, err)
		}
	}
	return out, nil
}

// PutWrite is a conditional Put of v at the expected version.
func PutWrite(pk, sk string, v any, expect int64) (Write, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return Write{}, fmt.Errorf("encode %s/%s: %w", pk, sk, err)
	}
	return Write{Op: Put, PK: pk, SK: sk, Body: raw, Expect: expect}, nil
}

// PutPipeline stores a version of a pipeline declaration, and the
// pipeline's catalog entry with it; storing the same version twice fails
// with ErrConditionFailed.
func (s *Store) PutPipeline(ctx context.Context, p Pipeline) error {
	if p.Version < 1 {
		return fmt.Errorf("put pipeline %s: version %d, want 1 or more", p.Name, p.Version)
	}
	w, err := PutWrite(partition(p.Name), declKey(p.Version), p, Absent)
	if err != nil {
		return err
	}
	ew, err := s.catalogWrite(ctx, p)
	if err != nil {
		return err
	}
	return s.b.Transact(ctx, w, ew)
}

// GetPipeline returns a version of a pipeline, the latest when version is 0.
func (s *Store) GetPipeline(ctx context.Context, name string, version int) (Pipeline, error) {
	if version > 0 {
		v, err := get[Pipeline](ctx, s.b, partition(name), declKey(version))
		return v.Value, err
	}
	ps, err := query[Pipeline](ctx, s.b, partition(name), "decl#", QueryOptions{Descending: true, Limit: 1})
	if err != nil {
		return Pipeline{}, err
	}
	if len(ps) == 0 {
		return Pipeline{}, ErrNotFound
	}
	return ps[0], nil
}

// CreatePipelineExecution records a new execution. Creating an execution
// whose id exists already fails with ErrConditionFailed, which makes a
// redelivered start harmless.
func (s *Store) CreatePipelineExecution(ctx context.Context, e PipelineExecution) error {
	pk := partition(e.PipelineName)
	exec, err := PipelineExecutionWrite(Versioned[PipelineExecution]{Value: e, Version: Absent})
	if err != nil {
		return err
	}
	index, err := PutWrite(pk, startKey(e.StartTime, e.PipelineExecutionID), struct {
		ID string `json:"pipelineExecutionId"`
	}{e.PipelineExecutionID}, Absent)
	if err != nil {
		return err
	}
	return s.b.Transact(ctx, exec, index)
}

// GetPipelineExecution returns an execution, or ErrNotFound.
func (s *Store) GetPipelineExecution(ctx context.Context, pipeline, id string) (Versioned[PipelineExecution], error) {
	return get[PipelineExecution](ctx, s.b, partition(pipeline), execKey(id))
}

// PutPipelineExecution writes an execution read at version.
func (s *Store) PutPipelineExecution(ctx context.Context, e Versioned[PipelineExecution]) error {
	w, err := PipelineExecutionWrite(e)
	if err != nil {
		return err
	}
	return s.b.Transact(ctx, w)
}

// PipelineExecutionWrite is the conditional write of an execution.
func PipelineExecutionWrite(e Versioned[PipelineExecution]) (Write, error) {
	v := e.Value
	change := statusChange(v.StoredStatus, v.Status, e.Version)
	v.StoredStatus = v.Status
	w, err := PutWrite(partition(v.PipelineName), execKey(v.PipelineExecutionID), v, e.Version)
	if change != nil {
		change.Execution = executionSnapshot(v)
		w.change = change
	}
	return w, err
}

// ErrCursor reports a position to continue a listing after that the
// listing never gave.
var ErrCursor = errors.New("not a position of this listing")

// ListPipelineExecutions returns up to limit executions, newest first,
// starting after the execution named by nextToken (empty: the newest). It
// returns the token of the next page, empty at the end. A nextToken that
// names no execution of the pipeline is ErrCursor.
func (s *Store) ListPipelineExecutions(ctx context.Context, pipeline string, limit int, nextToken string) ([]PipelineExecution, string, error) {
	pk := partition(pipeline)
	if nextToken != "" {
		_, err := s.b.Get(ctx, pk, nextToken)
		if !strings.HasPrefix(nextToken, "start#") || errors.Is(err, ErrNotFound) {
			return nil, "", fmt.Errorf("list executions of %s after %q: %w", pipeline, nextToken, ErrCursor)
		}
		if err != nil {
			return nil, "", fmt.Errorf("list executions of %s: %w", pipeline, err)
		}
	}
	opts := QueryOptions{Descending: true, After: nextToken}
	if limit > 0 {
		opts.Limit = limit + 1 // one more: is there a next page?
	}
	items, err := s.b.Query(ctx, pk, "start#", opts)
	if err != nil {
		return nil, "", fmt.Errorf("list executions of %s: %w", pipeline, err)
	}
	next := ""
	if limit > 0 && len(items) > limit {
		items = items[:limit]
		next = items[limit-1].SK
	}
	out := make([]PipelineExecution, 0, len(items))
	for _, it := range items {
		var ref struct {
			ID string `json:"pipelineExecutionId"`
		}
		if err := json.Unmarshal(it.Body, &ref); err != nil {
			return nil, "", fmt.Errorf("decode %s/%s: %w", pk, it.SK, err)
		}
		e, err := s.GetPipelineExecution(ctx, pipeline, ref.ID)
		if err != nil {
			return nil, "", fmt.Errorf("list executions of %s: %w", pipeline, err)
		}
		out = append(out, e.Value)
	}
	return out, next, nil
}

// GetStageControl returns a stage's control item (the zero item at version 0
// when none was written yet).
func (s *Store) GetStageControl(ctx context.Context, pipeline, stage string) (Versioned[StageControl], error) {
	v, err := getOrZero[StageControl](ctx, s.b, partition(pipeline), stageKey(stage))
	if err == nil && v.Version == 0 {
		v.Value = StageControl{PipelineName: pipeline, StageName: stage}
	}
	return v, err
}

// StageControlWrite is the conditional write of a stage's control item.
func StageControlWrite(c Versioned[StageControl]) (Write, error) {
	return PutWrite(partition(c.Value.PipelineName), stageKey(c.Value.StageName), c.Value, c.Version)
}

// ListStageControls returns the control items of a pipeline's stages that
// were written.
func (s *Store) ListStageControls(ctx context.Context, pipeline string) ([]StageControl, error) {
	return query[StageControl](ctx, s.b, partition(pipeline), "stage#", QueryOptions{})
}

// GetStageExecution returns one execution's record of one stage, or
// ErrNotFound.
func (s *Store) GetStageExecution(ctx context.Context, pipeline, id, stage string) (Versioned[StageExecution], error) {
	return get[StageExecution](ctx, s.b, partition(pipeline), stageExecKey(id, stage))
}

// StageExecutionWrite is the conditional write of a stage execution.
func StageExecutionWrite(se Versioned[StageExecution]) (Write, error) {
	v := se.Value
	change := statusChange(v.StoredStatus, v.Status, se.Version)
	v.StoredStatus = v.Status
	w, err := PutWrite(partition(v.PipelineName), stageExecKey(v.PipelineExecutionID, v.StageName), v, se.Version)
	if change != nil {
		change.Stage = &v
		w.change = change
	}
	return w, err
}

// ListStageExecutions returns an execution's stage records.
func (s *Store) ListStageExecutions(ctx context.Context, pipeline, id string) ([]StageExecution, error) {
	return query[StageExecution](ctx, s.b, partition(pipeline), "sx#"+id+"#", QueryOptions{})
}

// GetActionExecution returns one action attempt, or ErrNotFound.
func (s *Store) GetActionExecution(ctx context.Context, pipeline, id, stage, action string, attempt int) (Versioned[ActionExecution], error) {
	return get[ActionExecution](ctx, s.b, partition(pipeline), actionExecKey(id, stage, action, attempt))
}

// ActionExecutionWrite is the conditional write of an action attempt. The
// write that creates an attempt also makes it its action's LatestRun.
func ActionExecutionWrite(a Versioned[ActionExecution]) (Write, error) {
	v := a.Value
	change := statusChange(v.StoredStatus, v.Status, a.Version)
	v.StoredStatus = v.Status
	pk := partition(v.PipelineName)
	w, err := PutWrite(pk, actionExecKey(v.PipelineExecutionID, v.StageName, v.ActionName, v.Attempt), v, a.Version)
	if err != nil {
		return w, err
	}
	if change != nil {
		change.Action = actionSnapshot(v)
		w.change = change
	}
	if a.Version == Absent {
		run := LatestRun{PipelineExecutionID: v.PipelineExecutionID, Attempt: v.Attempt, StartTime: v.StartTime}
		iw, err := PutWrite(pk, latestRunKey(v.StageName, v.ActionName), run, AnyVersion)
		if err != nil {
			return w, err
		}
		w.index = &indexWrite{Write: iw, at: v.StartTime}
	}
	return w, nil
}

// LatestRun names the latest attempt of an action, in whichever execution
// ran it last: GetPipelineState shows it for an action that the stage's
// latest execution did not reach. The store writes it with each new
// attempt; the last attempt created wins.
type LatestRun struct {
	PipelineExecutionID string    `json:"pipelineExecutionId"`
	Attempt             int       `json:"attempt"`
	StartTime           time.Time `json:"startTime"`
}

func latestRunKey(stage, action string) string { return "run#" + stage + "#" + action }

// LatestRunOf returns an action's latest attempt in any execution, or
// ErrNotFound when it never ran (or ran before the store kept LatestRun).
func (s *Store) LatestRunOf(ctx context.Context, pipeline, stage, action string) (Versioned[ActionExecution], error) {
	run, err := get[LatestRun](ctx, s.b, partition(pipeline), latestRunKey(stage, action))
	if err != nil {
		return Versioned[ActionExecution]{}, err
	}
	return s.GetActionExecution(ctx, pipeline, run.Value.PipelineExecutionID, stage, action, run.Value.Attempt)
}

// PutActionExecution writes an action attempt read at version.
func (s *Store) PutActionExecution(ctx context.Context, a Versioned[ActionExecution]) error {
	w, err := ActionExecutionWrite(a)
	if err != nil {
		return err
	}
	return s.b.Transact(ctx, w)
}

// ListActionExecutions returns the action attempts of one execution (every
// execution when id is empty), newest first as ListActionExecutions orders
// them.
func (s *Store) ListActionExecutions(ctx context.Context, pipeline, id string) ([]ActionExecution, error) {
	prefix := "ax#"
	if id != "" {
		prefix += id + "#"
	}
	out, err := query[ActionExecution](ctx, s.b, partition(pipeline), prefix, QueryOptions{})
	if err != nil {
		return nil, fmt.Errorf("list action executions of %s: %w", pipeline, err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartTime.After(out[j].StartTime) })
	return out, nil
}

// LatestActionExecution returns the newest attempt of one action in one
// execution, or ErrNotFound.
func (s *Store) LatestActionExecution(ctx context.Context, pipeline, id, stage, action string) (Versioned[ActionExecution], error) {
	items, err := s.b.Query(ctx, partition(pipeline), actionExecPrefix(id, stage, action), QueryOptions{Descending: true, Limit: 1})
	if err != nil {
		return Versioned[ActionExecution]{}, err
	}
	if len(items) == 0 {
		return Versioned[ActionExecution]{}, ErrNotFound
	}
	v := Versioned[ActionExecution]{Version: items[0].Version}
	if err := json.Unmarshal(items[0].Body, &v.Value); err != nil {
		return v, fmt.Errorf("decode %s: %w", items[0].SK, err)
	}
	return v, nil
}

// GetApproval returns an approval by its token, or ErrNotFound.
func (s *Store) GetApproval(ctx context.Context, pipeline, token string) (Versioned[Approval], error) {
	return get[Approval](ctx, s.b, partition(pipeline), approvalKey(token))
}

// ApprovalWrite is the conditional write of an approval.
func ApprovalWrite(a Versioned[Approval]) (Write, error) {
	return PutWrite(partition(a.Value.PipelineName), approvalKey(a.Value.Token), a.Value, a.Version)
}

// Transact applies writes built by the *Write functions atomically.
func (s *Store) Transact(ctx context.Context, writes ...Write) error {
	return s.b.Transact(ctx, writes...)
}

// ListApprovals returns a pipeline's approvals (pending and decided).
func (s *Store) ListApprovals(ctx context.Context, pipeline string) ([]Approval, error) {
	return query[Approval](ctx, s.b, partition(pipeline), "approval#", QueryOptions{})
}

// GetParkedTask returns the parked token of an action, or ErrNotFound.
func (s *Store) GetParkedTask(ctx context.Context, pipeline, id, stage, action string) (Versioned[ParkedTask], error) {
	return get[ParkedTask](ctx, s.b, partition(pipeline), parkKey(id, stage, action))
}

// ParkedTaskWrite is the conditional write of a parked token.
func ParkedTaskWrite(p Versioned[ParkedTask]) (Write, error) {
	return PutWrite(partition(p.Value.PipelineName), parkKey(p.Value.PipelineExecutionID, p.Value.StageName, p.Value.ActionName), p.Value, p.Version)
}

// DeleteParkedTaskWrite removes a parked token read at version.
func DeleteParkedTaskWrite(p Versioned[ParkedTask]) Write {
	return Write{Op: Delete, PK: partition(p.Value.PipelineName), SK: parkKey(p.Value.PipelineExecutionID, p.Value.StageName, p.Value.ActionName), Expect: p.Version}
}
