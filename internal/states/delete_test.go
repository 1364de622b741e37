package states_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/states"
)

// parkThenPass parks on a callback task, then passes to a second state:
// the transition a deleted state machine's executions end at.
const parkThenPass = `{
  "StartAt": "Park",
  "States": {
    "Park": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
      "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}}, "Next": "Done"},
    "Done": {"Type": "Pass", "End": true}
  }
}`

// TestDeleteStateMachineWithRunningExecutions deletes a state machine while
// two executions wait on callbacks, across a restart of the engine: the
// state machine is DELETING, refuses what AWS refuses, ends each execution
// at its next transition, and goes with the last one.
func TestDeleteStateMachineWithRunningExecutions(t *testing.T) {
	log := states.NewMemoryLog()
	tk := newTokens()
	reg := states.NewRegistry()
	reg.Register("arn:aws:states:::sqs:sendMessage", tk.handler)
	ctx := context.Background()
	opts := states.Options{Log: log, Handlers: reg}
	eng := openEngine(t, opts)
	sm := createMachine(t, eng, "Doomed", parkThenPass)
	first := start(t, eng, sm, "first", `{}`)
	firstToken := tk.next(t)
	second := start(t, eng, sm, "second", `{}`)
	tk.next(t)
	finished := start(t, eng, createMachine(t, eng, "Other", choiceMachine), "x", `{"fail":true}`)
	wait(t, eng, finished)

	if err := eng.DeleteStateMachine(ctx, sm); err != nil {
		t.Fatal(err)
	}
	eng.Close()
	eng = openEngine(t, opts)

	d, err := eng.DescribeStateMachine(ctx, sm)
	if err != nil || d.Status != "DELETING" {
		t.Fatalf("describe a deleting state machine: %+v, %v", d, err)
	}
	refused := []struct {
		name string
		call func() error
		want *states.APIError
	}{
		{"start an execution", func() error {
			_, err := eng.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: sm, Name: "third"})
			return err
		}, states.ErrStateMachineDeleting},
		{"update", func() error {
			_, err := eng.UpdateStateMachine(ctx, sm, choiceMachine, "")
			return err
		}, states.ErrStateMachineDeleting},
		{"create it again", func() error {
			_, err := eng.CreateStateMachine(ctx, states.CreateStateMachineInput{Name: "Doomed", Definition: parkThenPass})
			return err
		}, states.ErrStateMachineDeleting},
		{"delete it again", func() error { return eng.DeleteStateMachine(ctx, sm) }, nil},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantAPIError(t, err, tt.want)
		})
	}
	if list, err := eng.ListExecutions(ctx, states.ListExecutionsInput{StateMachineArn: sm, StatusFilter: states.StatusRunning}); err != nil || len(list) != 2 {
		t.Fatalf("running executions of the deleting state machine: %v, %v", list, err)
	}

	if err := eng.SendTaskSuccess(ctx, firstToken, `{}`); err != nil {
		t.Fatal(err)
	}
	d1 := wait(t, eng, first)
	if d1.Status != states.StatusFailed || str(d1.Error) != "States.Runtime" || str(d1.Cause) != "State machine Doomed has been deleted." {
		t.Fatalf("first execution %s %s %s", d1.Status, str(d1.Error), str(d1.Cause))
	}
	if d1.RedriveStatus != "NOT_REDRIVABLE" || d1.RedriveStatusReason != "State machine is in DELETING status" {
		t.Errorf("redrive status %s %q", d1.RedriveStatus, d1.RedriveStatusReason)
	}
	_, err = eng.RedriveExecution(ctx, first, "")
	wantAPIError(t, err, states.ErrExecutionNotRedrivable)
	if got := strings.Join(eventTypes(t, eng, first), " "); !strings.HasSuffix(got, "TaskSucceeded TaskStateExited ExecutionFailed") {
		t.Errorf("events %s", got)
	}
	if d, err := eng.DescribeStateMachine(ctx, sm); err != nil || d.Status != "DELETING" {
		t.Fatalf("with one execution left: %+v, %v", d, err)
	}

	if _, err := eng.StopExecution(ctx, second, nil, nil); err != nil {
		t.Fatal(err)
	}
	_, err = eng.DescribeStateMachine(ctx, sm)
	wantAPIError(t, err, states.ErrStateMachineDoesNotExist)
	if _, err := eng.CreateStateMachine(ctx, states.CreateStateMachineInput{Name: "Doomed", Definition: choiceMachine}); err != nil {
		t.Fatalf("create the name again once deleted: %v", err)
	}
	if d, err := eng.DescribeExecution(ctx, finished); err != nil || d.RedriveStatus != "REDRIVABLE" {
		t.Errorf("an execution of another state machine: %+v, %v", d, err)
	}
}
