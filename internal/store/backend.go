// Package store owns Sluice's state: the port to the item store behind it and
// the records kept there (pipelines, pipeline executions, stage and action
// executions, stage locks and transitions, parked task tokens and approvals),
// shaped and named as CodePipeline's API shapes them.
//
// The port, Backend, is deliberately DynamoDB-shaped: items addressed by a
// partition key and a sort key, read one at a time or by sort-key prefix
// within one partition, and written in transactions of at most 100 items in
// which every item can carry a version condition. Nothing joins, nothing
// scans across partitions. The SQLite implementation (store/sqlite) runs
// locally; a DynamoDB implementation satisfies the same port in the cloud and
// passes the same suite (store/storetest).
//
// Every write is conditional on the version the writer read, so concurrent
// handlers and redelivered Lambda events cannot overwrite each other: the
// loser sees ErrConditionFailed, reads again and re-decides.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MaxTransactItems is the most items one Transact call may touch, as in
// DynamoDB's TransactWriteItems.
const MaxTransactItems = 100

// ErrNotFound reports that no item has the key asked for.
var ErrNotFound = errors.New("item not found")

// ErrConditionFailed reports that a write's version condition did not hold;
// nothing in the transaction was written.
var ErrConditionFailed = errors.New("condition failed")

// Item is one stored record.
type Item struct {
	PK      string
	SK      string
	Version int64 // 1 on first write, one more on every write after it
	Body    json.RawMessage
}

// Expected versions for a Write. Any positive number means "exactly this one".
const (
	// Absent: the item must not exist.
	Absent int64 = 0
	// AnyVersion: no condition.
	AnyVersion int64 = -1
)

// Op is what a Write does.
type Op int

const (
	// Put creates or replaces the item.
	Put Op = iota
	// Delete removes the item (deleting a missing item is not an error when
	// the condition allows it).
	Delete
	// Check writes nothing; it only makes the transaction depend on the item's
	// version.
	Check
)

// Write is one element of a transaction.
type Write struct {
	Op     Op
	PK, SK string
	Body   json.RawMessage // Put only
	Expect int64           // Absent, AnyVersion or an exact version

	// change is the status change the write makes to an execution record,
	// set by the record's *Write builder; the Store adds it to the event
	// outbox in the same transaction. Backends ignore it.
	change *Change
	// index is a write of an index item the store keeps with the record
	// (see LatestRun), added to the same transaction. Backends ignore it.
	index *indexWrite
}

// indexWrite is the write of an index item; of two writes of one item in a
// transaction, the one with the later time is kept.
type indexWrite struct {
	Write
	at time.Time
}

// QueryOptions narrows a Query.
type QueryOptions struct {
	Descending bool
	Limit      int    // 0: no limit
	After      string // exclusive start sort key, for paging
}

// Backend is the port to the item store.
type Backend interface {
	// Get returns the item, or ErrNotFound.
	Get(ctx context.Context, pk, sk string) (Item, error)
	// Query returns the items of partition pk whose sort key starts with
	// prefix, in sort-key order.
	Query(ctx context.Context, pk, prefix string, opts QueryOptions) ([]Item, error)
	// Transact applies every write or none. A failed condition returns an
	// error wrapping ErrConditionFailed (a *ConditionError naming the item).
	// At most MaxTransactItems writes, each key at most once.
	Transact(ctx context.Context, writes ...Write) error
}

// ConditionError names the write whose condition failed.
type ConditionError struct {
	Index  int
	PK, SK string
	Want   int64
	Got    int64 // 0 when the item was absent
}

func (e *ConditionError) Error() string {
	return fmt.Sprintf("write %d (%s/%s): %v: want version %d, have %d", e.Index, e.PK, e.SK, ErrConditionFailed, e.Want, e.Got)
}

// Unwrap makes errors.Is(err, ErrConditionFailed) true.
func (e *ConditionError) Unwrap() error { return ErrConditionFailed }

// CheckWrites validates a transaction's shape: size, ops and duplicate keys.
// Backends call it before touching anything.
func CheckWrites(writes []Write) error {
	if len(writes) == 0 {
		return errors.New("transaction: no writes")
	}
	if len(writes) > MaxTransactItems {
		return fmt.Errorf("transaction: %d writes, at most %d", len(writes), MaxTransactItems)
	}
	seen := make(map[[2]string]int, len(writes))
	for i, w := range writes {
		if w.PK == "" || w.SK == "" {
			return fmt.Errorf("transaction: write %d: empty key", i)
		}
		if w.Op < Put || w.Op > Check {
			return fmt.Errorf("transaction: write %d: unknown op %d", i, w.Op)
		}
		if w.Op == Put && !json.Valid(w.Body) {
			return fmt.Errorf("transaction: write %d (%s/%s): body is not JSON", i, w.PK, w.SK)
		}
		if w.Expect < AnyVersion {
			return fmt.Errorf("transaction: write %d (%s/%s): bad expected version %d", i, w.PK, w.SK, w.Expect)
		}
		k := [2]string{w.PK, w.SK}
		if j, dup := seen[k]; dup {
			return fmt.Errorf("transaction: writes %d and %d both touch %s/%s", j, i, w.PK, w.SK)
		}
		seen[k] = i
	}
	return nil
}

// Holds reports whether an item at version have (0: absent) satisfies the
// expected version want.
func Holds(want, have int64) bool {
	return want == AnyVersion || want == have
}
