package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/client"
)

func newRollbackCmd() *cobra.Command {
	var r remoteFlags
	var target string
	cmd := &cobra.Command{
		Use:   "rollback PIPELINE STAGE [--target EXECUTION_ID]",
		Short: "Roll a stage back to an execution that succeeded in it",
		Long: `Rollback rolls STAGE back (RollbackStage): a new execution, of type ROLLBACK,
runs the stage alone with the source revisions, artifacts and variables of
the target execution, one that succeeded in the stage.

Without --target it rolls back to the newest standard execution of the
pipeline's current version that succeeded in STAGE, other than the one whose
run the stage holds now: the execution CodePipeline's console offers. When
there is none, there is nothing to roll back to and it says so.

As in CodePipeline, the source stage cannot be rolled back, nor a stage that
is running; the target must have started in the pipeline's current version
and cannot be a rollback itself.

Exit status: 0 when the rollback started, 1 when there is nothing to roll
back to, the server refuses it or cannot be asked, 2 for bad flags.
` + remoteHelp,
		Example: `  sluice rollback release Deploy
  sluice rollback release Deploy --target 3f2a9c1e-1b2c-4d5e-8f90-123456789abc
  sluice rollback release Deploy --output json | jq -r .pipelineExecutionId`,
		Args: exactArgs("PIPELINE", "STAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := r.connect(cmd)
			if err != nil {
				return err
			}
			name, stage := args[0], args[1]
			if target == "" {
				if target, err = rollbackTarget(cmd.Context(), conn, name, stage); err != nil {
					return err
				}
			}
			out, err := conn.API.RollbackStage(cmd.Context(), &codepipeline.RollbackStageInput{
				PipelineName: aws.String(name), StageName: aws.String(stage), TargetPipelineExecutionId: aws.String(target),
			})
			if err != nil {
				return failed(conn, err, client.Target{Pipeline: name, Stage: stage, Execution: target})
			}
			if r.json() {
				return writeJSON(cmd, out)
			}
			id := str(out.PipelineExecutionId)
			fmt.Fprintf(cmd.OutOrStdout(), "Rolling back stage %s of %s to execution %s: rollback execution %s.\n%s",
				stage, name, target, id, r.followHint(name, id))
			return nil
		},
	}
	r.register(cmd.Flags(), serverDataDirUsage)
	cmd.Flags().StringVar(&target, "target", "", "the `execution` to roll back to (default: the newest that succeeded in the stage before its latest run)")
	return remoteCommand(cmd)
}

func init() { rootCmd.AddCommand(newRollbackCmd()) }

// heldRun is the execution whose run a stage holds, from its latest
// execution: that execution, or the one it rolled back to when it is a
// rollback; empty when the stage never ran.
func heldRun(ctx context.Context, conn *client.Conn, name string, latest *types.StageExecution) (string, error) {
	if latest == nil {
		return "", nil
	}
	id := str(latest.PipelineExecutionId)
	if latest.Type != types.ExecutionTypeRollback {
		return id, nil
	}
	got, err := conn.API.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String(name), PipelineExecutionId: aws.String(id)})
	if err != nil {
		return "", failed(conn, err, client.Target{Pipeline: name, Execution: id})
	}
	if rb := got.PipelineExecution.RollbackMetadata; rb != nil {
		return str(rb.RollbackTargetPipelineExecutionId), nil
	}
	return id, nil
}

// rollbackTarget is the execution a rollback of stage defaults to: the
// newest standard execution of the pipeline's current version that
// succeeded in the stage, other than the one whose run the stage holds: its
// latest execution, or the target of its latest execution when that is a
// rollback.
func rollbackTarget(ctx context.Context, conn *client.Conn, name, stage string) (string, error) {
	st, err := conn.API.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(name)})
	if err != nil {
		return "", failed(conn, err, client.Target{Pipeline: name})
	}
	i := slices.IndexFunc(st.StageStates, func(s types.StageState) bool { return str(s.StageName) == stage })
	if i < 0 {
		return "", &exitError{code: 1, err: fmt.Errorf("pipeline '%s' has no stage '%s'", name, stage)}
	}
	current, err := heldRun(ctx, conn, name, st.StageStates[i].LatestExecution)
	if err != nil {
		return "", err
	}
	none := nothingTo("roll back to: no execution of the current version of pipeline '%s' succeeded in stage '%s' before its latest run", name, stage)
	pages := codepipeline.NewListPipelineExecutionsPaginator(conn.API, &codepipeline.ListPipelineExecutionsInput{
		PipelineName: aws.String(name),
		Filter:       &types.PipelineExecutionFilter{SucceededInStage: &types.SucceededInStageFilter{StageName: aws.String(stage)}},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", failed(conn, err, client.Target{Pipeline: name})
		}
		for _, e := range page.PipelineExecutionSummaries {
			id := str(e.PipelineExecutionId)
			if e.ExecutionType == types.ExecutionTypeRollback || id == current {
				continue
			}
			got, err := conn.API.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String(name), PipelineExecutionId: aws.String(id)})
			if err != nil {
				return "", failed(conn, err, client.Target{Pipeline: name, Execution: id})
			}
			if aws.ToInt32(got.PipelineExecution.PipelineVersion) != aws.ToInt32(st.PipelineVersion) {
				// Newest first: every execution after it started in an
				// earlier version too.
				return "", none
			}
			return id, nil
		}
	}
	return "", none
}
