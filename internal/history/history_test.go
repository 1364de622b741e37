package history_test

import (
	"testing"

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
