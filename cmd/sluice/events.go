package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/events"
	"github.com/sluice-ci/sluice/internal/server"
)

func newEventsCmd() *cobra.Command {
	var (
		dataDir  string
		follow   bool
		pipeline string
	)
	cmd := &cobra.Command{
		Use:   "events [--follow] [--data-dir DIR] [--pipeline NAME]",
		Short: "Print the CodePipeline events of a data folder, one JSON event a line",
		Long: `Events prints the pipeline, stage and action state-change events that
'sluice serve' wrote to <data-dir>/events.jsonl, as EventBridge delivers
CodePipeline's events: one JSON object a line. --follow keeps printing new
events as they come, until interrupted.`,
		Example: `  sluice events --data-dir .sluice
  sluice events --follow --pipeline release | jq -r '.detail.state'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(fmt.Errorf("unexpected arguments %q", args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			path := filepath.Join(dataDir, server.EventsFile)
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && !follow {
				return nil
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetEscapeHTML(false)
			opts := events.TailOptions{Follow: follow, OnBadLine: func(err *events.LineError) {
				fmt.Fprintln(cmd.ErrOrStderr(), "sluice events:", err)
			}}
			_, err := events.Tail(ctx, path, opts, func(e events.Event) error {
				if pipeline != "" && e.Detail.Pipeline != pipeline {
					return nil
				}
				return enc.Encode(e)
			})
			if follow && errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", ".sluice", "data `folder`")
	f.BoolVar(&follow, "follow", false, "keep printing events as they are written")
	f.StringVar(&pipeline, "pipeline", "", "print the events of this pipeline only")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	return cmd
}

func init() { rootCmd.AddCommand(newEventsCmd()) }
