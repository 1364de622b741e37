package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/local"
	"github.com/sluice-ci/sluice/internal/runtime"
	"github.com/sluice-ci/sluice/internal/store"
)

// approvalService is where approve and reject find the approval that waits
// and record the decision. The local one works on a data folder's state
// store beside the process that runs the execution; a client of a Sluice
// server's CodePipeline API (GetPipelineState's approval tokens,
// PutApprovalResult) fits the same two methods.
type approvalService interface {
	// Pending lists the pipeline's approvals that wait for a decision.
	Pending(ctx context.Context, pipeline string) ([]local.PendingApproval, error)
	// Decide records the decision; applied says whether it has reached the
	// waiting execution already.
	Decide(ctx context.Context, in runtime.ApprovalInput) (applied bool, err error)
	Close() error
}

// localApprovals decides approvals through a data folder.
type localApprovals struct {
	a    *local.Approvals
	wait time.Duration
}

func (l localApprovals) Pending(ctx context.Context, p string) ([]local.PendingApproval, error) {
	return l.a.Pending(ctx, p)
}

func (l localApprovals) Decide(ctx context.Context, in runtime.ApprovalInput) (bool, error) {
	return l.a.Decide(ctx, in, l.wait)
}

func (l localApprovals) Close() error { return l.a.Close() }

type decisionFlags struct {
	dataDir, stage, action, execution, summary string
	wait                                       time.Duration
}

func (f *decisionFlags) open(ctx context.Context) (approvalService, error) {
	a, err := local.OpenApprovals(ctx, f.dataDir)
	if err != nil {
		return nil, err
	}
	return localApprovals{a: a, wait: f.wait}, nil
}

// newDecisionCmd builds approve (status Approved) or reject (Rejected).
func newDecisionCmd(verb, status string) *cobra.Command {
	var f decisionFlags
	cmd := &cobra.Command{
		Use:   verb + " PIPELINE",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a manual approval that a local run waits for",
		Long: `The ` + verb + ` command decides the manual approval that an execution of PIPELINE
waits for, in the data folder of 'sluice run'. It finds the approval's token
itself; when several approvals wait, --stage, --action and --execution-id
choose one. The decision is recorded in the data folder's state store, and the
'sluice run' process that runs the execution applies it at once (a decision
recorded while no run is going is applied when the next one starts).

Exit status: 0 when the decision is recorded, 1 when no single approval
matches or the approval cannot be decided (already decided, expired), 2 for
bad flags.`,
		Example: `  sluice ` + verb + ` demo --summary "Checked the staging site"
  sluice ` + verb + ` demo --data-dir /tmp/ci --stage Approval --action Approve`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return decide(cmd.Context(), cmd.OutOrStdout(), args[0], status, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data-dir", defaultDataDir, "the data folder of local runs")
	fl.StringVar(&f.stage, "stage", "", "the stage of the approval action")
	fl.StringVar(&f.action, "action", "", "the approval action")
	fl.StringVar(&f.execution, "execution-id", "", "the pipeline execution that waits")
	fl.StringVar(&f.summary, "summary", "", "a comment recorded with the decision (at most 512 characters)")
	fl.DurationVar(&f.wait, "wait", 5*time.Second, "how long to wait for the running execution to take the decision")
	return cmd
}

func init() {
	rootCmd.AddCommand(newDecisionCmd("approve", store.ApprovalApproved))
	rootCmd.AddCommand(newDecisionCmd("reject", store.ApprovalRejected))
}

func decide(ctx context.Context, w io.Writer, pipelineName, status string, f *decisionFlags) error {
	if f.wait < 0 {
		return &exitError{code: 2, err: fmt.Errorf("--wait %s: want a duration of 0 or more", f.wait)}
	}
	svc, err := f.open(ctx)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	defer svc.Close()
	pending, err := svc.Pending(ctx, pipelineName)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	var match []local.PendingApproval
	for _, p := range pending {
		if (f.stage == "" || p.Stage == f.stage) && (f.action == "" || p.Action == f.action) &&
			(f.execution == "" || p.ExecutionID == f.execution) {
			match = append(match, p)
		}
	}
	switch len(match) {
	case 0:
		return &exitError{code: 1, err: fmt.Errorf("no approval of pipeline %s%s waits for a decision in %s", pipelineName, f.where(), f.dataDir)}
	case 1:
	default:
		var lines []string
		for _, p := range match {
			lines = append(lines, fmt.Sprintf("  --stage %s --action %s --execution-id %s", p.Stage, p.Action, p.ExecutionID))
		}
		return &exitError{code: 1, err: fmt.Errorf("%d approvals of pipeline %s wait; choose one:\n%s", len(match), pipelineName, strings.Join(lines, "\n"))}
	}
	p := match[0]
	applied, err := svc.Decide(ctx, runtime.ApprovalInput{
		Pipeline: pipelineName, Stage: p.Stage, Action: p.Action, Token: p.Token,
		Status: status, Summary: f.summary, User: local.UserName(),
	})
	var rej *execution.Rejection
	if errors.As(err, &rej) {
		return &exitError{code: 1, err: fmt.Errorf("%s/%s of execution %s: %s", p.Stage, p.Action, p.ExecutionID, rej.Message)}
	}
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(w, "%s %s/%s of %s execution %s", status, p.Stage, p.Action, pipelineName, p.ExecutionID)
	if applied {
		fmt.Fprintln(w, "; the running execution took it.")
	} else {
		fmt.Fprintln(w, "; recorded: the 'sluice run' that runs the execution applies it (no run took it yet).")
	}
	return nil
}

func (f *decisionFlags) where() string {
	var parts []string
	for _, p := range [][2]string{{"stage", f.stage}, {"action", f.action}, {"execution", f.execution}} {
		if p[1] != "" {
			parts = append(parts, p[0]+" "+p[1])
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
