package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/states/s3local"
)

// statesCmd groups the commands of the embedded Step Functions engine.
var statesCmd = &cobra.Command{
	Use:   "states",
	Short: "Run state machines on Sluice's embedded Step Functions engine",
	Long: `The embedded Step Functions engine runs Amazon States Language state machines
locally, with Step Functions' semantics, history events and error texts.`,
}

// s3Handlers returns a registry answering the S3 calls of Distributed Map
// states (ItemReader, ResultWriter) from the local buckets in dir.
func s3Handlers(dir string) *states.Registry {
	reg := states.NewRegistry()
	s3local.New(dir).Register(reg)
	return reg
}

// usageError is a bad invocation: exit status 2, the reason on stderr.
func usageError(err error) error { return &exitError{code: 2, err: err} }

func newStatesRunCmd() *cobra.Command {
	var (
		definition, input, inputFile  string
		mockConfig, testCase, machine string
		s3Dir                         string
		virtualClock, history         bool
	)
	cmd := &cobra.Command{
		Use:   "run --definition FILE [--input JSON | --input-file FILE] [--mock-config FILE --test-case NAME [--state-machine NAME]] [--s3-dir DIR] [--virtual-clock] [--history]",
		Short: "Run one execution of a state machine definition and print how it ended",
		Long: `Run executes a state machine definition once and prints one JSON object:

  {"status": "SUCCEEDED|FAILED|TIMED_OUT|ABORTED", "output": <JSON>, "error": "...", "cause": "...", "events": [...]}

output is present when the execution succeeded, error and cause when it did not,
events (GetExecutionHistory-shaped) with --history. The exit status is 0 for any
terminal status, 2 for an invalid definition or bad usage.

Task states are answered by the test case of a Step Functions Local mock config
(--mock-config, --test-case); a Task with no mocked response fails, nothing real
is called. --virtual-clock lets Wait states, retry back-off and timeouts pass in
simulated time, instantly.

A Distributed Map state's ItemReader (s3:getObject, s3:listObjectsV2) and
ResultWriter (s3:putObject) use the local buckets of --s3-dir: bucket B, key K
is the file DIR/B/K, as for the pipelines' S3 actions. A bucket is a folder
that exists; the ReaderConfig is followed (CSV, JSON, JSONL, MANIFEST).`,
		Example: `  sluice states run --definition machine.asl.json --input '{"n": 1}'
  sluice states run --definition machine.asl.json --input-file in.json \
      --mock-config mocks.json --test-case HappyPath --virtual-clock --history
  mkdir -p .sluice/s3/ratings && cp ratings.csv .sluice/s3/ratings/
  sluice states run --definition distributed-map.asl.json --s3-dir .sluice/s3`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(fmt.Errorf("unexpected arguments %q", args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := states.RunOptions{VirtualClock: virtualClock, History: history, TestCase: testCase, Machine: machine,
				Handlers: s3Handlers(s3Dir)}
			var err error
			switch {
			case definition == "":
				return usageError(errors.New("--definition is required"))
			case input != "" && inputFile != "":
				return usageError(errors.New("--input and --input-file cannot both be given"))
			case (mockConfig == "") != (testCase == ""):
				return usageError(errors.New("--mock-config and --test-case go together"))
			case machine != "" && mockConfig == "":
				return usageError(errors.New("--state-machine needs --mock-config"))
			}
			if opts.Definition, err = os.ReadFile(definition); err != nil {
				return usageError(fmt.Errorf("read definition: %w", err))
			}
			opts.Input = []byte(input)
			if inputFile != "" {
				if opts.Input, err = os.ReadFile(inputFile); err != nil {
					return usageError(fmt.Errorf("read input: %w", err))
				}
			}
			if mockConfig != "" {
				data, err := os.ReadFile(mockConfig)
				if err != nil {
					return usageError(fmt.Errorf("read mock config: %w", err))
				}
				if opts.Mocks, err = states.ParseMockConfig(data); err != nil {
					return usageError(err)
				}
			}
			res, err := states.Run(cmd.Context(), opts)
			if err != nil {
				var api *states.APIError
				if errors.As(err, &api) {
					return usageError(err)
				}
				return err
			}
			out, err := res.Encode()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&definition, "definition", "", "state machine definition (Amazon States Language JSON) `file`")
	f.StringVar(&input, "input", "", "execution input as JSON text (default {})")
	f.StringVar(&inputFile, "input-file", "", "`file` holding the execution input")
	f.StringVar(&mockConfig, "mock-config", "", "Step Functions Local MockConfigFile `file`")
	f.StringVar(&testCase, "test-case", "", "test case of the mock config that answers Task states")
	f.StringVar(&machine, "state-machine", "", "state machine of the mock config (needed when it has several)")
	f.StringVar(&s3Dir, "s3-dir", filepath.Join(".sluice", "s3"), "`folder` of the local S3 buckets that Distributed Map states read and write")
	f.BoolVar(&virtualClock, "virtual-clock", false, "let Wait states, retry back-off and timeouts pass instantly")
	f.BoolVar(&history, "history", false, "include the execution history in the output")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	return cmd
}

func init() {
	statesCmd.AddCommand(newStatesRunCmd())
	rootCmd.AddCommand(statesCmd)
}
