// Package events owns CodePipeline's EventBridge events: the pipeline,
// stage and action execution state changes, with the detail-types, states
// and detail fields of the CodePipeline user guide; the Publisher port they
// go out through; Outbox, which builds the events from the state changes the
// store keeps in its event outbox and publishes them at least once, in order
// per execution, with stable ids; a local publisher that appends them to a
// JSON-lines file, durably and safely for concurrent writers; and Tail,
// which reads that file and follows it as it grows (sluice events
// --follow). In the cloud, EventBridge's PutEvents implements Publisher.
//
// An event carries no secret: its detail has no field for an action's
// configuration, a variable, a token or a log, and the one free-form URL it
// carries (an action's external execution URL) is stripped of credentials
// and of presigned query parameters before it goes out.
//
// The JSON types are written here because the one library that has them,
// aws-lambda-go, types the detail's version as an integer, while CodePipeline
// writes it as 1.0, and omits the newer fields.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Source is the source of CodePipeline's events.
const Source = "aws.codepipeline"

// The detail-types of CodePipeline's events.
const (
	DetailTypePipeline = "CodePipeline Pipeline Execution State Change"
	DetailTypeStage    = "CodePipeline Stage Execution State Change"
	DetailTypeAction   = "CodePipeline Action Execution State Change"
)

// State is the state an event reports.
type State string

// The states of CodePipeline's events.
const (
	StateStarted    State = "STARTED"
	StateSucceeded  State = "SUCCEEDED"
	StateResumed    State = "RESUMED"
	StateFailed     State = "FAILED"
	StateCanceled   State = "CANCELED"
	StateSuperseded State = "SUPERSEDED"
	StateStopping   State = "STOPPING"
	StateStopped    State = "STOPPED"
	StateAbandoned  State = "ABANDONED"
)

// states lists the states each detail-type reports.
var states = map[string][]State{
	DetailTypePipeline: {StateCanceled, StateFailed, StateResumed, StateStarted, StateStopped, StateStopping, StateSucceeded, StateSuperseded},
	DetailTypeStage:    {StateCanceled, StateFailed, StateResumed, StateStarted, StateStopped, StateStopping, StateSucceeded},
	DetailTypeAction:   {StateAbandoned, StateCanceled, StateFailed, StateStarted, StateSucceeded},
}

// Event is an EventBridge event from CodePipeline.
type Event struct {
	Version    string    `json:"version"`
	ID         string    `json:"id"`
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Account    string    `json:"account"`
	Time       time.Time `json:"time"`
	Region     string    `json:"region"`
	Resources  []string  `json:"resources"`
	Detail     Detail    `json:"detail"`
}

// Detail is the detail of an event. Pipeline events fill the pipeline
// fields, stage events add the stage, action events the action's.
type Detail struct {
	Pipeline    string `json:"pipeline"`
	ExecutionID string `json:"execution-id"`
	// StartTime is when the pipeline execution (or, for an action, the
	// action execution) started.
	StartTime *Millis `json:"start-time,omitempty"`
	// ExecutionTrigger is what started the execution, on pipeline events.
	ExecutionTrigger *ExecutionTrigger `json:"execution-trigger,omitempty"`
	// StageLastRetryAttemptTime is set on every stage event once the stage
	// has been retried.
	StageLastRetryAttemptTime *Millis          `json:"stage-last-retry-attempt-time,omitempty"`
	Stage                     string           `json:"stage,omitempty"`
	ExecutionResult           *ExecutionResult `json:"execution-result,omitempty"`
	OutputArtifacts           []Artifact       `json:"output-artifacts,omitempty"`
	ActionExecutionID         string           `json:"action-execution-id,omitempty"`
	Action                    string           `json:"action,omitempty"`
	InputArtifacts            []Artifact       `json:"input-artifacts,omitempty"`
	State                     State            `json:"state"`
	// Region is the action's region, on action events.
	Region string      `json:"region,omitempty"`
	Type   *ActionType `json:"type,omitempty"`
	// Version is the pipeline's version.
	Version Number `json:"version"`
	// PipelineExecutionAttempt counts the execution's attempts (retries).
	PipelineExecutionAttempt Number `json:"pipeline-execution-attempt"`
	// StopExecutionComments is the reason given to StopPipelineExecution.
	StopExecutionComments string `json:"stop-execution-comments,omitempty"`
}

// ExecutionTrigger is what started an execution: its trigger type and
// detail, or, for an execution a git trigger started, the git event.
type ExecutionTrigger struct {
	TriggerType        string `json:"trigger-type,omitempty"`
	TriggerDetail      string `json:"trigger-detail,omitempty"`
	AuthorDisplayName  string `json:"author-display-name,omitempty"`
	FullRepositoryName string `json:"full-repository-name,omitempty"`
	ProviderType       string `json:"provider-type,omitempty"`
	AuthorEmail        string `json:"author-email,omitempty"`
	CommitMessage      string `json:"commit-message,omitempty"`
	AuthorDate         string `json:"author-date,omitempty"`
	TagName            string `json:"tag-name,omitempty"`
	BranchName         string `json:"branch-name,omitempty"`
	CommitID           string `json:"commit-id,omitempty"`
	ConnectionArn      string `json:"connection-arn,omitempty"`
	AuthorID           string `json:"author-id,omitempty"`
	// PullRequestID is the number of the pull request that started the
	// execution. CodePipeline's documented samples are of pushes; Sluice
	// names the pull request of a pull request trigger this way.
	PullRequestID string `json:"pull-request-id,omitempty"`
}

// ExecutionResult is an action's outcome as its back end reports it.
type ExecutionResult struct {
	ExternalExecutionURL     string `json:"external-execution-url,omitempty"`
	ExternalExecutionSummary string `json:"external-execution-summary,omitempty"`
	ExternalExecutionID      string `json:"external-execution-id,omitempty"`
	ErrorCode                string `json:"error-code,omitempty"`
}

// Artifact is an input or output artifact of an action, where it is kept.
type Artifact struct {
	Name       string     `json:"name"`
	S3Location S3Location `json:"s3location"`
}

// S3Location is where an artifact is kept.
type S3Location struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// ActionType is an action's type.
type ActionType struct {
	Owner    string `json:"owner"`
	Category string `json:"category"`
	Provider string `json:"provider"`
	Version  string `json:"version"`
}

// Number is a whole number that CodePipeline writes as a JSON float: 1.0.
type Number int

// MarshalJSON writes n as n.0.
func (n Number) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Itoa(int(n)) + ".0"), nil
}

// UnmarshalJSON reads a whole number, written with or without a fraction.
func (n *Number) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return fmt.Errorf("%s is not a whole number", b)
	}
	*n = Number(f)
	return nil
}

// Millis is a time CodePipeline writes with milliseconds:
// 2023-10-26T13:49:39.208Z.
type Millis time.Time

const millisFormat = "2006-01-02T15:04:05.000Z07:00"

// At returns t as a Millis, in UTC.
func At(t time.Time) *Millis {
	m := Millis(t.UTC())
	return &m
}

// MarshalJSON writes the time with milliseconds.
func (m Millis) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(m).UTC().Format(millisFormat) + `"`), nil
}

// UnmarshalJSON reads an RFC 3339 time.
func (m *Millis) UnmarshalJSON(b []byte) error {
	var t time.Time
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	*m = Millis(t)
	return nil
}

// Time returns m as a time.Time.
func (m Millis) Time() time.Time { return time.Time(m) }

// New returns an event of detailType about detail, stamped with the
// account, region and time it happened in, and a fresh id. The detail is
// checked (Validate) and its URL made safe to publish.
func New(detailType, account, region string, at time.Time, detail Detail) (Event, error) {
	e := Event{
		Version:    "0",
		ID:         uuid.NewString(),
		DetailType: detailType,
		Source:     Source,
		Account:    account,
		Time:       at.UTC().Truncate(time.Second),
		Region:     region,
		Resources:  []string{PipelineARN(region, account, detail.Pipeline)},
		Detail:     detail,
	}
	if r := e.Detail.ExecutionResult; r != nil {
		c := *r
		c.ExternalExecutionURL = SafeURL(c.ExternalExecutionURL)
		e.Detail.ExecutionResult = &c
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// PipelineARN returns the ARN of a pipeline, the resource of its events.
func PipelineARN(region, account, pipeline string) string {
	return "arn:aws:codepipeline:" + region + ":" + account + ":" + pipeline
}

// ValidationError lists what is wrong with an event, field by field.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	return "invalid CodePipeline event: " + strings.Join(e.Problems, "; ")
}

// Validate checks that the event is one CodePipeline sends: a known
// detail-type, one of its states, and the fields its kind requires.
func (e *Event) Validate() error {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	if e.Source != Source {
		bad("source %q is not %s", e.Source, Source)
	}
	allowed, known := states[e.DetailType]
	if !known {
		bad("detail-type %q is not a CodePipeline execution state change", e.DetailType)
	}
	d := &e.Detail
	if known && !contains(allowed, d.State) {
		bad("detail.state %q is not a state of %q events", d.State, e.DetailType)
	}
	if d.Pipeline == "" {
		bad("detail.pipeline is empty")
	}
	if d.ExecutionID == "" {
		bad("detail.execution-id is empty")
	}
	if d.Version < 1 {
		bad("detail.version %d is not a pipeline version", d.Version)
	}
	switch e.DetailType {
	case DetailTypeStage:
		if d.Stage == "" {
			bad("detail.stage is empty")
		}
	case DetailTypeAction:
		if d.Stage == "" {
			bad("detail.stage is empty")
		}
		if d.Action == "" {
			bad("detail.action is empty")
		}
		if d.Type == nil {
			bad("detail.type is missing")
		}
	}
	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

func contains(list []State, s State) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// presignParams are the query parameters that make a URL a credential.
var presignParams = []string{
	"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token",
	"Signature", "AWSAccessKeyId", "x-amz-security-token",
}

// SafeURL returns u without what would make it a credential: user
// information, and the query parameters of a presigned URL. A URL that
// does not parse is dropped.
func SafeURL(u string) string {
	if u == "" {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	p.User = nil
	if p.RawQuery != "" {
		q := p.Query()
		changed := false
		for _, k := range presignParams {
			if q.Has(k) {
				q.Del(k)
				changed = true
			}
		}
		if changed {
			p.RawQuery = q.Encode()
		}
	}
	return p.String()
}

// Publisher sends events out: to EventBridge in the cloud, to a file
// locally. Publish sends all the events or returns an error; events are
// delivered at least once, as CodePipeline's are.
type Publisher interface {
	Publish(ctx context.Context, events ...Event) error
}

// ErrClosed is the error of publishing to a closed publisher.
var ErrClosed = errors.New("events: publisher closed")
