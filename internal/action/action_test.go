package action

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	reg := NewRegistry()
	ok := ProviderFunc(func(context.Context, *Job) (*Result, error) {
		return &Result{Status: StatusSucceeded}, nil
	})
	approval := ProviderFunc(func(context.Context, *Job) (*Result, error) {
		return &Result{Status: StatusInProgress}, nil
	})
	reg.Register(Type{Category: "Build", Owner: "AWS", Provider: "CodeBuild", Version: "1"}, ok)
	reg.Register(Type{Category: "Approval", Owner: "AWS", Provider: "Manual", Version: "1"}, approval)

	tests := []struct {
		name       string
		typ        Type
		wantStatus Status
		wantErr    string // in the failed result's message
	}{
		{name: "registered", typ: Type{"Build", "AWS", "CodeBuild", "1"}, wantStatus: StatusSucceeded},
		{name: "any version", typ: Type{"Build", "AWS", "CodeBuild", "2"}, wantStatus: StatusSucceeded},
		{name: "approval waits", typ: Type{"Approval", "AWS", "Manual", "1"}, wantStatus: StatusInProgress},
		{
			name: "aws only", typ: Type{"Deploy", "AWS", "CloudFormation", "1"}, wantStatus: StatusFailed,
			wantErr: "action MyAction: action type Deploy/AWS/CloudFormation/1 has no local stand-in and needs AWS",
		},
		{name: "ecs", typ: Type{"Deploy", "AWS", "ECS", "1"}, wantStatus: StatusFailed, wantErr: "needs AWS"},
		{name: "codedeploy", typ: Type{"Deploy", "AWS", "CodeDeploy", "1"}, wantStatus: StatusFailed, wantErr: "needs AWS"},
		{
			name: "unknown", typ: Type{"Build", "Custom", "Jenkins", "1"}, wantStatus: StatusFailed,
			wantErr: "action MyAction: action type Build/Custom/Jenkins/1 has no registered back end",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := reg.Run(context.Background(), &Job{ActionName: "MyAction", ActionType: tt.typ})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.wantStatus {
				t.Fatalf("status %s, want %s", res.Status, tt.wantStatus)
			}
			if tt.wantErr == "" {
				return
			}
			if res.ErrorDetails == nil || res.ErrorDetails.Code != CodeConfigurationError || !strings.Contains(res.ErrorDetails.Message, tt.wantErr) {
				t.Fatalf("error details %+v, want a ConfigurationError saying %q", res.ErrorDetails, tt.wantErr)
			}
			_, lerr := reg.Lookup(tt.typ)
			var ue *UnsupportedError
			if !errors.As(lerr, &ue) || ue.Type != tt.typ {
				t.Fatalf("lookup error %v, want an UnsupportedError", lerr)
			}
		})
	}
	if got := reg.Types(); len(got) != 2 || got[0].Provider != "Manual" || got[1].Provider != "CodeBuild" {
		t.Fatalf("types %v", got)
	}
}

func TestFailedKeepsTheEndOfLongMessages(t *testing.T) {
	tests := []struct {
		name    string
		message string
		wantLen int
	}{
		{name: "short", message: "boom", wantLen: 4},
		{name: "long", message: strings.Repeat("x", 2*MaxErrorMessage) + "END", wantLen: MaxErrorMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Failed(CodeJobFailed, "%s", tt.message)
			msg := res.ErrorDetails.Message
			if len(msg) != tt.wantLen || !strings.HasSuffix(msg, tt.message[len(tt.message)-min(len(tt.message), 3):]) {
				t.Fatalf("message of %d bytes ending %q", len(msg), msg[max(0, len(msg)-10):])
			}
		})
	}
}

func TestJobOverride(t *testing.T) {
	job := &Job{SourceRevisions: []SourceRevisionOverride{{RevisionType: RevisionS3ObjectKey, RevisionValue: "k"}}}
	tests := []struct {
		typ    string
		want   string
		wantOK bool
	}{
		{typ: RevisionS3ObjectKey, want: "k", wantOK: true},
		{typ: RevisionCommitID},
	}
	for _, tt := range tests {
		got, ok := job.Override(tt.typ)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Override(%s) = %q, %v", tt.typ, got, ok)
		}
	}
	if job.Logger() == nil {
		t.Error("Logger must never be nil")
	}
}
