package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/runtime"
	"github.com/sluice-ci/sluice/internal/store"
)

// desk handles the approvals of the executions a run watches. It asks the
// approver about each approval of the run's pipeline that waits, one at a
// time, and applies the answer; it delivers to the engine the decisions that
// other processes recorded in the store. An approval is settled once its
// decision is delivered or it expired.
type desk struct {
	l        *Local
	pipeline string // the pipeline whose approvals are asked
	approver Approver
	out      io.Writer

	settled map[string]bool // approval tokens
	asked   map[string]bool
	current *asking
	answers chan answer
}

type asking struct {
	token  string
	cancel context.CancelFunc
}

type answer struct {
	approval PendingApproval
	decision *Decision
	err      error
}

func newDesk(l *Local, pipelineName string, approver Approver, out io.Writer) *desk {
	return &desk{
		l: l, pipeline: pipelineName, approver: approver, out: out,
		settled: map[string]bool{}, asked: map[string]bool{}, answers: make(chan answer, 1),
	}
}

// look goes through the approval actions among an execution's action
// records.
func (d *desk) look(ctx context.Context, actions []store.ActionExecution) error {
	for _, a := range actions {
		if a.Token == "" || d.settled[a.Token] {
			continue
		}
		ap, err := d.l.Runtime.Store.GetApproval(ctx, a.PipelineName, a.Token)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read approval: %w", err)
		}
		d.handle(ctx, ap.Value)
	}
	return nil
}

func (d *desk) handle(ctx context.Context, ap store.Approval) {
	switch {
	case ap.Status == store.ApprovalPending:
		if d.approver == nil || ap.PipelineName != d.pipeline || d.asked[ap.Token] || d.current != nil || !time.Now().Before(ap.Expires) {
			return
		}
		actx, cancel := context.WithCancel(ctx)
		d.current = &asking{token: ap.Token, cancel: cancel}
		p := pendingOf(ap)
		go func() {
			dec, err := d.approver.Approve(actx, p)
			d.answers <- answer{approval: p, decision: dec, err: err}
		}()
	case (ap.Status == store.ApprovalApproved || ap.Status == store.ApprovalRejected) && !ap.Delivered:
		// Decided by another process: deliver it.
		d.cancelAsking(ap.Token)
		err := d.l.Runtime.PutApprovalResult(ctx, runtime.ApprovalInput{
			Pipeline: ap.PipelineName, Stage: ap.StageName, Action: ap.ActionName, Token: ap.Token,
			Status: ap.Status, Summary: ap.Summary, User: ap.DecidedBy,
		})
		if err != nil {
			fmt.Fprintf(d.out, "deliver the decision on %s/%s: %v\n", ap.StageName, ap.ActionName, err)
			return
		}
		d.settled[ap.Token] = true
	default:
		d.cancelAsking(ap.Token)
		d.settled[ap.Token] = true
	}
}

func (d *desk) cancelAsking(token string) {
	if d.current != nil && d.current.token == token {
		d.current.cancel()
	}
}

// decided applies the approver's answer.
func (d *desk) decided(ctx context.Context, ans answer) {
	if d.current != nil {
		d.current.cancel()
	}
	d.current = nil
	a := ans.approval
	d.asked[a.Token] = true
	if ans.err != nil {
		fmt.Fprintf(d.out, "approval of %s/%s: %v\n", a.Stage, a.Action, ans.err)
		return
	}
	if ans.decision == nil {
		return
	}
	status := store.ApprovalRejected
	if ans.decision.Approved {
		status = store.ApprovalApproved
	}
	err := d.l.Runtime.PutApprovalResult(ctx, runtime.ApprovalInput{
		Pipeline: a.Pipeline, Stage: a.Stage, Action: a.Action, Token: a.Token,
		Status: status, Summary: ans.decision.Summary, User: ans.decision.User,
	})
	var rej *execution.Rejection
	switch {
	case errors.As(err, &rej):
		fmt.Fprintf(d.out, "%s/%s: not %s: %s\n", a.Stage, a.Action, status, rej.Message)
	case err != nil:
		fmt.Fprintf(d.out, "%s/%s: record the decision: %v\n", a.Stage, a.Action, err)
	}
}

// stop gives up the question being asked, if any.
func (d *desk) stop() {
	if d.current != nil {
		d.current.cancel()
	}
}
