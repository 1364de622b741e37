package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/client"
)

func newExecutionsCmd() *cobra.Command {
	return groupCommand("executions", "List and show the executions of a pipeline",
		`The executions commands list a pipeline's executions and show one of them,
with each of its action executions, as 'aws codepipeline
list-pipeline-executions', 'get-pipeline-execution' and
'list-action-executions' do.`,
		newExecutionsListCmd(), newExecutionsGetCmd())
}

func init() { rootCmd.AddCommand(newExecutionsCmd()) }

func newExecutionsListCmd() *cobra.Command {
	var r remoteFlags
	var limit int
	var succeededIn string
	cmd := &cobra.Command{
		Use:   "list PIPELINE",
		Short: "List a pipeline's executions, newest first",
		Long: `List prints the latest executions of PIPELINE (ListPipelineExecutions), newest
first: id, status, what started it, when it started and last changed, the
source revisions it runs, and its status summary. --max says how many (0:
all of them); --succeeded-in-stage keeps those that succeeded in a stage.

With --output json it prints ListPipelineExecutions' answer, its pages
joined.

Exit status: 0 when listed, 1 when the pipeline does not exist or the server
cannot be asked, 2 for bad flags.
` + remoteHelp,
		Example: `  sluice executions list release
  sluice executions list release --max 5 --succeeded-in-stage Deploy
  sluice executions list release --output json | jq -r '.pipelineExecutionSummaries[0].pipelineExecutionId'`,
		Args: exactArgs("PIPELINE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 0 {
				return usageError(fmt.Errorf("--max %d: want 0 (all) or more", limit))
			}
			conn, err := r.connect(cmd)
			if err != nil {
				return err
			}
			name := args[0]
			out, err := listExecutions(cmd.Context(), conn, name, limit, succeededIn)
			if err != nil {
				return failed(conn, err, client.Target{Pipeline: name})
			}
			if r.json() {
				return writeJSON(cmd, out)
			}
			w := cmd.OutOrStdout()
			if len(out.PipelineExecutionSummaries) == 0 {
				fmt.Fprintf(w, "Pipeline %s has no executions.\n", name)
				return nil
			}
			tw := newTable(w)
			row(tw, "EXECUTION", "STATUS", "TRIGGER", "STARTED", "UPDATED", "SOURCE REVISIONS", "SUMMARY")
			for _, e := range out.PipelineExecutionSummaries {
				var trigger string
				if e.Trigger != nil {
					trigger = string(e.Trigger.TriggerType)
				}
				var revs []string
				for _, s := range e.SourceRevisions {
					revs = append(revs, str(s.ActionName)+"="+str(s.RevisionId))
				}
				summary := str(e.StatusSummary)
				if e.StopTrigger != nil && str(e.StopTrigger.Reason) != "" {
					summary = strings.TrimSpace(summary + " (stopped: " + str(e.StopTrigger.Reason) + ")")
				}
				row(tw, str(e.PipelineExecutionId), string(e.Status), trigger, when(e.StartTime), when(e.LastUpdateTime), strings.Join(revs, ","), summary)
			}
			return tw.Flush()
		},
	}
	r.register(cmd.Flags(), serverDataDirUsage)
	cmd.Flags().IntVar(&limit, "max", 20, "how many executions to list, newest first (0: all)")
	cmd.Flags().StringVar(&succeededIn, "succeeded-in-stage", "", "list only the executions that succeeded in this `stage`")
	return remoteCommand(cmd)
}

// listExecutions reads up to limit executions (0: all), page after page.
func listExecutions(ctx context.Context, conn *client.Conn, name string, limit int, succeededIn string) (*codepipeline.ListPipelineExecutionsOutput, error) {
	in := &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(name)}
	if succeededIn != "" {
		in.Filter = &types.PipelineExecutionFilter{SucceededInStage: &types.SucceededInStageFilter{StageName: aws.String(succeededIn)}}
	}
	out := &codepipeline.ListPipelineExecutionsOutput{PipelineExecutionSummaries: []types.PipelineExecutionSummary{}}
	pages := codepipeline.NewListPipelineExecutionsPaginator(conn.API, in)
	for pages.HasMorePages() && (limit == 0 || len(out.PipelineExecutionSummaries) < limit) {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out.PipelineExecutionSummaries = append(out.PipelineExecutionSummaries, page.PipelineExecutionSummaries...)
	}
	if limit > 0 && len(out.PipelineExecutionSummaries) > limit {
		out.PipelineExecutionSummaries = out.PipelineExecutionSummaries[:limit]
	}
	return out, nil
}

// executionReport is what executions get --output json prints: the
// members of GetPipelineExecution's and ListActionExecutions' answers.
type executionReport struct {
	PipelineExecution      *types.PipelineExecution
	ActionExecutionDetails []types.ActionExecutionDetail
}

func newExecutionsGetCmd() *cobra.Command {
	var r remoteFlags
	cmd := &cobra.Command{
		Use:   "get PIPELINE EXECUTION_ID",
		Short: "Show an execution and its action executions",
		Long: `Get shows one execution of PIPELINE (GetPipelineExecution): its status, what
started it, its variables and source revisions, then each of its action
executions (ListActionExecutions), in the order they started, with status,
times and summary.

With --output json it prints {"pipelineExecution": GetPipelineExecution's
pipelineExecution, "actionExecutionDetails": ListActionExecutions'
actionExecutionDetails of the execution}.

Exit status: 0 when shown, 1 when the pipeline or execution does not exist
or the server cannot be asked, 2 for bad flags.
` + remoteHelp,
		Example: `  sluice executions get release 3f2a9c1e-1b2c-4d5e-8f90-123456789abc
  sluice executions get release 3f2a9c1e-1b2c-4d5e-8f90-123456789abc --output json`,
		Args: exactArgs("PIPELINE", "EXECUTION_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := r.connect(cmd)
			if err != nil {
				return err
			}
			name, id := args[0], args[1]
			report, err := executionOf(cmd.Context(), conn, name, id)
			if err != nil {
				return failed(conn, err, client.Target{Pipeline: name, Execution: id})
			}
			if r.json() {
				return writeJSON(cmd, report)
			}
			return writeExecution(cmd.OutOrStdout(), report)
		},
	}
	r.register(cmd.Flags(), serverDataDirUsage)
	return remoteCommand(cmd)
}

// executionOf reads an execution and its action executions, oldest first.
func executionOf(ctx context.Context, conn *client.Conn, name, id string) (*executionReport, error) {
	e, err := conn.API.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String(name), PipelineExecutionId: aws.String(id)})
	if err != nil {
		return nil, err
	}
	if e.PipelineExecution == nil {
		return nil, errors.New("GetPipelineExecution answered no pipelineExecution")
	}
	actions, err := actionExecutions(ctx, conn, name, id)
	if err != nil {
		return nil, err
	}
	return &executionReport{PipelineExecution: e.PipelineExecution, ActionExecutionDetails: actions}, nil
}

// actionExecutions lists every action execution of an execution, in the
// order they started.
func actionExecutions(ctx context.Context, conn *client.Conn, name, id string) ([]types.ActionExecutionDetail, error) {
	out := []types.ActionExecutionDetail{}
	pages := codepipeline.NewListActionExecutionsPaginator(conn.API, &codepipeline.ListActionExecutionsInput{
		PipelineName: aws.String(name), Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String(id)},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.ActionExecutionDetails...)
	}
	slices.SortStableFunc(out, func(a, b types.ActionExecutionDetail) int {
		return aws.ToTime(a.StartTime).Compare(aws.ToTime(b.StartTime))
	})
	return out, nil
}

// writeExecution shows an execution and its action executions.
func writeExecution(w io.Writer, r *executionReport) error {
	e := r.PipelineExecution
	fmt.Fprintf(w, "Execution %s of %s, version %s\n", str(e.PipelineExecutionId), str(e.PipelineName), num(e.PipelineVersion))
	tw := newTable(w)
	row(tw, "Status", string(e.Status))
	if s := str(e.StatusSummary); s != "" {
		row(tw, "Summary", s)
	}
	if t := e.Trigger; t != nil {
		row(tw, "Trigger", strings.TrimSpace(string(t.TriggerType)+" "+str(t.TriggerDetail)))
	}
	row(tw, "Mode", strings.TrimSpace(string(e.ExecutionMode)+" "+string(e.ExecutionType)))
	if rb := e.RollbackMetadata; rb != nil {
		row(tw, "Rolls back to", str(rb.RollbackTargetPipelineExecutionId))
	}
	for _, v := range e.Variables {
		row(tw, "Variable", str(v.Name)+"="+str(v.ResolvedValue))
	}
	for _, a := range e.ArtifactRevisions {
		rev := str(a.Name) + " " + str(a.RevisionId)
		if s := str(a.RevisionSummary); s != "" {
			rev += " (" + s + ")"
		}
		row(tw, "Revision", rev)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.ActionExecutionDetails) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = newTable(w)
	row(tw, "STAGE", "ACTION", "STATUS", "STARTED", "UPDATED", "SUMMARY")
	for _, a := range r.ActionExecutionDetails {
		row(tw, str(a.StageName), str(a.ActionName), string(a.Status), when(a.StartTime), when(a.LastUpdateTime), actionSummary(a))
	}
	return tw.Flush()
}

// actionSummary is an action execution's summary, or why it failed.
func actionSummary(a types.ActionExecutionDetail) string {
	if a.Output == nil || a.Output.ExecutionResult == nil {
		return ""
	}
	res := a.Output.ExecutionResult
	if s := str(res.ExternalExecutionSummary); s != "" {
		return s
	}
	if d := res.ErrorDetails; d != nil {
		return strings.TrimPrefix(str(d.Code)+": "+str(d.Message), ": ")
	}
	return ""
}
