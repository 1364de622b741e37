package server_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/store"
)

var sustained = flag.Duration("sustained", 0, "run TestSustainedDeliveries for this long (for example 1m); 0 skips it")

// started is a provider that succeeds at once and reports when each
// execution's action started.
type started struct {
	mu    sync.Mutex
	at    map[string]time.Time
	wake  chan string
	count atomic.Int64
}

func newStarted() *started {
	return &started{at: map[string]time.Time{}, wake: make(chan string, 1<<16)}
}

func (s *started) Run(_ context.Context, job *action.Job) (*action.Result, error) {
	s.count.Add(1)
	if job.ActionName == "Fetch" {
		s.mu.Lock()
		if _, ok := s.at[job.PipelineExecutionID]; !ok {
			s.at[job.PipelineExecutionID] = time.Now()
			s.wake <- job.PipelineExecutionID
		}
		s.mu.Unlock()
	}
	return &action.Result{Status: action.StatusSucceeded}, nil
}

// benchServer serves the bench pipeline, whose actions are prov, and a
// webhook to start it; it returns the webhook's path.
func benchServer(tb testing.TB, prov action.Provider) (*testServer, string) {
	ts := startServer(tb, "")
	for _, ty := range []action.Type{{Category: "Source", Owner: "AWS", Provider: "S3"}, {Category: "Deploy", Owner: "AWS", Provider: "S3"}} {
		ts.srv.Local.Runtime.Providers.Register(ty, prov)
	}
	ctx := context.Background()
	if _, err := ts.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(tb, "bench.json", "bench")}); err != nil {
		tb.Fatal(err)
	}
	out, err := ts.client.PutWebhook(ctx, &codepipeline.PutWebhookInput{Webhook: &types.WebhookDefinition{
		Name: aws.String("bench-hook"), TargetPipeline: aws.String("bench"), TargetAction: aws.String("Fetch"),
		Filters:        []types.WebhookFilterRule{{JsonPath: aws.String("$.ref"), MatchEquals: aws.String("refs/heads/main")}},
		Authentication: types.WebhookAuthenticationTypeGithubHmac, AuthenticationConfiguration: &types.WebhookAuthConfiguration{SecretToken: aws.String("bench")},
	}})
	if err != nil {
		tb.Fatal(err)
	}
	return ts, aws.ToString(out.Webhook.Url)[len(ts.srv.Endpoint()):]
}

func benchDelivery(path string, i int) delivery {
	body := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","after":"%040d"}`, i))
	return delivery{path: path, event: "push", id: fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i), body: body, secret: []byte("bench")}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

// BenchmarkDeliveryToFirstAction measures the time from sending a signed
// delivery to the webhook to the first action of the execution it starts
// being run: the delivery checked and claimed, the answer sent, the start
// carried out, the execution entering its first stage.
func BenchmarkDeliveryToFirstAction(b *testing.B) {
	prov := newStarted()
	ts, path := benchServer(b, prov)
	<-prov.wake // CreatePipeline's execution
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		if status, msg := ts.deliver(benchDelivery(path, i)); status != http.StatusAccepted {
			b.Fatalf("delivery: %d %s", status, msg)
		}
		id := <-prov.wake
		prov.mu.Lock()
		lat = append(lat, prov.at[id].Sub(t0))
		prov.mu.Unlock()
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.95).Microseconds())/1000, "p95-ms")
}

// BenchmarkGetPipelineState measures GetPipelineState through the SDK
// client (HTTP, SigV4, the answer assembled from the store) on a pipeline
// with 1,000 executions recorded.
func BenchmarkGetPipelineState(b *testing.B) {
	ts := startServer(b, "")
	ts.putSource("v1")
	ctx := context.Background()
	if _, err := ts.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(b, "release.json", "release")}); err != nil {
		b.Fatal(err)
	}
	seedExecutions(b, ts.srv.Local.Runtime.Store, "release", 1000)
	in := &codepipeline.GetPipelineStateInput{Name: aws.String("release")}
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := ts.client.GetPipelineState(ctx, in); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.95).Microseconds())/1000, "p95-ms")
}

// seedExecutions records n finished executions of the release pipeline,
// with their stage and action records, as runs would leave them.
func seedExecutions(tb testing.TB, st *store.Store, name string, n int) {
	ctx := context.Background()
	t0 := time.Now().Add(-time.Duration(n) * time.Minute)
	stages := map[string]string{"Source": "Fetch", "Approve": "Release", "Deploy": "Publish"}
	for i := range n {
		id := fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)
		at := t0.Add(time.Duration(i) * time.Minute)
		e := store.PipelineExecution{PipelineName: name, PipelineVersion: 1, PipelineExecutionID: id, Status: store.ExecutionSucceeded,
			Trigger: store.ExecutionTrigger{TriggerType: "StartPipelineExecution"}, ExecutionMode: store.ModeQueued, ExecutionType: "STANDARD",
			StartTime: at, LastUpdateTime: at.Add(time.Second)}
		if err := st.CreatePipelineExecution(ctx, e); err != nil {
			tb.Fatal(err)
		}
		var writes []store.Write
		for stage, act := range stages {
			sw, _ := store.StageExecutionWrite(store.Versioned[store.StageExecution]{Value: store.StageExecution{PipelineName: name, PipelineExecutionID: id,
				StageName: stage, Status: store.StageSucceeded, Type: "STANDARD", Attempt: 1, StartTime: at, LastUpdateTime: at}})
			aw, _ := store.ActionExecutionWrite(store.Versioned[store.ActionExecution]{Value: store.ActionExecution{PipelineName: name, PipelineExecutionID: id,
				ActionExecutionID: fmt.Sprintf("%s-%s", id, act), PipelineVersion: 1, StageName: stage, ActionName: act, Attempt: 1,
				StartTime: at, LastUpdateTime: at, Status: store.ActionSucceeded}})
			writes = append(writes, sw, aw)
		}
		if err := st.Transact(ctx, writes...); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestSustainedDeliveries sends 200 signed deliveries a second for the
// duration given by -sustained and checks that every one is accepted and
// starts its execution; it reports the rate achieved and how long the
// last starts lagged. It is not part of the default run.
func TestSustainedDeliveries(t *testing.T) {
	if *sustained == 0 {
		t.Skip("run with -sustained 1m")
	}
	prov := newStarted()
	ts, path := benchServer(t, prov)
	<-prov.wake
	const rate = 200
	total := int(sustained.Seconds() * rate)
	var (
		wg       sync.WaitGroup
		accepted atomic.Int64
		failed   atomic.Int64
		lat      = make([]time.Duration, total)
	)
	sem := make(chan struct{}, 64)
	start := time.Now()
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * time.Second / rate)); d > 0 {
			time.Sleep(d)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			t0 := time.Now()
			status, _ := ts.deliver(benchDelivery(path, i))
			lat[i] = time.Since(t0)
			if status == http.StatusAccepted {
				accepted.Add(1)
			} else {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	sent := time.Since(start)
	for range total {
		select {
		case <-prov.wake:
		case <-time.After(5 * time.Minute):
			t.Fatalf("only some executions started: %d actions ran", prov.count.Load())
		}
	}
	all := time.Since(start)
	t.Logf("%d deliveries in %s (%.0f/s), %d accepted, %d refused; answer p50 %s p99 %s; every execution's first action ran within %s of the start",
		total, sent.Round(time.Millisecond), float64(total)/sent.Seconds(), accepted.Load(), failed.Load(),
		percentile(lat, 0.5), percentile(lat, 0.99), all.Round(time.Millisecond))
	if accepted.Load() != int64(total) {
		t.Errorf("%d of %d deliveries accepted", accepted.Load(), total)
	}
	if got := len(ts.executions("bench")); got != total+1 {
		t.Errorf("%d executions, want %d", got, total+1)
	}
}
