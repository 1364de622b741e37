package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/pipeline"
)

func newFmtCmd() *cobra.Command {
	p := params{}
	var write bool
	cmd := &cobra.Command{
		Use:   "fmt FILE",
		Short: "Print a pipeline declaration in canonical form",
		Long: `Fmt prints FILE in canonical form, in its own syntax (JSON stays JSON, YAML
stays YAML) and its own envelope (a bare declaration, a CreatePipeline
request with its tags, a GetPipeline response with its metadata): fields in
the order of CodePipeline's API model, configuration keys sorted, two-space
indentation. With --write it rewrites FILE instead, when it changes.

CloudFormation templates are not rewritten. A declaration with unknown
fields or values of the wrong type is not formatted either, since
formatting would drop them; fmt lists them instead.

Exit status: 0 when formatted, 1 when the declaration is empty or cannot
be formatted without loss, 2 when FILE cannot be read or parsed, or is a
template.`,
		Example: `  sluice fmt pipelines/demo.yaml
  sluice fmt --write pipeline.json
  aws codepipeline get-pipeline --name demo > demo.json && sluice fmt demo.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			f, bad := loadPipelineFile(name, pipeline.Options{Params: p})
			if bad != nil {
				return &exitError{code: exitUnreadable, err: fmt.Errorf("%s: %s", name, bad.Message)}
			}
			out, err := f.Canonical()
			var loss *pipeline.LossError
			switch {
			case errors.Is(err, pipeline.ErrTemplate):
				return &exitError{code: exitUnreadable, err: fmt.Errorf("%s: %w", name, err)}
			case errors.As(err, &loss), errors.Is(err, pipeline.ErrEmpty):
				return &exitError{code: exitInvalid, err: fmt.Errorf("%s: %w", name, err)}
			case err != nil:
				return &exitError{code: exitUnreadable, err: fmt.Errorf("%s: %w", name, err)}
			}
			if !write {
				_, err := cmd.OutOrStdout().Write(out)
				return err
			}
			return writeIfChanged(name, out)
		},
	}
	cmd.Flags().BoolVarP(&write, "write", "w", false, "rewrite FILE in place instead of printing it")
	cmd.Flags().Var(p, "param", paramUsage)
	return cmd
}

// writeIfChanged replaces name's content with data unless it is already
// data, keeping the file's permissions.
func writeIfChanged(name string, data []byte) error {
	old, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if bytes.Equal(old, data) {
		return nil
	}
	info, err := os.Stat(name)
	if err != nil {
		return fmt.Errorf("stat %s: %w", name, err)
	}
	tmp := name + ".sluice-fmt"
	err = os.WriteFile(tmp, data, info.Mode().Perm())
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		// A part written before the disk filled up goes too.
		_ = os.Remove(tmp)
		return fmt.Errorf("rewrite %s: %w", name, err)
	}
	return nil
}

func init() {
	rootCmd.AddCommand(newFmtCmd())
}
