// Package codebuild is the local stand-in for AWS CodeBuild behind
// CodePipeline's CodeBuild (Build and Test) and Commands actions: a buildspec
// parser and a runner that executes it with the local shell, with CodeBuild's
// phases, variables and artifact rules.
//
// A build runs in a scratch folder under the data folder's codebuild folder:
// every input artifact is extracted (with the artifact package's caps) into a
// folder of its own, the primary one is CODEBUILD_SRC_DIR and the others
// CODEBUILD_SRC_DIR_<artifact name>. Phases install, pre_build, build and
// post_build run in order with CodeBuild's transitions: a failure in install
// or pre_build ends the build; a failure in build still runs post_build and
// the artifact upload; on-failure CONTINUE goes on to the next phase (the
// build still fails), explicit ABORT ends the build at once, RETRY[-count]
// [-regex] runs the phase again. Each phase's finally commands run even when
// a command failed. The log has CodeBuild's "[Container]" lines, timestamps
// and phase markers; secret values are masked in it.
//
// Where the buildspec comes from (local choice): for a CodeBuild action with
// project P, the file codebuild/P/buildspec.yml of the data folder when it
// exists (standing for a buildspec kept in the project), otherwise
// buildspec.yml at the root of the primary source. A Commands action's
// commands form the build phase of a generated buildspec.
//
// Environment, later entries winning: the environment of sluice itself;
// env.variables; env.parameter-store and env.secrets-manager; the action's
// EnvironmentVariables; CodeBuild's own variables. Parameter Store and
// Secrets Manager are not read locally: a variable of those types takes its
// value from the variable of the same name in sluice's environment, and the
// action fails with a ConfigurationError naming it when there is none.
// Those values are masked in the log and never become output variables.
//
// A build is identified by the job's ID: a redelivered job whose build
// finished gets the recorded result back without building again.
package codebuild

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/artifact"
)

// Runner runs builds locally. Its zero value is not usable: set Dir.
type Runner struct {
	// Dir is the data folder's codebuild folder: project buildspecs
	// (P/buildspec.yml), build numbers, scratch folders and results.
	Dir string
	// Environ gives the environment builds start from (os.Environ when nil).
	Environ func() []string
	// LookupEnv gives the values of PARAMETER_STORE and SECRETS_MANAGER
	// variables (os.LookupEnv when nil).
	LookupEnv func(string) (string, bool)
	// Limits caps the extraction of input artifacts (artifact.DefaultLimits
	// when zero).
	Limits artifact.Limits
	// Now is the clock of log lines and start times (time.Now when nil).
	Now func() time.Time
	// Account is the account id in build ARNs ("000000000000" when empty).
	Account string

	numbers sync.Mutex
}

// CodeBuild is the CodeBuild action (Build/AWS/CodeBuild and
// Test/AWS/CodeBuild). Configuration: ProjectName (required), PrimarySource
// (required with several inputs), EnvironmentVariables (JSON list of name,
// value, type). BatchEnabled and CombineArtifacts are refused. 1 to 5 input
// artifacts, 0 to 5 outputs: with one output the buildspec's artifacts
// section fills it, with several each output takes the secondary artifact of
// its name. Output variables: the buildspec's env.exported-variables.
type CodeBuild struct {
	Runner *Runner
}

// Commands is the Commands action (Compute/AWS/Commands): the action's
// commands run as the build phase, the action's outputVariables are
// exported, its output artifact takes the files it lists. 1 to 10 input
// artifacts (the first is the primary source), 0 or 1 output.
type Commands struct {
	Runner *Runner
}

var projectName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$`)

// Run builds the project.
func (c *CodeBuild) Run(ctx context.Context, job *action.Job) (*action.Result, error) {
	if res := job.Check([]string{"ProjectName"}, 1, 5, 0, 5); res != nil {
		return res, nil
	}
	project := job.Configuration["ProjectName"]
	if !projectName.MatchString(project) {
		return action.Failed(action.CodeConfigurationError, "action %s: ProjectName %q: letters, digits, '-' and '_', 2 to 255 characters", job.ActionName, project), nil
	}
	for _, k := range []string{"BatchEnabled", "CombineArtifacts"} {
		if on, err := job.Bool(k, false); err != nil || on {
			return action.Failed(action.CodeConfigurationError, "action %s: %s: batch builds are not supported by the local runner", job.ActionName, k), nil
		}
	}
	primary := 0
	if ps := job.Configuration["PrimarySource"]; ps != "" || len(job.InputArtifacts) > 1 {
		primary = -1
		for i, in := range job.InputArtifacts {
			if in.Name == ps {
				primary = i
			}
		}
		if primary < 0 {
			return action.Failed(action.CodeConfigurationError, "action %s: PrimarySource must name one of the input artifacts (got %q)", job.ActionName, ps), nil
		}
	}
	var vars []action.EnvironmentVariable
	if raw := job.Configuration["EnvironmentVariables"]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &vars); err != nil {
			return action.Failed(action.CodeConfigurationError, "action %s: EnvironmentVariables is not a JSON list of {name, value, type}: %v", job.ActionName, err), nil
		}
	}
	load := func(src string) (*Buildspec, string, error) {
		location := filepath.Join(c.Runner.Dir, project, "buildspec.yml")
		data, err := os.ReadFile(location)
		if errors.Is(err, fs.ErrNotExist) {
			location = filepath.Join(src, "buildspec.yml")
			data, err = os.ReadFile(location)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, location, fmt.Errorf("no buildspec: neither %s nor buildspec.yml in the primary source", filepath.Join(c.Runner.Dir, project, "buildspec.yml"))
		}
		if err != nil {
			return nil, location, err
		}
		bs, err := ParseBuildspec(data)
		return bs, location, err
	}
	return c.Runner.build(ctx, job, project, primary, load, vars)
}

// Run runs the commands.
func (c *Commands) Run(ctx context.Context, job *action.Job) (*action.Result, error) {
	if res := job.Check(nil, 1, 10, 0, 1); res != nil {
		return res, nil
	}
	if len(job.Commands) == 0 {
		return action.Failed(action.CodeConfigurationError, "action %s: a Commands action needs commands", job.ActionName), nil
	}
	for _, v := range job.OutputVariables {
		if !identifier.MatchString(v) {
			return action.Failed(action.CodeConfigurationError, "action %s: output variable %q is not a valid environment variable name", job.ActionName, v), nil
		}
	}
	spec := &Buildspec{
		Version: "0.2",
		Env:     Env{ExportedVariables: job.OutputVariables},
		Phases:  Phases{Build: &Phase{Commands: job.Commands}},
	}
	if len(job.OutputArtifacts) == 1 {
		out := job.OutputArtifacts[0]
		if len(out.Files) == 0 {
			return action.Failed(action.CodeConfigurationError, "action %s: output artifact %s lists no files", job.ActionName, out.Name), nil
		}
		spec.Artifacts = &Artifacts{Files: out.Files}
		if err := spec.Artifacts.check("outputArtifacts." + out.Name); err != nil {
			return action.Failed(action.CodeConfigurationError, "action %s: %v", job.ActionName, err), nil
		}
	}
	project := projectFor(job)
	load := func(string) (*Buildspec, string, error) { return spec, "the action's commands", nil }
	return c.Runner.build(ctx, job, project, 0, load, job.EnvironmentVariables)
}

// projectFor names the project a Commands action's builds count under.
func projectFor(job *action.Job) string {
	name := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(job.PipelineName+"-"+job.StageName+"-"+job.ActionName, "-")
	return strings.Trim("commands-"+name, "-")
}

// specLoader reads the buildspec once the primary source is in src, and
// says where it came from.
type specLoader func(src string) (*Buildspec, string, error)

// failure is why a build failed: CodeBuild's phase, status code and message,
// and the action's error code.
type failure struct {
	phase, status, message, code string
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// build runs one build and returns its result; a Go error is returned only
// when the infrastructure failed or ctx was cancelled.
func (r *Runner) build(ctx context.Context, job *action.Job, project string, primary int, load specLoader, vars []action.EnvironmentVariable) (*action.Result, error) {
	id := buildUUID(job.ID)
	resultFile := filepath.Join(r.Dir, "results", id+".json")
	if res, err := readResult(resultFile); err == nil {
		fmt.Fprintf(job.Logger(), "build %s:%s already ran for job %s: %s\n", project, id, job.ID, res.Status)
		return res, nil
	}
	// Absolute: the shell runs in the source folder, and CodeBuild's paths
	// (CODEBUILD_SRC_DIR) are absolute.
	ws, err := filepath.Abs(filepath.Join(r.Dir, "builds", id))
	if err != nil {
		return nil, fmt.Errorf("build folder: %w", err)
	}
	if err := os.RemoveAll(ws); err != nil {
		return nil, fmt.Errorf("clean build folder: %w", err)
	}
	if err := os.MkdirAll(ws, 0o755); err != nil {
		return nil, fmt.Errorf("create build folder: %w", err)
	}
	defer os.RemoveAll(ws)
	number, err := r.nextBuildNumber(project)
	if err != nil {
		return nil, err
	}
	b := &build{
		runner: r, job: job, ws: ws, project: project, id: id, number: number,
		log: newBuildLog(job.Logger(), r.now), start: r.now(),
	}
	res, err := b.run(ctx, primary, load, vars)
	if err != nil {
		return nil, err
	}
	if err := writeResult(resultFile, res); err != nil {
		return nil, err
	}
	return res, nil
}

type build struct {
	runner  *Runner
	job     *action.Job
	ws      string
	project string
	id      string
	number  int
	log     *buildLog
	start   time.Time

	srcDirs      []string // one per input artifact
	secretNames  map[string]bool
	secretValues []string // the values of secretNames
	sess         *session
}

func (b *build) run(ctx context.Context, primary int, load specLoader, vars []action.EnvironmentVariable) (*action.Result, error) {
	b.log.container("Running on the local shell (Sluice stand-in for CodeBuild), build %s:%s", b.project, b.id)
	b.log.container("Phase is DOWNLOAD_SOURCE")
	if f := b.download(ctx); f != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return b.finish(f, nil), nil
	}
	src := b.srcDirs[primary]
	b.log.container("CODEBUILD_SRC_DIR=%s", src)
	spec, location, err := load(src)
	b.log.container("YAML location is %s", location)
	if err != nil {
		return b.finish(&failure{"DOWNLOAD_SOURCE", "YAML_FILE_ERROR", err.Error(), action.CodeJobFailed}, nil), nil
	}
	for _, key := range spec.ignored() {
		b.log.container("Ignoring %s: it has no effect in a local run", key)
	}
	b.log.container("Processing environment variables")
	env, secrets, f := b.environment(spec, primary, vars)
	if f != nil {
		return b.finish(f, nil), nil
	}
	b.log.mask(secrets...)
	b.secretValues = secrets
	shell, err := resolveShell(spec.Env.Shell)
	if err != nil {
		return b.finish(&failure{"DOWNLOAD_SOURCE", "YAML_FILE_ERROR", err.Error(), action.CodeConfigurationError}, nil), nil
	}
	b.sess, err = newSession(shell, src, filepath.Join(b.ws, "state"), env, spec.Version == "0.2", b.log)
	if err != nil {
		return nil, fmt.Errorf("start shell session: %w", err)
	}
	defer b.sess.close()
	b.log.container("Moving to directory %s", src)
	b.phaseDone("DOWNLOAD_SOURCE", nil)

	var first *failure
	reachedBuild, aborted := false, false
	for _, np := range spec.Phases.list() {
		reachedBuild = reachedBuild || np.name == "BUILD"
		f, err := b.phase(ctx, np, first == nil)
		if err != nil {
			return nil, err
		}
		if f == nil {
			continue
		}
		if first == nil {
			first = f
		}
		of := onFailure{}
		if np.phase != nil {
			of = np.phase.onFailure
		}
		if of.proceed {
			continue
		}
		if (np.phase != nil && np.phase.OnFailure == "ABORT") || np.name == "INSTALL" || np.name == "PRE_BUILD" {
			aborted = true
			break
		}
	}
	if reachedBuild && !aborted {
		b.log.container("Entering phase UPLOAD_ARTIFACTS")
		f := b.upload(ctx, spec, src)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b.phaseDone("UPLOAD_ARTIFACTS", f)
		if first == nil {
			first = f
		}
	}
	var outputs map[string]string
	if first == nil {
		if outputs, err = b.exported(ctx, spec); err != nil {
			return nil, err
		}
	}
	return b.finish(first, outputs), nil
}

// download extracts the input artifacts.
func (b *build) download(ctx context.Context) *failure {
	lim := b.runner.Limits
	if lim == (artifact.Limits{}) {
		lim = artifact.DefaultLimits
	}
	for _, in := range b.job.InputArtifacts {
		dir := filepath.Join(b.ws, "src", in.Name)
		if _, err := artifact.Unpack(ctx, b.job.Artifacts, in.Key, dir, lim); err != nil {
			return &failure{"DOWNLOAD_SOURCE", "CLIENT_ERROR", fmt.Sprintf("input artifact %s: %v", in.Name, err), action.CodeJobFailed}
		}
		b.srcDirs = append(b.srcDirs, dir)
	}
	return nil
}

// environment builds the environment of the build's commands and lists the
// secret values in it.
func (b *build) environment(spec *Buildspec, primary int, vars []action.EnvironmentVariable) ([]string, []string, *failure) {
	r, job := b.runner, b.job
	environ, lookup := os.Environ, os.LookupEnv
	if r.Environ != nil {
		environ = r.Environ
	}
	if r.LookupEnv != nil {
		lookup = r.LookupEnv
	}
	env := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	for _, kv := range environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			set(k, v)
		}
	}
	var secrets []string
	secretNames := map[string]bool{}
	resolve := func(name, typ, ref string) *failure {
		v, ok := lookup(name)
		if !ok {
			return &failure{"DOWNLOAD_SOURCE", "CLIENT_ERROR", fmt.Sprintf(
				"environment variable %s (%s %s): Parameter Store and Secrets Manager are not read in local runs; set %s in the environment of sluice to give its value",
				name, typ, ref, name), action.CodeConfigurationError}
		}
		set(name, v)
		secrets = append(secrets, v)
		secretNames[name] = true
		return nil
	}
	for _, k := range sortedKeys(spec.Env.Variables) {
		set(k, spec.Env.Variables[k])
	}
	for _, k := range sortedKeys(spec.Env.ParameterStore) {
		if f := resolve(k, action.EnvParameterStore, spec.Env.ParameterStore[k]); f != nil {
			return nil, nil, f
		}
	}
	for _, k := range sortedKeys(spec.Env.SecretsManager) {
		if f := resolve(k, action.EnvSecretsManager, spec.Env.SecretsManager[k]); f != nil {
			return nil, nil, f
		}
	}
	for _, v := range vars {
		if !identifier.MatchString(v.Name) {
			return nil, nil, &failure{"DOWNLOAD_SOURCE", "CLIENT_ERROR", fmt.Sprintf("environment variable name %q is not valid", v.Name), action.CodeConfigurationError}
		}
		switch v.Type {
		case "", action.EnvPlaintext:
			set(v.Name, v.Value)
		case action.EnvParameterStore, action.EnvSecretsManager:
			if f := resolve(v.Name, v.Type, v.Value); f != nil {
				return nil, nil, f
			}
		default:
			return nil, nil, &failure{"DOWNLOAD_SOURCE", "CLIENT_ERROR", fmt.Sprintf("environment variable %s: type %q is not PLAINTEXT, PARAMETER_STORE or SECRETS_MANAGER", v.Name, v.Type), action.CodeConfigurationError}
		}
	}
	region := job.Region
	if region == "" {
		region = env["AWS_REGION"]
	}
	if region == "" {
		region = "us-east-1"
	}
	account := r.Account
	if account == "" {
		account = "000000000000"
	}
	src := b.srcDirs[primary]
	set("AWS_REGION", region)
	set("AWS_DEFAULT_REGION", region)
	set("CODEBUILD_CI", "true")
	set("CODEBUILD_BUILD_ID", b.project+":"+b.id)
	set("CODEBUILD_BUILD_ARN", fmt.Sprintf("arn:aws:codebuild:%s:%s:build/%s:%s", region, account, b.project, b.id))
	set("CODEBUILD_BUILD_NUMBER", strconv.Itoa(b.number))
	set("CODEBUILD_BUILD_IMAGE", "local")
	set("CODEBUILD_INITIATOR", "codepipeline/"+job.PipelineName)
	set("CODEBUILD_LOG_PATH", b.id)
	set("CODEBUILD_START_TIME", strconv.FormatInt(b.start.UnixMilli(), 10))
	set("CODEBUILD_SRC_DIR", src)
	in := job.InputArtifacts[primary]
	set("CODEBUILD_SOURCE_VERSION", in.Key)
	set("CODEBUILD_RESOLVED_SOURCE_VERSION", in.Revision)
	for i, in := range job.InputArtifacts {
		if i != primary {
			set("CODEBUILD_SRC_DIR_"+in.Name, b.srcDirs[i])
			set("CODEBUILD_SOURCE_VERSION_"+in.Name, in.Key)
		}
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+env[k])
	}
	for _, name := range spec.Env.ExportedVariables {
		if secretNames[name] {
			b.log.container("Exported variable %s holds a secret and is not exported", name)
		}
	}
	b.secretNames = secretNames
	return out, secrets, nil
}

func resolveShell(name string) (string, error) {
	switch name {
	case "":
		name = "/bin/sh"
	case "powershell.exe", "cmd.exe", "pwsh.exe":
		return "", fmt.Errorf("env.shell %s: Windows shells are not supported by the local runner", name)
	}
	if base := filepath.Base(name); base != "sh" && base != "bash" {
		return "", fmt.Errorf("env.shell %s: want bash or /bin/sh", name)
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("env.shell %s: %w", name, err)
	}
	return path, nil
}

// phase runs one phase and returns its failure, if it failed. A Go error
// means the build was cancelled or could not run commands at all.
func (b *build) phase(ctx context.Context, np namedPhase, succeeding bool) (*failure, error) {
	b.log.container("Entering phase %s", np.name)
	var f *failure
	if p := np.phase; p != nil {
		for attempt := 0; ; attempt++ {
			var err error
			f, err = b.commands(ctx, np.name, p.Commands, succeeding)
			if err != nil {
				return nil, err
			}
			ff, err := b.commands(ctx, np.name, p.Finally, succeeding && f == nil)
			if err != nil {
				return nil, err
			}
			if f == nil {
				f = ff
			}
			if f == nil || attempt >= p.onFailure.retries || (p.onFailure.match != nil && !p.onFailure.match.MatchString(f.message)) {
				break
			}
			b.log.container("Phase %s failed; retrying (%d of %d)", np.name, attempt+1, p.onFailure.retries)
		}
	}
	b.phaseDone(np.name, f)
	return f, nil
}

// commands runs commands until one fails.
func (b *build) commands(ctx context.Context, phase string, cmds []string, succeeding bool) (*failure, error) {
	flag := "1"
	if !succeeding {
		flag = "0"
	}
	for _, c := range cmds {
		b.log.container("Running command %s", c)
		err := b.sess.run(ctx, c, map[string]string{"CODEBUILD_BUILD_SUCCEEDING": flag})
		b.log.flush()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err == nil {
			continue
		}
		var exit *exec.ExitError
		reason := err.Error()
		if errors.As(err, &exit) {
			reason = fmt.Sprintf("exit status %d", exit.ExitCode())
		} else if !errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("run command: %w", err)
		}
		b.log.container("Command did not exit successfully %s %s", c, reason)
		return &failure{phase, "COMMAND_EXECUTION_ERROR", fmt.Sprintf("Error while executing command: %s. Reason: %s", c, reason), action.CodeJobFailed}, nil
	}
	return nil, nil
}

func (b *build) phaseDone(phase string, f *failure) {
	state, code, msg := "SUCCEEDED", "", ""
	if f != nil {
		state, code, msg = "FAILED", f.status, f.message
	}
	b.log.container("Phase complete: %s State: %s", phase, state)
	b.log.container("Phase context status code: %s Message: %s", code, msg)
}

// upload writes every output artifact.
func (b *build) upload(ctx context.Context, spec *Buildspec, src string) *failure {
	outs := b.job.OutputArtifacts
	for _, out := range outs {
		section, err := sectionFor(spec, out.Name, len(outs))
		if err == nil {
			var files []artifactFile
			if files, err = selectFiles(src, section); err == nil {
				b.log.container("Expanding %d files for artifact %s", len(files), out.Name)
				err = packFiles(ctx, b.job.Artifacts, out.Key, files)
			}
		}
		if err != nil {
			return &failure{"UPLOAD_ARTIFACTS", "CLIENT_ERROR", fmt.Sprintf("output artifact %s: %v", out.Name, err), action.CodeJobFailed}
		}
	}
	if spec.Artifacts != nil && spec.Artifacts.Name != "" {
		b.log.container("Ignoring artifacts.name %s: CodePipeline names the output artifacts", spec.Artifacts.Name)
	}
	return nil
}

// sectionFor picks the artifacts section that fills an output artifact.
func sectionFor(spec *Buildspec, name string, outputs int) (*Artifacts, error) {
	if a := spec.Artifacts; a != nil {
		if sa := a.SecondaryArtifacts[name]; sa != nil {
			return sa, nil
		}
		if outputs == 1 && len(a.Files) > 0 {
			return a, nil
		}
	}
	if outputs == 1 {
		return nil, errors.New("the buildspec has no artifacts files")
	}
	return nil, fmt.Errorf("the buildspec has no secondary artifact %s (with several output artifacts, each needs one of its name)", name)
}

// exported reads the exported variables at the end of the build. A
// variable that holds a secret is not exported: one named as a secret, and
// one whose value holds a secret's (a copy made by the build's commands),
// since output variables are recorded and shown, and later actions' logs do
// not mask them.
func (b *build) exported(ctx context.Context, spec *Buildspec) (map[string]string, error) {
	var names []string
	for _, n := range spec.Env.ExportedVariables {
		if !b.secretNames[n] {
			names = append(names, n)
		}
	}
	vals, err := b.sess.values(ctx, names)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	for _, n := range names {
		v, ok := vals[n]
		switch {
		case !ok:
			b.log.container("Exported variable %s is not set", n)
		case slices.ContainsFunc(b.secretValues, func(secret string) bool { return secret != "" && strings.Contains(v, secret) }):
			delete(vals, n)
			b.log.container("Exported variable %s holds a secret value and is not exported", n)
		}
	}
	return vals, nil
}

// finish writes the closing lines and builds the result.
func (b *build) finish(f *failure, outputs map[string]string) *action.Result {
	b.log.container("Phase complete: FINALIZING State: SUCCEEDED")
	status := "SUCCEEDED"
	if f != nil {
		status = "FAILED"
	}
	b.log.container("Build %s:%s completed with state %s", b.project, b.id, status)
	buildID := b.project + ":" + b.id
	if f == nil {
		return &action.Result{
			Status:              action.StatusSucceeded,
			Summary:             fmt.Sprintf("Build %s succeeded", buildID),
			ExternalExecutionID: buildID,
			OutputVariables:     outputs,
		}
	}
	res := action.Failed(f.code, "Build terminated with state: FAILED. Phase: %s, Code: %s, Message: %s\nLast lines of the log:\n%s",
		f.phase, f.status, f.message, b.log.lastLines())
	res.ExternalExecutionID = buildID
	return res
}

// nextBuildNumber counts the project's builds (one sluice process at a
// time: the count is kept in a file, guarded in process).
func (r *Runner) nextBuildNumber(project string) (int, error) {
	r.numbers.Lock()
	defer r.numbers.Unlock()
	dir := filepath.Join(r.Dir, project)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("build number: %w", err)
	}
	p := filepath.Join(dir, "build-number")
	n := 0
	if b, err := os.ReadFile(p); err == nil {
		n, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	n++
	if err := artifact.WriteFileAtomic(context.Background(), p, strings.NewReader(strconv.Itoa(n)+"\n"), 0o644); err != nil {
		return 0, fmt.Errorf("build number: %w", err)
	}
	return n, nil
}

// buildUUID derives the build's id from the job's, so that a redelivered
// job finds its build.
func buildUUID(jobID string) string {
	s := sha256.Sum256([]byte(jobID))
	h := hex.EncodeToString(s[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func readResult(p string) (*action.Result, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var res action.Result
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

func writeResult(p string, res *action.Result) error {
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("record build result: %w", err)
	}
	if err := artifact.WriteFileAtomic(context.Background(), p, strings.NewReader(string(b)), 0o644); err != nil {
		return fmt.Errorf("record build result: %w", err)
	}
	return nil
}
