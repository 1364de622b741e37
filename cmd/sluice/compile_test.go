package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCompileOut checks what compile --out leaves in its folder: the
// definitions it writes, and the others removed only when it read whole
// folders of pipelines.
func TestCompileOut(t *testing.T) {
	const pipelines = "../../pipelines"
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"a folder removes stale definitions", []string{pipelines},
			[]string{"cross-account.asl.json", "demo.asl.json", "every-action.asl.json"}},
		{"a file leaves the others", []string{pipelines + "/demo.yaml"},
			[]string{"cross-account.asl.json", "demo.asl.json", "gone.asl.json"}},
		{"--pipeline leaves the others", []string{"--pipeline", "demo", pipelines},
			[]string{"cross-account.asl.json", "demo.asl.json", "gone.asl.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			for _, name := range []string{"cross-account.asl.json", "gone.asl.json"} {
				if err := os.WriteFile(filepath.Join(out, name), []byte("{}"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if msg, code := runCommand(t, newCompileCmd(), append([]string{"--out", out}, tc.args...)...); code != 0 {
				t.Fatalf("exit status %d\n%s", code, msg)
			}
			entries, err := os.ReadDir(out)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("the folder holds %v, want %v", got, tc.want)
			}
		})
	}
}
