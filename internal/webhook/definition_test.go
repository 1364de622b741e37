package webhook

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func hmacHook() Definition {
	return Definition{
		Name:                        "orders-main",
		TargetPipeline:              "orders",
		TargetAction:                "Source",
		Filters:                     []FilterRule{{JSONPath: "$.ref", MatchEquals: "refs/heads/{Branch}"}},
		Authentication:              AuthGitHubHMAC,
		AuthenticationConfiguration: AuthConfiguration{SecretToken: "s3cr3t"},
	}
}

var sourceConfig = map[string]string{"Owner": "example-org", "Repo": "orders-service", "Branch": "main", "OAuthToken": "****"}

func TestCompile(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(*Definition)
		noConfig bool     // the pipeline is not known yet
		want     []string // problems, in order
	}{
		{name: "valid", mutate: func(*Definition) {}},
		{name: "no config yet", mutate: func(d *Definition) { d.Filters[0].MatchEquals = "refs/heads/{Nope}" }, noConfig: true},
		{name: "ip", mutate: func(d *Definition) {
			d.Authentication = AuthIP
			d.AuthenticationConfiguration = AuthConfiguration{AllowedIPRange: "192.0.2.0/24"}
		}},
		{name: "unauthenticated", mutate: func(d *Definition) {
			d.Authentication = AuthUnauthenticated
			d.AuthenticationConfiguration = AuthConfiguration{}
		}},
		{
			name: "names",
			mutate: func(d *Definition) {
				d.Name, d.TargetPipeline, d.TargetAction = "", "has space", strings.Repeat("a", 101)
			},
			want: []string{
				"name is required",
				`targetPipeline "has space" has a character outside [A-Za-z0-9.@-_]`,
				"targetAction is longer than 100 characters",
			},
		},
		{
			name: "filters",
			mutate: func(d *Definition) {
				d.Filters = []FilterRule{
					{JSONPath: ""},
					{JSONPath: "$.[", MatchEquals: "x"},
					{JSONPath: "$.ref", MatchEquals: "refs/heads/{BranchName}"},
					{JSONPath: "$.ref", MatchEquals: strings.Repeat("x", 151)},
					{JSONPath: "$.a"}, {JSONPath: "$.b"},
				}
			},
			want: []string{
				"filters has 6 rules, at most 5 are allowed",
				"filters[0].jsonPath is required",
				`filters[1].jsonPath "$.[": `,
				"filters[2].matchEquals: {BranchName} names no configuration property of action Source",
				"filters[3].matchEquals is longer than 150 characters",
			},
		},
		{
			name:   "hmac without secret",
			mutate: func(d *Definition) { d.AuthenticationConfiguration = AuthConfiguration{AllowedIPRange: "10.0.0.0/8"} },
			want:   []string{"authenticationConfiguration.SecretToken is required for GITHUB_HMAC"},
		},
		{
			name: "ip not cidr",
			mutate: func(d *Definition) {
				d.Authentication = AuthIP
				d.AuthenticationConfiguration = AuthConfiguration{AllowedIPRange: "192.0.2.7"}
			},
			want: []string{`authenticationConfiguration.AllowedIPRange "192.0.2.7" is not a CIDR range (for example 192.0.2.0/24)`},
		},
		{
			name:   "ip missing",
			mutate: func(d *Definition) { d.Authentication = AuthIP },
			want:   []string{"authenticationConfiguration.AllowedIPRange is required for IP"},
		},
		{
			name:   "unknown authentication",
			mutate: func(d *Definition) { d.Authentication = "OAUTH" },
			want:   []string{`authentication "OAUTH" is not GITHUB_HMAC, IP or UNAUTHENTICATED`},
		},
		{
			name:   "no authentication",
			mutate: func(d *Definition) { d.Authentication = "" },
			want:   []string{"authentication is required: GITHUB_HMAC, IP or UNAUTHENTICATED"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := hmacHook()
			tt.mutate(&d)
			config := sourceConfig
			if tt.noConfig {
				config = nil
			}
			_, err := Compile(d, config)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != len(tt.want) {
				t.Fatalf("error %v, want %d problems", err, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(ve.Problems[i], w) {
					t.Errorf("problem %d: %q, want %q", i, ve.Problems[i], w)
				}
			}
		})
	}
}

func TestMatch(t *testing.T) {
	push := payload(t, "push.json")
	tests := []struct {
		name    string
		filters []FilterRule
		ok      bool
		reason  string
	}{
		{name: "no filters", ok: true},
		{name: "branch placeholder", filters: []FilterRule{{JSONPath: "$.ref", MatchEquals: "refs/heads/{Branch}"}}, ok: true},
		{name: "two placeholders", filters: []FilterRule{{JSONPath: "$.repository.full_name", MatchEquals: "{Owner}/{Repo}"}}, ok: true},
		{name: "other branch", filters: []FilterRule{{JSONPath: "$.ref", MatchEquals: "refs/heads/release"}},
			reason: `filter 0: $.ref is "refs/heads/main", not "refs/heads/release"`},
		{name: "all must match", filters: []FilterRule{
			{JSONPath: "$.ref", MatchEquals: "refs/heads/{Branch}"},
			{JSONPath: "$.pusher.name", MatchEquals: "jdoe"},
		}, reason: `filter 1: $.pusher.name is "mmajor", not "jdoe"`},
		{name: "missing field", filters: []FilterRule{{JSONPath: "$.action", MatchEquals: "opened"}}, reason: "filter 0: $.action selects nothing"},
		{name: "exists", filters: []FilterRule{{JSONPath: "$.head_commit.id"}}, ok: true},
		{name: "exists but null", filters: []FilterRule{{JSONPath: "$.base_ref"}}, reason: "filter 0: $.base_ref is null"},
		{name: "boolean", filters: []FilterRule{{JSONPath: "$.deleted", MatchEquals: "false"}}, ok: true},
		{name: "number", filters: []FilterRule{{JSONPath: "$.repository.id", MatchEquals: "186853002"}}, ok: true},
		{name: "any of a list", filters: []FilterRule{{JSONPath: "$.commits[*].committer.username", MatchEquals: "web-flow"}}, ok: true},
		{name: "none of a list", filters: []FilterRule{{JSONPath: "$.commits[*].committer.username", MatchEquals: "bot"}},
			reason: `filter 0: $.commits[*].committer.username is ["mmajor","web-flow"], not "bot"`},
		{name: "filter expression", filters: []FilterRule{{JSONPath: "$.commits[?(@.message == 'Validate order totals')].id", MatchEquals: "4a1f4c1a7b16d1f0e4bc43c58c5f3c4e31e06a0a"}}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := hmacHook()
			d.Filters = tt.filters
			hook, err := Compile(d, sourceConfig)
			if err != nil {
				t.Fatal(err)
			}
			ok, reason, err := hook.Match(push)
			if err != nil || ok != tt.ok || reason != tt.reason {
				t.Fatalf("Match: %v %q %v, want %v %q", ok, reason, err, tt.ok, tt.reason)
			}
		})
	}
	hook, _ := Compile(hmacHook(), sourceConfig)
	for _, bad := range []string{`{"ref":`, `{"ref":"x"} {}`, ``} {
		if _, _, err := hook.Match([]byte(bad)); err == nil {
			t.Errorf("Match(%q): no error", bad)
		}
	}
}

func TestURL(t *testing.T) {
	token := NewToken()
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(token) || token == NewToken() {
		t.Fatalf("token %q", token)
	}
	tests := []struct{ endpoint, want string }{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/webhooks/orders-main/" + token},
		{"https://api.example.com/prod/", "https://api.example.com/prod/webhooks/orders-main/" + token},
	}
	for _, tt := range tests {
		if got := URL(tt.endpoint, "orders-main", token); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.endpoint, got, tt.want)
		}
	}
	if got := ARN("us-east-1", "123456789012", "orders-main"); got != "arn:aws:codepipeline:us-east-1:123456789012:webhook:orders-main" {
		t.Errorf("ARN %q", got)
	}
}
