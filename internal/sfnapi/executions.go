package sfnapi

import (
	"context"
	"strconv"

	"github.com/sluice-ci/sluice/internal/states"
)

var (
	executionStatuses = []string{states.StatusRunning, states.StatusSucceeded, states.StatusFailed,
		states.StatusTimedOut, states.StatusAborted, "PENDING_REDRIVE"}
	redriveFilters = []string{"REDRIVEN", "NOT_REDRIVEN"}
)

type startExecutionInput struct {
	StateMachineArn *string `json:"stateMachineArn"`
	Name            *string `json:"name"`
	Input           *string `json:"input"`
	TraceHeader     *string `json:"traceHeader"`
}

type startExecutionOutput struct {
	ExecutionArn string     `json:"executionArn"`
	StartDate    *timestamp `json:"startDate"`
}

// maxNameLen is the longest name of a state machine or execution.
const maxNameLen = 80

func (s *Server) startExecution(ctx context.Context, in *startExecutionInput) (any, error) {
	if err := required("stateMachineArn", in.StateMachineArn); err != nil {
		return nil, err
	}
	if err := maxLength("name", in.Name, maxNameLen); err != nil {
		return nil, err
	}
	if err := maxLength("traceHeader", in.TraceHeader, 256); err != nil {
		return nil, err
	}
	start := states.StartExecutionInput{StateMachineArn: *in.StateMachineArn}
	if in.Name != nil {
		start.Name = *in.Name
	}
	if in.Input != nil {
		start.Input = *in.Input
	}
	out, err := s.eng.StartExecution(ctx, start)
	if err != nil {
		return nil, err
	}
	return &startExecutionOutput{ExecutionArn: out.ExecutionArn, StartDate: stamp(out.StartDate)}, nil
}

type stopExecutionInput struct {
	ExecutionArn *string `json:"executionArn"`
	Error        *string `json:"error"`
	Cause        *string `json:"cause"`
}

type stopExecutionOutput struct {
	StopDate *timestamp `json:"stopDate"`
}

func (s *Server) stopExecution(ctx context.Context, in *stopExecutionInput) (any, error) {
	if err := required("executionArn", in.ExecutionArn); err != nil {
		return nil, err
	}
	if err := errorAndCause(in.Error, in.Cause); err != nil {
		return nil, err
	}
	at, err := s.eng.StopExecution(ctx, *in.ExecutionArn, in.Error, in.Cause)
	if err != nil {
		return nil, err
	}
	return &stopExecutionOutput{StopDate: stamp(at)}, nil
}

// executionInput is the input of DescribeExecution and
// DescribeStateMachineForExecution.
type executionInput struct {
	ExecutionArn *string `json:"executionArn"`
	IncludedData string  `json:"includedData"`
}

// check checks the members of an executionInput.
func (in *executionInput) check() error {
	if err := required("executionArn", in.ExecutionArn); err != nil {
		return err
	}
	return enum("includedData", in.IncludedData, includedData...)
}

// dataDetails tells whether a DescribeExecution carries input or output.
type dataDetails struct {
	Included bool `json:"included"`
}

type describeExecutionOutput struct {
	ExecutionArn        string       `json:"executionArn"`
	StateMachineArn     string       `json:"stateMachineArn"`
	Name                string       `json:"name"`
	Status              string       `json:"status"`
	StartDate           *timestamp   `json:"startDate"`
	StopDate            *timestamp   `json:"stopDate,omitempty"`
	Input               *string      `json:"input,omitempty"`
	InputDetails        *dataDetails `json:"inputDetails,omitempty"`
	Output              *string      `json:"output,omitempty"`
	OutputDetails       *dataDetails `json:"outputDetails,omitempty"`
	Error               *string      `json:"error,omitempty"`
	Cause               *string      `json:"cause,omitempty"`
	RedriveCount        int          `json:"redriveCount"`
	RedriveDate         *timestamp   `json:"redriveDate,omitempty"`
	RedriveStatus       string       `json:"redriveStatus,omitempty"`
	RedriveStatusReason string       `json:"redriveStatusReason,omitempty"`
}

func (s *Server) describeExecution(ctx context.Context, in *executionInput) (any, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	d, err := s.eng.DescribeExecution(ctx, *in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	out := &describeExecutionOutput{
		ExecutionArn: d.ExecutionArn, StateMachineArn: d.StateMachineArn, Name: d.Name, Status: d.Status,
		StartDate: stamp(d.StartDate), StopDate: stamp(d.StopDate), Error: d.Error, Cause: d.Cause,
		RedriveCount: d.RedriveCount, RedriveDate: stamp(d.RedriveDate),
		RedriveStatus: d.RedriveStatus, RedriveStatusReason: d.RedriveStatusReason,
	}
	if in.IncludedData != "METADATA_ONLY" {
		out.Input, out.InputDetails = &d.Input, &dataDetails{Included: true}
		if d.Output != nil {
			out.Output, out.OutputDetails = d.Output, &dataDetails{Included: true}
		}
	}
	return out, nil
}

type listExecutionsInput struct {
	StateMachineArn *string `json:"stateMachineArn"`
	MapRunArn       *string `json:"mapRunArn"`
	StatusFilter    string  `json:"statusFilter"`
	RedriveFilter   string  `json:"redriveFilter"`
	MaxResults      int32   `json:"maxResults"`
	NextToken       *string `json:"nextToken"`
}

type executionListItem struct {
	ExecutionArn    string     `json:"executionArn"`
	StateMachineArn string     `json:"stateMachineArn"`
	Name            string     `json:"name"`
	Status          string     `json:"status"`
	StartDate       *timestamp `json:"startDate"`
	StopDate        *timestamp `json:"stopDate,omitempty"`
	RedriveCount    int        `json:"redriveCount"`
	RedriveDate     *timestamp `json:"redriveDate,omitempty"`
}

type listExecutionsOutput struct {
	Executions []executionListItem `json:"executions"`
	NextToken  *string             `json:"nextToken,omitempty"`
}

func (s *Server) listExecutions(ctx context.Context, in *listExecutionsInput) (any, error) {
	if in.MapRunArn != nil {
		return nil, exception("ValidationException", "mapRunArn: Map Runs are not listed by Sluice's embedded Step Functions engine; list by stateMachineArn")
	}
	if err := required("stateMachineArn", in.StateMachineArn); err != nil {
		return nil, err
	}
	if err := enum("statusFilter", in.StatusFilter, executionStatuses...); err != nil {
		return nil, err
	}
	if err := enum("redriveFilter", in.RedriveFilter, redriveFilters...); err != nil {
		return nil, err
	}
	p := pager{op: "ListExecutions", scope: *in.StateMachineArn + "|" + in.StatusFilter + "|" + in.RedriveFilter}
	after, size, err := p.start(in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	page, err := s.eng.ListExecutionsPage(ctx, states.ListExecutionsInput{
		StateMachineArn: *in.StateMachineArn, StatusFilter: in.StatusFilter, RedriveFilter: in.RedriveFilter,
		After: after, MaxResults: size,
	})
	if err != nil {
		return nil, err
	}
	out := &listExecutionsOutput{Executions: make([]executionListItem, len(page.Executions)), NextToken: p.next(page.Next)}
	for i, d := range page.Executions {
		out.Executions[i] = executionListItem{
			ExecutionArn: d.ExecutionArn, StateMachineArn: d.StateMachineArn, Name: d.Name, Status: d.Status,
			StartDate: stamp(d.StartDate), StopDate: stamp(d.StopDate),
			RedriveCount: d.RedriveCount, RedriveDate: stamp(d.RedriveDate),
		}
	}
	return out, nil
}

type getExecutionHistoryInput struct {
	ExecutionArn         *string `json:"executionArn"`
	MaxResults           int32   `json:"maxResults"`
	ReverseOrder         bool    `json:"reverseOrder"`
	NextToken            *string `json:"nextToken"`
	IncludeExecutionData *bool   `json:"includeExecutionData"`
}

type getExecutionHistoryOutput struct {
	// Events marshal themselves in the service's HistoryEvent shape.
	Events    []*states.Event `json:"events"`
	NextToken *string         `json:"nextToken,omitempty"`
}

func (s *Server) getExecutionHistory(ctx context.Context, in *getExecutionHistoryInput) (any, error) {
	if err := required("executionArn", in.ExecutionArn); err != nil {
		return nil, err
	}
	order := "forward"
	if in.ReverseOrder {
		order = "reverse"
	}
	p := pager{op: "GetExecutionHistory", scope: *in.ExecutionArn + "|" + order}
	cursor, size, err := p.start(in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	var after int64
	if cursor != "" {
		if after, err = strconv.ParseInt(cursor, 10, 64); err != nil || after <= 0 {
			return nil, exception("InvalidToken", "Invalid Token: '%s' is not a nextToken of this GetExecutionHistory request", *in.NextToken)
		}
	}
	page, err := s.eng.GetExecutionHistoryPage(ctx, *in.ExecutionArn, states.HistoryQuery{After: after, Limit: size, Reverse: in.ReverseOrder})
	if err != nil {
		return nil, err
	}
	events := page.Events
	var next *string
	if page.Next > 0 {
		next = p.next(strconv.FormatInt(page.Next, 10))
	}
	if in.IncludeExecutionData != nil && !*in.IncludeExecutionData {
		for i, e := range events {
			c := *e
			c.Detail.HasInput, c.Detail.HasOutput = false, false
			events[i] = &c
		}
	}
	return &getExecutionHistoryOutput{Events: events, NextToken: next}, nil
}

type redriveExecutionInput struct {
	ExecutionArn *string `json:"executionArn"`
	ClientToken  *string `json:"clientToken"`
}

type redriveExecutionOutput struct {
	RedriveDate *timestamp `json:"redriveDate"`
}

// maxClientTokenLen is the longest clientToken of RedriveExecution.
const maxClientTokenLen = 64

// redriveExecution redrives an execution. The SDKs fill clientToken in and
// send it again when they retry; the engine answers a retry of a redrive
// that took effect with its date instead of ExecutionNotRedrivable.
func (s *Server) redriveExecution(ctx context.Context, in *redriveExecutionInput) (any, error) {
	if err := required("executionArn", in.ExecutionArn); err != nil {
		return nil, err
	}
	if err := maxLength("clientToken", in.ClientToken, maxClientTokenLen); err != nil {
		return nil, err
	}
	token := ""
	if in.ClientToken != nil {
		token = *in.ClientToken
	}
	at, err := s.eng.RedriveExecution(ctx, *in.ExecutionArn, token)
	if err != nil {
		return nil, err
	}
	return &redriveExecutionOutput{RedriveDate: stamp(at)}, nil
}
