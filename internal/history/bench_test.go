package history_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/history"
	"github.com/sluice-ci/sluice/internal/states"
)

func durableEngine(b *testing.B, reg *states.Registry, mode string) *states.Engine {
	store, err := history.Open(b.TempDir(), history.Options{Synchronous: mode})
	if err != nil {
		b.Fatal(err)
	}
	eng, err := states.New(states.Options{Log: store, Handlers: reg})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	return eng
}

func chain(n int) string {
	var b strings.Builder
	b.WriteString(`{"StartAt":"S0","States":{`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		if i == n-1 {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Result":{"step":%d},"ResultPath":"$.last","End":true}`, i, i)
		} else {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Result":{"step":%d},"ResultPath":"$.last","Next":"S%d"}`, i, i, i+1)
		}
	}
	b.WriteString(`}}`)
	return b.String()
}

// fanOut returns a Parallel state of branches branches, each a chain of
// depth Pass states.
func fanOut(branches, depth int) string {
	list := make([]string, branches)
	for i := range list {
		list[i] = chain(depth)
	}
	return `{"StartAt":"Fan","States":{"Fan":{"Type":"Parallel","End":true,"Branches":[` + strings.Join(list, ",") + `]}}}`
}

// BenchmarkDurablePassChains runs many executions of a chain of Pass states
// at once on the SQLite store and reports state transitions per second.
func BenchmarkDurablePassChains(b *testing.B) {
	const length = 20
	for _, mode := range []string{"NORMAL", "FULL"} {
		b.Run(mode, func(b *testing.B) { benchDurable(b, mode, chain(length), length) })
	}
}

// BenchmarkDurableParallelFanOut is BenchmarkDurablePassChains for a
// Parallel state whose branches are chains of Pass states.
func BenchmarkDurableParallelFanOut(b *testing.B) {
	const branches, depth = 10, 5
	for _, mode := range []string{"NORMAL", "FULL"} {
		b.Run(mode, func(b *testing.B) { benchDurable(b, mode, fanOut(branches, depth), 1+branches*depth) })
	}
}

// benchDurable runs b.N executions of def, many at once, each making
// transitions state transitions, and reports transitions per second.
func benchDurable(b *testing.B, mode, def string, transitions int) {
	const concurrency = 64
	eng := durableEngine(b, nil, mode)
	ctx := context.Background()
	sm, err := eng.CreateStateMachine(ctx, states.CreateStateMachineInput{Name: "Bench", Definition: def})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out, err := eng.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: sm.Arn, Name: fmt.Sprintf("e%d", i)})
				if err != nil {
					b.Error(err)
					return
				}
				if d, err := eng.WaitExecution(ctx, out.ExecutionArn); err != nil || d.Status != states.StatusSucceeded {
					b.Errorf("execution %v: %v", d, err)
					return
				}
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	b.ReportMetric(float64(b.N*transitions)/b.Elapsed().Seconds(), "transitions/s")
}

// BenchmarkDurableTaskRoundTrip runs executions of one Task state with a Go
// handler, one at a time, on the SQLite store, and reports the median and
// 99th percentile of the time from StartExecution to the closed execution.
func BenchmarkDurableTaskRoundTrip(b *testing.B) {
	for _, mode := range []string{"NORMAL", "FULL"} {
		b.Run(mode, func(b *testing.B) { benchDurableTaskRoundTrip(b, mode) })
	}
}

func benchDurableTaskRoundTrip(b *testing.B, mode string) {
	reg := states.NewRegistry()
	reg.Register("arn:aws:lambda:us-east-1:123456789012:function:echo", func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		return in, nil
	})
	eng := durableEngine(b, reg, mode)
	ctx := context.Background()
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:echo","End":true}}}`
	sm, err := eng.CreateStateMachine(ctx, states.CreateStateMachineInput{Name: "Task", Definition: def})
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		out, err := eng.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: sm.Arn, Name: fmt.Sprintf("e%d", i), Input: `{"n":1}`})
		if err != nil {
			b.Fatal(err)
		}
		if d, err := eng.WaitExecution(ctx, out.ExecutionArn); err != nil || d.Status != states.StatusSucceeded {
			b.Fatalf("execution %v: %v", d, err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkDurableHeartbeat sends heartbeats for a parked callback task
// on the SQLite store, from several goroutines at once: each heartbeat is
// durable when SendTaskHeartbeat returns, and concurrent ones share a
// commit.
func BenchmarkDurableHeartbeat(b *testing.B) {
	tokens := make(chan string, 1)
	reg := states.NewRegistry()
	reg.Register("arn:aws:states:::sqs:sendMessage", func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		info, _ := states.TaskFromContext(ctx)
		tokens <- info.Token
		return json.RawMessage(`{}`), nil
	})
	eng := durableEngine(b, reg, "NORMAL")
	ctx := context.Background()
	def := `{"StartAt":"P","States":{"P":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
	  "Parameters":{"QueueUrl":"q","MessageBody":{"t.$":"$$.Task.Token"}},"HeartbeatSeconds":3600,"End":true}}}`
	sm, err := eng.CreateStateMachine(ctx, states.CreateStateMachineInput{Name: "Beat", Definition: def})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := eng.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: sm.Arn, Name: "e"}); err != nil {
		b.Fatal(err)
	}
	tok := <-tokens
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := eng.SendTaskHeartbeat(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "heartbeats/s")
}
