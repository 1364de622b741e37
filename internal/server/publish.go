package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/sluice-ci/sluice/internal/events"
	"github.com/sluice-ci/sluice/internal/store"
)

// EventsFile is the data folder's file of CodePipeline events, one JSON
// event a line (`sluice events` reads it).
const EventsFile = "events.jsonl"

// publisher turns the execution records the store commits into
// CodePipeline's state-change events. It compares each record with the
// last status it saw of it, so a record rewritten with the same status
// sends nothing; it builds and sends the events from one goroutine, in the
// order the writes were committed, so that the writers never wait for the
// events file.
//
// An event whose record was committed just before a crash may be lost: the
// events are not part of the store's transactions. After a restart, the
// first change of each record is judged without its past: a record that
// reaches a final status sends its event, one rewritten in progress sends
// none.
type publisher struct {
	pub             events.Publisher
	store           *store.Store
	region, account string
	log             *slog.Logger

	mu   sync.Mutex
	seen map[string]seenStatus

	closing sync.RWMutex
	closed  bool
	queue   chan []store.Change
	done    chan struct{}
}

type seenStatus struct {
	status  string
	version int64
}

func newPublisher(pub events.Publisher, st *store.Store, region, account string, log *slog.Logger) *publisher {
	p := &publisher{
		pub: pub, store: st, region: region, account: account, log: log,
		seen:  map[string]seenStatus{},
		queue: make(chan []store.Change, 4096),
		done:  make(chan struct{}),
	}
	go p.run()
	return p
}

// observe is the store's observer. Changes that arrive after close (a
// transaction that committed while the server was closing) are dropped.
func (p *publisher) observe(_ context.Context, changes []store.Change) {
	p.closing.RLock()
	defer p.closing.RUnlock()
	if !p.closed {
		p.queue <- changes
	}
}

// close sends what is queued and stops.
func (p *publisher) close() {
	p.closing.Lock()
	p.closed = true
	close(p.queue)
	p.closing.Unlock()
	<-p.done
}

// run builds and publishes the queued changes, batching what has piled up.
func (p *publisher) run() {
	defer close(p.done)
	ctx := context.Background()
	for changes := range p.queue {
		batch := p.build(ctx, changes)
	more:
		for len(batch) < 512 {
			select {
			case c, ok := <-p.queue:
				if !ok {
					break more
				}
				batch = append(batch, p.build(ctx, c)...)
			default:
				break more
			}
		}
		if len(batch) == 0 {
			continue
		}
		if err := p.pub.Publish(ctx, batch...); err != nil && !errors.Is(err, events.ErrClosed) {
			p.log.Error("publish events", "events", len(batch), "error", err)
		}
	}
}

// build returns the events of the changes that are state changes.
func (p *publisher) build(ctx context.Context, changes []store.Change) []events.Event {
	var out []events.Event
	for _, c := range changes {
		e, ok, err := p.event(ctx, c)
		if err != nil {
			p.log.Warn("build event", "error", err)
			continue
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

// changed records a record's status and reports whether it changed, and
// whether its previous status was known.
func (p *publisher) changed(key, status string, version int64) (changed, known bool, prev string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	last, known := p.seen[key]
	if known && version != 0 && version <= last.version {
		return false, true, last.status
	}
	p.seen[key] = seenStatus{status: status, version: version}
	return !known || last.status != status, known, last.status
}

// final reports whether a status ends its record's story.
func final(status string) bool {
	switch status {
	case store.ExecutionSucceeded, store.ExecutionFailed, store.ExecutionStopped, store.ExecutionSuperseded,
		store.ExecutionCancelled, store.ActionAbandoned, store.StageSkipped:
		return true
	}
	return false
}

// event returns the event of one change, if it is a state change.
func (p *publisher) event(ctx context.Context, c store.Change) (events.Event, bool, error) {
	switch {
	case c.Execution != nil:
		return p.executionEvent(c.Execution, c.Version)
	case c.Stage != nil:
		return p.stageEvent(ctx, c.Stage, c.Version)
	case c.Action != nil:
		return p.actionEvent(c.Action, c.Version)
	}
	return events.Event{}, false, nil
}

func (p *publisher) executionEvent(e *store.PipelineExecution, version int64) (events.Event, bool, error) {
	changed, known, prev := p.changed("x#"+e.PipelineName+"#"+e.PipelineExecutionID, e.Status, version)
	state, ok := events.PipelineState(e.Status)
	if !changed || !ok {
		return events.Event{}, false, nil
	}
	if e.Status == store.ExecutionInProgress {
		switch {
		case known && final(prev):
			state = events.StateResumed
		case version > 1 || (known && prev != ""):
			return events.Event{}, false, nil
		}
	}
	d := events.Detail{
		Pipeline: e.PipelineName, ExecutionID: e.PipelineExecutionID, StartTime: events.At(e.StartTime),
		ExecutionTrigger: &events.ExecutionTrigger{TriggerType: e.Trigger.TriggerType, TriggerDetail: e.Trigger.TriggerDetail},
		State:            state, Version: events.Number(e.PipelineVersion), PipelineExecutionAttempt: 1,
	}
	if e.StopTrigger != nil {
		d.StopExecutionComments = e.StopTrigger.Reason
	}
	ev, err := events.New(events.DetailTypePipeline, p.account, p.region, e.LastUpdateTime, d)
	return ev, err == nil, err
}

func (p *publisher) stageEvent(ctx context.Context, s *store.StageExecution, version int64) (events.Event, bool, error) {
	key := fmt.Sprintf("s#%s#%s#%s#%d", s.PipelineName, s.PipelineExecutionID, s.StageName, s.Attempt)
	changed, known, prev := p.changed(key, s.Status, version)
	state, ok := events.StageState(s.Status)
	if !changed || !ok {
		return events.Event{}, false, nil
	}
	if s.Status == store.StageInProgress {
		switch {
		case s.Attempt > 1 && (!known || prev != store.StageInProgress):
			state = events.StateResumed
		case version > 1 || known:
			return events.Event{}, false, nil
		}
	}
	e, err := p.store.GetPipelineExecution(ctx, s.PipelineName, s.PipelineExecutionID)
	if err != nil {
		return events.Event{}, false, fmt.Errorf("read execution %s: %w", s.PipelineExecutionID, err)
	}
	d := events.Detail{
		Pipeline: s.PipelineName, ExecutionID: s.PipelineExecutionID, Stage: s.StageName,
		StartTime: events.At(e.Value.StartTime), State: state,
		Version: events.Number(e.Value.PipelineVersion), PipelineExecutionAttempt: events.Number(max(s.Attempt, 1)),
	}
	if s.Attempt > 1 {
		d.StageLastRetryAttemptTime = events.At(s.StartTime)
	}
	ev, err := events.New(events.DetailTypeStage, p.account, p.region, s.LastUpdateTime, d)
	return ev, err == nil, err
}

func (p *publisher) actionEvent(a *store.ActionExecution, version int64) (events.Event, bool, error) {
	key := fmt.Sprintf("a#%s#%s#%s#%s#%d", a.PipelineName, a.PipelineExecutionID, a.StageName, a.ActionName, a.Attempt)
	changed, known, _ := p.changed(key, a.Status, version)
	state, ok := events.ActionState(a.Status)
	if !changed || !ok || (a.Status == store.ActionInProgress && (version > 1 || known)) {
		return events.Event{}, false, nil
	}
	region := a.Input.Region
	if region == "" {
		region = p.region
	}
	t := a.Input.ActionTypeID
	d := events.Detail{
		Pipeline: a.PipelineName, ExecutionID: a.PipelineExecutionID, Stage: a.StageName, Action: a.ActionName,
		ActionExecutionID: a.ActionExecutionID, StartTime: events.At(a.StartTime), State: state, Region: region,
		Type:    &events.ActionType{Owner: t.Owner, Category: t.Category, Provider: t.Provider, Version: t.Version},
		Version: events.Number(a.PipelineVersion), PipelineExecutionAttempt: events.Number(max(a.Attempt, 1)),
		InputArtifacts: artifacts(a.Input.InputArtifacts), OutputArtifacts: artifacts(a.Output.OutputArtifacts),
	}
	if a.Status != store.ActionInProgress {
		r := a.Output.ExecutionResult
		d.ExecutionResult = &events.ExecutionResult{
			ExternalExecutionURL: r.ExternalExecutionURL, ExternalExecutionSummary: r.ExternalExecutionSummary,
			ExternalExecutionID: r.ExternalExecutionID,
		}
		if r.ErrorDetails != nil {
			d.ExecutionResult.ErrorCode = r.ErrorDetails.Code
		}
	}
	ev, err := events.New(events.DetailTypeAction, p.account, p.region, a.LastUpdateTime, d)
	return ev, err == nil, err
}

func artifacts(in []store.ArtifactDetail) []events.Artifact {
	var out []events.Artifact
	for _, a := range in {
		out = append(out, events.Artifact{Name: a.Name, S3Location: events.S3Location{Bucket: a.S3Location.Bucket, Key: a.S3Location.Key}})
	}
	return out
}
