package pipeline

import (
	"fmt"
	"strconv"
)

// Severity says whether a problem makes a declaration invalid.
type Severity string

// The severities of a problem.
const (
	// SeverityError makes the declaration invalid: CodePipeline would refuse it.
	SeverityError Severity = "error"
	// SeverityWarning points at something to check; the declaration stays valid.
	SeverityWarning Severity = "warning"
)

// Code names a kind of problem. Codes are stable: programs may match on them.
type Code string

// Problem is one thing wrong with a declaration.
type Problem struct {
	// Path is the field the problem is about, in the declaration's camelCase
	// field names: stages[1].actions[0].inputArtifacts[0].name. Empty for the
	// file as a whole.
	Path string `json:"path"`
	// Code names the kind of problem.
	Code Code `json:"code"`
	// Message says what is wrong in plain words, and how to fix it when that
	// is obvious.
	Message string `json:"message"`
	// Severity is error or warning.
	Severity Severity `json:"severity"`
}

// String formats the problem as "path: Code: message".
func (p Problem) String() string {
	s := string(p.Code) + ": " + p.Message
	if p.Severity == SeverityWarning {
		s = "warning: " + s
	}
	if p.Path == "" {
		return s
	}
	return p.Path + ": " + s
}

// HasErrors reports whether any problem is an error.
func HasErrors(problems []Problem) bool {
	for _, p := range problems {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

// path builds field paths such as stages[1].actions[0].name.
type path string

func (p path) field(name string) path {
	if p == "" {
		return path(name)
	}
	return p + "." + path(name)
}

func (p path) index(i int) path {
	return p + "[" + path(strconv.Itoa(i)) + "]"
}

// key addresses a map entry: configuration.ProjectName, or
// artifactStores["us-east-1"] when the key is not a plain word.
func (p path) key(k string) path {
	if isWord(k) {
		return p.field(k)
	}
	return p + "[" + path(strconv.Quote(k)) + "]"
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// problems collects problems.
type problems struct {
	list []Problem
}

func (ps *problems) errorf(at path, code Code, format string, args ...any) {
	ps.list = append(ps.list, Problem{Path: string(at), Code: code, Message: fmt.Sprintf(format, args...), Severity: SeverityError})
}

func (ps *problems) warnf(at path, code Code, format string, args ...any) {
	ps.list = append(ps.list, Problem{Path: string(at), Code: code, Message: fmt.Sprintf(format, args...), Severity: SeverityWarning})
}
