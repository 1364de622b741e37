package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/runtime"
	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/store"
)

// RunInput is one local run of a pipeline.
type RunInput struct {
	// Pipeline is deployed (Deploy) before the run; validate it first.
	Pipeline        *pipeline.Declaration
	Variables       map[string]string
	SourceRevisions []store.SourceRevisionOverride
	// Progress receives the progress display; nil shows nothing.
	Progress io.Writer
	// Verbose copies the execution's action logs (build output) to
	// Progress as they are written.
	Verbose bool
	// Approver decides the approvals of the pipeline's executions; nil
	// leaves them to other processes.
	Approver Approver
	// Poll is how often the store is read for progress and for decisions
	// recorded by other processes (100 ms when zero).
	Poll time.Duration
}

// Outcome is how a run ended.
type Outcome struct {
	PipelineName        string
	PipelineVersion     int
	PipelineExecutionID string
	// Status is the pipeline execution's status (Succeeded, Failed,
	// Stopped, Superseded).
	Status string
	// Interrupted is true when the run was interrupted (its context ended)
	// and the execution abandoned.
	Interrupted bool
	Duration    time.Duration
}

// interruptReason is the stop reason of an execution whose run was
// interrupted.
const interruptReason = "sluice run was interrupted"

// Run deploys the pipeline, starts an execution, shows its progress, handles
// approvals and returns once the execution has ended. When the data folder
// has Lambda functions (lambda/), it serves them the CodePipeline API to
// report their jobs to, on a loopback port, until Close. When ctx ends first,
// the execution is stopped by abandoning it (its stage locks are released)
// and Run returns with Interrupted set.
func (l *Local) Run(ctx context.Context, in RunInput) (*Outcome, error) {
	d := in.Pipeline
	version, err := l.Deploy(ctx, d)
	if err != nil {
		return nil, err
	}
	if err := l.serveFunctions(); err != nil {
		return nil, err
	}
	poll := in.Poll
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	out := in.Progress
	if out == nil {
		out = io.Discard
	}
	out = &syncWriter{w: out}
	others, err := l.running(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range others {
		if o.pipeline == d.Name {
			fmt.Fprintf(out, "%s: execution %s, left open by an earlier run, goes on\n", d.Name, o.id)
		}
	}

	id := uuid.NewString()
	if in.Verbose {
		l.setMirror(id, out)
		defer l.setMirror(id, nil)
	}
	started := time.Now()
	_, err = l.Runtime.StartPipelineExecution(ctx, runtime.StartInput{
		Pipeline: d.Name, ExecutionID: id, Variables: in.Variables, SourceRevisions: in.SourceRevisions,
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "%s: execution %s started (pipeline version %d, %s mode)\n", d.Name, id, version, d.EffectiveExecutionMode())

	arn := runtime.Embedded{Engine: l.Engine}.ExecutionArn(d.Name, id)
	ended := make(chan struct{})
	waitCtx, stopWaiting := context.WithCancel(context.Background())
	defer stopWaiting()
	go func() {
		l.Engine.WaitExecution(waitCtx, arn)
		close(ended)
	}()

	logDir := filepath.Join(l.DataDir, "logs")
	w := &watch{
		l: l, decl: d, id: id, out: out,
		progress: newProgress(out, d, func(s, a string) string { return runtime.LogPath(logDir, d.Name, id, s, a) }),
		desk:     newDesk(l, d.Name, in.Approver, out),
		others:   others,
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	defer w.desk.stop()
	interrupted := false
loop:
	for {
		select {
		case <-ended:
			break loop
		case <-tick.C:
			if err := w.refresh(context.WithoutCancel(ctx)); err != nil {
				return nil, err
			}
		case ans := <-w.desk.answers:
			w.desk.decided(context.WithoutCancel(ctx), ans)
		case <-ctx.Done():
			if interrupted {
				continue
			}
			interrupted = true
			if err := l.abandon(d.Name, id); err != nil {
				return nil, err
			}
		}
	}
	final := context.WithoutCancel(ctx)
	if err := w.refresh(final); err != nil {
		return nil, err
	}
	e, err := l.Runtime.Store.GetPipelineExecution(final, d.Name, id)
	if err != nil {
		return nil, fmt.Errorf("read pipeline execution: %w", err)
	}
	if e, err = l.settled(final, e, arn, out); err != nil {
		return nil, err
	}
	// The execution's last events are in the events file when Run returns.
	if _, err := l.outbox.Drain(final); err != nil {
		fmt.Fprintf(out, "%s: publish events: %v\n", d.Name, err)
	}
	o := &Outcome{
		PipelineName: d.Name, PipelineVersion: version, PipelineExecutionID: id,
		Status: e.Value.Status, Interrupted: interrupted, Duration: time.Since(started),
	}
	summary := ""
	if e.Value.StatusSummary != "" {
		summary = " (" + e.Value.StatusSummary + ")"
	}
	fmt.Fprintf(out, "%s: execution %s %s in %s%s\n", d.Name, id, o.Status, duration(o.Duration), summary)
	return o, nil
}

// settled returns the execution once settled. When its state machine
// execution ended outside the gates (the engine's history limit, a runtime
// error, a StopExecution of its own), the execution is settled as the
// engine's watcher settles it (Runtime.ExecutionEnded), so that its stages
// do not stay locked, and the run says why.
func (l *Local) settled(ctx context.Context, e store.Versioned[store.PipelineExecution], arn string, out io.Writer) (store.Versioned[store.PipelineExecution], error) {
	desc, err := l.Engine.DescribeExecution(ctx, arn)
	if err != nil {
		return e, fmt.Errorf("describe the state machine execution: %w", err)
	}
	if desc.Status == states.StatusSucceeded || desc.Status == states.StatusRunning {
		return e, nil
	}
	v := e.Value
	cause := runtime.EndedCause(desc)
	if st := v.Status; st == store.ExecutionInProgress || st == store.ExecutionStopping {
		status := store.ExecutionFailed
		if desc.Status == states.StatusAborted {
			status = store.ExecutionStopped
		}
		if err := l.Runtime.ExecutionEnded(ctx, v.PipelineName, v.PipelineExecutionID, status, cause); err != nil {
			return e, fmt.Errorf("settle the ended execution: %w", err)
		}
		if e, err = l.Runtime.Store.GetPipelineExecution(ctx, v.PipelineName, v.PipelineExecutionID); err != nil {
			return e, fmt.Errorf("read pipeline execution: %w", err)
		}
	}
	if e.Value.StatusSummary == cause || (e.Value.StopTrigger != nil && e.Value.StopTrigger.Reason == cause) {
		fmt.Fprintf(out, "%s: %s\n", v.PipelineName, cause)
	}
	return e, nil
}

// abandon stops an interrupted run's execution at once.
func (l *Local) abandon(pipelineName, id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := l.Runtime.StopPipelineExecution(ctx, pipelineName, id, true, interruptReason)
	var rej *execution.Rejection
	if errors.As(err, &rej) && rej.Code == "PipelineExecutionNotStoppableException" {
		return nil // it ended meanwhile
	}
	if err != nil {
		return fmt.Errorf("stop the interrupted execution: %w", err)
	}
	return nil
}

// openExecution is an execution the engine runs.
type openExecution struct {
	pipeline, id string
}

// running lists the executions the engine is running: those resumed from
// an earlier process.
func (l *Local) running(ctx context.Context) ([]openExecution, error) {
	machines, err := l.Engine.ListStateMachines(ctx)
	if err != nil {
		return nil, fmt.Errorf("list state machines: %w", err)
	}
	var out []openExecution
	for _, m := range machines {
		execs, err := l.Engine.ListExecutions(ctx, states.ListExecutionsInput{StateMachineArn: m.Arn, StatusFilter: states.StatusRunning})
		if err != nil {
			return nil, fmt.Errorf("list executions: %w", err)
		}
		for _, x := range execs {
			out = append(out, openExecution{pipeline: m.Name, id: x.Name})
		}
	}
	return out, nil
}

// watch follows one run: its execution's progress, and the approvals of
// every execution the engine runs.
type watch struct {
	l        *Local
	decl     *pipeline.Declaration
	id       string
	out      io.Writer
	progress *progress
	desk     *desk
	others   []openExecution
}

func (w *watch) refresh(ctx context.Context) error {
	st := w.l.Runtime.Store
	name := w.decl.Name
	e, err := st.GetPipelineExecution(ctx, name, w.id)
	if err != nil {
		return fmt.Errorf("read pipeline execution: %w", err)
	}
	stages, err := st.ListStageExecutions(ctx, name, w.id)
	if err != nil {
		return fmt.Errorf("list stage executions: %w", err)
	}
	actions, err := st.ListActionExecutions(ctx, name, w.id)
	if err != nil {
		return err
	}
	w.progress.update(stages, actions)
	if e.Value.Status == store.ExecutionInProgress {
		if err := w.waiting(ctx, stages); err != nil {
			return err
		}
	}
	if err := w.desk.look(ctx, actions); err != nil {
		return err
	}
	for i := 0; i < len(w.others); i++ {
		o := w.others[i]
		desc, err := w.l.Engine.DescribeExecution(ctx, runtime.Embedded{Engine: w.l.Engine}.ExecutionArn(o.pipeline, o.id))
		if err != nil || desc.Status != states.StatusRunning {
			w.others = slices.Delete(w.others, i, i+1)
			i--
			continue
		}
		acts, err := st.ListActionExecutions(ctx, o.pipeline, o.id)
		if err != nil {
			return err
		}
		if err := w.desk.look(ctx, acts); err != nil {
			return err
		}
	}
	return nil
}

// waiting says why the execution waits at the entry of its next stage, if
// it does.
func (w *watch) waiting(ctx context.Context, stages []store.StageExecution) error {
	next := ""
	for _, st := range w.decl.Stages {
		i := slices.IndexFunc(stages, func(se store.StageExecution) bool { return se.StageName == st.Name })
		if i >= 0 && stages[i].Status == store.StageInProgress {
			return nil
		}
		if i < 0 || stages[i].NextAttempt > stages[i].Attempt {
			next = st.Name
			break
		}
	}
	if next == "" {
		return nil
	}
	c, err := w.l.Runtime.Store.GetStageControl(ctx, w.decl.Name, next)
	if err != nil {
		return fmt.Errorf("read stage %s: %w", next, err)
	}
	if !slices.ContainsFunc(c.Value.Waiters, func(x store.Waiter) bool { return x.PipelineExecutionID == w.id }) {
		return nil
	}
	switch in := c.Value.Inbound; {
	case in.Disabled:
		reason := "the inbound transition is disabled: " + in.DisabledReason
		if in.LastChangedBy != "" {
			reason += " (" + in.LastChangedBy + ")"
		}
		w.progress.waiting(next, reason)
	case c.Value.Holder != "":
		w.progress.waiting(next, "execution "+c.Value.Holder+" is in the stage")
	}
	return nil
}
