// Package local wires the local stand-ins of CodePipeline's action types
// into an action registry, each keeping its state in the data folder:
// s3/ (buckets), codecommit/ and git/ (repositories), codebuild/ (project
// buildspecs, build numbers, scratch folders and results), lambda/ (the
// functions of Lambda invoke actions, which read artifacts from
// artifacts/).
package local

import (
	"path/filepath"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/action/codebuild"
	"github.com/sluice-ci/sluice/internal/action/lambda"
	"github.com/sluice-ci/sluice/internal/action/s3"
	"github.com/sluice-ci/sluice/internal/action/source"
)

// Register adds every local stand-in to reg and returns the host of the
// Lambda invoke action's functions, which invokes none before it is
// connected to the CodePipeline API they report to, and is to be closed
// with the runtime. Approval actions are not among the stand-ins: the
// execution semantics provide them.
func Register(reg *action.Registry, dataDir string) *lambda.Host {
	buckets := s3.NewStore(filepath.Join(dataDir, "s3"))
	runner := &codebuild.Runner{Dir: filepath.Join(dataDir, "codebuild")}
	git := filepath.Join(dataDir, "git")
	functions := lambda.NewHost(filepath.Join(dataDir, "lambda"), filepath.Join(dataDir, "artifacts"))
	for _, e := range []struct {
		category, owner, provider string
		p                         action.Provider
	}{
		{"Source", "AWS", "S3", &s3.Source{Store: buckets}},
		{"Deploy", "AWS", "S3", &s3.Deploy{Store: buckets}},
		{"Source", "AWS", "CodeCommit", &source.CodeCommit{Dir: filepath.Join(dataDir, "codecommit")}},
		{"Source", "AWS", "CodeStarSourceConnection", &source.Connection{Dir: git}},
		{"Source", "ThirdParty", "GitHub", &source.GitHub{Dir: git}},
		{"Build", "AWS", "CodeBuild", &codebuild.CodeBuild{Runner: runner}},
		{"Test", "AWS", "CodeBuild", &codebuild.CodeBuild{Runner: runner}},
		{"Compute", "AWS", "Commands", &codebuild.Commands{Runner: runner}},
		{"Invoke", "AWS", "Lambda", &lambda.Action{Host: functions}},
	} {
		reg.Register(action.Type{Category: e.category, Owner: e.owner, Provider: e.provider, Version: "1"}, e.p)
	}
	return functions
}

// NewRegistry returns a registry holding the local stand-ins. Its Lambda
// functions are never connected, so their invocations wait: Register gives
// the host to connect.
func NewRegistry(dataDir string) *action.Registry {
	reg := action.NewRegistry()
	Register(reg, dataDir)
	return reg
}
