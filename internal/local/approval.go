package local

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sluice-ci/sluice/internal/runtime"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/store/sqlite"
)

// PendingApproval is a manual approval that waits for a decision.
type PendingApproval struct {
	Pipeline           string
	ExecutionID        string
	Stage, Action      string
	Token              string // the approval token PutApprovalResult takes
	CustomData         string
	ExternalEntityLink string
	Expires            time.Time
}

func pendingOf(a store.Approval) PendingApproval {
	return PendingApproval{
		Pipeline: a.PipelineName, ExecutionID: a.PipelineExecutionID, Stage: a.StageName, Action: a.ActionName,
		Token: a.Token, CustomData: a.CustomData, ExternalEntityLink: a.ExternalEntityLink, Expires: a.Expires,
	}
}

// Decision is an approver's answer.
type Decision struct {
	Approved bool
	Summary  string
	User     string // recorded as the action's updatedBy
}

// Approver decides the manual approvals of a local run.
type Approver interface {
	// Approve is asked once for each approval of the run's pipeline that
	// waits. It returns the decision, or nil to leave the approval to
	// another process (`sluice approve`). ctx ends when the approval is
	// decided elsewhere, expires, or the run ends.
	Approve(ctx context.Context, a PendingApproval) (*Decision, error)
}

// AutoApprove approves every approval at once.
type AutoApprove struct {
	User string
}

// Approve implements Approver.
func (a AutoApprove) Approve(context.Context, PendingApproval) (*Decision, error) {
	return &Decision{Approved: true, Summary: "Approved automatically (--auto-approve).", User: a.User}, nil
}

// Elsewhere leaves every approval to another process, telling how once per
// approval.
type Elsewhere struct {
	Out io.Writer
	// Hint says how to decide the approval from another shell.
	Hint func(PendingApproval) string
}

// Approve implements Approver.
func (e Elsewhere) Approve(_ context.Context, a PendingApproval) (*Decision, error) {
	describe(e.Out, a)
	if e.Hint != nil {
		fmt.Fprintf(e.Out, "    %s\n", e.Hint(a))
	}
	return nil, nil
}

// describe prints what an approver needs to know.
func describe(w io.Writer, a PendingApproval) {
	fmt.Fprintf(w, "Approval needed: %s/%s of %s, execution %s\n", a.Stage, a.Action, a.Pipeline, a.ExecutionID)
	if a.CustomData != "" {
		fmt.Fprintf(w, "    %s\n", a.CustomData)
	}
	if a.ExternalEntityLink != "" {
		fmt.Fprintf(w, "    Review: %s\n", a.ExternalEntityLink)
	}
	if !a.Expires.IsZero() {
		fmt.Fprintf(w, "    Expires %s\n", a.Expires.Local().Format("2006-01-02 15:04 MST"))
	}
}

// Prompt asks on a terminal: approve or reject, and a comment.
type Prompt struct {
	In   io.Reader
	Out  io.Writer
	User string

	once  sync.Once
	lines chan string
}

// readLines reads the terminal for the whole run, so that a question given
// up (decided elsewhere) leaves no read pending that would eat the answer to
// the next one.
func (p *Prompt) readLines() {
	p.lines = make(chan string)
	go func() {
		sc := bufio.NewScanner(p.In)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
}

var errNoTerminal = errors.New("the terminal closed")

func (p *Prompt) ask(ctx context.Context, question string) (string, error) {
	fmt.Fprint(p.Out, question)
	select {
	case l, ok := <-p.lines:
		if !ok {
			fmt.Fprintln(p.Out)
			return "", errNoTerminal
		}
		return strings.TrimSpace(l), nil
	case <-ctx.Done():
		fmt.Fprintln(p.Out)
		return "", ctx.Err()
	}
}

// Approve implements Approver.
func (p *Prompt) Approve(ctx context.Context, a PendingApproval) (*Decision, error) {
	p.once.Do(p.readLines)
	describe(p.Out, a)
	for {
		answer, err := p.ask(ctx, "Approve? [y]es, [n]o to reject: ")
		if err != nil {
			return nil, p.gaveUp(err)
		}
		var approved bool
		switch strings.ToLower(answer) {
		case "y", "yes", "approve":
			approved = true
		case "n", "no", "reject":
		default:
			continue
		}
		comment, err := p.ask(ctx, "Comment (optional): ")
		if err != nil {
			return nil, p.gaveUp(err)
		}
		return &Decision{Approved: approved, Summary: comment, User: p.User}, nil
	}
}

// gaveUp turns a question that got no answer into "leave it to others".
func (p *Prompt) gaveUp(err error) error {
	if errors.Is(err, errNoTerminal) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// UserName is who decides approvals from this machine: the login name.
func UserName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if n := os.Getenv("USER"); n != "" {
		return n
	}
	return "local"
}

// Approvals records approval decisions from a process that does not own the
// data folder's engine (`sluice approve`): it opens the state store only.
// The process running the execution sees the decision and delivers it.
type Approvals struct {
	rt      *runtime.Runtime
	backend *sqlite.Backend
	// Poll is how often Decide looks whether the decision was delivered.
	Poll time.Duration
}

// OpenApprovals opens a data folder's state store for deciding approvals.
func OpenApprovals(ctx context.Context, dataDir string) (*Approvals, error) {
	path := filepath.Join(dataDir, StoreFile)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no pipeline has run in data folder %s: %w", dataDir, err)
	}
	b, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	return &Approvals{rt: &runtime.Runtime{Store: store.New(b), Tokens: handOver{}}, backend: b, Poll: 50 * time.Millisecond}, nil
}

// Close closes the state store.
func (a *Approvals) Close() error { return a.backend.Close() }

// Pending lists a pipeline's approvals that wait for a decision and have not
// expired, oldest first.
func (a *Approvals) Pending(ctx context.Context, pipelineName string) ([]PendingApproval, error) {
	all, err := a.rt.PendingApprovals(ctx, pipelineName, "")
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var out []PendingApproval
	for _, ap := range all {
		if ap.Expires.After(now) {
			out = append(out, pendingOf(ap))
		}
	}
	return out, nil
}

// Decide records a decision durably. The running process delivers it to
// the waiting execution; Decide waits up to wait for that and reports
// whether it happened (false: it happens when a process runs the engine).
func (a *Approvals) Decide(ctx context.Context, in runtime.ApprovalInput, wait time.Duration) (bool, error) {
	err := a.rt.PutApprovalResult(ctx, in)
	if err != nil && !errors.Is(err, errHandedOver) {
		return false, err
	}
	deadline := time.Now().Add(wait)
	for {
		ap, err := a.rt.Store.GetApproval(ctx, in.Pipeline, in.Token)
		if err != nil {
			return false, fmt.Errorf("read approval: %w", err)
		}
		if ap.Value.Delivered {
			return true, nil
		}
		if !time.Now().Before(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(a.Poll):
		}
	}
}

// errHandedOver is what handOver answers: the decision is recorded, and the
// process that owns the engine delivers it.
var errHandedOver = errors.New("delivered by the process running the execution")

// handOver stands for the engine's task tokens in a process that does not
// run the engine.
type handOver struct{}

func (handOver) SendTaskSuccess(context.Context, string, json.RawMessage) error { return errHandedOver }
func (handOver) SendTaskFailure(context.Context, string, string, string) error {
	return errHandedOver
}
func (handOver) SendTaskHeartbeat(context.Context, string) error { return errHandedOver }
