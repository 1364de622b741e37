package states

import (
	"fmt"

	"github.com/sluice-ci/sluice/internal/jsonpath"
)

// checkParameters applies the checks Step Functions makes on the
// parameters of an optimized service integration before it starts the
// task; a violation fails the state with States.Runtime.
func checkParameters(r *resource, params any) error {
	var problem string
	switch {
	case r.service == "apigateway" && r.api == "invoke":
		problem = checkHeaders(params)
	}
	if problem == "" {
		return nil
	}
	return &evalError{errRuntime, fmt.Sprintf("The Parameters '%s' could not be used to start the Task: [%s]",
		jsonpath.Text(params), problem)}
}

// checkHeaders requires API Gateway headers to map names to lists of
// strings.
func checkHeaders(params any) string {
	p, _ := params.(map[string]any)
	h, ok := p["Headers"]
	if !ok {
		return ""
	}
	const bad = "The value of the field 'Headers' has an invalid format"
	headers, ok := h.(map[string]any)
	if !ok {
		return bad
	}
	for _, v := range headers {
		list, ok := v.([]any)
		if !ok {
			return bad
		}
		for _, s := range list {
			if _, ok := s.(string); !ok {
				return bad
			}
		}
	}
	return ""
}
