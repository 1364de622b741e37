package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-ci/sluice/internal/server"
	"github.com/sluice-ci/sluice/internal/sigv4"
	"github.com/sluice-ci/sluice/internal/webhook"
)

func newServeCmd() *cobra.Command {
	var (
		addr, dataDir, pipelines, region string
		maxBody                          int64
		quiet                            bool
	)
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8080] [--data-dir DIR] [--pipelines DIR]",
		Short: "Serve the CodePipeline API, webhooks and the engine over a data folder",
		Long: `Serve runs Sluice's durable local server: CodePipeline's API (the AWS CLI and
SDKs work against it), the webhook endpoints, the engine and the state store,
all over one data folder.

Every API call is signed with SigV4: the credentials are created on the first
start in <data-dir>/credentials (profile sluice). Keys restricted to some
pipelines can be added in <data-dir>/keys.json. The pipeline files of
--pipelines are created (with a first execution) or updated on start.
Executions in flight when the server stopped, or was killed, go on when it
starts again. SIGINT or SIGTERM shut it down gracefully.`,
		Example: `  sluice serve --data-dir .sluice --pipelines pipelines
  AWS_SHARED_CREDENTIALS_FILE=.sluice/credentials aws --profile sluice --region us-east-1 \
      --endpoint-url http://127.0.0.1:8080 codepipeline list-pipelines`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(fmt.Errorf("unexpected arguments %q", args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if quiet {
				level = slog.LevelWarn
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := server.Open(ctx, server.Options{
				Addr: addr, DataDir: dataDir, Pipelines: pipelines, Region: region,
				MaxWebhookBody: maxBody, Log: log,
			})
			if err != nil {
				return err
			}
			if err := srv.Start(ctx); err != nil {
				srv.Shutdown(context.Background())
				return err
			}
			printServing(cmd, srv, dataDir, region)
			<-ctx.Done()
			fmt.Fprintln(cmd.ErrOrStderr(), "sluice serve: shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "`host:port` to listen on (port 0 picks a free one)")
	f.StringVar(&dataDir, "data-dir", ".sluice", "data `folder`: state, engine history, artifacts, logs, credentials")
	f.StringVar(&pipelines, "pipelines", "", "`folder` of pipeline files to create or update on start")
	f.StringVar(&region, "region", "us-east-1", "region in ARNs")
	f.Int64Var(&maxBody, "max-webhook-body", webhook.MaxBody, "largest webhook delivery accepted, in `bytes` (at most GitHub's 25 MB)")
	f.BoolVar(&quiet, "quiet", false, "log warnings and errors only")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	return cmd
}

// printServing says where the server is and how to reach it.
func printServing(cmd *cobra.Command, srv *server.Server, dataDir, region string) {
	creds := filepath.Join(dataDir, sigv4.CredentialsFile)
	if abs, err := filepath.Abs(creds); err == nil {
		creds = abs
	}
	out := cmd.OutOrStdout()
	ep := srv.Endpoint()
	fmt.Fprintf(out, "sluice serve: listening on %s\n", ep)
	fmt.Fprintf(out, "  data folder:  %s\n", dataDir)
	fmt.Fprintf(out, "  AWS CLI:      AWS_SHARED_CREDENTIALS_FILE=%s aws --profile %s --region %s --endpoint-url %s codepipeline list-pipelines\n",
		creds, sigv4.Profile, region, ep)
	fmt.Fprintf(out, "  GitHub:       %s%s (secret in %s)\n", ep, webhook.RepositoryPath, filepath.Join(dataDir, server.GitHubSecretFile))
	fmt.Fprintf(out, "  EventBridge:  %s%s\n", ep, server.EventsPath)
	fmt.Fprintf(out, "  events:       sluice events --follow --data-dir %s\n", dataDir)
}

func init() { rootCmd.AddCommand(newServeCmd()) }
