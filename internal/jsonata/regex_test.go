package jsonata

import (
	"errors"
	"testing"
	"time"
)

// TestRegexWorkStopsAtTheEvaluationLimit runs expressions whose time goes
// into regular expression matches: one catastrophically backtracking match
// (kept from the fuzz corpus), and loops of many quick matches. With an
// evaluation limit far below the one-second limit of a match, each must end
// with the evaluation's own timeout.
func TestRegexWorkStopsAtTheEvaluationLimit(t *testing.T) {
	long := `$pad("", 3000000, "ab")`
	tests := []struct {
		name string
		expr string
	}{
		{"one backtracking match", `$match('aaaaaaaaaaaaaa)aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', /(a+)+$/)`},
		{"backtracking matches in a loop", `$map([1..40], function($v){ $contains('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', /(a+)+$/) })`},
		{"many matches replaced", `$replace(` + long + `, /a/, "x")`},
		{"many matches listed", `$count($match(` + long + `, /a/))`},
		{"many matches split", `$count($split(` + long + `, /a/))`},
	}
	limits := Limits{Timeout: 50 * time.Millisecond}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := Compile(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = x.EvalLimits(nil, nil, limits)
			var e *Error
			if !errors.As(err, &e) || e.Code != "U1002" || e.Value != limits.Timeout.String() {
				t.Fatalf("error %v, want U1002 for the evaluation limit of %s", err, limits.Timeout)
			}
		})
	}
}
