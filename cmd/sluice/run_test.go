package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestRefusals runs run, compile, approve and reject on what they must
// refuse, and checks the exit status and what they say. The runs that go
// through are tested end to end in package e2e.
func TestRefusals(t *testing.T) {
	data := t.TempDir()
	empty := t.TempDir()
	tests := []struct {
		name     string
		cmd      func() *cobra.Command
		args     []string
		wantCode int
		want     []string
	}{
		{"run an invalid declaration", newRunCmd, []string{decls + "invalid.json", "--data-dir", data}, 2, []string{
			"error InvalidName: 'broken release' contains ' '",
			"error InputArtifactNotProduced: no earlier action outputs 'BuildOutput'",
			"warning UnknownConfiguration",
			"testdata/declarations/invalid.json: invalid (5 errors): not run",
		}},
		{"run an unparsable file", newRunCmd, []string{decls + "broken.json", "--data-dir", data}, 2, []string{"error Unparsable"}},
		{"run a missing file", newRunCmd, []string{decls + "missing.yaml", "--data-dir", data}, 2, []string{"error Unreadable"}},
		{"run with a bad output", newRunCmd, []string{decls + "valid.yaml", "--output", "xml"}, 2, []string{`--output is text or json, not "xml"`}},
		{"run a revision of an unknown action", newRunCmd, []string{decls + "valid.yaml", "--data-dir", data, "--source-revision", "Nope=abc"}, 2,
			[]string{"--source-revision Nope: pipeline small has no source action Nope"}},
		{"run a revision of a non-source action", newRunCmd, []string{decls + "valid.yaml", "--data-dir", data, "--source-revision", "Site=abc"}, 2,
			[]string{"has no source action Site"}},
		{"run a folder into a source that is not git", newRunCmd, []string{decls + "valid.yaml", "--data-dir", data, "--source-dir", "Source=" + empty}, 2,
			[]string{"--source-dir Source: action Source (S3) does not read a git repository"}},
		{"run a missing pipeline of a file", newRunCmd, []string{decls + "valid.yaml", "--data-dir", data, "--pipeline", "other"}, 2,
			[]string{"declares no pipeline other (it has: small)"}},
		{"approve in a folder where nothing ran", func() *cobra.Command { return newDecisionCmd("approve", "Approved") },
			[]string{"small", "--data-dir", empty}, 1, []string{"no pipeline has run in data folder " + empty}},
		{"reject with a negative wait", func() *cobra.Command { return newDecisionCmd("reject", "Rejected") },
			[]string{"small", "--data-dir", empty, "--wait", "-1s"}, 2, []string{"--wait -1s"}},
		{"compile an invalid declaration", func() *cobra.Command { return rootCmd }, []string{"compile", decls + "invalid.json"}, 1, []string{
			"testdata/declarations/invalid.json: pipeline invalid has errors:",
			"stages[1].actions[1].timeoutInMinutes: OutOfRange: an approval timeout is from 5 to 86400 minutes, not 2",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := runCommand(t, tt.cmd(), tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d:\n%s", code, tt.wantCode, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not say %q:\n%s", w, out)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(data, "sluice.db")); err == nil {
		entries, _ := os.ReadDir(filepath.Join(data, "s3"))
		if len(entries) != 0 {
			t.Errorf("a refused run left objects in the data folder: %v", entries)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		".sluice":       ".sluice",
		"/tmp/ci data":  "'/tmp/ci data'",
		"it's":          `'it'\''s'`,
		"":              "''",
		"a/b-c_d.e:f@g": "a/b-c_d.e:f@g",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
