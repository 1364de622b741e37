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

// testObserver checks that an observed store reports the execution records
// of committed transactions, with their versions, and nothing of a failed
// one.
func testObserver(t *testing.T, b store.Backend) {
	ctx := context.Background()
	s := store.New(b)
	var got []string
	s.Observe(func(_ context.Context, changes []store.Change) {
		for _, c := range changes {
			switch {
			case c.Execution != nil:
				got = append(got, fmt.Sprintf("execution %s %s v%d", c.Execution.PipelineExecutionID, c.Execution.Status, c.Version))
			case c.Stage != nil:
				got = append(got, fmt.Sprintf("stage %s %s v%d", c.Stage.StageName, c.Stage.Status, c.Version))
			case c.Action != nil:
				got = append(got, fmt.Sprintf("action %s %s v%d", c.Action.ActionName, c.Action.Status, c.Version))
			}
		}
	})
	e := store.PipelineExecution{PipelineName: "p", PipelineExecutionID: "e1", Status: store.ExecutionInProgress, StartTime: t0}
	if err := s.CreatePipelineExecution(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePipelineExecution(ctx, e); !errors.Is(err, store.ErrConditionFailed) {
		t.Fatalf("second create: %v", err)
	}
	sw, _ := store.StageExecutionWrite(store.Versioned[store.StageExecution]{Value: store.StageExecution{PipelineName: "p", PipelineExecutionID: "e1", StageName: "Build", Status: store.StageInProgress, Attempt: 1}})
	aw, _ := store.ActionExecutionWrite(store.Versioned[store.ActionExecution]{Value: store.ActionExecution{PipelineName: "p", PipelineExecutionID: "e1", StageName: "Build", ActionName: "Compile", Attempt: 1, Status: store.ActionInProgress}})
	if err := s.Transact(ctx, sw, aw); err != nil {
		t.Fatal(err)
	}
	cur, _ := s.GetPipelineExecution(ctx, "p", "e1")
	cur.Value.Status = store.ExecutionSucceeded
	if err := s.PutPipelineExecution(ctx, cur); err != nil {
		t.Fatal(err)
	}
	want := "[execution e1 InProgress v1 stage Build InProgress v1 action Compile InProgress v1 execution e1 Succeeded v2]"
	if fmt.Sprint(got) != want {
		t.Errorf("observed %v\nwant     %s", got, want)
	}
}
