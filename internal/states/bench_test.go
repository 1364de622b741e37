package states_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/states"
)

// passChain returns a definition of n Pass states in a row.
func passChain(n int) string {
	var b strings.Builder
	b.WriteString(`{"StartAt":"S0","States":{`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		if i == n-1 {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","End":true}`, i)
		} else {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Next":"S%d"}`, i, i+1)
		}
	}
	b.WriteString(`}}`)
	return b.String()
}

// fanOut returns a Parallel state of branches branches, each a chain of
// depth Pass states.
func fanOut(branches, depth int) string {
	var b strings.Builder
	b.WriteString(`{"StartAt":"Fan","States":{"Fan":{"Type":"Parallel","End":true,"Branches":[`)
	for i := 0; i < branches; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(passChain(depth))
	}
	b.WriteString(`]}}}`)
	return b.String()
}

// benchExecutions runs b.N executions of def, each making transitions
// state transitions, and reports transitions per second.
func benchExecutions(b *testing.B, eng *states.Engine, def string, transitions int) {
	ctx := context.Background()
	sm, err := eng.CreateStateMachine(ctx, states.CreateStateMachineInput{Name: "Bench", Definition: def})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := eng.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: sm.Arn, Name: fmt.Sprintf("e%d", i), Input: `{"a":1}`})
		if err != nil {
			b.Fatal(err)
		}
		d, err := eng.WaitExecution(ctx, out.ExecutionArn)
		if err != nil || d.Status != states.StatusSucceeded {
			b.Fatalf("execution %v: %v", d, err)
		}
	}
	b.ReportMetric(float64(b.N*transitions)/b.Elapsed().Seconds(), "transitions/s")
}

func BenchmarkPassChainInMemory(b *testing.B) {
	eng, err := states.New(states.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	benchExecutions(b, eng, passChain(1000), 1000)
}

func BenchmarkParallelFanOutInMemory(b *testing.B) {
	eng, err := states.New(states.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	benchExecutions(b, eng, fanOut(100, 10), 1+100*10)
}

func BenchmarkTaskInMemory(b *testing.B) {
	reg := states.NewRegistry()
	reg.Register("arn:aws:lambda:us-east-1:123456789012:function:echo", func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		return in, nil
	})
	eng, err := states.New(states.Options{Handlers: reg})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:echo","End":true}}}`
	benchExecutions(b, eng, def, 1)
}
