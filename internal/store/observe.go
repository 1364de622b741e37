package store

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
)

// Change is an execution record that a committed transaction wrote: one of
// Execution, Stage and Action is set. Version is the record's version
// after the write, so that an observer can order the changes of one record
// that concurrent transactions report in another order.
type Change struct {
	Execution *PipelineExecution
	Stage     *StageExecution
	Action    *ActionExecution
	Version   int64
}

// Observer is told about the execution records of every committed
// transaction, after the commit. It runs in the writer's goroutine: it must
// be quick, and it must not write to the store.
type Observer func(ctx context.Context, changes []Change)

// Observe makes s report the execution records each committed transaction
// writes to fn (nil: to nobody): pipeline, stage and action executions,
// from which their state changes (CodePipeline's events) follow. It may be
// called while s is in use.
func (s *Store) Observe(fn Observer) {
	if fn == nil {
		s.obs.fn.Store(nil)
		return
	}
	s.obs.fn.Store(&fn)
}

// observers holds a Store's observer.
type observers struct {
	fn atomic.Pointer[Observer]
}

// observed is a Backend that reports committed writes to its store's
// observer, if any.
type observed struct {
	Backend
	obs *observers
}

// Transact implements Backend.
func (o observed) Transact(ctx context.Context, writes ...Write) error {
	if err := o.Backend.Transact(ctx, writes...); err != nil {
		return err
	}
	fn := o.obs.fn.Load()
	if fn == nil {
		return nil
	}
	var changes []Change
	for _, w := range writes {
		if c, ok := changeOf(w); ok {
			changes = append(changes, c)
		}
	}
	if len(changes) > 0 {
		(*fn)(ctx, changes)
	}
	return nil
}

// changeOf decodes a write of an execution record.
func changeOf(w Write) (Change, bool) {
	if w.Op != Put || !strings.HasPrefix(w.PK, "pipeline#") {
		return Change{}, false
	}
	c := Change{Version: w.Expect + 1}
	if w.Expect == AnyVersion {
		c.Version = 0
	}
	var target any
	switch {
	case strings.HasPrefix(w.SK, "exec#"):
		c.Execution = new(PipelineExecution)
		target = c.Execution
	case strings.HasPrefix(w.SK, "sx#"):
		c.Stage = new(StageExecution)
		target = c.Stage
	case strings.HasPrefix(w.SK, "ax#"):
		c.Action = new(ActionExecution)
		target = c.Action
	default:
		return Change{}, false
	}
	if json.Unmarshal(w.Body, target) != nil {
		return Change{}, false
	}
	return c, true
}
