package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/local"
	"github.com/sluice-ci/sluice/internal/runtime"
	"github.com/sluice-ci/sluice/internal/store"
)

// approvalService is where approve and reject find the approval that waits
// and record the decision. The local one works on a data folder's state
// store beside the process that runs the execution; the server one is a
// client of a Sluice server's CodePipeline API (GetPipelineState's approval
// tokens, PutApprovalResult).
type approvalService interface {
	// Pending lists the pipeline's approvals that wait for a decision.
	Pending(ctx context.Context, pipeline string) ([]local.PendingApproval, error)
	// Decide records the decision. A refusal (already decided, expired,
	// no such token) is an *execution.Rejection.
	Decide(ctx context.Context, in runtime.ApprovalInput) (decision, error)
	Close() error
}

// decision is a recorded decision.
type decision struct {
	// applied says whether it has reached the waiting execution already.
	applied bool
	at      time.Time
}

// localApprovals decides approvals through a data folder.
type localApprovals struct {
	a    *local.Approvals
	wait time.Duration
}

func (l localApprovals) Pending(ctx context.Context, p string) ([]local.PendingApproval, error) {
	return l.a.Pending(ctx, p)
}

func (l localApprovals) Decide(ctx context.Context, in runtime.ApprovalInput) (decision, error) {
	applied, err := l.a.Decide(ctx, in, l.wait)
	return decision{applied: applied, at: time.Now()}, err
}

func (l localApprovals) Close() error { return l.a.Close() }

type decisionFlags struct {
	remoteFlags
	stage, action, execution, summary string
	wait                              time.Duration
	// place says where approvals were looked for, for messages.
	place string
}

// open chooses where the decision goes: a server when an endpoint is
// given (by --endpoint or SLUICE_ENDPOINT), the data folder otherwise.
func (f *decisionFlags) open(cmd *cobra.Command) (approvalService, error) {
	f.bind(cmd)
	if f.endpointGiven() {
		conn, err := f.connect(cmd)
		if err != nil {
			return nil, err
		}
		f.place = "at " + conn.Endpoint
		return &serverApprovals{conn: conn}, nil
	}
	if f.output != "table" && f.output != "json" {
		return nil, usageError(fmt.Errorf("--output is table or json, not %q", f.output))
	}
	a, err := local.OpenApprovals(cmd.Context(), f.dataDir)
	if err != nil {
		return nil, &exitError{code: 1, err: fmt.Errorf("%w (for an approval that a Sluice server waits for, give its --endpoint)", err)}
	}
	f.place = "in " + f.dataDir
	return localApprovals{a: a, wait: f.wait}, nil
}

// newDecisionCmd builds approve (status Approved) or reject (Rejected).
func newDecisionCmd(verb, status string) *cobra.Command {
	var f decisionFlags
	cmd := &cobra.Command{
		Use:   verb + " PIPELINE",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a manual approval that an execution waits for",
		Long: `The ` + verb + ` command decides the manual approval that an execution of PIPELINE
waits for. It finds the approval's token itself; when several approvals
wait, --stage, --action and --execution-id choose one. --summary is recorded
with the decision.

Where the decision goes:
  - with --endpoint, or SLUICE_ENDPOINT set: to that Sluice server's API. The
    token comes from GetPipelineState and the decision goes by
    PutApprovalResult, signed as every server command signs (below).
  - otherwise: to the data folder --data-dir (default .sluice) of
    'sluice run', or of a 'sluice serve' on this machine. The decision is
    recorded in its state store, and the process that runs the execution
    applies it at once (a decision recorded while none runs is applied when
    the next one starts); --wait is how long to wait for that.

With --output json it prints PutApprovalResult's answer ({"approvedAt"}).

Exit status: 0 when the decision is recorded, 1 when no single approval
matches, the approval cannot be decided (already decided, expired), or the
server cannot be asked, 2 for bad flags.

` + signingHelp,
		Example: `  sluice ` + verb + ` demo --summary "Checked the staging site"
  sluice ` + verb + ` demo --data-dir /tmp/ci --stage Approval --action Approve
  sluice ` + verb + ` release --endpoint http://127.0.0.1:8080 --execution-id 3f2a9c1e-1b2c-4d5e-8f90-123456789abc
  SLUICE_ENDPOINT=https://sluice.example.com sluice ` + verb + ` release --profile ci --summary "Release 42"`,
		Args: exactArgs("PIPELINE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return decide(cmd, args[0], status, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.endpoint, "endpoint", "", "`URL` of a Sluice server's API, to decide through it; $"+endpointEnv+" when set and the flag is not given")
	f.registerSigning(fl, "data `folder`: without an endpoint, the one whose approvals are decided; with one, the local server's, whose credentials file signs the requests")
	fl.StringVar(&f.stage, "stage", "", "the stage of the approval action")
	fl.StringVar(&f.action, "action", "", "the approval action")
	fl.StringVar(&f.execution, "execution-id", "", "the pipeline execution that waits")
	fl.StringVar(&f.summary, "summary", "", "a comment recorded with the decision (at most 512 characters)")
	fl.DurationVar(&f.wait, "wait", 5*time.Second, "without an endpoint: how long to wait for the running execution to take the decision")
	return remoteCommand(cmd)
}

func init() {
	rootCmd.AddCommand(newDecisionCmd("approve", store.ApprovalApproved))
	rootCmd.AddCommand(newDecisionCmd("reject", store.ApprovalRejected))
}

func decide(cmd *cobra.Command, pipelineName, status string, f *decisionFlags) error {
	ctx, w := cmd.Context(), cmd.OutOrStdout()
	if f.wait < 0 {
		return &exitError{code: 2, err: fmt.Errorf("--wait %s: want a duration of 0 or more", f.wait)}
	}
	svc, err := f.open(cmd)
	if err != nil {
		return err
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
		return &exitError{code: 1, err: fmt.Errorf("no approval of pipeline %s%s waits for a decision %s", pipelineName, f.where(), f.place)}
	case 1:
	default:
		var lines []string
		for _, p := range match {
			lines = append(lines, fmt.Sprintf("  --stage %s --action %s --execution-id %s", p.Stage, p.Action, p.ExecutionID))
		}
		return &exitError{code: 1, err: fmt.Errorf("%d approvals of pipeline %s wait; choose one:\n%s", len(match), pipelineName, strings.Join(lines, "\n"))}
	}
	p := match[0]
	d, err := svc.Decide(ctx, runtime.ApprovalInput{
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
	if f.json() {
		return writeJSON(cmd, &codepipeline.PutApprovalResultOutput{ApprovedAt: aws.Time(d.at)})
	}
	fmt.Fprintf(w, "%s %s/%s of %s execution %s", status, p.Stage, p.Action, pipelineName, p.ExecutionID)
	if d.applied {
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
