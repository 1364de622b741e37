// Package history owns the durable store of the embedded Step Functions
// engine: the history events of every execution and the state machines,
// in one SQLite database (modernc.org/sqlite, pure Go, in WAL mode). It
// implements states.EventLog.
//
// Appends from every execution, and the heartbeats of tasks, go through
// one writer that commits them in batches (group commit): an Append or a
// Beat returns once the transaction holding it has committed, so many
// concurrent executions share each commit.
package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/sluice-ci/sluice/internal/states"
)

// FileName is the database file inside the data folder.
const FileName = "states.db"

// Options tune a Store.
type Options struct {
	// Synchronous is SQLite's synchronous setting. NORMAL (the default)
	// keeps every committed event across a crash or kill of the process;
	// FULL also across a power loss, at the price of an fsync per commit.
	Synchronous string
	// MaxBatch caps the events of one commit; 4096 by default.
	MaxBatch int
}

// Store is a states.EventLog on SQLite.
type Store struct {
	db       *sql.DB
	maxBatch int
	// beating holds the executions with recorded heartbeats, whose rows
	// go when they close; only the writer uses it.
	beating  map[string]bool
	reqs     chan *appendReq
	done     chan struct{}
	closeMu  sync.RWMutex
	closed   bool
	writerWG sync.WaitGroup
}

// appendReq is a write for the writer: events, or one heartbeat.
type appendReq struct {
	events []*states.Event
	beat   *heartbeat
	err    chan error
}

// heartbeat is the latest heartbeat of a task token.
type heartbeat struct {
	execution, token string
	at               time.Time
}

// size is what a request counts towards MaxBatch.
func (r *appendReq) size() int { return len(r.events) + 1 }

const schema = `
CREATE TABLE IF NOT EXISTS events (
	execution TEXT NOT NULL,
	id        INTEGER NOT NULL,
	data      BLOB NOT NULL,
	PRIMARY KEY (execution, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS executions (
	arn      TEXT PRIMARY KEY,
	seq      INTEGER NOT NULL,
	started  BLOB NOT NULL,
	status   BLOB,
	redriven BLOB
);
CREATE TABLE IF NOT EXISTS heartbeats (
	execution TEXT NOT NULL,
	token     TEXT NOT NULL,
	at        INTEGER NOT NULL,
	PRIMARY KEY (execution, token)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS machines (
	arn  TEXT PRIMARY KEY,
	seq  INTEGER NOT NULL,
	data BLOB NOT NULL
);
`

// Open opens (creating when needed) the store in the data folder dir.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	if opts.Synchronous == "" {
		opts.Synchronous = "NORMAL"
	}
	if opts.Synchronous != "NORMAL" && opts.Synchronous != "FULL" {
		return nil, fmt.Errorf("open history: synchronous must be NORMAL or FULL, not %q", opts.Synchronous)
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 4096
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+opts.Synchronous+")")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	db.SetMaxOpenConns(4)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create history schema: %w", err)
	}
	if err := migrate(db); err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{db: db, maxBatch: opts.MaxBatch, reqs: make(chan *appendReq, 1024), done: make(chan struct{})}
	if s.beating, err = beatingExecutions(db); err != nil {
		db.Close()
		return nil, err
	}
	s.writerWG.Add(1)
	go s.writer()
	return s, nil
}

// beatingExecutions returns the executions that have heartbeats recorded.
func beatingExecutions(db *sql.DB) (map[string]bool, error) {
	rows, err := db.Query(`SELECT DISTINCT execution FROM heartbeats`)
	if err != nil {
		return nil, fmt.Errorf("query heartbeats: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var x string
		if err := rows.Scan(&x); err != nil {
			return nil, fmt.Errorf("read heartbeats: %w", err)
		}
		out[x] = true
	}
	return out, rows.Err()
}

// migrate brings a database created by an earlier version up to the
// schema: executions gained the redriven column (NULL for the executions
// recorded before it, whose redrives the history still holds).
func migrate(db *sql.DB) error {
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM pragma_table_info('executions') WHERE name = 'redriven'`).Scan(&n); err != nil {
		return fmt.Errorf("read history schema: %w", err)
	}
	if n == 0 {
		if _, err := db.Exec(`ALTER TABLE executions ADD COLUMN redriven BLOB`); err != nil {
			return fmt.Errorf("migrate history schema: %w", err)
		}
	}
	return nil
}

var errClosed = errors.New("history store closed")

// Append stores events durably; it returns once their transaction
// committed.
func (s *Store) Append(events []*states.Event) error {
	if len(events) == 0 {
		return nil
	}
	return s.write(&appendReq{events: events})
}

// Beat records the latest heartbeat of a task token durably; an earlier
// time than the one recorded changes nothing.
func (s *Store) Beat(execution, token string, at time.Time) error {
	return s.write(&appendReq{beat: &heartbeat{execution: execution, token: token, at: at}})
}

// write hands a request to the writer and waits for its commit.
func (s *Store) write(req *appendReq) error {
	req.err = make(chan error, 1)
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return errClosed
	}
	s.reqs <- req
	s.closeMu.RUnlock()
	return <-req.err
}

// Beats returns the latest heartbeat of each task token of an execution.
func (s *Store) Beats(execution string) (map[string]time.Time, error) {
	rows, err := s.db.Query(`SELECT token, at FROM heartbeats WHERE execution = ?`, execution)
	if err != nil {
		return nil, fmt.Errorf("query heartbeats: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var token string
		var at int64
		if err := rows.Scan(&token, &at); err != nil {
			return nil, fmt.Errorf("read heartbeats: %w", err)
		}
		out[token] = time.Unix(0, at).UTC()
	}
	return out, rows.Err()
}

// writer commits queued appends, as many as are waiting, in one
// transaction at a time.
func (s *Store) writer() {
	defer s.writerWG.Done()
	for {
		var batch []*appendReq
		select {
		case req := <-s.reqs:
			batch = append(batch, req)
		case <-s.done:
			for {
				select {
				case req := <-s.reqs:
					req.err <- s.commit([]*appendReq{req})
				default:
					return
				}
			}
		}
		n := batch[0].size()
	drain:
		for n < s.maxBatch {
			select {
			case req := <-s.reqs:
				batch = append(batch, req)
				n += req.size()
			default:
				break drain
			}
		}
		err := s.commit(batch)
		for _, req := range batch {
			req.err <- err
		}
	}
}

func (s *Store) commit(batch []*appendReq) error {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin history transaction: %w", err)
	}
	defer tx.Rollback()
	insert, err := tx.PrepareContext(ctx, `INSERT INTO events (execution, id, data) VALUES (?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare event insert: %w", err)
	}
	defer insert.Close()
	var unbeaten []string // executions whose heartbeats the transaction deletes
	for _, req := range batch {
		if b := req.beat; b != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO heartbeats (execution, token, at) VALUES (?, ?, ?)
				ON CONFLICT (execution, token) DO UPDATE SET at = excluded.at WHERE excluded.at > at`,
				b.execution, b.token, b.at.UnixNano()); err != nil {
				return fmt.Errorf("record heartbeat of %s: %w", b.execution, err)
			}
			// Marked before the commit: should it fail, a close only
			// deletes rows that are not there.
			s.beating[b.execution] = true
		}
		for _, e := range req.events {
			data := e.Encode()
			if _, err := insert.ExecContext(ctx, e.Execution, e.ID, data); err != nil {
				return fmt.Errorf("insert event %d of %s: %w", e.ID, e.Execution, err)
			}
			switch {
			case e.Type == states.ExecutionStarted:
				_, err = tx.ExecContext(ctx, `INSERT INTO executions (arn, seq, started) VALUES (?, (SELECT COUNT(*) FROM executions), ?)`,
					e.Execution, data)
			case e.Type == states.ExecutionRedriven:
				_, err = tx.ExecContext(ctx, `UPDATE executions SET status = ?, redriven = ? WHERE arn = ?`, data, data, e.Execution)
			case states.IsTerminal(e.Type):
				if _, err = tx.ExecContext(ctx, `UPDATE executions SET status = ? WHERE arn = ?`, data, e.Execution); err == nil && s.beating[e.Execution] {
					_, err = tx.ExecContext(ctx, `DELETE FROM heartbeats WHERE execution = ?`, e.Execution)
					unbeaten = append(unbeaten, e.Execution)
				}
			}
			if err != nil {
				return fmt.Errorf("record execution %s: %w", e.Execution, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit history: %w", err)
	}
	for _, x := range unbeaten {
		delete(s.beating, x)
	}
	return nil
}

// History returns events of an execution in id order (newest first with
// q.Reverse); the query reads only the rows it returns.
func (s *Store) History(execution string, q states.HistoryQuery) ([]*states.Event, error) {
	query := `SELECT data FROM events WHERE execution = ? AND id > ? ORDER BY id`
	after := q.After
	if q.Reverse {
		query = `SELECT data FROM events WHERE execution = ? AND id < ? ORDER BY id DESC`
		if after <= 0 {
			after = math.MaxInt64
		}
	}
	limit := int64(-1)
	if q.Limit > 0 {
		limit = int64(q.Limit)
	}
	rows, err := s.db.Query(query+` LIMIT ?`, execution, after, limit)
	if err != nil {
		return nil, fmt.Errorf("query history: %w", err)
	}
	defer rows.Close()
	var out []*states.Event
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("read history: %w", err)
		}
		e, err := states.DecodeEvent(data)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Executions returns every execution, in the order they started.
func (s *Store) Executions() ([]states.ExecutionRecord, error) {
	rows, err := s.db.Query(`SELECT started, status, redriven FROM executions ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("query executions: %w", err)
	}
	defer rows.Close()
	var out []states.ExecutionRecord
	for rows.Next() {
		var started, status, redriven []byte
		if err := rows.Scan(&started, &status, &redriven); err != nil {
			return nil, fmt.Errorf("read executions: %w", err)
		}
		var r states.ExecutionRecord
		if r.Started, err = states.DecodeEvent(started); err != nil {
			return nil, err
		}
		for _, f := range []struct {
			data []byte
			ev   **states.Event
		}{{status, &r.Status}, {redriven, &r.Redriven}} {
			if f.data == nil {
				continue
			}
			if *f.ev, err = states.DecodeEvent(f.data); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// machineRow is the stored form of a state machine record.
type machineRow struct {
	Arn        string    `json:"arn"`
	Name       string    `json:"name"`
	Definition string    `json:"definition"`
	RoleArn    string    `json:"roleArn,omitempty"`
	Type       string    `json:"type"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
	Deleting   bool      `json:"deleting,omitempty"`
	Deleted    bool      `json:"deleted,omitempty"`
}

// SaveMachine creates or replaces a state machine record.
func (s *Store) SaveMachine(m states.MachineRecord) error {
	data, err := json.Marshal(machineRow(m))
	if err != nil {
		return fmt.Errorf("encode state machine: %w", err)
	}
	_, err = s.db.Exec(`INSERT INTO machines (arn, seq, data) VALUES (?, (SELECT COUNT(*) FROM machines), ?)
		ON CONFLICT (arn) DO UPDATE SET data = excluded.data`, m.Arn, data)
	if err != nil {
		return fmt.Errorf("save state machine %s: %w", m.Arn, err)
	}
	return nil
}

// Machines returns every state machine record in the order they were
// created.
func (s *Store) Machines() ([]states.MachineRecord, error) {
	rows, err := s.db.Query(`SELECT data FROM machines ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("query state machines: %w", err)
	}
	defer rows.Close()
	var out []states.MachineRecord
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("read state machines: %w", err)
		}
		var m machineRow
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("decode state machine: %w", err)
		}
		out = append(out, states.MachineRecord(m))
	}
	return out, rows.Err()
}

// Close stops the writer once the appends already queued are committed,
// and closes the database.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	s.closeMu.Unlock()
	close(s.done)
	s.writerWG.Wait()
	return s.db.Close()
}
