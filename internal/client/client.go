// Package client owns the command line's connection to a Sluice server's
// CodePipeline API: which endpoint, which credentials and region sign the
// requests, the SDK client (aws-sdk-go-v2's service/codepipeline, so that
// the same commands work against a local `sluice serve` and a deployed
// Sluice), errors turned into words a user can act on, the JSON of the
// SDK's shapes with CodePipeline's member names, and pipeline declarations
// converted to and from the SDK's type.
//
// The JSON writer is written by hand: the SDK serialises only request
// shapes, and its output types carry no JSON tags, so encoding/json would
// print Go field names; the member names follow from the field names by
// one rule and a short list of exceptions, which the tests check against
// the SDK's own decoder.
package client

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"

	"github.com/sluice-ci/sluice/internal/sigv4"
)

// DefaultEndpoint is where `sluice serve` listens by default.
const DefaultEndpoint = "http://127.0.0.1:8080"

// DefaultRegion is the region requests are signed for unless told.
const DefaultRegion = "us-east-1"

// Options say where the API is and how to sign for it.
type Options struct {
	// Endpoint is the API's base URL.
	Endpoint string
	// DataDir is the data folder whose credentials file signs requests to
	// a local server.
	DataDir string
	// DataDirGiven says DataDir was chosen by the user: its credentials
	// then sign requests to any endpoint.
	DataDirGiven bool
	// Profile, when set, chooses the AWS credential chain with that
	// profile, for any endpoint.
	Profile string
	// Region is the region requests are signed for; empty means
	// DefaultRegion.
	Region string
}

// Signer says which credentials sign requests.
type Signer int

// The credential sources.
const (
	// SignWithDataDir signs with the profile "sluice" of
	// <data-dir>/credentials, the file `sluice serve` creates.
	SignWithDataDir Signer = iota
	// SignWithChain signs with the AWS SDK's default credential chain
	// (environment, shared files and profiles, SSO, instance roles).
	SignWithChain
)

// Signer chooses the credentials: the AWS credential chain when a profile
// is named; the data folder's credentials file when the data folder was
// named or the endpoint is on this machine (a local `sluice serve`); the
// AWS credential chain otherwise (a deployed Sluice).
func (o Options) Signer() Signer {
	switch {
	case o.Profile != "":
		return SignWithChain
	case o.DataDirGiven || IsLocal(o.Endpoint):
		return SignWithDataDir
	}
	return SignWithChain
}

// IsLocal says whether an endpoint URL is on this machine's loopback
// interface.
func IsLocal(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckEndpoint refuses an endpoint that is not an http or https URL with
// a host.
func CheckEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint %q: want a URL such as %s", endpoint, DefaultEndpoint)
	}
	return nil
}

// Conn is a client of one Sluice server.
type Conn struct {
	API      *codepipeline.Client
	Endpoint string
	// Credentials says where the signing credentials come from, for
	// messages.
	Credentials string
}

// Dial builds the client. It reads credentials but sends nothing.
func Dial(ctx context.Context, o Options) (*Conn, error) {
	if err := CheckEndpoint(o.Endpoint); err != nil {
		return nil, err
	}
	region := o.Region
	if region == "" {
		region = DefaultRegion
	}
	c := &Conn{Endpoint: o.Endpoint}
	opts := func(co *codepipeline.Options) {
		co.BaseEndpoint = aws.String(o.Endpoint)
		co.Region = region
		if IsLocal(o.Endpoint) {
			// A server on this machine has nothing to throttle: an error
			// is final, and a refused connection is said at once.
			co.RetryMaxAttempts = 1
		}
	}
	if o.Signer() == SignWithDataDir {
		path := filepath.Join(o.DataDir, sigv4.CredentialsFile)
		creds, err := sigv4.Load(path)
		if err != nil {
			return nil, fmt.Errorf("%w (the file 'sluice serve --data-dir %s' creates on its first start; give the server's folder with --data-dir, or name an AWS profile with --profile)", err, o.DataDir)
		}
		c.Credentials = fmt.Sprintf("profile %s of %s", sigv4.Profile, path)
		provider := credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
		c.API = codepipeline.New(codepipeline.Options{Credentials: provider}, opts)
		return c, nil
	}
	load := []func(*config.LoadOptions) error{config.WithRegion(region)}
	c.Credentials = "the AWS credential chain"
	if o.Profile != "" {
		load = append(load, config.WithSharedConfigProfile(o.Profile))
		c.Credentials = "AWS profile " + o.Profile
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	c.API = codepipeline.NewFromConfig(cfg, opts)
	return c, nil
}
