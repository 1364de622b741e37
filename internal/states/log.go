package states

import (
	"maps"
	"sort"
	"sync"
	"time"
)

// EventLog stores what the engine must not lose: the history of every
// execution and the state machines. The engine appends each event before it
// acts on it, and rebuilds every open execution from its events after a
// restart.
//
// NewMemoryLog keeps everything in memory; the history package implements it
// on SQLite.
type EventLog interface {
	// Append stores events, of one or several executions, in order. When it
	// returns without error they are durable.
	Append(events []*Event) error
	// History returns events of one execution in id order (newest first
	// with q.Reverse), reading no more than q selects.
	History(execution string, q HistoryQuery) ([]*Event, error)
	// Executions returns every execution the log holds.
	Executions() ([]ExecutionRecord, error)
	// Beat records the time of the latest heartbeat of a task token of an
	// open execution; it is durable when Beat returns. The heartbeats of
	// an execution go when an event closes it.
	Beat(execution, token string, at time.Time) error
	// Beats returns the latest heartbeat of each task token of an
	// execution.
	Beats(execution string) (map[string]time.Time, error)
	// SaveMachine creates or replaces a state machine record.
	SaveMachine(m MachineRecord) error
	// Machines returns every state machine record, deleted ones included.
	Machines() ([]MachineRecord, error)
	Close() error
}

// HistoryQuery selects events of an execution's history.
type HistoryQuery struct {
	// After is the id of the event before the first one to return (in
	// reverse order, after it); 0 starts at the first (last) event.
	After int64
	// Limit caps the number of events; 0 returns every one.
	Limit int
	// Reverse returns the events newest first.
	Reverse bool
}

// AllEvents selects a whole history, oldest first.
var AllEvents = HistoryQuery{}

// ExecutionRecord is what a log knows of one execution without its full
// history: its ExecutionStarted event, the latest event that changed its
// status (terminal or ExecutionRedriven; nil while it never closed), and
// its latest ExecutionRedriven event (nil while it was never redriven).
type ExecutionRecord struct {
	Started  *Event
	Status   *Event
	Redriven *Event
}

// Open reports whether the execution is running.
func (r ExecutionRecord) Open() bool {
	return r.Status == nil || r.Status.Type == ExecutionRedriven
}

// MachineRecord is a stored state machine.
type MachineRecord struct {
	Arn        string
	Name       string
	Definition string
	RoleArn    string
	Type       string
	Created    time.Time
	Updated    time.Time
	// Deleting marks a state machine deleted while executions of it ran:
	// it is deleted once the last of them closes.
	Deleting bool
	Deleted  bool
}

// memoryLog is the in-memory EventLog.
type memoryLog struct {
	mu         sync.RWMutex
	histories  map[string][]*Event
	executions map[string]*ExecutionRecord
	beats      map[string]map[string]time.Time
	machines   map[string]MachineRecord
}

// NewMemoryLog returns an EventLog that keeps everything in memory.
func NewMemoryLog() EventLog {
	return &memoryLog{
		histories:  map[string][]*Event{},
		executions: map[string]*ExecutionRecord{},
		beats:      map[string]map[string]time.Time{},
		machines:   map[string]MachineRecord{},
	}
}

func (l *memoryLog) Append(events []*Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range events {
		l.histories[e.Execution] = append(l.histories[e.Execution], e)
		switch {
		case e.Type == ExecutionStarted:
			l.executions[e.Execution] = &ExecutionRecord{Started: e}
		case IsTerminal(e.Type) || e.Type == ExecutionRedriven:
			if r := l.executions[e.Execution]; r != nil {
				r.Status = e
				if e.Type == ExecutionRedriven {
					r.Redriven = e
				}
			}
			if IsTerminal(e.Type) {
				delete(l.beats, e.Execution)
			}
		}
	}
	return nil
}

func (l *memoryLog) Beat(execution, token string, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	beats := l.beats[execution]
	if beats == nil {
		beats = map[string]time.Time{}
		l.beats[execution] = beats
	}
	if at.After(beats[token]) {
		beats[token] = at
	}
	return nil
}

func (l *memoryLog) Beats(execution string) (map[string]time.Time, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := maps.Clone(l.beats[execution])
	if out == nil {
		out = map[string]time.Time{}
	}
	return out, nil
}

func (l *memoryLog) History(execution string, q HistoryQuery) ([]*Event, error) {
	l.mu.RLock()
	h := l.histories[execution]
	h = h[:len(h):len(h)]
	l.mu.RUnlock()
	if !q.Reverse {
		if q.After > 0 {
			h = h[sort.Search(len(h), func(i int) bool { return h[i].ID > q.After }):]
		}
		if q.Limit > 0 && len(h) > q.Limit {
			h = h[:q.Limit]
		}
		return h, nil
	}
	if q.After > 0 {
		h = h[:sort.Search(len(h), func(i int) bool { return h[i].ID >= q.After })]
	}
	n := len(h)
	if q.Limit > 0 && n > q.Limit {
		n = q.Limit
	}
	out := make([]*Event, n)
	for i := range out {
		out[i] = h[len(h)-1-i]
	}
	return out, nil
}

func (l *memoryLog) Executions() ([]ExecutionRecord, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]ExecutionRecord, 0, len(l.executions))
	for _, r := range l.executions {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Time.Before(out[j].Started.Time) })
	return out, nil
}

func (l *memoryLog) SaveMachine(m MachineRecord) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.machines[m.Arn] = m
	return nil
}

func (l *memoryLog) Machines() ([]MachineRecord, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]MachineRecord, 0, len(l.machines))
	for _, m := range l.machines {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

func (l *memoryLog) Close() error { return nil }
