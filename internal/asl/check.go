package asl

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluice-ci/sluice/internal/choice"
	"github.com/sluice-ci/sluice/internal/intrinsic"
	"github.com/sluice-ci/sluice/internal/jsonpath"
	"github.com/sluice-ci/sluice/internal/payload"
)

// isJSONata reports whether s is a JSONata expression string, {% ... %}.
func isJSONata(s string) bool {
	return len(s) >= 4 && strings.HasPrefix(s, "{%") && strings.HasSuffix(s, "%}")
}

// IsJSONata reports whether s is a JSONata expression string, {% ... %},
// and returns the expression inside.
func IsJSONata(s string) (string, bool) {
	if !isJSONata(s) {
		return "", false
	}
	return strings.TrimSpace(s[2 : len(s)-2]), true
}

// ParseTimestamp parses an ISO-8601 extended offset date-time as Step
// Functions accepts it in Wait states.
func ParseTimestamp(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

func checkPath(s string, reference bool) error {
	var err error
	if reference {
		_, err = jsonpath.CompileReference(s)
	} else {
		_, err = jsonpath.Compile(s)
	}
	return err
}

func checkPathOrIntrinsic(s string) error {
	if intrinsic.IsIntrinsic(s) {
		_, err := intrinsic.Parse(s)
		return err
	}
	return checkPath(s, false)
}

// checkPayload checks a JSONPath-mode payload template.
func checkPayload(v any) error {
	_, err := payload.Compile(v)
	return err
}

func checkChoiceRule(rule map[string]any) error {
	_, err := choice.Parse(rule)
	return err
}

func checkJSONataString(s string) error {
	if !isJSONata(s) {
		return fmt.Errorf("the value %q is not a JSONata expression of the form {%% ... %%}", s)
	}
	return nil
}

// checkJSONataTemplate checks every {% %} string of a JSONata-mode value.
func checkJSONataTemplate(field string, v any) error {
	switch t := v.(type) {
	case string:
		if strings.HasPrefix(t, "{%") && !isJSONata(t) {
			return fmt.Errorf("the field '%s' holds a malformed JSONata expression %q", field, t)
		}
	case map[string]any:
		for _, k := range sortedKeys(t) {
			if err := checkJSONataTemplate(field+"/"+k, t[k]); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range t {
			if err := checkJSONataTemplate(fmt.Sprintf("%s[%d]", field, i), e); err != nil {
				return err
			}
		}
	}
	return nil
}
