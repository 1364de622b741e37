package api

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/awsjson"
	"github.com/sluice-ci/sluice/internal/pipeline"
)

const github = `{"name": "p", "roleArn": "arn:aws:iam::123456789012:role/p",
  "artifactStore": {"type": "S3", "location": "bucket"},
  "stages": [
    {"name": "Source", "actions": [{"name": "GitHub",
      "actionTypeId": {"category": "Source", "owner": "ThirdParty", "provider": "GitHub", "version": "1"},
      "configuration": {"Owner": "o", "Repo": "r", "Branch": "main", "OAuthToken": "TOKEN"},
      "outputArtifacts": [{"name": "Code"}]}]},
    {"name": "Approve", "actions": [{"name": "Release",
      "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}}]}]}`

func TestReadDeclaration(t *testing.T) {
	tests := []struct {
		name, doc, code string
	}{
		{"valid", github, ""},
		{"missing", ``, "ValidationException"},
		{"one stage", strings.Replace(github, `,
    {"name": "Approve", "actions": [{"name": "Release",
      "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}}]}`, "", 1), "InvalidStructureException"},
		{"an approval with an output artifact", strings.Replace(github, `"version": "1"}}]}]}`, `"version": "1"}, "outputArtifacts": [{"name": "X"}]}]}]}`, 1), "InvalidActionDeclarationException"},
		{"a missing configuration property", strings.Replace(github, `"Owner": "o", `, "", 1), "InvalidActionDeclarationException"},
		{"not an object", `[1]`, "InvalidStructureException"},
	}
	for _, tt := range tests {
		_, err := readDeclaration(json.RawMessage(tt.doc))
		var e *awsjson.Error
		switch {
		case tt.code == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.code != "" && (!errors.As(err, &e) || e.Code != tt.code):
			t.Errorf("%s: got %v, want %s", tt.name, err, tt.code)
		}
	}
}

func TestSecretsMaskedAndKept(t *testing.T) {
	d, err := readDeclaration(json.RawMessage(github))
	if err != nil {
		t.Fatal(err)
	}
	m := maskDeclaration(d, 3)
	if got := m.Stages[0].Actions[0].Configuration["OAuthToken"]; got != pipeline.Masked || *m.Version != 3 {
		t.Errorf("masked token %q, version %d", got, *m.Version)
	}
	if d.Stages[0].Actions[0].Configuration["OAuthToken"] != "TOKEN" {
		t.Error("masking changed the declaration")
	}
	next, _ := readDeclaration(json.RawMessage(strings.Replace(github, `"TOKEN"`, `"****"`, 1)))
	keepSecrets(next, d)
	if got := next.Stages[0].Actions[0].Configuration["OAuthToken"]; got != "TOKEN" {
		t.Errorf("a masked token sent back became %q", got)
	}
	changed, _ := readDeclaration(json.RawMessage(strings.Replace(github, `"TOKEN"`, `"NEW"`, 1)))
	keepSecrets(changed, d)
	if got := changed.Stages[0].Actions[0].Configuration["OAuthToken"]; got != "NEW" {
		t.Errorf("a new token became %q", got)
	}

}
