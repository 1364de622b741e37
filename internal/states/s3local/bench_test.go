package s3local_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/states/s3local"
)

// BenchmarkGetObjectCSV reads a CSV object of 10,000 rows into items.
func BenchmarkGetObjectCSV(b *testing.B) {
	dir := b.TempDir()
	var csv strings.Builder
	csv.WriteString("userId,movieId,rating,note\n")
	for i := range 10000 {
		fmt.Fprintf(&csv, "%d,%d,3.5,\"a note, with a comma\"\n", i, i*7)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "rows.csv"), []byte(csv.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	buckets := s3local.New(dir)
	req := readRequest(s3local.GetObjectResource, `{"Bucket":"data","Key":"rows.csv"}`, `{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"}`)
	b.SetBytes(int64(csv.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := buckets.GetObject(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
