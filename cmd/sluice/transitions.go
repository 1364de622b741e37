package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/client"
)

func newTransitionsCmd() *cobra.Command {
	return groupCommand("transitions", "Enable or disable the transitions between a pipeline's stages",
		`The transitions commands open and close the transition into (or out of) a
stage, as 'aws codepipeline enable-stage-transition' and
'disable-stage-transition' do. While a stage's inbound transition is
disabled, executions wait in front of it; enabling it lets the latest of
them in.`,
		newTransitionCmd(true), newTransitionCmd(false))
}

func init() { rootCmd.AddCommand(newTransitionsCmd()) }

// newTransitionCmd builds enable (EnableStageTransition) or disable
// (DisableStageTransition).
func newTransitionCmd(enable bool) *cobra.Command {
	var r remoteFlags
	var typ, reason string
	verb, op, example := "disable", "DisableStageTransition", `  sluice transitions disable release Deploy --reason "Release freeze until Monday"
  sluice transitions disable release Build --type Outbound --reason "Broken tests"`
	if enable {
		verb, op, example = "enable", "EnableStageTransition", `  sluice transitions enable release Deploy
  sluice transitions enable release Build --type Outbound`
	}
	long := strings.ToUpper(verb[:1]) + verb[1:] + ` ` + verb + `s the inbound transition of STAGE (` + op + `), or with
--type Outbound the transition out of it (the next stage's inbound one).`
	if !enable {
		long += ` --reason is required: CodePipeline shows it, and accepts letters, digits,
spaces and ! @ ( ) . * ? - only, up to 300 characters.`
	}
	cmd := &cobra.Command{
		Use:   verb + " PIPELINE STAGE",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a stage's transition",
		Long: long + `

Exit status: 0 when done, 1 when the server refuses or cannot be asked, 2 for
bad flags.
` + remoteHelp,
		Example: example,
		Args:    exactArgs("PIPELINE", "STAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, ok := map[string]types.StageTransitionType{
				"inbound": types.StageTransitionTypeInbound, "outbound": types.StageTransitionTypeOutbound,
			}[strings.ToLower(typ)]
			if !ok {
				return usageError(fmt.Errorf("--type is Inbound or Outbound, not %q", typ))
			}
			if !enable && reason == "" {
				return usageError(errors.New("--reason is required: say why the transition is disabled"))
			}
			conn, err := r.connect(cmd)
			if err != nil {
				return err
			}
			name, stage := args[0], args[1]
			var out any
			if enable {
				out, err = conn.API.EnableStageTransition(cmd.Context(), &codepipeline.EnableStageTransitionInput{
					PipelineName: aws.String(name), StageName: aws.String(stage), TransitionType: kind,
				})
			} else {
				out, err = disableTransition(cmd.Context(), conn, name, stage, kind, reason)
			}
			if err != nil {
				return failed(conn, err, client.Target{Pipeline: name, Stage: stage})
			}
			if r.json() {
				return writeJSON(cmd, out)
			}
			fmt.Fprintln(cmd.OutOrStdout(), transitionDone(enable, kind, name, stage, reason))
			return nil
		},
	}
	r.register(cmd.Flags(), serverDataDirUsage)
	cmd.Flags().StringVar(&typ, "type", "Inbound", "the transition: Inbound (into STAGE) or Outbound (out of it)")
	if !enable {
		cmd.Flags().StringVar(&reason, "reason", "", "why the transition is disabled (required)")
	}
	return remoteCommand(cmd)
}

// disableTransition closes a stage's transition (DisableStageTransition).
func disableTransition(ctx context.Context, conn *client.Conn, name, stage string, kind types.StageTransitionType, reason string) (*codepipeline.DisableStageTransitionOutput, error) {
	return conn.API.DisableStageTransition(ctx, &codepipeline.DisableStageTransitionInput{
		PipelineName: aws.String(name), StageName: aws.String(stage), TransitionType: kind, Reason: aws.String(reason),
	})
}

// transitionDone says that a transition was enabled, or disabled and why.
func transitionDone(enable bool, kind types.StageTransitionType, name, stage, reason string) string {
	if enable {
		return fmt.Sprintf("Enabled the %s transition of stage %s of pipeline %s.", strings.ToLower(string(kind)), stage, name)
	}
	return fmt.Sprintf("Disabled the %s transition of stage %s of pipeline %s: %s.", strings.ToLower(string(kind)), stage, name, reason)
}
