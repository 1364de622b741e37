package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/client"
)

func newOverrideCmd() *cobra.Command {
	var r remoteFlags
	var condition string
	cmd := &cobra.Command{
		Use:   "override PIPELINE STAGE EXECUTION_ID [--condition BEFORE_ENTRY|ON_SUCCESS]",
		Short: "Let an execution past the stage conditions it waits for",
		Long: `Override overrides the conditions of STAGE that an execution waits for
(OverrideStageCondition). With --condition BEFORE_ENTRY, the default, the
entry conditions whose rules are in progress (a deployment window that is
closed) are overridden, their rules abandoned, and the execution enters the
stage. 'sluice state' shows the conditions that wait, with this command.

ON_SUCCESS is the API's other condition type: Sluice decides a stage's
success conditions as the stage ends, so none is ever in progress to
override, and the server says so (ConditionNotOverridableException).

Exit status: 0 when overridden, 1 when the server refuses it (no condition
of the type is in progress, or the execution is not the stage's latest) or
cannot be asked, 2 for bad flags.
` + remoteHelp,
		Example: `  sluice override release Deploy 3f2a9c1e-1b2c-4d5e-8f90-123456789abc
  sluice override release Deploy 3f2a9c1e-1b2c-4d5e-8f90-123456789abc --condition BEFORE_ENTRY --output json`,
		Args: exactArgs("PIPELINE", "STAGE", "EXECUTION_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := types.ConditionType(strings.ToUpper(condition))
			if kind != types.ConditionTypeBeforeEntry && kind != types.ConditionTypeOnSuccess {
				return usageError(fmt.Errorf("--condition is BEFORE_ENTRY or ON_SUCCESS, not %q", condition))
			}
			conn, err := r.connect(cmd)
			if err != nil {
				return err
			}
			name, stage, id := args[0], args[1], args[2]
			out, err := conn.API.OverrideStageCondition(cmd.Context(), &codepipeline.OverrideStageConditionInput{
				PipelineName: aws.String(name), StageName: aws.String(stage), PipelineExecutionId: aws.String(id), ConditionType: kind,
			})
			if err != nil {
				return failed(conn, err, client.Target{Pipeline: name, Stage: stage, Execution: id})
			}
			if r.json() {
				return writeJSON(cmd, out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Overrode the %s conditions of stage %s for execution %s.\n%s",
				conditionWords[kind], stage, id, r.followHint(name, id))
			return nil
		},
	}
	r.register(cmd.Flags(), serverDataDirUsage)
	cmd.Flags().StringVar(&condition, "condition", string(types.ConditionTypeBeforeEntry), "the `type` of conditions to override: BEFORE_ENTRY or ON_SUCCESS")
	return remoteCommand(cmd)
}

func init() { rootCmd.AddCommand(newOverrideCmd()) }

// conditionWords name the kinds of stage condition in sentences.
var conditionWords = map[types.ConditionType]string{
	types.ConditionTypeBeforeEntry: "entry",
	types.ConditionTypeOnSuccess:   "success",
}
