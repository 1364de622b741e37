package states_test

import (
	"testing"

	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/states/logtest"
)

func TestMemoryLog(t *testing.T) {
	logtest.Run(t, func(*testing.T, string) states.EventLog { return states.NewMemoryLog() }, false)
}
