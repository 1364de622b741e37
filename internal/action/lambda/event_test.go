package lambda_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/action/lambda"
	"github.com/sluice-ci/sluice/internal/golden"
)

// TestEvent compares the events of jobs with golden files, and decodes
// them with aws-lambda-go's CodePipeline event, as a Go function would.
func TestEvent(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name         string
		job          *action.Job
		continuation string
	}{
		{"first", &action.Job{
			ID:            "11111111-abcd-1111-abcd-111111abcdef",
			Configuration: map[string]string{"FunctionName": "my-function", "UserParameters": `{"KEY": "VALUE"}`},
			InputArtifacts: []action.Artifact{
				{Name: "SourceArtifact", Key: "my-pipeline/e-1/SourceArtifact", Revision: "e0c7a1b2"},
				{Name: "BuildArtifact", Key: "my-pipeline/e-1/BuildArtifact"},
			},
			OutputArtifacts: []action.Artifact{{Name: "invokeOutput", Key: "my-pipeline/e-1/invokeOutput"}},
		}, ""},
		{"continued", &action.Job{
			ID:            "22222222-abcd-1111-abcd-111111abcdef",
			Configuration: map[string]string{"FunctionName": "my-function"},
		}, "round 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := lambda.NewEvent(tt.job, "123456789012", now, tt.continuation)
			got, err := json.MarshalIndent(ev, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden.Check(t, filepath.Join("testdata", "event-"+tt.name+".json"), got)
			want := got
			var decoded events.CodePipelineJobEvent
			if err := json.Unmarshal(want, &decoded); err != nil {
				t.Fatal(err)
			}
			j := decoded.CodePipelineJob
			if j.ID != tt.job.ID || j.AccountID != "123456789012" || j.Data.ContinuationToken != tt.continuation ||
				j.Data.ActionConfiguration.Configuration.FunctionName != "my-function" ||
				j.Data.ArtifactCredentials != (events.CodePipelineArtifactCredentials{}) ||
				len(j.Data.InputArtifacts) != len(tt.job.InputArtifacts) || len(j.Data.OutPutArtifacts) != len(tt.job.OutputArtifacts) {
				t.Errorf("aws-lambda-go decodes %+v", j)
			}
			for i, a := range j.Data.InputArtifacts {
				in := tt.job.InputArtifacts[i]
				if a.Name != in.Name || a.Location.LocationType != "S3" || a.Location.S3Location.ObjectKey != in.Key ||
					(a.Revision == nil) != (in.Revision == "") {
					t.Errorf("input artifact %d decodes as %+v", i, a)
				}
			}
			var again lambda.Event
			if err := json.Unmarshal(want, &again); err != nil || !reflect.DeepEqual(again, ev) {
				t.Errorf("the event does not survive a round trip: %+v, %v", again, err)
			}
		})
	}
}

// TestLocate finds functions in a folder and refuses what is wrong with
// them, saying where.
func TestLocate(t *testing.T) {
	dir := t.TempDir()
	files := map[string]struct {
		body string
		mode os.FileMode
	}{
		"plain":            {"#!/bin/sh\n", 0o755},
		"packaged/main":    {"#!/bin/sh\n", 0o755},
		"boxed/bootstrap":  {"#!/bin/sh\n", 0o755},
		"boxed.json":       {`{"Timeout": 30, "MemorySize": 512, "Environment": {"Variables": {"STAGE": "test"}}}`, 0o644},
		"inert":            {"data", 0o644},
		"slow":             {"#!/bin/sh\n", 0o755},
		"slow.json":        {`{"Timeout": 901}`, 0o644},
		"typo":             {"#!/bin/sh\n", 0o755},
		"typo.json":        {`{"Timout": 3}`, 0o644},
		"reserved":         {"#!/bin/sh\n", 0o755},
		"reserved.json":    {`{"Environment": {"Variables": {"AWS_REGION": "x"}}}`, 0o644},
		"small":            {"#!/bin/sh\n", 0o755},
		"small.json":       {`{"MemorySize": 64}`, 0o644},
		"badname":          {"#!/bin/sh\n", 0o755},
		"badname.json":     {`{"Environment": {"Variables": {"1X": "y"}}}`, 0o644},
		"emptyfolder/.key": {"", 0o644},
	}
	for name, f := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.body), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		functionName string
		wantPath     string
		wantTimeout  int
		wantErr      string
	}{
		{"plain", "plain", 0, ""},
		{"plain:live", "plain", 0, ""},
		{"arn:aws:lambda:us-east-1:123456789012:function:boxed", "boxed/bootstrap", 30, ""},
		{"arn:aws:lambda:us-east-1:123456789012:function:boxed:3", "boxed/bootstrap", 30, ""},
		{"missing", "", 0, "no local function missing: put its executable at " + filepath.Join(dir, "missing") + " or " + filepath.Join(dir, "missing", "bootstrap")},
		{"packaged", "", 0, "no local function packaged"},
		{"emptyfolder", "", 0, "no local function emptyfolder"},
		{"inert", "", 0, filepath.Join(dir, "inert") + " is not executable (chmod +x it)"},
		{"slow", "", 0, filepath.Join(dir, "slow.json") + ": Timeout is 901, want 1 to 900 seconds"},
		{"typo", "", 0, filepath.Join(dir, "typo.json") + `: json: unknown field "Timout"`},
		{"reserved", "", 0, filepath.Join(dir, "reserved.json") + ": Environment.Variables: AWS_REGION is reserved by Lambda"},
		{"small", "", 0, filepath.Join(dir, "small.json") + ": MemorySize is 64, want 128 to 10240 MB"},
		{"badname", "", 0, `Environment.Variables: "1X" is not a valid variable name`},
		{"../plain", "", 0, `FunctionName "../plain": a function name is 1 to 64 letters, digits, hyphens and underscores`},
		{"arn:aws:s3:::bucket", "", 0, `FunctionName "arn:aws:s3:::bucket" is not a Lambda function ARN`},
		{"", "", 0, `FunctionName "": a function name is`},
	}
	for _, tt := range tests {
		t.Run(tt.functionName, func(t *testing.T) {
			f, err := lambda.Locate(dir, tt.functionName)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Path != filepath.Join(dir, tt.wantPath) || f.Root != filepath.Dir(f.Path) || f.Config.Timeout != tt.wantTimeout {
				t.Errorf("function %+v, want %s with timeout %d", f, tt.wantPath, tt.wantTimeout)
			}
		})
	}
}
