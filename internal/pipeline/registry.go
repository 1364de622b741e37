package pipeline

import (
	"maps"
	"slices"
	"strings"
)

// ActionType describes an action type Sluice knows: the artifacts it takes
// and produces and its configuration properties, as CodePipeline's action
// structure reference gives them.
type ActionType struct {
	Category ActionCategory
	Owner    ActionOwner
	Provider string
	// Versions are the versions that exist.
	Versions []string
	// InputArtifacts and OutputArtifacts bound the number of artifacts.
	InputArtifacts  Count
	OutputArtifacts Count
	// Properties are the configuration properties, in documentation order.
	Properties []Property
	// V2Only is set for action types only V2 pipelines may use.
	V2Only bool
}

// Count bounds a number of artifacts.
type Count struct{ Min, Max int }

// Property is a configuration property of an action type.
type Property struct {
	Name     string
	Required bool
	// Secret properties are masked in GetPipeline output and in logs.
	Secret bool
	// Choices lists the accepted values, when the property is an
	// enumeration.
	Choices []string
}

// Property returns the named configuration property.
func (t *ActionType) Property(name string) (Property, bool) {
	for _, p := range t.Properties {
		if p.Name == name {
			return p, true
		}
	}
	return Property{}, false
}

func req(names ...string) []Property {
	out := make([]Property, len(names))
	for i, n := range names {
		out[i] = Property{Name: n, Required: true}
	}
	return out
}

func opt(names ...string) []Property {
	out := make([]Property, len(names))
	for i, n := range names {
		out[i] = Property{Name: n}
	}
	return out
}

func props(groups ...[]Property) []Property {
	return slices.Concat(groups...)
}

func choice(name string, required bool, values ...string) []Property {
	return []Property{{Name: name, Required: required, Choices: values}}
}

func secret(name string) []Property {
	return []Property{{Name: name, Required: true, Secret: true}}
}

var (
	boolChoice   = []string{"true", "false"}
	one          = []string{"1"}
	none         = Count{0, 0}
	exactlyOne   = Count{1, 1}
	upToFive     = Count{0, 5}
	oneToFive    = Count{1, 5}
	sourceOutput = Count{1, 1}
)

func codeBuild(category ActionCategory) ActionType {
	return ActionType{Category: category, Owner: OwnerAWS, Provider: "CodeBuild", Versions: one,
		InputArtifacts: oneToFive, OutputArtifacts: upToFive,
		Properties: props(req("ProjectName"), opt("PrimarySource", "EnvironmentVariables"),
			choice("BatchEnabled", false, boolChoice...), choice("CombineArtifacts", false, boolChoice...))}
}

func s3Deploy() ActionType {
	return ActionType{Category: CategoryDeploy, Owner: OwnerAWS, Provider: "S3", Versions: one,
		InputArtifacts: exactlyOne, OutputArtifacts: none,
		Properties: props(req("BucketName"), choice("Extract", true, boolChoice...),
			opt("ObjectKey", "KMSEncryptionKeyARN", "CacheControl"),
			choice("CannedACL", false, "private", "public-read", "public-read-write", "authenticated-read",
				"aws-exec-read", "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write"))}
}

// registry holds the known action types.
var registry = []ActionType{
	{Category: CategorySource, Owner: OwnerAWS, Provider: "S3", Versions: one,
		InputArtifacts: none, OutputArtifacts: sourceOutput,
		Properties: props(req("S3Bucket", "S3ObjectKey"),
			choice("PollForSourceChanges", false, boolChoice...), choice("AllowOverrideForS3ObjectKey", false, boolChoice...))},
	{Category: CategorySource, Owner: OwnerAWS, Provider: "CodeCommit", Versions: one,
		InputArtifacts: none, OutputArtifacts: sourceOutput,
		Properties: props(req("RepositoryName", "BranchName"), choice("PollForSourceChanges", false, boolChoice...),
			choice("OutputArtifactFormat", false, "CODE_ZIP", "CODEBUILD_CLONE_REF"))},
	{Category: CategorySource, Owner: OwnerThirdParty, Provider: "GitHub", Versions: one,
		InputArtifacts: none, OutputArtifacts: sourceOutput,
		Properties: props(req("Owner", "Repo", "Branch"), secret("OAuthToken"), choice("PollForSourceChanges", false, boolChoice...))},
	{Category: CategorySource, Owner: OwnerAWS, Provider: "CodeStarSourceConnection", Versions: one,
		InputArtifacts: none, OutputArtifacts: sourceOutput,
		Properties: props(req("ConnectionArn", "FullRepositoryId", "BranchName"),
			choice("OutputArtifactFormat", false, "CODE_ZIP", "CODEBUILD_CLONE_REF"), choice("DetectChanges", false, boolChoice...))},
	{Category: CategorySource, Owner: OwnerAWS, Provider: "ECR", Versions: one,
		InputArtifacts: none, OutputArtifacts: sourceOutput,
		Properties: props(req("RepositoryName"), opt("ImageTag"))},
	codeBuild(CategoryBuild),
	codeBuild(CategoryTest),
	{Category: CategoryTest, Owner: OwnerAWS, Provider: "DeviceFarm", Versions: one,
		InputArtifacts: exactlyOne, OutputArtifacts: none,
		Properties: props(req("ProjectId", "DevicePoolArn", "AppType", "App", "TestType"),
			opt("Test", "AppiumVersion", "RecordAppPerformanceData", "RecordVideo", "RadioWifiEnabled",
				"RadioBluetoothEnabled", "RadioNfcEnabled", "RadioGpsEnabled", "FuzzEventCount",
				"FuzzEventThrottle", "FuzzRandomizerSeed", "CustomHostMachineArtifacts", "CustomDeviceArtifacts",
				"JobTimeoutMinutes", "Latitude", "Longitude"))},
	{Category: CategoryApproval, Owner: OwnerAWS, Provider: "Manual", Versions: one,
		InputArtifacts: none, OutputArtifacts: none,
		Properties: opt("NotificationArn", "CustomData", "ExternalEntityLink")},
	s3Deploy(),
	{Category: CategoryDeploy, Owner: OwnerAWS, Provider: "CloudFormation", Versions: one,
		InputArtifacts: Count{0, 10}, OutputArtifacts: Count{0, 1},
		Properties: props(choice("ActionMode", true, "CHANGE_SET_EXECUTE", "CHANGE_SET_REPLACE", "CREATE_UPDATE",
			"DELETE_ONLY", "REPLACE_ON_FAILURE"), req("StackName"),
			opt("Capabilities", "ChangeSetName", "TemplatePath", "TemplateConfiguration", "ParameterOverrides",
				"RoleArn", "OutputFileName"))},
	{Category: CategoryDeploy, Owner: OwnerAWS, Provider: "CloudFormationStackSet", Versions: one,
		InputArtifacts: Count{1, 10}, OutputArtifacts: none,
		Properties: props(req("StackSetName", "TemplatePath", "DeploymentTargets"),
			opt("Description", "Parameters", "Capabilities", "Regions", "AdministrationRoleArn", "ExecutionRoleName",
				"OrganizationsAutoDeployment", "FailureTolerancePercentage", "FailureToleranceCount",
				"MaxConcurrentCount", "MaxConcurrentPercentage", "ConcurrencyMode", "CallAs"),
			choice("PermissionModel", false, "SELF_MANAGED", "SERVICE_MANAGED"))},
	{Category: CategoryDeploy, Owner: OwnerAWS, Provider: "CloudFormationStackInstances", Versions: one,
		InputArtifacts: Count{0, 10}, OutputArtifacts: none,
		Properties: props(req("StackSetName", "DeploymentTargets", "Regions"),
			opt("ParameterOverrides", "FailureTolerancePercentage", "FailureToleranceCount", "MaxConcurrentCount",
				"MaxConcurrentPercentage", "ConcurrencyMode", "CallAs"))},
	{Category: CategoryDeploy, Owner: OwnerAWS, Provider: "ECS", Versions: one,
		InputArtifacts: exactlyOne, OutputArtifacts: none,
		Properties: props(req("ClusterName", "ServiceName"), opt("FileName", "DeploymentTimeout"))},
	{Category: CategoryDeploy, Owner: OwnerAWS, Provider: "CodeDeployToECS", Versions: one,
		InputArtifacts: oneToFive, OutputArtifacts: none,
		Properties: props(req("ApplicationName", "DeploymentGroupName", "TaskDefinitionTemplateArtifact", "AppSpecTemplateArtifact"),
			opt("TaskDefinitionTemplatePath", "AppSpecTemplatePath",
				"Image1ArtifactName", "Image1ContainerName", "Image2ArtifactName", "Image2ContainerName",
				"Image3ArtifactName", "Image3ContainerName", "Image4ArtifactName", "Image4ContainerName"))},
	{Category: CategoryDeploy, Owner: OwnerAWS, Provider: "CodeDeploy", Versions: one,
		InputArtifacts: exactlyOne, OutputArtifacts: none,
		Properties: req("ApplicationName", "DeploymentGroupName")},
	{Category: CategoryDeploy, Owner: OwnerAWS, Provider: "ElasticBeanstalk", Versions: one,
		InputArtifacts: exactlyOne, OutputArtifacts: none,
		Properties: req("ApplicationName", "EnvironmentName")},
	{Category: CategoryDeploy, Owner: OwnerAWS, Provider: "ServiceCatalog", Versions: one,
		InputArtifacts: exactlyOne, OutputArtifacts: none,
		Properties: props(req("ProductId"), opt("TemplateFilePath", "ProductVersionName", "ProductType",
			"ProductVersionDescription", "ConfigurationFilePath"))},
	{Category: CategoryDeploy, Owner: OwnerAWS, Provider: "AppConfig", Versions: one,
		InputArtifacts: exactlyOne, OutputArtifacts: none,
		Properties: req("Application", "Environment", "ConfigurationProfile", "InputArtifactConfigurationPath", "DeploymentStrategy")},
	{Category: CategoryDeploy, Owner: OwnerThirdParty, Provider: "AlexaSkillsKit", Versions: one,
		InputArtifacts: Count{1, 2}, OutputArtifacts: none,
		Properties: props(req("ClientId", "SkillId"), secret("ClientSecret"), secret("RefreshToken"))},
	{Category: CategoryInvoke, Owner: OwnerAWS, Provider: "Lambda", Versions: one,
		InputArtifacts: upToFive, OutputArtifacts: upToFive,
		Properties: props(req("FunctionName"), opt("UserParameters"))},
	{Category: CategoryInvoke, Owner: OwnerAWS, Provider: "StepFunctions", Versions: one,
		InputArtifacts: Count{0, 1}, OutputArtifacts: Count{0, 1},
		Properties: props(req("StateMachineArn"), opt("ExecutionNamePrefix", "Input"),
			choice("InputType", false, "Literal", "FilePath"))},
	{Category: CategoryCompute, Owner: OwnerAWS, Provider: "Commands", Versions: one,
		InputArtifacts: Count{1, 10}, OutputArtifacts: Count{0, 1}, V2Only: true},
}

// ActionTypes lists the known action types.
func ActionTypes() []ActionType {
	return slices.Clone(registry)
}

// LookupActionType finds the known action type with the category, owner and
// provider of id (the version is not compared).
func LookupActionType(id ActionTypeID) (ActionType, bool) {
	t, ok := lookupActionType(id)
	if !ok {
		return ActionType{}, false
	}
	return *t, true
}

// providerCategories lists the categories under which owner and provider
// exist, for a helpful message when the category is wrong.
func providerCategories(owner ActionOwner, provider string) []string {
	var out []string
	for _, t := range registry {
		if t.Owner == owner && t.Provider == provider {
			out = append(out, string(t.Category))
		}
	}
	return out
}

// knownProviders lists the providers of the given owner, for suggestions.
func knownProviders(owner ActionOwner) []string {
	var out []string
	for _, t := range registry {
		if t.Owner == owner && !slices.Contains(out, t.Provider) {
			out = append(out, t.Provider)
		}
	}
	return out
}

// ruleProviders are the rule types of stage conditions (category Rule,
// owner AWS, version 1).
var ruleProviders = []string{"CloudWatchAlarm", "Commands", "DeploymentWindow", "LambdaInvoke", "VariableCheck"}

// IsSecret reports whether a configuration property of the action type is
// secret, so that runtimes can mask it.
func IsSecret(id ActionTypeID, property string) bool {
	t, ok := LookupActionType(id)
	if !ok {
		return false
	}
	p, ok := t.Property(property)
	return ok && p.Secret
}

// Masked is the value CodePipeline shows in place of a secret
// configuration property's.
const Masked = "****"

// MaskSecrets returns a configuration with the values of the action type's
// secret properties replaced by Masked, for what is recorded or shown. It
// returns cfg itself when it holds no secret, and never changes cfg.
func MaskSecrets(id ActionTypeID, cfg map[string]string) map[string]string {
	t, ok := lookupActionType(id)
	if !ok {
		return cfg
	}
	var out map[string]string
	for _, p := range t.Properties {
		if _, set := cfg[p.Name]; !p.Secret || !set {
			continue
		}
		if out == nil {
			out = maps.Clone(cfg)
		}
		out[p.Name] = Masked
	}
	if out == nil {
		return cfg
	}
	return out
}

// orList formats names as "a, b or c".
func orList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "'" + n + "'"
	}
	if len(quoted) <= 1 {
		return strings.Join(quoted, "")
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}
