// Package apishape assembles the answers of CodePipeline's read operations
// (GetPipelineExecution, GetPipelineState, ListPipelineExecutions,
// ListActionExecutions and ListRuleExecutions) from Sluice's store, in the shapes and with the field
// names of the CodePipeline API model (2015-07-09), as the SDK's
// service/codepipeline/types decode them. `sluice run --output json` prints
// them and the CodePipeline API server answers with them, so both say the
// same thing the same way.
//
// Timestamps are written as the JSON 1.1 protocol writes them: epoch seconds,
// a JSON number with millisecond precision.
package apishape

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Time is a timestamp written as epoch seconds.
type Time struct{ time.Time }

// At returns t as a *Time, nil for the zero time (the field is left out).
func At(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	return &Time{t.UTC()}
}

// MarshalJSON writes epoch seconds with milliseconds.
func (t Time) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// UnmarshalJSON reads epoch seconds.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("timestamp %s: want epoch seconds: %w", b, err)
	}
	sec, frac := math.Modf(f)
	t.Time = time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC()
	return nil
}

// PipelineExecution is GetPipelineExecution's pipelineExecution.
type PipelineExecution struct {
	PipelineName        string                     `json:"pipelineName"`
	PipelineVersion     int32                      `json:"pipelineVersion"`
	PipelineExecutionID string                     `json:"pipelineExecutionId"`
	Status              string                     `json:"status"`
	StatusSummary       string                     `json:"statusSummary,omitempty"`
	ArtifactRevisions   []ArtifactRevision         `json:"artifactRevisions"`
	Variables           []ResolvedPipelineVariable `json:"variables,omitempty"`
	Trigger             *ExecutionTrigger          `json:"trigger,omitempty"`
	ExecutionMode       string                     `json:"executionMode,omitempty"`
	ExecutionType       string                     `json:"executionType,omitempty"`
	RollbackMetadata    *RollbackMetadata          `json:"rollbackMetadata,omitempty"`
}

// RollbackMetadata names the execution whose artifacts and variables a
// ROLLBACK execution runs with (CodePipeline's PipelineRollbackMetadata).
type RollbackMetadata struct {
	RollbackTargetPipelineExecutionID string `json:"rollbackTargetPipelineExecutionId,omitempty"`
}

// ArtifactRevision is the revision of an execution's source artifact.
type ArtifactRevision struct {
	Name                     string `json:"name"`
	RevisionID               string `json:"revisionId,omitempty"`
	RevisionChangeIdentifier string `json:"revisionChangeIdentifier,omitempty"`
	RevisionSummary          string `json:"revisionSummary,omitempty"`
	Created                  *Time  `json:"created,omitempty"`
	RevisionURL              string `json:"revisionUrl,omitempty"`
}

// ResolvedPipelineVariable is a pipeline-level variable's value in one
// execution.
type ResolvedPipelineVariable struct {
	Name          string `json:"name"`
	ResolvedValue string `json:"resolvedValue"`
}

// ExecutionTrigger says what started an execution.
type ExecutionTrigger struct {
	TriggerType   string `json:"triggerType,omitempty"`
	TriggerDetail string `json:"triggerDetail,omitempty"`
}

// StopExecutionTrigger says why an execution was stopped.
type StopExecutionTrigger struct {
	Reason string `json:"reason,omitempty"`
}

// GetPipelineExecutionOutput is GetPipelineExecution's answer.
type GetPipelineExecutionOutput struct {
	PipelineExecution *PipelineExecution `json:"pipelineExecution"`
}

// StageState is one stage of GetPipelineState's stageStates.
type StageState struct {
	StageName              string              `json:"stageName"`
	InboundExecution       *StageExecution     `json:"inboundExecution,omitempty"`
	InboundExecutions      []StageExecution    `json:"inboundExecutions,omitempty"`
	InboundTransitionState *TransitionState    `json:"inboundTransitionState,omitempty"`
	ActionStates           []ActionState       `json:"actionStates"`
	LatestExecution        *StageExecution     `json:"latestExecution,omitempty"`
	RetryStageMetadata     *RetryStageMetadata `json:"retryStageMetadata,omitempty"`
	// The runs of the stage's conditions in its latest execution, by kind.
	BeforeEntryConditionState *StageConditionState `json:"beforeEntryConditionState,omitempty"`
	OnSuccessConditionState   *StageConditionState `json:"onSuccessConditionState,omitempty"`
	OnFailureConditionState   *StageConditionState `json:"onFailureConditionState,omitempty"`
}

// StageConditionState is the run of a stage's conditions of one kind, and
// of each condition with its rules.
type StageConditionState struct {
	LatestExecution *StageConditionsExecution `json:"latestExecution,omitempty"`
	ConditionStates []ConditionState          `json:"conditionStates,omitempty"`
}

// StageConditionsExecution is how the conditions of one kind ended, or that
// they wait.
type StageConditionsExecution struct {
	Status  string `json:"status,omitempty"`
	Summary string `json:"summary,omitempty"`
}

// ConditionState is one condition's latest run and its rules'.
type ConditionState struct {
	LatestExecution *ConditionExecution `json:"latestExecution,omitempty"`
	RuleStates      []RuleState         `json:"ruleStates,omitempty"`
}

// ConditionExecution is one condition's latest run.
type ConditionExecution struct {
	Status           string `json:"status,omitempty"`
	Summary          string `json:"summary,omitempty"`
	LastStatusChange *Time  `json:"lastStatusChange,omitempty"`
}

// RuleState is one rule of a condition, with its latest run.
type RuleState struct {
	RuleName        string         `json:"ruleName,omitempty"`
	LatestExecution *RuleExecution `json:"latestExecution,omitempty"`
}

// RuleExecution is a rule's latest run, as GetPipelineState shows it.
type RuleExecution struct {
	RuleExecutionID  string        `json:"ruleExecutionId,omitempty"`
	Status           string        `json:"status,omitempty"`
	Summary          string        `json:"summary,omitempty"`
	LastStatusChange *Time         `json:"lastStatusChange,omitempty"`
	LastUpdatedBy    string        `json:"lastUpdatedBy,omitempty"`
	ErrorDetails     *ErrorDetails `json:"errorDetails,omitempty"`
}

// StageExecution is an execution's pass through a stage, as GetPipelineState
// shows it (the latest one, or one waiting to enter).
type StageExecution struct {
	PipelineExecutionID string `json:"pipelineExecutionId"`
	Status              string `json:"status"`
	Type                string `json:"type,omitempty"`
}

// TransitionState is a stage's inbound transition.
type TransitionState struct {
	Enabled        bool   `json:"enabled"`
	LastChangedBy  string `json:"lastChangedBy,omitempty"`
	LastChangedAt  *Time  `json:"lastChangedAt,omitempty"`
	DisabledReason string `json:"disabledReason,omitempty"`
}

// RetryStageMetadata counts a stage's retries.
type RetryStageMetadata struct {
	AutoStageRetryAttempt   *int32 `json:"autoStageRetryAttempt,omitempty"`
	ManualStageRetryAttempt *int32 `json:"manualStageRetryAttempt,omitempty"`
	LatestRetryTrigger      string `json:"latestRetryTrigger,omitempty"`
}

// ActionState is one action of a stage's actionStates.
type ActionState struct {
	ActionName      string           `json:"actionName"`
	CurrentRevision *ActionRevision  `json:"currentRevision,omitempty"`
	LatestExecution *ActionExecution `json:"latestExecution,omitempty"`
	EntityURL       string           `json:"entityUrl,omitempty"`
	RevisionURL     string           `json:"revisionUrl,omitempty"`
}

// ActionRevision is a source action's current revision.
type ActionRevision struct {
	RevisionID       string `json:"revisionId"`
	RevisionChangeID string `json:"revisionChangeId,omitempty"`
	Created          *Time  `json:"created,omitempty"`
}

// ActionExecution is an action's latest execution, as GetPipelineState
// shows it.
type ActionExecution struct {
	ActionExecutionID    string        `json:"actionExecutionId,omitempty"`
	Status               string        `json:"status"`
	Summary              string        `json:"summary,omitempty"`
	LastStatusChange     *Time         `json:"lastStatusChange,omitempty"`
	Token                string        `json:"token,omitempty"`
	LastUpdatedBy        string        `json:"lastUpdatedBy,omitempty"`
	ExternalExecutionID  string        `json:"externalExecutionId,omitempty"`
	ExternalExecutionURL string        `json:"externalExecutionUrl,omitempty"`
	PercentComplete      *int32        `json:"percentComplete,omitempty"`
	ErrorDetails         *ErrorDetails `json:"errorDetails,omitempty"`
}

// ErrorDetails says why an action failed.
type ErrorDetails struct {
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// GetPipelineStateOutput is GetPipelineState's answer.
type GetPipelineStateOutput struct {
	PipelineName    string       `json:"pipelineName"`
	PipelineVersion int32        `json:"pipelineVersion"`
	StageStates     []StageState `json:"stageStates"`
	Created         *Time        `json:"created,omitempty"`
	Updated         *Time        `json:"updated,omitempty"`
}

// PipelineExecutionSummary is one execution of ListPipelineExecutions.
type PipelineExecutionSummary struct {
	PipelineExecutionID string                `json:"pipelineExecutionId"`
	Status              string                `json:"status"`
	StatusSummary       string                `json:"statusSummary,omitempty"`
	StartTime           *Time                 `json:"startTime,omitempty"`
	LastUpdateTime      *Time                 `json:"lastUpdateTime,omitempty"`
	SourceRevisions     []SourceRevision      `json:"sourceRevisions"`
	Trigger             *ExecutionTrigger     `json:"trigger,omitempty"`
	StopTrigger         *StopExecutionTrigger `json:"stopTrigger,omitempty"`
	ExecutionMode       string                `json:"executionMode,omitempty"`
	ExecutionType       string                `json:"executionType,omitempty"`
	RollbackMetadata    *RollbackMetadata     `json:"rollbackMetadata,omitempty"`
}

// SourceRevision is the revision a source action of an execution fetched.
type SourceRevision struct {
	ActionName      string `json:"actionName"`
	RevisionID      string `json:"revisionId,omitempty"`
	RevisionSummary string `json:"revisionSummary,omitempty"`
	RevisionURL     string `json:"revisionUrl,omitempty"`
}

// ListPipelineExecutionsInput is ListPipelineExecutions' request.
type ListPipelineExecutionsInput struct {
	PipelineName string                   `json:"pipelineName"`
	MaxResults   int32                    `json:"maxResults,omitempty"`
	NextToken    string                   `json:"nextToken,omitempty"`
	Filter       *PipelineExecutionFilter `json:"filter,omitempty"`
}

// PipelineExecutionFilter narrows ListPipelineExecutions.
type PipelineExecutionFilter struct {
	SucceededInStage *SucceededInStageFilter `json:"succeededInStage,omitempty"`
}

// SucceededInStageFilter keeps the executions that succeeded in a stage.
type SucceededInStageFilter struct {
	StageName string `json:"stageName"`
}

// ListPipelineExecutionsOutput is ListPipelineExecutions' answer.
type ListPipelineExecutionsOutput struct {
	PipelineExecutionSummaries []PipelineExecutionSummary `json:"pipelineExecutionSummaries"`
	NextToken                  string                     `json:"nextToken,omitempty"`
}

// ActionExecutionDetail is one action attempt of ListActionExecutions.
type ActionExecutionDetail struct {
	PipelineExecutionID string                 `json:"pipelineExecutionId"`
	ActionExecutionID   string                 `json:"actionExecutionId"`
	PipelineVersion     int32                  `json:"pipelineVersion"`
	StageName           string                 `json:"stageName"`
	ActionName          string                 `json:"actionName"`
	StartTime           *Time                  `json:"startTime,omitempty"`
	LastUpdateTime      *Time                  `json:"lastUpdateTime,omitempty"`
	UpdatedBy           string                 `json:"updatedBy,omitempty"`
	Status              string                 `json:"status"`
	Input               *ActionExecutionInput  `json:"input"`
	Output              *ActionExecutionOutput `json:"output"`
}

// ActionTypeID names an action type, or a rule type (RuleTypeId).
type ActionTypeID struct {
	Category string `json:"category"`
	Owner    string `json:"owner"`
	Provider string `json:"provider"`
	Version  string `json:"version"`
}

// ActionExecutionInput is what an action attempt was given.
type ActionExecutionInput struct {
	ActionTypeID          *ActionTypeID     `json:"actionTypeId"`
	Configuration         map[string]string `json:"configuration"`
	ResolvedConfiguration map[string]string `json:"resolvedConfiguration"`
	RoleArn               string            `json:"roleArn,omitempty"`
	Region                string            `json:"region,omitempty"`
	InputArtifacts        []ArtifactDetail  `json:"inputArtifacts"`
	Namespace             string            `json:"namespace,omitempty"`
}

// ActionExecutionOutput is what an action attempt produced.
type ActionExecutionOutput struct {
	OutputArtifacts []ArtifactDetail       `json:"outputArtifacts"`
	ExecutionResult *ActionExecutionResult `json:"executionResult,omitempty"`
	OutputVariables map[string]string      `json:"outputVariables"`
}

// ActionExecutionResult is an action attempt's outcome in its back end.
type ActionExecutionResult struct {
	ExternalExecutionID      string        `json:"externalExecutionId,omitempty"`
	ExternalExecutionSummary string        `json:"externalExecutionSummary,omitempty"`
	ExternalExecutionURL     string        `json:"externalExecutionUrl,omitempty"`
	ErrorDetails             *ErrorDetails `json:"errorDetails,omitempty"`
}

// ArtifactDetail is an input or output artifact of an action attempt.
type ArtifactDetail struct {
	Name       string      `json:"name"`
	S3Location *S3Location `json:"s3location,omitempty"`
}

// S3Location is where an artifact is kept. Locally the bucket is empty and
// the key is the artifact store's key.
type S3Location struct {
	Bucket string `json:"bucket,omitempty"`
	Key    string `json:"key,omitempty"`
}

// ListActionExecutionsInput is ListActionExecutions' request.
type ListActionExecutionsInput struct {
	PipelineName string                 `json:"pipelineName"`
	Filter       *ActionExecutionFilter `json:"filter,omitempty"`
	MaxResults   int32                  `json:"maxResults,omitempty"`
	NextToken    string                 `json:"nextToken,omitempty"`
}

// ActionExecutionFilter narrows ListActionExecutions to one execution, or to
// the latest attempt of each action in one execution.
type ActionExecutionFilter struct {
	PipelineExecutionID       string                     `json:"pipelineExecutionId,omitempty"`
	LatestInPipelineExecution *LatestInPipelineExecution `json:"latestInPipelineExecution,omitempty"`
}

// LatestInPipelineExecution keeps the latest attempt of each action of one
// execution.
type LatestInPipelineExecution struct {
	PipelineExecutionID string `json:"pipelineExecutionId"`
	StartTimeFilter     string `json:"startTimeFilter,omitempty"` // Latest or All
}

// ListActionExecutionsOutput is ListActionExecutions' answer.
type ListActionExecutionsOutput struct {
	ActionExecutionDetails []ActionExecutionDetail `json:"actionExecutionDetails"`
	NextToken              string                  `json:"nextToken,omitempty"`
}

// ListRuleExecutionsInput is ListRuleExecutions' request. Its filter is
// ListActionExecutions': one execution, or the latest run of each rule of
// one execution.
type ListRuleExecutionsInput struct {
	PipelineName string                 `json:"pipelineName"`
	Filter       *ActionExecutionFilter `json:"filter,omitempty"`
	MaxResults   int32                  `json:"maxResults,omitempty"`
	NextToken    string                 `json:"nextToken,omitempty"`
}

// ListRuleExecutionsOutput is ListRuleExecutions' answer.
type ListRuleExecutionsOutput struct {
	RuleExecutionDetails []RuleExecutionDetail `json:"ruleExecutionDetails"`
	NextToken            string                `json:"nextToken,omitempty"`
}

// RuleExecutionDetail is one run of a condition's rule.
type RuleExecutionDetail struct {
	PipelineExecutionID string               `json:"pipelineExecutionId"`
	RuleExecutionID     string               `json:"ruleExecutionId"`
	PipelineVersion     int32                `json:"pipelineVersion"`
	StageName           string               `json:"stageName"`
	RuleName            string               `json:"ruleName"`
	StartTime           *Time                `json:"startTime,omitempty"`
	LastUpdateTime      *Time                `json:"lastUpdateTime,omitempty"`
	UpdatedBy           string               `json:"updatedBy,omitempty"`
	Status              string               `json:"status"`
	Input               *RuleExecutionInput  `json:"input"`
	Output              *RuleExecutionOutput `json:"output"`
}

// RuleExecutionInput is what a rule run was given.
type RuleExecutionInput struct {
	RuleTypeID            *ActionTypeID     `json:"ruleTypeId"`
	Configuration         map[string]string `json:"configuration"`
	ResolvedConfiguration map[string]string `json:"resolvedConfiguration"`
	RoleArn               string            `json:"roleArn,omitempty"`
	Region                string            `json:"region,omitempty"`
	InputArtifacts        []ArtifactDetail  `json:"inputArtifacts"`
}

// RuleExecutionOutput is how a rule run ended.
type RuleExecutionOutput struct {
	ExecutionResult *ActionExecutionResult `json:"executionResult,omitempty"`
}

var (
	_ json.Marshaler   = Time{}
	_ json.Unmarshaler = (*Time)(nil)
)
