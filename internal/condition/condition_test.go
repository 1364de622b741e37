package condition

import (
	"strings"
	"testing"
	"time"
)

func TestVariableCheck(t *testing.T) {
	tests := []struct {
		variable, op, value string
		want                string
	}{
		{"main", "EQ", "main", Succeeded},
		{"main", "EQ", "Main", Failed},
		{"main", "NE", "dev", Succeeded},
		{"release/1.2", "CONTAINS", "release/", Succeeded},
		{"release/1.2", "CONTAINS", "hotfix", Failed},
		{"release/1.2", "MATCHES", `release/\d+\.\d+`, Succeeded},
		{"xrelease/1.2", "MATCHES", `release/\d+\.\d+`, Failed}, // the whole value, as Java's matches
		{"10", "GT", "9", Failed},                               // CodePipeline documents no comparison of numbers
		{"main", "STARTS", "m", Failed},
		{"x", "MATCHES", "(", Failed},
	}
	for _, tt := range tests {
		got := Check("Check", VariableCheck, map[string]string{"Variable": tt.variable, "Operator": tt.op, "Value": tt.value}, time.Now())
		if got.Status != tt.want {
			t.Errorf("%q %s %q: %s (%s), want %s", tt.variable, tt.op, tt.value, got.Status, got.Summary, tt.want)
		}
	}
}

func TestDeploymentWindow(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name, cron, zone, now string
		open                  bool
		next                  string // when closed: the next opening
	}{
		{"weekday hours, inside", "* * 9-17 ? * MON-FRI", "", "2026-03-02T10:30:00Z", true, ""},
		{"weekday hours, evening", "* * 9-17 ? * MON-FRI", "", "2026-03-02T18:00:00Z", false, "2026-03-03T09:00:00Z"},
		{"weekday hours, saturday", "* * 9-17 ? * MON-FRI *", "", "2026-03-07T10:00:00Z", false, "2026-03-09T09:00:00Z"},
		{"time zone", "* * 9-17 ? * MON-FRI", "America/New_York", "2026-03-02T10:30:00Z", false, "2026-03-02T14:00:00Z"},
		{"steps", "* 0/15 * * * ?", "", "2026-03-02T10:31:00Z", false, "2026-03-02T10:45:00Z"},
		{"last day of month", "* * * L * ?", "", "2026-02-10T00:00:00Z", false, "2026-02-28T00:00:00Z"},
		{"last friday", "* * * ? * 6L", "", "2026-03-01T00:00:00Z", false, "2026-03-27T00:00:00Z"},
		{"second monday", "* * * ? * MON#2", "", "2026-03-01T00:00:00Z", false, "2026-03-09T00:00:00Z"},
		{"nearest weekday", "* * * 15W * ?", "", "2026-03-01T00:00:00Z", false, "2026-03-16T00:00:00Z"}, // the 15th is a Sunday
		{"year", "* * * * * ? 2027", "", "2026-06-01T00:00:00Z", false, "2027-01-01T00:00:00Z"},
		{"months by name", "* * 8 1 JAN,JUL ?", "", "2026-02-01T00:00:00Z", false, "2026-07-01T08:00:00Z"},
		// 2026-11-01 in New York: 01:00-01:59 comes twice, EDT then EST.
		{"repeated hour, first time", "* * 1 * * ?", "America/New_York", "2026-11-01T05:15:00Z", true, ""},
		{"repeated hour, second time", "* * 1 * * ?", "America/New_York", "2026-11-01T06:15:00Z", true, ""},
		{"repeated minute comes again", "* 30 1 * * ?", "America/New_York", "2026-11-01T05:45:00Z", false, "2026-11-01T06:30:00Z"},
		{"after the repeated hour", "* 30 1 * * ?", "America/New_York", "2026-11-01T06:45:00Z", false, "2026-11-02T06:30:00Z"},
		// 2026-03-08 in New York: 02:00-02:59 does not exist.
		{"skipped hour", "* 30 2 * * ?", "America/New_York", "2026-03-08T06:00:00Z", false, "2026-03-09T06:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := at(tt.now)
			got := Check("Window", DeploymentWindow, map[string]string{"Cron": tt.cron, "TimeZone": tt.zone}, now)
			if tt.open {
				if got.Status != Succeeded {
					t.Errorf("%s at %s: %s (%s), want open", tt.cron, tt.now, got.Status, got.Summary)
				}
				return
			}
			if got.Status != InProgress || !got.Until.Equal(at(tt.next)) {
				t.Errorf("%s at %s: %s until %s (%s), want closed until %s", tt.cron, tt.now, got.Status, got.Until, got.Summary, tt.next)
			}
		})
	}
}

func TestWindowThatNeverOpens(t *testing.T) {
	got := Check("Window", DeploymentWindow, map[string]string{"Cron": "* * * * * ? 2020"}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if got.Status != Failed || !strings.Contains(got.ErrorMessage, "never opens") {
		t.Errorf("%+v", got)
	}
}

func TestCheckConfiguration(t *testing.T) {
	tests := []struct {
		provider string
		config   map[string]string
		want     string // a part of the first error; "" for none
	}{
		{VariableCheck, map[string]string{"Variable": "#{S.Branch}", "Value": "main", "Operator": "EQ"}, ""},
		{VariableCheck, map[string]string{"Variable": "#{S.Branch}", "Value": "main"}, "Operator is required"},
		{VariableCheck, map[string]string{"Variable": "#{S.Branch}", "Value": "main", "Operator": "IS"}, `Operator "IS"`},
		{VariableCheck, map[string]string{"Variable": "#{S.Branch}", "Value": "(", "Operator": "MATCHES"}, "not a regular expression"},
		{DeploymentWindow, map[string]string{"Cron": "* * 9-17 ? * MON-FRI", "TimeZone": "Europe/Paris"}, ""},
		{DeploymentWindow, map[string]string{"Cron": "* 9-17 * *"}, "has 4 fields"},
		{DeploymentWindow, map[string]string{"Cron": "* * 25 * * ?"}, "hours field"},
		{DeploymentWindow, map[string]string{"Cron": "* * * ? * MON#6"}, "day-of-week field"},
		{DeploymentWindow, map[string]string{"Cron": "* * * * * ?", "TimeZone": "Mars/Olympus"}, "TimeZone"},
		{DeploymentWindow, map[string]string{"Cron": "* * * * * ?", "TimeZone": "Local"}, "TimeZone"}, // the host's zone is no IANA name
		{DeploymentWindow, map[string]string{}, "Cron is required"},
	}
	for _, tt := range tests {
		errs := CheckConfiguration(tt.provider, tt.config)
		switch {
		case tt.want == "" && len(errs) > 0:
			t.Errorf("%s %v: %v", tt.provider, tt.config, errs)
		case tt.want != "" && (len(errs) == 0 || !strings.Contains(errs[0].Error(), tt.want)):
			t.Errorf("%s %v: %v, want an error about %q", tt.provider, tt.config, errs, tt.want)
		}
	}
}

func TestRulesThatNeedAWS(t *testing.T) {
	for _, p := range []string{CloudWatchAlarm, LambdaInvoke, Commands, CodeBuild, "Nonesuch"} {
		got := Check("Alarm", p, nil, time.Now())
		if got.Status != Failed || got.ErrorCode != CodeUnsupported || !strings.Contains(got.ErrorMessage, "rule Alarm") {
			t.Errorf("%s: %+v", p, got)
		}
	}
}

func TestCombine(t *testing.T) {
	later := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		rules []Outcome
		want  string
	}{
		{[]Outcome{{Status: Succeeded}, {Status: Succeeded}}, Succeeded},
		{[]Outcome{{Status: InProgress, Until: later}, {Status: Succeeded}}, InProgress},
		{[]Outcome{{Status: InProgress, Until: later}, {Status: Failed}}, Failed},
	}
	for _, tt := range tests {
		if got, _ := Combine(tt.rules); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.rules, got, tt.want)
		}
	}
}
