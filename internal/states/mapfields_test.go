package states_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/states"
)

// TestMapFieldErrorsAreCaught evaluates each number field of a JSONata Map
// state to a value that is not a number: the state fails with
// States.QueryEvaluationError naming the field, which its Catch takes like
// any error it raises.
func TestMapFieldErrorsAreCaught(t *testing.T) {
	eng := newEngine(t, nil, nil)
	for i, field := range []string{"MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage"} {
		t.Run(field, func(t *testing.T) {
			sm := createMachine(t, eng, fmt.Sprintf("Fields%d", i), fmt.Sprintf(`{"QueryLanguage": "JSONata", "StartAt": "Each", "States": {
			  "Each": {"Type": "Map", "Items": [1, 2], %q: "{%% 'many' %%}",
			    "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
			    "Catch": [{"ErrorEquals": ["States.ALL"], "Output": "{%% $states.errorOutput %%}", "Next": "Caught"}], "End": true},
			  "Caught": {"Type": "Pass", "End": true}}}`, field))
			d := wait(t, eng, start(t, eng, sm, "x", `{}`))
			var out struct{ Error, Cause string }
			if d.Status != states.StatusSucceeded || json.Unmarshal([]byte(str(d.Output)), &out) != nil || out.Error != "States.QueryEvaluationError" ||
				!strings.Contains(out.Cause, "The "+field+" field must evaluate to a valid") {
				t.Fatalf("execution %s output %s error %s %s, want the error caught", d.Status, str(d.Output), str(d.Error), str(d.Cause))
			}
		})
	}
}
