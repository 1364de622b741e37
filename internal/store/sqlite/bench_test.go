package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/sluice-ci/sluice/internal/store"
)

// BenchmarkBackend measures the operations the handlers make on every
// action and gate: reading one item, a prefix query over a partition, and
// a conditional write of one item (with FULL sync, bound by the disk's
// fsync).
func BenchmarkBackend(b *testing.B) {
	ctx := context.Background()
	be, err := Open(ctx, filepath.Join(b.TempDir(), "sluice.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { be.Close() })
	for i := range 50 {
		w := store.Write{Op: store.Put, PK: "pipeline#p", SK: fmt.Sprintf("ax#e#s#a%02d#0001", i), Body: []byte(`{"status":"Succeeded"}`), Expect: store.Absent}
		if err := be.Transact(ctx, w); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("get", func(b *testing.B) {
		for b.Loop() {
			if _, err := be.Get(ctx, "pipeline#p", "ax#e#s#a07#0001"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("query", func(b *testing.B) {
		for b.Loop() {
			if _, err := be.Query(ctx, "pipeline#p", "ax#e#s#a07#", store.QueryOptions{Descending: true, Limit: 1}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("transact", func(b *testing.B) {
		it, err := be.Get(ctx, "pipeline#p", "ax#e#s#a07#0001")
		if err != nil {
			b.Fatal(err)
		}
		version := it.Version
		for b.Loop() {
			w := store.Write{Op: store.Put, PK: "pipeline#p", SK: "ax#e#s#a07#0001", Body: []byte(`{"status":"Failed"}`), Expect: version}
			if err := be.Transact(ctx, w); err != nil {
				b.Fatal(err)
			}
			version++
		}
	})
}
