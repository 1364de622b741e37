package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/golden"
)

// runCommand runs a fresh command with args and returns what it printed,
// then the error it returned and the exit status that error stands for.
func runCommand(t *testing.T, cmd *cobra.Command, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.Execute()
	code := 0
	if err != nil {
		code = 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if ee == nil || ee.err != nil {
			fmt.Fprintf(&out, "error: %v\n", err)
		}
	}
	return out.String(), code
}

func checkDeclGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata/declarations/golden", name), []byte(got))
}

const decls = "testdata/declarations/"

// TestDeclarationCommands runs validate, fmt and plan over the fixtures and
// compares their output and exit status with golden files.
func TestDeclarationCommands(t *testing.T) {
	for _, tc := range []struct {
		golden string
		cmd    func() *cobra.Command
		args   []string
		code   int
	}{
		{"validate-valid.txt", newValidateCmd, []string{decls + "valid.yaml"}, exitValid},
		{"validate-invalid.txt", newValidateCmd, []string{decls + "invalid.json"}, exitInvalid},
		{"validate-json.txt", newValidateCmd, []string{"--output", "json", decls + "invalid.json", decls + "valid.yaml"}, exitInvalid},
		{"validate-json-valid.txt", newValidateCmd, []string{"-o", "json", decls + "valid.yaml"}, exitValid},
		{"validate-unreadable.txt", newValidateCmd, []string{decls + "broken.json", decls + "missing.yaml", decls + "invalid.json", decls + "valid.yaml"}, exitUnreadable},
		{"validate-template-no-param.txt", newValidateCmd, []string{decls + "template.yaml"}, exitInvalid},
		{"validate-template.txt", newValidateCmd, []string{decls + "template.yaml", "--param", "Bucket=release-artifacts", "--param", "AWS::StackName=web"}, exitValid},
		{"validate-bad-output.txt", newValidateCmd, []string{"--output", "xml", decls + "valid.yaml"}, exitUnreadable},
		{"fmt-json.txt", newFmtCmd, []string{decls + "unformatted.json"}, exitValid},
		{"fmt-yaml.txt", newFmtCmd, []string{decls + "valid.yaml"}, exitValid},
		{"fmt-template.txt", newFmtCmd, []string{decls + "template.yaml"}, exitUnreadable},
		{"fmt-broken.txt", newFmtCmd, []string{decls + "broken.json"}, exitUnreadable},
		{"plan-demo.txt", newPlanCmd, []string{"../../pipelines/demo.yaml"}, exitValid},
		{"plan-every-action.txt", newPlanCmd, []string{"../../pipelines/every-action.yaml"}, exitValid},
		{"plan-invalid.txt", newPlanCmd, []string{decls + "invalid.json"}, exitInvalid},
		{"plan-template.txt", newPlanCmd, []string{decls + "template.yaml", "--param", "Bucket=release-artifacts"}, exitValid},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, code := runCommand(t, tc.cmd(), tc.args...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d\n%s", code, tc.code, out)
			}
			checkDeclGolden(t, tc.golden, out)
		})
	}
}

// TestFmtWrite checks that fmt --write rewrites a file into its canonical
// form, and that the canonical form stays as it is.
func TestFmtWrite(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pipeline.json")
	data, err := os.ReadFile(decls + "unformatted.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	printed, code := runCommand(t, newFmtCmd(), decls+"unformatted.json")
	if code != exitValid {
		t.Fatalf("fmt: exit %d\n%s", code, printed)
	}
	for range 2 {
		if out, code := runCommand(t, newFmtCmd(), "--write", file); code != exitValid || out != "" {
			t.Fatalf("fmt --write: exit %d, output %q", code, out)
		}
		written, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if string(written) != printed {
			t.Fatalf("fmt --write wrote\n%s\nwant what fmt prints\n%s", written, printed)
		}
	}
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("fmt --write changed the permissions to %v", info.Mode().Perm())
	}
}

// TestDeclarationHelp checks that every command says what it does and shows
// examples.
func TestDeclarationHelp(t *testing.T) {
	for _, cmd := range []*cobra.Command{newValidateCmd(), newFmtCmd(), newPlanCmd()} {
		if cmd.Short == "" || cmd.Long == "" || !strings.Contains(cmd.Example, "sluice "+cmd.Name()) {
			t.Errorf("%s: help lacks a description or examples", cmd.Name())
		}
		if cmd.Flags().Lookup("param") == nil {
			t.Errorf("%s has no --param", cmd.Name())
		}
	}
}

// TestParamFlag checks the parsing of --param.
func TestParamFlag(t *testing.T) {
	p := params{}
	for _, s := range []string{"A=1", "AWS::Region=eu-west-1", "B=x=y", "C="} {
		if err := p.Set(s); err != nil {
			t.Errorf("Set(%q): %v", s, err)
		}
	}
	if p["B"] != "x=y" || p["C"] != "" || p["AWS::Region"] != "eu-west-1" {
		t.Errorf("params %v", p)
	}
	for _, s := range []string{"A", "=1"} {
		if err := p.Set(s); err == nil {
			t.Errorf("Set(%q) took a value without a name", s)
		}
	}
	if p.String() != "A=1,AWS::Region=eu-west-1,B=x=y,C=" {
		t.Errorf("String() = %q", p.String())
	}
}
