package pipeline

import "testing"

func TestFindStageAndAction(t *testing.T) {
	d := &Declaration{Stages: []Stage{
		{Name: "Source", Actions: []Action{{Name: "Checkout"}}},
		{Name: "Build", Actions: []Action{{Name: "Compile"}, {Name: "Test"}}},
	}}
	tests := []struct {
		stage, action string
		want          *Action // nil: not found
	}{
		{"Build", "Test", &d.Stages[1].Actions[1]},
		{"Source", "Checkout", &d.Stages[0].Actions[0]},
		{"Build", "Checkout", nil},
		{"Deploy", "Test", nil},
	}
	for _, tt := range tests {
		var got *Action
		if st := d.Stage(tt.stage); st != nil {
			got = st.Action(tt.action)
		}
		if got != tt.want {
			t.Errorf("%s/%s: got %p, want %p", tt.stage, tt.action, got, tt.want)
		}
	}
	if d.Stage("Build") != &d.Stages[1] {
		t.Error("Stage does not return the declaration's own stage")
	}
}
