package main

import (
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/client"
)

func newStateCmd() *cobra.Command {
	var r remoteFlags
	cmd := &cobra.Command{
		Use:   "state PIPELINE",
		Short: "Show where a pipeline's executions are, stage by stage",
		Long: `State shows a pipeline as CodePipeline's console does (GetPipelineState): a
block per stage with the status and execution of its latest run and the
executions waiting to enter it, the runs of its entry, success and failure
conditions in that execution with each rule's status, each action's status,
last change, source revision and summary, and between stages the inbound
transition (enabled, or disabled with who, when and why). Approvals that
wait for a decision are listed at the end with the command that decides
them, and executions that wait for entry conditions with the command that
overrides them.

With --output json it prints GetPipelineState's answer, approval tokens
included.

Exit status: 0 when shown, 1 when the pipeline does not exist or the server
cannot be asked, 2 for bad flags.
` + remoteHelp,
		Example: `  sluice state release
  sluice state release --output json | jq '.stageStates[] | {stageName, status: .latestExecution.status}'`,
		Args: exactArgs("PIPELINE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := r.connect(cmd)
			if err != nil {
				return err
			}
			name := args[0]
			target := client.Target{Pipeline: name}
			st, err := conn.API.GetPipelineState(cmd.Context(), &codepipeline.GetPipelineStateInput{Name: aws.String(name)})
			if err != nil {
				return failed(conn, err, target)
			}
			if r.json() {
				return writeJSON(cmd, st)
			}
			p, err := conn.API.GetPipeline(cmd.Context(), &codepipeline.GetPipelineInput{Name: aws.String(name), Version: st.PipelineVersion})
			if err != nil {
				return failed(conn, err, target)
			}
			return writeState(cmd.OutOrStdout(), p.Pipeline, st, func(stage, action string) string {
				return fmt.Sprintf("sluice approve %s --stage %s --action %s%s", name, stage, action, r.flagsAgain())
			}, func(stage, id string) string {
				return fmt.Sprintf("sluice override %s %s %s%s", name, stage, id, r.flagsAgain())
			})
		},
	}
	r.register(cmd.Flags(), serverDataDirUsage)
	return remoteCommand(cmd)
}

func init() { rootCmd.AddCommand(newStateCmd()) }

// writeState lays out GetPipelineState's answer as the console does. d is
// the declaration of the version the state is of; approve gives the
// command that decides an approval, override the one that lets an
// execution past the entry conditions it waits for.
func writeState(w io.Writer, d *types.PipelineDeclaration, st *codepipeline.GetPipelineStateOutput, approve func(stage, action string) string, override func(stage, id string) string) error {
	fmt.Fprintln(w, pipelineTitle(d))
	if u := when(st.Updated); u != "" {
		fmt.Fprintf(w, "Updated %s\n", u)
	}
	actions := map[[2]string]types.ActionDeclaration{}
	for _, s := range d.Stages {
		for _, a := range s.Actions {
			actions[[2]string{str(s.Name), str(a.Name)}] = a
		}
	}
	var pending, parked []string
	for i, s := range st.StageStates {
		stage := str(s.StageName)
		fmt.Fprintln(w)
		if t := s.InboundTransitionState; i > 0 && t != nil {
			fmt.Fprintln(w, transitionLine(t))
		}
		status, exec := "not run yet", ""
		if e := s.LatestExecution; e != nil {
			status, exec = string(e.Status), " · execution "+str(e.PipelineExecutionId)
			if e.Type == types.ExecutionTypeRollback {
				exec += " (rollback)"
			}
		}
		fmt.Fprintf(w, "%s  %s%s\n", stage, status, exec)
		for _, in := range inbound(s) {
			fmt.Fprintf(w, "  waiting to enter: execution %s (%s)\n", str(in.PipelineExecutionId), in.Status)
		}
		for _, c := range []struct {
			kind  string
			state *types.StageConditionState
		}{{"entry", s.BeforeEntryConditionState}, {"success", s.OnSuccessConditionState}, {"failure", s.OnFailureConditionState}} {
			writeConditions(w, c.kind, c.state)
		}
		if c := s.BeforeEntryConditionState; c != nil && c.LatestExecution != nil && c.LatestExecution.Status == types.ConditionExecutionStatusInProgress && s.LatestExecution != nil {
			id := str(s.LatestExecution.PipelineExecutionId)
			parked = append(parked, fmt.Sprintf("  %s, execution %s: %s", stage, id, override(stage, id)))
		}
		tw := newTable(w)
		row(tw, "  ACTION", "STATUS", "LAST CHANGE", "REVISION", "SUMMARY")
		for _, as := range s.ActionStates {
			name := str(as.ActionName)
			a := actions[[2]string{stage, name}]
			label := name
			if a.ActionTypeId != nil {
				label += " (" + str(a.ActionTypeId.Provider) + ")"
			}
			var status, changed, revision, summary string
			if r := as.CurrentRevision; r != nil {
				revision = str(r.RevisionId)
			}
			if e := as.LatestExecution; e != nil {
				status, changed, summary = string(e.Status), when(e.LastStatusChange), str(e.Summary)
				if d := e.ErrorDetails; d != nil && summary == "" {
					summary = str(d.Code) + ": " + str(d.Message)
				}
				if e.Token != nil && e.Status == types.ActionExecutionStatusInProgress && actionCategory(a) == string(types.ActionCategoryApproval) {
					summary = "waiting for approval"
					exec := ""
					if s.LatestExecution != nil {
						exec = str(s.LatestExecution.PipelineExecutionId)
					}
					pending = append(pending, fmt.Sprintf("  %s/%s of execution %s: %s", stage, name, exec, approve(stage, name)))
				}
			}
			row(tw, "  "+label, status, changed, revision, summary)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, list := range []struct {
		title string
		lines []string
	}{{"Waiting for approval:", pending}, {"Waiting for entry conditions:", parked}} {
		if len(list.lines) == 0 {
			continue
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, list.title)
		for _, l := range list.lines {
			fmt.Fprintln(w, l)
		}
	}
	return nil
}

// writeConditions shows the run of a stage's conditions of one kind in its
// latest execution, and each rule's: status, summary, and who overrode it.
func writeConditions(w io.Writer, kind string, st *types.StageConditionState) {
	if st == nil || st.LatestExecution == nil {
		return
	}
	line := fmt.Sprintf("  %s conditions: %s", kind, st.LatestExecution.Status)
	if sum := str(st.LatestExecution.Summary); sum != "" {
		line += " · " + sum
	}
	fmt.Fprintln(w, line)
	for _, c := range st.ConditionStates {
		for _, r := range c.RuleStates {
			line := "    rule " + str(r.RuleName)
			if e := r.LatestExecution; e != nil {
				line += ": " + string(e.Status)
				if by := str(e.LastUpdatedBy); by != "" {
					line += " by " + by
				}
			}
			fmt.Fprintln(w, line)
		}
	}
}

// transitionLine shows a stage's inbound transition, between it and the
// stage before.
func transitionLine(t *types.TransitionState) string {
	if t.Enabled {
		return "  ↓ transition enabled"
	}
	line := "  ✕ transition disabled"
	if by := str(t.LastChangedBy); by != "" {
		line += " by " + by
	}
	if at := when(t.LastChangedAt); at != "" {
		line += " at " + at
	}
	if why := str(t.DisabledReason); why != "" {
		line += ": " + why
	}
	return line
}

// inbound lists the executions waiting to enter a stage.
func inbound(s types.StageState) []types.StageExecution {
	if len(s.InboundExecutions) > 0 {
		return s.InboundExecutions
	}
	if s.InboundExecution != nil {
		return []types.StageExecution{*s.InboundExecution}
	}
	return nil
}
