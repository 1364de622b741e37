package trigger

import (
	"fmt"
	"strings"

	"github.com/sluice-ci/sluice/internal/pipeline"
)

// The source providers whose changes start pipelines.
const (
	ProviderConnection = "CodeStarSourceConnection"
	ProviderCodeCommit = "CodeCommit"
	ProviderS3         = "S3"
)

// Pipeline is a pipeline declaration prepared for matching: its source
// actions found and its trigger filters compiled. It is safe for
// concurrent use.
type Pipeline struct {
	Name    string
	Version int32
	V2      bool
	sources []*source
}

// source is one source action that changes can start the pipeline from.
type source struct {
	action   string
	provider string
	config   map[string]string
	// trigger is the V2 trigger of a CodeStarSourceConnection action; nil
	// means the default behaviour: a push to BranchName starts it.
	trigger *gitTrigger
}

// gitTrigger is a compiled GitConfiguration. With no filter at all it
// starts the pipeline as the default does.
type gitTrigger struct {
	push        []pushFilter
	pullRequest []pullRequestFilter
}

type pushFilter struct {
	tags, branches, files *criteria
}

type pullRequestFilter struct {
	events          []pipeline.GitPullRequestEventType
	branches, files *criteria
}

// criteria is a compiled GitFilterCriteria.
type criteria struct {
	includes, excludes []*Glob
}

// match applies includes and excludes to a name: an exclude match wins; no
// includes include everything. A nil criteria matches anything.
func (c *criteria) match(name string) bool {
	if c == nil {
		return true
	}
	for _, g := range c.excludes {
		if g.Match(name) {
			return false
		}
	}
	if len(c.includes) == 0 {
		return true
	}
	for _, g := range c.includes {
		if g.Match(name) {
			return true
		}
	}
	return false
}

// matchAny reports whether one of the changed files matches.
func (c *criteria) matchAny(files []string) bool {
	for _, f := range files {
		if c.match(f) {
			return true
		}
	}
	return false
}

// CompileError lists what keeps a declaration's triggers from compiling,
// each with the field it concerns.
type CompileError struct {
	Pipeline string
	Problems []string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("pipeline %s: triggers: %s", e.Pipeline, strings.Join(e.Problems, "; "))
}

// Compile prepares a declaration for matching. A glob that does not compile
// or a trigger that names no CodeStarSourceConnection source action is an
// error naming its field.
func Compile(d *pipeline.Declaration) (*Pipeline, error) {
	p := &Pipeline{Name: d.Name, V2: d.EffectivePipelineType() == pipeline.PipelineTypeV2}
	if d.Version != nil {
		p.Version = *d.Version
	}
	byName := map[string]*source{}
	if len(d.Stages) > 0 {
		for _, a := range d.Stages[0].Actions {
			t := a.ActionTypeID
			if t.Category != pipeline.CategorySource || t.Owner != pipeline.OwnerAWS {
				continue
			}
			switch t.Provider {
			case ProviderConnection, ProviderCodeCommit, ProviderS3:
				s := &source{action: a.Name, provider: t.Provider, config: a.Configuration}
				p.sources = append(p.sources, s)
				byName[a.Name] = s
			}
		}
	}
	if !p.V2 {
		return p, nil
	}
	var problems []string
	for i, tr := range d.Triggers {
		field := fmt.Sprintf("triggers[%d]", i)
		if tr.ProviderType != pipeline.TriggerCodeStarSourceConnection {
			problems = append(problems, fmt.Sprintf("%s.providerType %q is not CodeStarSourceConnection", field, tr.ProviderType))
			continue
		}
		gc := tr.GitConfiguration
		if gc == nil {
			problems = append(problems, field+".gitConfiguration is missing")
			continue
		}
		s := byName[gc.SourceActionName]
		if s == nil || s.provider != ProviderConnection {
			problems = append(problems, fmt.Sprintf("%s.gitConfiguration.sourceActionName %q names no CodeStarSourceConnection source action",
				field, gc.SourceActionName))
			continue
		}
		g, errs := compileGit(field+".gitConfiguration", gc)
		problems = append(problems, errs...)
		if s.trigger == nil {
			s.trigger = g
		} else { // one trigger per source action; more are joined
			s.trigger.push = append(s.trigger.push, g.push...)
			s.trigger.pullRequest = append(s.trigger.pullRequest, g.pullRequest...)
		}
	}
	if len(problems) > 0 {
		return nil, &CompileError{Pipeline: d.Name, Problems: problems}
	}
	return p, nil
}

func compileGit(field string, gc *pipeline.GitConfiguration) (*gitTrigger, []string) {
	var problems []string
	crit := func(f string, c *pipeline.GitFilterCriteria) *criteria {
		if c == nil {
			return nil
		}
		out := &criteria{}
		for _, list := range []struct {
			name     string
			patterns []string
			into     *[]*Glob
		}{{"includes", c.Includes, &out.includes}, {"excludes", c.Excludes, &out.excludes}} {
			for j, pat := range list.patterns {
				g, err := CompileGlob(pat)
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s.%s[%d]: %v", f, list.name, j, err))
					continue
				}
				*list.into = append(*list.into, g)
			}
		}
		return out
	}
	g := &gitTrigger{}
	for i, f := range gc.Push {
		pf := fmt.Sprintf("%s.push[%d]", field, i)
		g.push = append(g.push, pushFilter{
			tags:     crit(pf+".tags", f.Tags),
			branches: crit(pf+".branches", f.Branches),
			files:    crit(pf+".filePaths", f.FilePaths),
		})
	}
	for i, f := range gc.PullRequest {
		pf := fmt.Sprintf("%s.pullRequest[%d]", field, i)
		g.pullRequest = append(g.pullRequest, pullRequestFilter{
			events:   f.Events,
			branches: crit(pf+".branches", f.Branches),
			files:    crit(pf+".filePaths", f.FilePaths),
		})
	}
	return g, problems
}
