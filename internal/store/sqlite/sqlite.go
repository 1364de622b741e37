// Package sqlite implements the store port on SQLite (modernc.org/sqlite, pure
// Go), for local runs: one file, WAL journal, schema migrations on open.
//
// Durability: journal_mode=WAL with synchronous=FULL. With NORMAL a commit in
// WAL mode survives a crash of the process but may be lost on power failure;
// the gate sends a task token only after its lock write committed, so a lost
// commit could let two executions into one stage. FULL syncs the WAL on every
// commit, which costs one fsync per write on a laptop and closes that hole.
//
// Concurrency: one connection per process, so that goroutines queue for it
// instead of sleeping in SQLite's busy handler; transactions begin IMMEDIATE
// (no upgrade deadlocks), and a busy timeout lets other processes on the same
// file (a second `sluice` approving from another terminal) wait their turn.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/sluice-ci/sluice/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// migrations are applied in order; PRAGMA user_version records how many ran.
// Append only: never edit a migration that has shipped.
var migrations = []string{
	`CREATE TABLE items (
		pk      TEXT    NOT NULL,
		sk      TEXT    NOT NULL,
		version INTEGER NOT NULL,
		body    BLOB    NOT NULL,
		PRIMARY KEY (pk, sk)
	) WITHOUT ROWID`,
}

// Backend is a store.Backend over one SQLite file.
type Backend struct {
	db *sql.DB
}

var _ store.Backend = (*Backend)(nil)

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string) (*Backend, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open state store %s: %w", path, err)
	}
	// One connection: writers queue in Go rather than sleeping in SQLite's
	// busy handler, which under contention costs far more than the writes.
	db.SetMaxOpenConns(1)
	b := &Backend{db: db}
	if err := b.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate state store %s: %w", path, err)
	}
	return b, nil
}

// Close closes the database.
func (b *Backend) Close() error { return b.db.Close() }

func (b *Backend) migrate(ctx context.Context) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var have int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&have); err != nil {
		return err
	}
	if have > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this sluice knows (%d)", have, len(migrations))
	}
	for i := have; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations))); err != nil {
		return err
	}
	return tx.Commit()
}

// Get implements store.Backend.
func (b *Backend) Get(ctx context.Context, pk, sk string) (store.Item, error) {
	it := store.Item{PK: pk, SK: sk}
	err := b.db.QueryRowContext(ctx, `SELECT version, body FROM items WHERE pk = ? AND sk = ?`, pk, sk).Scan(&it.Version, &it.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Item{}, store.ErrNotFound
	}
	if err != nil {
		return store.Item{}, fmt.Errorf("get %s/%s: %w", pk, sk, err)
	}
	return it, nil
}

// Query implements store.Backend.
func (b *Backend) Query(ctx context.Context, pk, prefix string, opts store.QueryOptions) ([]store.Item, error) {
	query := `SELECT sk, version, body FROM items WHERE pk = ? AND sk >= ?`
	args := []any{pk, prefix}
	if end, ok := prefixEnd(prefix); ok {
		query += ` AND sk < ?`
		args = append(args, end)
	}
	if opts.After != "" {
		if opts.Descending {
			query += ` AND sk < ?`
		} else {
			query += ` AND sk > ?`
		}
		args = append(args, opts.After)
	}
	if opts.Descending {
		query += ` ORDER BY sk DESC`
	} else {
		query += ` ORDER BY sk`
	}
	if opts.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, opts.Limit)
	}
	rows, err := b.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query %s/%s*: %w", pk, prefix, err)
	}
	defer rows.Close()
	var items []store.Item
	for rows.Next() {
		it := store.Item{PK: pk}
		if err := rows.Scan(&it.SK, &it.Version, &it.Body); err != nil {
			return nil, fmt.Errorf("query %s/%s*: %w", pk, prefix, err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query %s/%s*: %w", pk, prefix, err)
	}
	return items, nil
}

// prefixEnd is the smallest string greater than every string with the prefix,
// or false when there is none (empty prefix, or all 0xff bytes).
func prefixEnd(prefix string) (string, bool) {
	end := []byte(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return string(end[:i+1]), true
		}
	}
	return "", false
}

// Transact implements store.Backend.
func (b *Backend) Transact(ctx context.Context, writes ...store.Write) error {
	if err := store.CheckWrites(writes); err != nil {
		return err
	}
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()
	for i, w := range writes {
		var have int64
		err := tx.QueryRowContext(ctx, `SELECT version FROM items WHERE pk = ? AND sk = ?`, w.PK, w.SK).Scan(&have)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read %s/%s: %w", w.PK, w.SK, err)
		}
		if !store.Holds(w.Expect, have) {
			return &store.ConditionError{Index: i, PK: w.PK, SK: w.SK, Want: w.Expect, Got: have}
		}
		switch w.Op {
		case store.Put:
			_, err = tx.ExecContext(ctx, `INSERT INTO items (pk, sk, version, body) VALUES (?, ?, ?, ?)
				ON CONFLICT (pk, sk) DO UPDATE SET version = excluded.version, body = excluded.body`,
				w.PK, w.SK, have+1, []byte(w.Body))
		case store.Delete:
			_, err = tx.ExecContext(ctx, `DELETE FROM items WHERE pk = ? AND sk = ?`, w.PK, w.SK)
		}
		if err != nil {
			return fmt.Errorf("write %s/%s: %w", w.PK, w.SK, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}
