package history_test

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/history"
	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/states/logtest"
)

func TestStore(t *testing.T) {
	logtest.Run(t, func(t *testing.T, dir string) states.EventLog {
		s, err := history.Open(dir, history.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, true)
}

func TestOpenRejectsBadSynchronous(t *testing.T) {
	if _, err := history.Open(t.TempDir(), history.Options{Synchronous: "OFF"}); err == nil {
		t.Fatal("Open accepted synchronous OFF")
	}
}

// TestOpenMigratesTheSchema opens a database created before executions
// had their redriven column.
func TestOpenMigratesTheSchema(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, history.FileName))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`CREATE TABLE executions (arn TEXT PRIMARY KEY, seq INTEGER NOT NULL, started BLOB NOT NULL, status BLOB)`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := history.Open(dir, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	count := 1
	events := []*states.Event{
		{Execution: "x", ID: 1, Type: states.ExecutionStarted, Time: time.Unix(1, 0).UTC()},
		{Execution: "x", ID: 2, Type: states.ExecutionRedriven, Time: time.Unix(2, 0).UTC(), Detail: states.Detail{RedriveCount: &count}},
	}
	if err := s.Append(events); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Executions()
	if err != nil || len(recs) != 1 || recs[0].Redriven == nil || recs[0].Redriven.ID != 2 {
		t.Fatalf("executions %+v, %v", recs, err)
	}
}
