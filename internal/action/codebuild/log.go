package codebuild

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// buildLog writes a build's log to the job's log: CodeBuild's "[Container]"
// lines with timestamps, and the commands' output as it comes, line by line,
// with every secret value replaced by "***". It keeps the last lines for the
// error details of a failed build.
type buildLog struct {
	mu      sync.Mutex
	out     io.Writer
	now     func() time.Time
	secrets []string
	partial []byte
	tail    []string
}

const (
	tailLines   = 30
	tailBytes   = 3000
	maxLinePart = 64 << 10 // a longer line is written in pieces
)

func newBuildLog(out io.Writer, now func() time.Time) *buildLog {
	return &buildLog{out: out, now: now}
}

// mask adds secret values to hide from now on. The log is masked line by
// line, so a secret of several lines (a private key) is hidden line by
// line; and the longest secrets are replaced first, so that one that holds
// a shorter one is hidden whole, not all but the shorter one's part.
func (l *buildLog) mask(values ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range values {
		for line := range strings.Lines(v) {
			line = strings.TrimRight(line, "\r\n")
			if line != "" && !slices.Contains(l.secrets, line) {
				l.secrets = append(l.secrets, line)
			}
		}
	}
	slices.SortStableFunc(l.secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
}

// Write takes command output.
func (l *buildLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			if len(l.partial) >= maxLinePart {
				l.emit(string(l.partial), false)
				l.partial = l.partial[:0]
			}
			return len(p), nil
		}
		l.emit(string(l.partial[:i]), true)
		l.partial = l.partial[i+1:]
	}
}

// flush writes a last line left without a newline.
func (l *buildLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.emit(string(l.partial), true)
		l.partial = l.partial[:0]
	}
}

// container writes one of CodeBuild's own lines.
func (l *buildLog) container(format string, args ...any) {
	l.flush()
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.now().UTC().Format("2006/01/02 15:04:05.000000")
	l.emit(fmt.Sprintf("[Container] %s %s", ts, fmt.Sprintf(format, args...)), true)
}

func (l *buildLog) emit(line string, newline bool) {
	for _, s := range l.secrets {
		line = strings.ReplaceAll(line, s, "***")
	}
	l.tail = append(l.tail, line)
	if len(l.tail) > tailLines {
		l.tail = l.tail[len(l.tail)-tailLines:]
	}
	if newline {
		line += "\n"
	}
	_, _ = io.WriteString(l.out, line)
}

// lastLines returns the end of the log, at most tailBytes long.
func (l *buildLog) lastLines() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.Join(l.tail, "\n")
	if len(s) > tailBytes {
		s = s[len(s)-tailBytes:]
	}
	return s
}
