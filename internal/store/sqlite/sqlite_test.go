package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend {
		b, err := Open(context.Background(), filepath.Join(t.TempDir(), "sluice.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	})
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sluice.db")
	b, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Transact(ctx, store.Write{Op: store.Put, PK: "p", SK: "s", Body: []byte(`{}`), Expect: store.Absent}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	b, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	it, err := b.Get(ctx, "p", "s")
	if err != nil || it.Version != 1 {
		t.Fatalf("after reopen: %+v, %v", it, err)
	}
	var mode string
	if err := b.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var sync int
	if err := b.db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
}

func TestPrefixEnd(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"a#", "a$", true},
		{"", "", false},
		{"a\xff", "b", true},
		{"\xff\xff", "", false},
	}
	for _, tt := range tests {
		got, ok := prefixEnd(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
