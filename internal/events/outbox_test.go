package events

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/store/sqlite"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	b, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sluice.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return store.New(b)
}

var start = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// writer writes the records of executions as the runtime would, read,
// changed and written back.
type writer struct {
	t  *testing.T
	st *store.Store
}

func (w writer) exec(id, status string) {
	w.t.Helper()
	ctx := context.Background()
	e, err := w.st.GetPipelineExecution(ctx, "p", id)
	if errors.Is(err, store.ErrNotFound) {
		e.Value = store.PipelineExecution{PipelineName: "p", PipelineVersion: 2, PipelineExecutionID: id, StartTime: start,
			Trigger: store.ExecutionTrigger{TriggerType: "StartPipelineExecution", TriggerDetail: "arn:aws:iam::123456789012:user/me"}}
		e.Value.Status, e.Value.LastUpdateTime = status, start
		if err := w.st.CreatePipelineExecution(ctx, e.Value); err != nil {
			w.t.Fatal(err)
		}
		return
	}
	e.Value.Status, e.Value.LastUpdateTime = status, start.Add(time.Minute)
	if err := w.st.PutPipelineExecution(ctx, e); err != nil {
		w.t.Fatal(err)
	}
}

func (w writer) stage(id, name, status string, attempt int) {
	w.t.Helper()
	ctx := context.Background()
	se, err := w.st.GetStageExecution(ctx, "p", id, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		w.t.Fatal(err)
	}
	se.Value.PipelineName, se.Value.PipelineExecutionID, se.Value.StageName = "p", id, name
	se.Value.Status, se.Value.Attempt, se.Value.StartTime, se.Value.LastUpdateTime = status, attempt, start, start
	sw, _ := store.StageExecutionWrite(se)
	if err := w.st.Transact(ctx, sw); err != nil {
		w.t.Fatal(err)
	}
}

func (w writer) action(id, name, status string, attempt int) {
	w.t.Helper()
	ctx := context.Background()
	a, err := w.st.GetActionExecution(ctx, "p", id, "Build", name, attempt)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		w.t.Fatal(err)
	}
	a.Value = store.ActionExecution{
		PipelineName: "p", PipelineExecutionID: id, StageName: "Build", ActionName: name, Attempt: attempt, PipelineVersion: 2,
		ActionExecutionID: "ax-" + name, StartTime: start, LastUpdateTime: start, Status: status, StoredStatus: a.Value.StoredStatus,
		Input: store.ActionExecutionInput{ActionTypeID: store.ActionTypeID{Category: "Build", Owner: "AWS", Provider: "CodeBuild", Version: "1"}},
	}
	if err := w.st.PutActionExecution(context.Background(), a); err != nil {
		w.t.Fatal(err)
	}
}

func describe(evs []Event) []string {
	var out []string
	for _, e := range evs {
		switch e.DetailType {
		case DetailTypePipeline:
			out = append(out, fmt.Sprintf("%s pipeline %s", e.Detail.ExecutionID, e.Detail.State))
		case DetailTypeStage:
			out = append(out, fmt.Sprintf("%s stage %s %s #%d", e.Detail.ExecutionID, e.Detail.Stage, e.Detail.State, e.Detail.PipelineExecutionAttempt))
		case DetailTypeAction:
			out = append(out, fmt.Sprintf("%s action %s %s", e.Detail.ExecutionID, e.Detail.Action, e.Detail.State))
		}
	}
	return out
}

// TestOutboxStates writes records as executions change and checks the
// events their outbox entries make: CodePipeline's states, RESUMED after a
// retry, nothing for a record rewritten with the same status or a skipped
// stage.
func TestOutboxStates(t *testing.T) {
	tests := []struct {
		name   string
		writes func(w writer)
		want   []string
	}{
		{"an execution that succeeds", func(w writer) {
			w.exec("e1", store.ExecutionInProgress)
			w.stage("e1", "Build", store.StageInProgress, 1)
			w.action("e1", "Compile", store.ActionInProgress, 1)
			w.action("e1", "Compile", store.ActionInProgress, 1) // rewritten in progress
			w.action("e1", "Compile", store.ActionSucceeded, 1)
			w.stage("e1", "Build", store.StageSucceeded, 1)
			w.stage("e1", "Test", store.StageSkipped, 1)
			w.exec("e1", store.ExecutionInProgress)
			w.exec("e1", store.ExecutionSucceeded)
		}, []string{
			"e1 pipeline STARTED", "e1 stage Build STARTED #1", "e1 action Compile STARTED", "e1 action Compile SUCCEEDED",
			"e1 stage Build SUCCEEDED #1", "e1 pipeline SUCCEEDED",
		}},
		{"a failed stage retried", func(w writer) {
			w.exec("e2", store.ExecutionInProgress)
			w.stage("e2", "Build", store.StageInProgress, 1)
			w.action("e2", "Compile", store.ActionFailed, 1)
			w.stage("e2", "Build", store.StageFailed, 1)
			w.exec("e2", store.ExecutionFailed)
			w.exec("e2", store.ExecutionInProgress)
			w.stage("e2", "Build", store.StageInProgress, 2)
			w.action("e2", "Compile", store.ActionInProgress, 2)
			w.action("e2", "Compile", store.ActionSucceeded, 2)
			w.stage("e2", "Build", store.StageSucceeded, 2)
		}, []string{
			"e2 pipeline STARTED", "e2 stage Build STARTED #1", "e2 action Compile FAILED", "e2 stage Build FAILED #1", "e2 pipeline FAILED",
			"e2 pipeline RESUMED", "e2 stage Build RESUMED #2", "e2 action Compile STARTED", "e2 action Compile SUCCEEDED", "e2 stage Build SUCCEEDED #2",
		}},
		{"stopped by abandoning", func(w writer) {
			w.exec("e3", store.ExecutionInProgress)
			w.action("e3", "Compile", store.ActionInProgress, 1)
			w.exec("e3", store.ExecutionStopping)
			w.action("e3", "Compile", store.ActionAbandoned, 1)
			w.exec("e3", store.ExecutionStopped)
		}, []string{
			"e3 pipeline STARTED", "e3 action Compile STARTED", "e3 pipeline STOPPING", "e3 action Compile ABANDONED", "e3 pipeline STOPPED",
		}},
		{"superseded", func(w writer) {
			w.exec("e4", store.ExecutionInProgress)
			w.exec("e4", store.ExecutionSuperseded)
		}, []string{"e4 pipeline STARTED", "e4 pipeline SUPERSEDED"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			tc.writes(writer{t, st})
			var mem Memory
			o := &Outbox{Store: st, Publisher: &mem, Region: "eu-west-1", Account: "111122223333"}
			n, err := o.Drain(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := describe(mem.Events())
			if n != len(got) || strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("%d events:\n%s\nwant:\n%s", n, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			for _, e := range mem.Events() {
				if e.Region != "eu-west-1" || e.Account != "111122223333" || e.Detail.Version != 2 {
					t.Errorf("event %s: region %s, account %s, version %d", e.ID, e.Region, e.Account, e.Detail.Version)
				}
			}
			if n, err := o.Drain(context.Background()); n != 0 || err != nil {
				t.Errorf("a second drain sent %d events (%v)", n, err)
			}
		})
	}
}

// flaky fails its first publishes.
type flaky struct {
	Memory
	mu    sync.Mutex
	fails int
}

func (f *flaky) Publish(ctx context.Context, evs ...Event) error {
	f.mu.Lock()
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return errors.New("EventBridge is unreachable")
	}
	return f.Memory.Publish(ctx, evs...)
}

// TestOutboxRetries publishes through a publisher that fails at first:
// nothing is lost, the events come again in order with the ids they had
// when they failed, and once sent they are not sent again.
func TestOutboxRetries(t *testing.T) {
	tests := []struct {
		name  string
		fails int
		batch int
	}{
		{"publishes at once", 0, 0},
		{"fails once", 1, 0},
		{"fails three times with small batches", 3, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			w := writer{t, st}
			for i := range 3 {
				id := fmt.Sprintf("x%d", i)
				w.exec(id, store.ExecutionInProgress)
				w.action(id, "Compile", store.ActionInProgress, 1)
				w.action(id, "Compile", store.ActionSucceeded, 1)
				w.exec(id, store.ExecutionSucceeded)
			}
			pub := &flaky{fails: tc.fails}
			o := &Outbox{Store: st, Publisher: pub, Batch: tc.batch}
			ctx := context.Background()
			errs := 0
			for range tc.fails + 1 {
				if _, err := o.Drain(ctx); err != nil {
					errs++
				}
			}
			if (errs > 0) != (tc.fails > 0) {
				t.Errorf("%d drains failed with %d failing publishes", errs, tc.fails)
			}
			evs := pub.Events()
			if len(evs) != 12 {
				t.Fatalf("%d events published, want 12: %q", len(evs), describe(evs))
			}
			byExec := map[string][]string{}
			seen := map[string]bool{}
			for _, e := range evs {
				if seen[e.ID] {
					t.Errorf("event id %s published twice", e.ID)
				}
				seen[e.ID] = true
				byExec[e.Detail.ExecutionID] = append(byExec[e.Detail.ExecutionID], describe([]Event{e})[0])
			}
			for id, got := range byExec {
				want := []string{id + " pipeline STARTED", id + " action Compile STARTED", id + " action Compile SUCCEEDED", id + " pipeline SUCCEEDED"}
				if strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("execution %s: %q, want %q", id, got, want)
				}
			}
		})
	}
}

// TestOutboxIDsAreStable: an entry published but not removed (the process
// died in between) is published again with the same event ids.
func TestOutboxIDsAreStable(t *testing.T) {
	st := openStore(t)
	w := writer{t, st}
	w.exec("e1", store.ExecutionInProgress)
	w.exec("e1", store.ExecutionFailed)
	ctx := context.Background()
	var first, second Memory
	o := &Outbox{Store: st, Publisher: &first}
	entries := map[int][]store.OutboxEntry{}
	for s := range store.OutboxShards {
		entries[s], _ = st.OutboxEntries(ctx, s, 0)
	}
	if _, err := o.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	// Put the entries back as a crash before their removal leaves them.
	for _, es := range entries {
		for _, en := range es {
			w, _ := store.PutWrite(fmt.Sprintf("outbox#%02d", en.Shard), en.Key, en, store.Absent)
			if err := st.Transact(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
	}
	o.Publisher = &second
	if _, err := o.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	a, b := first.Events(), second.Events()
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("published %d then %d events, want 2 and 2", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Detail.State != b[i].Detail.State {
			t.Errorf("event %d: %s %s then %s %s", i, a[i].ID, a[i].Detail.State, b[i].ID, b[i].Detail.State)
		}
	}
}

// TestOutboxStartStop: a started outbox publishes what is committed
// without being asked, and Stop publishes what is left.
func TestOutboxStartStop(t *testing.T) {
	st := openStore(t)
	var mem Memory
	o := &Outbox{Store: st, Publisher: &mem}
	w := writer{t, st}
	w.exec("before", store.ExecutionInProgress)
	o.Start(time.Hour)
	w.exec("after", store.ExecutionInProgress)
	deadline := time.Now().Add(10 * time.Second)
	for len(mem.Events()) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := describe(mem.Events()); len(got) != 2 {
		t.Fatalf("published without asking: %q", got)
	}
	w.exec("after", store.ExecutionSucceeded)
	if err := o.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := describe(mem.Events()); len(got) != 3 || got[2] != "after pipeline SUCCEEDED" {
		t.Errorf("after Stop: %q", got)
	}
}

// BenchmarkOutboxDrain measures publishing from the outbox to the events
// file: building the events, appending and syncing the file, removing the
// entries. Each round commits n pipeline executions, whose entries are then
// drained at once.
func BenchmarkOutboxDrain(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("%d-per-drain", n), func(b *testing.B) {
			bk, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "sluice.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer bk.Close()
			st := store.New(bk)
			f, err := OpenFile(filepath.Join(b.TempDir(), "events.jsonl"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			o := &Outbox{Store: st, Publisher: f}
			ctx := context.Background()
			seq := 0
			for b.Loop() {
				b.StopTimer()
				for range n {
					seq++
					e := store.PipelineExecution{PipelineName: "p", PipelineVersion: 1, PipelineExecutionID: fmt.Sprintf("e%d", seq),
						Status: store.ExecutionInProgress, StartTime: start, LastUpdateTime: start}
					if err := st.CreatePipelineExecution(ctx, e); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if sent, err := o.Drain(ctx); err != nil || sent != n {
					b.Fatalf("sent %d of %d: %v", sent, n, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/event")
		})
	}
}

// TestTriggerOf: the execution-trigger of events is the trigger's type
// and detail, or for a git trigger the git event alone.
func TestTriggerOf(t *testing.T) {
	git := store.GitTrigger{ProviderType: "GitHub", ConnectionArn: "arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
		FullRepositoryName: "acme/app", CommitID: "c0ffee", CommitMessage: "Fix", AuthorDisplayName: "Mary", AuthorEmail: "m@example.com",
		AuthorID: "mary", AuthorDate: "2026-01-02T03:04:05Z", TagName: "v1", PullRequestID: "9"}
	tests := []struct {
		name string
		in   store.ExecutionTrigger
		want ExecutionTrigger
	}{
		{"manual", store.ExecutionTrigger{TriggerType: "StartPipelineExecution", TriggerDetail: "arn:aws:iam::123456789012:user/me"},
			ExecutionTrigger{TriggerType: "StartPipelineExecution", TriggerDetail: "arn:aws:iam::123456789012:user/me"}},
		{"git", store.ExecutionTrigger{TriggerType: "WebhookV2", TriggerDetail: git.ConnectionArn, Git: &git},
			ExecutionTrigger{AuthorDisplayName: "Mary", FullRepositoryName: "acme/app", ProviderType: "GitHub", AuthorEmail: "m@example.com",
				CommitMessage: "Fix", AuthorDate: "2026-01-02T03:04:05Z", TagName: "v1", CommitID: "c0ffee", ConnectionArn: git.ConnectionArn,
				AuthorID: "mary", PullRequestID: "9"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := TriggerOf(tc.in); *got != tc.want {
				t.Errorf("%+v\nwant %+v", *got, tc.want)
			}
		})
	}
}
