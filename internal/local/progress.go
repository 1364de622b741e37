package local

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
)

// progress prints an execution's progress a line per change, from snapshots
// of its records: stages and actions as they start and end, with their
// durations, revisions and errors. Lines come in the order the records say
// things happened, whatever the order they were noticed in.
type progress struct {
	out     io.Writer
	decl    *pipeline.Declaration
	width   int
	logPath func(stage, action string) string
	printed map[string]bool // events printed, by key
	loc     *time.Location  // of the times shown
	now     func() time.Time
}

func newProgress(out io.Writer, d *pipeline.Declaration, logPath func(stage, action string) string) *progress {
	p := &progress{out: out, decl: d, logPath: logPath, printed: map[string]bool{}, loc: time.Local, now: time.Now}
	for _, st := range d.Stages {
		p.width = max(p.width, len(st.Name))
		for _, a := range st.Actions {
			p.width = max(p.width, len(a.Name)+2)
		}
	}
	return p
}

// event is one line to print.
type event struct {
	at    time.Time
	order int // at equal times: stage starts, then actions, then stage ends
	key   string
	lines []string
}

// update prints what changed since the last snapshot.
func (p *progress) update(stages []store.StageExecution, actions []store.ActionExecution) {
	var evs []event
	for _, se := range stages {
		k := fmt.Sprintf("stage %s #%d", se.StageName, se.Attempt)
		start := "started"
		if se.Attempt > 1 {
			start = fmt.Sprintf("started again (retry %d, %s)", se.Attempt-1, se.RetryMode)
		}
		evs = append(evs, event{at: se.StartTime, order: 0, key: k + " start", lines: []string{p.line(se.StartTime, se.StageName, start)}})
		if se.Status != store.StageInProgress {
			text := fmt.Sprintf("%s in %s", se.Status, duration(se.LastUpdateTime.Sub(se.StartTime)))
			evs = append(evs, event{at: se.LastUpdateTime, order: 2, key: k + " end", lines: []string{p.line(se.LastUpdateTime, se.StageName, text)}})
		}
	}
	for _, a := range actions {
		k := fmt.Sprintf("action %s/%s #%d", a.StageName, a.ActionName, a.Attempt)
		name := "  " + a.ActionName
		start := "started"
		if a.Input.ActionTypeID.Category == string(pipeline.CategoryApproval) {
			start = "waiting for approval"
		}
		evs = append(evs, event{at: a.StartTime, order: 1, key: k + " start", lines: []string{p.line(a.StartTime, name, start)}})
		if a.Status != store.ActionInProgress {
			evs = append(evs, event{at: a.LastUpdateTime, order: 1, key: k + " end", lines: p.ended(a, name)})
		}
	}
	sort.SliceStable(evs, func(i, j int) bool {
		if !evs[i].at.Equal(evs[j].at) {
			return evs[i].at.Before(evs[j].at)
		}
		return evs[i].order < evs[j].order
	})
	for _, ev := range evs {
		if p.printed[ev.key] {
			continue
		}
		p.printed[ev.key] = true
		for _, l := range ev.lines {
			fmt.Fprintln(p.out, l)
		}
	}
}

// waiting prints, once per stage and reason, why the execution waits to
// enter a stage.
func (p *progress) waiting(stage, reason string) {
	k := "waiting " + stage + " " + reason
	if p.printed[k] {
		return
	}
	p.printed[k] = true
	fmt.Fprintln(p.out, p.line(p.now(), stage, "waiting to enter: "+reason))
}

func (p *progress) line(at time.Time, name, text string) string {
	return fmt.Sprintf("%s  %-*s  %s", at.In(p.loc).Format("15:04:05"), p.width, name, text)
}

// ended describes an action attempt that ended: status, duration, and the
// revision, summary or error that matters.
func (p *progress) ended(a store.ActionExecution, name string) []string {
	text := fmt.Sprintf("%s in %s", a.Status, duration(a.LastUpdateTime.Sub(a.StartTime)))
	r := a.Output.ExecutionResult
	switch {
	case a.Revision != nil:
		text += "  revision " + short(a.Revision.RevisionID)
		if s := firstLine(a.Revision.RevisionSummary); s != "" {
			text += ": " + s
		}
	case r.ExternalExecutionSummary != "":
		text += "  " + firstLine(r.ExternalExecutionSummary)
	}
	if a.UpdatedBy != "" {
		text += " (by " + a.UpdatedBy + ")"
	}
	lines := []string{p.line(a.LastUpdateTime, name, text)}
	indent := strings.Repeat(" ", 12+p.width)
	if e := r.ErrorDetails; e != nil && a.Status != store.ActionSucceeded {
		msg := strings.Split(strings.TrimRight(e.Message, "\n"), "\n")
		lines = append(lines, indent+e.Code+": "+msg[0])
		for _, m := range msg[1:] {
			lines = append(lines, indent+"  "+m)
		}
	}
	if a.Status == store.ActionFailed && p.logPath != nil {
		if path := p.logPath(a.StageName, a.ActionName); fileExists(path) {
			lines = append(lines, indent+"log: "+path)
		}
	}
	return lines
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// duration rounds a duration for reading: tenths of seconds, whole
// milliseconds under a second.
func duration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
