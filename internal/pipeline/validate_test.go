package pipeline

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

var (
	baseOnce sync.Once
	baseJSON []byte
	baseErr  error
)

// loadBase returns a fresh copy of testdata/validate/base.yaml, a valid
// declaration that each case changes.
func loadBase(t *testing.T) *Declaration {
	t.Helper()
	baseOnce.Do(func() {
		f, err := Load("testdata/validate/base.yaml", Options{})
		if err != nil {
			baseErr = err
			return
		}
		baseJSON, baseErr = json.Marshal(f.Pipelines[0].Declaration)
	})
	if baseErr != nil {
		t.Fatal(baseErr)
	}
	var d Declaration
	if err := json.Unmarshal(baseJSON, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func int32p(n int32) *int32 { return &n }

func approval(name string) Action {
	return Action{Name: name, ActionTypeID: ActionTypeID{Category: CategoryApproval, Owner: OwnerAWS, Provider: "Manual", Version: "1"}}
}

type validateCase struct {
	name   string
	region string
	mutate func(d *Declaration)
	// want lists every problem expected, as "path Code"; empty means valid
	// without warnings.
	want []string
	// message, when set, is a part of the first wanted problem's message.
	message string
}

// The action paths of the base declaration.
const (
	appAt     = "stages[0].actions[0]"
	compileAt = "stages[1].actions[0]"
	testAt    = "stages[1].actions[1]"
	approveAt = "stages[2].actions[0]"
	stackAt   = "stages[3].actions[0]"
)

func (d *Declaration) action(at string) *Action {
	var i, j int
	if _, err := fmt.Sscanf(at, "stages[%d].actions[%d]", &i, &j); err != nil {
		panic(err)
	}
	return &d.Stages[i].Actions[j]
}

var validateCases = []validateCase{
	{name: "base is valid"},

	// Names, lengths and ARNs.
	{name: "name required", mutate: func(d *Declaration) { d.Name = "" }, want: []string{"name RequiredField"}},
	{name: "name pattern", mutate: func(d *Declaration) { d.Name = "my pipeline" }, want: []string{"name InvalidName"}, message: "' '"},
	{name: "name pattern valid", mutate: func(d *Declaration) { d.Name = "my.pipe@line-1_x" }},
	{name: "name too long", mutate: func(d *Declaration) { d.Name = strings.Repeat("n", 101) }, want: []string{"name InvalidLength"}},
	{name: "name at the limit", mutate: func(d *Declaration) { d.Name = strings.Repeat("n", 100) }},
	{name: "roleArn required", mutate: func(d *Declaration) { d.RoleArn = "" }, want: []string{"roleArn RequiredField"}},
	{name: "roleArn without account", mutate: func(d *Declaration) { d.RoleArn = "arn:aws:iam:::role/x" }, want: []string{"roleArn InvalidArn"}},
	{name: "roleArn in another partition", mutate: func(d *Declaration) { d.RoleArn = "arn:aws-us-gov:iam::123456789012:role/path/x" }},
	{name: "action roleArn", mutate: func(d *Declaration) { d.action(stackAt).RoleArn = "arn:aws:iam::12345:role/x" }, want: []string{stackAt + ".roleArn InvalidArn"}},
	{name: "version", mutate: func(d *Declaration) { d.Version = int32p(0) }, want: []string{"version OutOfRange"}},
	{name: "pipelineType", mutate: func(d *Declaration) { d.PipelineType = "V3" }, want: []string{"pipelineType InvalidValue"}},
	{name: "executionMode", mutate: func(d *Declaration) { d.ExecutionMode = "QUEUE" }, want: []string{"executionMode InvalidValue"}, message: "did you mean 'QUEUED'?"},
	{name: "artifact name pattern", mutate: func(d *Declaration) { d.action(testAt).OutputArtifacts = []OutputArtifact{{Name: "Test.Report"}} },
		want: []string{testAt + ".outputArtifacts[0].name InvalidName"}},
	{name: "bucket name", mutate: func(d *Declaration) { d.ArtifactStore.Location = "my_bucket" }, want: []string{"artifactStore.location InvalidName"}},
	{name: "bucket length", mutate: func(d *Declaration) { d.ArtifactStore.Location = "ab" }, want: []string{"artifactStore.location InvalidLength"}},
	{name: "encryption key type", mutate: func(d *Declaration) { d.ArtifactStore.EncryptionKey = &EncryptionKey{ID: "alias/k", Type: "AES"} },
		want: []string{"artifactStore.encryptionKey.type InvalidValue"}},
	{name: "encryption key", mutate: func(d *Declaration) {
		d.ArtifactStore.EncryptionKey = &EncryptionKey{ID: "alias/k", Type: EncryptionKeyKMS}
	}},

	// Stages and actions.
	{name: "one stage", mutate: func(d *Declaration) { d.Stages = d.Stages[:1] }, want: []string{"stages StageCount"}},
	{name: "51 stages", mutate: func(d *Declaration) {
		for k := range 47 {
			d.Stages = append(d.Stages, Stage{Name: fmt.Sprintf("Extra%d", k), Actions: []Action{approval("Approve")}})
		}
	}, want: []string{"stages StageCount"}},
	{name: "50 stages", mutate: func(d *Declaration) {
		for k := range 46 {
			d.Stages = append(d.Stages, Stage{Name: fmt.Sprintf("Extra%d", k), Actions: []Action{approval("Approve")}})
		}
	}},
	{name: "stage without actions", mutate: func(d *Declaration) { d.Stages[2].Actions = nil }, want: []string{"stages[2].actions ActionCount"}},
	{name: "51 actions in a stage", mutate: func(d *Declaration) {
		for k := range 50 {
			d.Stages[2].Actions = append(d.Stages[2].Actions, approval(fmt.Sprintf("Approve%d", k)))
		}
	}, want: []string{"stages[2].actions ActionCount"}},
	{name: "50 actions in a stage", mutate: func(d *Declaration) {
		for k := range 49 {
			d.Stages[2].Actions = append(d.Stages[2].Actions, approval(fmt.Sprintf("Approve%d", k)))
		}
	}},
	{name: "first stage without source", mutate: func(d *Declaration) {
		d.Stages[0].Actions = []Action{{Name: "Fetch", ActionTypeID: ActionTypeID{Category: CategoryInvoke, Owner: OwnerAWS, Provider: "Lambda", Version: "1"},
			Configuration:   map[string]string{"FunctionName": "fetch"},
			OutputArtifacts: []OutputArtifact{{Name: "AppSource"}, {Name: "ConfigSource"}}, Namespace: "SourceVariables"}}
		d.Triggers = nil
	}, want: []string{"stages[0].actions NoSourceAction", appAt + ".actionTypeId.category NonSourceActionInFirstStage"}},
	{name: "source outside the first stage", mutate: func(d *Declaration) {
		d.Stages[2].Actions = append(d.Stages[2].Actions, Action{Name: "Late", ActionTypeID: ActionTypeID{Category: CategorySource, Owner: OwnerAWS, Provider: "S3", Version: "1"},
			Configuration: map[string]string{"S3Bucket": "b", "S3ObjectKey": "k"}, OutputArtifacts: []OutputArtifact{{Name: "Late"}}})
	}, want: []string{"stages[2].actions[1].actionTypeId.category SourceActionNotInFirstStage"}},
	{name: "approval in the first stage", mutate: func(d *Declaration) { d.Stages[0].Actions = append(d.Stages[0].Actions, approval("Gate")) },
		want: []string{"stages[0].actions[2].actionTypeId.category ApprovalInFirstStage"}},
	{name: "duplicate stage name", mutate: func(d *Declaration) { d.Stages[2].Name = "Build" }, want: []string{"stages[2].name DuplicateStageName"}},
	{name: "duplicate action name", mutate: func(d *Declaration) { d.action(testAt).Name = "Compile" }, want: []string{testAt + ".name DuplicateActionName"}},
	{name: "same action name in two stages", mutate: func(d *Declaration) { d.action(approveAt).Name = "Compile" }},
	{name: "duplicate output artifact", mutate: func(d *Declaration) { d.action(testAt).OutputArtifacts = []OutputArtifact{{Name: "AppSource"}} },
		want: []string{testAt + ".outputArtifacts[0].name DuplicateOutputArtifact"}},
	{name: "duplicate namespace", mutate: func(d *Declaration) { d.action(testAt).Namespace = "SourceVariables" }, want: []string{testAt + ".namespace DuplicateNamespace"}},
	{name: "duplicate variable", mutate: func(d *Declaration) { d.Variables = append(d.Variables, Variable{Name: "Env"}) }, want: []string{"variables[1].name DuplicateVariable"}},
	{name: "runOrder 0", mutate: func(d *Declaration) { d.action(approveAt).RunOrder = int32p(0) }, want: []string{approveAt + ".runOrder OutOfRange"}},
	{name: "runOrder 1000", mutate: func(d *Declaration) { d.action(testAt).RunOrder = int32p(1000) }, want: []string{testAt + ".runOrder OutOfRange"}},
	{name: "runOrder 999", mutate: func(d *Declaration) { d.action(testAt).RunOrder = int32p(999) }},

	// Artifacts.
	{name: "input not produced", mutate: func(d *Declaration) { d.action(testAt).InputArtifacts[0].Name = "BuildOutput1" },
		want: []string{testAt + ".inputArtifacts[0].name InputArtifactNotProduced"}, message: "no earlier action outputs 'BuildOutput1'; did you mean 'BuildOutput'?"},
	{name: "input produced at the same runOrder", mutate: func(d *Declaration) { d.action(testAt).RunOrder = int32p(1) },
		want: []string{testAt + ".inputArtifacts[0].name InputArtifactNotProduced"}, message: "at the same time"},
	{name: "input produced in a later stage", mutate: func(d *Declaration) {
		d.action(stackAt).OutputArtifacts = []OutputArtifact{{Name: "StackOutput"}}
		d.action(testAt).InputArtifacts = append(d.action(testAt).InputArtifacts, InputArtifact{Name: "StackOutput"})
	}, want: []string{testAt + ".inputArtifacts[1].name InputArtifactNotProduced"}, message: "later stage"},
	{name: "input artifact count", mutate: func(d *Declaration) { d.action(compileAt).InputArtifacts = nil }, want: []string{compileAt + ".inputArtifacts InputArtifactCount"}},
	{name: "output artifact count", mutate: func(d *Declaration) { d.action(approveAt).OutputArtifacts = []OutputArtifact{{Name: "Approved"}} },
		want: []string{approveAt + ".outputArtifacts OutputArtifactCount"}},

	// Action types and configuration.
	{name: "category", mutate: func(d *Declaration) { d.action(compileAt).ActionTypeID.Category = "Built" }, want: []string{compileAt + ".actionTypeId.category InvalidValue"}},
	{name: "owner", mutate: func(d *Declaration) { d.action(compileAt).ActionTypeID.Owner = "Amazon" }, want: []string{compileAt + ".actionTypeId.owner InvalidValue"}},
	{name: "provider in the wrong category", mutate: func(d *Declaration) { d.action(compileAt).ActionTypeID.Category = CategoryDeploy },
		want: []string{compileAt + ".actionTypeId.category ActionTypeMismatch"}},
	{name: "provider of another owner", mutate: func(d *Declaration) { d.action(compileAt).ActionTypeID.Owner = OwnerThirdParty },
		want: []string{compileAt + ".actionTypeId.owner ActionTypeMismatch"}},
	{name: "unknown AWS provider", mutate: func(d *Declaration) { d.action(compileAt).ActionTypeID.Provider = "CodeBuilder" },
		want: []string{compileAt + ".actionTypeId.provider UnknownActionType"}, message: "did you mean 'CodeBuild'?"},
	{name: "custom provider", mutate: func(d *Declaration) { d.action(compileAt).ActionTypeID.Owner = OwnerCustom }},
	{name: "version", mutate: func(d *Declaration) { d.action(compileAt).ActionTypeID.Version = "2" }, want: []string{compileAt + ".actionTypeId.version UnsupportedActionVersion"}},
	{name: "missing configuration", mutate: func(d *Declaration) { delete(d.action(compileAt).Configuration, "ProjectName") },
		want: []string{compileAt + ".configuration MissingConfiguration"}},
	{name: "configuration required by the mode", mutate: func(d *Declaration) { d.action(stackAt).Configuration["ActionMode"] = "CHANGE_SET_REPLACE" },
		want: []string{stackAt + ".configuration MissingConfiguration"}, message: "ChangeSetName"},
	{name: "unknown configuration", mutate: func(d *Declaration) { d.action(compileAt).Configuration["ProjectNam"] = "x" },
		want: []string{compileAt + ".configuration.ProjectNam UnknownConfiguration"}, message: "did you mean 'ProjectName'?"},
	{name: "configuration choice", mutate: func(d *Declaration) { d.action(stackAt).Configuration["ActionMode"] = "CREATE" },
		want: []string{stackAt + ".configuration.ActionMode InvalidConfiguration"}},
	{name: "configuration naming no input", mutate: func(d *Declaration) { d.action(stackAt).Configuration["TemplatePath"] = "Build::t.yaml" },
		want: []string{stackAt + ".configuration.TemplatePath InvalidConfiguration"}},
	{name: "configuration value empty", mutate: func(d *Declaration) { d.action(compileAt).Configuration["PrimarySource"] = "" },
		want: []string{compileAt + ".configuration.PrimarySource InvalidLength"}},
	{name: "secret in plain text", mutate: func(d *Declaration) {
		d.Stages[0].Actions = append(d.Stages[0].Actions, Action{Name: "Hub", ActionTypeID: ActionTypeID{Category: CategorySource, Owner: OwnerThirdParty, Provider: "GitHub", Version: "1"},
			Configuration:   map[string]string{"Owner": "o", "Repo": "r", "Branch": "main", "OAuthToken": "ghp_secret"},
			OutputArtifacts: []OutputArtifact{{Name: "Hub"}}})
	}, want: []string{"stages[0].actions[2].configuration.OAuthToken SecretInPlainText"}},
	{name: "masked secret", mutate: func(d *Declaration) {
		d.Stages[0].Actions = append(d.Stages[0].Actions, Action{Name: "Hub", ActionTypeID: ActionTypeID{Category: CategorySource, Owner: OwnerThirdParty, Provider: "GitHub", Version: "1"},
			Configuration:   map[string]string{"Owner": "o", "Repo": "r", "Branch": "main", "OAuthToken": "****"},
			OutputArtifacts: []OutputArtifact{{Name: "Hub"}}})
	}},
	{name: "commands outside a Commands action", mutate: func(d *Declaration) { d.action(compileAt).Commands = []string{"make"} },
		want: []string{compileAt + ".commands FieldNotAllowed"}},
	{name: "files outside a Commands action", mutate: func(d *Declaration) { d.action(compileAt).OutputArtifacts[0].Files = []string{"out.zip"} },
		want: []string{compileAt + ".outputArtifacts[0].files FieldNotAllowed"}},
	{name: "Commands action without commands", mutate: func(d *Declaration) {
		d.Stages[1].Actions = append(d.Stages[1].Actions, Action{Name: "Run", ActionTypeID: ActionTypeID{Category: CategoryCompute, Owner: OwnerAWS, Provider: "Commands", Version: "1"},
			InputArtifacts: []InputArtifact{{Name: "AppSource"}}})
	}, want: []string{"stages[1].actions[2].commands RequiredField"}},
	{name: "Commands action", mutate: func(d *Declaration) {
		d.Stages[1].Actions = append(d.Stages[1].Actions, Action{Name: "Run", ActionTypeID: ActionTypeID{Category: CategoryCompute, Owner: OwnerAWS, Provider: "Commands", Version: "1"},
			Commands: []string{"make test", "echo #{SourceVariables.CommitId}"}, InputArtifacts: []InputArtifact{{Name: "AppSource"}},
			OutputArtifacts: []OutputArtifact{{Name: "Report", Files: []string{"report.xml"}}}, OutputVariables: []string{"RESULT"},
			EnvironmentVariables: []EnvironmentVariable{{Name: "ENV", Value: "#{variables.Env}"}}})
	}},
	{name: "timeout outside an approval", mutate: func(d *Declaration) { d.action(compileAt).TimeoutInMinutes = int32p(10) },
		want: []string{compileAt + ".timeoutInMinutes TimeoutNotAllowed"}},
	{name: "approval timeout too short", mutate: func(d *Declaration) { d.action(approveAt).TimeoutInMinutes = int32p(4) },
		want: []string{approveAt + ".timeoutInMinutes OutOfRange"}},
	{name: "approval timeout at the limit", mutate: func(d *Declaration) { d.action(approveAt).TimeoutInMinutes = int32p(86400) }},

	// Pipeline types.
	{name: "V2 features on V1", mutate: func(d *Declaration) { d.PipelineType = PipelineTypeV1 },
		want: []string{"executionMode V2OnlyField", "variables V2OnlyField", "triggers V2OnlyField", "stages[3].onFailure V2OnlyField"}},
	{name: "V2 features imply V2", mutate: func(d *Declaration) { d.PipelineType = "" }, want: []string{"pipelineType PipelineTypeImplied"}},
	{name: "V1 without V2 features", mutate: func(d *Declaration) {
		d.PipelineType, d.ExecutionMode, d.Variables, d.Triggers, d.Stages[3].OnFailure = PipelineTypeV1, ExecutionModeSuperseded, nil, nil, nil
		d.action(approveAt).Configuration["CustomData"] = "Deploy?"
	}},

	// Triggers and conditions.
	{name: "trigger on a non-connection source", mutate: func(d *Declaration) { d.Triggers[0].GitConfiguration.SourceActionName = "Config" },
		want: []string{"triggers[0].gitConfiguration.sourceActionName InvalidTrigger"}},
	{name: "trigger provider", mutate: func(d *Declaration) { d.Triggers[0].ProviderType = "GitHub" }, want: []string{"triggers[0].providerType InvalidTrigger"}},
	{name: "trigger filter without branches or tags", mutate: func(d *Declaration) { d.Triggers[0].GitConfiguration.Push[0].Branches = nil },
		want: []string{"triggers[0].gitConfiguration.push[0] InvalidTrigger"}},
	{name: "pull request trigger", mutate: func(d *Declaration) {
		d.Triggers[0].GitConfiguration.PullRequest = []GitPullRequestFilter{{Events: []GitPullRequestEventType{PullRequestOpen}, Branches: &GitFilterCriteria{Includes: []string{"main"}}}}
	}},
	{name: "rollback in the first stage", mutate: func(d *Declaration) { d.Stages[0].OnFailure = &FailureConditions{Result: ResultRollback} },
		want: []string{"stages[0].onFailure.result InvalidCondition"}},
	{name: "before-entry condition result", mutate: func(d *Declaration) {
		d.Stages[3].BeforeEntry = &BeforeEntryConditions{Conditions: []Condition{{Result: ResultRollback, Rules: []Rule{{Name: "Window",
			RuleTypeID: RuleTypeID{Category: "Rule", Owner: "AWS", Provider: "DeploymentWindow", Version: "1"}, Configuration: map[string]string{"Cron": "* * 9-17 ? * MON-FRI"}}}}}}
	}, want: []string{"stages[3].beforeEntry.conditions[0].result InvalidCondition"}},
	{name: "before-entry condition", mutate: func(d *Declaration) {
		d.Stages[3].BeforeEntry = &BeforeEntryConditions{Conditions: []Condition{{Result: ResultFail, Rules: []Rule{{Name: "Window",
			RuleTypeID: RuleTypeID{Category: "Rule", Owner: "AWS", Provider: "DeploymentWindow", Version: "1"}, Configuration: map[string]string{"Cron": "* * 9-17 ? * MON-FRI"}}}}}}
	}},

	{name: "skip on failure", mutate: func(d *Declaration) { d.Stages[3].OnFailure = &FailureConditions{Result: ResultSkip} },
		want: []string{"stages[3].onFailure.result InvalidCondition"}},
	{name: "retry on failure in a condition", mutate: func(d *Declaration) {
		d.Stages[3].OnFailure = &FailureConditions{Conditions: []Condition{{Result: ResultRetry, Rules: []Rule{{Name: "Window",
			RuleTypeID: RuleTypeID{Category: "Rule", Owner: "AWS", Provider: "DeploymentWindow", Version: "1"}, Configuration: map[string]string{"Cron": "* * 9-17 ? * MON-FRI"}}}}}}
	}, want: []string{"stages[3].onFailure.conditions[0].result InvalidCondition"}},
	{name: "deployment window cron", mutate: func(d *Declaration) {
		d.Stages[3].BeforeEntry = &BeforeEntryConditions{Conditions: []Condition{{Result: ResultFail, Rules: []Rule{{Name: "Window",
			RuleTypeID: RuleTypeID{Category: "Rule", Owner: "AWS", Provider: "DeploymentWindow", Version: "1"}, Configuration: map[string]string{"Cron": "0 9-17 ? * MON-FRI *"}}}}}}
	}, want: []string{"stages[3].beforeEntry.conditions[0].rules[0].configuration InvalidConfiguration"}, message: "hours field"},
	{name: "variable check operator", mutate: func(d *Declaration) {
		d.Stages[3].BeforeEntry = &BeforeEntryConditions{Conditions: []Condition{{Result: ResultSkip, Rules: []Rule{{Name: "Branch",
			RuleTypeID:    RuleTypeID{Category: "Rule", Owner: "AWS", Provider: "VariableCheck", Version: "1"},
			Configuration: map[string]string{"Variable": "#{SourceVariables.BranchName}", "Value": "main", "Operator": "IS"}}}}}}
	}, want: []string{"stages[3].beforeEntry.conditions[0].rules[0].configuration InvalidConfiguration"}, message: "Operator"},
	// Variables.
	{name: "unknown namespace", mutate: func(d *Declaration) { d.action(approveAt).Configuration["CustomData"] = "#{BuildVariable.Version}" },
		want: []string{approveAt + ".configuration.CustomData UnknownNamespace"}, message: "did you mean 'BuildVariables'?"},
	{name: "namespace not yet available", mutate: func(d *Declaration) { d.action(compileAt).Configuration["PrimarySource"] = "#{BuildVariables.Version}" },
		want: []string{compileAt + ".configuration.PrimarySource NamespaceNotYetAvailable"}},
	{name: "undeclared variable", mutate: func(d *Declaration) { d.action(approveAt).Configuration["CustomData"] = "#{variables.Environment}" },
		want: []string{approveAt + ".configuration.CustomData UndeclaredVariable"}},
	{name: "codepipeline variable", mutate: func(d *Declaration) { d.action(approveAt).Configuration["CustomData"] = "#{codepipeline.ExecutionId}" },
		want: []string{approveAt + ".configuration.CustomData UnknownCodePipelineVariable"}},
	{name: "reserved namespace", mutate: func(d *Declaration) { d.action(testAt).Namespace = "codepipeline" }, want: []string{testAt + ".namespace ReservedNamespace"}},

	// Artifact stores and regions.
	{name: "no artifact store", mutate: func(d *Declaration) { d.ArtifactStore = nil }, want: []string{"artifactStore ArtifactStoreMissing"}},
	{name: "both artifact stores", mutate: func(d *Declaration) {
		d.ArtifactStores = map[string]ArtifactStore{"us-east-1": {Type: ArtifactStoreS3, Location: "east"}}
	}, want: []string{"artifactStores ArtifactStoreConflict"}},
	{name: "cross-region with one artifact store", region: "us-east-1", mutate: func(d *Declaration) { d.action(stackAt).Region = "eu-west-1" },
		want: []string{stackAt + ".region ArtifactStoreMissingForRegion"}},
	{name: "cross-region", region: "us-east-1", mutate: func(d *Declaration) {
		d.ArtifactStore = nil
		d.ArtifactStores = map[string]ArtifactStore{"us-east-1": {Type: ArtifactStoreS3, Location: "east"}, "eu-west-1": {Type: ArtifactStoreS3, Location: "west"}}
		d.action(stackAt).Region = "eu-west-1"
	}},
	{name: "artifact stores without the pipeline's region", region: "us-east-1", mutate: func(d *Declaration) {
		d.ArtifactStore = nil
		d.ArtifactStores = map[string]ArtifactStore{"eu-west-1": {Type: ArtifactStoreS3, Location: "west"}}
		d.action(stackAt).Region = "eu-west-1"
	}, want: []string{"artifactStores ArtifactStoreMissingForRegion"}},
	{name: "cross-region source", region: "us-east-1", mutate: func(d *Declaration) {
		d.ArtifactStore = nil
		d.ArtifactStores = map[string]ArtifactStore{"us-east-1": {Type: ArtifactStoreS3, Location: "east"}, "eu-west-1": {Type: ArtifactStoreS3, Location: "west"}}
		d.action(appAt).Region = "eu-west-1"
	}, want: []string{appAt + ".region CrossRegionNotAllowed"}},
	{name: "source in the pipeline's region", region: "us-east-1", mutate: func(d *Declaration) { d.action(appAt).Region = "us-east-1" }},
}

// TestValidate runs one case per rule, valid and invalid, and checks the
// path and code of every problem.
func TestValidate(t *testing.T) {
	for _, tc := range validateCases {
		t.Run(tc.name, func(t *testing.T) {
			d := loadBase(t)
			if tc.mutate != nil {
				tc.mutate(d)
			}
			got := validate(d, validateContext{region: tc.region})
			var keys []string
			for _, p := range got {
				keys = append(keys, p.Path+" "+string(p.Code))
			}
			want := slices.Clone(tc.want)
			slices.Sort(keys)
			slices.Sort(want)
			if !slices.Equal(keys, want) {
				t.Fatalf("problems:\n got %q\nwant %q\n%v", keys, want, got)
			}
			if tc.message != "" && !strings.Contains(got[slices.IndexFunc(got, func(p Problem) bool {
				return p.Path+" "+string(p.Code) == tc.want[0]
			})].Message, tc.message) {
				t.Errorf("message %q lacks %q", got[0].Message, tc.message)
			}
		})
	}
}

// TestEveryRuleHasACase checks that every validation code is asserted by a
// case of TestValidate; the codes of reading are tested with the readers.
func TestEveryRuleHasACase(t *testing.T) {
	reading := []Code{CodeUnknownField, CodeTypeMismatch, CodeDuplicateKey, CodeUnresolvedValue,
		CodeParameterMissing, CodeUnknownReference, CodeInvalidIntrinsic}
	tested := map[Code]bool{}
	for _, tc := range validateCases {
		for _, w := range tc.want {
			_, code, _ := strings.Cut(w, " ")
			tested[Code(code)] = true
		}
	}
	for _, info := range Codes() {
		if !tested[info.Code] && !slices.Contains(reading, info.Code) {
			t.Errorf("no validation case asserts %s (%s)", info.Code, info.Rule)
		}
	}
}

// TestProblemsLeaveOutUnresolved checks that problems about values a
// template leaves unknown are dropped while the rest are kept.
func TestProblemsLeaveOutUnresolved(t *testing.T) {
	data, err := os.ReadFile("testdata/forms/cloudformation.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(data, Options{Params: map[string]string{"RepositoryName": "app"}})
	if err != nil {
		t.Fatal(err)
	}
	p := f.Pipelines[0]
	for _, pr := range p.Problems() {
		if pr.Severity == SeverityError {
			t.Errorf("unexpected error %v", pr)
		}
	}
	if len(p.Unresolved()) == 0 {
		t.Fatal("the template fixture has no unresolved value")
	}
}

// TestDisabledTransitions checks a template's DisableInboundStageTransitions:
// each entry names a stage of the pipeline and gives a reason DisableStageTransition
// accepts; an entry CloudFormation resolves only at deployment is not checked.
func TestDisabledTransitions(t *testing.T) {
	const template = "Resources:\n  Role: {Type: AWS::IAM::Role}\n  P:\n    Type: AWS::CodePipeline::Pipeline\n    Properties:\n" +
		"      Name: p\n      Stages: [{Name: Source}, {Name: Deploy}]\n      DisableInboundStageTransitions:\n"
	tests := []struct {
		name, entries string
		want          []string
		message       string
	}{
		{name: "a stage and a reason", entries: "        - {StageName: Deploy, Reason: Release freeze (until Monday)!}\n"},
		{name: "no stage", entries: "        - {Reason: Freeze}\n", want: []string{"disableInboundStageTransitions[0].stageName RequiredField"}},
		{name: "no such stage", entries: "        - {StageName: Deplo, Reason: Freeze}\n",
			want: []string{"disableInboundStageTransitions[0].stageName InvalidValue"}, message: "did you mean 'Deploy'?"},
		{name: "no reason", entries: "        - {StageName: Deploy}\n", want: []string{"disableInboundStageTransitions[0].reason RequiredField"}},
		{name: "a reason too long", entries: "        - {StageName: Deploy, Reason: " + strings.Repeat("x", 301) + "}\n",
			want: []string{"disableInboundStageTransitions[0].reason InvalidLength"}},
		{name: "a character the reason may not hold", entries: "        - {StageName: Deploy, Reason: 'Freeze: Monday'}\n",
			want: []string{"disableInboundStageTransitions[0].reason InvalidName"}, message: "contains ':'"},
		{name: "the second entry", entries: "        - {StageName: Deploy, Reason: Freeze}\n        - {StageName: Build, Reason: Freeze}\n",
			want: []string{"disableInboundStageTransitions[1].stageName InvalidValue"}, message: "it has Source, Deploy"},
		{name: "a stage known at deployment", entries: "        - {StageName: !GetAtt Role.Arn, Reason: Freeze}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(template+tc.entries), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			var found []Problem
			for _, pr := range f.Pipelines[0].Problems() {
				if strings.HasPrefix(pr.Path, "disableInboundStageTransitions") && pr.Severity == SeverityError {
					got = append(got, pr.Path+" "+string(pr.Code))
					found = append(found, pr)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("problems:\n got %q\nwant %q\n%v", got, tc.want, found)
			}
			if tc.message != "" && !strings.Contains(found[0].Message, tc.message) {
				t.Errorf("message %q lacks %q", found[0].Message, tc.message)
			}
		})
	}
}
