package compile

import (
	"fmt"
	"strings"
)

// Cost is what one execution of a compiled machine costs on Step Functions
// when every gate lets it through and every action succeeds at its first
// attempt: the longest history a run without retries can have, since a
// failed action ends its stage after its group.
type Cost struct {
	// Events is the length of the execution's history, ExecutionStarted to
	// ExecutionSucceeded; Step Functions fails an execution at 25,000.
	Events int
	// Transitions is the number of states entered, each one billed.
	Transitions int
}

// History events of each kind of state, as Step Functions records them:
// entered and exited, plus for a Task scheduled, started and succeeded (and
// submitted for a .waitForTaskToken one), for a Parallel or Map started and
// succeeded, and for each Map iteration started and succeeded.
const (
	eventsExecution    = 2 // ExecutionStarted, ExecutionSucceeded
	eventsLambdaTask   = 5
	eventsCallbackTask = 6
	eventsChoice       = 2
	eventsFanOut       = 4 // Parallel or Map
	eventsIteration    = 2 // per Map item
)

// maxSteps bounds a walk, so that a machine that loops is an error.
const maxSteps = 1 << 20

// Cost walks the machine along the path of an execution in which every
// gate lets it through and every action succeeds, following the runOrder
// groups that each stage's entry gate writes into the state, and counts the
// history events and state transitions it records.
func (m *Machine) Cost() (Cost, error) {
	w := walker{cost: Cost{Events: eventsExecution}}
	if err := w.walk(m.States, m.StartAt); err != nil {
		return Cost{}, err
	}
	return w.cost, nil
}

type walker struct {
	cost  Cost
	cur   *group // the group the state holds
	steps int
}

// walk runs the states from start until one ends its state list.
func (w *walker) walk(states map[string]any, start string) error {
	for name := start; ; {
		if w.steps++; w.steps > maxSteps {
			return fmt.Errorf("cost: more than %d states entered; the machine loops", maxSteps)
		}
		w.cost.Transitions++
		var next string
		switch s := states[name].(type) {
		case task:
			if s.ResultSelector != nil {
				if g, ok := s.ResultSelector.(*group); ok {
					w.cur = g
				}
			}
			w.cost.Events += eventsLambdaTask
			if strings.HasSuffix(s.Resource, ".waitForTaskToken") {
				w.cost.Events += eventsCallbackTask - eventsLambdaTask
			}
			if s.End {
				return nil
			}
			next = s.Next
		case choice:
			w.cost.Events += eventsChoice
			if s.InputPath == "$.next" {
				if w.cur == nil || w.cur.Next == nil {
					return fmt.Errorf("cost: %s: no next runOrder group in the state", name)
				}
				w.cur = w.cur.Next
			}
			for _, r := range s.Choices {
				ok, err := w.matches(r)
				if err != nil {
					return fmt.Errorf("cost: %s: %w", name, err)
				}
				if ok {
					next = r.Next
					break
				}
			}
			if next == "" {
				return fmt.Errorf("cost: %s: no rule matches runOrder group %+v", name, *w.cur)
			}
		case parallel:
			if w.cur == nil || len(w.cur.Actions) != len(s.Branches) {
				return fmt.Errorf("cost: %s: %d branches for the group in the state", name, len(s.Branches))
			}
			w.cost.Events += eventsFanOut
			for _, b := range s.Branches {
				if err := w.walk(b.States, b.StartAt); err != nil {
					return err
				}
			}
			next = s.Next
		case mapState:
			if w.cur == nil || len(w.cur.Actions) == 0 {
				return fmt.Errorf("cost: %s: no runOrder group in the state", name)
			}
			w.cost.Events += eventsFanOut
			for range w.cur.Actions {
				w.cost.Events += eventsIteration
				if err := w.walk(s.ItemProcessor.States, s.ItemProcessor.StartAt); err != nil {
					return err
				}
			}
			next = s.Next
		case nil:
			return fmt.Errorf("cost: no state %q", name)
		default:
			return fmt.Errorf("cost: %s: a %T state on the way of a succeeding execution", name, s)
		}
		name = next
	}
}

// matches evaluates a routing rule on the path of success: no group halts,
// and the stage and size of the next group pick its state.
func (w *walker) matches(r choiceRule) (bool, error) {
	switch {
	case r.And != nil:
		for _, sub := range r.And {
			if ok, err := w.matches(sub); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	case r.Or != nil:
		for _, sub := range r.Or {
			if ok, err := w.matches(sub); ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	case r.Variable == "$.s" && r.StringEquals != nil:
		return w.cur.Stage == *r.StringEquals, nil
	case r.Variable == "$.h.halt" && r.BooleanEquals != nil:
		return !*r.BooleanEquals, nil
	case r.Variable == "$.k" && r.NumericEquals != nil:
		return w.cur.K == *r.NumericEquals, nil
	case r.Variable == "$.k" && r.NumericGreaterThan != nil:
		return w.cur.K > *r.NumericGreaterThan, nil
	}
	return false, fmt.Errorf("a rule on %q that the walk does not know", r.Variable)
}
