// Package storetest is the conformance suite every store.Backend passes: the
// SQLite backend here, a DynamoDB backend against a DynamoDB-compatible
// server next. Call Run from a test with a function that opens an empty
// backend.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sluice-ci/sluice/internal/store"
)

// Run runs the suite. open returns a new, empty backend for each subtest.
func Run(t *testing.T, open func(t *testing.T) store.Backend) {
	t.Run("transactions", func(t *testing.T) { testTransactions(t, open) })
	t.Run("query", func(t *testing.T) { testQuery(t, open(t)) })
	t.Run("concurrent increments", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("catalog", func(t *testing.T) { testCatalog(t, open(t)) })
	t.Run("webhooks", func(t *testing.T) { testWebhooks(t, open(t)) })
	t.Run("deliveries", func(t *testing.T) { testDeliveries(t, open(t)) })
	t.Run("jobs", func(t *testing.T) { testJobs(t, open(t)) })
	t.Run("outbox", func(t *testing.T) { testOutbox(t, open(t)) })
}

func body(v string) json.RawMessage { return json.RawMessage(fmt.Sprintf(`{"v":%q}`, v)) }

func testTransactions(t *testing.T, open func(t *testing.T) store.Backend) {
	ctx := context.Background()
	seed := []store.Write{{Op: store.Put, PK: "p", SK: "a", Body: body("a1"), Expect: store.Absent}}
	tests := []struct {
		name    string
		writes  []store.Write
		wantErr error // nil, store.ErrConditionFailed, or errAny for a shape error
		want    map[string]int64
	}{
		{"put absent on existing fails",
			[]store.Write{{Op: store.Put, PK: "p", SK: "a", Body: body("x"), Expect: store.Absent}},
			store.ErrConditionFailed, map[string]int64{"a": 1}},
		{"put at version bumps it",
			[]store.Write{{Op: store.Put, PK: "p", SK: "a", Body: body("a2"), Expect: 1}},
			nil, map[string]int64{"a": 2}},
		{"put at stale version fails",
			[]store.Write{{Op: store.Put, PK: "p", SK: "a", Body: body("a2"), Expect: 7}},
			store.ErrConditionFailed, map[string]int64{"a": 1}},
		{"failed check rolls back every write",
			[]store.Write{
				{Op: store.Put, PK: "p", SK: "b", Body: body("b"), Expect: store.Absent},
				{Op: store.Check, PK: "p", SK: "a", Expect: 2},
			},
			store.ErrConditionFailed, map[string]int64{"a": 1, "b": 0}},
		{"check and put together",
			[]store.Write{
				{Op: store.Put, PK: "p", SK: "b", Body: body("b"), Expect: store.Absent},
				{Op: store.Check, PK: "p", SK: "a", Expect: 1},
			},
			nil, map[string]int64{"a": 1, "b": 1}},
		{"delete at version",
			[]store.Write{{Op: store.Delete, PK: "p", SK: "a", Expect: 1}},
			nil, map[string]int64{"a": 0}},
		{"unconditional put",
			[]store.Write{{Op: store.Put, PK: "p", SK: "a", Body: body("z"), Expect: store.AnyVersion}},
			nil, map[string]int64{"a": 2}},
		{"duplicate keys refused",
			[]store.Write{
				{Op: store.Put, PK: "p", SK: "c", Body: body("c"), Expect: store.AnyVersion},
				{Op: store.Delete, PK: "p", SK: "c", Expect: store.AnyVersion},
			},
			errShape, map[string]int64{"a": 1, "c": 0}},
		{"body must be JSON",
			[]store.Write{{Op: store.Put, PK: "p", SK: "c", Body: json.RawMessage("{"), Expect: store.AnyVersion}},
			errShape, map[string]int64{"c": 0}},
		{"too many writes refused",
			manyWrites(store.MaxTransactItems + 1),
			errShape, map[string]int64{"k000": 0}},
		{"a full transaction is fine",
			manyWrites(store.MaxTransactItems),
			nil, map[string]int64{"k000": 1, "k099": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := open(t)
			if err := b.Transact(ctx, seed...); err != nil {
				t.Fatalf("seed: %v", err)
			}
			err := b.Transact(ctx, tt.writes...)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Transact: %v", err)
			case tt.wantErr == errShape && (err == nil || errors.Is(err, store.ErrConditionFailed)):
				t.Fatalf("Transact: got %v, want a shape error", err)
			case tt.wantErr == store.ErrConditionFailed && !errors.Is(err, store.ErrConditionFailed):
				t.Fatalf("Transact: got %v, want a failed condition", err)
			}
			for sk, want := range tt.want {
				it, err := b.Get(ctx, "p", sk)
				var got int64
				if err == nil {
					got = it.Version
				} else if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("Get %s: %v", sk, err)
				}
				if got != want {
					t.Errorf("version of %s = %d, want %d", sk, got, want)
				}
			}
		})
	}
}

var errShape = errors.New("shape")

func manyWrites(n int) []store.Write {
	ws := make([]store.Write, n)
	for i := range ws {
		ws[i] = store.Write{Op: store.Put, PK: "p", SK: fmt.Sprintf("k%03d", i), Body: body("k"), Expect: store.Absent}
	}
	return ws
}

func testQuery(t *testing.T, b store.Backend) {
	ctx := context.Background()
	var ws []store.Write
	for _, sk := range []string{"a#1", "a#2", "a#3", "ab", "b#1"} {
		ws = append(ws, store.Write{Op: store.Put, PK: "p", SK: sk, Body: body(sk), Expect: store.Absent})
	}
	ws = append(ws, store.Write{Op: store.Put, PK: "q", SK: "a#9", Body: body("other"), Expect: store.Absent})
	if err := b.Transact(ctx, ws...); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		prefix string
		opts   store.QueryOptions
		want   []string
	}{
		{"prefix", "a#", store.QueryOptions{}, []string{"a#1", "a#2", "a#3"}},
		{"descending with limit", "a#", store.QueryOptions{Descending: true, Limit: 2}, []string{"a#3", "a#2"}},
		{"after", "a#", store.QueryOptions{After: "a#1"}, []string{"a#2", "a#3"}},
		{"after descending", "a#", store.QueryOptions{Descending: true, After: "a#3"}, []string{"a#2", "a#1"}},
		{"whole partition", "", store.QueryOptions{}, []string{"a#1", "a#2", "a#3", "ab", "b#1"}},
		{"nothing", "c", store.QueryOptions{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := b.Query(ctx, "p", tt.prefix, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range items {
				got = append(got, it.SK)
				var v struct{ V string }
				if err := json.Unmarshal(it.Body, &v); err != nil || v.V != it.SK {
					t.Errorf("body of %s = %s", it.SK, it.Body)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// testConcurrent runs read-modify-write loops from several goroutines; with
// conditional writes no increment is lost.
func testConcurrent(t *testing.T, b store.Backend) {
	ctx := context.Background()
	const workers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := increment(ctx, b); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	it, err := b.Get(ctx, "p", "counter")
	if err != nil {
		t.Fatal(err)
	}
	var n struct{ N int }
	if err := json.Unmarshal(it.Body, &n); err != nil {
		t.Fatal(err)
	}
	if n.N != workers*each {
		t.Errorf("counter = %d, want %d", n.N, workers*each)
	}
}

func increment(ctx context.Context, b store.Backend) error {
	for {
		var n struct{ N int }
		it, err := b.Get(ctx, "p", "counter")
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(it.Body, &n); err != nil {
				return err
			}
		}
		n.N++
		raw, _ := json.Marshal(n)
		err = b.Transact(ctx, store.Write{Op: store.Put, PK: "p", SK: "counter", Body: raw, Expect: it.Version})
		if errors.Is(err, store.ErrConditionFailed) {
			continue
		}
		return err
	}
}
