package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sluice-ci/sluice/internal/api"
	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/runtime"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/trigger"
	"github.com/sluice-ci/sluice/internal/webhook"
)

// registry finds PutWebhook's webhooks in the store.
type registry struct{ s *Server }

// Webhook implements webhook.Registry.
func (r registry) Webhook(ctx context.Context, name string) (*webhook.Registered, error) {
	st := r.s.Local.Runtime.Store
	w, err := st.GetWebhook(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("webhook %s: %w", name, webhook.ErrUnknownWebhook)
	}
	if err != nil {
		return nil, fmt.Errorf("read webhook %s: %w", name, err)
	}
	reg := &webhook.Registered{
		Definition: api.WebhookDefinition(w.Value),
		Token:      w.Value.URLToken,
		ARN:        webhook.ARN(r.s.opts.Region, r.s.opts.Account, name),
	}
	d, _, err := r.s.Local.Runtime.Declaration(ctx, w.Value.TargetPipeline, 0)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("webhook %s targets pipeline %s, which no longer exists: %w", name, w.Value.TargetPipeline, webhook.ErrUnknownWebhook)
	case err != nil:
		return nil, err
	}
	for _, st := range d.Stages {
		for _, a := range st.Actions {
			if a.Name == w.Value.TargetAction {
				reg.ActionConfiguration = a.Configuration
			}
		}
	}
	return reg, nil
}

// deliveries looks a delivery's keys up in the store. It only looks: the
// keys are claimed by accept, in the same transaction as the starts.
type deliveries struct{ store *store.Store }

// Seen implements webhook.Deliveries.
func (d deliveries) Seen(ctx context.Context, key string) (bool, error) {
	claimed, err := d.store.DeliveryKeyClaimed(ctx, key)
	return !claimed, err
}

// Forget implements webhook.Deliveries: a delivery that could not be
// accepted claimed nothing.
func (deliveries) Forget(context.Context, string) error { return nil }

// accept decides which executions a delivery starts and claims it with
// them; the start worker carries them out.
func (s *Server) accept(ctx context.Context, d *webhook.Delivery) error {
	id := d.Source + "#" + d.ID
	if d.ID == "" {
		id = d.Source + "#" + uuid.NewString()
	}
	starts, err := s.decide(ctx, d, id)
	if err != nil {
		return err
	}
	rec := store.Delivery{ID: id, Source: d.Source, Keys: d.Keys, Received: d.Received}
	err = s.Local.Runtime.Store.ClaimDelivery(ctx, rec, starts)
	if errors.Is(err, store.ErrConditionFailed) {
		return fmt.Errorf("claim delivery %s: %w", id, webhook.ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("claim delivery %s: %w", id, err)
	}
	s.log.Info("delivery accepted", "delivery", id, "executions", len(starts))
	s.kick()
	return nil
}

// decide returns the executions a delivery starts: the target pipeline of
// a PutWebhook webhook; for the repository-level endpoint, every pipeline
// whose triggers the push or pull request matches.
func (s *Server) decide(ctx context.Context, d *webhook.Delivery, id string) ([]store.PendingStart, error) {
	if d.Webhook != nil {
		return pendingStarts([]trigger.Match{trigger.ForWebhook(d)}, id, d.Received), nil
	}
	return s.matchRepository(ctx, d, id)
}

// startBatch is how many pending starts one round of the worker takes.
const startBatch = 64

// runStarts carries out the pending starts, when woken and every few
// seconds, until the server shuts down.
func (s *Server) runStarts() {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		n, err := s.startPending(s.ctx)
		if err != nil && s.ctx.Err() == nil {
			s.log.Error("start pending executions", "error", err)
		}
		if n == startBatch && err == nil {
			continue
		}
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
		case <-tick.C:
		}
	}
}

// startPending starts a batch of pending executions, StartWorkers at a
// time, and returns how many it took.
func (s *Server) startPending(ctx context.Context) (int, error) {
	st := s.Local.Runtime.Store
	pending, err := st.ListPendingStarts(ctx, startBatch)
	if err != nil {
		return 0, err
	}
	sem := make(chan struct{}, s.opts.StartWorkers)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, p := range pending {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.startOne(ctx, p); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(pending), errors.Join(errs...)
}

// startOne starts one pending execution and forgets it. A start the
// pipeline refuses (it was deleted, a variable does not fit) is dropped.
func (s *Server) startOne(ctx context.Context, p store.PendingStart) error {
	_, err := s.Local.Runtime.StartPipelineExecution(ctx, runtime.StartInput{
		Pipeline: p.PipelineName, ExecutionID: p.ExecutionID, Trigger: p.Trigger, SourceRevisions: p.SourceRevisions,
	})
	var rej *execution.Rejection
	switch {
	case errors.As(err, &rej):
		s.log.Warn("delivery starts nothing", "delivery", p.DeliveryID, "pipeline", p.PipelineName, "reason", rej.Error())
	case err != nil:
		return fmt.Errorf("start %s of %s for delivery %s: %w", p.ExecutionID, p.PipelineName, p.DeliveryID, err)
	default:
		s.log.Info("execution started", "pipeline", p.PipelineName, "execution", p.ExecutionID, "trigger", p.Trigger.TriggerType)
		if name, ok := strings.CutPrefix(p.Trigger.TriggerDetail, webhook.ARN(s.opts.Region, s.opts.Account, "")); ok && p.Trigger.TriggerType == trigger.TypeWebhook {
			s.triggered(ctx, name, p.Received)
		}
	}
	return s.Local.Runtime.Store.DonePendingStart(ctx, p)
}

// triggered records when a webhook last started an execution
// (ListWebhooks' lastTriggered); losing the race with a PutWebhook of the
// same webhook loses only that time.
func (s *Server) triggered(ctx context.Context, name string, at time.Time) {
	st := s.Local.Runtime.Store
	w, err := st.GetWebhook(ctx, name)
	if err != nil || !w.Value.LastTriggered.Before(at) {
		return
	}
	w.Value.LastTriggered = at
	if err := st.PutWebhook(ctx, w); err != nil && !errors.Is(err, store.ErrConditionFailed) {
		s.log.Warn("record webhook trigger time", "webhook", name, "error", err)
	}
}
