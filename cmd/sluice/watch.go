package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/client"
)

func newWatchCmd() *cobra.Command {
	var r remoteFlags
	var id string
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "watch PIPELINE [--execution-id ID]",
		Short: "Follow an execution until it ends",
		Long: `Watch follows an execution of PIPELINE (the latest one unless --execution-id
names one) and prints each change as it happens: the execution's status,
each action execution's status with its summary, the approvals it waits for
(with the command that decides them), and the stages it waits to enter
(transition disabled, or the stage busy with another execution). It asks the
server every --interval. When the execution ends, watch ends too.

With --output json the progress goes to standard error, and standard output
gets at the end what 'sluice executions get --output json' prints.

Exit status: 0 when the execution succeeded, 1 when it ended otherwise
(failed, stopped, superseded, cancelled), when watch was interrupted, or when
the server cannot be asked, 2 for bad flags.
` + remoteHelp,
		Example: `  sluice watch release
  sluice watch release --execution-id 3f2a9c1e-1b2c-4d5e-8f90-123456789abc
  sluice start release && sluice watch release && echo released`,
		Args: exactArgs("PIPELINE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if every <= 0 {
				return usageError(fmt.Errorf("--interval %s: want a duration above 0", every))
			}
			conn, err := r.connect(cmd)
			if err != nil {
				return err
			}
			name := args[0]
			if id == "" {
				list, err := listExecutions(cmd.Context(), conn, name, 1, "")
				if err != nil {
					return failed(conn, err, client.Target{Pipeline: name})
				}
				if len(list.PipelineExecutionSummaries) == 0 {
					return &exitError{code: 1, err: fmt.Errorf("pipeline %s has no execution to watch", name)}
				}
				id = str(list.PipelineExecutionSummaries[0].PipelineExecutionId)
			}
			return watch(cmd, conn, &r, name, id, every)
		},
	}
	r.register(cmd.Flags(), serverDataDirUsage)
	cmd.Flags().StringVar(&id, "execution-id", "", "the `execution` to follow (default the latest)")
	cmd.Flags().DurationVar(&every, "interval", time.Second, "how often to ask the server")
	return remoteCommand(cmd)
}

func init() { rootCmd.AddCommand(newWatchCmd()) }

// terminal says whether an execution has ended.
func terminal(s types.PipelineExecutionStatus) bool {
	switch s {
	case types.PipelineExecutionStatusInProgress, types.PipelineExecutionStatusStopping, "":
		return false
	}
	return true
}

// watch follows an execution until it ends; it fails (exit status 1) when
// the execution did not succeed.
func watch(cmd *cobra.Command, conn *client.Conn, r *remoteFlags, name, id string, every time.Duration) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := cmd.OutOrStdout()
	if r.json() {
		w = cmd.ErrOrStderr()
	}
	p := &progress{w: w, seen: map[string]types.ActionExecutionStatus{}, said: map[string]bool{},
		approve: func(stage, action string) string {
			return fmt.Sprintf("sluice approve %s --stage %s --action %s --execution-id %s%s", name, stage, action, id, r.flagsAgain())
		}}
	target := client.Target{Pipeline: name, Execution: id}
	for {
		report, err := executionOf(ctx, conn, name, id)
		if err == nil {
			var st *codepipeline.GetPipelineStateOutput
			st, err = conn.API.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(name)})
			if err == nil {
				p.update(report, st)
			}
		}
		if ctx.Err() != nil {
			return &exitError{code: 1, err: fmt.Errorf("interrupted; execution %s goes on", id)}
		}
		if err != nil {
			return failed(conn, err, target)
		}
		if e := report.PipelineExecution; terminal(e.Status) {
			if r.json() {
				if err := writeJSON(cmd, report); err != nil {
					return err
				}
			}
			if e.Status != types.PipelineExecutionStatusSucceeded {
				return &exitError{code: 1}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return &exitError{code: 1, err: fmt.Errorf("interrupted; execution %s goes on", id)}
		case <-time.After(every):
		}
	}
}

// progress prints what changed in an execution since the last look.
type progress struct {
	w       io.Writer
	status  types.PipelineExecutionStatus
	seen    map[string]types.ActionExecutionStatus // by action execution id
	said    map[string]bool                        // waits already reported
	approve func(stage, action string) string
}

// clock shows a time of day.
func clock(t *time.Time) string {
	if t == nil {
		return time.Now().Format("15:04:05")
	}
	return t.Local().Format("15:04:05")
}

func (p *progress) update(r *executionReport, st *codepipeline.GetPipelineStateOutput) {
	e := r.PipelineExecution
	id := str(e.PipelineExecutionId)
	if p.status == "" {
		trigger := ""
		if e.Trigger != nil {
			trigger = " (" + string(e.Trigger.TriggerType) + ")"
		}
		fmt.Fprintf(p.w, "Execution %s of %s, version %s%s\n", id, str(e.PipelineName), num(e.PipelineVersion), trigger)
	}
	for _, a := range r.ActionExecutionDetails {
		key := str(a.ActionExecutionId)
		if p.seen[key] == a.Status {
			continue
		}
		p.seen[key] = a.Status
		line := fmt.Sprintf("%s  %-32s %-10s  %s", clock(a.LastUpdateTime), str(a.StageName)+"/"+str(a.ActionName), a.Status, actionSummary(a))
		fmt.Fprintln(p.w, strings.TrimRight(line, " "))
		if a.Status == types.ActionExecutionStatusInProgress && a.Input != nil && a.Input.ActionTypeId != nil &&
			a.Input.ActionTypeId.Category == types.ActionCategoryApproval {
			fmt.Fprintf(p.w, "          waiting for approval: %s\n", p.approve(str(a.StageName), str(a.ActionName)))
		}
	}
	if !terminal(e.Status) {
		p.waits(id, st)
	}
	if e.Status != p.status {
		p.status = e.Status
		if e.Status == types.PipelineExecutionStatusInProgress {
			return
		}
		line := fmt.Sprintf("%s  execution %s", clock(nil), e.Status)
		if s := str(e.StatusSummary); s != "" {
			line += ": " + s
		}
		fmt.Fprintln(p.w, line)
	}
}

// waits reports, once each, the stages the execution waits to enter.
func (p *progress) waits(id string, st *codepipeline.GetPipelineStateOutput) {
	for _, s := range st.StageStates {
		for _, in := range inbound(s) {
			if str(in.PipelineExecutionId) != id {
				continue
			}
			why := "the stage is busy"
			if le := s.LatestExecution; le != nil && str(le.PipelineExecutionId) != id {
				why += " with execution " + str(le.PipelineExecutionId)
			}
			if t := s.InboundTransitionState; t != nil && !t.Enabled {
				why = "the transition is disabled"
				if reason := str(t.DisabledReason); reason != "" {
					why += ": " + reason
				}
			}
			key := str(s.StageName) + "\x00" + why
			if !p.said[key] {
				p.said[key] = true
				fmt.Fprintf(p.w, "%s  waiting to enter %s: %s\n", clock(nil), str(s.StageName), why)
			}
		}
	}
}
