package runtime

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/states"
	"github.com/sluice-ci/sluice/internal/store"
)

// TestSecretsStayOutOfRecords runs a pipeline whose source action has a
// secret configuration property, written out and given through a pipeline
// variable: the provider's job carries its value, while the action's
// records (configuration and resolved configuration), the execution's
// record and the state machine execution's history show it masked or not
// at all.
func TestSecretsStayOutOfRecords(t *testing.T) {
	tests := []struct {
		name, token, value string
	}{
		{"written out", "ghp_written0ut", "ghp_written0ut"},
		{"from a pipeline variable", "#{variables.Token}", "ghp_fr0mVariable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prov := newScripted()
			d := testPipeline("secrets", pipeline.ExecutionModeQueued, stageSpec{"Source", acts("Checkout")}, stageSpec{"Build", acts("Compile")})
			d.Variables = []pipeline.Variable{{Name: "Token", DefaultValue: "unused"}}
			d.Stages[0].Actions[0].ActionTypeID = pipeline.ActionTypeID{Category: pipeline.CategorySource, Owner: pipeline.OwnerThirdParty, Provider: "GitHub", Version: "1"}
			d.Stages[0].Actions[0].Configuration = map[string]string{"Owner": "o", "Repo": "r", "Branch": "main", "OAuthToken": tt.token}
			r := deploy(t, prov, d)
			r.rt.Providers.Register(action.Type{Category: "Source", Owner: "ThirdParty", Provider: "GitHub"}, prov)
			id := r.start(map[string]string{"Token": "ghp_fr0mVariable"})
			if desc, status := r.wait(id); desc.Status != states.StatusSucceeded || status != store.ExecutionSucceeded {
				t.Fatalf("execution: %s, %s", desc.Status, status)
			}
			if jobs := prov.ran("Checkout"); len(jobs) != 1 || jobs[0].Configuration["OAuthToken"] != tt.value {
				t.Fatalf("the source job was not given the token: %v", jobs)
			}
			rec, _ := r.action(id, "Source", "Checkout")
			if got := rec.Input.Configuration["OAuthToken"]; got != pipeline.Masked {
				t.Errorf("recorded configuration OAuthToken %q, want %q", got, pipeline.Masked)
			}
			if got := rec.Input.ResolvedConfiguration["OAuthToken"]; got != pipeline.Masked {
				t.Errorf("recorded resolved configuration OAuthToken %q, want %q", got, pipeline.Masked)
			}
			actions, err := r.rt.Store.ListActionExecutions(r.ctx, r.name, id)
			if err != nil {
				t.Fatal(err)
			}
			e, _ := r.rt.Store.GetPipelineExecution(r.ctx, r.name, id)
			history, err := r.m.Engine.GetExecutionHistory(r.ctx, r.m.ExecutionArn(r.name, id))
			if err != nil {
				t.Fatal(err)
			}
			for what, v := range map[string]any{"action records": actions, "execution record": e.Value, "history": history} {
				raw, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				// A pipeline variable's value is the execution's to show
				// (GetPipelineExecution does), not a secret property's.
				if strings.Contains(string(raw), tt.value) && (what != "execution record" || tt.value == tt.token) {
					t.Errorf("the %s hold the token: %s", what, raw)
				}
			}
		})
	}
}
