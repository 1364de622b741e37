package sfnapi_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sluice-ci/sluice/internal/history"
	"github.com/sluice-ci/sluice/internal/states"
)

// BenchmarkStartDescribe measures StartExecution + DescribeExecution round
// trips over HTTP through the SDK's client, on the in-memory log and on
// the SQLite history store.
func BenchmarkStartDescribe(b *testing.B) {
	logs := []struct {
		name string
		open func(b *testing.B) states.EventLog
	}{
		{"memory", func(*testing.B) states.EventLog { return states.NewMemoryLog() }},
		{"sqlite", func(b *testing.B) states.EventLog {
			store, err := history.Open(b.TempDir(), history.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return store
		}},
	}
	for _, l := range logs {
		b.Run(l.name, func(b *testing.B) {
			f := newFixture(b, states.Options{Log: l.open(b)})
			sm := f.createMachine(b, "Bench", passMachine)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			began := time.Now()
			for i := range b.N {
				out, err := f.client.StartExecution(ctx, &sfn.StartExecutionInput{
					StateMachineArn: aws.String(sm), Name: aws.String("e" + strconv.Itoa(i)), Input: aws.String(`{"n":1}`)})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := f.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "roundtrips/s")
		})
	}
}
