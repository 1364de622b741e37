package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sluice-ci/sluice/internal/action/lambda"
	"github.com/sluice-ci/sluice/internal/api"
	"github.com/sluice-ci/sluice/internal/compile"
	"github.com/sluice-ci/sluice/internal/sigv4"
)

// ConnectFunctions connects the data folder's Lambda functions to the
// CodePipeline API at endpoint, which accepts creds: the functions call it
// to report their jobs, and their output goes to the action logs. Region
// and account are those the API puts in ARNs.
func (l *Local) ConnectFunctions(endpoint string, creds sigv4.Credentials, region, account string, log *slog.Logger) {
	l.functions.Connect(lambda.Wiring{
		Endpoint:    endpoint,
		Credentials: aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken},
		Region:      region, Account: account,
		Jobs: l.Runtime, Logs: lambda.Logs(l.Runtime.Logs), Log: log,
	})
}

// serveFunctions serves the CodePipeline API on a loopback port to the
// data folder's Lambda functions, signed with the keys of its credentials
// file, until Close, unless the folder has no functions or they are
// connected already (sluice serve connects them to its own API).
func (l *Local) serveFunctions() error {
	if l.functions.Connected() {
		return nil
	}
	if _, err := os.Stat(l.functions.Dir()); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	creds, err := sigv4.LoadOrCreate(l.DataDir)
	if err != nil {
		return err
	}
	region, account := compile.DefaultRegion, compile.DefaultAccount
	keys, err := api.NewKeys(account, []api.Key{{Name: "sluice", AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, Pipelines: []string{"*"}}}, sigv4.Config{Region: region})
	if err != nil {
		return err
	}
	handler, err := api.New(api.Config{
		Runtime: l.Runtime, Auth: keys, Authz: keys, Region: region, Account: account,
		// sluice run serves no webhooks.
		WebhookURL: func(string, string) string { return "" },
		Now:        l.Runtime.Now,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the functions' CodePipeline API: %w", err)
	}
	l.jobs = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go l.jobs.Serve(ln)
	l.ConnectFunctions("http://"+ln.Addr().String(), creds, region, account, nil)
	return nil
}

// closeFunctions stops the functions, then the API served to them.
func (l *Local) closeFunctions() error {
	if l.functions == nil {
		return nil
	}
	err := l.functions.Close()
	if l.jobs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = errors.Join(err, l.jobs.Shutdown(ctx))
	}
	return err
}
