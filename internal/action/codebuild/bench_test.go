package codebuild

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/sluice-ci/sluice/internal/action"
)

// BenchmarkNoopBuild measures the overhead of a build that does nothing:
// extracting a small source, starting the session, one ":" command, the
// phase bookkeeping, an artifact of one file, and recording the result.
func BenchmarkNoopBuild(b *testing.B) {
	f := newFixture(b, nil)
	spec := "version: 0.2\nphases: {build: {commands: [':']}}\nartifacts: {files: [buildspec.yml]}\n"
	base := f.job("bench", []input{{name: "Source", files: map[string]string{"buildspec.yml": spec}}}, "Out")
	cb := &CodeBuild{Runner: f.runner}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		job := *base
		job.ID = fmt.Sprintf("bench-%d", i)
		job.Log = io.Discard
		codeBuildJob(&job, map[string]string{"ProjectName": "app"})
		res, err := cb.Run(context.Background(), &job)
		if err != nil || res.Status != action.StatusSucceeded {
			b.Fatalf("%v %+v", err, res)
		}
	}
}
