package states_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/states"
)

// FuzzRun runs arbitrary definitions and inputs on the virtual clock: no
// panic, and every execution either is refused with an API error or ends.
func FuzzRun(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, []byte(`{"items":[1,2],"delay":5,"values":[3,9]}`))
	}
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A"}}}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, def, input []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		res, err := states.Run(ctx, states.RunOptions{Definition: def, Input: input, VirtualClock: true})
		var api *states.APIError
		switch {
		case errors.As(err, &api):
		case err != nil:
			t.Fatalf("run: %v", err)
		case res.Status == states.StatusRunning:
			t.Fatal("execution did not end")
		}
	})
}
