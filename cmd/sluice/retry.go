package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/client"
)

func newRetryCmd() *cobra.Command {
	var r remoteFlags
	var id, mode string
	cmd := &cobra.Command{
		Use:   "retry PIPELINE STAGE [--execution-id ID]",
		Short: "Retry a failed stage of an execution",
		Long: `Retry runs STAGE of a failed execution again (RetryStageExecution): its failed
actions with --mode FAILED_ACTIONS (the default), or all its actions with
ALL_ACTIONS. The execution then goes on from there. As in CodePipeline, only
the stage's latest execution can be retried, and only while the pipeline's
version is the one it ran with.

Without --execution-id it retries that execution, the latest to run STAGE
(as GetPipelineState shows it), when it failed or was stopped there; when
the stage has not run, or its latest execution neither failed nor was
stopped, there is nothing to retry and it says so.

Exit status: 0 when the retry started, 1 when there is nothing to retry, the
server refuses it (the stage is not retryable, a later execution ran it) or
cannot be asked, 2 for bad flags.
` + remoteHelp,
		Example: `  sluice retry release Deploy
  sluice retry release Deploy --execution-id 3f2a9c1e-1b2c-4d5e-8f90-123456789abc
  sluice retry release Build --mode ALL_ACTIONS`,
		Args: exactArgs("PIPELINE", "STAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			retryMode := types.StageRetryMode(strings.ToUpper(mode))
			if retryMode != types.StageRetryModeFailedActions && retryMode != types.StageRetryModeAllActions {
				return usageError(fmt.Errorf("--mode is FAILED_ACTIONS or ALL_ACTIONS, not %q", mode))
			}
			conn, err := r.connect(cmd)
			if err != nil {
				return err
			}
			name, stage := args[0], args[1]
			if id == "" {
				if id, err = retryableExecution(cmd.Context(), conn, name, stage); err != nil {
					return err
				}
			}
			out, err := conn.API.RetryStageExecution(cmd.Context(), &codepipeline.RetryStageExecutionInput{
				PipelineName: aws.String(name), StageName: aws.String(stage), PipelineExecutionId: aws.String(id), RetryMode: retryMode,
			})
			if err != nil {
				return failed(conn, err, client.Target{Pipeline: name, Stage: stage, Execution: id})
			}
			if r.json() {
				return writeJSON(cmd, out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Retrying stage %s of execution %s (%s).\n%s",
				stage, id, retryMode, r.followHint(name, id))
			return nil
		},
	}
	r.register(cmd.Flags(), serverDataDirUsage)
	cmd.Flags().StringVar(&id, "execution-id", "", "the `execution` whose stage failed (default: the stage's latest execution, when it failed or was stopped)")
	cmd.Flags().StringVar(&mode, "mode", string(types.StageRetryModeFailedActions), "FAILED_ACTIONS (the failed actions) or ALL_ACTIONS (every action of the stage)")
	return remoteCommand(cmd)
}

func init() { rootCmd.AddCommand(newRetryCmd()) }

// retryableExecution is the execution a retry of stage defaults to: the
// stage's latest execution, the only one CodePipeline retries, when it
// failed or was stopped there.
func retryableExecution(ctx context.Context, conn *client.Conn, name, stage string) (string, error) {
	st, err := conn.API.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(name)})
	if err != nil {
		return "", failed(conn, err, client.Target{Pipeline: name})
	}
	for _, s := range st.StageStates {
		if str(s.StageName) != stage {
			continue
		}
		latest := s.LatestExecution
		switch {
		case latest == nil:
			return "", nothingTo("retry: stage '%s' of pipeline '%s' has not run", stage, name)
		case latest.Status != types.StageExecutionStatusFailed && latest.Status != types.StageExecutionStatusStopped:
			return "", nothingTo("retry: the latest execution of stage '%s' of pipeline '%s', %s, is %s; only a stage's latest execution can be retried, once it failed or was stopped",
				stage, name, str(latest.PipelineExecutionId), latest.Status)
		}
		return str(latest.PipelineExecutionId), nil
	}
	return "", &exitError{code: 1, err: fmt.Errorf("pipeline '%s' has no stage '%s'", name, stage)}
}

// nothingTo is the exit error of a command that found nothing to act on:
// "nothing to " and the words of format.
func nothingTo(format string, args ...any) error {
	return &exitError{code: 1, err: fmt.Errorf("nothing to "+format, args...)}
}
