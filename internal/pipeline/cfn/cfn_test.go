package cfn

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/pipeline/tree"
)

const template = `
Parameters:
  Env: {Type: String, Default: test}
  Bucket: {Type: String}
  Subnets: {Type: CommaDelimitedList, Default: "a, b,c"}
  Flag: {Type: String, Default: false}
Mappings:
  Regions:
    us-east-1: {Short: use1, Zones: [a, b]}
    eu-west-1: {Short: euw1}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsTest: !Not [!Condition IsProd]
  InEast: !Equals [!Ref "AWS::Region", us-east-1]
  Both: !And [!Condition IsTest, !Condition InEast]
  Either: !Or [!Condition IsProd, !Condition InEast]
  FlagOn: !Equals [!Ref Flag, true]
  Exported: !Equals [!ImportValue Shared, "yes"]
  ExportedOrTest: !Or [!Condition Exported, !Condition IsTest]
  ExportedAndProd: !And [!Condition Exported, !Condition IsProd]
  ExportedOrProd: !Or [!Condition Exported, !Condition IsProd]
  Loop: !Not [!Condition Loop]
Resources:
  Role: {Type: AWS::IAM::Role}
  Repo: {Type: AWS::CodeCommit::Repository}
`

func newTemplate(t *testing.T, values map[string]string) *Template {
	t.Helper()
	root, _, err := tree.ParseYAML([]byte(template))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := New(root.(*tree.Object), values)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// eval evaluates an expression written in YAML, fully.
func eval(t *testing.T, tmpl *Template, expr string) (any, error) {
	t.Helper()
	v, _, err := tree.ParseYAML([]byte("v: " + expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	got, _ := v.(*tree.Object).Get("v")
	return tmpl.Full(got)
}

func TestEval(t *testing.T) {
	tmpl := newTemplate(t, map[string]string{"Bucket": "my-bucket", "AWS::AccountId": "111122223333"})
	for _, tc := range []struct {
		expr string
		want any
	}{
		{"!Ref Bucket", "my-bucket"},
		{"!Ref Env", "test"},
		{"!Ref Subnets", []any{"a", "b", "c"}},
		{"!Ref AWS::Region", "us-east-1"},
		{"!Ref AWS::AccountId", "111122223333"},
		{"!Ref AWS::Partition", "aws"},
		{"!Ref AWS::StackId", "arn:aws:cloudformation:us-east-1:111122223333:stack/stack/00000000-0000-0000-0000-000000000000"},
		{"!Ref AWS::NotificationARNs", []any{}},
		{"!Ref AWS::NoValue", NoValue},
		{"!Sub 'arn:${AWS::Partition}:s3:::${Bucket}/*'", "arn:aws:s3:::my-bucket/*"},
		{"!Sub ['${A}-${Env}', {A: !Ref Bucket}]", "my-bucket-test"},
		{"!Sub 'literal ${!Env} and #{ns.Key}'", "literal ${Env} and #{ns.Key}"},
		{"!Join ['-', [a, !Ref Env, 3]]", "a-test-3"},
		{"!Join [',', !Ref Subnets]", "a,b,c"},
		{"!Select [1, !Ref Subnets]", "b"},
		{"!Select ['0', !Split ['/', 'x/y']]", "x"},
		{"!FindInMap [Regions, !Ref 'AWS::Region', Short]", "use1"},
		{"!FindInMap [Regions, us-east-1, Zones]", []any{"a", "b"}},
		{"!If [IsProd, prod-value, !Ref Env]", "test"},
		{"!If [Both, yes, no]", "yes"},
		{"!If [Either, yes, no]", "yes"},
		{"!If [FlagOn, yes, no]", "no"},
		{"!If [ExportedOrTest, yes, no]", "yes"},
		{"!If [ExportedAndProd, yes, no]", "no"},
		{"!If [IsProd, x, !Ref AWS::NoValue]", NoValue},
		{"{Fn::Base64: !Ref Env}", "dGVzdA=="},
		{"{Fn::Length: !Ref Subnets}", tree.Number("3")},
		{"!ToJsonString {a: !Ref Env, b: [1]}", `{"a":"test","b":[1]}`},
		{"{a: !Ref Env, b: !Ref AWS::NoValue, c: [x, !Ref AWS::NoValue]}",
			&tree.Object{Members: []tree.Member{{Key: "a", Value: "test"}, {Key: "c", Value: []any{"x"}}}}},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := eval(t, tmpl, tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestUnknown checks that what only a deployed stack knows is unknown, and
// that the expression names it readably.
func TestUnknown(t *testing.T) {
	tmpl := newTemplate(t, map[string]string{"Bucket": "b"})
	for _, tc := range []struct{ expr, want string }{
		{"!GetAtt Role.Arn", "!GetAtt Role.Arn"},
		{"!Ref Repo", "!Ref Repo"},
		{"!ImportValue Shared", "!ImportValue Shared"},
		{"{Fn::ImportValue: !Sub '${Env}-shared'}", "!ImportValue test-shared"},
		{"!Sub 'arn:aws:iam::${AWS::AccountId}:role/${Role}'", "!Sub arn:aws:iam::123456789012:role/${Role}"},
		{"!Sub '${Repo.Name}-x'", "!Sub ${Repo.Name}-x"},
		{"!Join ['', [a, !GetAtt Role.Arn]]", "!Join […, !GetAtt Role.Arn, …]"},
		{"!If [Exported, a, b]", "!If [Exported, …]"},
		{"!If [ExportedOrProd, a, b]", "!If [ExportedOrProd, …]"},
		{"!GetAZs ''", "!GetAZs"},
		{"{a: [!GetAtt Role.Arn]}", "!GetAtt Role.Arn"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := eval(t, tmpl, tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			u, ok := got.(*tree.Unknown)
			if !ok {
				t.Fatalf("got %#v, want an unknown value", got)
			}
			if u.Expr != tc.want || u.Reason == "" {
				t.Errorf("got %q (%q), want %q", u.Expr, u.Reason, tc.want)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	tmpl := newTemplate(t, nil)
	for _, tc := range []struct {
		expr string
		kind Kind
		want string
	}{
		{"!Ref Bucket", MissingParameter, "--param Bucket=VALUE"},
		{"!Ref Buckets", UnknownReference, "Buckets"},
		{"!Sub '${Nope.Arn}'", UnknownReference, "Nope"},
		{"!If [Nope, a, b]", UnknownReference, "condition Nope"},
		{"!If [Loop, a, b]", Invalid, "depends on itself"},
		{"!FindInMap [Regions, ap-south-1, Short]", UnknownReference, "ap-south-1"},
		{"!Select [5, [a]]", Invalid, "outside the list"},
		{"!Join [',']", Invalid, "takes a list of 2"},
		{"!Sub [1, 2, 3]", Invalid, "Fn::Sub takes"},
		{"!Sub '${AWS::NoValue}'", Invalid, "cannot stand in a string"},
		{"{Fn::Bogus: 1}", Invalid, "Fn::Bogus"},
		{"!Ref [a]", Invalid, "takes a name"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := eval(t, tmpl, tc.expr)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error = %v, want an *Error", err)
			}
			if e.Kind != tc.kind || !strings.Contains(e.Message, tc.want) {
				t.Errorf("got kind %d %q, want kind %d with %q", e.Kind, e.Message, tc.kind, tc.want)
			}
		})
	}
	_, err := eval(t, tmpl, "!Ref Buckt")
	var e *Error
	if !errors.As(err, &e) || e.Name != "Buckt" || len(e.Candidates) == 0 {
		t.Errorf("an unknown reference carries its name and the candidates: %#v", err)
	}
}

// TestFindInMapWithoutMappings: Fn::FindInMap in a template whose Mappings
// are missing or hold no map says that the mapping does not exist.
func TestFindInMapWithoutMappings(t *testing.T) {
	for _, tc := range []struct{ name, template string }{
		{"no Mappings", "Resources: {}\n"},
		{"empty Mappings", "Mappings: {}\n"},
		{"Mappings not a map", "Mappings: [a]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, _, err := tree.ParseYAML([]byte(tc.template))
			if err != nil {
				t.Fatal(err)
			}
			tmpl, err := New(root.(*tree.Object), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = eval(t, tmpl, "!FindInMap [Regions, us-east-1, Short]")
			var e *Error
			if !errors.As(err, &e) || e.Kind != UnknownReference || !strings.Contains(e.Message, "Regions") {
				t.Errorf("error = %v, want an unknown reference to Regions", err)
			}
		})
	}
}

func TestCondition(t *testing.T) {
	tmpl := newTemplate(t, map[string]string{"Env": "prod", "AWS::Region": "eu-west-1"})
	for _, tc := range []struct {
		name         string
		value, known bool
	}{
		{"IsProd", true, true},
		{"IsTest", false, true},
		{"InEast", false, true},
		{"Either", true, true},
		{"Exported", false, false},
		{"ExportedOrProd", true, true},
	} {
		value, known, err := tmpl.Condition(tc.name)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if value != tc.value || known != tc.known {
			t.Errorf("%s = %v (known %v), want %v (known %v)", tc.name, value, known, tc.value, tc.known)
		}
	}
}

func TestParameters(t *testing.T) {
	tmpl := newTemplate(t, nil)
	var names []string
	for _, p := range tmpl.Parameters() {
		names = append(names, p.Name)
	}
	if !reflect.DeepEqual(names, []string{"Env", "Bucket", "Subnets", "Flag"}) {
		t.Errorf("parameters %v", names)
	}
	if !IsIntrinsic(&tree.Object{Members: []tree.Member{{Key: "Fn::Sub", Value: "x"}}}) ||
		IsIntrinsic(&tree.Object{Members: []tree.Member{{Key: "Name", Value: "x"}}}) {
		t.Error("IsIntrinsic")
	}
}
