package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/pipeline"
)

// Exit codes of validate, fmt and plan.
const (
	exitValid      = 0
	exitInvalid    = 1
	exitUnreadable = 2
)

// params is the repeatable --param Name=Value flag.
type params map[string]string

func (p params) String() string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + p[k]
	}
	return strings.Join(parts, ",")
}

func (p params) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want Name=Value, got %q", s)
	}
	p[name] = value
	return nil
}

func (p params) Type() string { return "Name=Value" }

const paramUsage = "give a CloudFormation template parameter a value (repeatable); " +
	"also sets pseudo parameters such as AWS::Region (default us-east-1) and AWS::AccountId"

// finding is one problem of one file, as validate --output json prints it.
type finding struct {
	File     string `json:"file"`
	Resource string `json:"resource,omitempty"`
	Path     string `json:"path"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Severity string `json:"severity"`
}

// The codes of a file that cannot be checked at all.
const (
	codeUnreadable = "Unreadable"
	codeUnparsable = "Unparsable"
)

// loadPipelineFile reads a pipeline file, telling a file that cannot be
// read from one that cannot be parsed.
func loadPipelineFile(name string, opts pipeline.Options) (*pipeline.File, *finding) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, &finding{File: name, Code: codeUnreadable, Message: err.Error(), Severity: string(pipeline.SeverityError)}
	}
	f, err := pipeline.Parse(data, opts)
	if err != nil {
		return nil, &finding{File: name, Code: codeUnparsable, Message: err.Error(), Severity: string(pipeline.SeverityError)}
	}
	return f, nil
}

// findings lists every problem of a parsed file.
func findings(name string, f *pipeline.File) []finding {
	var out []finding
	add := func(resource string, p pipeline.Problem) {
		out = append(out, finding{File: name, Resource: resource, Path: p.Path, Code: string(p.Code),
			Message: p.Message, Severity: string(p.Severity)})
	}
	for _, p := range f.Notes {
		add("", p)
	}
	for _, pl := range f.Pipelines {
		for _, p := range pl.Problems() {
			add(pl.Resource, p)
		}
	}
	return out
}

// writeFinding prints a problem on one line: file (resource): path: severity Code: message.
func writeFinding(w io.Writer, f finding) {
	where := f.File
	if f.Resource != "" {
		where += " (" + f.Resource + ")"
	}
	if f.Path != "" {
		where += ": " + f.Path
	}
	fmt.Fprintf(w, "%s: %s %s: %s\n", where, f.Severity, f.Code, f.Message)
}

func countSeverity(list []finding) (errs, warns int) {
	for _, f := range list {
		if f.Severity == string(pipeline.SeverityError) {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func newValidateCmd() *cobra.Command {
	p := params{}
	var output string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check pipeline declarations against CodePipeline's rules",
		Long: `Validate reads each FILE (a pipeline declaration, a CreatePipeline request,
a GetPipeline response, or a CloudFormation/SAM template with
AWS::CodePipeline::Pipeline resources; JSON or YAML, detected automatically)
and reports every problem at once: the field path, a stable code, and what
is wrong in plain words, with the fix when it is obvious.

CloudFormation intrinsics are resolved from --param values, parameter
defaults and pseudo parameters. Values only a deployed stack knows
(Fn::GetAtt, Fn::ImportValue, a Ref to a resource) are reported as
UnresolvedValue warnings, and everything else is checked.

Warnings do not make a file invalid. Exit status: 0 when every file is
valid, 1 when any declaration is invalid, 2 when a file cannot be read or
parsed (code Unreadable or Unparsable).

With --output json, validate prints one JSON array of all problems,
warnings included: [{"file", "resource", "path", "code", "message",
"severity"}], where severity is "error" or "warning" and resource is the
CloudFormation logical ID, left out for other forms.`,
		Example: `  sluice validate pipelines/demo.yaml
  sluice validate pipelines/*.yaml --output json
  sluice validate template.yaml --param GitHubToken=x --param AWS::Region=eu-west-1`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if output != "text" && output != "json" {
				return &exitError{code: exitUnreadable, err: fmt.Errorf("--output is text or json, not %q", output)}
			}
			return runValidate(cmd.OutOrStdout(), files, pipeline.Options{Params: p}, output == "json")
		},
	}
	cmd.Flags().Var(p, "param", paramUsage)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func runValidate(w io.Writer, files []string, opts pipeline.Options, asJSON bool) error {
	all := []finding{}
	code := exitValid
	for _, name := range files {
		f, bad := loadPipelineFile(name, opts)
		var list []finding
		if bad != nil {
			list = []finding{*bad}
			code = max(code, exitUnreadable)
		} else {
			list = findings(name, f)
		}
		errs, warns := countSeverity(list)
		if errs > 0 {
			code = max(code, exitInvalid)
		}
		all = append(all, list...)
		if asJSON {
			continue
		}
		for _, fd := range list {
			writeFinding(w, fd)
		}
		switch {
		case bad != nil:
		case errs > 0:
			fmt.Fprintf(w, "%s: invalid (%s, %s)\n", name, plural(errs, "error"), plural(warns, "warning"))
		case warns > 0:
			fmt.Fprintf(w, "%s: valid (%s)\n", name, plural(warns, "warning"))
		default:
			fmt.Fprintf(w, "%s: valid\n", name)
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(all); err != nil {
			return &exitError{code: exitUnreadable, err: fmt.Errorf("write report: %w", err)}
		}
	}
	if code != exitValid {
		return &exitError{code: code}
	}
	return nil
}

func init() {
	rootCmd.AddCommand(newValidateCmd())
}
