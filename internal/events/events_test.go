package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/golden"
	"github.com/sluice-ci/sluice/internal/store"
)

// change is a state change as the runtime reports it: the input of a
// golden case.
type change struct {
	ID         string    `json:"id"`
	DetailType string    `json:"detailType"`
	Account    string    `json:"account"`
	Region     string    `json:"region"`
	Time       time.Time `json:"time"`
	Detail     Detail    `json:"detail"`
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGolden builds each event of testdata/changes and compares it with
// testdata/golden; then decodes the golden file and encodes it again,
// unchanged.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/changes/*.json")
	if len(files) == 0 {
		t.Fatal("no cases")
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c change
			if err := json.Unmarshal(data, &c); err != nil {
				t.Fatal(err)
			}
			e, err := New(c.DetailType, c.Account, c.Region, c.Time, c.Detail)
			if err != nil {
				t.Fatal(err)
			}
			e.ID = c.ID
			got := marshal(t, e)
			golden.Check(t, filepath.Join("testdata", "golden", name), got)
			want := got

			var back Event
			if err := json.Unmarshal(want, &back); err != nil {
				t.Fatal(err)
			}
			if again := marshal(t, back); !bytes.Equal(again, want) {
				t.Fatalf("round trip changes the event:\n%s", again)
			}
			if err := back.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestNoSecrets checks the one free-form URL an event carries.
func TestNoSecrets(t *testing.T) {
	data, _ := os.ReadFile("testdata/golden/action-succeeded.json")
	for _, secret := range []string{"hunter2", "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "deadbeef", "AKIAEXAMPLE"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("the event shows %q", secret)
		}
	}
	if !bytes.Contains(data, []byte("versionId=3")) {
		t.Error("the harmless query parameter is gone")
	}
}

func TestSafeURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"https://console.example.com/build/1", "https://console.example.com/build/1"},
		{"https://user:pass@host.example/x", "https://host.example/x"},
		{"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=c&X-Amz-Date=d&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=s",
			"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=d&X-Amz-Expires=60&X-Amz-SignedHeaders=host"},
		{"https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKIA&Signature=s&Expires=1", "https://b.s3.amazonaws.com/k?Expires=1"},
		{"https://host/path?a=1#frag", "https://host/path?a=1#frag"},
		{"::not a url", ""},
	}
	for _, tt := range tests {
		if got := SafeURL(tt.in); got != tt.want {
			t.Errorf("SafeURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	base := func() Event {
		return Event{Source: Source, DetailType: DetailTypeAction, Detail: Detail{
			Pipeline: "p", ExecutionID: "e", Stage: "s", Action: "a", State: StateStarted, Version: 1,
			Type: &ActionType{Owner: "AWS", Category: "Build", Provider: "CodeBuild", Version: "1"},
		}}
	}
	tests := []struct {
		name   string
		mutate func(*Event)
		want   string
	}{
		{name: "valid", mutate: func(*Event) {}},
		{name: "source", mutate: func(e *Event) { e.Source = "aws.states" }, want: `source "aws.states" is not aws.codepipeline`},
		{name: "detail type", mutate: func(e *Event) { e.DetailType = "CodePipeline Job" }, want: `detail-type "CodePipeline Job" is not a CodePipeline execution state change`},
		{name: "stage cannot be abandoned", mutate: func(e *Event) { e.DetailType = DetailTypeStage; e.Detail.State = StateAbandoned },
			want: `detail.state "ABANDONED" is not a state of "CodePipeline Stage Execution State Change" events`},
		{name: "action cannot be superseded", mutate: func(e *Event) { e.Detail.State = StateSuperseded },
			want: `detail.state "SUPERSEDED" is not a state of "CodePipeline Action Execution State Change" events`},
		{name: "action fields", mutate: func(e *Event) { e.Detail.Action, e.Detail.Stage, e.Detail.Type = "", "", nil },
			want: "detail.stage is empty; detail.action is empty; detail.type is missing"},
		{name: "identity", mutate: func(e *Event) { e.Detail.Pipeline, e.Detail.ExecutionID, e.Detail.Version = "", "", 0 },
			want: "detail.pipeline is empty; detail.execution-id is empty; detail.version 0 is not a pipeline version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := base()
			tt.mutate(&e)
			err := e.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.HasSuffix(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := New(DetailTypeStage, "1", "r", time.Now(), Detail{Pipeline: "p", ExecutionID: "e", State: StateStarted, Version: 1}); err == nil {
		t.Fatal("New made a stage event without a stage")
	}
}

func TestNumberAndMillis(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Number
		bad  bool
	}{{in: "1", want: 1}, {in: "32.0", want: 32}, {in: "2e1", want: 20}, {in: "1.5", bad: true}, {in: `"1"`, bad: true}} {
		var n Number
		err := json.Unmarshal([]byte(tt.in), &n)
		if (err != nil) != tt.bad || (!tt.bad && n != tt.want) {
			t.Errorf("Number(%s) = %d, %v", tt.in, n, err)
		}
	}
	out, _ := json.Marshal(struct {
		N Number  `json:"n"`
		M *Millis `json:"m"`
	}{7, At(time.Date(2025, 6, 1, 14, 0, 0, 0, time.FixedZone("CEST", 2*3600)))})
	if string(out) != `{"n":7.0,"m":"2025-06-01T12:00:00.000Z"}` {
		t.Fatalf("encoded %s", out)
	}
}

func TestStates(t *testing.T) {
	tests := []struct {
		of     func(string) (State, bool)
		status string
		want   State
	}{
		{PipelineState, store.ExecutionInProgress, StateStarted},
		{PipelineState, store.ExecutionSucceeded, StateSucceeded},
		{PipelineState, store.ExecutionFailed, StateFailed},
		{PipelineState, store.ExecutionCancelled, StateCanceled},
		{PipelineState, store.ExecutionSuperseded, StateSuperseded},
		{PipelineState, store.ExecutionStopping, StateStopping},
		{PipelineState, store.ExecutionStopped, StateStopped},
		{StageState, store.StageInProgress, StateStarted},
		{StageState, store.StageSucceeded, StateSucceeded},
		{StageState, store.StageFailed, StateFailed},
		{StageState, store.StageCancelled, StateCanceled},
		{StageState, store.StageStopping, StateStopping},
		{StageState, store.StageStopped, StateStopped},
		{StageState, store.StageSkipped, ""},
		{ActionState, store.ActionInProgress, StateStarted},
		{ActionState, store.ActionSucceeded, StateSucceeded},
		{ActionState, store.ActionFailed, StateFailed},
		{ActionState, store.ActionAbandoned, StateAbandoned},
		{ActionState, "Unknown", ""},
	}
	for _, tt := range tests {
		got, ok := tt.of(tt.status)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: %q %v, want %q", tt.status, got, ok, tt.want)
		}
	}
}
