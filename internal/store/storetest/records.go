package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/store"
)

var t0 = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)

// testCatalog checks the catalog of pipelines: the entry as the name's
// claim, paging in name order, and deleting a pipeline's partition.
func testCatalog(t *testing.T, b store.Backend) {
	ctx := context.Background()
	s := store.New(b)
	for _, name := range []string{"charlie", "alpha", "bravo"} {
		w, err := store.PipelineEntryWrite(store.Versioned[store.PipelineEntry]{Value: store.PipelineEntry{Name: name, Version: 1, Created: t0}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Transact(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	again, _ := store.PipelineEntryWrite(store.Versioned[store.PipelineEntry]{Value: store.PipelineEntry{Name: "alpha"}})
	if err := s.Transact(ctx, again); !errors.Is(err, store.ErrConditionFailed) {
		t.Errorf("claiming a taken name: %v", err)
	}
	pages := []struct {
		limit int
		token string
		want  string
		next  string
	}{
		{0, "", "[alpha bravo charlie]", ""},
		{2, "", "[alpha bravo]", "bravo"},
		{2, "bravo", "[charlie]", ""},
	}
	for _, p := range pages {
		got, next, err := s.ListPipelineEntries(ctx, p.limit, p.token)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range got {
			names = append(names, e.Name)
		}
		if fmt.Sprint(names) != p.want || next != p.next {
			t.Errorf("limit %d after %q: %v next %q; want %s next %q", p.limit, p.token, names, next, p.want, p.next)
		}
	}

	// Storing versions keeps the entry.
	for v := 1; v <= 2; v++ {
		decl := []byte(`{"name":"delta","pipelineType":"V2","executionMode":"QUEUED"}`)
		if err := s.PutPipeline(ctx, store.Pipeline{Name: "delta", Version: v, Declaration: decl, Created: t0.Add(time.Duration(v) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutPipeline(ctx, store.Pipeline{Name: "delta", Version: 2, Created: t0}); !errors.Is(err, store.ErrConditionFailed) {
		t.Errorf("storing version 2 again: %v", err)
	}
	e, err := s.GetPipelineEntry(ctx, "delta")
	want := store.PipelineEntry{Name: "delta", Version: 2, PipelineType: "V2", ExecutionMode: "QUEUED", Created: t0.Add(time.Hour), Updated: t0.Add(2 * time.Hour)}
	if err != nil || fmt.Sprint(e.Value) != fmt.Sprint(want) {
		t.Errorf("entry of delta: %+v, %v; want %+v", e.Value, err, want)
	}

	// A pipeline with more records than one transaction holds.
	if err := s.PutPipeline(ctx, store.Pipeline{Name: "alpha", Version: 1, Created: t0}); err != nil {
		t.Fatal(err)
	}
	for i := range store.MaxTransactItems + 20 {
		e := store.PipelineExecution{PipelineName: "alpha", PipelineExecutionID: fmt.Sprintf("e%03d", i), StartTime: t0.Add(time.Duration(i) * time.Second)}
		if err := s.CreatePipelineExecution(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeletePipelineRecords(ctx, "alpha"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPipeline(ctx, "alpha", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("pipeline after deletion: %v", err)
	}
	if got, _, err := s.ListPipelineExecutions(ctx, "alpha", 0, ""); err != nil || len(got) != 0 {
		t.Errorf("executions after deletion: %d, %v", len(got), err)
	}
	if _, err := s.GetPipelineEntry(ctx, "alpha"); err != nil {
		t.Errorf("the catalog entry is not the partition's: %v", err)
	}
}

// testWebhooks checks webhooks: written once, redefined at their version,
// listed by name.
func testWebhooks(t *testing.T, b store.Backend) {
	ctx := context.Background()
	s := store.New(b)
	w := store.Webhook{Name: "hook", TargetPipeline: "p", TargetAction: "Source", URLToken: "tok1", Authentication: store.WebhookUnauthenticated}
	if err := s.PutWebhook(ctx, store.Versioned[store.Webhook]{Value: w}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWebhook(ctx, store.Versioned[store.Webhook]{Value: w}); !errors.Is(err, store.ErrConditionFailed) {
		t.Errorf("creating a webhook twice: %v", err)
	}
	got, err := s.GetWebhook(ctx, "hook")
	if err != nil || got.Value.TargetAction != "Source" || got.Version != 1 {
		t.Fatalf("webhook: %+v, %v", got, err)
	}
	got.Value.TargetAction = "Checkout"
	if err := s.PutWebhook(ctx, got); err != nil {
		t.Fatalf("redefining: %v", err)
	}
	for _, name := range []string{"b", "a"} {
		if err := s.PutWebhook(ctx, store.Versioned[store.Webhook]{Value: store.Webhook{Name: name, URLToken: "t-" + name}}); err != nil {
			t.Fatal(err)
		}
	}
	list, next, err := s.ListWebhooks(ctx, 2, "")
	if err != nil || len(list) != 2 || list[0].Name != "a" || next != "b" {
		t.Errorf("first page: %v next %q, %v", list, next, err)
	}
	list, next, _ = s.ListWebhooks(ctx, 2, next)
	if len(list) != 1 || list[0].Name != "hook" || list[0].TargetAction != "Checkout" || next != "" {
		t.Errorf("second page: %v next %q", list, next)
	}
	cur, _ := s.GetWebhook(ctx, "hook")
	if err := s.DeleteWebhook(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetWebhook(ctx, "hook"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("webhook after deletion: %v", err)
	}
}

// testDeliveries checks that a delivery is claimed once, by id and by
// each of its keys, together with its starts.
func testDeliveries(t *testing.T, b store.Backend) {
	ctx := context.Background()
	s := store.New(b)
	start := func(d store.Delivery, i int) store.PendingStart {
		return store.PendingStart{PipelineName: "p", ExecutionID: fmt.Sprintf("%s-x%d", d.ID, i), Received: d.Received.Add(time.Duration(i) * time.Millisecond)}
	}
	tests := []struct {
		name    string
		d       store.Delivery
		starts  int
		wantErr error
	}{
		{"first", store.Delivery{ID: "d1", Keys: []string{"id:d1", "sig:aa"}, Received: t0}, 2, nil},
		{"same id", store.Delivery{ID: "d1", Keys: []string{"sig:bb"}, Received: t0}, 1, store.ErrConditionFailed},
		{"same signature", store.Delivery{ID: "d2", Keys: []string{"id:d2", "sig:aa"}, Received: t0}, 1, store.ErrConditionFailed},
		{"no keys", store.Delivery{ID: "d3", Received: t0.Add(time.Second)}, 1, nil},
		{"too many starts", store.Delivery{ID: "d4", Keys: []string{"id:d4"}, Received: t0}, store.MaxStartsPerDelivery(1) + 1, errShape},
	}
	for _, tt := range tests {
		var starts []store.PendingStart
		for i := range tt.starts {
			starts = append(starts, start(tt.d, i))
		}
		err := s.ClaimDelivery(ctx, tt.d, starts)
		switch {
		case tt.wantErr == nil && err != nil, tt.wantErr == errShape && err == nil,
			tt.wantErr == store.ErrConditionFailed && !errors.Is(err, store.ErrConditionFailed):
			t.Errorf("%s: %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	d, err := s.GetDelivery(ctx, "d1")
	if err != nil || fmt.Sprint(d.Executions) != "[d1-x0 d1-x1]" {
		t.Errorf("delivery d1: %+v, %v", d, err)
	}
	for key, want := range map[string]bool{"id:d1": true, "sig:aa": true, "sig:bb": false, "id:d2": false, "id:d4": false} {
		if got, err := s.DeliveryKeyClaimed(ctx, key); err != nil || got != want {
			t.Errorf("key %s claimed: %v, %v; want %v", key, got, err, want)
		}
	}
	if err := s.ForgetDeliveryKey(ctx, "sig:aa"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.DeliveryKeyClaimed(ctx, "sig:aa"); got {
		t.Error("a forgotten key is still claimed")
	}
	pending, err := s.ListPendingStarts(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range pending {
		ids = append(ids, p.ExecutionID+"<"+p.DeliveryID)
	}
	if fmt.Sprint(ids) != "[d1-x0<d1 d1-x1<d1 d3-x0<d3]" {
		t.Errorf("pending starts %v", ids)
	}
	if err := s.DonePendingStart(ctx, pending[0]); err != nil {
		t.Fatal(err)
	}
	if rest, _ := s.ListPendingStarts(ctx, 1); len(rest) != 1 || rest[0].ExecutionID != "d1-x1" {
		t.Errorf("after one is done: %+v", rest)
	}
}

// testJobs checks the job record's conditional writes.
func testJobs(t *testing.T, b store.Backend) {
	ctx := context.Background()
	s := store.New(b)
	j := store.Job{ID: "j1", PipelineName: "p", PipelineExecutionID: "e", StageName: "S", ActionName: "A", Attempt: 1, Status: store.JobInProgress, Created: t0}
	w, err := store.JobWrite(store.Versioned[store.Job]{Value: j})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Transact(ctx, w); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetJob(ctx, "j1")
	if err != nil || got.Value != j || got.Version != 1 {
		t.Fatalf("job: %+v, %v", got, err)
	}
	stale, _ := store.JobWrite(store.Versioned[store.Job]{Value: j, Version: 2})
	if err := s.Transact(ctx, stale); !errors.Is(err, store.ErrConditionFailed) {
		t.Errorf("stale job write: %v", err)
	}
	if _, err := s.GetJob(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing job: %v", err)
	}
}

// testOutbox checks the event outbox: a transaction that changes the
// status of execution records writes one entry per shard with the changes,
// in write order, the status each had before and nothing no event shows;
// a write that keeps a status and a failed transaction write nothing; the
// observer hears of the shards; entries come oldest first and go once
// removed.
func testOutbox(t *testing.T, b store.Backend) {
	ctx := context.Background()
	s := store.New(b)
	var heard []int
	s.Observe(func(shards []int) { heard = append(heard, shards...) })
	e := store.PipelineExecution{PipelineName: "p", PipelineExecutionID: "e1", Status: store.ExecutionInProgress, StartTime: t0,
		Variables: []store.ResolvedPipelineVariable{{Name: "secretish", ResolvedValue: "v"}}}
	if err := s.CreatePipelineExecution(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePipelineExecution(ctx, e); !errors.Is(err, store.ErrConditionFailed) {
		t.Fatalf("second create: %v", err)
	}
	sw, _ := store.StageExecutionWrite(store.Versioned[store.StageExecution]{Value: store.StageExecution{PipelineName: "p", PipelineExecutionID: "e1", StageName: "Build", Status: store.StageInProgress, Attempt: 1}})
	aw, _ := store.ActionExecutionWrite(store.Versioned[store.ActionExecution]{Value: store.ActionExecution{
		PipelineName: "p", PipelineExecutionID: "e1", StageName: "Build", ActionName: "Compile", Attempt: 1, Status: store.ActionInProgress,
		Input: store.ActionExecutionInput{Configuration: map[string]string{"k": "v"}}, Token: "approval-token",
	}})
	if err := s.Transact(ctx, sw, aw); err != nil {
		t.Fatal(err)
	}
	cur, _ := s.GetPipelineExecution(ctx, "p", "e1")
	cur.Value.LastUpdateTime = t0.Add(time.Second)
	if err := s.PutPipelineExecution(ctx, cur); err != nil { // same status: no change
		t.Fatal(err)
	}
	cur, _ = s.GetPipelineExecution(ctx, "p", "e1")
	cur.Value.Status = store.ExecutionSucceeded
	if err := s.PutPipelineExecution(ctx, cur); err != nil {
		t.Fatal(err)
	}
	other := store.PipelineExecution{PipelineName: "q", PipelineExecutionID: "e2", Status: store.ExecutionInProgress, StartTime: t0}
	if err := s.CreatePipelineExecution(ctx, other); err != nil {
		t.Fatal(err)
	}

	var got []string
	var entries []store.OutboxEntry
	for shard := range store.OutboxShards {
		es, err := s.OutboxEntries(ctx, shard, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range es {
			var line []string
			for _, c := range en.Changes {
				switch {
				case c.Execution != nil:
					if len(c.Execution.Variables) > 0 {
						t.Errorf("the outbox keeps the variables of %s", c.Execution.PipelineExecutionID)
					}
					line = append(line, fmt.Sprintf("execution %s %s<-%q v%d created=%t", c.Execution.PipelineExecutionID, c.Execution.Status, c.Previous, c.Version, c.Created))
				case c.Stage != nil:
					line = append(line, fmt.Sprintf("stage %s %s<-%q v%d", c.Stage.StageName, c.Stage.Status, c.Previous, c.Version))
				case c.Action != nil:
					if c.Action.Input.Configuration != nil || c.Action.Token != "" {
						t.Errorf("the outbox keeps the configuration or token of %s", c.Action.ActionName)
					}
					line = append(line, fmt.Sprintf("action %s %s<-%q v%d", c.Action.ActionName, c.Action.Status, c.Previous, c.Version))
				}
			}
			got = append(got, fmt.Sprint(line))
		}
		entries = append(entries, es...)
	}
	want := map[string]bool{
		`[execution e1 InProgress<-"" v1 created=true]`:                    true,
		`[stage Build InProgress<-"" v1 action Compile InProgress<-"" v1]`: true,
		`[execution e1 Succeeded<-"InProgress" v3 created=false]`:          true,
		`[execution e2 InProgress<-"" v1 created=true]`:                    true,
	}
	if len(got) != len(want) {
		t.Errorf("outbox entries %q, want %d", got, len(want))
	}
	for _, g := range got {
		if !want[g] {
			t.Errorf("unexpected outbox entry %s", g)
		}
	}
	// The entries of one execution are in its shard, oldest first.
	shard := store.OutboxShard("p", "e1")
	es, _ := s.OutboxEntries(ctx, shard, 0)
	var order []string
	for _, en := range es {
		for _, c := range en.Changes {
			if c.ExecutionID() == "e1" && c.Execution != nil {
				order = append(order, c.Execution.Status)
			}
		}
	}
	if fmt.Sprint(order) != "[InProgress Succeeded]" {
		t.Errorf("execution e1's changes in shard %d: %v", shard, order)
	}
	if len(heard) != 4 {
		t.Errorf("the observer heard of %d shards, want 4 (one per committed entry)", len(heard))
	}
	if err := s.RemoveOutboxEntries(ctx, entries); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveOutboxEntries(ctx, entries); err != nil {
		t.Errorf("removing again: %v", err)
	}
	for shard := range store.OutboxShards {
		if es, _ := s.OutboxEntries(ctx, shard, 0); len(es) > 0 {
			t.Errorf("shard %d keeps %d entries after removal", shard, len(es))
		}
	}
	// A transaction has room for its writes and their outbox entries.
	writes := make([]store.Write, 0, store.MaxTransactItems)
	for i := range store.MaxTransactItems {
		w, _ := store.StageExecutionWrite(store.Versioned[store.StageExecution]{Value: store.StageExecution{
			PipelineName: "p", PipelineExecutionID: "e1", StageName: fmt.Sprintf("S%03d", i), Status: store.StageInProgress, Attempt: 1}})
		writes = append(writes, w)
	}
	if err := s.Transact(ctx, writes...); err == nil || errors.Is(err, store.ErrConditionFailed) {
		t.Errorf("100 status changes and their entry: %v, want a shape error", err)
	}
	if err := s.Transact(ctx, writes[:store.MaxTransactItems-1]...); err != nil {
		t.Errorf("99 status changes and their entry: %v", err)
	}
}
