// Command sluice validates, compiles and runs release pipelines declared as
// AWS CodePipeline declares them, locally or against a Sluice server.
//
// Each subcommand lives in its own file and registers itself on the root
// command from an init function.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code through cobra's RunE. A nil err means
// the command already reported what went wrong and main prints nothing more.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

var rootCmd = &cobra.Command{
	Use:   "sluice",
	Short: "Release pipelines with AWS CodePipeline's semantics, in your account or on your laptop",
	Long: `Sluice reads pipelines declared as AWS CodePipeline declares them (the JSON of
'aws codepipeline get-pipeline', YAML, or a CloudFormation template), compiles
them to Step Functions state machines, and runs them in AWS or locally.`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		code := 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
			if ee.err == nil {
				os.Exit(code)
			}
		}
		fmt.Fprintln(os.Stderr, "sluice:", err)
		os.Exit(code)
	}
}
