package runtime

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/artifact"
	"github.com/sluice-ci/sluice/internal/compile"
	"github.com/sluice-ci/sluice/internal/history"
	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/store/sqlite"
)

// The budgets of a pipeline at CodePipeline's limits (50 stages of 50
// actions) on the embedded engine with the SQLite store, as benchmark
// metrics: history events of one no-op execution (Step Functions fails an
// execution at 25,000), its duration, states entered per action (each a
// billed state transition on AWS), and the local orchestration time per
// no-op action. The compile budget (under 1 MB, under 50 ms) is
// BenchmarkCompile50x50 in package compile.

// BenchmarkExecutionAtLimits runs no-op executions of 50×50 pipelines whose
// stages group their actions by runOrder in the ways that matter to the
// budget: all in sequence, all in parallel, and the mixes in between. Per
// shape it reports the history events the engine recorded and those AWS
// records (one more per Parallel state, see awsLength, counted by the
// compiler), the execution's duration, the state transitions per action and
// the size of the deployed (compact) definition.
func BenchmarkExecutionAtLimits(b *testing.B) {
	for _, shape := range []struct {
		name  string
		sizes []int // group sizes of every stage
	}{
		{"all sequential", repeat(50, 1)},
		{"one group per stage", []int{50}},
		{"25 groups of 2", repeat(25, 2)},
		{"10 groups of 5", repeat(10, 5)},
		{"17 groups of 3", append(repeat(16, 3), 2)},
	} {
		b.Run(shape.name, func(b *testing.B) {
			rt, m := durableRuntime(b, succeed)
			d := noopGroups(50, shape.sizes...)
			if _, err := rt.PutPipeline(context.Background(), d); err != nil {
				b.Fatal(err)
			}
			machine, err := compile.Compile(d, rt.Compile)
			if err != nil {
				b.Fatal(err)
			}
			def, err := compile.Marshal(machine, false)
			if err != nil {
				b.Fatal(err)
			}
			cost, err := machine.Cost()
			if err != nil {
				b.Fatal(err)
			}
			var events, transitions float64
			var took time.Duration
			for b.Loop() {
				start := time.Now()
				h, err := runToEnd(rt, m, d.Name)
				took += time.Since(start)
				if err != nil {
					// An execution stopped by the history limit ends outside
					// the gates and keeps its stage locked: no other run
					// could pass.
					b.Fatalf("over budget after %s: %v", time.Since(start).Round(time.Millisecond), err)
				}
				events, transitions = float64(len(h)), float64(entered(h))/2500
			}
			b.ReportMetric(events, "events")
			b.ReportMetric(float64(cost.Events), "events-on-AWS")
			b.ReportMetric(took.Seconds()/float64(b.N), "s/execution")
			b.ReportMetric(transitions, "transitions/action")
			b.ReportMetric(float64(len(def)), "bytes/definition")
		})
	}
}

func repeat(n, size int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = size
	}
	return out
}

// durableRuntime is a local runtime as `sluice run` opens it: the engine's
// history in SQLite beside the store, in a fresh folder.
func durableRuntime(b testing.TB, prov action.Provider) (*Runtime, Embedded) {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	be, err := sqlite.Open(ctx, filepath.Join(dir, "sluice.db"))
	if err != nil {
		b.Fatal(err)
	}
	arts, err := artifact.NewFolder(filepath.Join(dir, "artifacts"))
	if err != nil {
		b.Fatal(err)
	}
	log, err := history.Open(dir, history.Options{})
	if err != nil {
		b.Fatal(err)
	}
	rt := &Runtime{Store: store.New(be), Artifacts: arts, Providers: testRegistry(prov)}
	eng, err := rt.OpenEngine(states.Options{Log: log})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		eng.Close()
		be.Close()
	})
	return rt, Embedded{Engine: eng}
}

// runToEnd runs one execution of d and returns its history, or why it did
// not succeed.
func runToEnd(rt *Runtime, m Embedded, name string) ([]*states.Event, error) {
	ctx := context.Background()
	id, err := rt.StartPipelineExecution(ctx, StartInput{Pipeline: name})
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	arn := m.ExecutionArn(name, id)
	desc, err := m.Engine.WaitExecution(wctx, arn)
	if err != nil {
		return nil, err
	}
	h, err := m.Engine.GetExecutionHistory(ctx, arn)
	if err != nil {
		return nil, err
	}
	if desc.Status != states.StatusSucceeded {
		return h, fmt.Errorf("execution %s after %d events: %s: %s", desc.Status, len(h), deref(desc.Error), deref(desc.Cause))
	}
	return h, nil
}

// stamps is a no-op provider that notes when each action started.
type stamps struct {
	mu sync.Mutex
	at []time.Time
}

func (s *stamps) Run(context.Context, *action.Job) (*action.Result, error) {
	s.mu.Lock()
	s.at = append(s.at, time.Now())
	s.mu.Unlock()
	return &action.Result{Status: action.StatusSucceeded}, nil
}

// BenchmarkOrchestrationPerAction measures the local orchestration time per
// no-op action: in a pipeline of 50 one-action stages, the time from one
// action's start to the next one's, which is all the work between them
// (recording the result, the task callback, the stage's exit gate, the next
// stage's entry gate, its Map, and the action handler's reads and writes).
// It reports the median and the 90th percentile over every gap of every
// execution.
func BenchmarkOrchestrationPerAction(b *testing.B) {
	for _, c := range []struct {
		name string
		open func(testing.TB, action.Provider) (*Runtime, Embedded)
	}{
		{"durable history", durableRuntime}, // as sluice run keeps it
		{"memory history", localRuntime},
	} {
		b.Run(c.name, func(b *testing.B) {
			prov := &stamps{}
			rt, m := c.open(b, prov)
			d := noop(50, 1, 1)
			if _, err := rt.PutPipeline(context.Background(), d); err != nil {
				b.Fatal(err)
			}
			var gaps []time.Duration
			for b.Loop() {
				prov.mu.Lock()
				prov.at = prov.at[:0]
				prov.mu.Unlock()
				if _, err := runToEnd(rt, m, d.Name); err != nil {
					b.Fatal(err)
				}
				prov.mu.Lock()
				for i := 1; i < len(prov.at); i++ {
					gaps = append(gaps, prov.at[i].Sub(prov.at[i-1]))
				}
				prov.mu.Unlock()
			}
			slices.Sort(gaps)
			b.ReportMetric(float64(gaps[len(gaps)/2].Microseconds())/1000, "ms/action-p50")
			b.ReportMetric(float64(gaps[len(gaps)*9/10].Microseconds())/1000, "ms/action-p90")
		})
	}
}
