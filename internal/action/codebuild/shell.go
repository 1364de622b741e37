package codebuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// session runs the commands of one build as buildspec 0.2 runs them: as if
// in one shell instance, so that variables (exported or not) and the working
// folder carry from one command to the next and across phases.
//
// Each command runs in its own shell process, in its own process group, with
// the session's state restored first and saved again when it exits: the
// state is an "export -p" of every variable (commands run under "set -a", so
// plain assignments are exported too) including PWD. Shell functions,
// aliases and options do not carry over. With buildspec 0.1 (persist false)
// every command starts from the initial state, as 0.1 specifies.
type session struct {
	shell   string
	dir     string // working folder of the first command
	state   string // folder of the state and command files
	persist bool
	out     io.Writer

	n      int
	groups []int // process groups started, killed when the session ends
}

// waitDelay bounds how long a finished command's output pipe may stay open
// (held by a background process it started) before the pipe is closed.
const waitDelay = 2 * time.Second

func newSession(shell, dir, stateDir string, env []string, persist bool, out io.Writer) (*session, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, err
	}
	s := &session{shell: shell, dir: dir, state: stateDir, persist: persist, out: out}
	var b strings.Builder
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		if !identifier.MatchString(name) || name == "_" || name == "SHLVL" || name == "OLDPWD" || name == "PWD" {
			continue
		}
		fmt.Fprintf(&b, "export %s=%s\n", name, shellQuote(value))
	}
	fmt.Fprintf(&b, "export PWD=%s\n", shellQuote(dir))
	if err := os.WriteFile(s.envFile(), []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *session) envFile() string { return filepath.Join(s.state, "env") }

// shellQuote quotes a value for sh: single quotes, with each single quote
// closed, escaped and reopened.
func shellQuote(v string) string {
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// run runs one command with extra variables set on top of the state, and
// returns its exit error (an *exec.ExitError when it exited non-zero).
func (s *session) run(ctx context.Context, command string, extra map[string]string) error {
	s.n++
	script := filepath.Join(s.state, fmt.Sprintf("cmd-%d.sh", s.n))
	next := s.envFile() + ".next"
	var b strings.Builder
	b.WriteString("set -a\n")
	fmt.Fprintf(&b, ". %s\n", shellQuote(s.envFile()))
	fmt.Fprintf(&b, "cd \"$PWD\" 2>/dev/null || cd %s\n", shellQuote(s.dir))
	for _, k := range sortedKeys(extra) {
		fmt.Fprintf(&b, "%s=%s\n", k, shellQuote(extra[k]))
	}
	if s.persist {
		fmt.Fprintf(&b, "trap 'export PWD; export -p > %s' EXIT\n", shellQuote(next))
	}
	b.WriteString(command)
	b.WriteString("\n")
	if err := os.WriteFile(script, []byte(b.String()), 0o600); err != nil {
		return err
	}
	err := s.exec(ctx, script)
	if s.persist {
		if rerr := os.Rename(next, s.envFile()); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			return rerr
		}
	}
	return err
}

func (s *session) exec(ctx context.Context, script string) error {
	cmd := exec.CommandContext(ctx, s.shell, script)
	cmd.Dir = s.dir
	// The state file sets the whole environment; the shell starts with just
	// enough to find programs.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.Stdin = nil
	cmd.Stdout = s.out
	cmd.Stderr = s.out
	cmd.WaitDelay = waitDelay
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	s.groups = append(s.groups, cmd.Process.Pid)
	err := cmd.Wait()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil // exited fine; a background process kept the output open
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// values returns the current values of the named variables (unset ones are
// absent).
func (s *session) values(ctx context.Context, names []string) (map[string]string, error) {
	if len(names) == 0 {
		return map[string]string{}, nil
	}
	outFile := filepath.Join(s.state, "values")
	var b strings.Builder
	b.WriteString("set -a\n")
	fmt.Fprintf(&b, ". %s\n", shellQuote(s.envFile()))
	fmt.Fprintf(&b, "exec > %s\n", shellQuote(outFile))
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	for _, n := range sorted {
		fmt.Fprintf(&b, "if [ \"${%[1]s+set}\" = set ]; then printf '%%s=%%s\\0' %[1]s \"$%[1]s\"; fi\n", n)
	}
	script := filepath.Join(s.state, "values.sh")
	if err := os.WriteFile(script, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	if err := s.exec(ctx, script); err != nil {
		return nil, fmt.Errorf("read variables: %w", err)
	}
	raw, err := os.ReadFile(outFile)
	if err != nil {
		return nil, err
	}
	vals := map[string]string{}
	for kv := range bytes.SplitSeq(raw, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok {
			vals[k] = v
		}
	}
	return vals, nil
}

// close kills every process the session started that still runs (background
// jobs outlive their command, as in CodeBuild, until the build ends).
func (s *session) close() {
	for _, pgid := range s.groups {
		killGroup(pgid)
	}
	s.groups = nil
}
