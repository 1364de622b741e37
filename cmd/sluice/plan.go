package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/pipeline"
)

// errNoPipeline is returned when a template's pipelines are all left out by
// their conditions.
var errNoPipeline = errors.New("no pipeline to show: every pipeline resource is left out by its condition")

func newPlanCmd() *cobra.Command {
	p := params{}
	cmd := &cobra.Command{
		Use:   "plan FILE",
		Short: "Show a pipeline's stages and actions in the order they run",
		Long: `Plan validates FILE and prints each pipeline in it: its stages in order and,
in each stage, its actions grouped by runOrder. The actions of one group
run in parallel and are marked with a bar; groups run one after another.
Each action shows its type (Category/Owner/Provider), the artifacts it
takes and produces, and its namespace, region and role when it has them.

FILE is read as validate reads it, in any form. Problems are listed after
the plan. Exit status: 0 when valid, 1 when invalid, 2 when FILE cannot be
read or parsed.`,
		Example: `  sluice plan pipelines/demo.yaml
  sluice plan template.yaml --param Environment=prod`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			f, bad := loadPipelineFile(name, pipeline.Options{Params: p})
			if bad != nil {
				return &exitError{code: exitUnreadable, err: fmt.Errorf("%s: %s", name, bad.Message)}
			}
			if len(f.Pipelines) == 0 {
				return &exitError{code: exitInvalid, err: fmt.Errorf("%s: %w", name, errNoPipeline)}
			}
			w := cmd.OutOrStdout()
			for i, pl := range f.Pipelines {
				if i > 0 {
					fmt.Fprintln(w)
				}
				if err := writePlan(w, pl); err != nil {
					return err
				}
			}
			list := findings(name, f)
			if len(list) > 0 {
				fmt.Fprintln(w)
			}
			for _, fd := range list {
				writeFinding(w, fd)
			}
			if errs, _ := countSeverity(list); errs > 0 {
				return &exitError{code: exitInvalid}
			}
			return nil
		},
	}
	cmd.Flags().Var(p, "param", paramUsage)
	return cmd
}

// planRow is one line of a plan: a header, or an action with its columns.
type planRow struct {
	text               string
	bar, name, typ, io string
	extras             string
	action             bool
}

// writePlan prints one pipeline's stages and actions, the action columns
// aligned across the whole pipeline.
func writePlan(w io.Writer, p *pipeline.Pipeline) error {
	d := p.Declaration
	var rows []planRow
	head := fmt.Sprintf("pipeline %s (%s, %s)", d.Name, d.EffectivePipelineType(), d.EffectiveExecutionMode())
	if p.Resource != "" {
		head += ", resource " + p.Resource
	}
	rows = append(rows, planRow{text: head})
	for _, v := range d.Variables {
		rows = append(rows, planRow{text: fmt.Sprintf("  variable %s = %q", v.Name, v.DefaultValue)})
	}
	for _, t := range d.Triggers {
		if t.GitConfiguration != nil {
			rows = append(rows, planRow{text: fmt.Sprintf("  trigger on %s: %s", t.GitConfiguration.SourceActionName, describeTrigger(t.GitConfiguration))})
		}
	}
	for i := range d.Stages {
		s := &d.Stages[i]
		rows = append(rows, planRow{text: fmt.Sprintf("stage %d/%d  %s", i+1, len(d.Stages), s.Name)})
		groups := s.Groups()
		for _, g := range groups {
			bar := " "
			if len(g) > 1 {
				bar = "│"
			}
			if len(groups) > 1 || len(g) > 1 {
				label := fmt.Sprintf("  runOrder %d", g[0].EffectiveRunOrder())
				if len(g) > 1 {
					label += fmt.Sprintf(", %d actions in parallel", len(g))
				}
				rows = append(rows, planRow{text: label})
			}
			for _, a := range g {
				id := a.ActionTypeID
				rows = append(rows, planRow{action: true, bar: bar, name: a.Name,
					typ: string(id.Category) + "/" + string(id.Owner) + "/" + id.Provider,
					io:  describeArtifacts(a), extras: describeExtras(a)})
			}
		}
	}
	var nameW, typW, ioW int
	for _, r := range rows {
		nameW = max(nameW, utf8.RuneCountInString(r.name))
		typW = max(typW, utf8.RuneCountInString(r.typ))
		ioW = max(ioW, utf8.RuneCountInString(r.io))
	}
	var b strings.Builder
	for _, r := range rows {
		if !r.action {
			b.WriteString(r.text + "\n")
			continue
		}
		line := fmt.Sprintf("    %s %s  %s  %s  %s", r.bar, pad(r.name, nameW), pad(r.typ, typW), pad(r.io, ioW), r.extras)
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

func pad(s string, width int) string {
	return s + strings.Repeat(" ", width-utf8.RuneCountInString(s))
}

func describeArtifacts(a *pipeline.Action) string {
	var parts []string
	if len(a.InputArtifacts) > 0 {
		names := make([]string, len(a.InputArtifacts))
		for i, x := range a.InputArtifacts {
			names[i] = x.Name
		}
		parts = append(parts, "in "+strings.Join(names, ", "))
	}
	if len(a.OutputArtifacts) > 0 {
		names := make([]string, len(a.OutputArtifacts))
		for i, x := range a.OutputArtifacts {
			names[i] = x.Name
		}
		parts = append(parts, "out "+strings.Join(names, ", "))
	}
	return strings.Join(parts, "; ")
}

func describeExtras(a *pipeline.Action) string {
	var parts []string
	if a.Namespace != "" {
		parts = append(parts, "namespace "+a.Namespace)
	}
	if a.Region != "" {
		parts = append(parts, "region "+a.Region)
	}
	if a.RoleArn != "" {
		parts = append(parts, "role "+a.RoleArn)
	}
	return strings.Join(parts, ", ")
}

func describeTrigger(g *pipeline.GitConfiguration) string {
	var parts []string
	for _, f := range g.Push {
		switch {
		case f.Tags != nil:
			parts = append(parts, "push of tags "+strings.Join(f.Tags.Includes, ", "))
		case f.Branches != nil:
			parts = append(parts, "push to "+strings.Join(f.Branches.Includes, ", "))
		}
	}
	for _, f := range g.PullRequest {
		what := "pull request"
		if f.Branches != nil {
			what += " to " + strings.Join(f.Branches.Includes, ", ")
		}
		parts = append(parts, what)
	}
	return strings.Join(parts, "; ")
}

func init() {
	rootCmd.AddCommand(newPlanCmd())
}
