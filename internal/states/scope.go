package states

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// varScope holds the workflow variables of one scope: the top level, a
// Parallel branch or a Map iteration. Inner scopes read the outer ones.
// Only the goroutine that holds the execution's baton touches a scope.
type varScope struct {
	parent *varScope
	vals   map[string]any
}

func (v *varScope) lookup(name string) (any, bool) {
	for s := v; s != nil; s = s.parent {
		if val, ok := s.vals[name]; ok {
			return val, true
		}
	}
	return nil, false
}

func (v *varScope) each(fn func(name string, val any)) {
	if v == nil {
		return
	}
	v.parent.each(fn)
	for k, val := range v.vals {
		fn(k, val)
	}
}

func (v *varScope) set(assigned map[string]any) {
	if len(assigned) == 0 {
		return
	}
	if v.vals == nil {
		v.vals = make(map[string]any, len(assigned))
	}
	for k, val := range assigned {
		v.vals[k] = val
	}
}

func (v *varScope) child() *varScope { return &varScope{parent: v} }

// baton lets one goroutine of an execution run interpreter code at a time,
// handed over in FIFO order. Branches and iterations interleave only where
// they wait, so an execution's history does not depend on the Go scheduler.
type baton struct {
	mu    sync.Mutex
	held  bool
	queue []chan struct{}
}

// ticket reserves a place in line for a goroutine about to start.
func (b *baton) ticket() chan struct{} {
	ch := make(chan struct{})
	b.mu.Lock()
	if !b.held {
		b.held = true
		close(ch)
	} else {
		b.queue = append(b.queue, ch)
	}
	b.mu.Unlock()
	return ch
}

func (b *baton) acquire() { <-b.ticket() }

func (b *baton) release() {
	b.mu.Lock()
	if len(b.queue) > 0 {
		ch := b.queue[0]
		b.queue = b.queue[1:]
		b.mu.Unlock()
		close(ch)
		return
	}
	b.held = false
	b.mu.Unlock()
}

// scope runs the states of one block in order: the top level, a Parallel
// branch or a Map iteration. It emits the scope's events, or replays the
// ones recorded before a restart or a redrive.
type scope struct {
	x    *execution
	ctx  context.Context
	key  string
	prev int64
	vars *varScope
	rec  []*Event
	pos  int
	// silent scopes (iterations of a distributed Map, which AWS runs as
	// child executions) record no events in this history.
	silent    bool
	silentSeq int64 // numbers the unrecorded events of a silent scope
	// branch scopes (of Parallel states) record a state that fails them as
	// aborted too, as AWS does.
	branch   bool
	lastTime time.Time
}

func (x *execution) newScope(ctx context.Context, key string, prev int64, vars *varScope) *scope {
	s := &scope{x: x, ctx: ctx, key: key, prev: prev, vars: vars}
	if x.recorded != nil {
		s.rec = x.recorded[key]
		delete(x.recorded, key)
	}
	return s
}

// childKey names the scope of branch or iteration i of the state whose
// start event is id.
func childKey(parent string, id int64, i int) string {
	return fmt.Sprintf("%s/%d.%d", parent, id, i)
}

// divergence stops an execution whose replay does not follow its history.
type divergence struct{ msg string }

// stopRun unwinds a goroutine of an execution whose engine is closing, or
// whose history store failed.
type stopRun struct{ err error }

// replaying reports whether recorded events remain in this scope.
func (s *scope) replaying() bool { return s.pos < len(s.rec) }

// peek returns the next recorded event, or nil.
func (s *scope) peek() *Event {
	if s.pos < len(s.rec) {
		return s.rec[s.pos]
	}
	return nil
}

// emit appends an event to the history and returns it, or returns the
// recorded event in its place while the scope replays.
func (s *scope) emit(e *Event) *Event {
	if s.silent {
		s.silentSeq++
		e.ID = s.silentSeq
		e.Time = s.x.eng.clock.Now()
		s.lastTime = e.Time
		return e
	}
	if s.pos < len(s.rec) {
		r := s.rec[s.pos]
		if r.Type != e.Type {
			panic(divergence{fmt.Sprintf("event %d of scope %q is %s, replay reached %s", r.ID, s.key, r.Type, e.Type)})
		}
		s.pos++
		s.prev = r.ID
		s.lastTime = r.Time
		return r
	}
	s.x.append(s, e)
	s.prev = e.ID
	s.lastTime = e.Time
	return e
}

// errorsIsBranchFailed reports whether a scope was cancelled because a
// sibling branch or iteration failed.
func errorsIsBranchFailed(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errBranchFailed)
}

// mapRunArn returns the ARN of a distributed Map run of an execution.
func mapRunArn(execution, label, id string) string {
	arn := strings.Replace(execution, ":execution:", ":mapRun:", 1)
	if i := strings.LastIndex(arn, ":"); i >= 0 {
		arn = arn[:i] + "/" + label + ":" + id
	}
	return arn
}
