package gate

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/store"
)

// Step is one decision on a stage's control item: the decision, and the
// writes of other records that must happen with it.
type Step func(ctx context.Context, c store.StageControl) (execution.Decision, []store.Write, error)

// Apply runs a Step on a stage: it reads the stage's control item, decides,
// and writes in one transaction the new control item, the step's writes, the
// executions the decision superseded and the stage records of the executions
// it let in, every write conditional on the version read. On a conflict it
// starts again. Then it delivers the callbacks the decision put in the
// outbox. The disable, enable and stop operations use it as the gate does.
func (h *Handler) Apply(ctx context.Context, pipeline, stage string, step Step) (execution.Decision, error) {
	now := h.now()
	for range maxConflicts {
		c, err := h.Store.GetStageControl(ctx, pipeline, stage)
		if err != nil {
			return execution.Decision{}, fmt.Errorf("read stage %s: %w", stage, err)
		}
		d, writes, err := step(ctx, c.Value)
		if err != nil {
			return d, err
		}
		d, more, wakes, attempts, err := h.consequences(ctx, pipeline, stage, d, now)
		if err != nil {
			return d, err
		}
		if d.Control.Outbox, err = h.stampAttempts(ctx, pipeline, stage, d.Control.Outbox, attempts); err != nil {
			return d, err
		}
		cw, err := store.StageControlWrite(store.Versioned[store.StageControl]{Value: d.Control, Version: c.Version})
		if err != nil {
			return d, err
		}
		writes = append(append([]store.Write{cw}, writes...), more...)
		err = h.Store.Transact(ctx, writes...)
		if errors.Is(err, store.ErrConditionFailed) {
			continue
		}
		if err != nil {
			return d, fmt.Errorf("write stage %s: %w", stage, err)
		}
		for id, at := range wakes {
			if err := h.Alarms.Set(ctx, at, pipeline, stage, id); err != nil {
				return d, fmt.Errorf("set the alarm of stage %s for %s: %w", stage, id, err)
			}
		}
		return d, h.Flush(ctx, pipeline, stage)
	}
	return execution.Decision{}, fmt.Errorf("write stage %s: still conflicting after %d attempts", stage, maxConflicts)
}

// stampAttempts gives each successful entry callback of the outbox that
// has no output yet the stage attempt its execution enters, {"attempt": n}:
// the compiled machine carries it to the stage's exit, which tells by it a
// late duplicate of an earlier attempt's exit from the exit of the attempt
// that runs. attempts holds the attempts the decision just entered; the
// others (an entry let in earlier whose conditions waited) are read.
func (h *Handler) stampAttempts(ctx context.Context, pipeline, stage string, outbox []store.TokenSend, attempts map[string]int) ([]store.TokenSend, error) {
	var out []store.TokenSend
	for i, s := range outbox {
		if s.ExecutionID == "" || s.Error != "" || len(s.Output) > 0 {
			continue
		}
		n, ok := attempts[s.ExecutionID]
		if !ok {
			se, err := h.Store.GetStageExecution(ctx, pipeline, s.ExecutionID, stage)
			if err != nil {
				return nil, fmt.Errorf("read stage execution %s/%s: %w", s.ExecutionID, stage, err)
			}
			n = se.Value.Attempt
		}
		if out == nil {
			out = slices.Clone(outbox)
		}
		out[i].Output = fmt.Appendf(nil, `{"attempt":%d}`, n)
	}
	if out == nil {
		return outbox, nil
	}
	return out, nil
}

// consequences are the record writes a decision implies: superseded
// executions end Superseded, executions let in get their stage record and
// have the stage's entry conditions evaluated, which may park or refuse
// their entry (the decision returned) and ask for alarms (by execution).
// It returns the stage attempt each execution let in enters.
func (h *Handler) consequences(ctx context.Context, pipeline, stage string, d execution.Decision, now time.Time) (execution.Decision, []store.Write, map[string]time.Time, map[string]int, error) {
	var writes []store.Write
	var wakes map[string]time.Time
	attempts := map[string]int{}
	for _, id := range d.Superseded {
		e, err := h.Store.GetPipelineExecution(ctx, pipeline, id)
		if err != nil {
			return d, nil, nil, nil, fmt.Errorf("read superseded execution %s: %w", id, err)
		}
		if e.Value.Status != store.ExecutionInProgress {
			continue
		}
		e.Value.Status = store.ExecutionSuperseded
		e.Value.StatusSummary = "Superseded while waiting to enter stage " + stage
		e.Value.LastUpdateTime = now
		w, err := store.PipelineExecutionWrite(e)
		if err != nil {
			return d, nil, nil, nil, err
		}
		writes = append(writes, w)
	}
	for _, id := range d.Entered {
		se, err := h.Store.GetStageExecution(ctx, pipeline, id, stage)
		var existing *store.StageExecution
		switch {
		case err == nil:
			existing = &se.Value
		case !errors.Is(err, store.ErrNotFound):
			return d, nil, nil, nil, fmt.Errorf("read stage execution %s/%s: %w", id, stage, err)
		}
		next := execution.EnterStage(existing, pipeline, id, stage, now)
		attempts[id] = next.Attempt
		if existing != nil && reflect.DeepEqual(*existing, next) {
			continue
		}
		if existing == nil {
			e, err := h.Store.GetPipelineExecution(ctx, pipeline, id)
			if err != nil {
				return d, nil, nil, nil, fmt.Errorf("read pipeline execution %s: %w", id, err)
			}
			if e.Value.ExecutionType == store.TypeRollback {
				next.Type = store.TypeRollback
			}
			var until time.Time
			if d, until, err = h.entry(ctx, e.Value, &next, d, now); err != nil {
				return d, nil, nil, nil, err
			}
			if !until.IsZero() {
				if wakes == nil {
					wakes = map[string]time.Time{}
				}
				wakes[id] = until
			}
		}
		w, err := store.StageExecutionWrite(store.Versioned[store.StageExecution]{Value: next, Version: se.Version})
		if err != nil {
			return d, nil, nil, nil, err
		}
		writes = append(writes, w)
	}
	return d, writes, wakes, attempts, nil
}

// Flush delivers a stage's undelivered callbacks and removes them from its
// outbox. A callback to a token that no longer waits counts as delivered.
func (h *Handler) Flush(ctx context.Context, pipeline, stage string) error {
	for range maxConflicts {
		c, err := h.Store.GetStageControl(ctx, pipeline, stage)
		if err != nil {
			return fmt.Errorf("read stage %s: %w", stage, err)
		}
		if len(c.Value.Outbox) == 0 {
			return nil
		}
		var sent []store.TokenSend
		var failed error
		for _, s := range c.Value.Outbox {
			if err := h.deliver(ctx, s); err != nil {
				failed = errors.Join(failed, err)
				continue
			}
			sent = append(sent, s)
		}
		if len(sent) > 0 {
			c.Value = execution.Delivered(c.Value, sent)
			w, err := store.StageControlWrite(c)
			if err != nil {
				return err
			}
			err = h.Store.Transact(ctx, w)
			if errors.Is(err, store.ErrConditionFailed) {
				continue // delivered twice at worst: the second finds the task gone
			}
			if err != nil {
				return fmt.Errorf("clear outbox of stage %s: %w", stage, err)
			}
		}
		if failed != nil {
			return fmt.Errorf("deliver callbacks of stage %s: %w", stage, failed)
		}
		return nil
	}
	return fmt.Errorf("clear outbox of stage %s: still conflicting after %d attempts", stage, maxConflicts)
}

// deliver sends one callback.
func (h *Handler) deliver(ctx context.Context, s store.TokenSend) error {
	var err error
	if s.Error == "" {
		output := s.Output
		if len(output) == 0 {
			output = []byte(`{}`)
		}
		err = h.Tokens.SendTaskSuccess(ctx, s.TaskToken, output)
	} else {
		err = h.Tokens.SendTaskFailure(ctx, s.TaskToken, s.Error, s.Cause)
	}
	if errors.Is(err, ErrTaskGone) {
		return nil
	}
	return err
}

// markStopped ends a stopping execution that was not inside any stage.
func (h *Handler) markStopped(ctx context.Context, pipeline, id string, now time.Time) error {
	for range maxConflicts {
		e, err := h.Store.GetPipelineExecution(ctx, pipeline, id)
		if err != nil {
			return fmt.Errorf("read pipeline execution %s: %w", id, err)
		}
		if e.Value.Status != store.ExecutionStopping {
			return nil
		}
		e.Value.Status = store.ExecutionStopped
		e.Value.LastUpdateTime = now
		err = h.Store.PutPipelineExecution(ctx, e)
		if !errors.Is(err, store.ErrConditionFailed) {
			return err
		}
	}
	return fmt.Errorf("stop pipeline execution %s: still conflicting after %d attempts", id, maxConflicts)
}
