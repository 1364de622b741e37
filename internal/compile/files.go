package compile

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/sluice-ci/sluice/internal/pipeline"
)

// Compiled is one compiled pipeline of a file.
type Compiled struct {
	Pipeline   string // the pipeline's name; statemachines/<Pipeline>.asl.json
	Source     string // the file it came from
	Definition []byte // indented, as kept in git
}

// File compiles every pipeline of a pipeline file (a CloudFormation template
// may hold several). An invalid declaration (errors in reading it or in
// pipeline validation) is refused, with every error listed.
func File(path string, opts Options) ([]Compiled, error) {
	f, err := pipeline.Load(path, pipeline.Options{})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var out []Compiled
	for _, p := range f.Pipelines {
		name := p.Declaration.Name
		if name == "" || !validName(name) {
			name = p.Resource
		}
		if name == "" {
			name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		}
		if problems := slices.Concat(f.Notes, p.Problems()); pipeline.HasErrors(problems) {
			var lines []string
			for _, pr := range problems {
				if pr.Severity == pipeline.SeverityError {
					lines = append(lines, "  "+pr.String())
				}
			}
			return nil, fmt.Errorf("%s: pipeline %s has errors:\n%s", path, name, strings.Join(lines, "\n"))
		}
		m, err := Compile(p.Declaration, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		raw, err := Marshal(m, true)
		if err != nil {
			return nil, err
		}
		out = append(out, Compiled{Pipeline: name, Source: path, Definition: raw})
	}
	return out, nil
}

// validName is CodePipeline's pipeline name pattern, [A-Za-z0-9.@_-]+.
func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".@_-", r)) {
			return false
		}
	}
	return s != ""
}

// Dir compiles every pipeline file directly in dir (.yaml, .yml, .json;
// folders such as a demo's sample application are skipped), sorted by
// pipeline name. Two pipelines with one name are an error.
func Dir(dir string, opts Options) ([]Compiled, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read pipelines folder: %w", err)
	}
	var out []Compiled
	from := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !IsPipelineFile(e.Name()) {
			continue
		}
		cs, err := File(filepath.Join(dir, e.Name()), opts)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if prev, dup := from[c.Pipeline]; dup {
				return nil, fmt.Errorf("pipeline %s is declared in both %s and %s", c.Pipeline, prev, c.Source)
			}
			from[c.Pipeline] = c.Source
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pipeline < out[j].Pipeline })
	return out, nil
}

// IsPipelineFile reports whether a file name has a pipeline file's
// extension.
func IsPipelineFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// DefinitionFile is the name of a pipeline's compiled definition under
// statemachines/.
func DefinitionFile(pipelineName string) string { return pipelineName + ".asl.json" }

// WriteDir writes compiled definitions into dir as <pipeline>.asl.json.
// With prune, compiled stands for every pipeline whose definitions dir
// keeps (all the files of a pipelines folder), and the definitions there
// that none of them produces any more are removed; without it, no other
// file is touched.
func WriteDir(dir string, compiled []Compiled, prune bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	keep := map[string]bool{}
	for _, c := range compiled {
		name := DefinitionFile(c.Pipeline)
		keep[name] = true
		if err := os.WriteFile(filepath.Join(dir, name), c.Definition, 0o644); err != nil {
			return fmt.Errorf("write definition: %w", err)
		}
	}
	if !prune {
		return nil
	}
	stale, err := filepath.Glob(filepath.Join(dir, "*.asl.json"))
	if err != nil {
		return err
	}
	for _, path := range stale {
		if !keep[filepath.Base(path)] {
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("remove stale definition: %w", err)
			}
		}
	}
	return nil
}
