package sfnapi

import (
	"context"
	"errors"

	"github.com/sluice-ci/sluice/internal/asl"
	"github.com/sluice-ci/sluice/internal/states"
)

// loggingConfiguration and tracingConfiguration are reported as the
// service reports a state machine without logging or X-Ray tracing: the
// engine does neither, so the settings a request carries are not kept.
type loggingConfiguration struct {
	Level                string `json:"level"`
	IncludeExecutionData bool   `json:"includeExecutionData"`
}

type tracingConfiguration struct {
	Enabled bool `json:"enabled"`
}

var (
	loggingOff = loggingConfiguration{Level: "OFF"}
	tracingOff = tracingConfiguration{}
)

// Enum values of the model.
var (
	machineTypes = []string{"STANDARD", "EXPRESS"}
	includedData = []string{"ALL_DATA", "METADATA_ONLY"}
)

// noVersions refuses publish: the engine keeps no state machine versions,
// and a caller that asks for one expects its ARN back.
func noVersions(publish bool) error {
	if publish {
		return exception("ValidationException", "publish: state machine versions are not supported by Sluice's embedded Step Functions engine")
	}
	return nil
}

type createStateMachineInput struct {
	Name       *string `json:"name"`
	Definition *string `json:"definition"`
	RoleArn    *string `json:"roleArn"`
	Type       string  `json:"type"`
	Publish    bool    `json:"publish"`
}

type createStateMachineOutput struct {
	StateMachineArn string     `json:"stateMachineArn"`
	CreationDate    *timestamp `json:"creationDate"`
}

func (s *Server) createStateMachine(ctx context.Context, in *createStateMachineInput) (any, error) {
	for _, m := range []struct {
		name string
		v    *string
	}{{"name", in.Name}, {"definition", in.Definition}, {"roleArn", in.RoleArn}} {
		if err := required(m.name, m.v); err != nil {
			return nil, err
		}
	}
	if err := enum("type", in.Type, machineTypes...); err != nil {
		return nil, err
	}
	if err := noVersions(in.Publish); err != nil {
		return nil, err
	}
	sm, err := s.eng.CreateStateMachine(ctx, states.CreateStateMachineInput{
		Name: *in.Name, Definition: *in.Definition, RoleArn: *in.RoleArn, Type: in.Type,
	})
	if err != nil {
		return nil, err
	}
	return &createStateMachineOutput{StateMachineArn: sm.Arn, CreationDate: stamp(sm.CreationDate)}, nil
}

type updateStateMachineInput struct {
	StateMachineArn *string `json:"stateMachineArn"`
	Definition      *string `json:"definition"`
	RoleArn         *string `json:"roleArn"`
	Publish         bool    `json:"publish"`
}

type updateStateMachineOutput struct {
	UpdateDate *timestamp `json:"updateDate"`
}

func (s *Server) updateStateMachine(ctx context.Context, in *updateStateMachineInput) (any, error) {
	if err := required("stateMachineArn", in.StateMachineArn); err != nil {
		return nil, err
	}
	if in.Definition == nil && in.RoleArn == nil {
		return nil, exception("MissingRequiredParameter", "Either the definition or the roleArn must be specified")
	}
	var def, role string
	if in.Definition != nil {
		if err := required("definition", in.Definition); err != nil {
			return nil, err
		}
		def = *in.Definition
	}
	if in.RoleArn != nil {
		if err := required("roleArn", in.RoleArn); err != nil {
			return nil, err
		}
		role = *in.RoleArn
	}
	if err := noVersions(in.Publish); err != nil {
		return nil, err
	}
	sm, err := s.eng.UpdateStateMachine(ctx, *in.StateMachineArn, def, role)
	if err != nil {
		return nil, err
	}
	return &updateStateMachineOutput{UpdateDate: stamp(sm.UpdateDate)}, nil
}

type describeStateMachineInput struct {
	StateMachineArn *string `json:"stateMachineArn"`
	IncludedData    string  `json:"includedData"`
}

type describeStateMachineOutput struct {
	StateMachineArn      string               `json:"stateMachineArn"`
	Name                 string               `json:"name"`
	Status               string               `json:"status"`
	Definition           string               `json:"definition"`
	RoleArn              string               `json:"roleArn"`
	Type                 string               `json:"type"`
	CreationDate         *timestamp           `json:"creationDate"`
	LoggingConfiguration loggingConfiguration `json:"loggingConfiguration"`
	TracingConfiguration tracingConfiguration `json:"tracingConfiguration"`
}

// definitionView returns a definition as includedData asks: METADATA_ONLY
// replaces it with {}, as the service does.
func definitionView(def, included string) string {
	if included == "METADATA_ONLY" {
		return "{}"
	}
	return def
}

func (s *Server) describeStateMachine(ctx context.Context, in *describeStateMachineInput) (any, error) {
	if err := required("stateMachineArn", in.StateMachineArn); err != nil {
		return nil, err
	}
	if err := enum("includedData", in.IncludedData, includedData...); err != nil {
		return nil, err
	}
	sm, err := s.eng.DescribeStateMachine(ctx, *in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	return &describeStateMachineOutput{
		StateMachineArn: sm.Arn, Name: sm.Name, Status: sm.Status,
		Definition: definitionView(sm.Definition, in.IncludedData), RoleArn: sm.RoleArn, Type: sm.Type,
		CreationDate: stamp(sm.CreationDate), LoggingConfiguration: loggingOff, TracingConfiguration: tracingOff,
	}, nil
}

type listStateMachinesInput struct {
	MaxResults int32   `json:"maxResults"`
	NextToken  *string `json:"nextToken"`
}

type stateMachineListItem struct {
	StateMachineArn string     `json:"stateMachineArn"`
	Name            string     `json:"name"`
	Type            string     `json:"type"`
	CreationDate    *timestamp `json:"creationDate"`
}

type listStateMachinesOutput struct {
	StateMachines []stateMachineListItem `json:"stateMachines"`
	NextToken     *string                `json:"nextToken,omitempty"`
}

func (s *Server) listStateMachines(ctx context.Context, in *listStateMachinesInput) (any, error) {
	p := pager{op: "ListStateMachines"}
	after, size, err := p.start(in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	page, err := s.eng.ListStateMachinesPage(ctx, states.ListStateMachinesInput{After: after, MaxResults: size})
	if err != nil {
		return nil, err
	}
	out := &listStateMachinesOutput{StateMachines: make([]stateMachineListItem, len(page.StateMachines)), NextToken: p.next(page.Next)}
	for i, m := range page.StateMachines {
		out.StateMachines[i] = stateMachineListItem{StateMachineArn: m.Arn, Name: m.Name, Type: m.Type, CreationDate: stamp(m.CreationDate)}
	}
	return out, nil
}

type deleteStateMachineInput struct {
	StateMachineArn *string `json:"stateMachineArn"`
}

func (s *Server) deleteStateMachine(ctx context.Context, in *deleteStateMachineInput) (any, error) {
	if err := required("stateMachineArn", in.StateMachineArn); err != nil {
		return nil, err
	}
	if err := s.eng.DeleteStateMachine(ctx, *in.StateMachineArn); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type validateInput struct {
	Definition *string `json:"definition"`
	Type       string  `json:"type"`
	Severity   string  `json:"severity"`
	MaxResults int32   `json:"maxResults"`
}

type diagnostic struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
}

type validateOutput struct {
	Result      string       `json:"result"`
	Diagnostics []diagnostic `json:"diagnostics"`
	Truncated   bool         `json:"truncated"`
}

// maxDiagnostics is the largest maxResults of
// ValidateStateMachineDefinition.
const maxDiagnostics = 100

// validateStateMachineDefinition runs the checks of CreateStateMachine
// (the asl package's) and reports each problem as an ERROR diagnostic; the
// engine raises no warnings, so both severities list the same.
func (s *Server) validateStateMachineDefinition(_ context.Context, in *validateInput) (any, error) {
	if err := required("definition", in.Definition); err != nil {
		return nil, err
	}
	if err := enum("type", in.Type, machineTypes...); err != nil {
		return nil, err
	}
	if err := enum("severity", in.Severity, "ERROR", "WARNING"); err != nil {
		return nil, err
	}
	size, err := pageSize("maxResults", in.MaxResults, maxDiagnostics)
	if err != nil {
		return nil, err
	}
	out := &validateOutput{Result: "OK", Diagnostics: []diagnostic{}}
	_, err = asl.Parse([]byte(*in.Definition))
	var invalid *asl.InvalidDefinition
	switch {
	case errors.As(err, &invalid):
		out.Result = "FAIL"
		for _, p := range invalid.Problems {
			if len(out.Diagnostics) == size {
				out.Truncated = true
				break
			}
			out.Diagnostics = append(out.Diagnostics, diagnostic{Severity: "ERROR", Code: p.Code, Message: p.Message, Location: p.Where})
		}
	case err != nil:
		return nil, err
	}
	return out, nil
}

type describeForExecutionOutput struct {
	StateMachineArn      string               `json:"stateMachineArn"`
	Name                 string               `json:"name"`
	Definition           string               `json:"definition"`
	RoleArn              string               `json:"roleArn"`
	UpdateDate           *timestamp           `json:"updateDate"`
	LoggingConfiguration loggingConfiguration `json:"loggingConfiguration"`
	TracingConfiguration tracingConfiguration `json:"tracingConfiguration"`
}

// describeStateMachineForExecution describes the state machine revision
// an execution runs: its definition and role, and the update date it had
// when the execution started.
func (s *Server) describeStateMachineForExecution(ctx context.Context, in *executionInput) (any, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	sm, err := s.eng.DescribeStateMachineForExecution(ctx, *in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	return &describeForExecutionOutput{
		StateMachineArn: sm.Arn, Name: sm.Name, Definition: definitionView(sm.Definition, in.IncludedData), RoleArn: sm.RoleArn,
		UpdateDate: stamp(sm.UpdateDate), LoggingConfiguration: loggingOff, TracingConfiguration: tracingOff,
	}, nil
}
