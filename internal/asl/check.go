package asl

import (
	"fmt"
	"strings"
	"time"
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
	if !strings.HasPrefix(s, "$") {
		return fmt.Errorf("%q does not start with '$'", s)
	}
	if reference && strings.ContainsAny(s, "*?") {
		return fmt.Errorf("%q is not a reference path", s)
	}
	return nil
}

func checkPathOrIntrinsic(s string) error {
	if strings.HasPrefix(s, "States.") {
		return nil
	}
	return checkPath(s, false)
}

// checkPayload checks the ".$" keys of a JSONPath-mode payload template.
func checkPayload(v any) error {
	switch t := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			if strings.HasSuffix(k, ".$") {
				s, ok := t[k].(string)
				if !ok {
					return fmt.Errorf("the value of the field '%s' must be a path or an intrinsic function", k)
				}
				if err := checkPathOrIntrinsic(s); err != nil {
					return fmt.Errorf("the field '%s': %w", k, err)
				}
				continue
			}
			if err := checkPayload(t[k]); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range t {
			if err := checkPayload(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkChoiceRule(rule map[string]any) error {
	if len(rule) == 0 {
		return fmt.Errorf("a choice rule needs a comparison or And, Or, Not")
	}
	return nil
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
