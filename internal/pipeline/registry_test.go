package pipeline

import (
	"maps"
	"testing"
)

func TestMaskSecrets(t *testing.T) {
	github := ActionTypeID{Category: CategorySource, Owner: OwnerThirdParty, Provider: "GitHub", Version: "1"}
	build := ActionTypeID{Category: CategoryBuild, Owner: OwnerAWS, Provider: "CodeBuild", Version: "1"}
	tests := []struct {
		name string
		id   ActionTypeID
		cfg  map[string]string
		want map[string]string
	}{
		{"a secret property", github, map[string]string{"Owner": "o", "OAuthToken": "ghp_x"}, map[string]string{"Owner": "o", "OAuthToken": Masked}},
		{"no secret set", github, map[string]string{"Owner": "o"}, map[string]string{"Owner": "o"}},
		{"a type without secrets", build, map[string]string{"ProjectName": "p", "OAuthToken": "x"}, map[string]string{"ProjectName": "p", "OAuthToken": "x"}},
		{"an unknown type", ActionTypeID{Category: CategoryBuild, Owner: OwnerCustom, Provider: "Jenkins", Version: "1"},
			map[string]string{"OAuthToken": "x"}, map[string]string{"OAuthToken": "x"}},
		{"no configuration", github, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := maps.Clone(tt.cfg)
			got := MaskSecrets(tt.id, tt.cfg)
			if !maps.Equal(got, tt.want) {
				t.Errorf("MaskSecrets = %v, want %v", got, tt.want)
			}
			if !maps.Equal(tt.cfg, before) {
				t.Errorf("MaskSecrets changed its argument to %v", tt.cfg)
			}
		})
	}
}
