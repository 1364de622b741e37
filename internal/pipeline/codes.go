package pipeline

// The problem codes. Each names one rule; Codes lists them with a line of
// explanation.
const (
	// Reading the file.
	CodeUnknownField     Code = "UnknownField"
	CodeTypeMismatch     Code = "TypeMismatch"
	CodeDuplicateKey     Code = "DuplicateKey"
	CodeUnresolvedValue  Code = "UnresolvedValue"
	CodeParameterMissing Code = "ParameterMissing"
	CodeUnknownReference Code = "UnknownReference"
	CodeInvalidIntrinsic Code = "InvalidIntrinsic"

	// Fields.
	CodeRequiredField Code = "RequiredField"
	CodeInvalidName   Code = "InvalidName"
	CodeInvalidLength Code = "InvalidLength"
	CodeInvalidValue  Code = "InvalidValue"
	CodeOutOfRange    Code = "OutOfRange"
	CodeInvalidArn    Code = "InvalidArn"

	// Structure.
	CodeStageCount                  Code = "StageCount"
	CodeActionCount                 Code = "ActionCount"
	CodeNoSourceAction              Code = "NoSourceAction"
	CodeNonSourceActionInFirstStage Code = "NonSourceActionInFirstStage"
	CodeSourceActionNotInFirstStage Code = "SourceActionNotInFirstStage"
	CodeApprovalInFirstStage        Code = "ApprovalInFirstStage"
	CodeDuplicateStageName          Code = "DuplicateStageName"
	CodeDuplicateActionName         Code = "DuplicateActionName"
	CodeDuplicateOutputArtifact     Code = "DuplicateOutputArtifact"
	CodeDuplicateNamespace          Code = "DuplicateNamespace"
	CodeDuplicateVariable           Code = "DuplicateVariable"
	CodeInputArtifactNotProduced    Code = "InputArtifactNotProduced"

	// Action types.
	CodeUnknownActionType        Code = "UnknownActionType"
	CodeActionTypeMismatch       Code = "ActionTypeMismatch"
	CodeUnsupportedActionVersion Code = "UnsupportedActionVersion"
	CodeInputArtifactCount       Code = "InputArtifactCount"
	CodeOutputArtifactCount      Code = "OutputArtifactCount"
	CodeMissingConfiguration     Code = "MissingConfiguration"
	CodeUnknownConfiguration     Code = "UnknownConfiguration"
	CodeInvalidConfiguration     Code = "InvalidConfiguration"
	CodeSecretInPlainText        Code = "SecretInPlainText"
	CodeFieldNotAllowed          Code = "FieldNotAllowed"
	CodeTimeoutNotAllowed        Code = "TimeoutNotAllowed"

	// Pipeline types and triggers.
	CodeV2OnlyField         Code = "V2OnlyField"
	CodePipelineTypeImplied Code = "PipelineTypeImplied"
	CodeInvalidTrigger      Code = "InvalidTrigger"
	CodeInvalidCondition    Code = "InvalidCondition"

	// Variables.
	CodeUnknownNamespace            Code = "UnknownNamespace"
	CodeNamespaceNotYetAvailable    Code = "NamespaceNotYetAvailable"
	CodeUndeclaredVariable          Code = "UndeclaredVariable"
	CodeUnknownCodePipelineVariable Code = "UnknownCodePipelineVariable"
	CodeReservedNamespace           Code = "ReservedNamespace"

	// Regions and artifact stores.
	CodeArtifactStoreMissing          Code = "ArtifactStoreMissing"
	CodeArtifactStoreConflict         Code = "ArtifactStoreConflict"
	CodeArtifactStoreMissingForRegion Code = "ArtifactStoreMissingForRegion"
	CodeCrossRegionNotAllowed         Code = "CrossRegionNotAllowed"
)

// CodeInfo explains a problem code.
type CodeInfo struct {
	Code     Code
	Severity Severity
	Rule     string
}

// Codes lists every problem code with its severity and the rule it stands
// for, in the order of the constants above.
func Codes() []CodeInfo {
	e, w := SeverityError, SeverityWarning
	return []CodeInfo{
		{CodeUnknownField, e, "a field the declaration does not have"},
		{CodeTypeMismatch, e, "a value of the wrong type (a list where a string belongs, …)"},
		{CodeDuplicateKey, w, "a key given twice in one object; the later value is used"},
		{CodeUnresolvedValue, w, "a CloudFormation value known only once the stack is deployed; not checked"},
		{CodeParameterMissing, e, "a CloudFormation parameter without a default and without --param"},
		{CodeUnknownReference, e, "a CloudFormation Ref, Sub or condition naming nothing in the template"},
		{CodeInvalidIntrinsic, e, "a CloudFormation intrinsic function written wrongly"},
		{CodeRequiredField, e, "a required field is missing or empty"},
		{CodeInvalidName, e, "a name with characters CodePipeline does not allow"},
		{CodeInvalidLength, e, "a value or list shorter or longer than CodePipeline allows"},
		{CodeInvalidValue, e, "a value outside its enumeration (category, owner, mode, …)"},
		{CodeOutOfRange, e, "a number outside its range (runOrder 1–999, timeoutInMinutes 5–86,400, …)"},
		{CodeInvalidArn, e, "a role ARN that is not an IAM role ARN"},
		{CodeStageCount, e, "fewer than 2 or more than 50 stages"},
		{CodeActionCount, e, "a stage without actions or with more than 50"},
		{CodeNoSourceAction, e, "the first stage has no source action"},
		{CodeNonSourceActionInFirstStage, e, "the first stage holds an action that is not a source action"},
		{CodeSourceActionNotInFirstStage, e, "a source action outside the first stage"},
		{CodeApprovalInFirstStage, e, "an approval action in the first stage"},
		{CodeDuplicateStageName, e, "two stages with one name"},
		{CodeDuplicateActionName, e, "two actions with one name in a stage"},
		{CodeDuplicateOutputArtifact, e, "two output artifacts with one name in the pipeline"},
		{CodeDuplicateNamespace, e, "two actions with one namespace in the pipeline"},
		{CodeDuplicateVariable, e, "two pipeline variables with one name"},
		{CodeInputArtifactNotProduced, e, "an input artifact no earlier action outputs"},
		{CodeUnknownActionType, w, "an action type Sluice does not know; its configuration is not checked"},
		{CodeActionTypeMismatch, e, "a known provider under the wrong category or owner"},
		{CodeUnsupportedActionVersion, e, "an action type version that does not exist"},
		{CodeInputArtifactCount, e, "more or fewer input artifacts than the action type takes"},
		{CodeOutputArtifactCount, e, "more or fewer output artifacts than the action type takes"},
		{CodeMissingConfiguration, e, "a required configuration property is missing"},
		{CodeUnknownConfiguration, w, "a configuration property the action type does not have"},
		{CodeInvalidConfiguration, e, "a configuration value the action type does not accept"},
		{CodeSecretInPlainText, w, "a secret configuration property written out in the file"},
		{CodeFieldNotAllowed, e, "a field the action type does not take (commands outside a Commands action, …)"},
		{CodeTimeoutNotAllowed, e, "timeoutInMinutes on an action that is not a manual approval"},
		{CodeV2OnlyField, e, "a V2 feature in a V1 pipeline"},
		{CodePipelineTypeImplied, w, "V2 features without pipelineType; the pipeline is read as V2"},
		{CodeInvalidTrigger, e, "a trigger that names no CodeStarSourceConnection source action, or a bad filter"},
		{CodeInvalidCondition, e, "a stage condition CodePipeline does not accept"},
		{CodeUnknownNamespace, e, "#{ns.Key} names a namespace no action declares"},
		{CodeNamespaceNotYetAvailable, e, "#{ns.Key} names a namespace of an action that has not run yet"},
		{CodeUndeclaredVariable, e, "#{variables.x} names no pipeline variable"},
		{CodeUnknownCodePipelineVariable, e, "#{codepipeline.X} names no execution variable"},
		{CodeReservedNamespace, e, "an action namespace CodePipeline reserves (codepipeline, variables)"},
		{CodeArtifactStoreMissing, e, "neither artifactStore nor artifactStores is set"},
		{CodeArtifactStoreConflict, e, "both artifactStore and artifactStores are set"},
		{CodeArtifactStoreMissingForRegion, e, "an action region without an artifactStores entry"},
		{CodeCrossRegionNotAllowed, e, "a cross-region source, ThirdParty or Custom action"},
	}
}
