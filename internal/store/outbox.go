package store

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// The event outbox. Every transaction that changes the status of an
// execution record (a pipeline, stage or action execution) writes, in the
// same transaction, an outbox entry that lists those changes, so that a
// committed change is never without its entry and an entry never without
// its change. The publisher (events.Outbox) reads the entries in order,
// sends CodePipeline's events built from them, and removes them once sent:
// events go out at least once, even across a crash, and always with the
// same ids.
//
// The entries live in OutboxShards partitions of their own:
//
//	outbox#<shard>  entry#<stamp, unix ns>#<entry id>      OutboxEntry
//
// The shard is a hash of the pipeline and execution, so that the changes of
// one execution are in one partition, in the order of their stamps. A stamp
// is the writer's clock made strictly increasing within the process, taken
// before the commit: a write that follows another's commit (a stage that
// ends after its actions did) has a later stamp. Writers in other processes
// on the same machine (`sluice approve`) share its clock. An entry
// committed late with an early stamp is not skipped: the publisher removes
// what it sent instead of keeping a cursor, and finds the late entry on its
// next pass.
//
// A transaction that changes execution records holds one item per shard it
// touches besides its own writes (and one per action attempt it creates,
// see LatestRun), so such a transaction has at most MaxTransactItems minus
// that many writes of its own.

// OutboxShards is the number of outbox partitions.
const OutboxShards = 16

// Change is a status change of an execution record: one of Execution,
// Stage and Action is set, a copy of the record as written without what no
// event shows (configurations, variables, tokens). Version is the record's
// version after the write (0 for an unconditional write).
type Change struct {
	// Previous is the status the record had before the write; empty when
	// the write created it.
	Previous  string             `json:"previous,omitempty"`
	Created   bool               `json:"created,omitempty"`
	Version   int64              `json:"version"`
	Execution *PipelineExecution `json:"execution,omitempty"`
	Stage     *StageExecution    `json:"stage,omitempty"`
	Action    *ActionExecution   `json:"action,omitempty"`
}

// PipelineName is the pipeline of the changed record.
func (c *Change) PipelineName() string {
	switch {
	case c.Execution != nil:
		return c.Execution.PipelineName
	case c.Stage != nil:
		return c.Stage.PipelineName
	case c.Action != nil:
		return c.Action.PipelineName
	}
	return ""
}

// ExecutionID is the pipeline execution of the changed record.
func (c *Change) ExecutionID() string {
	switch {
	case c.Execution != nil:
		return c.Execution.PipelineExecutionID
	case c.Stage != nil:
		return c.Stage.PipelineExecutionID
	case c.Action != nil:
		return c.Action.PipelineExecutionID
	}
	return ""
}

// OutboxEntry is the status changes of one transaction (those of its
// executions in one shard), waiting to be published.
type OutboxEntry struct {
	Shard   int      `json:"-"`
	Key     string   `json:"-"`
	Version int64    `json:"-"`
	Changes []Change `json:"changes"`
}

func outboxPartition(shard int) string { return fmt.Sprintf("outbox#%02d", shard) }

// OutboxShard is the shard of an execution's changes.
func OutboxShard(pipeline, execution string) int {
	h := fnv.New32a()
	h.Write([]byte(pipeline))
	h.Write([]byte{0})
	h.Write([]byte(execution))
	return int(h.Sum32() % OutboxShards)
}

// lastStamp is the latest outbox stamp taken in this process.
var lastStamp atomic.Int64

// stamp returns the clock in unix nanoseconds, later than every stamp this
// process took before.
func stamp() int64 {
	for {
		last := lastStamp.Load()
		next := max(time.Now().UnixNano(), last+1)
		if lastStamp.CompareAndSwap(last, next) {
			return next
		}
	}
}

// statusChange returns the change a write of a record makes, or nil when
// it keeps the record's status. stored is the status the record was read
// with, status the one written; expect is the write's expected version.
func statusChange(stored, status string, expect int64) *Change {
	if stored == status && expect != Absent {
		return nil
	}
	c := &Change{Previous: stored, Created: expect == Absent, Version: expect + 1}
	if expect == AnyVersion {
		c.Version = 0
	}
	return c
}

// Snapshots of records for the outbox: what the events show.

func executionSnapshot(e PipelineExecution) *PipelineExecution {
	e.ArtifactRevisions, e.Variables, e.SourceRevisions = nil, nil, nil
	return &e
}

func actionSnapshot(a ActionExecution) *ActionExecution {
	a.Input.Configuration, a.Input.ResolvedConfiguration = nil, nil
	a.Output.OutputVariables = nil
	a.Token = ""
	return &a
}

// outboxWrites returns the outbox entries of a transaction's status
// changes: one per shard touched, in the order of the writes.
func outboxWrites(writes []Write) ([]Write, []int, error) {
	var (
		entries []*OutboxEntry
		shards  []int
	)
	for _, w := range writes {
		if w.change == nil {
			continue
		}
		c := *w.change
		shard := OutboxShard(c.PipelineName(), c.ExecutionID())
		i := 0
		for i < len(shards) && shards[i] != shard {
			i++
		}
		if i == len(shards) {
			shards = append(shards, shard)
			entries = append(entries, &OutboxEntry{Shard: shard})
		}
		entries[i].Changes = append(entries[i].Changes, c)
	}
	out := make([]Write, 0, len(entries))
	for _, e := range entries {
		key := fmt.Sprintf("entry#%020d#%s", stamp(), uuid.NewString())
		w, err := PutWrite(outboxPartition(e.Shard), key, e, Absent)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, w)
	}
	return out, shards, nil
}

// OutboxEntries returns up to limit entries of a shard, oldest stamp
// first.
func (s *Store) OutboxEntries(ctx context.Context, shard, limit int) ([]OutboxEntry, error) {
	if shard < 0 || shard >= OutboxShards {
		return nil, fmt.Errorf("outbox shard %d: want 0 to %d", shard, OutboxShards-1)
	}
	items, err := s.b.Query(ctx, outboxPartition(shard), "entry#", QueryOptions{Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("read event outbox: %w", err)
	}
	out := make([]OutboxEntry, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it.Body, &out[i]); err != nil {
			return nil, fmt.Errorf("decode %s/%s: %w", it.PK, it.SK, err)
		}
		out[i].Shard, out[i].Key, out[i].Version = shard, it.SK, it.Version
	}
	return out, nil
}

// RemoveOutboxEntries removes published entries, in transactions of at
// most MaxTransactItems deletes. Removing an entry removed already is not
// an error.
func (s *Store) RemoveOutboxEntries(ctx context.Context, entries []OutboxEntry) error {
	for len(entries) > 0 {
		n := min(len(entries), MaxTransactItems)
		writes := make([]Write, n)
		for i, e := range entries[:n] {
			writes[i] = Write{Op: Delete, PK: outboxPartition(e.Shard), SK: e.Key, Expect: AnyVersion}
		}
		if err := s.b.Transact(ctx, writes...); err != nil {
			return fmt.Errorf("remove published events: %w", err)
		}
		entries = entries[n:]
	}
	return nil
}

// Observer is told, after each commit that wrote outbox entries, which
// shards they are in, so that the publisher need not poll. It runs in the
// writer's goroutine: it must be quick, and it must not write to the
// store.
type Observer func(shards []int)

// Observe makes s report the shards of the outbox entries each committed
// transaction writes to fn (nil: to nobody). It may be called while s is in
// use.
func (s *Store) Observe(fn Observer) {
	if fn == nil {
		s.obs.Store(nil)
		return
	}
	s.obs.Store(&fn)
}

// outboxed is a Backend that adds the outbox entries of the status changes
// a transaction makes to it, and tells its store's observer.
type outboxed struct {
	Backend
	obs *atomic.Pointer[Observer]
}

// Transact implements Backend.
func (o outboxed) Transact(ctx context.Context, writes ...Write) error {
	more, shards, err := outboxWrites(writes)
	if err != nil {
		return err
	}
	more = append(more, indexWrites(writes)...)
	if len(more) > 0 {
		if n := len(writes) + len(more); n > MaxTransactItems {
			return fmt.Errorf("transaction: %d writes and %d event outbox entries and index items, at most %d items", len(writes), len(more), MaxTransactItems)
		}
		writes = append(writes[:len(writes):len(writes)], more...)
	}
	if err := o.Backend.Transact(ctx, writes...); err != nil {
		return err
	}
	if fn := o.obs.Load(); fn != nil && len(shards) > 0 {
		(*fn)(shards)
	}
	return nil
}

// indexWrites returns the index writes that go with writes, one per index
// item.
func indexWrites(writes []Write) []Write {
	var out []*indexWrite
	for _, w := range writes {
		if w.index == nil {
			continue
		}
		i := slices.IndexFunc(out, func(x *indexWrite) bool { return x.PK == w.index.PK && x.SK == w.index.SK })
		switch {
		case i < 0:
			out = append(out, w.index)
		case !w.index.at.Before(out[i].at):
			out[i] = w.index
		}
	}
	ws := make([]Write, len(out))
	for i, x := range out {
		ws[i] = x.Write
	}
	return ws
}
