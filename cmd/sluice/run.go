package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/apishape"
	"github.com/sluice-ci/sluice/internal/local"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
)

// Exit codes of run.
const (
	exitRunSucceeded = 0
	exitRunFailed    = 1
	exitRunRefused   = 2 // unreadable or invalid declaration, bad flags
)

// defaultDataDir is the data folder of local runs.
const defaultDataDir = ".sluice"

type runFlags struct {
	params, vars, revisions, sourceDirs params
	dataDir, output, only               string
	autoApprove, verbose                bool
}

func newRunCmd() *cobra.Command {
	f := runFlags{params: params{}, vars: params{}, revisions: params{}, sourceDirs: params{}}
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a pipeline once, locally, and show its progress",
		Long: `Run validates FILE (any form 'sluice validate' reads) and runs one execution
of its pipeline on this machine: the compiled state machine on the embedded
engine, with the data folder standing in for AWS (git repositories under
codecommit/ and git/, buckets under s3/, CodeBuild projects under codebuild/,
logs under logs/). An invalid declaration is refused with the validation
report.

Progress shows each stage and action as it starts and ends, with its status
and duration; --verbose also streams the build logs. Manual approvals are
asked on a terminal. Without a terminal the run waits for 'sluice approve' or
'sluice reject' from another process on the same data folder, unless
--auto-approve approves them all. Interrupting the run stops the execution
(abandoned) and releases its stages.

Exit status: 0 when the execution succeeded, 1 when it did not (failed,
stopped, superseded, interrupted), 2 when FILE cannot be run (unreadable,
invalid, bad flags).

With --output json, the progress goes to standard error and standard output
gets, at the end, CodePipeline's view of the execution:
{"pipelineExecution": GetPipelineExecution's pipelineExecution,
 "stageStates": GetPipelineState's stageStates,
 "actionExecutions": ListActionExecutions' actionExecutionDetails of the execution}.`,
		Example: `  sluice run pipelines/demo.yaml --source-dir Source=pipelines/demo/app
  sluice run release.yaml --var Environment=prod --source-revision Source=1a2b3c4
  sluice run release.yaml --auto-approve --output json > result.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPipeline(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data-dir", defaultDataDir, "the data folder of local runs")
	fl.Var(f.params, "param", paramUsage)
	fl.Var(f.vars, "var", "give a pipeline-level variable a value for this execution (repeatable)")
	fl.Var(f.revisions, "source-revision", "run source action ACTION on REVISION, a commit id or S3 object version id (ACTION=REVISION; the revision type is the action's: COMMIT_ID, S3_OBJECT_VERSION_ID or IMAGE_DIGEST, or name it: ACTION=S3_OBJECT_KEY:key); repeatable")
	fl.Var(f.sourceDirs, "source-dir", "commit the files of DIR to the local git repository that source action ACTION reads, on its branch, before the run (ACTION=DIR; a new commit only when they changed); repeatable")
	fl.BoolVar(&f.autoApprove, "auto-approve", false, "approve every manual approval at once")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text, or json for CodePipeline's view of the execution at the end")
	fl.StringVar(&f.only, "pipeline", "", "the pipeline to run when FILE declares several")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "stream the actions' logs (build output)")
	return cmd
}

func init() {
	rootCmd.AddCommand(newRunCmd())
}

func refused(format string, args ...any) error {
	return &exitError{code: exitRunRefused, err: fmt.Errorf(format, args...)}
}

func runPipeline(cmd *cobra.Command, file string, f runFlags) error {
	if f.output != "text" && f.output != "json" {
		return refused("--output is text or json, not %q", f.output)
	}
	progress := cmd.OutOrStdout()
	if f.output == "json" {
		progress = cmd.ErrOrStderr()
	}
	d, err := runnable(progress, file, f.only, pipeline.Options{Params: f.params})
	if err != nil {
		return err
	}
	revisions, err := sourceRevisions(d, f.revisions)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second interrupt ends the process at once
	}()
	l, err := local.Open(ctx, f.dataDir, local.Options{})
	if err != nil {
		return &exitError{code: exitRunFailed, err: err}
	}
	defer l.Close()
	if err := commitSources(progress, l.DataDir, d, f.sourceDirs); err != nil {
		return err
	}
	user := local.UserName()
	var approver local.Approver
	switch {
	case f.autoApprove:
		approver = local.AutoApprove{User: user}
	case isatty.IsTerminal(os.Stdin.Fd()) || isatty.IsCygwinTerminal(os.Stdin.Fd()):
		approver = &local.Prompt{In: cmd.InOrStdin(), Out: progress, User: user}
	default:
		approver = local.Elsewhere{Out: progress, Hint: func(a local.PendingApproval) string {
			return fmt.Sprintf("Waiting for another shell: sluice approve %s --data-dir %s --execution-id %s [--summary TEXT] (or sluice reject)",
				a.Pipeline, shellQuote(f.dataDir), a.ExecutionID)
		}}
	}
	out, err := l.Run(ctx, local.RunInput{
		Pipeline: d, Variables: f.vars, SourceRevisions: revisions,
		Progress: progress, Verbose: f.verbose, Approver: approver,
	})
	if err != nil {
		return &exitError{code: exitRunFailed, err: err}
	}
	report := context.WithoutCancel(ctx)
	actions, err := l.Runtime.Store.ListActionExecutions(report, d.Name, out.PipelineExecutionID)
	if err != nil {
		return &exitError{code: exitRunFailed, err: err}
	}
	for _, dep := range l.Deployments(actions) {
		fmt.Fprintf(progress, "%s/%s deployed to bucket %s: %s\n", dep.Stage, dep.Action, dep.Bucket, dep.Path)
	}
	if f.output == "json" {
		if err := writeRunReport(report, cmd.OutOrStdout(), l.View, out); err != nil {
			return &exitError{code: exitRunFailed, err: err}
		}
	}
	if out.Interrupted {
		return &exitError{code: exitRunFailed, err: errors.New("interrupted: the execution was stopped")}
	}
	if out.Status != store.ExecutionSucceeded {
		return &exitError{code: exitRunFailed}
	}
	return nil
}

// runnable reads and validates the file and picks the pipeline to run. An
// invalid declaration is refused with every problem; warnings are shown.
func runnable(w io.Writer, file, only string, opts pipeline.Options) (*pipeline.Declaration, error) {
	f, bad := loadPipelineFile(file, opts)
	if bad != nil {
		writeFinding(w, *bad)
		return nil, &exitError{code: exitRunRefused}
	}
	var picked *pipeline.Pipeline
	var names []string
	for _, p := range f.Pipelines {
		names = append(names, p.Declaration.Name)
		if only == "" || p.Declaration.Name == only || p.Resource == only {
			if picked != nil {
				return nil, refused("%s declares several pipelines (%s): choose one with --pipeline", file, strings.Join(names, ", "))
			}
			picked = p
		}
	}
	if picked == nil {
		if only != "" {
			return nil, refused("%s declares no pipeline %s (it has: %s)", file, only, strings.Join(names, ", "))
		}
		return nil, refused("%s: %w", file, errNoPipeline)
	}
	var list []finding
	for _, fd := range findings(file, f) {
		if fd.Resource == "" || fd.Resource == picked.Resource {
			list = append(list, fd)
		}
	}
	for _, fd := range list {
		writeFinding(w, fd)
	}
	if errs, _ := countSeverity(list); errs > 0 {
		fmt.Fprintf(w, "%s: invalid (%s): not run\n", file, plural(errs, "error"))
		return nil, &exitError{code: exitRunRefused}
	}
	return picked.Declaration, nil
}

// sourceRevisions turns --source-revision ACTION=REVISION flags into
// StartPipelineExecution's source revision overrides.
func sourceRevisions(d *pipeline.Declaration, flags params) ([]store.SourceRevisionOverride, error) {
	var out []store.SourceRevisionOverride
	for name, value := range flags {
		a := sourceAction(d, name)
		if a == nil {
			return nil, refused("--source-revision %s: pipeline %s has no source action %s", name, d.Name, name)
		}
		typ := defaultRevisionType(a.ActionTypeID.Provider)
		if t, v, ok := strings.Cut(value, ":"); ok && isRevisionType(t) {
			typ, value = t, v
		}
		if value == "" {
			return nil, refused("--source-revision %s: no revision given", name)
		}
		out = append(out, store.SourceRevisionOverride{ActionName: name, RevisionType: typ, RevisionValue: value})
	}
	return out, nil
}

func sourceAction(d *pipeline.Declaration, name string) *pipeline.Action {
	for i := range d.Stages {
		for j := range d.Stages[i].Actions {
			a := &d.Stages[i].Actions[j]
			if a.Name == name && a.ActionTypeID.Category == pipeline.CategorySource {
				return a
			}
		}
	}
	return nil
}

func defaultRevisionType(provider string) string {
	switch provider {
	case "S3":
		return "S3_OBJECT_VERSION_ID"
	case "ECR":
		return "IMAGE_DIGEST"
	}
	return "COMMIT_ID"
}

func isRevisionType(s string) bool {
	switch s {
	case "COMMIT_ID", "IMAGE_DIGEST", "S3_OBJECT_VERSION_ID", "S3_OBJECT_KEY":
		return true
	}
	return false
}

// commitSources commits the --source-dir folders to the repositories their
// source actions read.
func commitSources(w io.Writer, dataDir string, d *pipeline.Declaration, flags params) error {
	for name, dir := range flags {
		a := sourceAction(d, name)
		if a == nil {
			return refused("--source-dir %s: pipeline %s has no source action %s", name, d.Name, name)
		}
		repo, branch, err := local.SourceRepository(dataDir, a)
		if err != nil {
			return refused("--source-dir %s: %v", name, err)
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return refused("--source-dir %s: %s is not a folder", name, dir)
		}
		id, fresh, err := local.CommitDir(repo, branch, dir, "Snapshot of "+dir, local.UserName())
		if err != nil {
			return &exitError{code: exitRunFailed, err: fmt.Errorf("--source-dir %s: %w", name, err)}
		}
		what := "unchanged since commit"
		if fresh {
			what = "committed as"
		}
		fmt.Fprintf(w, "%s: %s %s %s on branch %s of %s\n", name, dir, what, id[:12], branch, repo)
	}
	return nil
}

// runReport is what --output json prints.
type runReport struct {
	PipelineExecution *apishape.PipelineExecution      `json:"pipelineExecution"`
	StageStates       []apishape.StageState            `json:"stageStates"`
	ActionExecutions  []apishape.ActionExecutionDetail `json:"actionExecutions"`
}

func writeRunReport(ctx context.Context, w io.Writer, v *apishape.View, o *local.Outcome) error {
	e, err := v.GetPipelineExecution(ctx, o.PipelineName, o.PipelineExecutionID)
	if err != nil {
		return err
	}
	st, err := v.GetPipelineState(ctx, o.PipelineName)
	if err != nil {
		return err
	}
	r := runReport{PipelineExecution: e.PipelineExecution, StageStates: st.StageStates, ActionExecutions: []apishape.ActionExecutionDetail{}}
	in := apishape.ListActionExecutionsInput{
		PipelineName: o.PipelineName,
		Filter:       &apishape.ActionExecutionFilter{PipelineExecutionID: o.PipelineExecutionID},
	}
	for {
		page, err := v.ListActionExecutions(ctx, in)
		if err != nil {
			return err
		}
		r.ActionExecutions = append(r.ActionExecutions, page.ActionExecutionDetails...)
		if page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// shellQuote quotes a path for a command line shown to the user.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
