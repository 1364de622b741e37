// Package compile turns a pipeline declaration into the Amazon States
// Language definition of the Standard state machine that runs it, on AWS Step
// Functions or on the embedded engine alike. It also counts what a run of
// the machine costs in history events and state transitions (Machine.Cost).
//
// # The shape
//
// Each stage has its own two gates; the states that run runOrder groups are
// shared by every stage, one per size of group, and a routing Choice leads
// from each group to the next:
//
//	<stage>: enter        Task, lambda:invoke.waitForTaskToken on the gate,
//	                      which answers the token at once (stage free,
//	                      transition open, entry conditions met) or parks
//	                      it. Superseded and PipelineStopped are caught into
//	                      terminal states; StageSkipped and
//	                      EntryConditionFailed (an entry condition engaged
//	                      SKIP or FAIL, or a rollback execution passes a
//	                      stage it does not run) are caught into the
//	                      stage's exit, the error at $.h.
//	                      Its ResultSelector writes the stage's runOrder
//	                      groups into the state as a list (below), ended by
//	                      the stage attempt the gate answers, and it goes to
//	                      the state for the size of the first group.
//	run action            a group of one action: the action's Task.
//	run 2 actions ...     a group of 2 to 5 actions: a Parallel state with a
//	run 5 actions         branch per action.
//	run actions           a larger group: an inline Map over its actions.
//	next runOrder group   Choice. Its InputPath takes the next group of the
//	                      list; if the group just run halted, or no group is
//	                      left, it goes to the exit of the group's stage,
//	                      else to the state for the next group's size.
//	<stage>: exit         Task on the gate, given the state: the list's end
//	                      with the stage attempt and $.h (the last group's
//	                      {"halt": bool}), or the entry's caught error at
//	                      $.h. By the attempt the gate ignores a late
//	                      duplicate of an earlier attempt's exit. It
//	                      evaluates the onSuccess or onFailure conditions,
//	                      records the stage (succeeded, skipped, failed, or
//	                      stopped), releases it and lets the next waiter in.
//	                      A failed or stopped stage ends the execution with
//	                      StageFailed or PipelineStopped (after starting a
//	                      rollback execution when onFailure says ROLLBACK).
//	                      RetryStageExecution redrives the execution from
//	                      here, and onFailure's RETRY retries from here at
//	                      once, keeping the stage: the gate then answers
//	                      RetryStage, caught back to the stage's entry.
//
// Stage conditions add no state: they live in the gates. A closed
// deployment window parks the entry token until a wake-up the runtime
// schedules (or OverrideStageCondition) answers it; a skipped stage costs
// its two gates; an automatic retry costs the stage's states once more, as
// a RetryStageExecution does.
//
// Every action runs as a lambda:invoke.waitForTaskToken Task on the action
// handler, with TimeoutSecondsPath on its own timeout (CodePipeline's quota
// for its kind; for an approval, timeoutInMinutes or 7 days). A failed or
// timed-out action is caught inside its Task, branch or iteration and
// recorded at once by "record failure", so that its siblings run to
// completion. Each group state reduces its results to {"halt": bool}, true
// when an action did not succeed, and writes it into the next group of the
// list, where the Choice and the exit gate read it.
//
// A stage Build with Compile and UnitTest at runOrder 1 and Package at
// runOrder 2 enters with the list
//
//	{"s": "Build", "k": 2, "a": [{"action": "Compile", "timeout": 129600}, {"action": "UnitTest", "timeout": 129600}],
//	 "next": {"s": "Build", "k": 1, "a": [{"action": "Package", "timeout": 129600}],
//	          "next": {"s": "Build", "k": 0}}}
//
// and goes Build: enter → run 2 actions → next runOrder group (k = 1) → run
// action → next runOrder group (k = 0) → Build: exit. The list holds
// everything the shared states need: the stage ("s"), the size that picks
// the state ("k"), and each action's name and timeout. Popping it with the
// Choice's InputPath needs neither variables nor JSONata, and the state
// stays small: names and numbers, never artifacts.
//
// # History events and transitions
//
// Step Functions fails an execution at 25,000 history events and bills each
// state entered. It records 2 events per Choice, 6 per callback Task
// (entered, scheduled, started, submitted, succeeded, exited), 5 per plain
// Lambda Task, 4 per Parallel or Map state and 2 more per Map item. A stage
// costs 11 for its gates, and each runOrder group of k actions, with the
// Choice after it:
//
//	k = 1        6 + 2            =  8        per action 8
//	k = 2 to 5   4 + 6k + 2       = 18 to 36  per action 9 to 7.2
//	k ≥ 6        4 + 8k + 2       = 54 ...    per action 9 to 8.1
//
// No group costs more than 9 events per action, so a stage of 50 actions
// costs at most 11 + 9 × 50 = 461 events, and a pipeline at CodePipeline's
// limits, 50 such stages, at most 2 + 50 × 461 = 23,052 events, 7.8% under
// the limit, however its actions are grouped: all sequential 20,552; one
// group per stage 20,852; 25 groups of 2 and 8 groups of 6 with one of 2,
// the worst, 23,052; 17 groups of 3 (the last of 2) 20,652; 10 groups of 5
// 18,552. A stage enters 2 gates plus, per group, its states (1 for a
// single action, 1 + k otherwise) and the Choice: at most 4 transitions per
// action (a stage of one action), 2.04 when all 2,500 run in sequence,
// 1.08 when each stage is one group.
//
// Parallel states stop at 5 branches because from 6 actions on a Map costs
// at most 9 events per action, no more than a Parallel of 2: wider Parallel
// states would not lower the worst case and would only add states. An
// inline Map runs up to 40 iterations at once on AWS, so a group of more
// than 40 actions starts its last ones as the first finish (CodePipeline
// starts all 50).
//
// # Definition size
//
// Step Functions takes definitions of at most 1 MB. The group states are
// written once (about 20 KB with every size present); a stage adds its two
// gates, its list and a Choice rule. A 50 × 50 pipeline compiles to 170 to
// 260 KB with short names and to at most about 770 KB with CodePipeline's
// longest (100-character) pipeline, stage and action names.
//
// # Alternatives not taken
//
//   - Group states per stage (a stage's own Task, Parallel and Map states,
//     for the sizes it uses): the same events, but a Parallel branch is
//     about 1.3 KB, so a stage using every size from 1 to 5 and a Map holds
//     about 22 KB and 50 such stages pass 1 MB.
//   - One Map over all of a stage's actions, each waiting in the store for
//     its group's turn: 8 events per action whatever the grouping, but a
//     Task's timeout would count the wait, so action timeouts (the 7-day
//     approval above all) would need timers outside the engine.
//   - One Task per group, the handler fanning the actions out: the same
//     timeout problem, and Step Functions would no longer show the actions.
//
// Nothing waits in a polling loop: every wait is a task token, parked in the
// store and answered by whoever ends it.
package compile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
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

// Names of the terminal states, and of the Choice that picks each stage's
// next runOrder group.
const (
	StateSuperseded = "Superseded"
	StateStopped    = "Stopped"
	StateRoute      = "next runOrder group"
)

// maxStateName is Step Functions' limit on a state's name.
const maxStateName = 80

// Compile returns the state machine of a declaration. It checks what the
// machine needs (stages with actions, unique stage names and action names
// within a stage) and nothing more: the declaration's own rules are the
// pipeline package's.
func Compile(d *pipeline.Declaration, opts Options) (*Machine, error) {
	if d == nil {
		return nil, fmt.Errorf("compile: no declaration")
	}
	if len(d.Stages) == 0 {
		return nil, fmt.Errorf("compile %s: the pipeline has no stages", d.Name)
	}
	seen, actions := map[string]int{}, map[string]int{}
	for i, st := range d.Stages {
		if j, dup := seen[st.Name]; dup {
			return nil, fmt.Errorf("compile %s: stages[%d] and stages[%d] are both named %q", d.Name, j, i, st.Name)
		}
		seen[st.Name] = i
		if len(st.Actions) == 0 {
			return nil, fmt.Errorf("compile %s: stages[%d] (%s) has no actions", d.Name, i, st.Name)
		}
		// The handlers know an action by its stage and name.
		clear(actions)
		for j, a := range st.Actions {
			if k, dup := actions[a.Name]; dup {
				return nil, fmt.Errorf("compile %s: stages[%d].actions[%d] and stages[%d].actions[%d] are both named %q", d.Name, i, k, i, j, a.Name)
			}
			actions[a.Name] = j
		}
	}
	c := compiler{d: d, opts: opts.withDefaults()}
	m := &Machine{
		Comment: fmt.Sprintf("Pipeline %s, compiled by sluice: per stage an entry gate, its runOrder groups one after the other, and an exit gate.", d.Name),
		StartAt: c.name(0, "enter"),
		States:  map[string]any{},
	}
	// The kinds of group states the pipeline uses, and those that a group
	// other than a stage's first reaches through the routing Choice.
	used, routed := map[int]bool{}, map[int]bool{}
	var rules []choiceRule
	for i := range d.Stages {
		gs := d.Stages[i].Groups()
		for g, actions := range gs {
			used[kind(len(actions))] = true
			routed[kind(len(actions))] = routed[kind(len(actions))] || g > 0
		}
		c.stage(m, i, gs)
		rules = append(rules, choiceRule{
			And: []choiceRule{
				{Variable: "$.s", StringEquals: ptr(d.Stages[i].Name)},
				{Or: []choiceRule{
					{Variable: "$.h.halt", BooleanEquals: ptr(true)},
					{Variable: "$.k", NumericEquals: ptr(0)},
				}},
			},
			Next: c.name(i, "exit"),
		})
	}
	for _, k := range slices.Sorted(maps.Keys(used)) {
		c.groupStates(m, k)
		if !routed[k] {
			continue
		}
		rule := choiceRule{Variable: "$.k", Next: groupState(k)}
		if k == mapKind {
			rule.NumericGreaterThan = ptr(maxParallel)
		} else {
			rule.NumericEquals = ptr(k)
		}
		rules = append(rules, rule)
	}
	m.States[StateRoute] = choice{Type: "Choice", InputPath: "$.next", Choices: rules}
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

// Retry for handler failures that are worth another go: the Lambda
// service's transient errors and the handlers' own Transient error.
var transientRetry = []retrier{{
	ErrorEquals: []string{
		"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
		"Lambda.TooManyRequestsException", execution.ErrTransient,
	},
	IntervalSeconds: 1, MaxAttempts: 6, BackoffRate: 2,
}}

// maxParallel is the largest runOrder group run by a Parallel state, one
// branch per action; a larger group runs in a Map state.
const maxParallel = 5

// Kinds of group states: 1 is a single Task, 2 to maxParallel a Parallel
// state of that many branches, mapKind a Map state.
const mapKind = maxParallel + 1

// kind is the kind of state that runs a runOrder group of size k.
func kind(k int) int { return min(k, mapKind) }

// groupState is the name of the state that runs groups of kind k.
func groupState(k int) string {
	switch k {
	case 1:
		return "run action"
	case mapKind:
		return "run actions"
	}
	return fmt.Sprintf("run %d actions", k)
}

// Result selectors that reduce a runOrder group's results to {"halt": bool},
// true when an action did not succeed: over the branches or iterations of a
// group, and over the one action of a single Task.
var (
	haltOfGroup  = map[string]string{"halt.$": "States.ArrayContains($[*].ok, false)"}
	haltOfAction = map[string]string{"halt.$": "States.ArrayContains(States.Array($.ok), false)"}
)

// stage adds a stage's gates. The entry gate writes the stage's runOrder
// groups into the state as a list and goes to the state that runs the first
// one; the routing Choice takes the next group from there.
func (c compiler) stage(m *Machine, i int, gs [][]*pipeline.Action) {
	st := c.d.Stages[i]
	last := i == len(c.d.Stages)-1
	enter, exit := c.name(i, "enter"), c.name(i, "exit")

	list := &group{Stage: st.Name, Attempt: "$.attempt"}
	for g := len(gs) - 1; g >= 0; g-- {
		link := &group{Stage: st.Name, K: len(gs[g]), Next: list}
		for _, a := range gs[g] {
			link.Actions = append(link.Actions, groupItem{Action: a.Name, Timeout: actionTimeout(a)})
		}
		list = link
	}
	m.States[enter] = task{
		Type:     "Task",
		Resource: c.opts.invokeWaitARN(),
		Parameters: map[string]any{
			"FunctionName": c.opts.GateARN(),
			"Payload": map[string]any{
				"op": "enter", "pipeline": c.d.Name, "stage": st.Name,
				"execution.$": "$$.Execution.Name", "token.$": "$$.Task.Token",
			},
		},
		ResultSelector: list,
		Retry:          transientRetry,
		Catch: []catcher{
			{ErrorEquals: []string{execution.ErrSuperseded}, Next: StateSuperseded},
			{ErrorEquals: []string{execution.ErrPipelineStopped}, Next: StateStopped},
			{ErrorEquals: []string{execution.ErrStageSkipped, execution.ErrEntryRefused}, ResultPath: "$.h", Next: exit},
		},
		Next: groupState(kind(len(gs[0]))),
	}
	exitTask := task{
		Type:     "Task",
		Resource: c.opts.GateARN(),
		Parameters: map[string]any{
			"op": "exit", "pipeline": c.d.Name, "stage": st.Name, "last": last,
			"execution.$": "$$.Execution.Name", "at.$": "$",
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

// groupStates adds the states that run groups of kind k. They write
// {"halt": bool} into the next group of the list and go to the routing
// Choice.
func (c compiler) groupStates(m *Machine, k int) {
	const resultPath = "$.next.h"
	name := groupState(k)
	switch {
	case k == 1:
		run, record := c.actionStates(name, "record failure", "$.a[0]")
		for _, t := range []*task{&run, &record} {
			t.ResultSelector, t.ResultPath, t.Next = haltOfAction, json.RawMessage(strconv.Quote(resultPath)), StateRoute
		}
		m.States[name], m.States["record failure"] = run, record
	case k == mapKind:
		runName, recordName := "run each action", "record each failure"
		run, record := c.actionStates(runName, recordName, "$.a")
		run.End, record.End = true, true
		m.States[name] = mapState{
			Type:         "Map",
			ItemsPath:    "$.a",
			ItemSelector: map[string]string{"s.$": "$.s", "a.$": "$$.Map.Item.Value"},
			ItemProcessor: processor{
				ProcessorConfig: map[string]string{"Mode": "INLINE"},
				StartAt:         runName,
				States:          map[string]any{runName: run, recordName: record},
			},
			ResultSelector: haltOfGroup,
			ResultPath:     resultPath,
			Next:           StateRoute,
		}
	default:
		p := parallel{Type: "Parallel", ResultSelector: haltOfGroup, ResultPath: resultPath, Next: StateRoute}
		for j := range k {
			runName := fmt.Sprintf("run action %d of %d", j+1, k)
			recordName := fmt.Sprintf("record failure %d of %d", j+1, k)
			run, record := c.actionStates(runName, recordName, fmt.Sprintf("$.a[%d]", j))
			run.End, record.End = true, true
			p.Branches = append(p.Branches, branch{StartAt: runName, States: map[string]any{runName: run, recordName: record}})
		}
		m.States[name] = p
	}
}

// actionStates are the two states that run one action: run it, and on any
// error record the failure so that its group still ends. The stage's name
// is at $.s, the action's {action, timeout} at item.
func (c compiler) actionStates(run, record, item string) (task, task) {
	return task{
			Type:     "Task",
			Resource: c.opts.invokeWaitARN(),
			Parameters: map[string]any{
				"FunctionName": c.opts.ActionARN(),
				"Payload": map[string]any{
					"op": "run", "pipeline": c.d.Name, "stage.$": "$.s", "action.$": item + ".action",
					"execution.$": "$$.Execution.Name", "token.$": "$$.Task.Token",
				},
			},
			TimeoutSecondsPath: item + ".timeout",
			Retry:              transientRetry,
			Catch:              []catcher{{ErrorEquals: []string{"States.ALL"}, ResultPath: "$.error", Next: record}},
		}, task{
			Type:     "Task",
			Resource: c.opts.ActionARN(),
			Parameters: map[string]any{
				"op": "failed", "pipeline": c.d.Name, "stage.$": "$.s", "action.$": item + ".action",
				"execution.$": "$$.Execution.Name", "error.$": "$.error.Error", "cause.$": "$.error.Cause",
			},
			Retry: transientRetry,
		}
}

// Marshal encodes a machine deterministically (object keys sorted), indented
// for reading when indent is true, compact (as deployed) otherwise.
//
// Indented, each entry gate's list of runOrder groups stays on one line: the
// list nests one level per group, and indenting it would make the file grow
// with the square of the number of groups.
func Marshal(m *Machine, indent bool) ([]byte, error) {
	if !indent {
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("encode state machine: %w", err)
		}
		return raw, nil
	}
	states := maps.Clone(m.States)
	lists := map[string][]byte{}
	for name, s := range states {
		t, ok := s.(task)
		if !ok {
			continue
		}
		if g, ok := t.ResultSelector.(*group); ok {
			raw, err := json.Marshal(g)
			if err != nil {
				return nil, fmt.Errorf("encode runOrder groups: %w", err)
			}
			// A placeholder that starts with a NUL character, which no
			// name holds; state names are unique, so is the placeholder.
			mark := "\x00groups of " + name
			t.ResultSelector = mark
			states[name] = t
			quoted, _ := json.Marshal(mark)
			lists[string(quoted)] = raw
		}
	}
	raw, err := json.Marshal(&Machine{Comment: m.Comment, StartAt: m.StartAt, States: states})
	if err != nil {
		return nil, fmt.Errorf("encode state machine: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("indent state machine: %w", err)
	}
	buf.WriteByte('\n')
	out := buf.Bytes()
	for mark, list := range lists {
		out = bytes.Replace(out, []byte(mark), list, 1)
	}
	return out, nil
}
