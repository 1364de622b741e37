package codebuild

import (
	"strings"
	"testing"
)

func TestParseBuildspec(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		wantErr []string // parts of the error; none: valid
		check   func(t *testing.T, bs *Buildspec)
	}{
		{
			name: "full",
			spec: `version: 0.2
env:
  shell: bash
  variables:
    GREETING: hello
    COUNT: 3
  parameter-store:
    DB_HOST: /prod/db/host
  exported-variables: [GREETING, BUILT]
phases:
  install:
    runtime-versions:
      golang: 1.22
    commands: [echo install]
  build:
    on-failure: CONTINUE
    commands:
      - echo build
      - |
        echo multi
        echo line
    finally:
      - echo done
  post_build:
    on-failure: RETRY-2-timeout.*
    commands: [echo post]
artifacts:
  files: ['**/*']
  base-directory: dist
  discard-paths: yes
  secondary-artifacts:
    Docs:
      files: [docs/**/*]
      enable-symlinks: "yes"
cache:
  paths: [/root/.cache]
`,
			check: func(t *testing.T, bs *Buildspec) {
				if bs.Env.Variables["COUNT"] != "3" || bs.Env.Shell != "bash" || len(bs.Env.ExportedVariables) != 2 {
					t.Errorf("env %+v", bs.Env)
				}
				if of := bs.Phases.Build.onFailure; !of.proceed {
					t.Errorf("build on-failure %+v", of)
				}
				if of := bs.Phases.PostBuild.onFailure; of.retries != 2 || of.match == nil || !of.match.MatchString("timeout after 3s") {
					t.Errorf("post_build on-failure %+v", of)
				}
				if bs.Phases.Build.Commands[1] != "echo multi\necho line\n" {
					t.Errorf("multi-line command %q", bs.Phases.Build.Commands[1])
				}
				if sa := bs.Artifacts.SecondaryArtifacts["Docs"]; sa == nil || sa.EnableSymlinks != "yes" {
					t.Errorf("secondary artifacts %+v", bs.Artifacts.SecondaryArtifacts)
				}
				if got := strings.Join(bs.ignored(), ","); got != "cache,phases.install.runtime-versions" {
					t.Errorf("ignored keys %s", got)
				}
			},
		},
		{name: "quoted version", spec: "version: \"0.2\"\nphases: {build: {commands: [make]}}\n"},
		{name: "version 0.1", spec: "version: 0.1\n"},
		{name: "retry forms", spec: "version: 0.2\nphases:\n  install: {on-failure: RETRY}\n  pre_build: {on-failure: RETRY-5}\n  build: {on-failure: RETRY-fail}\n"},
		{name: "missing version", spec: "phases: {}\n", wantErr: []string{"version is missing"}},
		{name: "old version", spec: "version: 0.3\n", wantErr: []string{"version 0.3 is not supported"}},
		{name: "unknown key", spec: "version: 0.2\nphases:\n  build:\n    comands: [make]\n", wantErr: []string{"[4:5]", `unknown field "comands"`}},
		{name: "colon in a command", spec: "version: 0.2\nphases:\n  build:\n    commands:\n      - echo a: b\n", wantErr: []string{"[5:15]", "cannot unmarshal"}},
		{name: "bad on-failure", spec: "version: 0.2\nphases:\n  build: {on-failure: STOP}\n", wantErr: []string{"phases.build.on-failure", `"STOP"`}},
		{name: "bad retry count", spec: "version: 0.2\nphases:\n  build: {on-failure: RETRY-0}\n", wantErr: []string{"retry count must be 1 to 100"}},
		{name: "bad retry regex", spec: "version: 0.2\nphases:\n  build: {on-failure: 'RETRY-(unclosed'}\n", wantErr: []string{"phases.build.on-failure", "missing closing"}},
		{name: "bad flag", spec: "version: 0.2\nartifacts: {files: [a], discard-paths: maybe}\n", wantErr: []string{"artifacts.discard-paths", `"maybe" is not yes or no`}},
		{name: "base directory escapes", spec: "version: 0.2\nartifacts: {files: [a], base-directory: ../up}\n", wantErr: []string{"base-directory \"../up\": must stay inside"}},
		{name: "absolute file", spec: "version: 0.2\nartifacts: {files: [/etc/passwd]}\n", wantErr: []string{`path "/etc/passwd" must stay inside`}},
		{name: "bad variable name", spec: "version: 0.2\nenv: {variables: {A-B: x}, exported-variables: [1X]}\n", wantErr: []string{`"A-B" is not a valid`, `"1X" is not a valid`}},
		{name: "nested secondary", spec: "version: 0.2\nartifacts:\n  secondary-artifacts:\n    A:\n      files: [x]\n      secondary-artifacts: {B: {files: [y]}}\n", wantErr: []string{"secondary artifacts cannot nest"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs, err := ParseBuildspec([]byte(tt.spec))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if tt.check != nil {
					tt.check(t, bs)
				}
				return
			}
			if err == nil {
				t.Fatal("parse succeeded, want an error")
			}
			for _, part := range tt.wantErr {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not say %q", err, part)
				}
			}
		})
	}
}

func TestMatchAny(t *testing.T) {
	tests := []struct {
		patterns []string
		path     string
		want     bool
	}{
		{[]string{"**/*"}, "a.txt", true},
		{[]string{"**/*"}, "a/b/c.txt", true},
		{[]string{"*"}, "a/b.txt", false},
		{[]string{"*.txt"}, "a.txt", true},
		{[]string{"dist/**/*"}, "dist/x/y.js", true},
		{[]string{"dist/**/*"}, "src/x.js", false},
		{[]string{"dist"}, "dist/x/y.js", true},
		{[]string{"dist/"}, "dist/y.js", true},
		{[]string{"./app.jar"}, "app.jar", true},
		{[]string{"**/*.go"}, "cmd/main.go", true},
		{[]string{"**/*.go"}, "main.go", true},
		{[]string{"a/**/b/*.txt"}, "a/x/y/b/c.txt", true},
		{[]string{"a/**/b/*.txt"}, "a/b/c.txt", true},
		{[]string{"[ab].txt"}, "b.txt", true},
		{[]string{"x", "y/*"}, "y/z", true},
		{nil, "a", false},
	}
	for _, tt := range tests {
		if got := matchAny(tt.patterns, tt.path); got != tt.want {
			t.Errorf("matchAny(%q, %q) = %v, want %v", tt.patterns, tt.path, got, tt.want)
		}
	}
}
