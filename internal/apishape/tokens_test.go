package apishape

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/sluice-ci/sluice/internal/execution"
)

// TestForeignTokens gives the listings next tokens they did not give: of
// another listing, pipeline or filter, made up with a valid encoding, or
// naming the end of the list. Each is InvalidNextTokenException, never a
// page; the tokens a listing gives are taken, and the last page gives none.
func TestForeignTokens(t *testing.T) {
	v := seed(t)
	ctx := context.Background()
	lpe := func(in ListPipelineExecutionsInput) (string, error) {
		in.PipelineName = "release"
		out, err := v.ListPipelineExecutions(ctx, in)
		if err != nil {
			return "", err
		}
		return out.NextToken, nil
	}
	lae := func(in ListActionExecutionsInput) (string, error) {
		in.PipelineName = "release"
		out, err := v.ListActionExecutions(ctx, in)
		if err != nil {
			return "", err
		}
		return out.NextToken, nil
	}
	execTok, err := lpe(ListPipelineExecutionsInput{MaxResults: 1})
	if err != nil || execTok == "" {
		t.Fatalf("first page of executions: token %q, %v", execTok, err)
	}
	actTok, err := lae(ListActionExecutionsInput{MaxResults: 1, Filter: &ActionExecutionFilter{PipelineExecutionID: "e3"}})
	if err != nil || actTok == "" {
		t.Fatalf("first page of actions: token %q, %v", actTok, err)
	}
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	succeeded := &PipelineExecutionFilter{SucceededInStage: &SucceededInStageFilter{StageName: "Build"}}
	tests := []struct {
		name string
		call func() (string, error)
		ok   bool
	}{
		{"executions: the token given", func() (string, error) { return lpe(ListPipelineExecutionsInput{MaxResults: 1, NextToken: execTok}) }, true},
		{"executions: a token of ListActionExecutions", func() (string, error) { return lpe(ListPipelineExecutionsInput{NextToken: actTok}) }, false},
		{"executions: a token of another filter", func() (string, error) {
			return lpe(ListPipelineExecutionsInput{NextToken: execTok, Filter: succeeded})
		}, false},
		{"executions: a token of another pipeline", func() (string, error) {
			return lpe(ListPipelineExecutionsInput{NextToken: encodeToken("ListPipelineExecutions", scope("other", ""), "start#00000000000000000001#e1")})
		}, false},
		{"executions: a made-up position", func() (string, error) {
			return lpe(ListPipelineExecutionsInput{NextToken: encodeToken("ListPipelineExecutions", scope("release", ""), "start#99999999999999999999#e9")})
		}, false},
		{"executions: a key that is no position", func() (string, error) {
			return lpe(ListPipelineExecutionsInput{NextToken: encodeToken("ListPipelineExecutions", scope("release", ""), "exec#e1")})
		}, false},
		{"executions: base64 of anything", func() (string, error) { return lpe(ListPipelineExecutionsInput{NextToken: raw("start#1")}) }, false},
		{"actions: the token given", func() (string, error) {
			return lae(ListActionExecutionsInput{MaxResults: 1, NextToken: actTok, Filter: &ActionExecutionFilter{PipelineExecutionID: "e3"}})
		}, true},
		{"actions: a token of another execution", func() (string, error) {
			return lae(ListActionExecutionsInput{NextToken: actTok, Filter: &ActionExecutionFilter{PipelineExecutionID: "e1"}})
		}, false},
		{"actions: a token of every execution's listing", func() (string, error) { return lae(ListActionExecutionsInput{NextToken: actTok}) }, false},
		{"actions: a made-up action execution", func() (string, error) {
			return lae(ListActionExecutionsInput{NextToken: encodeToken("ListActionExecutions", scope("release", "", "false"), "00000000-0000-4000-8000-999999999999")})
		}, false},
		{"actions: the last action execution", func() (string, error) {
			out, _ := v.ListActionExecutions(ctx, ListActionExecutionsInput{PipelineName: "release"})
			last := out.ActionExecutionDetails[len(out.ActionExecutionDetails)-1].ActionExecutionID
			return lae(ListActionExecutionsInput{NextToken: encodeToken("ListActionExecutions", scope("release", "", "false"), last)})
		}, false},
		{"actions: an index, as tokens once were", func() (string, error) { return lae(ListActionExecutionsInput{NextToken: raw("3")}) }, false},
		{"executions: the last page gives no token", func() (string, error) {
			tok, err := lpe(ListPipelineExecutionsInput{MaxResults: 4})
			if tok != "" {
				return tok, errors.New("a token for an empty page")
			}
			return tok, err
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.call()
			var rej *execution.Rejection
			switch {
			case tc.ok && err != nil:
				t.Errorf("refused: %v", err)
			case !tc.ok && (!errors.As(err, &rej) || rej.Code != "InvalidNextTokenException"):
				t.Errorf("got %v, want InvalidNextTokenException", err)
			}
		})
	}
}
