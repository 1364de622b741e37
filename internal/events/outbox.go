package events

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/sluice-ci/sluice/internal/store"
)

// Outbox publishes the state changes that the store keeps in its event
// outbox (store.OutboxEntries): it builds CodePipeline's events from them,
// sends them through its Publisher and removes the entries it sent. An
// entry is removed only after its events were published, so every event
// goes out at least once, also when the process dies in between; an event
// sent again has the same id (derived from the entry and the change's place
// in it), which is what a consumer de-duplicates on. The shards are read
// one at a time, each oldest entry first, and a shard whose events could
// not be published is tried again from the same entry, so the events of
// one execution go out in the order of its changes.
//
// One Outbox drains a store at a time: the process that owns the data
// folder.
type Outbox struct {
	Store     *store.Store
	Publisher Publisher
	// Region and Account are those of the events and their resources.
	Region, Account string
	// Log receives failures to publish; nil discards them.
	Log *slog.Logger
	// Batch is how many outbox entries one Publish sends the events of at
	// most; 256 when zero.
	Batch int

	drain sync.Mutex // one drain at a time

	dirty   atomic.Uint32 // shards with entries committed since they were drained
	wake    chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
	stopped sync.Once
}

// idSpace names the ids of events built from outbox entries.
var idSpace = uuid.MustParse("0d7c3f0e-54b8-4c0f-9a57-1f1c8e2b6a43")

func (o *Outbox) log() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}

// Drain publishes what every shard holds and removes it. It returns how
// many events it sent.
func (o *Outbox) Drain(ctx context.Context) (int, error) {
	all := make([]int, store.OutboxShards)
	for i := range all {
		all[i] = i
	}
	return o.DrainShards(ctx, all)
}

// DrainShards publishes what the given shards hold and removes it, in
// rounds: each reads up to Batch entries from the shards, oldest first in
// each, publishes their events in one Publish and removes them. A failed
// Publish leaves every entry of its round for the next drain.
func (o *Outbox) DrainShards(ctx context.Context, shards []int) (int, error) {
	o.drain.Lock()
	defer o.drain.Unlock()
	batch := o.Batch
	if batch <= 0 {
		batch = 256
	}
	execs := map[string]store.PipelineExecution{}
	sent := 0
	for len(shards) > 0 {
		var (
			round []store.OutboxEntry
			more  []int // shards that may hold more
		)
		for i, shard := range shards {
			if len(round) >= batch {
				more = append(more, shard)
				continue
			}
			want := max(1, (batch-len(round))/(len(shards)-i))
			entries, err := o.Store.OutboxEntries(ctx, shard, want)
			if err != nil {
				return sent, err
			}
			round = append(round, entries...)
			if len(entries) == want {
				more = append(more, shard)
			}
		}
		if len(round) == 0 {
			return sent, nil
		}
		evs := o.events(ctx, round, execs)
		if len(evs) > 0 {
			if err := o.Publisher.Publish(ctx, evs...); err != nil {
				return sent, fmt.Errorf("publish %d events: %w", len(evs), err)
			}
		}
		if err := o.Store.RemoveOutboxEntries(ctx, round); err != nil {
			return sent + len(evs), err
		}
		sent += len(evs)
		shards = more
	}
	return sent, nil
}

// events builds the events of entries, each with the id its place in the
// outbox gives it.
func (o *Outbox) events(ctx context.Context, entries []store.OutboxEntry, execs map[string]store.PipelineExecution) []Event {
	var evs []Event
	for _, en := range entries {
		for i, c := range en.Changes {
			e, ok, err := o.event(ctx, c, execs)
			if err != nil {
				// A change that makes no valid event (its pipeline was
				// deleted meanwhile) is dropped, not retried.
				o.log().Warn("drop event", "pipeline", c.PipelineName(), "execution", c.ExecutionID(), "error", err)
				continue
			}
			if !ok {
				continue
			}
			e.ID = uuid.NewSHA1(idSpace, fmt.Appendf(nil, "%02d/%s/%d", en.Shard, en.Key, i)).String()
			evs = append(evs, e)
		}
	}
	return evs
}

// Start drains the outbox in the background: at once, as soon as the
// store commits new entries (it observes the store), and every interval
// (0: every 5 seconds), which retries what failed to publish. Stop ends
// it.
func (o *Outbox) Start(interval time.Duration) {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	o.cancel, o.done, o.wake = cancel, make(chan struct{}), make(chan struct{}, 1)
	o.dirty.Store(1<<store.OutboxShards - 1)
	o.Store.Observe(func(shards []int) {
		for _, s := range shards {
			o.dirty.Or(1 << s)
		}
		select {
		case o.wake <- struct{}{}:
		default:
		}
	})
	o.wake <- struct{}{}
	go o.run(ctx, interval)
}

func (o *Outbox) run(ctx context.Context, interval time.Duration) {
	defer close(o.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-tick.C:
			o.dirty.Store(1<<store.OutboxShards - 1)
		}
		mask := o.dirty.Swap(0)
		var shards []int
		for s := range store.OutboxShards {
			if mask&(1<<s) != 0 {
				shards = append(shards, s)
			}
		}
		if _, err := o.DrainShards(ctx, shards); err != nil && ctx.Err() == nil {
			o.log().Error("publish events", "error", err)
		}
	}
}

// Stop stops draining in the background, then drains what is left (until
// ctx ends). Stopping an Outbox that was not started only drains it.
func (o *Outbox) Stop(ctx context.Context) error {
	o.stopped.Do(func() {
		if o.cancel == nil {
			return
		}
		o.Store.Observe(nil)
		o.cancel()
		<-o.done
	})
	_, err := o.Drain(ctx)
	return err
}

// final reports whether a status ends its record's story.
func final(status string) bool {
	switch status {
	case store.ExecutionSucceeded, store.ExecutionFailed, store.ExecutionStopped, store.ExecutionSuperseded,
		store.ExecutionCancelled:
		return true
	}
	return false
}

// event returns the event of one change, false when the change is none
// CodePipeline announces: an execution, stage or action rewritten in
// progress, a skipped stage.
func (o *Outbox) event(ctx context.Context, c store.Change, execs map[string]store.PipelineExecution) (Event, bool, error) {
	switch {
	case c.Execution != nil:
		return o.executionEvent(c)
	case c.Stage != nil:
		return o.stageEvent(ctx, c, execs)
	case c.Action != nil:
		return o.actionEvent(c)
	}
	return Event{}, false, nil
}

func (o *Outbox) executionEvent(c store.Change) (Event, bool, error) {
	e := c.Execution
	state, ok := PipelineState(e.Status)
	switch {
	case !ok:
		return Event{}, false, nil
	case e.Status == store.ExecutionInProgress && c.Created:
	case e.Status == store.ExecutionInProgress && final(c.Previous):
		state = StateResumed
	case e.Status == store.ExecutionInProgress || e.Status == c.Previous:
		return Event{}, false, nil
	}
	d := Detail{
		Pipeline: e.PipelineName, ExecutionID: e.PipelineExecutionID, StartTime: At(e.StartTime),
		ExecutionTrigger: TriggerOf(e.Trigger),
		State:            state, Version: Number(e.PipelineVersion), PipelineExecutionAttempt: 1,
	}
	if e.StopTrigger != nil {
		d.StopExecutionComments = e.StopTrigger.Reason
	}
	ev, err := New(DetailTypePipeline, o.Account, o.Region, e.LastUpdateTime, d)
	return ev, err == nil, err
}

func (o *Outbox) stageEvent(ctx context.Context, c store.Change, execs map[string]store.PipelineExecution) (Event, bool, error) {
	s := c.Stage
	state, ok := StageState(s.Status)
	switch {
	case !ok:
		return Event{}, false, nil
	case s.Status == store.StageInProgress && s.Attempt > 1 && c.Previous != store.StageInProgress:
		state = StateResumed
	case s.Status == store.StageInProgress && c.Created:
	case s.Status == store.StageInProgress || s.Status == c.Previous:
		return Event{}, false, nil
	}
	key := s.PipelineName + "#" + s.PipelineExecutionID
	e, ok := execs[key]
	if !ok {
		v, err := o.Store.GetPipelineExecution(ctx, s.PipelineName, s.PipelineExecutionID)
		if err != nil {
			return Event{}, false, fmt.Errorf("read execution %s of stage %s: %w", s.PipelineExecutionID, s.StageName, err)
		}
		e = v.Value
		execs[key] = e
	}
	d := Detail{
		Pipeline: s.PipelineName, ExecutionID: s.PipelineExecutionID, Stage: s.StageName,
		StartTime: At(e.StartTime), State: state,
		Version: Number(e.PipelineVersion), PipelineExecutionAttempt: Number(max(s.Attempt, 1)),
	}
	if s.Attempt > 1 {
		d.StageLastRetryAttemptTime = At(s.StartTime)
	}
	ev, err := New(DetailTypeStage, o.Account, o.Region, s.LastUpdateTime, d)
	return ev, err == nil, err
}

func (o *Outbox) actionEvent(c store.Change) (Event, bool, error) {
	a := c.Action
	state, ok := ActionState(a.Status)
	switch {
	case !ok:
		return Event{}, false, nil
	case a.Status == store.ActionInProgress && c.Created:
	case a.Status == store.ActionInProgress || a.Status == c.Previous:
		return Event{}, false, nil
	}
	region := a.Input.Region
	if region == "" {
		region = o.Region
	}
	t := a.Input.ActionTypeID
	d := Detail{
		Pipeline: a.PipelineName, ExecutionID: a.PipelineExecutionID, Stage: a.StageName, Action: a.ActionName,
		ActionExecutionID: a.ActionExecutionID, StartTime: At(a.StartTime), State: state, Region: region,
		Type:    &ActionType{Owner: t.Owner, Category: t.Category, Provider: t.Provider, Version: t.Version},
		Version: Number(a.PipelineVersion), PipelineExecutionAttempt: Number(max(a.Attempt, 1)),
		InputArtifacts: artifacts(a.Input.InputArtifacts), OutputArtifacts: artifacts(a.Output.OutputArtifacts),
	}
	if a.Status != store.ActionInProgress {
		r := a.Output.ExecutionResult
		d.ExecutionResult = &ExecutionResult{
			ExternalExecutionURL: r.ExternalExecutionURL, ExternalExecutionSummary: r.ExternalExecutionSummary,
			ExternalExecutionID: r.ExternalExecutionID,
		}
		if r.ErrorDetails != nil {
			d.ExecutionResult.ErrorCode = r.ErrorDetails.Code
		}
	}
	ev, err := New(DetailTypeAction, o.Account, o.Region, a.LastUpdateTime, d)
	return ev, err == nil, err
}

func artifacts(in []store.ArtifactDetail) []Artifact {
	var out []Artifact
	for _, a := range in {
		out = append(out, Artifact{Name: a.Name, S3Location: S3Location{Bucket: a.S3Location.Bucket, Key: a.S3Location.Key}})
	}
	return out
}

// TriggerOf returns the execution-trigger of an execution's events: its
// trigger type and detail or, for an execution a git trigger started, the
// git event without them, as CodePipeline sends it.
func TriggerOf(t store.ExecutionTrigger) *ExecutionTrigger {
	g := t.Git
	if g == nil {
		return &ExecutionTrigger{TriggerType: t.TriggerType, TriggerDetail: t.TriggerDetail}
	}
	return &ExecutionTrigger{
		AuthorDisplayName: g.AuthorDisplayName, FullRepositoryName: g.FullRepositoryName, ProviderType: g.ProviderType,
		AuthorEmail: g.AuthorEmail, CommitMessage: g.CommitMessage, AuthorDate: g.AuthorDate, TagName: g.TagName,
		BranchName: g.BranchName, CommitID: g.CommitID, ConnectionArn: g.ConnectionArn, AuthorID: g.AuthorID,
		PullRequestID: g.PullRequestID,
	}
}
