// Package compile turns a pipeline declaration into the Amazon States
// Language definition of the Standard state machine that runs it, on AWS Step
// Functions or on the embedded engine alike.
//
// The shape, stage by stage:
//
//	<stage>: enter            Task, lambda:invoke.waitForTaskToken on the gate.
//	                          The gate answers the token at once (stage free,
//	                          transition open) or parks it. Superseded and
//	                          PipelineStopped are caught into terminal states.
//	                          Its ResultSelector writes the stage's runOrder
//	                          groups into the state, straight from this
//	                          definition: {"g": [[{action, timeout}, ...], ...],
//	                          "i": 0, "n": groups}.
//	<stage>: next runOrder    Pass: picks group i as "cur" and counts i on.
//	<stage>: runOrder groups  Map over "cur": one iteration per action, each a
//	                          lambda:invoke.waitForTaskToken on the action
//	                          handler. A failed or timed-out action is caught
//	                          inside its iteration and recorded, so that its
//	                          siblings run to completion. The result is
//	                          {"halt": true} when any action did not succeed.
//	<stage>: runOrder done    Choice: halt, or no group left → exit; else the
//	                          next group.
//	<stage>: exit             Task on the gate: records the stage (succeeded,
//	                          failed on halt, or stopped), releases it and lets
//	                          the next waiter in. A failed or stopped stage
//	                          ends the execution with StageFailed or
//	                          PipelineStopped. RetryStageExecution redrives the
//	                          execution from here: the gate then answers
//	                          RetryStage, caught back to the stage's entry.
//
// A stage with a single runOrder group has neither the Pass nor the Choice:
// its entry writes {"cur": group} and its Map goes straight to the exit.
// State transitions (each billed on AWS): 3 per stage plus one per action,
// and 2 more per group in stages with several groups — at worst 5 per action
// (a stage of two groups of one action each), 4 for a one-action stage.
//
// A runOrder group is one Map state, reused by every group of the stage,
// rather than a Parallel state with a branch per action: the definition then
// grows by a few dozen bytes per action instead of several hundred, which
// keeps a pipeline at CodePipeline's limits (50 stages of 50 actions, each in
// its own runOrder) well under Step Functions' 1 MB. An inline Map runs
// up to 40 iterations at once on AWS, so a group of more than 40 actions
// starts its last ones as the first finish (CodePipeline starts all 50).
//
// Nothing waits in a polling loop: every wait is a task token, parked in the
// store and answered by whoever ends it.
package compile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-ci/sluice/internal/execution"
	"github.com/sluice-ci/sluice/internal/pipeline"
)

// Options place the compiled machine in an AWS account: the Lambda ARNs of
// the deployed service's gate and action functions are built from them.
type Options struct {
	Partition string // default: from the region (aws, aws-cn, aws-us-gov)
	Region    string // default us-east-1
	Account   string // default 123456789012
	Stack     string // default sluice; functions are <Stack>-gate and <Stack>-action
}

// Defaults used when Options leave a field empty.
const (
	DefaultRegion  = "us-east-1"
	DefaultAccount = "123456789012"
	DefaultStack   = "sluice"
)

func (o Options) withDefaults() Options {
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.Account == "" {
		o.Account = DefaultAccount
	}
	if o.Stack == "" {
		o.Stack = DefaultStack
	}
	if o.Partition == "" {
		switch {
		case strings.HasPrefix(o.Region, "cn-"):
			o.Partition = "aws-cn"
		case strings.HasPrefix(o.Region, "us-gov-"):
			o.Partition = "aws-us-gov"
		default:
			o.Partition = "aws"
		}
	}
	return o
}

// GateARN is the ARN of the gate function.
func (o Options) GateARN() string { return o.functionARN("gate") }

// ActionARN is the ARN of the action function.
func (o Options) ActionARN() string { return o.functionARN("action") }

func (o Options) functionARN(fn string) string {
	o = o.withDefaults()
	return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s-%s", o.Partition, o.Region, o.Account, o.Stack, fn)
}

func (o Options) invokeWaitARN() string {
	return "arn:" + o.withDefaults().Partition + ":states:::lambda:invoke.waitForTaskToken"
}

// Names of the terminal states.
const (
	StateSuperseded = "Superseded"
	StateStopped    = "Stopped"
)

// maxStateName is Step Functions' limit on a state's name.
const maxStateName = 80

// Compile returns the state machine of a declaration. It checks what the
// machine needs (stages with actions, unique names) and nothing more: the
// declaration's own rules are the pipeline package's.
func Compile(d *pipeline.Declaration, opts Options) (*Machine, error) {
	if d == nil {
		return nil, fmt.Errorf("compile: no declaration")
	}
	if len(d.Stages) == 0 {
		return nil, fmt.Errorf("compile %s: the pipeline has no stages", d.Name)
	}
	c := compiler{d: d, opts: opts.withDefaults()}
	m := &Machine{
		Comment: fmt.Sprintf("Pipeline %s, compiled by sluice: per stage an entry gate, a Map over its runOrder groups and an exit gate.", d.Name),
		States:  map[string]any{},
	}
	seen := map[string]int{}
	for i, st := range d.Stages {
		if j, dup := seen[st.Name]; dup {
			return nil, fmt.Errorf("compile %s: stages[%d] and stages[%d] are both named %q", d.Name, j, i, st.Name)
		}
		seen[st.Name] = i
		if len(st.Actions) == 0 {
			return nil, fmt.Errorf("compile %s: stages[%d] (%s) has no actions", d.Name, i, st.Name)
		}
	}
	m.StartAt = c.name(0, "enter")
	for i := range d.Stages {
		c.stage(m, i)
	}
	m.States[StateSuperseded] = failState{Type: "Fail", Error: execution.ErrSuperseded,
		Cause: "A newer pipeline execution replaced this one while it waited to enter a stage."}
	m.States[StateStopped] = failState{Type: "Fail", Error: execution.ErrPipelineStopped,
		Cause: "The pipeline execution was stopped."}
	return m, nil
}

type compiler struct {
	d    *pipeline.Declaration
	opts Options
}

// name is the state name "<stage>: <suffix>", with the stage name cut (and
// marked with its index, "~3", which CodePipeline names cannot contain) when
// the whole would pass Step Functions' 80 characters.
func (c compiler) name(stage int, suffix string) string {
	s := c.d.Stages[stage].Name
	if len(s)+2+len(suffix) > maxStateName {
		mark := fmt.Sprintf("~%d", stage+1)
		s = s[:maxStateName-2-len(suffix)-len(mark)] + mark
	}
	return s + ": " + suffix
}

// groups returns a stage's actions grouped by runOrder, in ascending order.
func groups(st pipeline.Stage) [][]*pipeline.Action {
	byOrder := map[int32][]*pipeline.Action{}
	for i := range st.Actions {
		a := &st.Actions[i]
		byOrder[a.EffectiveRunOrder()] = append(byOrder[a.EffectiveRunOrder()], a)
	}
	orders := make([]int32, 0, len(byOrder))
	for o := range byOrder {
		orders = append(orders, o)
	}
	slices.Sort(orders)
	out := make([][]*pipeline.Action, len(orders))
	for i, o := range orders {
		out[i] = byOrder[o]
	}
	return out
}

// Retry for handler failures that are worth another go: the Lambda
// service's transient errors and the handlers' own Transient error.
var transientRetry = []retrier{{
	ErrorEquals: []string{
		"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
		"Lambda.TooManyRequestsException", execution.ErrTransient,
	},
	IntervalSeconds: 1, MaxAttempts: 6, BackoffRate: 2,
}}

func (c compiler) stage(m *Machine, i int) {
	st := c.d.Stages[i]
	last := i == len(c.d.Stages)-1
	gs := groups(st)
	enter, run, exit := c.name(i, "enter"), c.name(i, "runOrder groups"), c.name(i, "exit")
	next, done := c.name(i, "next runOrder"), c.name(i, "runOrder done")

	items := make([][]groupItem, len(gs))
	for g, actions := range gs {
		for _, a := range actions {
			items[g] = append(items[g], groupItem{Action: a.Name, Timeout: actionTimeout(a)})
		}
	}
	enterTask := task{
		Type:     "Task",
		Resource: c.opts.invokeWaitARN(),
		Parameters: map[string]any{
			"FunctionName": c.opts.GateARN(),
			"Payload": map[string]any{
				"op": "enter", "pipeline": c.d.Name, "stage": st.Name,
				"execution.$": "$$.Execution.Name", "token.$": "$$.Task.Token",
			},
		},
		ResultSelector: map[string]any{"g": items, "i": 0, "n": len(items)},
		Retry:          transientRetry,
		Catch: []catcher{
			{ErrorEquals: []string{execution.ErrSuperseded}, Next: StateSuperseded},
			{ErrorEquals: []string{execution.ErrPipelineStopped}, Next: StateStopped},
		},
		Next: next,
	}
	groupMap := mapState{
		Type:      "Map",
		ItemsPath: "$.cur",
		ItemProcessor: processor{
			ProcessorConfig: map[string]string{"Mode": "INLINE"},
			StartAt:         c.name(i, "run action"),
			States:          c.actionStates(st.Name, c.name(i, "run action"), c.name(i, "record failure")),
		},
		ResultSelector: map[string]string{"halt.$": "States.ArrayContains($[*].ok, false)"},
		ResultPath:     "$.r",
		Next:           done,
	}
	if len(gs) == 1 {
		// One group: no loop over groups, the Map goes straight to the exit.
		enterTask.ResultSelector = map[string]any{"cur": items[0]}
		enterTask.Next = run
		groupMap.Next = exit
	} else {
		m.States[next] = pass{
			Type: "Pass",
			Parameters: map[string]string{
				"g.$": "$.g", "n.$": "$.n",
				"cur.$": "States.ArrayGetItem($.g, $.i)",
				"i.$":   "States.MathAdd($.i, 1)",
			},
			Next: run,
		}
		m.States[done] = choice{
			Type: "Choice",
			Choices: []choiceRule{
				{Variable: "$.r.halt", BooleanEquals: ptr(true), Next: exit},
				{Variable: "$.i", NumericLessThanPath: "$.n", Next: next},
			},
			Default: exit,
		}
	}
	m.States[enter] = enterTask
	m.States[run] = groupMap
	exitTask := task{
		Type:     "Task",
		Resource: c.opts.GateARN(),
		Parameters: map[string]any{
			"op": "exit", "pipeline": c.d.Name, "stage": st.Name, "last": last,
			"execution.$": "$$.Execution.Name", "halt.$": "$.r.halt",
		},
		ResultPath: nullPath,
		Retry:      transientRetry,
		Catch:      []catcher{{ErrorEquals: []string{execution.ErrRetryStage}, Next: enter}},
	}
	if last {
		exitTask.End = true
	} else {
		exitTask.Next = c.name(i+1, "enter")
	}
	m.States[exit] = exitTask
}

func ptr[T any](v T) *T { return &v }

// actionStates is the Map iteration of a stage: run the action, and on any
// error record the failure so that the iteration still ends.
func (c compiler) actionStates(stage, run, record string) map[string]any {
	return map[string]any{
		run: task{
			Type:     "Task",
			Resource: c.opts.invokeWaitARN(),
			Parameters: map[string]any{
				"FunctionName": c.opts.ActionARN(),
				"Payload": map[string]any{
					"op": "run", "pipeline": c.d.Name, "stage": stage, "action.$": "$.action",
					"execution.$": "$$.Execution.Name", "token.$": "$$.Task.Token",
				},
			},
			TimeoutSecondsPath: "$.timeout",
			Retry:              transientRetry,
			Catch:              []catcher{{ErrorEquals: []string{"States.ALL"}, ResultPath: "$.error", Next: record}},
			End:                true,
		},
		record: task{
			Type:     "Task",
			Resource: c.opts.ActionARN(),
			Parameters: map[string]any{
				"op": "failed", "pipeline": c.d.Name, "stage": stage, "action.$": "$.action",
				"execution.$": "$$.Execution.Name", "error.$": "$.error.Error", "cause.$": "$.error.Cause",
			},
			Retry: transientRetry,
			End:   true,
		},
	}
}

// Marshal encodes a machine deterministically (object keys sorted), indented
// for reading when indent is true, compact (as deployed) otherwise.
func Marshal(m *Machine, indent bool) ([]byte, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode state machine: %w", err)
	}
	if !indent {
		return raw, nil
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("indent state machine: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
