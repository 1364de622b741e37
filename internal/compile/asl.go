package compile

import (
	"encoding/json"
	"time"

	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/pipeline"
)

// Machine is a compiled state machine definition. The state types below
// carry only the fields the compiler writes, in the order a reader expects.
type Machine struct {
	Comment string         `json:"Comment"`
	StartAt string         `json:"StartAt"`
	States  map[string]any `json:"States"`
}

type retrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds int      `json:"IntervalSeconds"`
	MaxAttempts     int      `json:"MaxAttempts"`
	BackoffRate     float64  `json:"BackoffRate"`
}

type catcher struct {
	ErrorEquals []string `json:"ErrorEquals"`
	ResultPath  string   `json:"ResultPath,omitempty"`
	Next        string   `json:"Next"`
}

// nullPath is a ResultPath of JSON null: the task's result is discarded.
var nullPath = json.RawMessage("null")

type task struct {
	Type               string          `json:"Type"`
	Resource           string          `json:"Resource"`
	Parameters         map[string]any  `json:"Parameters"`
	TimeoutSecondsPath string          `json:"TimeoutSecondsPath,omitempty"`
	ResultSelector     any             `json:"ResultSelector,omitempty"` // a *group at an entry gate
	ResultPath         json.RawMessage `json:"ResultPath,omitempty"`
	Retry              []retrier       `json:"Retry,omitempty"`
	Catch              []catcher       `json:"Catch,omitempty"`
	Next               string          `json:"Next,omitempty"`
	End                bool            `json:"End,omitempty"`
}

// branch is the states of a Parallel branch.
type branch struct {
	StartAt string         `json:"StartAt"`
	States  map[string]any `json:"States"`
}

type processor struct {
	ProcessorConfig map[string]string `json:"ProcessorConfig"`
	StartAt         string            `json:"StartAt"`
	States          map[string]any    `json:"States"`
}

type parallel struct {
	Type           string            `json:"Type"`
	Branches       []branch          `json:"Branches"`
	ResultSelector map[string]string `json:"ResultSelector"`
	ResultPath     string            `json:"ResultPath"`
	Next           string            `json:"Next"`
}

type mapState struct {
	Type           string            `json:"Type"`
	ItemsPath      string            `json:"ItemsPath"`
	ItemSelector   map[string]string `json:"ItemSelector"`
	ItemProcessor  processor         `json:"ItemProcessor"`
	ResultSelector map[string]string `json:"ResultSelector"`
	ResultPath     string            `json:"ResultPath"`
	Next           string            `json:"Next"`
}

// choiceRule is a Choice rule: a comparison of Variable, or a conjunction
// or disjunction of rules. Only top-level rules have a Next.
type choiceRule struct {
	And                []choiceRule `json:"And,omitempty"`
	Or                 []choiceRule `json:"Or,omitempty"`
	Variable           string       `json:"Variable,omitempty"`
	StringEquals       *string      `json:"StringEquals,omitempty"`
	BooleanEquals      *bool        `json:"BooleanEquals,omitempty"`
	NumericEquals      *int         `json:"NumericEquals,omitempty"`
	NumericGreaterThan *int         `json:"NumericGreaterThan,omitempty"`
	Next               string       `json:"Next,omitempty"`
}

type choice struct {
	Type      string       `json:"Type"`
	InputPath string       `json:"InputPath"`
	Choices   []choiceRule `json:"Choices"`
}

type failState struct {
	Type  string `json:"Type"`
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// group is one runOrder group in the list a stage's entry gate writes into
// the state: its stage, its size, its actions, and the groups after it. A
// group of size 0 ends the list; it takes the stage attempt that the entry
// gate answers, which the exit gate is given.
type group struct {
	Stage   string      `json:"s"`
	K       int         `json:"k"`
	Attempt string      `json:"n.$,omitempty"`
	Actions []groupItem `json:"a,omitempty"`
	Next    *group      `json:"next,omitempty"`
}

// groupItem is one action of a runOrder group.
type groupItem struct {
	Action  string `json:"action"`
	Timeout int    `json:"timeout"` // seconds
}

// Action timeouts, from CodePipeline's quotas: an approval waits
// timeoutInMinutes or 7 days; CloudFormation 3 days; CodeDeploy 5 days; a
// Lambda invoke 24 hours; an S3 deploy 90 minutes; every other action one
// hour. CodeBuild and Commands actions are given 36 hours, CodeBuild's
// longest build timeout, so that the build times out before the action does.
func actionTimeout(a *pipeline.Action) int {
	t := a.ActionTypeID
	var d time.Duration
	switch {
	case t.Category == pipeline.CategoryApproval:
		minutes := 0
		if a.TimeoutInMinutes != nil {
			minutes = int(*a.TimeoutInMinutes)
		}
		d = execution.ApprovalTimeout(minutes)
	case t.Provider == "CloudFormation" || t.Provider == "CloudFormationStackSet" || t.Provider == "CloudFormationStackInstances":
		d = 3 * 24 * time.Hour
	case t.Provider == "CodeDeploy" || t.Provider == "CodeDeployToECS":
		d = 5 * 24 * time.Hour
	case t.Provider == "Lambda":
		d = 24 * time.Hour
	case t.Provider == "S3" && t.Category == pipeline.CategoryDeploy:
		d = 90 * time.Minute
	case t.Provider == "CodeBuild" || t.Provider == "Commands":
		d = 36 * time.Hour
	default:
		d = time.Hour
	}
	return int(d / time.Second)
}
