package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/client"
	"github.com/sluice-ci/sluice/internal/store"
)

func newStartCmd() *cobra.Command {
	var (
		r      remoteFlags
		token  string
		follow bool
		every  time.Duration
	)
	vars, revisions := params{}, params{}
	cmd := &cobra.Command{
		Use:   "start PIPELINE",
		Short: "Start an execution of a pipeline on a Sluice server",
		Long: `Start starts an execution of PIPELINE (StartPipelineExecution) and prints its
id. --var gives pipeline-level variables values for this execution;
--source-revision runs a source action on a given revision (its type is the
action's: COMMIT_ID for git sources, S3_OBJECT_VERSION_ID for S3, IMAGE_DIGEST
for ECR; or name it, ACTION=S3_OBJECT_KEY:key). A --client-request-token makes
the start idempotent: the same token starts one execution, however often it
is sent. --watch then follows the execution as 'sluice watch' does, and exits
as it does.

Exit status: 0 when started (with --watch: when the execution succeeded), 1
when the server refuses or cannot be asked (with --watch: or the execution
did not succeed), 2 for bad flags.
` + remoteHelp,
		Example: `  sluice start release
  sluice start release --var Environment=prod --source-revision Source=1a2b3c4d
  sluice start release --client-request-token deploy-42 --watch`,
		Args: exactArgs("PIPELINE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := r.connect(cmd)
			if err != nil {
				return err
			}
			name := args[0]
			target := client.Target{Pipeline: name}
			in := &codepipeline.StartPipelineExecutionInput{Name: aws.String(name)}
			if token != "" {
				in.ClientRequestToken = aws.String(token)
			}
			for _, k := range slices.Sorted(maps.Keys(vars)) {
				in.Variables = append(in.Variables, types.PipelineVariable{Name: aws.String(k), Value: aws.String(vars[k])})
			}
			if len(revisions) > 0 {
				p, err := conn.API.GetPipeline(cmd.Context(), &codepipeline.GetPipelineInput{Name: aws.String(name)})
				if err != nil {
					return failed(conn, err, target)
				}
				d, err := client.FromSDK(p.Pipeline)
				if err != nil {
					return &exitError{code: 1, err: err}
				}
				overrides, err := sourceRevisions(d, revisions)
				if err != nil {
					return err
				}
				slices.SortFunc(overrides, func(a, b store.SourceRevisionOverride) int { return strings.Compare(a.ActionName, b.ActionName) })
				for _, o := range overrides {
					in.SourceRevisions = append(in.SourceRevisions, types.SourceRevisionOverride{
						ActionName: aws.String(o.ActionName), RevisionType: types.SourceRevisionType(o.RevisionType), RevisionValue: aws.String(o.RevisionValue),
					})
				}
			}
			out, err := conn.API.StartPipelineExecution(cmd.Context(), in)
			if err != nil {
				return failed(conn, err, target)
			}
			id := str(out.PipelineExecutionId)
			if follow {
				return watch(cmd, conn, &r, name, id, every)
			}
			if r.json() {
				return writeJSON(cmd, out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Started execution %s of %s.\n%s", id, name, r.followHint(name, id))
			return nil
		},
	}
	r.register(cmd.Flags(), serverDataDirUsage)
	fl := cmd.Flags()
	fl.Var(vars, "var", "give a pipeline-level variable a value for this execution (repeatable)")
	fl.Var(revisions, "source-revision", "run source action ACTION on REVISION (ACTION=REVISION, or ACTION=TYPE:REVISION with TYPE COMMIT_ID, IMAGE_DIGEST, S3_OBJECT_VERSION_ID or S3_OBJECT_KEY); repeatable")
	fl.StringVar(&token, "client-request-token", "", "idempotency `token`: a start with a token already used returns that execution")
	fl.BoolVar(&follow, "watch", false, "follow the execution until it ends, as 'sluice watch' does")
	fl.DurationVar(&every, "interval", time.Second, "with --watch: how often to ask the server")
	return remoteCommand(cmd)
}

func init() { rootCmd.AddCommand(newStartCmd()) }
