// Package action owns the action-provider port: the Provider interface that
// every back end implements (local stand-ins now, AWS SDK clients next), the
// Job it is given and the Result it returns, and the Registry that finds the
// provider of an action type.
//
// Action types are plain strings here (Type), not the declaration model's
// types, so that back ends and the Lambda events that carry jobs depend on
// this port alone.
package action

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sluice-ci/sluice/internal/artifact"
)

// Provider performs one type of action. Run is called once per action
// attempt; the job's ID is stable across redeliveries of the same attempt, so
// a provider that starts something external de-duplicates on it.
//
// A Go error from Run means the infrastructure failed and the attempt may be
// retried; an action that ran and failed is a Result with Status Failed. Run
// stops promptly when ctx is cancelled and then returns ctx's error.
type Provider interface {
	Run(ctx context.Context, job *Job) (*Result, error)
}

// ProviderFunc adapts a function to the Provider interface.
type ProviderFunc func(ctx context.Context, job *Job) (*Result, error)

// Run calls f.
func (f ProviderFunc) Run(ctx context.Context, job *Job) (*Result, error) { return f(ctx, job) }

// Type is CodePipeline's ActionTypeId.
type Type struct {
	Category string `json:"category"`
	Owner    string `json:"owner"`
	Provider string `json:"provider"`
	Version  string `json:"version"`
}

// String names the type as category/owner/provider/version.
func (t Type) String() string {
	return fmt.Sprintf("%s/%s/%s/%s", t.Category, t.Owner, t.Provider, t.Version)
}

// Job is one attempt of one action, with its configuration already resolved
// (variables substituted).
type Job struct {
	// ID identifies the attempt (execution, stage, action, attempt) and is
	// the idempotency key of the providers.
	ID                  string            `json:"id"`
	PipelineName        string            `json:"pipelineName"`
	PipelineExecutionID string            `json:"pipelineExecutionId"`
	StageName           string            `json:"stageName"`
	ActionName          string            `json:"actionName"`
	ActionType          Type              `json:"actionTypeId"`
	Configuration       map[string]string `json:"configuration,omitempty"`
	InputArtifacts      []Artifact        `json:"inputArtifacts,omitempty"`
	OutputArtifacts     []Artifact        `json:"outputArtifacts,omitempty"`
	Region              string            `json:"region,omitempty"`
	RoleArn             string            `json:"roleArn,omitempty"`
	// Commands are the shell commands of a Commands action.
	Commands []string `json:"commands,omitempty"`
	// OutputVariables are the variables a Commands action exports.
	OutputVariables []string `json:"outputVariables,omitempty"`
	// EnvironmentVariables are the declaration's environment variables of a
	// Commands action.
	EnvironmentVariables []EnvironmentVariable `json:"environmentVariables,omitempty"`
	// SourceRevisions are the revisions a source action must fetch instead
	// of the latest (StartPipelineExecution's sourceRevisions, a rollback, a
	// retry that keeps its revision). Only those of this action are given.
	SourceRevisions []SourceRevisionOverride `json:"sourceRevisions,omitempty"`

	// Artifacts is the artifact store the artifact keys refer to.
	Artifacts artifact.Store `json:"-"`
	// Log receives the action's log (build output); nil discards it.
	Log io.Writer `json:"-"`
}

// Logger returns the job's log, or io.Discard when it has none.
func (j *Job) Logger() io.Writer {
	if j.Log == nil {
		return io.Discard
	}
	return j.Log
}

// Artifact is an input or output artifact of a job.
type Artifact struct {
	Name string `json:"name"`
	// Key is where the artifact is in the artifact store.
	Key string `json:"key"`
	// Revision is, for an input, the revision of the source it came from.
	Revision string `json:"revision,omitempty"`
	// Files lists, for an output of a Commands action, the paths to put in
	// the artifact.
	Files []string `json:"files,omitempty"`
}

// EnvironmentVariable is an environment variable of a Commands or CodeBuild
// action.
type EnvironmentVariable struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// Type is PLAINTEXT (also when empty), PARAMETER_STORE or
	// SECRETS_MANAGER.
	Type string `json:"type,omitempty"`
}

// Environment variable types.
const (
	EnvPlaintext      = "PLAINTEXT"
	EnvParameterStore = "PARAMETER_STORE"
	EnvSecretsManager = "SECRETS_MANAGER"
)

// SourceRevisionOverride is CodePipeline's SourceRevisionOverride.
type SourceRevisionOverride struct {
	// RevisionType is one of the Revision* constants.
	RevisionType  string `json:"revisionType"`
	RevisionValue string `json:"revisionValue"`
}

// Source revision override types.
const (
	RevisionCommitID          = "COMMIT_ID"
	RevisionImageDigest       = "IMAGE_DIGEST"
	RevisionS3ObjectVersionID = "S3_OBJECT_VERSION_ID"
	RevisionS3ObjectKey       = "S3_OBJECT_KEY"
)

// Override returns the value of the job's source revision override of the
// given type, if there is one.
func (j *Job) Override(revisionType string) (string, bool) {
	for _, o := range j.SourceRevisions {
		if o.RevisionType == revisionType {
			return o.RevisionValue, true
		}
	}
	return "", false
}

// Status is the outcome of a Run.
type Status string

// Statuses, named as CodePipeline names action execution statuses.
const (
	StatusSucceeded Status = "Succeeded"
	StatusFailed    Status = "Failed"
	// StatusInProgress means the outcome arrives later, by an event or an API
	// call (a manual approval, a CodeBuild build in the cloud).
	StatusInProgress Status = "InProgress"
)

// Result is what an action attempt produced.
type Result struct {
	Status               Status            `json:"status"`
	Summary              string            `json:"summary,omitempty"`
	ExternalExecutionID  string            `json:"externalExecutionId,omitempty"`
	ExternalExecutionURL string            `json:"externalExecutionUrl,omitempty"`
	OutputVariables      map[string]string `json:"outputVariables,omitempty"`
	// Revision is the revision a source action fetched.
	Revision *Revision `json:"revision,omitempty"`
	// ErrorDetails says why the action failed.
	ErrorDetails *ErrorDetails `json:"errorDetails,omitempty"`
}

// Revision is the revision of a source action's output, as CodePipeline's
// ArtifactRevision shows it.
type Revision struct {
	RevisionID string `json:"revisionId"`
	// ChangeIdentifier is an additional identifier: the commit date, or an
	// S3 object's ETag.
	ChangeIdentifier string    `json:"revisionChangeIdentifier,omitempty"`
	RevisionSummary  string    `json:"revisionSummary,omitempty"`
	RevisionURL      string    `json:"revisionUrl,omitempty"`
	Created          time.Time `json:"created,omitzero"`
}

// ErrorDetails is CodePipeline's ErrorDetails.
type ErrorDetails struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error codes, CodePipeline's FailureDetails types.
const (
	CodeJobFailed           = "JobFailed"
	CodeConfigurationError  = "ConfigurationError"
	CodePermissionError     = "PermissionError"
	CodeRevisionOutOfSync   = "RevisionOutOfSync"
	CodeRevisionUnavailable = "RevisionUnavailable"
	CodeSystemUnavailable   = "SystemUnavailable"
)

// MaxErrorMessage is the longest ErrorDetails message CodePipeline keeps.
const MaxErrorMessage = 5000

// Failed returns a failed Result with the code and the formatted message,
// cut to MaxErrorMessage bytes (keeping the end, where a log tail is).
func Failed(code, format string, args ...any) *Result {
	msg := fmt.Sprintf(format, args...)
	if len(msg) > MaxErrorMessage {
		msg = "..." + msg[len(msg)-MaxErrorMessage+3:]
	}
	return &Result{Status: StatusFailed, ErrorDetails: &ErrorDetails{Code: code, Message: msg}}
}

// Check returns a failed Result (ConfigurationError) naming what the job
// lacks: a required configuration property among required, or input and
// output artifact counts within [inMin, inMax] and [outMin, outMax]. It
// returns nil when the job is well formed.
func (j *Job) Check(required []string, inMin, inMax, outMin, outMax int) *Result {
	for _, k := range required {
		if j.Configuration[k] == "" {
			return Failed(CodeConfigurationError, "action %s: configuration property %s is required", j.ActionName, k)
		}
	}
	if n := len(j.InputArtifacts); n < inMin || n > inMax {
		return Failed(CodeConfigurationError, "action %s: %s takes %s input artifacts, got %d", j.ActionName, j.ActionType.Provider, span(inMin, inMax), n)
	}
	if n := len(j.OutputArtifacts); n < outMin || n > outMax {
		return Failed(CodeConfigurationError, "action %s: %s takes %s output artifacts, got %d", j.ActionName, j.ActionType.Provider, span(outMin, outMax), n)
	}
	return nil
}

func span(lo, hi int) string {
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}

// Bool reads a true/false configuration property (any case); absent gives
// def. A value that is neither is reported with the property's name.
func (j *Job) Bool(key string, def bool) (bool, error) {
	switch v := j.Configuration[key]; strings.ToLower(v) {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, fmt.Errorf("action %s: configuration property %s is %q, want true or false", j.ActionName, key, v)
	}
}
