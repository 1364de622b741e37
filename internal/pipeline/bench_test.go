package pipeline

import (
	"fmt"
	"testing"
)

// largeDeclaration builds a valid pipeline at CodePipeline's limits: a
// source stage and stages-1 more, each with actions actions in runOrder
// groups of five, every action taking the previous stage's artifact and
// reading a variable of an earlier namespace.
func largeDeclaration(stages, actions int) *Declaration {
	d := &Declaration{
		Name:          "large",
		RoleArn:       "arn:aws:iam::123456789012:role/large",
		ArtifactStore: &ArtifactStore{Type: ArtifactStoreS3, Location: "large-artifacts"},
		PipelineType:  PipelineTypeV2,
		ExecutionMode: ExecutionModeQueued,
		Variables:     []Variable{{Name: "Env", DefaultValue: "test"}},
	}
	src := Stage{Name: "Source"}
	for j := range actions {
		order := int32(1)
		src.Actions = append(src.Actions, Action{
			Name:            fmt.Sprintf("Source%d", j),
			ActionTypeID:    ActionTypeID{Category: CategorySource, Owner: OwnerAWS, Provider: "CodeCommit", Version: "1"},
			RunOrder:        &order,
			Configuration:   map[string]string{"RepositoryName": fmt.Sprintf("repo-%d", j), "BranchName": "main"},
			OutputArtifacts: []OutputArtifact{{Name: fmt.Sprintf("S0A%d", j)}},
			Namespace:       fmt.Sprintf("NS0_%d", j),
		})
	}
	d.Stages = append(d.Stages, src)
	for i := 1; i < stages; i++ {
		s := Stage{Name: fmt.Sprintf("Stage%d", i)}
		for j := range actions {
			order := int32(j/5 + 1)
			s.Actions = append(s.Actions, Action{
				Name:         fmt.Sprintf("Build%d", j),
				ActionTypeID: ActionTypeID{Category: CategoryBuild, Owner: OwnerAWS, Provider: "CodeBuild", Version: "1"},
				RunOrder:     &order,
				Configuration: map[string]string{
					"ProjectName":          fmt.Sprintf("project-%d-%d", i, j),
					"EnvironmentVariables": fmt.Sprintf(`[{"name":"COMMIT","value":"#{NS%d_%d.CommitId}"},{"name":"ENV","value":"#{variables.Env}"}]`, i-1, j),
				},
				InputArtifacts:  []InputArtifact{{Name: fmt.Sprintf("S%dA%d", i-1, j)}},
				OutputArtifacts: []OutputArtifact{{Name: fmt.Sprintf("S%dA%d", i, j)}},
				Namespace:       fmt.Sprintf("NS%d_%d", i, j),
			})
		}
		d.Stages = append(d.Stages, s)
	}
	return d
}

// BenchmarkValidate validates a declaration of 50 stages of 50 actions,
// CodePipeline's limits.
func BenchmarkValidate(b *testing.B) {
	d := largeDeclaration(50, 50)
	if ps := Validate(d); len(ps) > 0 {
		b.Fatalf("the benchmark declaration is invalid: %v", ps[0])
	}
	b.ReportAllocs()
	for b.Loop() {
		Validate(d)
	}
}
