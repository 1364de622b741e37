package pipeline

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-ci/sluice/internal/pipeline/tree"
)

// FuzzParse reads arbitrary input as a pipeline file and checks that
// nothing panics, that every declaration read encodes, decodes and encodes
// again to the same bytes, and that the canonical form is a fixed point.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/forms/*.*")
	examples, _ := filepath.Glob("../../pipelines/*.yaml")
	for _, name := range append(seeds, append(examples, "testdata/validate/base.yaml")...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"name":"p","stages":[{"name":"s","actions":[{"name":"a","runOrder":2,"configuration":{"K":"#{x.y}"}}]}]}`))
	f.Add([]byte("Resources:\n  P:\n    Type: AWS::CodePipeline::Pipeline\n    Properties:\n      Name: !Sub '${AWS::Region}'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, Options{})
		if err != nil {
			return
		}
		for _, p := range file.Pipelines {
			_ = p.Problems()
			first, err := json.Marshal(p.Declaration)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			v, _, err := tree.ParseJSON(first)
			if err != nil {
				t.Fatalf("the encoding does not parse: %v\n%s", err, first)
			}
			obj, ok := v.(*tree.Object)
			if !ok {
				t.Fatalf("the encoding is not an object: %s", first)
			}
			again := decodeDeclaration(obj, nil)
			if len(again.Notes) > 0 {
				t.Fatalf("decoding the encoding reports %v\n%s", again.Notes, first)
			}
			second, err := json.Marshal(again.Declaration)
			if err != nil {
				t.Fatalf("encode again: %v", err)
			}
			if !bytes.Equal(first, second) {
				t.Fatalf("decode and encode is not stable:\n%s\n%s", first, second)
			}
		}
		canonical, err := file.Canonical()
		if err != nil {
			return
		}
		reread, err := Parse(canonical, Options{})
		if err != nil {
			t.Fatalf("the canonical form does not parse: %v\n%s", err, canonical)
		}
		twice, err := reread.Canonical()
		if err != nil {
			t.Fatalf("the canonical form does not format: %v\n%s", err, canonical)
		}
		if !bytes.Equal(canonical, twice) {
			t.Fatalf("the canonical form is not a fixed point:\n%s\n---\n%s", canonical, twice)
		}
	})
}
