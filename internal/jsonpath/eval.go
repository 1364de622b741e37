package jsonpath

import (
	"fmt"
	"maps"
	"slices"
)

const jacksonProvider = "com.jayway.jsonpath.spi.json.JacksonJsonProvider"

// Get evaluates the path. A definite path returns the value it selects, or a
// *NotFoundError (or another Jayway-worded error) when it selects nothing.
// An indefinite path returns a []any of every match, empty when nothing
// matches, as AWS records for a wildcard or slice over a missing field.
func (p *Path) Get(env Env) (any, error) {
	root, err := p.rootValue(env)
	if err != nil {
		if p.definite {
			return nil, err
		}
		return []any{}, nil
	}
	return p.eval(root)
}

// eval applies the steps to the root value.
func (p *Path) eval(root any) (any, error) {
	if p.definite {
		return p.getDefinite(root, root)
	}
	return p.collect(root, root, 0, make([]any, 0, 4)), nil
}

func (p *Path) rootValue(env Env) (any, error) {
	switch p.root {
	case RootContext:
		return env.Context, nil
	case RootVariable:
		if env.Vars != nil {
			if v, ok := env.Vars(p.varName); ok {
				return v, nil
			}
		}
		return nil, &NotFoundError{Path: p.text, Msg: "No results for path: " + p.text}
	}
	return env.Input, nil
}

// getDefinite walks a definite path. root is the document a filter's $ refers
// to; cur is where the walk starts.
func (p *Path) getDefinite(root, cur any) (any, error) {
	last := len(p.steps) - 1
	for i := range p.steps {
		s := &p.steps[i]
		switch s.kind {
		case stepProp:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, p.notObject(i, cur)
			}
			v, ok := m[s.name]
			if !ok {
				if i == last {
					return nil, p.noResults()
				}
				return nil, &NotFoundError{Path: p.text, Msg: "Missing property in path " + p.prefixes[i]}
			}
			cur = v
		case stepIndex:
			arr, ok := cur.([]any)
			if !ok {
				return nil, p.notArray(i, cur)
			}
			idx := s.index
			if idx < 0 {
				idx += len(arr)
			}
			if idx < 0 || idx >= len(arr) {
				return nil, p.noResults()
			}
			cur = arr[idx]
		case stepProps:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, p.notObject(i, cur)
			}
			merged := make(map[string]any, len(s.names))
			for _, n := range s.names {
				if v, ok := m[n]; ok {
					merged[n] = v
				}
			}
			cur = merged
		default:
			// Compile marks a path with any other step indefinite.
			return p.collect(root, cur, i, nil), nil
		}
	}
	return cur, nil
}

func (p *Path) noResults() error {
	return &NotFoundError{Path: p.text, Msg: "No results for path: " + p.normalized()}
}

func (p *Path) before(i int) string {
	if i == 0 {
		return "$"
	}
	return p.prefixes[i-1]
}

func (p *Path) notObject(i int, model any) error {
	return &NotFoundError{Path: p.text, Msg: fmt.Sprintf(
		"Expected to find an object with property %s in path %s but found '%s'. This is not a json object according to the JsonProvider: '%s'.",
		p.steps[i].frag, p.before(i), javaClass(model), jacksonProvider)}
}

func (p *Path) notArray(i int, model any) error {
	if model == nil {
		return &NotFoundError{Path: p.text, Msg: "The path " + p.before(i) + " is null"}
	}
	return &NotFoundError{Path: p.text, Msg: fmt.Sprintf(
		"Filter: %s can only be applied to arrays. Current context is: %s", p.steps[i].frag, JavaString(model))}
}

// collect evaluates steps[i:] on cur and appends every match to out. Missing
// properties and values of the wrong type select nothing.
func (p *Path) collect(root, cur any, i int, out []any) []any {
	if i == len(p.steps) {
		return append(out, cur)
	}
	if p.steps[i].scan {
		return p.scan(root, cur, i, out)
	}
	return p.apply(root, cur, i, out)
}

// scan applies step i at cur and at every value below it, depth first.
func (p *Path) scan(root, cur any, i int, out []any) []any {
	out = p.apply(root, cur, i, out)
	switch t := cur.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			out = p.scan(root, t[k], i, out)
		}
	case []any:
		for _, e := range t {
			out = p.scan(root, e, i, out)
		}
	}
	return out
}

func (p *Path) apply(root, cur any, i int, out []any) []any {
	s := &p.steps[i]
	switch s.kind {
	case stepProp:
		if m, ok := cur.(map[string]any); ok {
			if v, ok := m[s.name]; ok {
				out = p.collect(root, v, i+1, out)
			}
		}
	case stepProps:
		m, ok := cur.(map[string]any)
		if !ok {
			break
		}
		if i == len(p.steps)-1 {
			merged := make(map[string]any, len(s.names))
			for _, n := range s.names {
				if v, ok := m[n]; ok {
					merged[n] = v
				}
			}
			return append(out, merged)
		}
		for _, n := range s.names {
			if v, ok := m[n]; ok {
				out = p.collect(root, v, i+1, out)
			}
		}
	case stepIndex:
		if arr, ok := cur.([]any); ok {
			if idx := s.index + boolInt(s.index < 0)*len(arr); idx >= 0 && idx < len(arr) {
				out = p.collect(root, arr[idx], i+1, out)
			}
		}
	case stepIndexes:
		if arr, ok := cur.([]any); ok {
			for _, n := range s.indexes {
				if idx := n + boolInt(n < 0)*len(arr); idx >= 0 && idx < len(arr) {
					out = p.collect(root, arr[idx], i+1, out)
				}
			}
		}
	case stepSlice:
		if arr, ok := cur.([]any); ok {
			from, to := s.bounds(len(arr))
			for k := from; k < to; k++ {
				out = p.collect(root, arr[k], i+1, out)
			}
		}
	case stepWildcard:
		switch t := cur.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(t)) {
				out = p.collect(root, t[k], i+1, out)
			}
		case []any:
			for _, e := range t {
				out = p.collect(root, e, i+1, out)
			}
		}
	case stepFilter:
		switch t := cur.(type) {
		case map[string]any:
			if s.filter.match(root, t) {
				out = p.collect(root, t, i+1, out)
			}
		case []any:
			for _, e := range t {
				if s.filter.match(root, e) {
					out = p.collect(root, e, i+1, out)
				}
			}
		}
	}
	return out
}

// bounds returns the half-open index range a slice selects in an array of
// length n, as Jayway computes it.
func (s *step) bounds(n int) (from, to int) {
	from, to = 0, n
	if s.hasFrom {
		from = s.from
		if from < 0 {
			from = max(from+n, 0)
		}
	}
	if s.hasTo {
		to = s.to
		if to < 0 {
			to += n
		}
		to = min(to, n)
	}
	return from, to
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
