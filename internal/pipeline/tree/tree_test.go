package tree

import (
	"reflect"
	"strings"
	"testing"
)

func obj(members ...any) *Object {
	o := &Object{}
	for i := 0; i < len(members); i += 2 {
		o.Members = append(o.Members, Member{Key: members[i].(string), Value: members[i+1]})
	}
	return o
}

func TestParseYAML(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want any
	}{
		{"unquoted date stays a string", "AWSTemplateFormatVersion: 2010-09-09", obj("AWSTemplateFormatVersion", "2010-09-09")},
		{"numbers keep their text", "a: 1\nb: 1.50\nc: 0x1F\nd: '7'", obj("a", Number("1"), "b", Number("1.50"), "c", Number("31"), "d", "7")},
		{"booleans and null", "a: true\nb: false\nc: ~\nd:", obj("a", true, "b", false, "c", nil, "d", nil)},
		{"order is kept", "z: 1\na: 2\nm: 3", obj("z", Number("1"), "a", Number("2"), "m", Number("3"))},
		{"Ref", "a: !Ref Name", obj("a", obj("Ref", "Name"))},
		{"GetAtt scalar", "a: !GetAtt Role.Arn", obj("a", obj("Fn::GetAtt", []any{"Role", "Arn"}))},
		{"GetAtt nested output", "a: !GetAtt App.Outputs.Name", obj("a", obj("Fn::GetAtt", []any{"App", "Outputs.Name"}))},
		{"Sub block", "a: !Sub |\n  x-${Y}\n", obj("a", obj("Fn::Sub", "x-${Y}\n"))},
		{"Sub folded", "a: !Sub >-\n  one\n  two\n", obj("a", obj("Fn::Sub", "one two"))},
		{"nested tags", "a: !If [C, !Sub '${X}', !Ref AWS::NoValue]",
			obj("a", obj("Fn::If", []any{"C", obj("Fn::Sub", "${X}"), obj("Ref", "AWS::NoValue")}))},
		{"Condition tag", "a: !And [!Condition A, !Not [!Condition B]]",
			obj("a", obj("Fn::And", []any{obj("Condition", "A"), obj("Fn::Not", []any{obj("Condition", "B")})}))},
		{"YAML str tag", "a: !!str 123", obj("a", "123")},
		{"anchors and merge", "base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3", obj("base", obj("x", Number("1"), "y", Number("2")), "c", obj("x", Number("1"), "y", Number("3")))},
		{"list", "- a\n- {b: c}", []any{"a", obj("b", "c")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, warnings, err := ParseYAML([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) > 0 {
				t.Errorf("warnings %q", warnings)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestParseYAMLErrors(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown tag", "a: !Bogus x", "line 1: unknown tag !Bogus"},
		{"GetAtt without attribute", "a: !GetAtt Role", "want Resource.Attribute"},
		{"alias without anchor", "a: *nothing", "nothing"},
		{"syntax", "a: [1, 2", "line 1"},
		{"empty", "# only a comment\n", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseYAML([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one with %q", err, tc.want)
			}
		})
	}
}

func TestAliasBomb(t *testing.T) {
	doc := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		doc += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	if _, _, err := ParseYAML([]byte(doc)); err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Errorf("error = %v", err)
	}
}

func TestDuplicateKeys(t *testing.T) {
	yamlValue, yamlWarnings, err := ParseYAML([]byte("a: 1\nb: 2\na: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	jsonValue, jsonWarnings, err := ParseJSON([]byte("{\"a\": 1,\n \"b\": 2,\n \"a\": 3}"))
	if err != nil {
		t.Fatal(err)
	}
	want := obj("a", Number("3"), "b", Number("2"))
	for _, got := range []any{yamlValue, jsonValue} {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %#v, want the later value to win", got)
		}
	}
	if len(yamlWarnings) != 1 || !strings.Contains(yamlWarnings[0], "line 3") {
		t.Errorf("YAML warnings %q", yamlWarnings)
	}
	if len(jsonWarnings) != 1 || !strings.Contains(jsonWarnings[0], "line 3") {
		t.Errorf("JSON warnings %q", jsonWarnings)
	}
}

func TestParseJSON(t *testing.T) {
	got, _, err := ParseJSON([]byte("\ufeff{\"z\": [1, 2.5e3, \"s\", true, null, {}], \"a\": {}}"))
	if err != nil {
		t.Fatal(err)
	}
	want := obj("z", []any{Number("1"), Number("2.5e3"), "s", true, nil, obj()}, "a", obj())
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
	for _, tc := range []struct{ doc, want string }{
		{"{\"a\": 1,\n\"b\": }", "line 2"},
		{"{\"a\": 1} x", "after the JSON value"},
		{"{\"a\": ", "unexpected end"},
	} {
		if _, _, err := ParseJSON([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseJSON(%q) error = %v, want one with %q", tc.doc, err, tc.want)
		}
	}
}

func TestDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+10) + strings.Repeat("]", maxDepth+10)
	if _, _, err := ParseJSON([]byte(deep)); err == nil || !strings.Contains(err.Error(), "levels deep") {
		t.Errorf("JSON nesting: %v", err)
	}
	if _, _, err := ParseYAML([]byte(deep)); err == nil || !strings.Contains(err.Error(), "levels deep") {
		t.Errorf("YAML nesting: %v", err)
	}
}

func TestMarshal(t *testing.T) {
	v := obj("name", "p", "n", Number("2"), "list", []any{"2010-09-09", "1", true, nil}, "empty", obj(), "none", []any{},
		"text", "line one\nline two\n", "json", `{"a":"#{x.y}"}`)
	js, err := MarshalJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	back, _, err := ParseJSON(js)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, v) {
		t.Errorf("JSON round trip:\n%s", js)
	}
	ym, err := MarshalYAML(v)
	if err != nil {
		t.Fatal(err)
	}
	back, _, err = ParseYAML(ym)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, v) {
		t.Errorf("YAML round trip:\n%s\ngot %#v", ym, back)
	}
}

func TestYAMLComments(t *testing.T) {
	header, more := YAMLComments([]byte("# head\n\n# more head\nname: x # trailing\n"))
	if header != "# head\n\n# more head\n" || !more {
		t.Errorf("header %q, more %v", header, more)
	}
	header, more = YAMLComments([]byte("name: '# not a comment'\n"))
	if header != "" || more {
		t.Errorf("header %q, more %v", header, more)
	}
}
