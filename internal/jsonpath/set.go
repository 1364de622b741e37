package jsonpath

// Set returns doc with value placed where the path points, the way
// ResultPath combines a result with a state's input: "$" replaces the whole
// document, missing objects along the way are created, and the leaf is
// replaced. doc is not modified; the result shares every part of doc that is
// not on the path. A step into a value that is not an object (or an index
// outside an array) fails with States.ResultPathMatchFailure.
func (p *Path) Set(doc any, value any) (any, error) {
	if p.root != RootInput {
		return nil, &Failure{Name: ErrResultPathMatchFailure, Cause: "Unable to apply ReferencePath " + p.text + " to input " + Text(doc) + ": a reference path must start with '$'"}
	}
	for _, s := range p.steps {
		if s.scan || (s.kind != stepProp && s.kind != stepIndex) {
			return nil, &Failure{Name: ErrResultPathMatchFailure, Cause: "Unable to apply ReferencePath " + p.text + " to input " + Text(doc) + ": the path is not a reference path"}
		}
	}
	out, ok := p.set(doc, 0, value)
	if !ok {
		return nil, &Failure{Name: ErrResultPathMatchFailure, Cause: "Unable to apply ReferencePath " + p.text + " to input " + Text(doc)}
	}
	return out, nil
}

func (p *Path) set(cur any, i int, value any) (any, bool) {
	if i == len(p.steps) {
		return value, true
	}
	s := &p.steps[i]
	switch s.kind {
	case stepProp:
		var m map[string]any
		switch t := cur.(type) {
		case map[string]any:
			m = t
		case nil:
			// A missing or null member becomes a new object.
		default:
			return nil, false
		}
		child, ok := p.set(m[s.name], i+1, value)
		if !ok {
			return nil, false
		}
		out := make(map[string]any, len(m)+1)
		for k, v := range m {
			out[k] = v
		}
		out[s.name] = child
		return out, true
	case stepIndex:
		arr, ok := cur.([]any)
		if !ok {
			return nil, false
		}
		idx := s.index
		if idx < 0 {
			idx += len(arr)
		}
		if idx < 0 || idx >= len(arr) {
			return nil, false
		}
		child, ok := p.set(arr[idx], i+1, value)
		if !ok {
			return nil, false
		}
		out := make([]any, len(arr))
		copy(out, arr)
		out[idx] = child
		return out, true
	}
	return nil, false
}
