package pipeline

import (
	"slices"
	"strings"
	"testing"
)

// readCase is a document and the problems reading it reports, as
// "path Code", before validation.
type readCase struct {
	name    string
	doc     string
	params  map[string]string
	want    []string
	message string
}

func runReadCases(t *testing.T, cases []readCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.doc), Options{Params: tc.params})
			if err != nil {
				t.Fatal(err)
			}
			all := slices.Clone(f.Notes)
			for _, p := range f.Pipelines {
				all = append(all, p.Notes...)
			}
			var got []string
			for _, p := range all {
				got = append(got, p.Path+" "+string(p.Code))
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("problems:\n got %q\nwant %q\n%v", got, tc.want, all)
			}
			if tc.message != "" && !strings.Contains(all[0].Message, tc.message) {
				t.Errorf("message %q lacks %q", all[0].Message, tc.message)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	runReadCases(t, []readCase{
		{name: "unknown field", doc: `{"name": "p", "stages": [{"name": "s", "actions": [{"name": "a", "runorder": 2}]}]}`,
			want: []string{"stages[0].actions[0].runorder UnknownField"}, message: "did you mean 'runOrder'?"},
		{name: "unknown top-level field", doc: `{"name": "p", "stages": [], "artefactStore": {}}`,
			want: []string{"artefactStore UnknownField"}, message: "did you mean 'artifactStore'?"},
		{name: "list where a string belongs", doc: `{"name": ["p"], "stages": []}`, want: []string{"name TypeMismatch"}, message: "want a string, got a list"},
		{name: "object where a list belongs", doc: `{"name": "p", "stages": {"name": "s"}}`, want: []string{"stages TypeMismatch"}},
		{name: "fraction where a whole number belongs", doc: `{"name": "p", "stages": [{"actions": [{"runOrder": 1.5}]}]}`,
			want: []string{"stages[0].actions[0].runOrder TypeMismatch"}},
		{name: "null entry", doc: `{"name": "p", "stages": [null]}`, want: []string{"stages[0] TypeMismatch"}},
		{name: "null field is absent", doc: `{"name": "p", "roleArn": null, "stages": []}`},
		{name: "loose scalars", doc: "name: p\nversion: '3'\nstages:\n  - actions:\n      - runOrder: '2'\n        actionTypeId: {version: 1}\n        configuration: {PollForSourceChanges: false, Depth: 5}\n"},
		{name: "configuration value not a scalar", doc: "name: p\nstages:\n  - actions:\n      - configuration: {Nested: {a: b}}\n",
			want: []string{"stages[0].actions[0].configuration.Nested TypeMismatch"}},
		{name: "bad tags", doc: `{"pipeline": {"name": "p", "stages": []}, "tags": [{"key": "a", "valu": "b"}]}`, want: []string{"tags[0].valu UnknownField"}},
		{name: "unknown envelope member", doc: `{"pipeline": {"name": "p", "stages": []}, "tag": []}`, want: []string{"tag UnknownField"}},
		{name: "bad timestamp", doc: `{"pipeline": {"name": "p", "stages": []}, "metadata": {"created": "yesterday"}}`, want: []string{"metadata.created TypeMismatch"}},
		{name: "duplicate key", doc: "name: p\nstages: []\nname: q\n", want: []string{" DuplicateKey"}},
	})
}

func TestReadTemplate(t *testing.T) {
	const head = "Parameters:\n  Repo: {Type: String}\n  Env: {Type: String, Default: test}\nConditions:\n  Prod: !Equals [!Ref Env, prod]\n" +
		"  Exported: !Equals [!ImportValue Flag, 'on']\nResources:\n  Role: {Type: AWS::IAM::Role}\n"
	const pipe = "  P:\n    Type: AWS::CodePipeline::Pipeline\n"
	runReadCases(t, []readCase{
		{name: "missing parameter", doc: head + pipe + "    Properties:\n      Name: !Ref Repo\n",
			want: []string{"name ParameterMissing"}, message: "--param Repo=VALUE"},
		{name: "parameter given", doc: head + pipe + "    Properties:\n      Name: !Ref Repo\n", params: map[string]string{"Repo": "r"}},
		{name: "unknown reference", doc: head + pipe + "    Properties:\n      Name: !Ref Rol\n",
			want: []string{"name UnknownReference"}, message: "did you mean 'Role'?"},
		{name: "bad intrinsic", doc: head + pipe + "    Properties:\n      Name: !Select [a, [b]]\n", want: []string{"name InvalidIntrinsic"}},
		{name: "unresolved", doc: head + pipe + "    Properties:\n      Name: p\n      RoleArn: !GetAtt Role.Arn\n", want: []string{"roleArn UnresolvedValue"}},
		{name: "name left to CloudFormation", doc: head + pipe + "    Properties:\n      RoleArn: arn:aws:iam::123456789012:role/r\n", want: []string{"name UnresolvedValue"}},
		{name: "Fn::If entry left out", doc: head + pipe + "    Properties:\n      Name: p\n      Stages:\n        - Name: a\n          Actions:\n" +
			"            - !If [Prod, {Name: x}, !Ref AWS::NoValue]\n            - {Name: y}\n"},
		{name: "Fn::If entry unknown", doc: head + pipe + "    Properties:\n      Name: p\n      Stages:\n        - Name: a\n          Actions:\n" +
			"            - !If [Exported, {Name: x}, {Name: z}]\n", want: []string{"stages[0].actions UnresolvedValue"}},
		{name: "PascalCase unknown property", doc: head + pipe + "    Properties:\n      Name: p\n      Stage: []\n", want: []string{"stage UnknownField"}, message: "did you mean 'stages'?"},
		{name: "resource left out by its condition", doc: head + pipe + "    Condition: Prod\n    Properties:\n      Name: p\n  Q:\n    Type: AWS::CodePipeline::Pipeline\n    Properties:\n      Name: q\n",
			want: []string{" UnresolvedValue"}, message: "left out"},
		{name: "unknown --param", doc: head + pipe + "    Properties:\n      Name: p\n", params: map[string]string{"Rpo": "x"},
			want: []string{" UnknownReference"}, message: "did you mean 'Repo'?"},
	})
}

// TestTemplateForms checks the shapes of CloudFormation input besides a
// whole template: a lone resource, and bare PascalCase properties.
func TestTemplateForms(t *testing.T) {
	for _, doc := range []string{
		"Type: AWS::CodePipeline::Pipeline\nProperties:\n  Name: p\n  Stages: []\n",
		"Name: p\nStages: []\n",
	} {
		f, err := Parse([]byte(doc), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if f.Form != FormCloudFormation || len(f.Pipelines) != 1 || f.Pipelines[0].Declaration.Name != "p" {
			t.Errorf("%q read as %s with %d pipelines", doc, f.Form, len(f.Pipelines))
		}
	}
}
