package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sluice-ci/sluice/internal/client"
)

// endpointEnv names the environment variable that sets --endpoint's default.
const endpointEnv = "SLUICE_ENDPOINT"

// remoteHelp is the part of every server command's help that says how it
// reaches the server.
const remoteHelp = `
The command calls the CodePipeline API of a Sluice server: --endpoint (default
$SLUICE_ENDPOINT, else ` + client.DefaultEndpoint + `, where 'sluice serve' listens).
` + signingHelp

// signingHelp says how requests to a server are signed, and what --output
// prints.
const signingHelp = `Requests are signed with SigV4, for --region (default us-east-1), with:
  - the AWS profile given by --profile (the AWS credential chain), if any;
  - otherwise, for an endpoint on this machine or when --data-dir is given,
    the profile sluice of <data-dir>/credentials, the file 'sluice serve'
    creates (default data folder .sluice);
  - otherwise (a deployed Sluice) the AWS credential chain: AWS_PROFILE,
    AWS_ACCESS_KEY_ID, ~/.aws, SSO, instance roles.

Output is a table, or with --output json the API's answer with
CodePipeline's member names (timestamps in epoch seconds, as the API and
'sluice run --output json' write them).`

// remoteFlags are the flags of the commands that call a server.
type remoteFlags struct {
	endpoint, dataDir, profile, region, output string
	// set records which flags the user gave, once the command runs.
	set func(name string) bool
}

// register adds the flags to fs; dataDirUsage says what --data-dir is for
// the command.
func (r *remoteFlags) register(fs *pflag.FlagSet, dataDirUsage string) {
	fs.StringVar(&r.endpoint, "endpoint", client.DefaultEndpoint, "`URL` of the Sluice server's API; $"+endpointEnv+" when set and the flag is not given")
	r.registerSigning(fs, dataDirUsage)
}

// registerSigning adds the flags other than --endpoint.
func (r *remoteFlags) registerSigning(fs *pflag.FlagSet, dataDirUsage string) {
	fs.StringVar(&r.dataDir, "data-dir", defaultDataDir, dataDirUsage)
	fs.StringVar(&r.profile, "profile", "", "sign with this AWS `profile` (the AWS credential chain) instead of the data folder's credentials")
	fs.StringVar(&r.region, "region", client.DefaultRegion, "`region` that requests are signed for")
	fs.StringVarP(&r.output, "output", "o", "table", "output `format`: table, or json (the API's answer)")
}

const serverDataDirUsage = "data `folder` of the local server, whose credentials file signs the requests"

// bind reads which flags the running command was given.
func (r *remoteFlags) bind(cmd *cobra.Command) { r.set = cmd.Flags().Changed }

// endpointGiven says whether the user chose an endpoint, by flag or by
// environment; after bind.
func (r *remoteFlags) endpointGiven() bool {
	return r.set("endpoint") || os.Getenv(endpointEnv) != ""
}

// connect checks the output format and builds the client of the server.
func (r *remoteFlags) connect(cmd *cobra.Command) (*client.Conn, error) {
	r.bind(cmd)
	if r.output != "table" && r.output != "json" {
		return nil, usageError(fmt.Errorf("--output is table or json, not %q", r.output))
	}
	if !r.set("endpoint") {
		if env := os.Getenv(endpointEnv); env != "" {
			r.endpoint = env
		}
	}
	if err := client.CheckEndpoint(r.endpoint); err != nil {
		return nil, usageError(err)
	}
	conn, err := client.Dial(cmd.Context(), client.Options{
		Endpoint: r.endpoint, DataDir: r.dataDir, DataDirGiven: r.set("data-dir"),
		Profile: r.profile, Region: r.region,
	})
	if err != nil {
		return nil, &exitError{code: 1, err: err}
	}
	return conn, nil
}

func (r *remoteFlags) json() bool { return r.output == "json" }

// followHint is the line that tells how to follow an execution of a
// pipeline with sluice watch, on the same server.
func (r *remoteFlags) followHint(pipeline, id string) string {
	return "Follow it: sluice watch " + pipeline + " --execution-id " + id + r.flagsAgain() + "\n"
}

// flagsAgain repeats the flags that reach the same server, for commands
// that the output suggests.
func (r *remoteFlags) flagsAgain() string {
	s := " --endpoint " + shellQuote(r.endpoint)
	if r.set("data-dir") {
		s += " --data-dir " + shellQuote(r.dataDir)
	}
	if r.profile != "" {
		s += " --profile " + shellQuote(r.profile)
	}
	if r.set("region") {
		s += " --region " + shellQuote(r.region)
	}
	return s
}

// failed is the exit error of a failed call.
func failed(conn *client.Conn, err error, t client.Target) error {
	return &exitError{code: 1, err: conn.Explain(err, t)}
}

// writeJSON prints an API answer.
func writeJSON(cmd *cobra.Command, v any) error {
	if err := client.WriteJSON(cmd.OutOrStdout(), v); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("write JSON: %w", err)}
	}
	return nil
}

// newTable returns a writer of aligned columns; Flush prints them.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// row writes one line of cells; empty cells are shown as "-".
func row(w io.Writer, cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// timeLayout is how tables show times: local time, to the second.
const timeLayout = "2006-01-02 15:04:05"

// when shows a time of the API; empty when there is none.
func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.Local().Format(timeLayout)
}

// str reads an optional string member.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// num reads an optional number member.
func num(p *int32) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(int(*p))
}

// exactArgs is cobra.ExactArgs with a usage error's exit status and the
// arguments' names.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageError(fmt.Errorf("want %d argument(s), %s; got %d", len(names), strings.Join(names, " "), len(args)))
		}
		for i, a := range args {
			if a == "" {
				return usageError(fmt.Errorf("%s is empty", names[i]))
			}
		}
		return nil
	}
}

// remoteCommand finishes a command that calls a server: usage errors exit
// with status 2.
func remoteCommand(cmd *cobra.Command) *cobra.Command {
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	return cmd
}

// groupCommand is a command that only holds subcommands.
func groupCommand(use, short, long string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use: use, Short: short, Long: long,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(cmd.ErrOrStderr())
			cmd.Usage()
			return &exitError{code: 2, err: errors.New(cmd.CommandPath() + " needs a subcommand")}
		},
	}
	cmd.AddCommand(subs...)
	return remoteCommand(cmd)
}
