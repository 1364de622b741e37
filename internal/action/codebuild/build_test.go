package codebuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/action/actiontest"
	"github.com/sluice-ci/sluice/internal/artifact"
	"github.com/sluice-ci/sluice/internal/golden"
)

// fixture is a data folder with a runner and an artifact store.
type fixture struct {
	t      testing.TB
	data   string
	runner *Runner
	arts   *artifact.Folder
	log    bytes.Buffer
}

var fixedNow = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func newFixture(t testing.TB, secrets map[string]string) *fixture {
	t.Helper()
	data := t.TempDir()
	f := &fixture{t: t, data: data, arts: actiontest.Artifacts(t)}
	f.runner = &Runner{
		Dir:     filepath.Join(data, "codebuild"),
		Environ: func() []string { return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + data, "HOST_ONLY=from-host"} },
		LookupEnv: func(name string) (string, bool) {
			v, ok := secrets[name]
			return v, ok
		},
		Now: func() time.Time { return fixedNow },
	}
	return f
}

// input is an input artifact: its files, with a buildspec.yml when spec is
// set.
type input struct {
	name, revision string
	files          map[string]string
}

func (f *fixture) job(id string, inputs []input, outputs ...string) *action.Job {
	j := &action.Job{
		ID: id, PipelineName: "demo", PipelineExecutionID: "exec-1", StageName: "Build", ActionName: "Build",
		Artifacts: f.arts, Log: &f.log,
	}
	for _, in := range inputs {
		key := "demo/exec-1/" + in.name
		actiontest.Put(f.t, f.arts, key, actiontest.Zip(f.t, in.files))
		j.InputArtifacts = append(j.InputArtifacts, action.Artifact{Name: in.name, Key: key, Revision: in.revision})
	}
	for _, out := range outputs {
		j.OutputArtifacts = append(j.OutputArtifacts, action.Artifact{Name: out, Key: "demo/exec-1/" + out})
	}
	return j
}

func codeBuildJob(j *action.Job, config map[string]string) *action.Job {
	j.ActionType = action.Type{Category: "Build", Owner: "AWS", Provider: "CodeBuild", Version: "1"}
	j.Configuration = config
	return j
}

const appSpec = `version: 0.2
env:
  variables:
    GREETING: hello
    HOST_ONLY: from-buildspec
  exported-variables: [GREETING, BUILT_AT, FROM_PRE, MISSING]
phases:
  install:
    commands:
      - mkdir -p dist/sub
  pre_build:
    commands:
      - FROM_PRE=kept
      - cd dist
  build:
    commands:
      - echo "$GREETING from $(basename "$PWD")" > sub/hello.txt
      - printf '%s\n' "$FROM_PRE" > pre.txt
      - BUILT_AT=noon
      - echo built
  post_build:
    commands:
      - echo "succeeding=$CODEBUILD_BUILD_SUCCEEDING"
artifacts:
  base-directory: dist
  files: ['**/*']
`

func TestCodeBuild(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		inputs      []input
		outputs     []string
		config      map[string]string
		projectSpec string // codebuild/app/buildspec.yml
		secrets     map[string]string
		wantCode    string
		wantMsg     []string
		wantVars    map[string]string
		notVars     []string                     // exported variables that must not be output
		wantFiles   map[string]map[string]string // output artifact -> files
		wantLog     []string
		notLog      []string
	}{
		{
			name:      "build with artifacts and exported variables",
			inputs:    []input{{name: "Source", files: map[string]string{"buildspec.yml": appSpec}}},
			outputs:   []string{"BuildArtifact"},
			wantVars:  map[string]string{"GREETING": "hello", "BUILT_AT": "noon", "FROM_PRE": "kept"},
			wantFiles: map[string]map[string]string{"BuildArtifact": {"sub/hello.txt": "hello from dist\n", "pre.txt": "kept\n"}},
			wantLog:   []string{"succeeding=1", "Exported variable MISSING is not set", "Phase complete: BUILD State: SUCCEEDED"},
		},
		{
			name: "failing command fails the build with the log tail",
			inputs: []input{{name: "Source", files: map[string]string{"buildspec.yml": `version: 0.2
phases:
  build:
    commands:
      - echo compiling
      - 'echo "error: missing semicolon" >&2; exit 3'
      - echo never
    finally:
      - echo cleanup
  post_build:
    commands:
      - echo "post ran succeeding=$CODEBUILD_BUILD_SUCCEEDING"
artifacts:
  files: [buildspec.yml]
`}}},
			outputs:  []string{"Out"},
			wantCode: action.CodeJobFailed,
			wantMsg: []string{
				"Build terminated with state: FAILED. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR",
				`Error while executing command: echo "error: missing semicolon" >&2; exit 3. Reason: exit status 3`,
				"error: missing semicolon",
			},
			wantLog: []string{"cleanup", "post ran succeeding=0", "Entering phase UPLOAD_ARTIFACTS"},
			notLog:  []string{"never"},
		},
		{
			name: "install failure skips the later phases",
			inputs: []input{{name: "Source", files: map[string]string{"buildspec.yml": `version: 0.2
phases:
  install: {commands: ["false"]}
  build: {commands: [echo build ran]}
  post_build: {commands: [echo post ran]}
`}}},
			wantCode: action.CodeJobFailed,
			wantMsg:  []string{"Phase: INSTALL"},
			notLog:   []string{"build ran", "post ran", "UPLOAD_ARTIFACTS"},
		},
		{
			name: "on-failure continue goes on but fails the build",
			inputs: []input{{name: "Source", files: map[string]string{"buildspec.yml": `version: 0.2
phases:
  pre_build: {on-failure: CONTINUE, commands: ["exit 1"]}
  build: {commands: [echo build ran]}
`}}},
			wantCode: action.CodeJobFailed,
			wantMsg:  []string{"Phase: PRE_BUILD"},
			wantLog:  []string{"build ran"},
		},
		{
			name: "explicit abort skips post_build",
			inputs: []input{{name: "Source", files: map[string]string{"buildspec.yml": `version: 0.2
phases:
  build: {on-failure: ABORT, commands: ["exit 1"]}
  post_build: {commands: [echo post ran]}
`}}},
			wantCode: action.CodeJobFailed,
			notLog:   []string{"post ran"},
		},
		{
			name: "retry runs the phase again",
			inputs: []input{{name: "Source", files: map[string]string{"buildspec.yml": `version: 0.2
phases:
  build:
    on-failure: RETRY-2
    commands:
      - n=$(cat "$HOME/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$HOME/count"; echo "attempt $n"; [ $n -ge 3 ]
`}}},
			wantLog: []string{"attempt 3", "Phase BUILD failed; retrying (2 of 2)"},
		},
		{
			name: "secondary sources and artifacts",
			inputs: []input{
				{name: "App", revision: "abc123", files: map[string]string{"main.txt": "main"}},
				{name: "Config", files: map[string]string{"buildspec.yml": "version: 0.2\n", "settings.env": "A=1"}},
			},
			outputs: []string{"Binary", "Docs"},
			config:  map[string]string{"ProjectName": "app", "PrimarySource": "App"},
			projectSpec: `version: 0.2
env:
  exported-variables: [SRC, CFG, REV, BUILD_ID]
phases:
  build:
    commands:
      - mkdir -p out docs/api
      - cp "$CODEBUILD_SRC_DIR_Config/settings.env" out/
      - echo bin > out/app
      - echo api > docs/api/index.md
      - echo x > docs/skip.tmp
      - SRC=$(basename "$CODEBUILD_SRC_DIR"); CFG=$(basename "$CODEBUILD_SRC_DIR_Config"); REV=$CODEBUILD_RESOLVED_SOURCE_VERSION; BUILD_ID=$CODEBUILD_BUILD_ID
artifacts:
  secondary-artifacts:
    Binary:
      base-directory: out
      files: ['*']
    Docs:
      files: [docs]
      exclude-paths: ['**/*.tmp']
      discard-paths: yes
`,
			wantVars: map[string]string{"SRC": "App", "CFG": "Config", "REV": "abc123"},
			wantFiles: map[string]map[string]string{
				"Binary": {"settings.env": "A=1", "app": "bin\n"},
				"Docs":   {"index.md": "api\n"},
			},
		},
		{
			name:     "missing artifact files",
			inputs:   []input{{name: "Source", files: map[string]string{"buildspec.yml": "version: 0.2\nphases: {build: {commands: [\"true\"]}}\nartifacts: {files: [dist/**/*]}\n"}}},
			outputs:  []string{"Out"},
			wantCode: action.CodeJobFailed,
			wantMsg:  []string{"Phase: UPLOAD_ARTIFACTS, Code: CLIENT_ERROR", "no matching artifact paths found"},
		},
		{
			name:     "several outputs need secondary artifacts",
			inputs:   []input{{name: "Source", files: map[string]string{"buildspec.yml": "version: 0.2\nartifacts: {files: ['*']}\n"}}},
			outputs:  []string{"A", "B"},
			wantCode: action.CodeJobFailed,
			wantMsg:  []string{"output artifact A: the buildspec has no secondary artifact A"},
		},
		{
			name:     "no buildspec",
			inputs:   []input{{name: "Source", files: map[string]string{"README": "x"}}},
			wantCode: action.CodeJobFailed,
			wantMsg:  []string{"Phase: DOWNLOAD_SOURCE, Code: YAML_FILE_ERROR", "no buildspec"},
		},
		{
			name:     "bad buildspec",
			inputs:   []input{{name: "Source", files: map[string]string{"buildspec.yml": "version: 0.2\nphase: {}\n"}}},
			wantCode: action.CodeJobFailed,
			wantMsg:  []string{"YAML_FILE_ERROR", `unknown field "phase"`},
		},
		{
			name: "secrets come from the environment and are masked",
			inputs: []input{{name: "Source", files: map[string]string{"buildspec.yml": `version: 0.2
env:
  secrets-manager:
    TOKEN: prod/token:value
  exported-variables: [TOKEN, PLAIN, COPY, URL]
phases:
  build:
    commands:
      - echo "token is $TOKEN and db is $DB_PASS"
      - export COPY="$TOKEN" URL="https://user:$DB_PASS@db.example"
`}}},
			config: map[string]string{
				"ProjectName":          "app",
				"EnvironmentVariables": `[{"name":"DB_PASS","value":"/prod/db","type":"PARAMETER_STORE"},{"name":"PLAIN","value":"p","type":"PLAINTEXT"}]`,
			},
			secrets:  map[string]string{"TOKEN": "s3cr3t-token", "DB_PASS": "hunter2"},
			wantVars: map[string]string{"PLAIN": "p"},
			notVars:  []string{"TOKEN", "COPY", "URL"},
			wantLog: []string{"token is *** and db is ***", "Exported variable TOKEN holds a secret and is not exported",
				"Exported variable COPY holds a secret value and is not exported", "Exported variable URL holds a secret value and is not exported"},
			notLog: []string{"s3cr3t-token", "hunter2"},
		},
		{
			name:     "secret missing from the environment",
			inputs:   []input{{name: "Source", files: map[string]string{"buildspec.yml": "version: 0.2\nenv: {parameter-store: {DB_PASS: /prod/db}}\n"}}},
			wantCode: action.CodeConfigurationError,
			wantMsg:  []string{"environment variable DB_PASS (PARAMETER_STORE /prod/db)", "set DB_PASS in the environment of sluice"},
		},
		{
			name:     "action variables override the buildspec",
			inputs:   []input{{name: "Source", files: map[string]string{"buildspec.yml": "version: 0.2\nenv: {variables: {STAGE: dev}, exported-variables: [STAGE, HOST_ONLY, CODEBUILD_INITIATOR]}\n"}}},
			config:   map[string]string{"ProjectName": "app", "EnvironmentVariables": `[{"name":"STAGE","value":"prod"}]`},
			wantVars: map[string]string{"STAGE": "prod", "HOST_ONLY": "from-host", "CODEBUILD_INITIATOR": "codepipeline/demo"},
		},
		{
			name:     "bad environment variables",
			inputs:   []input{{name: "Source", files: map[string]string{"buildspec.yml": "version: 0.2\n"}}},
			config:   map[string]string{"ProjectName": "app", "EnvironmentVariables": `{"name": "X"}`},
			wantCode: action.CodeConfigurationError,
			wantMsg:  []string{"EnvironmentVariables is not a JSON list"},
		},
		{
			name:     "primary source must be an input",
			inputs:   []input{{name: "A", files: map[string]string{"x": "1"}}, {name: "B", files: map[string]string{"y": "2"}}},
			config:   map[string]string{"ProjectName": "app"},
			wantCode: action.CodeConfigurationError,
			wantMsg:  []string{"PrimarySource must name one of the input artifacts"},
		},
		{
			name:     "windows shell",
			inputs:   []input{{name: "Source", files: map[string]string{"buildspec.yml": "version: 0.2\nenv: {shell: powershell.exe}\n"}}},
			wantCode: action.CodeConfigurationError,
			wantMsg:  []string{"Windows shells are not supported"},
		},
		{
			name:     "input artifact not a zip",
			inputs:   []input{{name: "Source", files: nil}},
			wantCode: action.CodeJobFailed,
			wantMsg:  []string{"Phase: DOWNLOAD_SOURCE, Code: CLIENT_ERROR"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.secrets)
			config := tt.config
			if config == nil {
				config = map[string]string{"ProjectName": "app"}
			}
			if tt.projectSpec != "" {
				p := filepath.Join(f.runner.Dir, "app", "buildspec.yml")
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(tt.projectSpec), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			job := codeBuildJob(f.job("job-1", tt.inputs, tt.outputs...), config)
			if tt.inputs[0].files == nil {
				actiontest.Put(t, f.arts, job.InputArtifacts[0].Key, []byte("not a zip"))
			}
			res, err := (&CodeBuild{Runner: f.runner}).Run(ctx, job)
			log := f.log.String()
			for _, want := range tt.wantLog {
				if !strings.Contains(log, want) {
					t.Errorf("log does not say %q:\n%s", want, log)
				}
			}
			for _, not := range tt.notLog {
				if strings.Contains(log, not) {
					t.Errorf("log says %q:\n%s", not, log)
				}
			}
			if tt.wantCode != "" {
				actiontest.Check(t, res, err, tt.wantCode, "")
				for _, part := range tt.wantMsg {
					if !strings.Contains(res.ErrorDetails.Message, part) {
						t.Errorf("error message does not say %q:\n%s", part, res.ErrorDetails.Message)
					}
				}
				return
			}
			if !actiontest.Check(t, res, err, "", "") {
				return
			}
			for k, want := range tt.wantVars {
				if got, ok := res.OutputVariables[k]; !ok || got != want {
					t.Errorf("output variable %s = %q (%v), want %q", k, got, ok, want)
				}
			}
			for _, k := range tt.notVars {
				if got, ok := res.OutputVariables[k]; ok {
					t.Errorf("output variable %s = %q is exported", k, got)
				}
			}
			for name, want := range tt.wantFiles {
				got := actiontest.Unzip(t, f.arts, "demo/exec-1/"+name)
				if len(got) != len(want) {
					t.Errorf("artifact %s has %v, want %v", name, got, want)
				}
				for p, body := range want {
					if got[p] != body {
						t.Errorf("artifact %s: %s = %q, want %q", name, p, got[p], body)
					}
				}
			}
			if entries, _ := os.ReadDir(filepath.Join(f.runner.Dir, "builds")); len(entries) != 0 {
				t.Errorf("scratch folders left: %v", entries)
			}
		})
	}
}

func TestCommands(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		commands  []string
		outVars   []string
		files     []string
		envVars   []action.EnvironmentVariable
		wantCode  string
		wantMsg   string
		wantVars  map[string]string
		wantFiles map[string]string
	}{
		{
			name:      "commands with output variables and files",
			commands:  []string{"mkdir -p out", "cd out", "echo \"$NAME\" > name.txt", "VERSION=1.2.$CODEBUILD_BUILD_NUMBER"},
			outVars:   []string{"VERSION"},
			files:     []string{"out/**/*"},
			envVars:   []action.EnvironmentVariable{{Name: "NAME", Value: "sluice"}},
			wantVars:  map[string]string{"VERSION": "1.2.1"},
			wantFiles: map[string]string{"out/name.txt": "sluice\n"},
		},
		{name: "failing command", commands: []string{"echo before", "exit 9"}, wantCode: action.CodeJobFailed, wantMsg: "exit 9. Reason: exit status 9"},
		{name: "no commands", wantCode: action.CodeConfigurationError, wantMsg: "needs commands"},
		{name: "bad output variable", commands: []string{"true"}, outVars: []string{"A-B"}, wantCode: action.CodeConfigurationError, wantMsg: `"A-B" is not a valid`},
		{name: "files outside", commands: []string{"true"}, files: []string{"../x"}, wantCode: action.CodeConfigurationError, wantMsg: "must stay inside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			var outs []string
			if tt.files != nil {
				outs = []string{"Out"}
			}
			job := f.job("job-1", []input{{name: "Source", files: map[string]string{"README": "x"}}}, outs...)
			job.ActionType = action.Type{Category: "Compute", Owner: "AWS", Provider: "Commands", Version: "1"}
			job.Commands, job.OutputVariables, job.EnvironmentVariables = tt.commands, tt.outVars, tt.envVars
			if tt.files != nil {
				job.OutputArtifacts[0].Files = tt.files
			}
			res, err := (&Commands{Runner: f.runner}).Run(ctx, job)
			if !actiontest.Check(t, res, err, tt.wantCode, tt.wantMsg) {
				return
			}
			for k, want := range tt.wantVars {
				if res.OutputVariables[k] != want {
					t.Errorf("output variable %s = %q, want %q", k, res.OutputVariables[k], want)
				}
			}
			if tt.wantFiles != nil {
				got := actiontest.Unzip(t, f.arts, "demo/exec-1/Out")
				for p, body := range tt.wantFiles {
					if got[p] != body {
						t.Errorf("artifact %s = %q, want %q (all: %v)", p, got[p], body, got)
					}
				}
			}
		})
	}
}

func TestRedeliveredJobDoesNotBuildAgain(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	spec := "version: 0.2\nphases: {build: {commands: ['echo run >> \"$HOME/runs\"']}}\n"
	cb := &CodeBuild{Runner: f.runner}
	run := func(id string) *action.Result {
		job := codeBuildJob(f.job(id, []input{{name: "Source", files: map[string]string{"buildspec.yml": spec}}}), map[string]string{"ProjectName": "app"})
		res, err := cb.Run(ctx, job)
		actiontest.Check(t, res, err, "", "")
		return res
	}
	first, again, next := run("job-1"), run("job-1"), run("job-2")
	if first.ExternalExecutionID != again.ExternalExecutionID || first.ExternalExecutionID == next.ExternalExecutionID {
		t.Fatalf("build ids %s, %s, %s", first.ExternalExecutionID, again.ExternalExecutionID, next.ExternalExecutionID)
	}
	runs, _ := os.ReadFile(filepath.Join(f.data, "runs"))
	if got := strings.Count(string(runs), "run"); got != 2 {
		t.Fatalf("%d builds ran for 2 distinct jobs", got)
	}
	if n, _ := os.ReadFile(filepath.Join(f.runner.Dir, "app", "build-number")); strings.TrimSpace(string(n)) != "2" {
		t.Fatalf("build number %q", n)
	}
}

func TestCancelKillsTheProcessGroup(t *testing.T) {
	f := newFixture(t, nil)
	pidFile := filepath.Join(f.data, "bg.pid")
	spec := `version: 0.2
phases:
  build:
    commands:
      - sleep 60 & echo $! > "$HOME/bg.pid"; sleep 60
`
	job := codeBuildJob(f.job("job-1", []input{{name: "Source", files: map[string]string{"buildspec.yml": spec}}}), map[string]string{"ProjectName": "app"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := (&CodeBuild{Runner: f.runner}).Run(ctx, job)
		done <- err
	}()
	var pid int
	for pid == 0 {
		b, _ := os.ReadFile(pidFile)
		if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &pid); err != nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run returned %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
	if err := syscall.Kill(pid, 0); err == nil {
		// The background sleep may linger a moment as a zombie of init.
		time.Sleep(100 * time.Millisecond)
		if err := syscall.Kill(pid, 0); err == nil && !isZombie(pid) {
			t.Fatalf("background process %d still runs after cancellation", pid)
		}
	}
	if _, err := os.Stat(filepath.Join(f.runner.Dir, "results")); err == nil {
		t.Fatal("a cancelled build recorded a result")
	}
}

// TestBuildLogGolden checks the log's shape against testdata (run with
// -update to rewrite it).
func TestBuildLogGolden(t *testing.T) {
	tests := []struct{ name, spec string }{
		{name: "success", spec: "version: 0.2\nphases:\n  install: {commands: [echo installing]}\n  build: {commands: [echo building, 'printf \"no newline\"']}\n"},
		{name: "failure", spec: "version: 0.2\nphases:\n  build:\n    commands: [echo building, exit 2]\n    finally: [echo finally]\n  post_build: {commands: [echo post]}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			job := codeBuildJob(f.job("job-1", []input{{name: "Source", files: map[string]string{"buildspec.yml": tt.spec}}}), map[string]string{"ProjectName": "app"})
			if _, err := (&CodeBuild{Runner: f.runner}).Run(context.Background(), job); err != nil {
				t.Fatal(err)
			}
			got := strings.ReplaceAll(f.log.String(), f.data, "$DATA")
			got = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`).ReplaceAllString(got, "$$BUILD")
			golden.Check(t, filepath.Join("testdata", tt.name+".log"), []byte(got))
		})
	}
}

// isZombie tells whether a process has exited but was not reaped yet.
func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, after, ok := strings.Cut(string(b), ") ")
	return ok && strings.HasPrefix(after, "Z")
}
