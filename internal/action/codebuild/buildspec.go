package codebuild

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
)

// Buildspec is a CodeBuild buildspec (versions 0.1 and 0.2). Keys that a
// local run cannot honour (run-as, proxy, batch, reports, cache,
// runtime-versions, git-credential-helper, s3-prefix) are accepted and
// reported in the log; unknown keys are errors, as in CodeBuild.
type Buildspec struct {
	Version   string     `yaml:"version"`
	RunAs     string     `yaml:"run-as"`
	Env       Env        `yaml:"env"`
	Proxy     any        `yaml:"proxy"`
	Batch     any        `yaml:"batch"`
	Phases    Phases     `yaml:"phases"`
	Reports   any        `yaml:"reports"`
	Artifacts *Artifacts `yaml:"artifacts"`
	Cache     any        `yaml:"cache"`
}

// Env is the buildspec's env section.
type Env struct {
	Shell               string            `yaml:"shell"`
	Variables           map[string]string `yaml:"variables"`
	ParameterStore      map[string]string `yaml:"parameter-store"`
	SecretsManager      map[string]string `yaml:"secrets-manager"`
	ExportedVariables   []string          `yaml:"exported-variables"`
	GitCredentialHelper string            `yaml:"git-credential-helper"`
}

// Phases are the four command phases, in the order they run.
type Phases struct {
	Install   *Phase `yaml:"install"`
	PreBuild  *Phase `yaml:"pre_build"`
	Build     *Phase `yaml:"build"`
	PostBuild *Phase `yaml:"post_build"`
}

// Phase is one phase: its commands, the finally block that runs after them
// even when one failed, and what to do when the phase fails.
type Phase struct {
	RunAs           string         `yaml:"run-as"`
	OnFailure       string         `yaml:"on-failure"`
	RuntimeVersions map[string]any `yaml:"runtime-versions"`
	Commands        []string       `yaml:"commands"`
	Finally         []string       `yaml:"finally"`

	onFailure onFailure
}

// Artifacts is the artifacts section, or one of its secondary artifacts.
type Artifacts struct {
	Files              []string              `yaml:"files"`
	Name               string                `yaml:"name"`
	DiscardPaths       string                `yaml:"discard-paths"`
	BaseDirectory      string                `yaml:"base-directory"`
	ExcludePaths       []string              `yaml:"exclude-paths"`
	EnableSymlinks     string                `yaml:"enable-symlinks"`
	S3Prefix           string                `yaml:"s3-prefix"`
	SecondaryArtifacts map[string]*Artifacts `yaml:"secondary-artifacts"`
}

// onFailure is a parsed on-failure value: ABORT, CONTINUE, RETRY,
// RETRY-count, RETRY-regex or RETRY-count-regex.
type onFailure struct {
	proceed bool           // CONTINUE: go on to the next phase
	retries int            // RETRY: attempts after the first
	match   *regexp.Regexp // RETRY-regex: retry only failures whose message matches
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseBuildspec reads and checks a buildspec; errors name the key and, for
// YAML errors, the line.
func ParseBuildspec(data []byte) (*Buildspec, error) {
	var bs Buildspec
	if err := yaml.UnmarshalWithOptions(data, &bs, yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("buildspec: %w", err)
	}
	if err := bs.check(); err != nil {
		return nil, fmt.Errorf("buildspec: %w", err)
	}
	return &bs, nil
}

func (bs *Buildspec) check() error {
	switch bs.Version {
	case "0.2", "0.1":
	case "":
		return errors.New("version is missing (want 0.2)")
	default:
		return fmt.Errorf("version %s is not supported (want 0.2)", bs.Version)
	}
	var errs []error
	for _, name := range sortedKeys(bs.Env.Variables, bs.Env.ParameterStore, bs.Env.SecretsManager) {
		if !identifier.MatchString(name) {
			errs = append(errs, fmt.Errorf("env: variable name %q is not a valid environment variable name", name))
		}
	}
	for _, name := range bs.Env.ExportedVariables {
		if !identifier.MatchString(name) {
			errs = append(errs, fmt.Errorf("env.exported-variables: %q is not a valid environment variable name", name))
		}
	}
	for _, p := range bs.Phases.list() {
		if p.phase == nil {
			continue
		}
		of, err := parseOnFailure(p.phase.OnFailure)
		if err != nil {
			errs = append(errs, fmt.Errorf("phases.%s.on-failure: %w", p.key, err))
		}
		p.phase.onFailure = of
	}
	if a := bs.Artifacts; a != nil {
		errs = append(errs, a.check("artifacts"))
		for id, sa := range a.SecondaryArtifacts {
			if sa == nil {
				errs = append(errs, fmt.Errorf("artifacts.secondary-artifacts.%s: empty", id))
				continue
			}
			if len(sa.SecondaryArtifacts) > 0 {
				errs = append(errs, fmt.Errorf("artifacts.secondary-artifacts.%s: secondary artifacts cannot nest", id))
			}
			errs = append(errs, sa.check("artifacts.secondary-artifacts."+id))
		}
	}
	return errors.Join(errs...)
}

func (a *Artifacts) check(where string) error {
	var errs []error
	for _, f := range []struct{ key, value string }{{"discard-paths", a.DiscardPaths}, {"enable-symlinks", a.EnableSymlinks}} {
		if _, err := parseFlag(f.value); err != nil {
			errs = append(errs, fmt.Errorf("%s.%s: %w", where, f.key, err))
		}
	}
	if escapes(a.BaseDirectory) {
		errs = append(errs, fmt.Errorf("%s.base-directory %q: must stay inside the source folder", where, a.BaseDirectory))
	}
	for _, f := range append(append([]string{}, a.Files...), a.ExcludePaths...) {
		if escapes(f) {
			errs = append(errs, fmt.Errorf("%s: path %q must stay inside the base directory", where, f))
		}
	}
	return errors.Join(errs...)
}

// escapes tells whether a relative path from the buildspec is absolute or
// climbs with "..".
func escapes(p string) bool {
	if strings.HasPrefix(p, "/") {
		return true
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}

// parseFlag reads a buildspec yes/no (or true/false) value; empty is no.
func parseFlag(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "no", "false":
		return false, nil
	case "yes", "true":
		return true, nil
	}
	return false, fmt.Errorf("%q is not yes or no", v)
}

func parseOnFailure(v string) (onFailure, error) {
	switch v {
	case "", "ABORT":
		return onFailure{}, nil
	case "CONTINUE":
		return onFailure{proceed: true}, nil
	case "RETRY":
		return onFailure{retries: 3}, nil
	}
	rest, ok := strings.CutPrefix(v, "RETRY-")
	if !ok {
		return onFailure{}, fmt.Errorf("%q: want ABORT, CONTINUE, RETRY, RETRY-count, RETRY-regex or RETRY-count-regex", v)
	}
	of := onFailure{retries: 3}
	countText, pattern, hasPattern := strings.Cut(rest, "-")
	if n, err := strconv.Atoi(countText); err == nil {
		if n < 1 || n > 100 {
			return onFailure{}, fmt.Errorf("%q: retry count must be 1 to 100", v)
		}
		of.retries = n
	} else {
		pattern, hasPattern = rest, true
	}
	if hasPattern {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return onFailure{}, fmt.Errorf("%q: %w", v, err)
		}
		of.match = re
	}
	return of, nil
}

// namedPhase pairs a phase with its buildspec key and CodeBuild's name.
type namedPhase struct {
	key, name string
	phase     *Phase
}

func (p *Phases) list() []namedPhase {
	return []namedPhase{
		{"install", "INSTALL", p.Install},
		{"pre_build", "PRE_BUILD", p.PreBuild},
		{"build", "BUILD", p.Build},
		{"post_build", "POST_BUILD", p.PostBuild},
	}
}

// ignored lists the keys that have no effect in a local run.
func (bs *Buildspec) ignored() []string {
	var keys []string
	add := func(set bool, key string) {
		if set {
			keys = append(keys, key)
		}
	}
	add(bs.RunAs != "", "run-as")
	add(bs.Proxy != nil, "proxy")
	add(bs.Batch != nil, "batch")
	add(bs.Reports != nil, "reports")
	add(bs.Cache != nil, "cache")
	add(bs.Env.GitCredentialHelper != "", "env.git-credential-helper")
	for _, p := range bs.Phases.list() {
		if p.phase != nil {
			add(p.phase.RunAs != "", "phases."+p.key+".run-as")
			add(p.phase.RuntimeVersions != nil, "phases."+p.key+".runtime-versions")
		}
	}
	if bs.Artifacts != nil {
		add(bs.Artifacts.S3Prefix != "", "artifacts.s3-prefix")
	}
	return keys
}

func sortedKeys(maps ...map[string]string) []string {
	var keys []string
	for _, m := range maps {
		for k := range m {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
