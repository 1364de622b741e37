package sfnapi

import "context"

type sendTaskSuccessInput struct {
	TaskToken *string `json:"taskToken"`
	Output    *string `json:"output"`
}

type sendTaskFailureInput struct {
	TaskToken *string `json:"taskToken"`
	Error     *string `json:"error"`
	Cause     *string `json:"cause"`
}

type sendTaskHeartbeatInput struct {
	TaskToken *string `json:"taskToken"`
}

// checkToken checks the taskToken member; whether the engine knows the
// token is the engine's to say (InvalidToken, TaskDoesNotExist,
// TaskTimedOut).
func checkToken(token *string) error {
	if err := required("taskToken", token); err != nil {
		return err
	}
	return maxLength("taskToken", token, maxTokenLen)
}

func (s *Server) sendTaskSuccess(ctx context.Context, in *sendTaskSuccessInput) (any, error) {
	if err := checkToken(in.TaskToken); err != nil {
		return nil, err
	}
	if err := required("output", in.Output); err != nil {
		return nil, err
	}
	if err := s.eng.SendTaskSuccess(ctx, *in.TaskToken, *in.Output); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) sendTaskFailure(ctx context.Context, in *sendTaskFailureInput) (any, error) {
	if err := checkToken(in.TaskToken); err != nil {
		return nil, err
	}
	if err := errorAndCause(in.Error, in.Cause); err != nil {
		return nil, err
	}
	if err := s.eng.SendTaskFailure(ctx, *in.TaskToken, in.Error, in.Cause); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) sendTaskHeartbeat(ctx context.Context, in *sendTaskHeartbeatInput) (any, error) {
	if err := checkToken(in.TaskToken); err != nil {
		return nil, err
	}
	if err := s.eng.SendTaskHeartbeat(ctx, *in.TaskToken); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
