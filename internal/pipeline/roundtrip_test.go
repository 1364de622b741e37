package pipeline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sluice-ci/sluice/internal/pipeline/tree"
)

// sameJSON reports whether two JSON texts hold the same value, member order
// aside.
func sameJSON(t *testing.T, a, b []byte) bool {
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

// declarationJSON extracts the declaration object of an API-form fixture.
func declarationJSON(t *testing.T, data []byte) []byte {
	t.Helper()
	var envelope map[string]json.RawMessage
	if err := json.Unmarshal(data, &envelope); err != nil {
		t.Fatal(err)
	}
	if raw, ok := envelope["pipeline"]; ok {
		return raw
	}
	return data
}

// TestRoundTrip checks that decoding a declaration and encoding it again
// gives the same document, both through encoding/json and through Parse.
func TestRoundTrip(t *testing.T) {
	files, err := filepath.Glob("testdata/forms/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(data, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if f.Form == FormCloudFormation {
				t.Skip("a template is not a declaration")
			}
			want := declarationJSON(t, data)

			var decl Declaration
			if err := json.Unmarshal(want, &decl); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(&decl)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, want, got) {
				t.Errorf("encoding/json round trip differs:\n got %s\nwant %s", got, want)
			}

			parsed, err := json.Marshal(f.Pipelines[0].Declaration)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, want, parsed) {
				t.Errorf("Parse round trip differs:\n got %s\nwant %s", parsed, want)
			}
			if _, _, err := tree.ParseJSON(parsed); err != nil {
				t.Fatal(err)
			}
		})
	}
}
