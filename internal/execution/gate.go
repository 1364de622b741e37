package execution

import (
	"slices"
	"time"

	"github.com/sluice-ci/sluice/internal/store"
)

// Arrival is an execution at a stage's entry gate, with the task token the
// gate must answer.
type Arrival struct {
	ExecutionID    string
	TaskToken      string
	ExecutionStart time.Time
}

// Decision is a new stage control item and what changed: the executions that
// enter the stage now and those replaced while waiting. The callbacks that
// tell them are already in the item's outbox.
type Decision struct {
	Control    store.StageControl
	Entered    []string
	Superseded []string
	// Tokens are the entry tokens of the executions that entered, by
	// execution: Park and Answer find their callbacks in the outbox by them.
	Tokens map[string]string
}

// Enter decides for an execution arriving at a stage: it enters when the
// transition is open and (except in PARALLEL mode) the stage is free with
// nobody waiting before it; otherwise it waits. In SUPERSEDED mode at most one
// execution waits, the newest; an older waiter is superseded. In QUEUED mode
// waiters queue in arrival order. Arriving again (a redelivered event) is
// harmless: the holder is answered again, a waiter keeps its place.
func Enter(c store.StageControl, mode string, a Arrival, now time.Time) Decision {
	c = clone(c)
	d := Decision{}
	if i := parkedIndex(c, a.ExecutionID); i >= 0 {
		// Let in already, its entry conditions waiting: the redelivered
		// entry's token is the one to answer.
		c.Parked[i].TaskToken = a.TaskToken
		d.Control = c
		return d
	}
	if c.Holder == a.ExecutionID {
		// Arriving again: a redelivered entry, or a stage that onFailure
		// retries while it holds it. It enters again.
		c.Outbox = append(c.Outbox, store.TokenSend{TaskToken: a.TaskToken, ExecutionID: a.ExecutionID})
		d.Control = c
		d.Entered = []string{a.ExecutionID}
		d.Tokens = map[string]string{a.ExecutionID: a.TaskToken}
		return d
	}
	if i := waiterIndex(c, a.ExecutionID); i >= 0 {
		c.Waiters[i].TaskToken = a.TaskToken
		return promote(c, mode, now, d)
	}
	c.Waiters = append(c.Waiters, store.Waiter{
		PipelineExecutionID: a.ExecutionID,
		TaskToken:           a.TaskToken,
		ExecutionStart:      a.ExecutionStart,
		Since:               now,
	})
	return promote(c, mode, now, d)
}

// Leave takes an execution out of a stage: it releases the lock if it holds
// it and stops waiting if it waits (a stopped or abandoned execution). The
// next waiter, if the transition is open, enters.
func Leave(c store.StageControl, mode string, executionID string, now time.Time) Decision {
	c = clone(c)
	if c.Holder == executionID {
		c.Holder = ""
		c.HolderSince = time.Time{}
	}
	if i := waiterIndex(c, executionID); i >= 0 {
		c.Waiters = slices.Delete(c.Waiters, i, i+1)
	}
	if i := parkedIndex(c, executionID); i >= 0 {
		c.Parked = slices.Delete(c.Parked, i, i+1)
	}
	return promote(c, mode, now, Decision{})
}

// Withdraw takes a waiting execution out of a stage's queue and fails its
// entry with errName (a stopped execution); the next waiter may go in.
func Withdraw(c store.StageControl, mode, executionID, errName, cause string, now time.Time) Decision {
	c = clone(c)
	if i := waiterIndex(c, executionID); i >= 0 {
		c.Outbox = append(c.Outbox, store.TokenSend{TaskToken: c.Waiters[i].TaskToken, Error: errName, Cause: cause})
		c.Waiters = slices.Delete(c.Waiters, i, i+1)
	}
	if i := parkedIndex(c, executionID); i >= 0 {
		// Let in, waiting for its entry conditions: it leaves the stage.
		c.Outbox = append(c.Outbox, store.TokenSend{TaskToken: c.Parked[i].TaskToken, Error: errName, Cause: cause})
		c.Parked = slices.Delete(c.Parked, i, i+1)
		if c.Holder == executionID {
			c.Holder, c.HolderSince = "", time.Time{}
		}
	}
	return promote(c, mode, now, Decision{})
}

// Parks reports whether an execution is let into the stage and waits for
// its entry conditions.
func Parks(c store.StageControl, executionID string) bool { return parkedIndex(c, executionID) >= 0 }

// Park holds back the entry of an execution the decision let in, whose
// entry conditions wait until until: its callback leaves the outbox and its
// token is kept with the stage.
func Park(d Decision, executionID string, until time.Time) Decision {
	token, ok := d.Tokens[executionID]
	if !ok {
		return d
	}
	d.Control = clone(d.Control)
	d.Control.Outbox = slices.DeleteFunc(d.Control.Outbox, func(s store.TokenSend) bool { return s.TaskToken == token })
	d.Control.Parked = append(d.Control.Parked, store.Parked{PipelineExecutionID: executionID, TaskToken: token, Until: until})
	return d
}

// Refuse fails the entry of an execution the decision let in with errName
// (its entry conditions engaged SKIP or FAIL): the state machine takes it
// to the stage's exit, which records the stage and releases it.
func Refuse(d Decision, executionID, errName, cause string) Decision {
	token, ok := d.Tokens[executionID]
	if !ok {
		return d
	}
	d.Control = clone(d.Control)
	for i, s := range d.Control.Outbox {
		if s.TaskToken == token {
			d.Control.Outbox[i] = store.TokenSend{TaskToken: token, Error: errName, Cause: cause}
		}
	}
	return d
}

// Unpark answers the entry of a parked execution: with success when errName
// is empty (its conditions are met or overridden), else with errName. It
// returns false when the execution is not parked.
func Unpark(c store.StageControl, executionID, errName, cause string) (store.StageControl, bool) {
	i := parkedIndex(c, executionID)
	if i < 0 {
		return c, false
	}
	c = clone(c)
	send := store.TokenSend{TaskToken: c.Parked[i].TaskToken, ExecutionID: executionID}
	if errName != "" {
		send = store.TokenSend{TaskToken: send.TaskToken, Error: errName, Cause: cause}
	}
	c.Outbox = append(c.Outbox, send)
	c.Parked = slices.Delete(c.Parked, i, i+1)
	if len(c.Parked) == 0 {
		c.Parked = nil
	}
	return c, true
}

// Repark sets when a parked execution's entry conditions are evaluated
// again.
func Repark(c store.StageControl, executionID string, until time.Time) store.StageControl {
	if i := parkedIndex(c, executionID); i >= 0 {
		c = clone(c)
		c.Parked[i].Until = until
	}
	return c
}

// DisableInbound closes a stage's inbound transition. Executions already in
// the stage go on; arriving ones wait.
func DisableInbound(c store.StageControl, reason, user string, now time.Time) (store.StageControl, error) {
	if reason == "" {
		return c, reject("ValidationException", "a reason is required to disable a transition")
	}
	if len(reason) > 300 {
		return c, reject("ValidationException", "the reason is longer than 300 characters")
	}
	c = clone(c)
	c.Inbound = store.Transition{Disabled: true, DisabledReason: reason, LastChangedBy: user, LastChangedAt: now}
	return c, nil
}

// EnableInbound opens a stage's inbound transition and lets the waiting
// execution in: the latest in SUPERSEDED mode (the only one waiting), the
// first in QUEUED mode, every one in PARALLEL mode.
func EnableInbound(c store.StageControl, mode, user string, now time.Time) Decision {
	c = clone(c)
	c.Inbound = store.Transition{LastChangedBy: user, LastChangedAt: now}
	return promote(c, mode, now, Decision{})
}

// promote applies the mode's rules to the waiters: supersedes all but the
// newest in SUPERSEDED mode, then lets in whoever may enter now.
func promote(c store.StageControl, mode string, now time.Time, d Decision) Decision {
	if mode == store.ModeSuperseded && len(c.Waiters) > 1 {
		newest := 0
		for i, w := range c.Waiters {
			if newer(w, c.Waiters[newest]) {
				newest = i
			}
		}
		keep := c.Waiters[newest]
		for i, w := range c.Waiters {
			if i == newest {
				continue
			}
			d.Superseded = append(d.Superseded, w.PipelineExecutionID)
			c.Outbox = append(c.Outbox, store.TokenSend{
				TaskToken: w.TaskToken,
				Error:     ErrSuperseded,
				Cause:     "Superseded by pipeline execution " + keep.PipelineExecutionID,
			})
		}
		c.Waiters = []store.Waiter{keep}
	}
	if c.Inbound.Disabled {
		d.Control = c
		return d
	}
	var enter []store.Waiter
	switch {
	case mode == store.ModeParallel:
		enter, c.Waiters = c.Waiters, nil
	case c.Holder == "" && len(c.Waiters) > 0:
		enter, c.Waiters = c.Waiters[:1], c.Waiters[1:]
		c.Holder = enter[0].PipelineExecutionID
		c.HolderSince = now
	}
	for _, w := range enter {
		d.Entered = append(d.Entered, w.PipelineExecutionID)
		if d.Tokens == nil {
			d.Tokens = map[string]string{}
		}
		d.Tokens[w.PipelineExecutionID] = w.TaskToken
		c.LatestExecutionID = w.PipelineExecutionID
		c.Outbox = append(c.Outbox, store.TokenSend{TaskToken: w.TaskToken, ExecutionID: w.PipelineExecutionID})
	}
	if len(c.Waiters) == 0 {
		c.Waiters = nil
	}
	d.Control = c
	return d
}

// newer orders executions by start time, then by id for equal times.
func newer(a, b store.Waiter) bool {
	if !a.ExecutionStart.Equal(b.ExecutionStart) {
		return a.ExecutionStart.After(b.ExecutionStart)
	}
	return a.PipelineExecutionID > b.PipelineExecutionID
}

func waiterIndex(c store.StageControl, id string) int {
	return slices.IndexFunc(c.Waiters, func(w store.Waiter) bool { return w.PipelineExecutionID == id })
}

func parkedIndex(c store.StageControl, id string) int {
	return slices.IndexFunc(c.Parked, func(p store.Parked) bool { return p.PipelineExecutionID == id })
}

func clone(c store.StageControl) store.StageControl {
	c.Waiters = slices.Clone(c.Waiters)
	c.Outbox = slices.Clone(c.Outbox)
	c.Parked = slices.Clone(c.Parked)
	return c
}

// Delivered removes from the outbox the callbacks that were sent.
func Delivered(c store.StageControl, sent []store.TokenSend) store.StageControl {
	c = clone(c)
	c.Outbox = slices.DeleteFunc(c.Outbox, func(s store.TokenSend) bool {
		return slices.ContainsFunc(sent, func(d store.TokenSend) bool {
			return d.TaskToken == s.TaskToken && d.Error == s.Error
		})
	})
	if len(c.Outbox) == 0 {
		c.Outbox = nil
	}
	return c
}
