package states

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Event is one history event of an execution. Its exported fields other
// than the engine's bookkeeping (Scope, Next, Token, Delay, Definition) are
// what GetExecutionHistory returns; MarshalJSON writes that shape.
type Event struct {
	Execution  string // the execution ARN
	ID         int64
	PreviousID int64
	Time       time.Time
	Type       string
	Detail     Detail

	// Scope names the branch or iteration the event belongs to ("" at the
	// top level); the engine replays each scope in order on recovery.
	Scope string
	// Next is the state a StateExited event transitions to.
	Next string
	// Token is the task token of a TaskScheduled event.
	Token string
	// Delay is the retry back-off decided with a failure event.
	Delay time.Duration
	// Definition is the state machine definition an ExecutionStarted or
	// ExecutionRedriven event runs.
	Definition string
	// Machine is the state machine ARN of an ExecutionStarted event.
	Machine string
	// MachineUpdated is the update date the state machine had when an
	// ExecutionStarted event started it.
	MachineUpdated time.Time
	// ClientToken is the client token of the RedriveExecution call that an
	// ExecutionRedriven event records.
	ClientToken string
}

// Detail holds the detail object of an event; only the fields of its type
// are set. Input, Output and Parameters are JSON values, written as JSON
// text as Step Functions does.
type Detail struct {
	Name               string
	Index              *int
	Length             *int
	Input              any
	HasInput           bool
	Output             any
	HasOutput          bool
	Parameters         any
	Error              *string
	Cause              *string
	Resource           string
	ResourceType       string
	Region             string
	RoleArn            string
	TimeoutInSeconds   *int64
	HeartbeatInSeconds *int64
	Assigned           map[string]any
	MapRunArn          string
	Location           string
	State              string
	RedriveCount       *int
}

// Event types, as Step Functions names them.
const (
	ExecutionStarted   = "ExecutionStarted"
	ExecutionSucceeded = "ExecutionSucceeded"
	ExecutionFailed    = "ExecutionFailed"
	ExecutionAborted   = "ExecutionAborted"
	ExecutionTimedOut  = "ExecutionTimedOut"
	ExecutionRedriven  = "ExecutionRedriven"

	TaskScheduled = "TaskScheduled"
	TaskStarted   = "TaskStarted"
	TaskSubmitted = "TaskSubmitted"
	TaskSucceeded = "TaskSucceeded"
	TaskFailed    = "TaskFailed"
	TaskTimedOut  = "TaskTimedOut"

	LambdaFunctionScheduled = "LambdaFunctionScheduled"
	LambdaFunctionStarted   = "LambdaFunctionStarted"
	LambdaFunctionSucceeded = "LambdaFunctionSucceeded"
	LambdaFunctionFailed    = "LambdaFunctionFailed"
	LambdaFunctionTimedOut  = "LambdaFunctionTimedOut"

	MapStateStarted       = "MapStateStarted"
	MapStateSucceeded     = "MapStateSucceeded"
	MapStateFailed        = "MapStateFailed"
	MapStateAborted       = "MapStateAborted"
	MapIterationStarted   = "MapIterationStarted"
	MapIterationSucceeded = "MapIterationSucceeded"
	MapIterationFailed    = "MapIterationFailed"
	MapIterationAborted   = "MapIterationAborted"
	MapRunStarted         = "MapRunStarted"
	MapRunSucceeded       = "MapRunSucceeded"
	MapRunFailed          = "MapRunFailed"
	MapRunAborted         = "MapRunAborted"

	ParallelStateStarted = "ParallelStateStarted"
	ParallelStateFailed  = "ParallelStateFailed"
	ParallelStateAborted = "ParallelStateAborted"

	EvaluationFailed = "EvaluationFailed"
)

// Suffixes of the per-state event types (TaskStateEntered, PassStateExited, ...).
const (
	entered = "StateEntered"
	exited  = "StateExited"
	aborted = "StateAborted"
)

// IsTerminal reports whether an event type closes an execution.
func IsTerminal(typ string) bool {
	switch typ {
	case ExecutionSucceeded, ExecutionFailed, ExecutionAborted, ExecutionTimedOut:
		return true
	}
	return false
}

// detailKey returns the name of the detail object of an event type in
// GetExecutionHistory, or "" when the type has none.
func detailKey(typ string) string {
	switch {
	case strings.HasSuffix(typ, entered):
		return "stateEnteredEventDetails"
	case strings.HasSuffix(typ, exited):
		return "stateExitedEventDetails"
	case strings.HasSuffix(typ, aborted), typ == LambdaFunctionStarted,
		strings.HasPrefix(typ, "ParallelState"), typ == MapStateSucceeded,
		typ == MapStateFailed, typ == MapStateAborted, typ == MapRunSucceeded:
		return ""
	}
	return strings.ToLower(typ[:1]) + typ[1:] + "EventDetails"
}

// MarshalJSON writes the event as GetExecutionHistory returns it.
func (e *Event) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"timestamp":`)
	b.WriteString(strconv.FormatFloat(float64(e.Time.UnixMilli())/1000, 'f', -1, 64))
	b.WriteString(`,"type":`)
	b.Write(marshal(e.Type))
	fmt.Fprintf(&b, `,"id":%d`, e.ID)
	if e.PreviousID > 0 {
		fmt.Fprintf(&b, `,"previousEventId":%d`, e.PreviousID)
	}
	if key := detailKey(e.Type); key != "" {
		b.WriteString(`,"`)
		b.WriteString(key)
		b.WriteString(`":`)
		e.writeDetail(&b)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type fieldWriter struct {
	b     *bytes.Buffer
	first bool
}

func (w *fieldWriter) raw(key string, value []byte) {
	if !w.first {
		w.b.WriteByte(',')
	}
	w.first = false
	w.b.WriteByte('"')
	w.b.WriteString(key)
	w.b.WriteString(`":`)
	w.b.Write(value)
}

func (w *fieldWriter) str(key, value string) { w.raw(key, marshal(value)) }

// optStr writes a string field unless it is empty.
func (w *fieldWriter) optStr(key, value string) {
	if value != "" {
		w.str(key, value)
	}
}

// doc writes a JSON value as JSON text, with its truncation details.
func (w *fieldWriter) doc(key string, value any) {
	w.str(key, marshalString(value))
	w.raw(key+"Details", []byte(`{"truncated":false}`))
}

func (e *Event) writeDetail(b *bytes.Buffer) {
	d := &e.Detail
	w := &fieldWriter{b: b, first: true}
	b.WriteByte('{')
	switch {
	case strings.HasSuffix(e.Type, entered):
		w.str("name", d.Name)
		if d.HasInput {
			w.doc("input", d.Input)
		}
	case strings.HasSuffix(e.Type, exited):
		w.str("name", d.Name)
		if d.HasOutput {
			w.doc("output", d.Output)
		}
		if len(d.Assigned) > 0 {
			vars := make(map[string]string, len(d.Assigned))
			for k, v := range d.Assigned {
				vars[k] = marshalString(v)
			}
			w.raw("assignedVariables", marshal(vars))
			w.raw("assignedVariablesDetails", []byte(`{"truncated":false}`))
		}
	default:
		w.optStr("resourceType", d.ResourceType)
		w.optStr("resource", d.Resource)
		w.optStr("region", d.Region)
		if e.Type == TaskScheduled {
			w.str("parameters", marshalString(d.Parameters))
		}
		w.optStr("name", d.Name)
		if d.Index != nil {
			w.raw("index", []byte(strconv.Itoa(*d.Index)))
		}
		if d.Length != nil {
			w.raw("length", []byte(strconv.Itoa(*d.Length)))
		}
		if d.HasInput {
			w.doc("input", d.Input)
		}
		if d.HasOutput {
			w.doc("output", d.Output)
		}
		w.optStr("roleArn", d.RoleArn)
		if d.TimeoutInSeconds != nil {
			w.raw("timeoutInSeconds", []byte(strconv.FormatInt(*d.TimeoutInSeconds, 10)))
		}
		if d.HeartbeatInSeconds != nil {
			w.raw("heartbeatInSeconds", []byte(strconv.FormatInt(*d.HeartbeatInSeconds, 10)))
		}
		if d.Error != nil {
			w.str("error", *d.Error)
		}
		if d.Cause != nil {
			w.str("cause", *d.Cause)
		}
		w.optStr("mapRunArn", d.MapRunArn)
		w.optStr("location", d.Location)
		w.optStr("state", d.State)
		if d.RedriveCount != nil {
			w.raw("redriveCount", []byte(strconv.Itoa(*d.RedriveCount)))
		}
	}
	b.WriteByte('}')
}

// wireEvent is the stored form of an event: every field, JSON values as
// JSON text.
type wireEvent struct {
	Execution  string                     `json:"x"`
	ID         int64                      `json:"i"`
	PreviousID int64                      `json:"p,omitempty"`
	Time       int64                      `json:"t"`
	Type       string                     `json:"y"`
	Scope      string                     `json:"s,omitempty"`
	Next       string                     `json:"n,omitempty"`
	Token      string                     `json:"k,omitempty"`
	Delay      int64                      `json:"d,omitempty"`
	Definition string                     `json:"def,omitempty"`
	Machine    string                     `json:"m,omitempty"`
	MachineUpd int64                      `json:"mu,omitempty"`
	Client     string                     `json:"ct,omitempty"`
	Name       string                     `json:"name,omitempty"`
	Index      *int                       `json:"index,omitempty"`
	Length     *int                       `json:"length,omitempty"`
	Input      json.RawMessage            `json:"input,omitempty"`
	Output     json.RawMessage            `json:"output,omitempty"`
	Parameters json.RawMessage            `json:"params,omitempty"`
	Error      *string                    `json:"error,omitempty"`
	Cause      *string                    `json:"cause,omitempty"`
	Resource   string                     `json:"res,omitempty"`
	ResType    string                     `json:"rtype,omitempty"`
	Region     string                     `json:"region,omitempty"`
	RoleArn    string                     `json:"role,omitempty"`
	Timeout    *int64                     `json:"timeout,omitempty"`
	Heartbeat  *int64                     `json:"heartbeat,omitempty"`
	Assigned   map[string]json.RawMessage `json:"vars,omitempty"`
	MapRunArn  string                     `json:"maprun,omitempty"`
	Location   string                     `json:"loc,omitempty"`
	State      string                     `json:"state,omitempty"`
	Redrive    *int                       `json:"redrive,omitempty"`
}

// Encode returns the stored form of the event, from which DecodeEvent
// rebuilds it exactly.
func (e *Event) Encode() []byte {
	d := &e.Detail
	w := wireEvent{
		Execution: e.Execution, ID: e.ID, PreviousID: e.PreviousID, Time: e.Time.UnixNano(),
		Type: e.Type, Scope: e.Scope, Next: e.Next, Token: e.Token, Delay: int64(e.Delay),
		Definition: e.Definition, Machine: e.Machine, Client: e.ClientToken,
		Name: d.Name, Index: d.Index, Length: d.Length, Error: d.Error, Cause: d.Cause,
		Resource: d.Resource, ResType: d.ResourceType, Region: d.Region, RoleArn: d.RoleArn,
		Timeout: d.TimeoutInSeconds, Heartbeat: d.HeartbeatInSeconds, MapRunArn: d.MapRunArn,
		Location: d.Location, State: d.State, Redrive: d.RedriveCount,
	}
	if !e.MachineUpdated.IsZero() {
		w.MachineUpd = e.MachineUpdated.UnixNano()
	}
	if d.HasInput {
		w.Input = marshal(d.Input)
	}
	if d.HasOutput {
		w.Output = marshal(d.Output)
	}
	if d.Parameters != nil {
		w.Parameters = marshal(d.Parameters)
	}
	if len(d.Assigned) > 0 {
		w.Assigned = make(map[string]json.RawMessage, len(d.Assigned))
		for k, v := range d.Assigned {
			w.Assigned[k] = marshal(v)
		}
	}
	return marshal(&w)
}

// DecodeEvent rebuilds an event from its stored form.
func DecodeEvent(data []byte) (*Event, error) {
	var w wireEvent
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	e := &Event{
		Execution: w.Execution, ID: w.ID, PreviousID: w.PreviousID, Time: time.Unix(0, w.Time).UTC(),
		Type: w.Type, Scope: w.Scope, Next: w.Next, Token: w.Token, Delay: time.Duration(w.Delay),
		Definition: w.Definition, Machine: w.Machine, ClientToken: w.Client,
		Detail: Detail{
			Name: w.Name, Index: w.Index, Length: w.Length, Error: w.Error, Cause: w.Cause,
			Resource: w.Resource, ResourceType: w.ResType, Region: w.Region, RoleArn: w.RoleArn,
			TimeoutInSeconds: w.Timeout, HeartbeatInSeconds: w.Heartbeat, MapRunArn: w.MapRunArn,
			Location: w.Location, State: w.State, RedriveCount: w.Redrive,
		},
	}
	if w.MachineUpd != 0 {
		e.MachineUpdated = time.Unix(0, w.MachineUpd).UTC()
	}
	var err error
	if w.Input != nil {
		e.Detail.HasInput = true
		if e.Detail.Input, err = decode(w.Input); err != nil {
			return nil, fmt.Errorf("decode event input: %w", err)
		}
	}
	if w.Output != nil {
		e.Detail.HasOutput = true
		if e.Detail.Output, err = decode(w.Output); err != nil {
			return nil, fmt.Errorf("decode event output: %w", err)
		}
	}
	if w.Parameters != nil {
		if e.Detail.Parameters, err = decode(w.Parameters); err != nil {
			return nil, fmt.Errorf("decode event parameters: %w", err)
		}
	}
	if len(w.Assigned) > 0 {
		e.Detail.Assigned = make(map[string]any, len(w.Assigned))
		for k, raw := range w.Assigned {
			if e.Detail.Assigned[k], err = decode(raw); err != nil {
				return nil, fmt.Errorf("decode event variable %s: %w", k, err)
			}
		}
	}
	return e, nil
}
