package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/client"
)

func newStopCmd() *cobra.Command {
	var r remoteFlags
	var id, reason string
	var abandon bool
	cmd := &cobra.Command{
		Use:   "stop PIPELINE [--execution-id ID]",
		Short: "Stop an execution",
		Long: `Stop stops an execution in flight (StopPipelineExecution). By default it stops
and waits: the actions in progress finish, and nothing new starts; the
execution is Stopping until then, and Stopped after. --abandon stops it at
once, leaving the actions in progress to end on their own. --reason is
recorded with the execution (up to 200 characters).

Without --execution-id it stops the pipeline's newest execution in progress
(with --abandon, also one that is stopping: a stop that waits can still be
turned into an abandon); when there is none it says so.

Exit status: 0 when the stop was accepted, 1 when there is nothing to stop,
the server refuses it (the execution is not in progress) or cannot be asked,
2 for bad flags.
` + remoteHelp,
		Example: `  sluice stop release
  sluice stop release --execution-id 3f2a9c1e-1b2c-4d5e-8f90-123456789abc
  sluice stop release --abandon --reason "Wrong commit"`,
		Args: exactArgs("PIPELINE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := r.connect(cmd)
			if err != nil {
				return err
			}
			name := args[0]
			if id == "" {
				if id, err = stoppableExecution(cmd.Context(), conn, name, abandon); err != nil {
					return err
				}
			}
			in := &codepipeline.StopPipelineExecutionInput{PipelineName: aws.String(name), PipelineExecutionId: aws.String(id), Abandon: abandon}
			if reason != "" {
				in.Reason = aws.String(reason)
			}
			out, err := conn.API.StopPipelineExecution(cmd.Context(), in)
			if err != nil {
				return failed(conn, err, client.Target{Pipeline: name, Execution: id})
			}
			if r.json() {
				return writeJSON(cmd, out)
			}
			how := "stopping it once the actions in progress finish"
			if abandon {
				how = "abandoned"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Stopped execution %s of %s (%s).\n", id, name, how)
			return nil
		},
	}
	r.register(cmd.Flags(), serverDataDirUsage)
	fl := cmd.Flags()
	fl.StringVar(&id, "execution-id", "", "the `execution` to stop (default: the newest in progress)")
	fl.BoolVar(&abandon, "abandon", false, "stop at once, without waiting for the actions in progress")
	fl.StringVar(&reason, "reason", "", "why the execution is stopped")
	return remoteCommand(cmd)
}

func init() { rootCmd.AddCommand(newStopCmd()) }

// stoppableExecution is the execution a stop defaults to: the newest in
// progress, or, when abandoning, the newest in progress or stopping.
func stoppableExecution(ctx context.Context, conn *client.Conn, name string, abandon bool) (string, error) {
	pages := codepipeline.NewListPipelineExecutionsPaginator(conn.API, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", failed(conn, err, client.Target{Pipeline: name})
		}
		for _, e := range page.PipelineExecutionSummaries {
			if e.Status == types.PipelineExecutionStatusInProgress || abandon && e.Status == types.PipelineExecutionStatusStopping {
				return str(e.PipelineExecutionId), nil
			}
		}
	}
	return "", nothingTo("stop: pipeline '%s' has no execution in progress", name)
}
