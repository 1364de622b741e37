package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/client"
	"github.com/sluice-ci/sluice/internal/pipeline"
)

func newPipelinesCmd() *cobra.Command {
	return groupCommand("pipelines", "List, show, create, update and delete the pipelines of a Sluice server",
		`The pipelines commands manage the pipelines of a Sluice server through its
CodePipeline API, as 'aws codepipeline list-pipelines', 'get-pipeline',
'create-pipeline', 'update-pipeline' and 'delete-pipeline' do.`,
		newPipelinesListCmd(), newPipelinesGetCmd(), newPipelinesPutCmd(true), newPipelinesPutCmd(false), newPipelinesDeleteCmd())
}

func init() { rootCmd.AddCommand(newPipelinesCmd()) }

func newPipelinesListCmd() *cobra.Command {
	var r remoteFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the pipelines of a Sluice server",
		Long: `List prints every pipeline of the server (ListPipelines, all pages): its name,
latest version, type, execution mode, and when it was created and last
updated.

Exit status: 0 when listed, 1 when the server cannot be asked, 2 for bad
flags.
` + remoteHelp,
		Example: `  sluice pipelines list
  sluice pipelines list --endpoint http://127.0.0.1:9000 --data-dir /srv/sluice
  sluice pipelines list --output json | jq -r '.pipelines[].name'`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			conn, err := r.connect(cmd)
			if err != nil {
				return err
			}
			out := &codepipeline.ListPipelinesOutput{Pipelines: []types.PipelineSummary{}}
			pages := codepipeline.NewListPipelinesPaginator(conn.API, &codepipeline.ListPipelinesInput{})
			for pages.HasMorePages() {
				page, err := pages.NextPage(cmd.Context())
				if err != nil {
					return failed(conn, err, client.Target{})
				}
				out.Pipelines = append(out.Pipelines, page.Pipelines...)
			}
			if r.json() {
				return writeJSON(cmd, out)
			}
			w := cmd.OutOrStdout()
			if len(out.Pipelines) == 0 {
				fmt.Fprintf(w, "No pipelines at %s.\n", conn.Endpoint)
				return nil
			}
			tw := newTable(w)
			row(tw, "NAME", "VERSION", "TYPE", "EXECUTION MODE", "CREATED", "UPDATED")
			for _, p := range out.Pipelines {
				row(tw, str(p.Name), num(p.Version), string(p.PipelineType), string(p.ExecutionMode), when(p.Created), when(p.Updated))
			}
			return tw.Flush()
		},
	}
	r.register(cmd.Flags(), serverDataDirUsage)
	return remoteCommand(cmd)
}

func newPipelinesGetCmd() *cobra.Command {
	var r remoteFlags
	var ver int32
	cmd := &cobra.Command{
		Use:   "get PIPELINE",
		Short: "Show a pipeline's declaration",
		Long: `Get shows a pipeline (GetPipeline): its metadata, variables and triggers, and
a table of its stages and actions. --version shows an earlier version.

With --output json it prints GetPipeline's answer ({"pipeline", "metadata"}),
a file that 'sluice pipelines update', 'sluice validate' and 'sluice run' read
as they are.

Exit status: 0 when shown, 1 when the pipeline (or version) does not exist
or the server cannot be asked, 2 for bad flags.
` + remoteHelp,
		Example: `  sluice pipelines get release
  sluice pipelines get release --version 3
  sluice pipelines get release --output json > release.json`,
		Args: exactArgs("PIPELINE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := r.connect(cmd)
			if err != nil {
				return err
			}
			in := &codepipeline.GetPipelineInput{Name: aws.String(args[0])}
			if ver != 0 {
				in.Version = aws.Int32(ver)
			}
			out, err := conn.API.GetPipeline(cmd.Context(), in)
			if err != nil {
				return failed(conn, err, client.Target{Pipeline: args[0]})
			}
			if r.json() {
				return writeJSON(cmd, out)
			}
			return writePipeline(cmd.OutOrStdout(), out)
		},
	}
	r.register(cmd.Flags(), serverDataDirUsage)
	cmd.Flags().Int32Var(&ver, "version", 0, "the `version` to show (default the latest)")
	return remoteCommand(cmd)
}

// pipelineTitle is the first line of a pipeline's views.
func pipelineTitle(d *types.PipelineDeclaration) string {
	parts := []string{"Pipeline " + str(d.Name), "version " + num(d.Version)}
	typ := string(d.PipelineType)
	if typ == "" {
		typ = "V1"
	}
	mode := string(d.ExecutionMode)
	if mode == "" {
		mode = "SUPERSEDED"
	}
	return strings.Join(append(parts, typ, mode), " · ")
}

// writePipeline shows GetPipeline's answer.
func writePipeline(w io.Writer, out *codepipeline.GetPipelineOutput) error {
	d := out.Pipeline
	fmt.Fprintln(w, pipelineTitle(d))
	tw := newTable(w)
	if m := out.Metadata; m != nil {
		row(tw, "ARN", str(m.PipelineArn))
		row(tw, "Created", when(m.Created))
		row(tw, "Updated", when(m.Updated))
	}
	row(tw, "Role", str(d.RoleArn))
	if s := d.ArtifactStore; s != nil {
		row(tw, "Artifacts", string(s.Type)+" "+str(s.Location))
	}
	for region, s := range d.ArtifactStores {
		row(tw, "Artifacts", region+": "+string(s.Type)+" "+str(s.Location))
	}
	for _, v := range d.Variables {
		desc := str(v.Name)
		if v.DefaultValue != nil {
			desc += " (default " + str(v.DefaultValue) + ")"
		}
		row(tw, "Variable", desc)
	}
	for _, t := range d.Triggers {
		desc := string(t.ProviderType)
		if g := t.GitConfiguration; g != nil {
			desc += " on " + str(g.SourceActionName)
			if len(g.Push) > 0 {
				desc += fmt.Sprintf(", %d push filter(s)", len(g.Push))
			}
			if len(g.PullRequest) > 0 {
				desc += fmt.Sprintf(", %d pull request filter(s)", len(g.PullRequest))
			}
		}
		row(tw, "Trigger", desc)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = newTable(w)
	row(tw, "STAGE", "ACTION", "CATEGORY", "PROVIDER", "RUN ORDER", "INPUTS", "OUTPUTS", "NAMESPACE")
	for _, st := range d.Stages {
		for _, a := range st.Actions {
			var provider string
			if id := a.ActionTypeId; id != nil {
				provider = str(id.Provider)
			}
			runOrder := "1"
			if a.RunOrder != nil {
				runOrder = num(a.RunOrder)
			}
			row(tw, str(st.Name), str(a.Name), actionCategory(a), provider, runOrder,
				artifactNames(a.InputArtifacts), outputNames(a.OutputArtifacts), str(a.Namespace))
		}
	}
	return tw.Flush()
}

func actionCategory(a types.ActionDeclaration) string {
	if a.ActionTypeId == nil {
		return ""
	}
	return string(a.ActionTypeId.Category)
}

func artifactNames(list []types.InputArtifact) string {
	names := make([]string, len(list))
	for i, a := range list {
		names[i] = str(a.Name)
	}
	return strings.Join(names, ",")
}

func outputNames(list []types.OutputArtifact) string {
	names := make([]string, len(list))
	for i, a := range list {
		names[i] = str(a.Name)
	}
	return strings.Join(names, ",")
}

// newPipelinesPutCmd builds create (CreatePipeline) or update
// (UpdatePipeline).
func newPipelinesPutCmd(create bool) *cobra.Command {
	var r remoteFlags
	var only string
	p := params{}
	verb, op, done := "update", "UpdatePipeline", "updated"
	if create {
		verb, op, done = "create", "CreatePipeline", "created"
	}
	long := strings.ToUpper(verb[:1]) + verb[1:] + ` reads FILE (any form 'sluice validate' reads: a declaration, a
CreatePipeline request, a GetPipeline answer, a CloudFormation template;
JSON or YAML), checks it, and sends its pipeline to the server (` + op + `).
A declaration with errors is refused with every problem, and nothing is sent;
warnings are shown. --pipeline chooses among the pipelines of a template.

A template's DisableInboundStageTransitions are applied once the pipeline is
` + done + `: each stage's inbound transition is disabled with the template's
reason (DisableStageTransition). Transitions the template does not list are
left as they are.
`
	example := `  sluice pipelines update release.yaml
  sluice pipelines get release --output json > release.json && sluice pipelines update release.json
  sluice pipelines update template.yaml --pipeline Release --param Env=prod`
	if create {
		long += `
As in CodePipeline, creating a pipeline starts its first execution. The tags
of a CreatePipeline request or of the template's resource are given to it.
The first execution starts before the template's transitions are disabled,
so it may already be past one of them.
`
		example = `  sluice pipelines create pipelines/demo.yaml
  sluice pipelines create template.yaml --param GitHubOwner=me --pipeline Release`
	} else {
		long += `
The pipeline must exist; its version goes up by one. Executions in flight go
on with the version they started with.
`
	}
	cmd := &cobra.Command{
		Use:   verb + " FILE",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a pipeline from a declaration file",
		Long: long + `
Exit status: 0 when ` + done + `, 1 when the server refuses it or a transition the
template disables, or cannot be asked, 2 when FILE cannot be read or is
invalid, or for bad flags.
` + remoteHelp,
		Example: example,
		Args:    exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			pl, err := declarationFile(cmd.ErrOrStderr(), args[0], only, verb, pipeline.Options{Params: p})
			if err != nil {
				return err
			}
			conn, err := r.connect(cmd)
			if err != nil {
				return err
			}
			d, err := client.ToSDK(pl.Declaration)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			target := client.Target{Pipeline: pl.Declaration.Name}
			var answer any
			var said string
			if create {
				in := &codepipeline.CreatePipelineInput{Pipeline: d}
				for _, t := range pl.Tags {
					in.Tags = append(in.Tags, types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
				}
				out, err := conn.API.CreatePipeline(cmd.Context(), in)
				if err != nil {
					return failed(conn, err, target)
				}
				answer, said = out, fmt.Sprintf("Created pipeline %s, version %s; its first execution has started: sluice watch %s%s",
					str(out.Pipeline.Name), num(out.Pipeline.Version), str(out.Pipeline.Name), r.flagsAgain())
			} else {
				out, err := conn.API.UpdatePipeline(cmd.Context(), &codepipeline.UpdatePipelineInput{Pipeline: d})
				if err != nil {
					return failed(conn, err, target)
				}
				answer, said = out, fmt.Sprintf("Updated pipeline %s to version %s.", str(out.Pipeline.Name), num(out.Pipeline.Version))
			}
			if r.json() {
				if err := writeJSON(cmd, answer); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), said)
			}
			return disableTemplateTransitions(cmd, conn, &r, pl, done)
		},
	}
	r.register(cmd.Flags(), serverDataDirUsage)
	cmd.Flags().Var(p, "param", paramUsage)
	cmd.Flags().StringVar(&only, "pipeline", "", "the pipeline to "+verb+" when FILE declares several (its name or logical ID)")
	return remoteCommand(cmd)
}

// disableTemplateTransitions disables the inbound transitions a template
// declares disabled, once its pipeline has been created or updated (done),
// and says so unless the output is JSON.
func disableTemplateTransitions(cmd *cobra.Command, conn *client.Conn, r *remoteFlags, pl *pipeline.Pipeline, done string) error {
	name := pl.Declaration.Name
	for _, t := range pl.DisabledTransitions {
		if _, err := disableTransition(cmd.Context(), conn, name, t.StageName, types.StageTransitionTypeInbound, t.Reason); err != nil {
			err = conn.Explain(err, client.Target{Pipeline: name, Stage: t.StageName})
			return &exitError{code: 1, err: fmt.Errorf("pipeline %s was %s, but the transition into stage %s was not disabled: %w", name, done, t.StageName, err)}
		}
		if !r.json() {
			fmt.Fprintln(cmd.OutOrStdout(), transitionDone(false, types.StageTransitionTypeInbound, name, t.StageName, t.Reason))
		}
	}
	return nil
}

// declarationFile reads the pipeline that create or update sends. It shows
// every problem of the file on w and refuses (exit status 2) a file that
// cannot be read, holds no such pipeline, or declares it with errors.
func declarationFile(w io.Writer, file, only, verb string, opts pipeline.Options) (*pipeline.Pipeline, error) {
	f, bad := loadPipelineFile(file, opts)
	if bad != nil {
		writeFinding(w, *bad)
		return nil, &exitError{code: 2}
	}
	var chosen []*pipeline.Pipeline
	var names []string
	for _, pl := range f.Pipelines {
		names = append(names, pl.Declaration.Name)
		if only == "" || only == pl.Declaration.Name || only == pl.Resource {
			chosen = append(chosen, pl)
		}
	}
	switch {
	case len(chosen) == 0 && only != "":
		return nil, usageError(fmt.Errorf("%s declares no pipeline %s (it has: %s)", file, only, strings.Join(names, ", ")))
	case len(chosen) == 0:
		return nil, usageError(fmt.Errorf("%s: %w", file, errNoPipeline))
	case len(chosen) > 1:
		return nil, usageError(fmt.Errorf("%s declares several pipelines (%s): choose one with --pipeline", file, strings.Join(names, ", ")))
	}
	pl := chosen[0]
	errs := 0
	for _, fd := range findings(file, f) {
		if fd.Resource != "" && fd.Resource != pl.Resource {
			continue
		}
		writeFinding(w, fd)
		if fd.Severity == string(pipeline.SeverityError) {
			errs++
		}
	}
	if errs > 0 {
		fmt.Fprintf(w, "%s: invalid (%s): not %sd\n", file, plural(errs, "error"), verb)
		return nil, &exitError{code: 2}
	}
	return pl, nil
}

func newPipelinesDeleteCmd() *cobra.Command {
	var r remoteFlags
	cmd := &cobra.Command{
		Use:   "delete PIPELINE",
		Short: "Delete a pipeline",
		Long: `Delete deletes a pipeline (DeletePipeline): its executions in flight are
stopped (abandoned), and its records go. As in CodePipeline, deleting a
pipeline that does not exist succeeds.

Exit status: 0 when deleted, 1 when the server refuses or cannot be asked,
2 for bad flags.
` + remoteHelp,
		Example: `  sluice pipelines delete release`,
		Args:    exactArgs("PIPELINE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := r.connect(cmd)
			if err != nil {
				return err
			}
			out, err := conn.API.DeletePipeline(cmd.Context(), &codepipeline.DeletePipelineInput{Name: aws.String(args[0])})
			if err != nil {
				return failed(conn, err, client.Target{Pipeline: args[0]})
			}
			if r.json() {
				return writeJSON(cmd, out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted pipeline %s.\n", args[0])
			return nil
		},
	}
	r.register(cmd.Flags(), serverDataDirUsage)
	return remoteCommand(cmd)
}
