package pipeline

import "slices"

// The declaration model follows the PipelineDeclaration shape of the
// CodePipeline API model (2015-07-09) field for field, with the API's
// camelCase JSON names. Every field is tagged omitzero so that a document
// that omits a field, and one that gives an empty list or map, both survive
// a decode and encode unchanged.

// Declaration is a pipeline declaration: the PipelineDeclaration that
// CreatePipeline takes and GetPipeline returns.
type Declaration struct {
	// Name is the pipeline's name, unique in the account and region.
	Name string `json:"name,omitzero"`
	// RoleArn is the service role the pipeline acts with when an action
	// gives no roleArn of its own.
	RoleArn string `json:"roleArn,omitzero"`
	// ArtifactStore is the single artifact store of a pipeline whose actions
	// all run in the pipeline's region. Exactly one of ArtifactStore and
	// ArtifactStores is set.
	ArtifactStore *ArtifactStore `json:"artifactStore,omitzero"`
	// ArtifactStores holds one artifact store per region, keyed by region,
	// for pipelines with cross-region actions.
	ArtifactStores map[string]ArtifactStore `json:"artifactStores,omitzero"`
	// Stages run in order.
	Stages []Stage `json:"stages,omitzero"`
	// Version is the declaration's version number, starting at 1 and
	// incremented by each update; CreatePipeline ignores it.
	Version *int32 `json:"version,omitzero"`
	// ExecutionMode says how concurrent executions share the pipeline.
	// Empty means SUPERSEDED.
	ExecutionMode ExecutionMode `json:"executionMode,omitzero"`
	// PipelineType is V1 or V2. Empty means V1.
	PipelineType PipelineType `json:"pipelineType,omitzero"`
	// Variables are the pipeline-level variables (V2), referenced as
	// #{variables.Name}.
	Variables []Variable `json:"variables,omitzero"`
	// Triggers start the pipeline on git events (V2).
	Triggers []Trigger `json:"triggers,omitzero"`
}

// Stage is a StageDeclaration: a named group of actions.
type Stage struct {
	// Name is unique within the pipeline.
	Name string `json:"name,omitzero"`
	// Blockers is reserved by CodePipeline for future use.
	Blockers []BlockerDeclaration `json:"blockers,omitzero"`
	// Actions run grouped by runOrder: all actions with the same runOrder
	// run in parallel, groups run in ascending runOrder.
	Actions []Action `json:"actions,omitzero"`
	// OnFailure says what happens when the stage fails (V2).
	OnFailure *FailureConditions `json:"onFailure,omitzero"`
	// OnSuccess holds conditions checked once the stage succeeds (V2).
	OnSuccess *SuccessConditions `json:"onSuccess,omitzero"`
	// BeforeEntry holds conditions checked before the stage starts (V2).
	BeforeEntry *BeforeEntryConditions `json:"beforeEntry,omitzero"`
}

// Action is an ActionDeclaration: one step of a stage.
type Action struct {
	// Name is unique within its stage.
	Name string `json:"name,omitzero"`
	// ActionTypeID names the action type that performs the action.
	ActionTypeID ActionTypeID `json:"actionTypeId,omitzero"`
	// RunOrder orders the action within its stage (1–999). Nil means 1.
	RunOrder *int32 `json:"runOrder,omitzero"`
	// Configuration holds the action type's configuration properties.
	Configuration map[string]string `json:"configuration,omitzero"`
	// Commands are the shell commands of a Commands action.
	Commands []string `json:"commands,omitzero"`
	// OutputArtifacts are the artifacts the action produces.
	OutputArtifacts []OutputArtifact `json:"outputArtifacts,omitzero"`
	// InputArtifacts are the artifacts the action consumes, produced by
	// earlier actions.
	InputArtifacts []InputArtifact `json:"inputArtifacts,omitzero"`
	// OutputVariables are the environment variables a Commands action
	// exports as its output variables.
	OutputVariables []OutputVariable `json:"outputVariables,omitzero"`
	// RoleArn is the role assumed to run this action, possibly in another
	// account.
	RoleArn string `json:"roleArn,omitzero"`
	// Region is the region the action runs in; empty means the pipeline's.
	Region string `json:"region,omitzero"`
	// Namespace is the name under which the action's output variables are
	// referenced, as #{Namespace.Key}.
	Namespace string `json:"namespace,omitzero"`
	// TimeoutInMinutes overrides the default timeout of an approval action
	// (5–86,400).
	TimeoutInMinutes *int32 `json:"timeoutInMinutes,omitzero"`
	// EnvironmentVariables are set for a Commands action.
	EnvironmentVariables []EnvironmentVariable `json:"environmentVariables,omitzero"`
}

// ActionTypeID identifies an action type: category, owner, provider and
// version together.
type ActionTypeID struct {
	Category ActionCategory `json:"category,omitzero"`
	Owner    ActionOwner    `json:"owner,omitzero"`
	Provider string         `json:"provider,omitzero"`
	Version  string         `json:"version,omitzero"`
}

// InputArtifact names an artifact an action consumes.
type InputArtifact struct {
	Name string `json:"name,omitzero"`
}

// OutputArtifact names an artifact an action produces.
type OutputArtifact struct {
	Name string `json:"name,omitzero"`
	// Files lists the paths a Commands action puts in the artifact.
	Files []string `json:"files,omitzero"`
}

// OutputVariable is the name of an environment variable a Commands action
// exports.
type OutputVariable = string

// EnvironmentVariable is an environment variable of a Commands action.
type EnvironmentVariable struct {
	Name  string `json:"name,omitzero"`
	Value string `json:"value,omitzero"`
	// Type is PLAINTEXT (the default) or SECRETS_MANAGER, in which case Value
	// names a secret.
	Type EnvironmentVariableType `json:"type,omitzero"`
}

// ArtifactStore is the S3 bucket that holds a pipeline's artifacts.
type ArtifactStore struct {
	Type          ArtifactStoreType `json:"type,omitzero"`
	Location      string            `json:"location,omitzero"`
	EncryptionKey *EncryptionKey    `json:"encryptionKey,omitzero"`
}

// EncryptionKey is the KMS key that encrypts an artifact store.
type EncryptionKey struct {
	ID   string            `json:"id,omitzero"`
	Type EncryptionKeyType `json:"type,omitzero"`
}

// Variable is a PipelineVariableDeclaration: a pipeline-level variable.
type Variable struct {
	Name         string `json:"name,omitzero"`
	DefaultValue string `json:"defaultValue,omitzero"`
	Description  string `json:"description,omitzero"`
}

// Trigger is a PipelineTriggerDeclaration: git events that start the
// pipeline.
type Trigger struct {
	ProviderType     TriggerProviderType `json:"providerType,omitzero"`
	GitConfiguration *GitConfiguration   `json:"gitConfiguration,omitzero"`
}

// GitConfiguration filters the git events of one source action.
type GitConfiguration struct {
	// SourceActionName names the CodeStarSourceConnection source action the
	// trigger applies to.
	SourceActionName string                 `json:"sourceActionName,omitzero"`
	Push             []GitPushFilter        `json:"push,omitzero"`
	PullRequest      []GitPullRequestFilter `json:"pullRequest,omitzero"`
}

// GitPushFilter selects push events by tag, branch and changed file path.
type GitPushFilter struct {
	Tags      *GitTagFilterCriteria      `json:"tags,omitzero"`
	Branches  *GitBranchFilterCriteria   `json:"branches,omitzero"`
	FilePaths *GitFilePathFilterCriteria `json:"filePaths,omitzero"`
}

// GitPullRequestFilter selects pull request events by event type, branch
// and changed file path.
type GitPullRequestFilter struct {
	Events    []GitPullRequestEventType  `json:"events,omitzero"`
	Branches  *GitBranchFilterCriteria   `json:"branches,omitzero"`
	FilePaths *GitFilePathFilterCriteria `json:"filePaths,omitzero"`
}

// GitFilterCriteria holds include and exclude glob patterns; an exclude
// match wins over an include match.
type GitFilterCriteria struct {
	Includes []string `json:"includes,omitzero"`
	Excludes []string `json:"excludes,omitzero"`
}

// GitBranchFilterCriteria filters by branch name.
type GitBranchFilterCriteria = GitFilterCriteria

// GitTagFilterCriteria filters by tag name.
type GitTagFilterCriteria = GitFilterCriteria

// GitFilePathFilterCriteria filters by changed file path.
type GitFilePathFilterCriteria = GitFilterCriteria

// FailureConditions is a stage's onFailure: the result applied when the
// stage fails, or conditions deciding it.
type FailureConditions struct {
	Result             ConditionResult     `json:"result,omitzero"`
	RetryConfiguration *RetryConfiguration `json:"retryConfiguration,omitzero"`
	Conditions         []Condition         `json:"conditions,omitzero"`
}

// SuccessConditions is a stage's onSuccess.
type SuccessConditions struct {
	Conditions []Condition `json:"conditions,omitzero"`
}

// BeforeEntryConditions is a stage's beforeEntry.
type BeforeEntryConditions struct {
	Conditions []Condition `json:"conditions,omitzero"`
}

// Condition applies Result when its rules are met.
type Condition struct {
	Result ConditionResult `json:"result,omitzero"`
	Rules  []Rule          `json:"rules,omitzero"`
}

// Rule is a RuleDeclaration: one check of a stage condition.
type Rule struct {
	Name             string            `json:"name,omitzero"`
	RuleTypeID       RuleTypeID        `json:"ruleTypeId,omitzero"`
	Configuration    map[string]string `json:"configuration,omitzero"`
	Commands         []string          `json:"commands,omitzero"`
	InputArtifacts   []InputArtifact   `json:"inputArtifacts,omitzero"`
	RoleArn          string            `json:"roleArn,omitzero"`
	Region           string            `json:"region,omitzero"`
	TimeoutInMinutes *int32            `json:"timeoutInMinutes,omitzero"`
}

// RuleTypeID identifies a rule type.
type RuleTypeID struct {
	Category string `json:"category,omitzero"`
	Owner    string `json:"owner,omitzero"`
	Provider string `json:"provider,omitzero"`
	Version  string `json:"version,omitzero"`
}

// RetryConfiguration says which actions a RETRY result runs again.
type RetryConfiguration struct {
	RetryMode RetryMode `json:"retryMode,omitzero"`
}

// BlockerDeclaration is reserved by CodePipeline for future use.
type BlockerDeclaration struct {
	Name string      `json:"name,omitzero"`
	Type BlockerType `json:"type,omitzero"`
}

// Tag is a resource tag of a CreatePipeline request.
type Tag struct {
	Key   string `json:"key,omitzero"`
	Value string `json:"value,omitzero"`
}

// PipelineMetadata is the metadata of a GetPipeline response.
type PipelineMetadata struct {
	PipelineArn       string     `json:"pipelineArn,omitzero"`
	Created           *Timestamp `json:"created,omitzero"`
	Updated           *Timestamp `json:"updated,omitzero"`
	PollingDisabledAt *Timestamp `json:"pollingDisabledAt,omitzero"`
}

// ActionCategory is an action type's category.
type ActionCategory string

// The action categories of the API model.
const (
	CategorySource   ActionCategory = "Source"
	CategoryBuild    ActionCategory = "Build"
	CategoryDeploy   ActionCategory = "Deploy"
	CategoryTest     ActionCategory = "Test"
	CategoryInvoke   ActionCategory = "Invoke"
	CategoryApproval ActionCategory = "Approval"
	CategoryCompute  ActionCategory = "Compute"
)

// ActionOwner says who provides an action type.
type ActionOwner string

// The action owners of the API model.
const (
	OwnerAWS        ActionOwner = "AWS"
	OwnerThirdParty ActionOwner = "ThirdParty"
	OwnerCustom     ActionOwner = "Custom"
)

// ExecutionMode says how concurrent executions share a pipeline.
type ExecutionMode string

// The execution modes of the API model.
const (
	ExecutionModeQueued     ExecutionMode = "QUEUED"
	ExecutionModeSuperseded ExecutionMode = "SUPERSEDED"
	ExecutionModeParallel   ExecutionMode = "PARALLEL"
)

// PipelineType is V1 or V2.
type PipelineType string

// The pipeline types of the API model.
const (
	PipelineTypeV1 PipelineType = "V1"
	PipelineTypeV2 PipelineType = "V2"
)

// ConditionResult is what a stage condition does (the API model's Result).
type ConditionResult string

// The condition results of the API model.
const (
	ResultRollback ConditionResult = "ROLLBACK"
	ResultFail     ConditionResult = "FAIL"
	ResultRetry    ConditionResult = "RETRY"
	ResultSkip     ConditionResult = "SKIP"
)

// RetryMode is the API model's StageRetryMode.
type RetryMode string

// The retry modes of the API model.
const (
	RetryFailedActions RetryMode = "FAILED_ACTIONS"
	RetryAllActions    RetryMode = "ALL_ACTIONS"
)

// EnvironmentVariableType says how an environment variable's value is read.
type EnvironmentVariableType string

// The environment variable types of the API model.
const (
	EnvPlaintext      EnvironmentVariableType = "PLAINTEXT"
	EnvSecretsManager EnvironmentVariableType = "SECRETS_MANAGER"
)

// GitPullRequestEventType is a pull request event a trigger reacts to.
type GitPullRequestEventType string

// The pull request events of the API model.
const (
	PullRequestOpen    GitPullRequestEventType = "OPEN"
	PullRequestUpdated GitPullRequestEventType = "UPDATED"
	PullRequestClosed  GitPullRequestEventType = "CLOSED"
)

// TriggerProviderType is the API model's PipelineTriggerProviderType.
type TriggerProviderType string

// TriggerCodeStarSourceConnection is the only trigger provider.
const TriggerCodeStarSourceConnection TriggerProviderType = "CodeStarSourceConnection"

// ArtifactStoreType is the kind of artifact store; only S3 exists.
type ArtifactStoreType string

// ArtifactStoreS3 is the only artifact store type.
const ArtifactStoreS3 ArtifactStoreType = "S3"

// EncryptionKeyType is the kind of encryption key; only KMS exists.
type EncryptionKeyType string

// EncryptionKeyKMS is the only encryption key type.
const EncryptionKeyKMS EncryptionKeyType = "KMS"

// BlockerType is reserved by CodePipeline for future use.
type BlockerType string

// BlockerSchedule is the only blocker type.
const BlockerSchedule BlockerType = "Schedule"

// EffectiveRunOrder is the action's runOrder, 1 when it gives none.
func (a *Action) EffectiveRunOrder() int32 {
	if a.RunOrder == nil {
		return 1
	}
	return *a.RunOrder
}

// Groups returns the stage's actions grouped by runOrder: groups in
// ascending runOrder, actions in declaration order within a group. The
// actions of a group run in parallel.
func (s *Stage) Groups() [][]*Action {
	byOrder := map[int32][]*Action{}
	orders := make([]int32, 0, len(s.Actions))
	for i := range s.Actions {
		a := &s.Actions[i]
		r := a.EffectiveRunOrder()
		if _, seen := byOrder[r]; !seen {
			orders = append(orders, r)
		}
		byOrder[r] = append(byOrder[r], a)
	}
	slices.Sort(orders)
	groups := make([][]*Action, len(orders))
	for i, r := range orders {
		groups[i] = byOrder[r]
	}
	return groups
}

// Stage returns the declaration's stage named name, or nil.
func (d *Declaration) Stage(name string) *Stage {
	for i := range d.Stages {
		if d.Stages[i].Name == name {
			return &d.Stages[i]
		}
	}
	return nil
}

// Action returns the stage's action named name, or nil.
func (s *Stage) Action(name string) *Action {
	for i := range s.Actions {
		if s.Actions[i].Name == name {
			return &s.Actions[i]
		}
	}
	return nil
}

// EffectivePipelineType is the declaration's pipeline type. When it gives
// none, it is V2 if it uses a V2 feature (variables, triggers, stage
// conditions, the QUEUED or PARALLEL mode, a Commands action) and V1
// otherwise.
func (d *Declaration) EffectivePipelineType() PipelineType {
	if d.PipelineType != "" {
		return d.PipelineType
	}
	if len(d.v2Features()) > 0 {
		return PipelineTypeV2
	}
	return PipelineTypeV1
}

// EffectiveExecutionMode is the declaration's execution mode, SUPERSEDED
// when it gives none.
func (d *Declaration) EffectiveExecutionMode() ExecutionMode {
	if d.ExecutionMode == "" {
		return ExecutionModeSuperseded
	}
	return d.ExecutionMode
}

// String formats the action type as Category/Owner/Provider/Version.
func (t ActionTypeID) String() string {
	return string(t.Category) + "/" + string(t.Owner) + "/" + t.Provider + "/" + t.Version
}
