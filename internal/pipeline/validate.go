package pipeline

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sluice-ci/sluice/internal/condition"
)

// The quotas and limits of CodePipeline that validation checks.
const (
	minStages           = 2
	maxStages           = 50
	maxActionsPerStage  = 50
	maxRunOrder         = 999
	minApprovalTimeout  = 5
	maxApprovalTimeout  = 86400
	maxNameLen          = 100
	maxVariableNameLen  = 128
	maxVariableValueLen = 1000
	maxDescriptionLen   = 200
	maxVariables        = 50
	maxTriggers         = 50
	maxConfigKeyLen     = 50
	maxConfigValueLen   = 50000
	maxRoleArnLen       = 1024
	maxCommands         = 50
	maxCommandLen       = 1000
	maxOutputVariables  = 15
	maxEnvVars          = 10
	maxEnvValueLen      = 2000
	maxFiles            = 10
	maxFileLen          = 128
	maxGitFilters       = 3
	maxGitPatterns      = 8
	maxGitPatternLen    = 255
	maxRules            = 5
	maxKeyIDLen         = 400
	maxReasonLen        = 300
)

// Validate checks a declaration against CodePipeline's rules and returns
// every problem found, in declaration order. It knows nothing of the
// pipeline's region; Pipeline.Problems checks cross-region rules with it.
func Validate(d *Declaration) []Problem {
	return validate(d, validateContext{})
}

// Problems returns everything wrong with the pipeline: what reading found,
// then what validation finds. Problems about values that a CloudFormation
// template leaves unknown are left out; those values are listed as
// UnresolvedValue warnings instead.
func (p *Pipeline) Problems() []Problem {
	out := slices.Clone(p.Notes)
	found := validate(p.Declaration, validateContext{
		region: p.Region, unresolved: p.unresolved, dropped: p.dropped, derived: p.derived,
	})
	for _, pr := range append(found, disabledTransitionProblems(p.Declaration, p.DisabledTransitions)...) {
		if !p.isUnresolved(pr.Path) {
			out = append(out, pr)
		}
	}
	return out
}

// disabledTransitionProblems checks a template's
// DisableInboundStageTransitions as CloudFormation and DisableStageTransition
// would: each entry names a stage of the pipeline and says why, in up to 300
// letters, digits, spaces and ! @ ( ) . * ? -.
func disabledTransitionProblems(d *Declaration, list []StageTransition) []Problem {
	v := &validator{d: d}
	stages := make([]string, len(d.Stages))
	for i, s := range d.Stages {
		stages[i] = s.Name
	}
	for i, t := range list {
		at := path("disableInboundStageTransitions").index(i)
		if v.required(at.field("stageName"), t.StageName) && !slices.Contains(stages, t.StageName) {
			v.errorf(at.field("stageName"), CodeInvalidValue, "the pipeline has no stage '%s' (it has %s)%s",
				t.StageName, strings.Join(stages, ", "), didYouMean(t.StageName, stages))
		}
		v.name(at.field("reason"), t.Reason, reasonChars, maxReasonLen)
	}
	return v.list
}

// isUnresolved reports whether at or any field containing it is unresolved.
func (p *Pipeline) isUnresolved(at string) bool {
	if len(p.unresolved) == 0 {
		return false
	}
	for at != "" {
		if p.unresolved[at] {
			return true
		}
		i := strings.LastIndexAny(at, ".[")
		if i < 0 {
			break
		}
		at = at[:i]
	}
	return false
}

type validateContext struct {
	// region is the pipeline's region, when known.
	region string
	// unresolved holds the paths of values not known statically.
	unresolved map[string]bool
	// dropped is set when list entries were left out as unknown.
	dropped bool
	// derived holds the paths of configuration values computed by
	// CloudFormation intrinsics rather than written out.
	derived map[string]bool
}

// producer is the action that outputs an artifact or declares a namespace.
type producer struct {
	stage, action int
	runOrder      int32
}

type validator struct {
	problems
	validateContext
	d  *Declaration
	v2 bool
	// partialOutputs and partialNamespaces are set when some artifact or
	// namespace names are unknown, so a name not found may still exist.
	partialOutputs    bool
	partialNamespaces bool
	outputs           map[string]producer
	namespaces        map[string]producer
	variables         map[string]bool
	keys              []string
}

func validate(d *Declaration, ctx validateContext) []Problem {
	v := &validator{validateContext: ctx, d: d}
	for at := range ctx.unresolved {
		if strings.Contains(at, ".outputArtifacts") {
			v.partialOutputs = true
		}
		if strings.HasSuffix(at, ".namespace") {
			v.partialNamespaces = true
		}
	}
	if ctx.dropped {
		v.partialOutputs, v.partialNamespaces = true, true
	}
	v.pipeline()
	return v.list
}

func stagePath(i int) path { return path("stages").index(i) }

func actionPath(i, j int) path { return stagePath(i).field("actions").index(j) }

func (v *validator) pipeline() {
	d := v.d
	v.name("name", d.Name, nameChars, maxNameLen)
	v.roleArn("roleArn", d.RoleArn, true)
	if d.Version != nil && *d.Version < 1 {
		v.errorf("version", CodeOutOfRange, "version must be 1 or more, not %d", *d.Version)
	}
	v.pipelineType()
	v.artifactStores()
	v.collect()
	v.declaredVariables()
	switch n := len(d.Stages); {
	case n < minStages:
		v.errorf("stages", CodeStageCount, "a pipeline needs at least %d stages: a source stage and one more; it has %d", minStages, n)
	case n > maxStages:
		v.errorf("stages", CodeStageCount, "a pipeline has at most %d stages; it has %d", maxStages, n)
	}
	for i := range d.Stages {
		v.stage(i)
	}
	v.triggers()
}

// pipelineType decides whether the pipeline is V2 and refuses V2 features
// in a V1 pipeline.
func (v *validator) pipelineType() {
	d := v.d
	switch d.PipelineType {
	case "", PipelineTypeV1, PipelineTypeV2:
	default:
		v.errorf("pipelineType", CodeInvalidValue, "pipelineType is V1 or V2, not '%s'", d.PipelineType)
	}
	switch d.ExecutionMode {
	case "", ExecutionModeQueued, ExecutionModeSuperseded, ExecutionModeParallel:
	default:
		v.errorf("executionMode", CodeInvalidValue, "executionMode is QUEUED, SUPERSEDED or PARALLEL, not '%s'%s",
			d.ExecutionMode, didYouMean(string(d.ExecutionMode), []string{"QUEUED", "SUPERSEDED", "PARALLEL"}))
	}
	features := d.v2Features()
	v.v2 = d.PipelineType == PipelineTypeV2 || d.PipelineType == "" && len(features) > 0
	if d.PipelineType == "" && len(features) > 0 {
		v.warnf("pipelineType", CodePipelineTypeImplied, "pipelineType is not set, but %s is a V2 feature; the pipeline is read as V2; set pipelineType: V2", features[0].what)
	}
	if d.PipelineType == PipelineTypeV1 {
		for _, f := range features {
			v.errorf(f.at, CodeV2OnlyField, "%s needs a V2 pipeline; set pipelineType: V2", f.what)
		}
	}
}

type feature struct {
	at   path
	what string
}

// v2Features lists the V2-only features the declaration uses.
func (d *Declaration) v2Features() []feature {
	var out []feature
	if d.ExecutionMode == ExecutionModeQueued || d.ExecutionMode == ExecutionModeParallel {
		out = append(out, feature{"executionMode", "executionMode " + string(d.ExecutionMode)})
	}
	if d.Variables != nil {
		out = append(out, feature{"variables", "variables"})
	}
	if d.Triggers != nil {
		out = append(out, feature{"triggers", "triggers"})
	}
	for i := range d.Stages {
		s := &d.Stages[i]
		if s.BeforeEntry != nil {
			out = append(out, feature{stagePath(i).field("beforeEntry"), "beforeEntry"})
		}
		if s.OnSuccess != nil {
			out = append(out, feature{stagePath(i).field("onSuccess"), "onSuccess"})
		}
		if s.OnFailure != nil {
			out = append(out, feature{stagePath(i).field("onFailure"), "onFailure"})
		}
		for j := range s.Actions {
			if s.Actions[j].ActionTypeID.Category == CategoryCompute && s.Actions[j].ActionTypeID.Provider == "Commands" {
				out = append(out, feature{actionPath(i, j).field("actionTypeId"), "the Commands action"})
			}
		}
	}
	return out
}

// collect records the artifacts and namespaces every action produces,
// reporting duplicates.
func (v *validator) collect() {
	actions := 0
	for i := range v.d.Stages {
		actions += len(v.d.Stages[i].Actions)
	}
	v.outputs = make(map[string]producer, actions)
	v.namespaces = make(map[string]producer, actions)
	for i := range v.d.Stages {
		for j := range v.d.Stages[i].Actions {
			a := &v.d.Stages[i].Actions[j]
			p := producer{stage: i, action: j, runOrder: a.EffectiveRunOrder()}
			for k, out := range a.OutputArtifacts {
				if out.Name == "" {
					continue
				}
				if first, dup := v.outputs[out.Name]; dup {
					v.errorf(actionPath(i, j).field("outputArtifacts").index(k).field("name"), CodeDuplicateOutputArtifact,
						"output artifact '%s' is already output by action '%s'; output artifact names are unique in the pipeline",
						out.Name, v.actionName(first))
					continue
				}
				v.outputs[out.Name] = p
			}
			if a.Namespace != "" {
				if first, dup := v.namespaces[a.Namespace]; dup {
					v.errorf(actionPath(i, j).field("namespace"), CodeDuplicateNamespace,
						"namespace '%s' is already declared by action '%s'; namespaces are unique in the pipeline",
						a.Namespace, v.actionName(first))
					continue
				}
				v.namespaces[a.Namespace] = p
			}
		}
	}
}

func (v *validator) actionName(p producer) string {
	return v.d.Stages[p.stage].Name + "." + v.d.Stages[p.stage].Actions[p.action].Name
}

func (v *validator) declaredVariables() {
	d := v.d
	v.variables = make(map[string]bool, len(d.Variables))
	if len(d.Variables) > maxVariables {
		v.errorf("variables", CodeInvalidLength, "a pipeline has at most %d variables; it has %d", maxVariables, len(d.Variables))
	}
	for i, vr := range d.Variables {
		at := path("variables").index(i)
		v.name(at.field("name"), vr.Name, namespaceChars, maxVariableNameLen)
		if v.variables[vr.Name] {
			v.errorf(at.field("name"), CodeDuplicateVariable, "variable '%s' is declared twice", vr.Name)
		}
		v.variables[vr.Name] = true
		if len(vr.DefaultValue) > maxVariableValueLen {
			v.errorf(at.field("defaultValue"), CodeInvalidLength, "a default value has at most %d characters; it has %d", maxVariableValueLen, len(vr.DefaultValue))
		}
		if len(vr.Description) > maxDescriptionLen {
			v.errorf(at.field("description"), CodeInvalidLength, "a description has at most %d characters; it has %d", maxDescriptionLen, len(vr.Description))
		}
	}
}

func (v *validator) stage(i int) {
	s := &v.d.Stages[i]
	at := stagePath(i)
	v.name(at.field("name"), s.Name, nameChars, maxNameLen)
	for k := range i {
		if v.d.Stages[k].Name == s.Name && s.Name != "" {
			v.errorf(at.field("name"), CodeDuplicateStageName, "stage name '%s' is already used by stages[%d]; stage names are unique", s.Name, k)
			break
		}
	}
	switch n := len(s.Actions); {
	case n == 0:
		v.errorf(at.field("actions"), CodeActionCount, "stage '%s' has no actions; a stage needs at least one", s.Name)
	case n > maxActionsPerStage:
		v.errorf(at.field("actions"), CodeActionCount, "a stage has at most %d actions; stage '%s' has %d", maxActionsPerStage, s.Name, n)
	}
	for k, b := range s.Blockers {
		bat := at.field("blockers").index(k)
		v.required(bat.field("name"), b.Name)
		if b.Type != BlockerSchedule {
			v.errorf(bat.field("type"), CodeInvalidValue, "a blocker's type is Schedule, not '%s'", b.Type)
		}
	}
	names := make(map[string]int, len(s.Actions))
	sources := 0
	for j := range s.Actions {
		a := &s.Actions[j]
		if first, dup := names[a.Name]; dup && a.Name != "" {
			v.errorf(actionPath(i, j).field("name"), CodeDuplicateActionName,
				"action name '%s' is already used by actions[%d] of stage '%s'; action names are unique within a stage", a.Name, first, s.Name)
		} else {
			names[a.Name] = j
		}
		if a.ActionTypeID.Category == CategorySource {
			sources++
		}
		v.action(i, j)
	}
	if i == 0 && sources == 0 && len(s.Actions) > 0 && !v.dropped {
		v.errorf(at.field("actions"), CodeNoSourceAction, "the first stage, '%s', has no source action; a pipeline starts with its sources", s.Name)
	}
	v.conditions(i)
}

func (v *validator) action(i, j int) {
	a := &v.d.Stages[i].Actions[j]
	at := actionPath(i, j)
	if !nameOK(a.Name, nameChars, maxNameLen) {
		v.name(at.field("name"), a.Name, nameChars, maxNameLen)
	}
	if a.RunOrder != nil && (*a.RunOrder < 1 || *a.RunOrder > maxRunOrder) {
		v.errorf(at.field("runOrder"), CodeOutOfRange, "runOrder is from 1 to %d, not %d", maxRunOrder, *a.RunOrder)
	}
	v.placement(at, i, j)
	t := v.actionType(at, a)
	if t != nil {
		v.counts(at, a, t)
	}
	v.inputs(i, j)
	for k, out := range a.OutputArtifacts {
		if !nameOK(out.Name, artifactChars, maxNameLen) {
			v.name(at.field("outputArtifacts").index(k).field("name"), out.Name, artifactChars, maxNameLen)
		}
		if out.Files != nil {
			v.files(at.field("outputArtifacts").index(k), out.Files, t)
		}
	}
	if a.Namespace != "" && !nameOK(a.Namespace, namespaceChars, maxNameLen) {
		v.name(at.field("namespace"), a.Namespace, namespaceChars, maxNameLen)
	}
	if a.Namespace != "" {
		if a.Namespace == "codepipeline" || a.Namespace == "variables" {
			v.errorf(at.field("namespace"), CodeReservedNamespace, "namespace '%s' is reserved by CodePipeline; choose another", a.Namespace)
		}
	}
	if a.RoleArn != "" {
		v.roleArn(at.field("roleArn"), a.RoleArn, false)
	}
	v.actionRegion(i, j)
	if a.TimeoutInMinutes != nil {
		if a.ActionTypeID.Category != CategoryApproval {
			v.errorf(at.field("timeoutInMinutes"), CodeTimeoutNotAllowed, "timeoutInMinutes applies only to manual approval actions; remove it")
		} else if n := *a.TimeoutInMinutes; n < minApprovalTimeout || n > maxApprovalTimeout {
			v.errorf(at.field("timeoutInMinutes"), CodeOutOfRange, "an approval timeout is from %d to %d minutes, not %d", minApprovalTimeout, maxApprovalTimeout, n)
		}
	}
	v.commands(at, a, i, t)
	v.configuration(at, a, i, t)
}

// counts checks the numbers of input and output artifacts.
func (v *validator) counts(at path, a *Action, t *ActionType) {
	if n := len(a.InputArtifacts); n < t.InputArtifacts.Min || n > t.InputArtifacts.Max {
		v.errorf(at.field("inputArtifacts"), CodeInputArtifactCount, "%s %s takes %s input artifacts; '%s' has %d",
			t.Category, t.Provider, t.InputArtifacts, a.Name, n)
	}
	if n := len(a.OutputArtifacts); n < t.OutputArtifacts.Min || n > t.OutputArtifacts.Max {
		v.errorf(at.field("outputArtifacts"), CodeOutputArtifactCount, "%s %s takes %s output artifacts; '%s' has %d",
			t.Category, t.Provider, t.OutputArtifacts, a.Name, n)
	}
}

// placement checks where source and approval actions may stand.
func (v *validator) placement(actionAt path, i, j int) {
	a := &v.d.Stages[i].Actions[j]
	category := a.ActionTypeID.Category
	if i == 0 && category == CategorySource || i > 0 && category != CategorySource {
		return
	}
	at := actionAt.field("actionTypeId").field("category")
	switch {
	case i == 0 && a.ActionTypeID.Category == CategoryApproval:
		v.errorf(at, CodeApprovalInFirstStage, "an approval cannot stand in the first stage, which holds only source actions; move '%s' to a later stage", a.Name)
	case i == 0 && a.ActionTypeID.Category != CategorySource && a.ActionTypeID.Category != "":
		v.errorf(at, CodeNonSourceActionInFirstStage, "the first stage holds only source actions; move %s action '%s' to a later stage", a.ActionTypeID.Category, a.Name)
	case i > 0 && a.ActionTypeID.Category == CategorySource:
		v.errorf(at, CodeSourceActionNotInFirstStage, "source actions stand only in the first stage, '%s'; move '%s' there", v.d.Stages[0].Name, a.Name)
	}
}

// actionType checks the action type identifier and returns the registry's
// description of it, or nil when the type is not known.
func (v *validator) actionType(actionAt path, a *Action) *ActionType {
	id := a.ActionTypeID
	if t, ok := lookupActionType(id); ok && id.Owner != "" && slices.Contains(t.Versions, id.Version) {
		return t
	}
	at := actionAt.field("actionTypeId")
	valid := true
	switch id.Category {
	case "":
		valid = false
		v.errorf(at.field("category"), CodeRequiredField, "category is required")
	case CategorySource, CategoryBuild, CategoryDeploy, CategoryTest, CategoryInvoke, CategoryApproval, CategoryCompute:
	default:
		valid = false
		v.errorf(at.field("category"), CodeInvalidValue, "category '%s' does not exist; it is Source, Build, Test, Deploy, Approval, Invoke or Compute%s",
			id.Category, didYouMean(string(id.Category), []string{"Source", "Build", "Test", "Deploy", "Approval", "Invoke", "Compute"}))
	}
	switch id.Owner {
	case "":
		valid = false
		v.errorf(at.field("owner"), CodeRequiredField, "owner is required")
	case OwnerAWS, OwnerThirdParty, OwnerCustom:
	default:
		valid = false
		v.errorf(at.field("owner"), CodeInvalidValue, "owner '%s' does not exist; it is AWS, ThirdParty or Custom%s",
			id.Owner, didYouMean(string(id.Owner), []string{"AWS", "ThirdParty", "Custom"}))
	}
	if !nameOK(id.Provider, providerChars, 35) {
		v.name(at.field("provider"), id.Provider, providerChars, 35)
	}
	if !nameOK(id.Version, providerChars, 9) {
		v.name(at.field("version"), id.Version, providerChars, 9)
	}
	if !valid || id.Provider == "" {
		return nil
	}
	t, ok := lookupActionType(id)
	if !ok {
		v.unknownActionType(at, id)
		return nil
	}
	if id.Version != "" && !slices.Contains(t.Versions, id.Version) {
		v.errorf(at.field("version"), CodeUnsupportedActionVersion, "%s %s has version %s, not '%s'", id.Owner, id.Provider, strings.Join(t.Versions, ", "), id.Version)
	}
	return t
}

func (v *validator) unknownActionType(at path, id ActionTypeID) {
	if cats := providerCategories(id.Owner, id.Provider); len(cats) > 0 {
		v.errorf(at.field("category"), CodeActionTypeMismatch, "%s %s is a %s action, not %s", id.Owner, id.Provider, strings.Join(cats, " or "), id.Category)
		return
	}
	if id.Owner == OwnerCustom {
		return
	}
	if id.Owner == OwnerAWS || id.Owner == OwnerThirdParty {
		for _, owner := range []ActionOwner{OwnerAWS, OwnerThirdParty} {
			if owner != id.Owner && len(providerCategories(owner, id.Provider)) > 0 {
				v.errorf(at.field("owner"), CodeActionTypeMismatch, "provider %s is owned by %s, not %s", id.Provider, owner, id.Owner)
				return
			}
		}
		v.warnf(at.field("provider"), CodeUnknownActionType, "Sluice does not know %s action type %s %s; its artifacts and configuration are not checked%s",
			id.Category, id.Owner, id.Provider, didYouMean(id.Provider, knownProviders(id.Owner)))
	}
}

// inputs checks that every input artifact is produced by an action that
// runs earlier: in an earlier stage, or in the same stage with a lower
// runOrder.
func (v *validator) inputs(i, j int) {
	a := &v.d.Stages[i].Actions[j]
	runOrder := a.EffectiveRunOrder()
	for k, in := range a.InputArtifacts {
		if !nameOK(in.Name, artifactChars, maxNameLen) {
			v.name(inputPath(i, j, k), in.Name, artifactChars, maxNameLen)
			continue
		}
		for m := range k {
			if a.InputArtifacts[m].Name == in.Name {
				v.errorf(inputPath(i, j, k), CodeInputArtifactNotProduced, "input artifact '%s' is listed twice", in.Name)
			}
		}
		p, ok := v.outputs[in.Name]
		if ok && (p.stage < i || p.stage == i && p.runOrder < runOrder) {
			continue
		}
		at := inputPath(i, j, k)
		switch {
		case !ok && v.partialOutputs:
		case !ok:
			v.errorf(at, CodeInputArtifactNotProduced, "no earlier action outputs '%s'%s", in.Name, didYouMean(in.Name, v.earlierOutputs(i, runOrder)))
		case p.stage == i && p.action == j:
			v.errorf(at, CodeInputArtifactNotProduced, "action '%s' takes its own output artifact '%s' as input", a.Name, in.Name)
		case p.stage > i:
			v.errorf(at, CodeInputArtifactNotProduced, "'%s' is output by action '%s' in a later stage; an input must come from an earlier action", in.Name, v.actionName(p))
		case p.stage == i && p.runOrder >= runOrder:
			v.errorf(at, CodeInputArtifactNotProduced, "'%s' is output by action '%s', which runs %s (runOrder %d); give '%s' a runOrder above %d",
				in.Name, v.actionName(p), sameOrLater(p.runOrder, runOrder), p.runOrder, a.Name, p.runOrder)
		}
	}
}

func sameOrLater(theirs, mine int32) string {
	if theirs == mine {
		return "at the same time"
	}
	return "later"
}

// earlierOutputs lists the artifacts available to an action at stage i and
// runOrder r, for suggestions.
func (v *validator) earlierOutputs(i int, r int32) []string {
	var out []string
	for name, p := range v.outputs {
		if p.stage < i || p.stage == i && p.runOrder < r {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// files checks the files of an output artifact, which only Commands
// actions list.
func (v *validator) files(at path, files []string, t *ActionType) {
	if files == nil {
		return
	}
	if t != nil && t.Provider != "Commands" {
		v.errorf(at.field("files"), CodeFieldNotAllowed, "files applies only to the output artifact of a Commands action")
		return
	}
	v.stringList(at.field("files"), files, 1, maxFiles, maxFileLen, "files")
}

// stringList checks the length of a list of strings and of each string.
func (v *validator) stringList(at path, items []string, minItems, maxItems, maxLen int, what string) {
	if len(items) < minItems || len(items) > maxItems {
		v.errorf(at, CodeInvalidLength, "%s holds %d to %d entries; it has %d", what, minItems, maxItems, len(items))
	}
	for k, s := range items {
		if s == "" || len(s) > maxLen {
			v.errorf(at.index(k), CodeInvalidLength, "an entry of %s has 1 to %d characters; it has %d", what, maxLen, len(s))
		}
	}
}

// commands checks the fields that only Commands actions take.
func (v *validator) commands(at path, a *Action, i int, t *ActionType) {
	isCommands := t != nil && t.Provider == "Commands"
	if t != nil && !isCommands {
		if a.Commands != nil {
			v.errorf(at.field("commands"), CodeFieldNotAllowed, "commands applies only to Commands actions; %s takes its commands from its own configuration", t.Provider)
		}
		if a.OutputVariables != nil {
			v.errorf(at.field("outputVariables"), CodeFieldNotAllowed, "outputVariables applies only to Commands actions")
		}
	}
	if isCommands && len(a.Commands) == 0 {
		v.errorf(at.field("commands"), CodeRequiredField, "a Commands action needs commands to run")
	}
	if a.Commands != nil {
		v.stringList(at.field("commands"), a.Commands, 1, maxCommands, maxCommandLen, "commands")
		for k, c := range a.Commands {
			if strings.Contains(c, "#{") {
				v.refs(func() path { return at.field("commands").index(k) }, c, i, a.EffectiveRunOrder())
			}
		}
	}
	if a.OutputVariables != nil {
		v.stringList(at.field("outputVariables"), a.OutputVariables, 1, maxOutputVariables, maxVariableNameLen, "outputVariables")
	}
	if a.EnvironmentVariables != nil {
		if len(a.EnvironmentVariables) > maxEnvVars {
			v.errorf(at.field("environmentVariables"), CodeInvalidLength, "an action has at most %d environment variables; it has %d", maxEnvVars, len(a.EnvironmentVariables))
		}
		for k, e := range a.EnvironmentVariables {
			eat := at.field("environmentVariables").index(k)
			v.name(eat.field("name"), e.Name, envChars, maxVariableNameLen)
			if e.Value == "" || len(e.Value) > maxEnvValueLen {
				v.errorf(eat.field("value"), CodeInvalidLength, "an environment variable's value has 1 to %d characters; it has %d", maxEnvValueLen, len(e.Value))
			}
			if e.Type != "" && e.Type != EnvPlaintext && e.Type != EnvSecretsManager {
				v.errorf(eat.field("type"), CodeInvalidValue, "type is PLAINTEXT or SECRETS_MANAGER, not '%s'", e.Type)
			}
			if strings.Contains(e.Value, "#{") {
				v.refs(func() path { return eat.field("value") }, e.Value, i, a.EffectiveRunOrder())
			}
		}
	}
}

// configuration checks configuration keys and values against the action
// type, and every variable reference in the values.
func (v *validator) configuration(actionAt path, a *Action, i int, t *ActionType) {
	if len(a.Configuration) == 0 && (t == nil || len(t.Properties) == 0) {
		return
	}
	at := actionAt.field("configuration")
	v.keys = v.keys[:0]
	for k := range a.Configuration {
		v.keys = append(v.keys, k)
	}
	slices.Sort(v.keys)
	for _, k := range v.keys {
		value := a.Configuration[k]
		if len(k) > maxConfigKeyLen {
			v.errorf(at.key(k), CodeInvalidLength, "a configuration key has at most %d characters; it has %d", maxConfigKeyLen, len(k))
		}
		if value == "" || len(value) > maxConfigValueLen {
			v.errorf(at.key(k), CodeInvalidLength, "a configuration value has 1 to %d characters; it has %d", maxConfigValueLen, len(value))
		}
		if strings.Contains(value, "#{") {
			v.refs(func() path { return at.key(k) }, value, i, a.EffectiveRunOrder())
		}
		if t == nil {
			continue
		}
		p, known := t.Property(k)
		if known && p.Choices == nil && !p.Secret {
			continue
		}
		kat := at.key(k)
		switch {
		case !known:
			v.warnf(kat, CodeUnknownConfiguration, "%s has no configuration property '%s'%s", t.Provider, k, didYouMean(k, propertyNames(t)))
		case p.Choices != nil && value != "" && !strings.Contains(value, "#{") && !isChoice(value, p.Choices):
			v.errorf(kat, CodeInvalidConfiguration, "%s is %s, not '%s'", k, orList(p.Choices), value)
		case p.Secret && value != Masked && !strings.HasPrefix(value, "{{resolve:") && !v.derived[string(kat)]:
			v.warnf(kat, CodeSecretInPlainText, "%s is a secret written out in the file; pass it as a parameter or a {{resolve:secretsmanager:…}} reference", k)
		}
	}
	if t == nil {
		return
	}
	for _, p := range t.Properties {
		if p.Required && a.Configuration[p.Name] == "" {
			if _, present := a.Configuration[p.Name]; !present {
				v.errorf(at, CodeMissingConfiguration, "%s needs configuration property '%s'", t.Provider, p.Name)
			}
		}
	}
	if rule := providerRules[t.Provider]; rule != nil {
		rule(v, at, a)
	}
}

func propertyNames(t *ActionType) []string {
	names := make([]string, len(t.Properties))
	for i, p := range t.Properties {
		names[i] = p.Name
	}
	return names
}

func isChoice(value string, choices []string) bool {
	for _, c := range choices {
		if value == c || (c == "true" || c == "false") && strings.EqualFold(value, c) {
			return true
		}
	}
	return false
}

// providerRules check configuration rules that depend on other properties.
var providerRules = map[string]func(v *validator, at path, a *Action){
	"S3": func(v *validator, at path, a *Action) {
		if a.ActionTypeID.Category == CategoryDeploy && strings.EqualFold(a.Configuration["Extract"], "false") && a.Configuration["ObjectKey"] == "" {
			v.errorf(at, CodeMissingConfiguration, "S3 deploy with Extract false needs configuration property 'ObjectKey', the key of the uploaded artifact")
		}
	},
	"CloudFormation": func(v *validator, at path, a *Action) {
		mode := a.Configuration["ActionMode"]
		if strings.HasPrefix(mode, "CHANGE_SET_") && a.Configuration["ChangeSetName"] == "" {
			v.errorf(at, CodeMissingConfiguration, "ActionMode %s needs configuration property 'ChangeSetName'", mode)
		}
		if (mode == "CREATE_UPDATE" || mode == "REPLACE_ON_FAILURE" || mode == "CHANGE_SET_REPLACE") && a.Configuration["TemplatePath"] == "" {
			v.errorf(at, CodeMissingConfiguration, "ActionMode %s needs configuration property 'TemplatePath', as ArtifactName::path", mode)
		}
		v.artifactRef(at.key("TemplatePath"), a, a.Configuration["TemplatePath"], true)
		v.artifactRef(at.key("TemplateConfiguration"), a, a.Configuration["TemplateConfiguration"], true)
	},
	"CodeDeployToECS": func(v *validator, at path, a *Action) {
		v.artifactRef(at.key("TaskDefinitionTemplateArtifact"), a, a.Configuration["TaskDefinitionTemplateArtifact"], false)
		v.artifactRef(at.key("AppSpecTemplateArtifact"), a, a.Configuration["AppSpecTemplateArtifact"], false)
	},
}

// artifactRef checks that a configuration value names one of the action's
// input artifacts, alone or as ArtifactName::path.
func (v *validator) artifactRef(at path, a *Action, value string, withPath bool) {
	if value == "" || strings.Contains(value, "#{") || v.unresolved[string(at)] {
		return
	}
	name := value
	if withPath {
		var ok bool
		name, _, ok = strings.Cut(value, "::")
		if !ok {
			v.errorf(at, CodeInvalidConfiguration, "'%s' must be ArtifactName::path/in/artifact", value)
			return
		}
	}
	inputs := make([]string, len(a.InputArtifacts))
	for k, in := range a.InputArtifacts {
		if in.Name == name {
			return
		}
		inputs[k] = in.Name
	}
	v.errorf(at, CodeInvalidConfiguration, "'%s' names no input artifact of action '%s'%s", name, a.Name, didYouMean(name, inputs))
}

// region checks an action's region against the pipeline's artifact stores.
func (v *validator) actionRegion(i, j int) {
	a := &v.d.Stages[i].Actions[j]
	if a.Region == "" {
		return
	}
	at := actionPath(i, j).field("region")
	if len(a.Region) < 4 || len(a.Region) > 30 {
		v.errorf(at, CodeInvalidLength, "a region has 4 to 30 characters; '%s' has %d", a.Region, len(a.Region))
		return
	}
	cross := v.region != "" && a.Region != v.region
	if cross && (a.ActionTypeID.Category == CategorySource || a.ActionTypeID.Owner == OwnerThirdParty || a.ActionTypeID.Owner == OwnerCustom) {
		v.errorf(at, CodeCrossRegionNotAllowed, "%s %s action '%s' cannot run in another region (%s) than the pipeline's (%s); remove region",
			a.ActionTypeID.Owner, a.ActionTypeID.Category, a.Name, a.Region, v.region)
		return
	}
	switch {
	case v.d.ArtifactStores != nil:
		if _, ok := v.d.ArtifactStores[a.Region]; !ok {
			v.errorf(at, CodeArtifactStoreMissingForRegion, "no artifact store for region %s; add an artifactStores entry for it", a.Region)
		}
	case cross:
		v.errorf(at, CodeArtifactStoreMissingForRegion, "a cross-region action needs artifactStores, one per region, in place of artifactStore; add entries for %s and %s", v.region, a.Region)
	}
}

func (v *validator) artifactStores() {
	d := v.d
	switch {
	case d.ArtifactStore != nil && d.ArtifactStores != nil:
		v.errorf("artifactStores", CodeArtifactStoreConflict, "give artifactStore or artifactStores, not both")
	case d.ArtifactStore == nil && d.ArtifactStores == nil:
		v.errorf("artifactStore", CodeArtifactStoreMissing, "a pipeline needs an artifactStore (or artifactStores, one per region)")
	}
	if d.ArtifactStore != nil {
		v.artifactStore("artifactStore", d.ArtifactStore)
	}
	regions := make([]string, 0, len(d.ArtifactStores))
	for r := range d.ArtifactStores {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	for _, r := range regions {
		at := path("artifactStores").key(r)
		if len(r) < 4 || len(r) > 30 {
			v.errorf(at, CodeInvalidLength, "a region has 4 to 30 characters; '%s' has %d", r, len(r))
		}
		s := d.ArtifactStores[r]
		v.artifactStore(at, &s)
	}
	if d.ArtifactStores != nil && v.region != "" {
		if _, ok := d.ArtifactStores[v.region]; !ok {
			v.errorf("artifactStores", CodeArtifactStoreMissingForRegion, "artifactStores has no entry for the pipeline's own region, %s; add one", v.region)
		}
	}
}

func (v *validator) artifactStore(at path, s *ArtifactStore) {
	if s.Type != ArtifactStoreS3 {
		if s.Type == "" {
			v.errorf(at.field("type"), CodeRequiredField, "type is required; it is S3")
		} else {
			v.errorf(at.field("type"), CodeInvalidValue, "an artifact store's type is S3, not '%s'", s.Type)
		}
	}
	if v.required(at.field("location"), s.Location) {
		switch {
		case len(s.Location) < 3 || len(s.Location) > 63:
			v.errorf(at.field("location"), CodeInvalidLength, "a bucket name has 3 to 63 characters; '%s' has %d", s.Location, len(s.Location))
		case !fitsPattern(s.Location, bucketChars):
			v.errorf(at.field("location"), CodeInvalidName, "'%s' is not a bucket name: %s is not allowed; use %s",
				s.Location, badChar(s.Location, bucketChars), describeChars(bucketChars))
		}
	}
	if k := s.EncryptionKey; k != nil {
		kat := at.field("encryptionKey")
		if v.required(kat.field("id"), k.ID) && len(k.ID) > maxKeyIDLen {
			v.errorf(kat.field("id"), CodeInvalidLength, "a key ID has at most %d characters; it has %d", maxKeyIDLen, len(k.ID))
		}
		if k.Type != EncryptionKeyKMS {
			v.errorf(kat.field("type"), CodeInvalidValue, "an encryption key's type is KMS, not '%s'", k.Type)
		}
	}
}

// nameOK reports whether a required name is present, fits its pattern and
// is not too long; the validator checks it before building the field path
// that a problem needs.
func nameOK(value, chars string, maxLen int) bool {
	return value != "" && len(value) <= maxLen && fitsPattern(value, chars)
}

// inputPath is the path of an input artifact's name.
func inputPath(i, j, k int) path {
	return actionPath(i, j).field("inputArtifacts").index(k).field("name")
}

// required reports a missing value and returns whether it is present.
func (v *validator) required(at path, value string) bool {
	if value == "" {
		v.errorf(at, CodeRequiredField, "%s is required", lastField(at))
		return false
	}
	return true
}

func lastField(at path) string {
	s := string(at)
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// name checks a required name against its pattern and length, and returns
// whether it is fine.
func (v *validator) name(at path, value, chars string, maxLen int) bool {
	if !v.required(at, value) {
		return false
	}
	if len(value) > maxLen {
		v.errorf(at, CodeInvalidLength, "%s has at most %d characters; '%s' has %d", lastField(at), maxLen, value, len(value))
		return false
	}
	if !fitsPattern(value, chars) {
		v.errorf(at, CodeInvalidName, "'%s' contains %s; %s holds only %s", value, badChar(value, chars), lastField(at), describeChars(chars))
		return false
	}
	return true
}

func (v *validator) roleArn(at path, value string, required bool) {
	if value == "" {
		if required {
			v.errorf(at, CodeRequiredField, "roleArn is required: the service role CodePipeline acts with")
		}
		return
	}
	if len(value) > maxRoleArnLen {
		v.errorf(at, CodeInvalidLength, "a role ARN has at most %d characters; it has %d", maxRoleArnLen, len(value))
		return
	}
	if !isRoleArn(value) {
		v.errorf(at, CodeInvalidArn, "'%s' is not an IAM role ARN; write arn:aws:iam::ACCOUNT:role/NAME with a 12-digit account", value)
	}
}

// refs checks the variable references #{namespace.key} in s, for an action
// in stage i with runOrder r. A rule of a stage condition passes r = 0 for
// beforeEntry (only earlier stages count) and maxRunOrder+1 for onSuccess
// and onFailure (the whole stage counts).
func (v *validator) refs(at func() path, s string, i int, r int32) {
	for {
		start := strings.Index(s, "#{")
		if start < 0 {
			return
		}
		s = s[start+2:]
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return
		}
		ref := s[:end]
		s = s[end+1:]
		ns, key, ok := strings.Cut(ref, ".")
		if !ok || ns == "" || key == "" || !fitsPattern(ns, namespaceChars) {
			continue
		}
		v.ref(at, ns, key, i, r)
	}
}

func (v *validator) ref(at func() path, ns, key string, i int, r int32) {
	switch ns {
	case "codepipeline":
		if key != "PipelineExecutionId" {
			v.errorf(at(), CodeUnknownCodePipelineVariable, "#{codepipeline.%s} does not exist; the codepipeline namespace holds PipelineExecutionId", key)
		}
		return
	case "variables":
		if !v.variables[key] {
			names := make([]string, 0, len(v.d.Variables))
			for _, vr := range v.d.Variables {
				names = append(names, vr.Name)
			}
			v.errorf(at(), CodeUndeclaredVariable, "#{variables.%s} names no pipeline variable%s", key, declareHint(key, names))
		}
		return
	}
	p, ok := v.namespaces[ns]
	switch {
	case !ok && v.partialNamespaces:
	case !ok:
		names := make([]string, 0, len(v.namespaces))
		for n := range v.namespaces {
			names = append(names, n)
		}
		slices.Sort(names)
		v.errorf(at(), CodeUnknownNamespace, "#{%s.%s}: no action declares namespace '%s'%s", ns, key, ns, didYouMean(ns, names))
	case p.stage > i || p.stage == i && p.runOrder >= r:
		v.errorf(at(), CodeNamespaceNotYetAvailable, "#{%s.%s}: namespace '%s' belongs to action '%s', which has not run yet at this point",
			ns, key, ns, v.actionName(p))
	}
}

func declareHint(key string, names []string) string {
	if s := didYouMean(key, names); s != "" {
		return s
	}
	return "; declare it under variables"
}

// conditions checks a stage's beforeEntry, onSuccess and onFailure.
func (v *validator) conditions(i int) {
	s := &v.d.Stages[i]
	at := stagePath(i)
	if c := s.BeforeEntry; c != nil {
		v.conditionList(i, at.field("beforeEntry"), c.Conditions, 0, ResultFail, ResultSkip)
	}
	if c := s.OnSuccess; c != nil {
		v.conditionList(i, at.field("onSuccess"), c.Conditions, maxRunOrder+1, ResultRollback, ResultFail)
	}
	if c := s.OnFailure; c != nil {
		fat := at.field("onFailure")
		// CodePipeline documents ROLLBACK and RETRY for a failed stage
		// (FAIL, the default, says it plainly); SKIP, which the API model
		// lists, means nothing once the stage has failed.
		switch c.Result {
		case "", ResultRollback, ResultRetry, ResultFail:
		case ResultSkip:
			v.errorf(fat.field("result"), CodeInvalidCondition, "a failed stage cannot be skipped: onFailure's result is ROLLBACK, RETRY or FAIL")
		default:
			v.errorf(fat.field("result"), CodeInvalidValue, "result is ROLLBACK, RETRY or FAIL, not '%s'", c.Result)
		}
		if c.Result == ResultRollback && i == 0 {
			v.errorf(fat.field("result"), CodeInvalidCondition, "the first stage cannot roll back: there is no earlier stage to roll back to")
		}
		if c.RetryConfiguration != nil {
			if c.Result != ResultRetry {
				v.errorf(fat.field("retryConfiguration"), CodeInvalidCondition, "retryConfiguration applies only with result RETRY")
			}
			if m := c.RetryConfiguration.RetryMode; m != RetryAllActions && m != RetryFailedActions {
				v.errorf(fat.field("retryConfiguration").field("retryMode"), CodeInvalidValue, "retryMode is FAILED_ACTIONS or ALL_ACTIONS, not '%s'", m)
			}
		}
		if c.Result == "" && c.Conditions == nil {
			v.errorf(fat, CodeInvalidCondition, "onFailure needs a result or conditions")
		}
		v.conditionList(i, fat, c.Conditions, maxRunOrder+1, ResultRollback, ResultFail)
	}
}

func (v *validator) conditionList(i int, at path, conds []Condition, r int32, results ...ConditionResult) {
	if conds == nil {
		return
	}
	if len(conds) != 1 {
		v.errorf(at.field("conditions"), CodeInvalidLength, "conditions holds exactly one condition; it has %d", len(conds))
	}
	for k, c := range conds {
		cat := at.field("conditions").index(k)
		if c.Result != "" && !slices.Contains(results, c.Result) {
			names := make([]string, len(results))
			for n, res := range results {
				names[n] = string(res)
			}
			v.errorf(cat.field("result"), CodeInvalidCondition, "a %s condition's result is %s, not '%s'", lastField(at), orList(names), c.Result)
		}
		if c.Result == ResultRollback && i == 0 {
			v.errorf(cat.field("result"), CodeInvalidCondition, "the first stage cannot roll back")
		}
		if len(c.Rules) < 1 || len(c.Rules) > maxRules {
			v.errorf(cat.field("rules"), CodeInvalidLength, "a condition holds 1 to %d rules; it has %d", maxRules, len(c.Rules))
		}
		for n := range c.Rules {
			v.rule(i, cat.field("rules").index(n), &c.Rules[n], r)
		}
	}
}

func (v *validator) rule(i int, at path, rule *Rule, r int32) {
	v.name(at.field("name"), rule.Name, nameChars, maxNameLen)
	id := rule.RuleTypeID
	tat := at.field("ruleTypeId")
	if id.Category != "Rule" {
		v.errorf(tat.field("category"), CodeInvalidValue, "a rule's category is Rule, not '%s'", id.Category)
	}
	if id.Owner != "AWS" {
		v.errorf(tat.field("owner"), CodeInvalidValue, "a rule's owner is AWS, not '%s'", id.Owner)
	}
	if v.name(tat.field("provider"), id.Provider, providerChars, 35) && !slices.Contains(ruleProviders, id.Provider) {
		v.warnf(tat.field("provider"), CodeUnknownActionType, "Sluice does not know rule type %s; it is one of %s%s", id.Provider, orList(ruleProviders), didYouMean(id.Provider, ruleProviders))
	}
	if id.Version != "1" {
		v.errorf(tat.field("version"), CodeUnsupportedActionVersion, "rule types have version 1, not '%s'", id.Version)
	}
	v.roleArn(at.field("roleArn"), rule.RoleArn, false)
	if rule.TimeoutInMinutes != nil && (*rule.TimeoutInMinutes < minApprovalTimeout || *rule.TimeoutInMinutes > maxApprovalTimeout) {
		v.errorf(at.field("timeoutInMinutes"), CodeOutOfRange, "a rule timeout is from %d to %d minutes, not %d", minApprovalTimeout, maxApprovalTimeout, *rule.TimeoutInMinutes)
	}
	if rule.Commands != nil {
		v.stringList(at.field("commands"), rule.Commands, 1, maxCommands, maxCommandLen, "commands")
	}
	for k, in := range rule.InputArtifacts {
		iat := at.field("inputArtifacts").index(k).field("name")
		if !v.name(iat, in.Name, artifactChars, maxNameLen) {
			continue
		}
		if p, ok := v.outputs[in.Name]; !ok && !v.partialOutputs || ok && (p.stage > i || p.stage == i && r == 0) {
			v.errorf(iat, CodeInputArtifactNotProduced, "no action before this condition outputs '%s'", in.Name)
		}
	}
	for _, err := range condition.CheckConfiguration(id.Provider, rule.Configuration) {
		v.errorf(at.field("configuration"), CodeInvalidConfiguration, "%s rule: %v", id.Provider, err)
	}
	keys := make([]string, 0, len(rule.Configuration))
	for k := range rule.Configuration {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v.refs(func() path { return at.field("configuration").key(k) }, rule.Configuration[k], i, r)
	}
}

// triggers checks the git triggers: each names a CodeStarSourceConnection
// source action and gives sensible filters.
func (v *validator) triggers() {
	d := v.d
	if len(d.Triggers) > maxTriggers {
		v.errorf("triggers", CodeInvalidLength, "a pipeline has at most %d triggers; it has %d", maxTriggers, len(d.Triggers))
	}
	var connections []string
	if len(d.Stages) > 0 {
		for _, a := range d.Stages[0].Actions {
			if a.ActionTypeID.Provider == "CodeStarSourceConnection" {
				connections = append(connections, a.Name)
			}
		}
	}
	for k, t := range d.Triggers {
		at := path("triggers").index(k)
		if t.ProviderType != TriggerCodeStarSourceConnection {
			v.errorf(at.field("providerType"), CodeInvalidTrigger, "providerType is CodeStarSourceConnection, not '%s'", t.ProviderType)
		}
		g := t.GitConfiguration
		if g == nil {
			v.errorf(at.field("gitConfiguration"), CodeRequiredField, "gitConfiguration is required")
			continue
		}
		gat := at.field("gitConfiguration")
		if v.required(gat.field("sourceActionName"), g.SourceActionName) && !slices.Contains(connections, g.SourceActionName) {
			if len(connections) == 0 {
				v.errorf(gat.field("sourceActionName"), CodeInvalidTrigger, "triggers apply only to CodeStarSourceConnection source actions, and the pipeline has none")
			} else {
				v.errorf(gat.field("sourceActionName"), CodeInvalidTrigger, "'%s' is not a CodeStarSourceConnection source action; triggers apply to %s%s",
					g.SourceActionName, orList(connections), didYouMean(g.SourceActionName, connections))
			}
		}
		if len(g.Push) > maxGitFilters {
			v.errorf(gat.field("push"), CodeInvalidLength, "push holds at most %d filters; it has %d", maxGitFilters, len(g.Push))
		}
		if len(g.PullRequest) > maxGitFilters {
			v.errorf(gat.field("pullRequest"), CodeInvalidLength, "pullRequest holds at most %d filters; it has %d", maxGitFilters, len(g.PullRequest))
		}
		for n, f := range g.Push {
			fat := gat.field("push").index(n)
			if f.Branches == nil && f.Tags == nil {
				v.errorf(fat, CodeInvalidTrigger, "a push filter needs branches or tags")
			}
			if f.Tags != nil && f.Branches != nil {
				v.errorf(fat.field("tags"), CodeInvalidTrigger, "a push filter gives tags or branches, not both")
			}
			if f.FilePaths != nil && f.Branches == nil {
				v.errorf(fat.field("filePaths"), CodeInvalidTrigger, "filePaths filters apply only with branches")
			}
			v.criteria(fat.field("tags"), f.Tags)
			v.criteria(fat.field("branches"), f.Branches)
			v.criteria(fat.field("filePaths"), f.FilePaths)
		}
		for n, f := range g.PullRequest {
			fat := gat.field("pullRequest").index(n)
			if f.Branches == nil {
				v.errorf(fat.field("branches"), CodeInvalidTrigger, "a pull request filter needs branches")
			}
			for e, ev := range f.Events {
				if ev != PullRequestOpen && ev != PullRequestUpdated && ev != PullRequestClosed {
					v.errorf(fat.field("events").index(e), CodeInvalidValue, "a pull request event is OPEN, UPDATED or CLOSED, not '%s'", ev)
				}
			}
			if f.Events != nil && (len(f.Events) < 1 || len(f.Events) > 3) {
				v.errorf(fat.field("events"), CodeInvalidLength, "events holds 1 to 3 entries; it has %d", len(f.Events))
			}
			v.criteria(fat.field("branches"), f.Branches)
			v.criteria(fat.field("filePaths"), f.FilePaths)
		}
	}
}

func (v *validator) criteria(at path, c *GitFilterCriteria) {
	if c == nil {
		return
	}
	if c.Includes == nil && c.Excludes == nil {
		v.errorf(at, CodeInvalidTrigger, "give includes, excludes or both")
	}
	if c.Includes != nil {
		v.stringList(at.field("includes"), c.Includes, 1, maxGitPatterns, maxGitPatternLen, "includes")
	}
	if c.Excludes != nil {
		v.stringList(at.field("excludes"), c.Excludes, 1, maxGitPatterns, maxGitPatternLen, "excludes")
	}
}

// lookupActionType finds a known action type by category, owner and
// provider through an index built once.
func lookupActionType(id ActionTypeID) (*ActionType, bool) {
	t, ok := registryIndex[registryKey{id.Category, id.Owner, id.Provider}]
	return t, ok
}

type registryKey struct {
	category ActionCategory
	owner    ActionOwner
	provider string
}

var registryIndex = func() map[registryKey]*ActionType {
	m := make(map[registryKey]*ActionType, len(registry))
	for i := range registry {
		t := &registry[i]
		m[registryKey{t.Category, t.Owner, t.Provider}] = t
	}
	return m
}()

// String formats a count range: "1", "0 to 5".
func (c Count) String() string {
	if c.Min == c.Max {
		return strconv.Itoa(c.Min)
	}
	return fmt.Sprintf("%d to %d", c.Min, c.Max)
}
