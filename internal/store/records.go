package store

import (
	"encoding/json"
	"time"
)

// Pipeline execution statuses, as CodePipeline names them.
const (
	ExecutionCancelled  = "Cancelled"
	ExecutionInProgress = "InProgress"
	ExecutionStopped    = "Stopped"
	ExecutionStopping   = "Stopping"
	ExecutionSucceeded  = "Succeeded"
	ExecutionSuperseded = "Superseded"
	ExecutionFailed     = "Failed"
)

// Stage execution statuses.
const (
	StageCancelled  = "Cancelled"
	StageInProgress = "InProgress"
	StageFailed     = "Failed"
	StageStopped    = "Stopped"
	StageStopping   = "Stopping"
	StageSucceeded  = "Succeeded"
	StageSkipped    = "Skipped"
)

// Action execution statuses.
const (
	ActionInProgress = "InProgress"
	ActionAbandoned  = "Abandoned"
	ActionSucceeded  = "Succeeded"
	ActionFailed     = "Failed"
)

// Execution modes.
const (
	ModeSuperseded = "SUPERSEDED"
	ModeQueued     = "QUEUED"
	ModeParallel   = "PARALLEL"
)

// Approval statuses. Approved and Rejected are CodePipeline's
// ApprovalStatus values; Pending and Expired are Sluice's own.
const (
	ApprovalPending  = "Pending"
	ApprovalApproved = "Approved"
	ApprovalRejected = "Rejected"
	ApprovalExpired  = "Expired"
)

// Pipeline is one version of a pipeline declaration, kept so that an
// execution runs the version it started with.
type Pipeline struct {
	Name        string          `json:"name"`
	Version     int             `json:"version"`
	Declaration json.RawMessage `json:"declaration"` // the pipeline structure, as GetPipeline returns it
	Created     time.Time       `json:"created"`
}

// PipelineExecution is CodePipeline's PipelineExecution.
type PipelineExecution struct {
	PipelineName        string                     `json:"pipelineName"`
	PipelineVersion     int                        `json:"pipelineVersion"`
	PipelineExecutionID string                     `json:"pipelineExecutionId"`
	Status              string                     `json:"status"`
	StatusSummary       string                     `json:"statusSummary,omitempty"`
	ArtifactRevisions   []ArtifactRevision         `json:"artifactRevisions,omitempty"`
	Variables           []ResolvedPipelineVariable `json:"variables,omitempty"`
	Trigger             ExecutionTrigger           `json:"trigger"`
	ExecutionMode       string                     `json:"executionMode"`
	ExecutionType       string                     `json:"executionType"` // STANDARD or ROLLBACK
	StartTime           time.Time                  `json:"startTime"`
	LastUpdateTime      time.Time                  `json:"lastUpdateTime"`
	StopTrigger         *StopExecutionTrigger      `json:"stopTrigger,omitempty"`
	// SourceRevisions are the revisions given at start for source actions
	// (StartPipelineExecution's sourceRevisions), by action name.
	SourceRevisions []SourceRevisionOverride `json:"sourceRevisions,omitempty"`
	// Abandon is set by StopPipelineExecution with abandon=true.
	Abandon bool `json:"abandon,omitempty"`
	// Rollback is set on an execution of type ROLLBACK: the stage it rolls
	// back and the execution whose artifacts and variables it runs with.
	Rollback *RollbackMetadata `json:"rollbackMetadata,omitempty"`
	// StoredStatus is the status the record was stored with: the store
	// sets it on every write, so that the next write knows which status it
	// changes (see Change).
	StoredStatus string `json:"storedStatus,omitempty"`
}

// ArtifactRevision is CodePipeline's ArtifactRevision.
type ArtifactRevision struct {
	Name                     string    `json:"name"`
	RevisionID               string    `json:"revisionId,omitempty"`
	RevisionChangeIdentifier string    `json:"revisionChangeIdentifier,omitempty"`
	RevisionSummary          string    `json:"revisionSummary,omitempty"`
	Created                  time.Time `json:"created,omitzero"`
	RevisionURL              string    `json:"revisionUrl,omitempty"`
}

// ResolvedPipelineVariable is a pipeline-level variable's value for one
// execution.
type ResolvedPipelineVariable struct {
	Name          string `json:"name"`
	ResolvedValue string `json:"resolvedValue"`
}

// ExecutionTrigger is CodePipeline's ExecutionTrigger.
type ExecutionTrigger struct {
	TriggerType   string `json:"triggerType"` // StartPipelineExecution, Webhook, PutActionRevision, ...
	TriggerDetail string `json:"triggerDetail,omitempty"`
	// Git is the push or pull request that started the execution through
	// a V2 pipeline's git trigger (WebhookV2).
	Git *GitTrigger `json:"git,omitempty"`
}

// GitTrigger is the git event behind a WebhookV2 execution, as
// CodePipeline's events and console show it.
type GitTrigger struct {
	ProviderType       string `json:"providerType,omitempty"`
	ConnectionArn      string `json:"connectionArn,omitempty"`
	FullRepositoryName string `json:"fullRepositoryName,omitempty"`
	CommitID           string `json:"commitId,omitempty"`
	CommitMessage      string `json:"commitMessage,omitempty"`
	AuthorDisplayName  string `json:"authorDisplayName,omitempty"`
	AuthorEmail        string `json:"authorEmail,omitempty"`
	AuthorID           string `json:"authorId,omitempty"`
	AuthorDate         string `json:"authorDate,omitempty"`
	// BranchName is the branch pushed to, or a pull request's source
	// branch; TagName the tag pushed.
	BranchName string `json:"branchName,omitempty"`
	TagName    string `json:"tagName,omitempty"`
	// PullRequestID is the number of the pull request, for a pull request
	// event.
	PullRequestID string `json:"pullRequestId,omitempty"`
}

// Execution types.
const (
	TypeStandard = "STANDARD"
	TypeRollback = "ROLLBACK"
)

// Trigger types of the executions that Sluice starts itself.
const (
	TriggerManualRollback    = "ManualRollback"
	TriggerAutomatedRollback = "AutomatedRollback"
)

// RollbackMetadata is CodePipeline's PipelineRollbackMetadata, with the
// stage rolled back.
type RollbackMetadata struct {
	RollbackTargetPipelineExecutionID string `json:"rollbackTargetPipelineExecutionId"`
	StageName                         string `json:"stageName"`
}

// StopExecutionTrigger is CodePipeline's StopExecutionTrigger.
type StopExecutionTrigger struct {
	Reason string `json:"reason,omitempty"`
}

// SourceRevisionOverride is CodePipeline's SourceRevisionOverride.
type SourceRevisionOverride struct {
	ActionName    string `json:"actionName"`
	RevisionType  string `json:"revisionType"` // COMMIT_ID, IMAGE_DIGEST, S3_OBJECT_VERSION_ID, S3_OBJECT_KEY
	RevisionValue string `json:"revisionValue"`
}

// StageExecution is one execution's pass through one stage. Attempt counts
// RetryStageExecution calls, starting at 1.
type StageExecution struct {
	PipelineName        string `json:"pipelineName"`
	PipelineExecutionID string `json:"pipelineExecutionId"`
	StageName           string `json:"stageName"`
	Status              string `json:"status"`
	Type                string `json:"type"` // STANDARD or ROLLBACK
	Attempt             int    `json:"attempt"`
	RetryMode           string `json:"retryMode,omitempty"` // of the latest retry: FAILED_ACTIONS or ALL_ACTIONS
	// NextAttempt is set by RetryStageExecution on a failed stage; the next
	// entry gate enters the stage again with this attempt.
	NextAttempt int `json:"nextAttempt,omitempty"`
	// AutoRetries and ManualRetries count the retries of the stage by its
	// onFailure result RETRY and by RetryStageExecution; LatestRetryTrigger
	// is AutomatedStageRetry or ManualStageRetry.
	// OnFailureResult is the result applied when the stage failed: its
	// onFailure result, or its onFailure condition's when that engaged.
	OnFailureResult    string `json:"onFailureResult,omitempty"`
	AutoRetries        int    `json:"autoRetries,omitempty"`
	ManualRetries      int    `json:"manualRetries,omitempty"`
	LatestRetryTrigger string `json:"latestRetryTrigger,omitempty"`
	// Conditions are the latest runs of the stage's conditions in this
	// execution, one per kind.
	Conditions     []ConditionRun `json:"conditions,omitempty"`
	StartTime      time.Time      `json:"startTime"`
	LastUpdateTime time.Time      `json:"lastUpdateTime"`
	// StoredStatus is the status the record was stored with (see
	// PipelineExecution.StoredStatus).
	StoredStatus string `json:"storedStatus,omitempty"`
}

// Retry triggers of RetryStageMetadata.
const (
	RetryAutomated = "AutomatedStageRetry"
	RetryManual    = "ManualStageRetry"
)

// ConditionRun is one run of a stage's condition of one kind
// (BEFORE_ENTRY, ON_SUCCESS, ON_FAILURE): CodePipeline's
// StageConditionsExecution and ConditionExecution, with its rules.
type ConditionRun struct {
	Kind   string `json:"kind"`
	Status string `json:"status"` // InProgress, Succeeded, Failed, Overridden
	// Result is the result the condition engaged (FAIL, SKIP, ROLLBACK),
	// empty when it held or waits.
	Result           string    `json:"result,omitempty"`
	Summary          string    `json:"summary,omitempty"`
	LastStatusChange time.Time `json:"lastStatusChange"`
	Rules            []RuleRun `json:"rules,omitempty"`
}

// RuleRun is one run of a condition's rule: CodePipeline's
// RuleExecutionDetail.
type RuleRun struct {
	RuleName              string            `json:"ruleName"`
	RuleExecutionID       string            `json:"ruleExecutionId"`
	RuleTypeID            ActionTypeID      `json:"ruleTypeId"`
	Configuration         map[string]string `json:"configuration,omitempty"`
	ResolvedConfiguration map[string]string `json:"resolvedConfiguration,omitempty"`
	Region                string            `json:"region,omitempty"`
	RoleArn               string            `json:"roleArn,omitempty"`
	Status                string            `json:"status"`
	Summary               string            `json:"summary,omitempty"`
	ErrorDetails          *ErrorDetails     `json:"errorDetails,omitempty"`
	StartTime             time.Time         `json:"startTime"`
	LastUpdateTime        time.Time         `json:"lastUpdateTime"`
	UpdatedBy             string            `json:"updatedBy,omitempty"`
	// Until is when a rule in progress (a closed deployment window) is
	// evaluated again.
	Until time.Time `json:"until,omitzero"`
}

// Condition returns the run of the stage's condition of kind, or nil.
func (se *StageExecution) Condition(kind string) *ConditionRun {
	for i := range se.Conditions {
		if se.Conditions[i].Kind == kind {
			return &se.Conditions[i]
		}
	}
	return nil
}

// SetCondition records a condition run, replacing the earlier run of its
// kind.
func (se *StageExecution) SetCondition(run ConditionRun) {
	if c := se.Condition(run.Kind); c != nil {
		*c = run
		return
	}
	se.Conditions = append(se.Conditions, run)
}

// ActionTypeID is CodePipeline's ActionTypeId.
type ActionTypeID struct {
	Category string `json:"category"`
	Owner    string `json:"owner"`
	Provider string `json:"provider"`
	Version  string `json:"version"`
}

// S3Location is where an artifact is: locally, Bucket is empty and Key is the
// artifact store's key.
type S3Location struct {
	Bucket string `json:"bucket,omitempty"`
	Key    string `json:"key"`
}

// ArtifactDetail is CodePipeline's ArtifactDetail.
type ArtifactDetail struct {
	Name       string     `json:"name"`
	S3Location S3Location `json:"s3location"`
}

// ErrorDetails is CodePipeline's ErrorDetails.
type ErrorDetails struct {
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// ActionExecutionInput is CodePipeline's ActionExecutionInput.
type ActionExecutionInput struct {
	ActionTypeID          ActionTypeID      `json:"actionTypeId"`
	Configuration         map[string]string `json:"configuration,omitempty"`
	ResolvedConfiguration map[string]string `json:"resolvedConfiguration,omitempty"`
	RoleArn               string            `json:"roleArn,omitempty"`
	Region                string            `json:"region,omitempty"`
	InputArtifacts        []ArtifactDetail  `json:"inputArtifacts,omitempty"`
	Namespace             string            `json:"namespace,omitempty"`
}

// ActionExecutionResult is CodePipeline's ActionExecutionResult.
type ActionExecutionResult struct {
	ExternalExecutionID      string        `json:"externalExecutionId,omitempty"`
	ExternalExecutionSummary string        `json:"externalExecutionSummary,omitempty"`
	ExternalExecutionURL     string        `json:"externalExecutionUrl,omitempty"`
	ErrorDetails             *ErrorDetails `json:"errorDetails,omitempty"`
}

// ActionExecutionOutput is CodePipeline's ActionExecutionOutput.
type ActionExecutionOutput struct {
	OutputArtifacts []ArtifactDetail      `json:"outputArtifacts,omitempty"`
	ExecutionResult ActionExecutionResult `json:"executionResult"`
	OutputVariables map[string]string     `json:"outputVariables,omitempty"`
}

// ActionRevision is a source action's revision (CodePipeline's
// ActionRevision), kept for GetPipelineState's currentRevision and for the
// input artifacts of later actions.
type ActionRevision struct {
	RevisionID       string    `json:"revisionId"`
	RevisionChangeID string    `json:"revisionChangeId,omitempty"`
	RevisionSummary  string    `json:"revisionSummary,omitempty"`
	RevisionURL      string    `json:"revisionUrl,omitempty"`
	Created          time.Time `json:"created,omitzero"`
}

// ActionExecution is CodePipeline's ActionExecutionDetail, one per action
// attempt (the stage attempt it ran in).
type ActionExecution struct {
	PipelineName        string                `json:"pipelineName"`
	PipelineExecutionID string                `json:"pipelineExecutionId"`
	ActionExecutionID   string                `json:"actionExecutionId"`
	PipelineVersion     int                   `json:"pipelineVersion"`
	StageName           string                `json:"stageName"`
	ActionName          string                `json:"actionName"`
	Attempt             int                   `json:"attempt"`
	StartTime           time.Time             `json:"startTime"`
	LastUpdateTime      time.Time             `json:"lastUpdateTime"`
	UpdatedBy           string                `json:"updatedBy,omitempty"`
	Status              string                `json:"status"`
	Input               ActionExecutionInput  `json:"input"`
	Output              ActionExecutionOutput `json:"output"`
	Revision            *ActionRevision       `json:"revision,omitempty"`
	// PercentComplete is the progress its job's worker last reported
	// (PutJobSuccessResult's executionDetails), GetPipelineState's
	// percentComplete.
	PercentComplete *int32 `json:"percentComplete,omitempty"`
	// Token is the approval token of a manual approval (GetPipelineState
	// shows it in the action's latestExecution).
	Token string `json:"token,omitempty"`
	// StoredStatus is the status the record was stored with (see
	// PipelineExecution.StoredStatus).
	StoredStatus string `json:"storedStatus,omitempty"`
}

// Transition is a stage's inbound transition. The zero value is enabled.
type Transition struct {
	Disabled       bool      `json:"disabled,omitempty"`
	DisabledReason string    `json:"disabledReason,omitempty"`
	LastChangedBy  string    `json:"lastChangedBy,omitempty"`
	LastChangedAt  time.Time `json:"lastChangedAt,omitzero"`
}

// Waiter is an execution parked at a stage's entry gate: its task token waits
// in the store until the stage frees or the transition opens.
type Waiter struct {
	PipelineExecutionID string    `json:"pipelineExecutionId"`
	TaskToken           string    `json:"taskToken"`
	ExecutionStart      time.Time `json:"executionStart"` // orders executions: newer supersedes older
	Since               time.Time `json:"since"`
}

// TokenSend is a task-token callback decided but maybe not yet delivered:
// written in the same conditional write as the decision, delivered after it,
// and removed once delivered, so that a crash between the two is repaired by
// the next handler that touches the stage. Error empty means success.
type TokenSend struct {
	TaskToken string `json:"taskToken"`
	// ExecutionID is the pipeline execution whose stage entry the callback
	// answers with success; the gate writes the stage attempt it enters
	// into Output.
	ExecutionID string          `json:"executionId,omitempty"`
	Output      json.RawMessage `json:"output,omitempty"`
	Error       string          `json:"error,omitempty"`
	Cause       string          `json:"cause,omitempty"`
}

// StageControl is the one item that decides who may enter a stage: the lock,
// the inbound transition, the waiting executions and undelivered callbacks.
// Every gate decision is a single conditional write of this item.
type StageControl struct {
	PipelineName string      `json:"pipelineName"`
	StageName    string      `json:"stageName"`
	Inbound      Transition  `json:"inbound"`
	Holder       string      `json:"holder,omitempty"` // execution inside the stage (not used in PARALLEL mode)
	HolderSince  time.Time   `json:"holderSince,omitzero"`
	Waiters      []Waiter    `json:"waiters,omitempty"`
	Outbox       []TokenSend `json:"outbox,omitempty"`
	// LatestExecutionID is the last execution that entered the stage
	// (GetPipelineState's latestExecution; RetryStageExecution's check).
	LatestExecutionID string `json:"latestExecutionId,omitempty"`
	// Parked are the executions let into the stage whose entry conditions
	// wait (a deployment window that is closed): their entry tokens are
	// answered when the conditions are met, fail or are overridden.
	Parked []Parked `json:"parked,omitempty"`
}

// Parked is an execution let into a stage whose entry waits for its
// conditions, with the entry's task token, until it is evaluated again.
type Parked struct {
	PipelineExecutionID string    `json:"pipelineExecutionId"`
	TaskToken           string    `json:"taskToken"`
	Until               time.Time `json:"until"`
}

// Approval is a manual approval waiting for PutApprovalResult.
type Approval struct {
	Token               string    `json:"token"`
	PipelineName        string    `json:"pipelineName"`
	PipelineExecutionID string    `json:"pipelineExecutionId"`
	StageName           string    `json:"stageName"`
	ActionName          string    `json:"actionName"`
	Attempt             int       `json:"attempt"`
	TaskToken           string    `json:"taskToken"`
	CustomData          string    `json:"customData,omitempty"`
	ExternalEntityLink  string    `json:"externalEntityLink,omitempty"`
	Expires             time.Time `json:"expires"`
	Status              string    `json:"status"`
	Summary             string    `json:"summary,omitempty"`
	DecidedBy           string    `json:"decidedBy,omitempty"`
	DecidedAt           time.Time `json:"decidedAt,omitzero"`
	// Delivered is set once the decision reached the waiting task, so that a
	// retried PutApprovalResult delivers a decision at most once more.
	Delivered bool `json:"delivered,omitempty"`
}

// ParkedTask is the task token of an action attempt whose outcome arrives
// later (a build in the cloud, a Lambda invoke with a continuation token);
// whoever learns the outcome completes the attempt with it. Kept apart from
// the action execution so that no API response built from that record can
// carry the token.
type ParkedTask struct {
	PipelineName        string    `json:"pipelineName"`
	PipelineExecutionID string    `json:"pipelineExecutionId"`
	StageName           string    `json:"stageName"`
	ActionName          string    `json:"actionName"`
	Attempt             int       `json:"attempt"`
	TaskToken           string    `json:"taskToken"`
	Since               time.Time `json:"since"`
}
