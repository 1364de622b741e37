package states

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
)

// The listing operations page through their items with cursors: a page
// ends with the cursor of its last item (Next), and the next call passes it
// back (After). A cursor names an item, not a position, so pages stay
// stable while executions start and events are appended.

// StateMachinePage is a page of ListStateMachinesPage.
type StateMachinePage struct {
	StateMachines []*StateMachine
	// Next is the cursor of the next page, "" on the last one.
	Next string
}

// ListStateMachinesInput selects a page of state machines.
type ListStateMachinesInput struct {
	// After is the Next of the previous page; "" for the first.
	After string
	// MaxResults caps the page; 0 lists every state machine.
	MaxResults int
}

// listKey orders state machines by creation, then by ARN; it is also the
// cursor of ListStateMachinesPage.
func (m *machine) listKey() string {
	return fmt.Sprintf("%020d/%s", uint64(m.rec.Created.UnixNano())+1<<63, m.rec.Arn)
}

// setMachine stores a state machine record, and keeps the listing order.
// The caller holds e.mu.
func (e *Engine) setMachine(m *machine) {
	if old := e.machines[m.rec.Arn]; old != nil {
		if i := slices.Index(e.listed, old); i >= 0 {
			e.listed = slices.Delete(e.listed, i, i+1)
		}
	}
	e.machines[m.rec.Arn] = m
	if m.rec.Deleted {
		return
	}
	key := m.listKey()
	i := sort.Search(len(e.listed), func(i int) bool { return e.listed[i].listKey() > key })
	e.listed = slices.Insert(e.listed, i, m)
}

// ListStateMachinesPage returns state machines, oldest first.
func (e *Engine) ListStateMachinesPage(_ context.Context, in ListStateMachinesInput) (*StateMachinePage, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	list := e.listed
	if in.After != "" {
		list = list[sort.Search(len(list), func(i int) bool { return list[i].listKey() > in.After }):]
	}
	page := &StateMachinePage{}
	if in.MaxResults > 0 && len(list) > in.MaxResults {
		list = list[:in.MaxResults]
		page.Next = list[len(list)-1].listKey()
	}
	page.StateMachines = make([]*StateMachine, len(list))
	for i, m := range list {
		page.StateMachines[i] = m.describe()
	}
	return page, nil
}

// ListStateMachines returns every state machine, oldest first.
func (e *Engine) ListStateMachines(ctx context.Context) ([]*StateMachine, error) {
	page, err := e.ListStateMachinesPage(ctx, ListStateMachinesInput{})
	if err != nil {
		return nil, err
	}
	return page.StateMachines, nil
}

// addExecution indexes a new execution. The caller holds e.mu.
func (e *Engine) addExecution(x *execution) {
	e.seq++
	x.seq = e.seq
	e.execs[x.arn] = x
	e.byMachine[x.machineArn] = append(e.byMachine[x.machineArn], x)
}

// removeExecution forgets an execution whose start failed. The caller
// holds e.mu.
func (e *Engine) removeExecution(x *execution) {
	delete(e.execs, x.arn)
	list := e.byMachine[x.machineArn]
	if i, ok := slices.BinarySearchFunc(list, x.seq, func(o *execution, seq uint64) int {
		return cmp.Compare(o.seq, seq)
	}); ok {
		e.byMachine[x.machineArn] = slices.Delete(list, i, i+1)
	}
}

// ListExecutionsInput selects executions of a state machine.
type ListExecutionsInput struct {
	StateMachineArn string
	// StatusFilter keeps the executions of one status; "" keeps all.
	StatusFilter string
	// RedriveFilter keeps the executions that were redriven (REDRIVEN) or
	// were not (NOT_REDRIVEN); "" keeps all.
	RedriveFilter string
	// After is the Next of the previous page; "" for the first.
	After string
	// MaxResults caps the page; 0 lists every execution that matches.
	MaxResults int
}

// ExecutionPage is a page of ListExecutionsPage.
type ExecutionPage struct {
	Executions []*ExecutionDescription
	// Next is the cursor of the next page, "" on the last one.
	Next string
}

// matches reports whether an execution passes the filters of a listing.
func (x *execution) matches(in ListExecutionsInput) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	switch {
	case in.StatusFilter != "" && x.status != in.StatusFilter:
		return false
	case in.RedriveFilter == "REDRIVEN":
		return x.redriveCount > 0
	case in.RedriveFilter == "NOT_REDRIVEN":
		return x.redriveCount == 0
	}
	return true
}

// ListExecutionsPage returns executions of a state machine, newest first.
// It looks at the executions after the cursor only until the page is full
// and one more matches.
func (e *Engine) ListExecutionsPage(_ context.Context, in ListExecutionsInput) (*ExecutionPage, error) {
	if _, err := e.machine(in.StateMachineArn); err != nil {
		return nil, err
	}
	e.mu.Lock()
	list := e.byMachine[in.StateMachineArn]
	if in.After != "" {
		x := e.execs[in.After]
		if x == nil || x.machineArn != in.StateMachineArn {
			e.mu.Unlock()
			return nil, apiError(ErrInvalidToken, "Invalid Token: '%s' is not an execution of '%s'", in.After, in.StateMachineArn)
		}
		list = list[:sort.Search(len(list), func(i int) bool { return list[i].seq >= x.seq })]
	}
	list = list[:len(list):len(list)]
	e.mu.Unlock()
	page := &ExecutionPage{Executions: []*ExecutionDescription{}}
	for i := len(list) - 1; i >= 0; i-- {
		if !list[i].matches(in) {
			continue
		}
		if in.MaxResults > 0 && len(page.Executions) == in.MaxResults {
			page.Next = page.Executions[len(page.Executions)-1].ExecutionArn
			break
		}
		page.Executions = append(page.Executions, list[i].describe())
	}
	return page, nil
}

// ListExecutions returns the executions of a state machine that in
// selects, newest first.
func (e *Engine) ListExecutions(ctx context.Context, in ListExecutionsInput) ([]*ExecutionDescription, error) {
	page, err := e.ListExecutionsPage(ctx, in)
	if err != nil {
		return nil, err
	}
	return page.Executions, nil
}

// HistoryPage is a page of GetExecutionHistoryPage.
type HistoryPage struct {
	Events []*Event
	// Next is the cursor (an event id) of the next page, 0 on the last one.
	Next int64
}

// GetExecutionHistoryPage returns the durable events of an execution that
// q selects, reading from the log only those and the one after them.
func (e *Engine) GetExecutionHistoryPage(_ context.Context, arn string, q HistoryQuery) (*HistoryPage, error) {
	if _, err := e.execution(arn); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit > 0 {
		q.Limit++
	}
	h, err := e.log.History(arn, q)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	page := &HistoryPage{Events: h}
	if limit > 0 && len(h) > limit {
		page.Events = h[:limit]
		page.Next = h[limit-1].ID
	}
	return page, nil
}

// GetExecutionHistory returns the durable events of an execution, oldest
// first.
func (e *Engine) GetExecutionHistory(ctx context.Context, arn string) ([]*Event, error) {
	page, err := e.GetExecutionHistoryPage(ctx, arn, AllEvents)
	if err != nil {
		return nil, err
	}
	return page.Events, nil
}
