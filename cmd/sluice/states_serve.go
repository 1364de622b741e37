package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/history"
	"github.com/sluice-ci/sluice/internal/sfnapi"
	"github.com/sluice-ci/sluice/internal/states"
)

// shutdownGrace is how long a stopping server lets requests in flight
// finish.
const shutdownGrace = 10 * time.Second

func newStatesServeCmd() *cobra.Command {
	var addr, dataDir, s3Dir, region, account, mockConfig string
	var parkUnhandled bool
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] [--data-dir DIR] [--s3-dir DIR] [--mock-config FILE] [--park-unhandled=false]",
		Short: "Serve the Step Functions API of the embedded engine",
		Long: `Serve runs the embedded engine behind the AWS Step Functions API (the JSON 1.0
protocol, X-Amz-Target: AWSStepFunctions.<Operation>), so that the AWS CLI and
the AWS SDKs drive it unchanged: create, update, describe, list and delete
state machines; start, stop, describe, list, redrive executions and read their
history; SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat.

State machines and every history event are kept in the SQLite store
states.db in --data-dir, written before the engine acts. On start the server
resumes every execution left open, with its timers' deadlines.

Requests are not authenticated: any credentials and any SigV4 signature are
accepted, so keep the server on a loopback address.

Task states are answered from the Step Functions Local mock config given by
--mock-config, for executions started on '<state machine ARN>#<test case>'.
Nothing real is called: a Task whose resource waits for a task token
(.waitForTaskToken) parks its token instead, as if a worker had received it,
until you complete the task with send-task-success or send-task-failure. The
server prints each parked token, and the token is in the TaskScheduled event's
parameters (get-execution-history) wherever the definition passes
$$.Task.Token, as on AWS. With --park-unhandled=false such tasks fail, like
every other Task state that the mock config does not answer.

A Distributed Map state's ItemReader (s3:getObject, s3:listObjectsV2) and
ResultWriter (s3:putObject) use the local buckets of --s3-dir (by default the
s3 folder of --data-dir, which the pipelines' S3 actions use too): bucket B,
key K is the file DIR/B/K. A bucket is a folder that exists.

Stop the server with Ctrl-C or SIGTERM: running executions stop where they
are and resume at the next start.`,
		Example: `  sluice states serve --addr 127.0.0.1:8083 --data-dir .sluice
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
  aws stepfunctions --endpoint-url http://127.0.0.1:8083 list-state-machines
  aws stepfunctions --endpoint-url http://127.0.0.1:8083 send-task-success \
      --task-token TOKEN --task-output '{"approved": true}'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(fmt.Errorf("unexpected arguments %q", args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			var mocks *states.MockConfig
			if mockConfig != "" {
				data, err := os.ReadFile(mockConfig)
				if err != nil {
					return usageError(fmt.Errorf("read mock config: %w", err))
				}
				if mocks, err = states.ParseMockConfig(data); err != nil {
					return usageError(err)
				}
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return usageError(fmt.Errorf("listen on %s: %w", addr, err))
			}
			defer ln.Close()
			store, err := history.Open(dataDir, history.Options{})
			if err != nil {
				return err
			}
			if s3Dir == "" {
				s3Dir = filepath.Join(dataDir, "s3")
			}
			opts := states.Options{Log: store, Region: region, Account: account, Mocks: mocks, ParkUnhandled: parkUnhandled,
				Handlers: s3Handlers(s3Dir)}
			if parkUnhandled {
				opts.Parked = printParked(cmd.OutOrStdout(), "http://"+ln.Addr().String())
			}
			eng, err := states.New(opts)
			if err != nil {
				store.Close()
				return fmt.Errorf("start engine: %w", err)
			}
			return serveStates(cmd, ln, eng, filepath.Join(dataDir, history.FileName))
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8083", "`address` to listen on (port 0 picks a free port)")
	f.StringVar(&dataDir, "data-dir", ".sluice", "`folder` of the history store")
	f.StringVar(&s3Dir, "s3-dir", "", "`folder` of the local S3 buckets that Distributed Map states read and write (default DATA-DIR/s3)")
	f.StringVar(&region, "region", "us-east-1", "AWS region in the ARNs")
	f.StringVar(&account, "account", "123456789012", "AWS account id in the ARNs")
	f.StringVar(&mockConfig, "mock-config", "", "Step Functions Local MockConfigFile `file` answering Task states")
	f.BoolVar(&parkUnhandled, "park-unhandled", true, "park the task token of a .waitForTaskToken Task that nothing answers, for send-task-success")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	return cmd
}

// printParked returns the engine's Parked callback: it prints how to
// complete each parked task.
func printParked(out io.Writer, url string) func(states.TaskInfo) {
	return func(info states.TaskInfo) {
		fmt.Fprintf(out, "Task %s of %s waits for its task token:\n  aws stepfunctions --endpoint-url %s send-task-success --task-token %s --task-output '{}'\n",
			info.StateName, info.ExecutionArn, url, info.Token)
	}
}

// serveStates serves the API on ln until SIGINT or SIGTERM, then lets the
// requests in flight finish and closes the engine, which leaves open
// executions to be resumed.
func serveStates(cmd *cobra.Command, ln net.Listener, eng *states.Engine, db string) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: sfnapi.New(eng), ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "Step Functions API listening on %s (history in %s)\n", url, db)
	fmt.Fprintf(out, "Point the AWS CLI at it:\n  aws stepfunctions --endpoint-url %s list-state-machines\n", url)
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s is not a loopback address and requests are not authenticated\n", ln.Addr())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var err error
	select {
	case err = <-served:
		err = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if serr := srv.Shutdown(shutdown); errors.Is(serr, context.DeadlineExceeded) {
			srv.Close()
		} else if serr != nil {
			err = fmt.Errorf("shut down: %w", serr)
		}
		fmt.Fprintln(out, "Stopped; open executions resume at the next start.")
	}
	if cerr := eng.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close engine: %w", cerr)
	}
	return err
}

func init() { statesCmd.AddCommand(newStatesServeCmd()) }
