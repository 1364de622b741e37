package pipeline

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/golden"
	"github.com/sluice-ci/sluice/internal/pipeline/tree"
)

var formCases = []struct {
	file      string
	form      Form
	format    Format
	pipelines int
	params    map[string]string
}{
	{file: "declaration.json", form: FormDeclaration, format: FormatJSON, pipelines: 1},
	{file: "declaration.yaml", form: FormDeclaration, format: FormatYAML, pipelines: 1},
	{file: "create-pipeline.json", form: FormCreatePipeline, format: FormatJSON, pipelines: 1},
	{file: "create-pipeline.yaml", form: FormCreatePipeline, format: FormatYAML, pipelines: 1},
	{file: "get-pipeline.json", form: FormGetPipeline, format: FormatJSON, pipelines: 1},
	{file: "recorded-response.json", form: FormGetPipeline, format: FormatJSON, pipelines: 1},
	{file: "cloudformation.yaml", form: FormCloudFormation, format: FormatYAML, pipelines: 1,
		params: map[string]string{"RepositoryName": "app"}},
	{file: "cloudformation.json", form: FormCloudFormation, format: FormatJSON, pipelines: 1,
		params: map[string]string{"Bucket": "json-artifacts"}},
	{file: "resource.yaml", form: FormCloudFormation, format: FormatYAML, pipelines: 1},
}

// TestForms reads one fixture per input form, checks the form and syntax
// detected, and compares what was read (the declaration, the region, tags
// and every problem) with a golden file.
func TestForms(t *testing.T) {
	for _, tc := range formCases {
		t.Run(tc.file, func(t *testing.T) {
			f, err := Load(filepath.Join("testdata/forms", tc.file), Options{Params: tc.params})
			if err != nil {
				t.Fatal(err)
			}
			if f.Form != tc.form || f.Format != tc.format || len(f.Pipelines) != tc.pipelines {
				t.Fatalf("read as %s %s with %d pipelines, want %s %s with %d", f.Form, f.Format, len(f.Pipelines), tc.form, tc.format, tc.pipelines)
			}
			type read struct {
				Resource            string            `json:"resource,omitempty"`
				Region              string            `json:"region,omitempty"`
				Tags                []Tag             `json:"tags,omitempty"`
				DisabledTransitions []StageTransition `json:"disabledTransitions,omitempty"`
				Declaration         *Declaration      `json:"declaration"`
				Problems            []Problem         `json:"problems,omitempty"`
			}
			out := struct {
				Notes     []Problem `json:"notes,omitempty"`
				Pipelines []read    `json:"pipelines"`
			}{Notes: f.Notes}
			for _, p := range f.Pipelines {
				out.Pipelines = append(out.Pipelines, read{Resource: p.Resource, Region: p.Region, Tags: p.Tags,
					DisabledTransitions: p.DisabledTransitions, Declaration: p.Declaration, Problems: p.Problems()})
			}
			got, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata/forms/golden", tc.file+".json"), append(got, '\n'))
		})
	}
}

// declarationTree returns the declaration object inside a fixture of an
// API form, as read.
func declarationTree(t *testing.T, f *File) any {
	t.Helper()
	v := f.root
	for _, key := range f.at {
		obj, ok := v.(*tree.Object)
		if !ok {
			t.Fatalf("no %s in the fixture", key)
		}
		v, _ = obj.Get(key)
	}
	return v
}

// sameValue reports whether two JSON texts hold the same value, member
// order aside.
func sameValue(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return reflect.DeepEqual(va, vb)
}

// TestRoundTrip checks that decoding a declaration and encoding it again
// gives the same document, both with Parse and with encoding/json, and that
// the canonical form is a fixed point.
func TestRoundTrip(t *testing.T) {
	for _, tc := range formCases {
		if tc.form == FormCloudFormation {
			continue
		}
		t.Run(tc.file, func(t *testing.T) {
			f, err := Load(filepath.Join("testdata/forms", tc.file), Options{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := tree.MarshalJSON(declarationTree(t, f))
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := json.Marshal(f.Pipelines[0].Declaration)
			if err != nil {
				t.Fatal(err)
			}
			if !sameValue(t, want, parsed) {
				t.Errorf("Parse then encode differs:\n got %s\nwant %s", parsed, want)
			}
			var decl Declaration
			if err := json.Unmarshal(want, &decl); err != nil {
				t.Fatal(err)
			}
			viaJSON, err := json.Marshal(&decl)
			if err != nil {
				t.Fatal(err)
			}
			if !sameValue(t, want, viaJSON) {
				t.Errorf("encoding/json round trip differs:\n got %s\nwant %s", viaJSON, want)
			}

			canonical, err := f.Canonical()
			if err != nil {
				t.Fatal(err)
			}
			again, err := Parse(canonical, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if again.Form != f.Form || again.Format != f.Format {
				t.Errorf("canonical form reads as %s %s, want %s %s", again.Form, again.Format, f.Form, f.Format)
			}
			twice, err := again.Canonical()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(canonical, twice) {
				t.Errorf("the canonical form changes when formatted again:\n%s\n---\n%s", canonical, twice)
			}
		})
	}
}

// TestCanonicalRefuses checks that Canonical leaves templates alone and
// refuses to drop what it could not read.
func TestCanonicalRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"template", "Resources: {P: {Type: AWS::CodePipeline::Pipeline, Properties: {Name: p}}}", "CloudFormation template"},
		{"unknown field", `{"name": "p", "stages": [], "colour": "blue"}`, "unknown field 'colour'"},
		{"wrong type", `{"name": "p", "stages": {"a": 1}}`, "want a list"},
		{"inner comment", "name: p\n# a comment\nstages: []\n", "comments inside the document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.doc), Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.Canonical()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Canonical() error = %v, want one about %q", err, tc.want)
			}
		})
	}
}

// TestCanonicalKeepsHeader checks that the comment block at the top of a
// YAML file survives formatting.
func TestCanonicalKeepsHeader(t *testing.T) {
	doc := "# The header.\n#\n# Second paragraph.\nname: p\nstages: []\n"
	f, err := Parse([]byte(doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "# The header.\n#\n# Second paragraph.\nname: p\n") {
		t.Errorf("the header is lost:\n%s", out)
	}
}

// TestParseErrors checks the files Parse refuses, and that it names the
// place.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"empty", "", "empty"},
		{"JSON syntax", "{\n  \"name\": \"p\",\n  \"stages\": [\n}", "line 4"},
		{"YAML syntax", "name: p\nstages: [\n", "yaml syntax"},
		{"a list", "[1, 2]", "want an object"},
		{"no pipeline", `{"hello": "world"}`, "no pipeline found"},
		{"template without pipelines", "Resources: {B: {Type: AWS::S3::Bucket}}", "no AWS::CodePipeline::Pipeline"},
		{"two YAML documents", "name: a\nstages: []\n---\nname: b\n", "second YAML document"},
		{"pipeline not an object", `{"pipeline": []}`, "pipeline: want an object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse() error = %v, want one with %q", err, tc.want)
			}
		})
	}
	if _, err := Load("testdata/forms/no-such-file.json", Options{}); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}
