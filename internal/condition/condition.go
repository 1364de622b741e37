// Package condition evaluates the rules of CodePipeline's stage conditions
// (beforeEntry, onSuccess, onFailure) as pure functions: a rule's resolved
// configuration and the time in, the rule's outcome out. The gate decides
// what a condition's outcome does to the stage; the runtime resolves the
// variables a rule's configuration refers to.
//
// The rule types that run without AWS are evaluated here:
//
//   - VariableCheck compares a variable with a value: EQ, NE, CONTAINS and
//     MATCHES, the operators CodePipeline documents. MATCHES takes Go's RE2
//     syntax where CodePipeline takes Java's (no backreferences or
//     lookaround), and must match the whole value, as Java's
//     String.matches does.
//   - DeploymentWindow allows the minutes its cron expression matches in its
//     time zone. A closed window leaves the rule in progress until it
//     opens: the outcome says when.
//
// The others (CloudWatchAlarm, LambdaInvoke, Commands, CodeBuild) need AWS
// services; each fails its rule with an error that names the rule and what
// it would need.
//
// The cron syntax is CodePipeline's (Quartz's, with L, W and # in the day
// fields and an optional year): the cron libraries the module proxy serves
// (robfig/cron, gocron) read the five-field Unix syntax and have none of
// L, W, # or the year, so the few lines of matching are written here.
package condition

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // IANA time zones wherever the binary runs
)

// Kinds of stage condition, as OverrideStageCondition's conditionType names
// the first two.
const (
	BeforeEntry = "BEFORE_ENTRY"
	OnSuccess   = "ON_SUCCESS"
	OnFailure   = "ON_FAILURE"
)

// Statuses of a rule execution (RuleExecutionStatus) and of a condition
// execution (ConditionExecutionStatus).
const (
	InProgress = "InProgress"
	Succeeded  = "Succeeded"
	Failed     = "Failed"
	Abandoned  = "Abandoned"
	Cancelled  = "Cancelled"
	Overridden = "Overridden"
)

// Rule types.
const (
	VariableCheck    = "VariableCheck"
	DeploymentWindow = "DeploymentWindow"
	CloudWatchAlarm  = "CloudWatchAlarm"
	LambdaInvoke     = "LambdaInvoke"
	Commands         = "Commands"
	CodeBuild        = "CodeBuild"
)

// Error codes of a failed rule's error details.
const (
	CodeConfiguration = "ConfigurationError"
	CodeUnsupported   = "UnsupportedRuleType"
)

// Outcome is how one rule ended, or that it waits.
type Outcome struct {
	Status  string // InProgress, Succeeded or Failed
	Summary string
	// ErrorCode and ErrorMessage say why a rule could not be evaluated.
	ErrorCode, ErrorMessage string
	// Until is when a rule in progress is to be evaluated again.
	Until time.Time
}

func failed(code, format string, args ...any) Outcome {
	msg := fmt.Sprintf(format, args...)
	return Outcome{Status: Failed, Summary: msg, ErrorCode: code, ErrorMessage: msg}
}

// Check evaluates a rule of type provider named name with its configuration
// (variables already resolved) at now.
func Check(name, provider string, config map[string]string, now time.Time) Outcome {
	switch provider {
	case VariableCheck:
		return checkVariable(name, config)
	case DeploymentWindow:
		return checkWindow(name, config, now)
	}
	return failed(CodeUnsupported, "rule %s: %s", name, unsupported(provider))
}

// unsupported says why a rule type cannot run locally.
func unsupported(provider string) string {
	switch provider {
	case CloudWatchAlarm:
		return "a CloudWatchAlarm rule reads the state of an Amazon CloudWatch alarm, which needs AWS; Sluice cannot check it locally"
	case LambdaInvoke:
		return "a LambdaInvoke rule invokes an AWS Lambda function and waits for its verdict, which needs AWS; Sluice does not run it locally"
	case Commands:
		return "a Commands rule runs its commands on AWS CodeBuild compute, which needs AWS; Sluice does not run it locally"
	case CodeBuild:
		return "a CodeBuild rule starts an AWS CodeBuild build, which needs AWS; Sluice does not run it locally"
	}
	return fmt.Sprintf("Sluice knows no rule type %q", provider)
}

// Operators of a VariableCheck rule.
var operators = []string{"EQ", "NE", "CONTAINS", "MATCHES"}

// CheckConfiguration checks a rule's configuration before any run: the
// properties its type requires, a VariableCheck's operator and pattern, a
// DeploymentWindow's cron expression and time zone. Values that hold
// variable references are checked once resolved, at run time.
func CheckConfiguration(provider string, config map[string]string) []error {
	var errs []error
	need := func(keys ...string) {
		for _, k := range keys {
			if strings.TrimSpace(config[k]) == "" {
				errs = append(errs, fmt.Errorf("%s is required", k))
			}
		}
	}
	switch provider {
	case VariableCheck:
		need("Variable", "Value", "Operator")
		if op := config["Operator"]; op != "" && !slices.Contains(operators, op) {
			errs = append(errs, fmt.Errorf("the Operator %q is not one of %s", op, strings.Join(operators, ", ")))
		}
		if config["Operator"] == "MATCHES" && !strings.Contains(config["Value"], "#{") {
			if _, err := regexp.Compile(config["Value"]); err != nil {
				errs = append(errs, fmt.Errorf("the Value %q is not a regular expression: %v", config["Value"], err))
			}
		}
	case DeploymentWindow:
		need("Cron")
		if config["Cron"] != "" && !strings.Contains(config["Cron"]+config["TimeZone"], "#{") {
			if _, err := ParseWindow(config["Cron"], config["TimeZone"]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

func checkVariable(name string, config map[string]string) Outcome {
	v, want, op := config["Variable"], config["Value"], config["Operator"]
	var ok bool
	switch op {
	case "EQ":
		ok = v == want
	case "NE":
		ok = v != want
	case "CONTAINS":
		ok = strings.Contains(v, want)
	case "MATCHES":
		re, err := regexp.Compile(`^(?:` + want + `)$`)
		if err != nil {
			return failed(CodeConfiguration, "rule %s: Value %q is not a regular expression: %v", name, want, err)
		}
		ok = re.MatchString(v)
	default:
		return failed(CodeConfiguration, "rule %s: Operator %q is not one of %s", name, op, strings.Join(operators, ", "))
	}
	if ok {
		return Outcome{Status: Succeeded, Summary: fmt.Sprintf("%q %s %q holds", v, op, want)}
	}
	return Outcome{Status: Failed, Summary: fmt.Sprintf("%q %s %q does not hold", v, op, want)}
}

func checkWindow(name string, config map[string]string, now time.Time) Outcome {
	w, err := ParseWindow(config["Cron"], config["TimeZone"])
	if err != nil {
		return failed(CodeConfiguration, "rule %s: %v", name, err)
	}
	next, ok := w.Next(now)
	switch {
	case !ok:
		return failed(CodeConfiguration, "rule %s: the deployment window %q never opens again", name, config["Cron"])
	case !next.After(now.Truncate(time.Minute)):
		return Outcome{Status: Succeeded, Summary: "The deployment window is open."}
	}
	return Outcome{Status: InProgress, Until: next.UTC(),
		Summary: "The deployment window is closed; it opens at " + next.Format(time.RFC3339) + "."}
}

// Combine is a condition's status from its rules' outcomes: Failed when a
// rule failed, else InProgress when a rule waits, else Succeeded. until is
// the latest time a waiting rule is to be evaluated again.
func Combine(rules []Outcome) (status string, until time.Time) {
	status = Succeeded
	for _, r := range rules {
		switch r.Status {
		case Failed:
			return Failed, time.Time{}
		case InProgress:
			status = InProgress
			if r.Until.After(until) {
				until = r.Until
			}
		}
	}
	return status, until
}
