package variables

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
)

func TestResolve(t *testing.T) {
	c := Context{
		PipelineExecutionID: "3137f7cb-8d49-4ef0-a1a6-1a9f2b3e7f00",
		Pipeline:            map[string]string{"Environment": "prod", "Empty": ""},
		Namespaces: map[string]map[string]string{
			"SourceVariables": {"CommitId": "abc123", "BranchName": "main"},
			"Build":           {"IMAGE.TAG": "v1"},
		},
	}
	tests := []struct {
		name    string
		config  map[string]string
		want    map[string]string
		wantErr string
	}{
		{"no references", map[string]string{"A": "plain #text {x}"}, map[string]string{"A": "plain #text {x}"}, ""},
		{"action output",
			map[string]string{"Tag": "#{SourceVariables.BranchName}-#{SourceVariables.CommitId}"},
			map[string]string{"Tag": "main-abc123"}, ""},
		{"key with a dot", map[string]string{"Image": "#{Build.IMAGE.TAG}"}, map[string]string{"Image": "v1"}, ""},
		{"execution id and pipeline variables",
			map[string]string{"Msg": "#{codepipeline.PipelineExecutionId} to #{variables.Environment}#{variables.Empty}"},
			map[string]string{"Msg": "3137f7cb-8d49-4ef0-a1a6-1a9f2b3e7f00 to prod"}, ""},
		{"unknown namespace", map[string]string{"B": "#{Deploy.Url}"}, nil,
			"configuration property B: #{Deploy.Url}: no action before this one has the namespace Deploy"},
		{"unknown key", map[string]string{"B": "#{SourceVariables.Author}"}, nil,
			"produced no variable Author"},
		{"undeclared pipeline variable", map[string]string{"B": "#{variables.Region}"}, nil,
			"the pipeline declares no variable Region"},
		{"unknown codepipeline variable", map[string]string{"B": "#{codepipeline.PipelineName}"}, nil,
			"only PipelineExecutionId"},
		{"every problem reported", map[string]string{"A": "#{X.y}", "B": "#{Y.z}"}, nil,
			"property A: #{X.y}: no action before this one has the namespace X; configuration property B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.config, c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestPipeline(t *testing.T) {
	declared := []pipeline.Variable{{Name: "Environment", DefaultValue: "staging"}, {Name: "Version", DefaultValue: "1"}}
	tests := []struct {
		name      string
		declared  []pipeline.Variable
		overrides map[string]string
		want      []store.ResolvedPipelineVariable
		wantErr   string
	}{
		{"defaults", declared, nil, []store.ResolvedPipelineVariable{{Name: "Environment", ResolvedValue: "staging"}, {Name: "Version", ResolvedValue: "1"}}, ""},
		{"override", declared, map[string]string{"Environment": "prod"},
			[]store.ResolvedPipelineVariable{{Name: "Environment", ResolvedValue: "prod"}, {Name: "Version", ResolvedValue: "1"}}, ""},
		{"undeclared override", declared, map[string]string{"Region": "x"}, nil, "declares no variable Region"},
		{"no default, not given", []pipeline.Variable{{Name: "Ticket"}}, nil, nil, "variable Ticket has no default value"},
		{"no default, given", []pipeline.Variable{{Name: "Ticket"}}, map[string]string{"Ticket": "T-1"},
			[]store.ResolvedPipelineVariable{{Name: "Ticket", ResolvedValue: "T-1"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Pipeline(tt.declared, tt.overrides)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
			if m := Map(got); len(m) != len(got) {
				t.Errorf("Map lost variables: %v", m)
			}
		})
	}
}

func TestNamespaces(t *testing.T) {
	got := Namespaces("#{A.x}-#{codepipeline.PipelineExecutionId}", "#{variables.v} #{B.y} #{A.z}", "plain")
	if !reflect.DeepEqual(got, []string{"A", "B"}) {
		t.Errorf("Namespaces = %v, want [A B]", got)
	}
}

// BenchmarkResolve resolves a configuration as an action's start does: a
// few properties, most with references.
func BenchmarkResolve(b *testing.B) {
	c := Context{
		PipelineExecutionID: "3137f7cb-8d49-4ef0-a1a6-1a9f2b3e7f00",
		Pipeline:            map[string]string{"Environment": "prod"},
		Namespaces:          map[string]map[string]string{"SourceVariables": {"CommitId": "abc123", "BranchName": "main"}},
	}
	config := map[string]string{
		"ProjectName":   "app-#{SourceVariables.BranchName}",
		"Tag":           "#{SourceVariables.CommitId}-#{codepipeline.PipelineExecutionId}",
		"Stage":         "#{variables.Environment}",
		"PrimarySource": "Source",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Resolve(config, c); err != nil {
			b.Fatal(err)
		}
	}
}
