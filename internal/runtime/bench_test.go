package runtime

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/states"
)

// noop is a pipeline of stages × actions whose actions do nothing: a source
// stage, then build stages, perGroup actions to a runOrder.
func noop(stages, actions, perGroup int) *pipeline.Declaration {
	var sizes []int
	for left := actions; left > 0; left -= perGroup {
		sizes = append(sizes, min(left, perGroup))
	}
	d := noopGroups(stages, sizes...)
	d.Name = fmt.Sprintf("noop-%dx%d", stages, actions)
	return d
}

// noopGroups is a pipeline of stages whose no-op actions run in runOrder
// groups of the given sizes: a source stage, then build stages.
func noopGroups(stages int, sizes ...int) *pipeline.Declaration {
	d := &pipeline.Declaration{Name: "noop"}
	for s := range stages {
		st := pipeline.Stage{Name: fmt.Sprintf("Stage%02d", s+1)}
		for g, size := range sizes {
			order := int32(g + 1)
			for range size {
				ty := pipeline.ActionTypeID{Category: "Build", Owner: "AWS", Provider: "CodeBuild", Version: "1"}
				if s == 0 {
					ty = pipeline.ActionTypeID{Category: "Source", Owner: "AWS", Provider: "CodeCommit", Version: "1"}
				}
				st.Actions = append(st.Actions, pipeline.Action{Name: fmt.Sprintf("Action%02d", len(st.Actions)+1), ActionTypeID: ty, RunOrder: &order})
			}
		}
		d.Stages = append(d.Stages, st)
	}
	return d
}

var succeed = action.ProviderFunc(func(context.Context, *action.Job) (*action.Result, error) {
	return &action.Result{Status: action.StatusSucceeded}, nil
})

// runNoop runs one execution of d to its end and returns its history.
func runNoop(tb testing.TB, rt *Runtime, m Embedded, d *pipeline.Declaration) []*states.Event {
	ctx := context.Background()
	id, err := rt.StartPipelineExecution(ctx, StartInput{Pipeline: d.Name})
	if err != nil {
		tb.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	desc, err := m.Engine.WaitExecution(wctx, m.ExecutionArn(d.Name, id))
	if err != nil || desc.Status != states.StatusSucceeded {
		tb.Fatalf("execution: %+v, %v (%s)", desc, err, deref(desc.Cause))
	}
	h, err := m.Engine.GetExecutionHistory(ctx, m.ExecutionArn(d.Name, id))
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func entered(h []*states.Event) int {
	n := 0
	for _, ev := range h {
		if strings.HasSuffix(ev.Type, "StateEntered") {
			n++
		}
	}
	return n
}

// BenchmarkNoOpExecution runs no-op executions on the embedded engine with
// the SQLite store: history events, states entered (billed transitions on
// AWS) per action, and wall time per action of the local orchestration.
func BenchmarkNoOpExecution(b *testing.B) {
	for _, shape := range []struct{ stages, actions, perGroup int }{
		{50, 1, 1},   // every action its own stage: the most transitions per action
		{10, 10, 10}, // one group per stage
		{50, 50, 50}, // CodePipeline's limits
	} {
		b.Run(fmt.Sprintf("%dx%d", shape.stages, shape.actions), func(b *testing.B) {
			rt, m := localRuntime(b, succeed)
			d := noop(shape.stages, shape.actions, shape.perGroup)
			if _, err := rt.PutPipeline(context.Background(), d); err != nil {
				b.Fatal(err)
			}
			var h []*states.Event
			n := shape.stages * shape.actions
			for b.Loop() {
				h = runNoop(b, rt, m, d)
			}
			b.ReportMetric(float64(len(h)), "events")
			b.ReportMetric(float64(entered(h))/float64(n), "transitions/action")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/action")
		})
	}
}
