package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/compile"
)

func init() {
	rootCmd.AddCommand(newCompileCmd())
}

func newCompileCmd() *cobra.Command {
	var opts compile.Options
	var out, only string
	cmd := &cobra.Command{
		Use:   "compile FILE|DIR...",
		Short: "Compile pipelines to Step Functions state machine definitions",
		Long: `Compile reads pipeline files (any form 'sluice validate' reads) and prints the
Amazon States Language definition of each pipeline's state machine. Its Task
states invoke the gate and action functions of the Sluice stack named by
--stack in --account and --region.

A folder stands for every .yaml, .yml and .json file directly in it. With
--out, each definition is written to DIR/<pipeline>.asl.json instead. When
every argument is a folder and --pipeline is not given, the definitions in
DIR that none of their pipelines produces any more are removed too; a file
or --pipeline writes its definitions and leaves the others alone.`,
		Example: `  sluice compile pipelines/release.yaml
  sluice compile --account 111122223333 --region eu-west-1 --stack ci pipelines/release.yaml
  sluice compile --out statemachines pipelines`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var all []compile.Compiled
			for _, arg := range args {
				cs, err := compileArg(arg, opts)
				if err != nil {
					return &exitError{code: 1, err: err}
				}
				all = append(all, cs...)
			}
			if only != "" {
				var picked []compile.Compiled
				for _, c := range all {
					if c.Pipeline == only {
						picked = append(picked, c)
					}
				}
				if len(picked) == 0 {
					return &exitError{code: 1, err: fmt.Errorf("no pipeline named %s in %v", only, args)}
				}
				all = picked
			}
			if out != "" {
				if err := compile.WriteDir(out, all, only == "" && allFolders(args)); err != nil {
					return &exitError{code: 1, err: err}
				}
				for _, c := range all {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s -> %s/%s\n", c.Source, out, compile.DefinitionFile(c.Pipeline))
				}
				return nil
			}
			if len(all) > 1 {
				return &exitError{code: 2, err: errors.New("several pipelines: choose one with --pipeline, or write them all with --out DIR")}
			}
			_, err := cmd.OutOrStdout().Write(all[0].Definition)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Account, "account", compile.DefaultAccount, "AWS account of the Sluice stack")
	f.StringVar(&opts.Region, "region", compile.DefaultRegion, "AWS region of the Sluice stack")
	f.StringVar(&opts.Stack, "stack", compile.DefaultStack, "name of the Sluice stack (its functions are STACK-gate and STACK-action)")
	f.StringVar(&out, "out", "", "write DIR/<pipeline>.asl.json files instead of printing")
	f.StringVar(&only, "pipeline", "", "compile only the pipeline of this name")
	return cmd
}

// allFolders reports whether every argument names a folder, which compile
// has read whole.
func allFolders(args []string) bool {
	for _, arg := range args {
		if st, err := os.Stat(arg); err != nil || !st.IsDir() {
			return false
		}
	}
	return true
}

func compileArg(arg string, opts compile.Options) ([]compile.Compiled, error) {
	st, err := os.Stat(arg)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return compile.Dir(arg, opts)
	}
	return compile.File(arg, opts)
}
