package webhook

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/sluice-ci/sluice/internal/jsonpath"
)

// AuthenticationType is PutWebhook's WebhookAuthenticationType.
type AuthenticationType string

// The authentication types of the API model.
const (
	AuthGitHubHMAC      AuthenticationType = "GITHUB_HMAC"
	AuthIP              AuthenticationType = "IP"
	AuthUnauthenticated AuthenticationType = "UNAUTHENTICATED"
)

// Definition is PutWebhook's WebhookDefinition.
type Definition struct {
	Name                        string             `json:"name"`
	TargetPipeline              string             `json:"targetPipeline"`
	TargetAction                string             `json:"targetAction"`
	Filters                     []FilterRule       `json:"filters"`
	Authentication              AuthenticationType `json:"authentication"`
	AuthenticationConfiguration AuthConfiguration  `json:"authenticationConfiguration"`
}

// FilterRule is a WebhookFilterRule: the value JSONPath selects in the
// payload must equal MatchEquals, whose {ConfigKey} placeholders stand for
// the target action's configuration.
type FilterRule struct {
	JSONPath    string `json:"jsonPath"`
	MatchEquals string `json:"matchEquals,omitempty"`
}

// AuthConfiguration is a WebhookAuthConfiguration; the API spells its
// fields with a capital.
type AuthConfiguration struct {
	AllowedIPRange string `json:"AllowedIPRange,omitempty"`
	SecretToken    string `json:"SecretToken,omitempty"`
}

// ValidationError lists what is wrong with a definition, each with the
// field it concerns. The API answers it as a ValidationException.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	return "invalid webhook definition: " + strings.Join(e.Problems, "; ")
}

var (
	namePattern        = regexp.MustCompile(`^[A-Za-z0-9.@\-_]+$`)
	placeholderPattern = regexp.MustCompile(`\{([A-Za-z0-9_.\-]+)\}`)
)

const maxFilters = 5

// Webhook is a definition checked and compiled: its filters' paths
// compiled, their placeholders resolved against the target action's
// configuration, its IP range parsed. It is safe for concurrent use.
type Webhook struct {
	filters []filter
	ipRange netip.Prefix
}

type filter struct {
	rule  FilterRule
	path  *jsonpath.Path
	want  string // MatchEquals with its placeholders resolved
	exist bool   // no MatchEquals: the path must select a value
}

// Compile checks d as PutWebhook does and compiles it. actionConfig is the
// configuration of the target action, which {ConfigKey} placeholders name;
// nil skips that check (the target pipeline is not known yet).
func Compile(d Definition, actionConfig map[string]string) (*Webhook, error) {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	checkName := func(field, v string) {
		switch {
		case v == "":
			bad("%s is required", field)
		case len(v) > 100:
			bad("%s is longer than 100 characters", field)
		case !namePattern.MatchString(v):
			bad("%s %q has a character outside [A-Za-z0-9.@-_]", field, v)
		}
	}
	checkName("name", d.Name)
	checkName("targetPipeline", d.TargetPipeline)
	checkName("targetAction", d.TargetAction)

	w := &Webhook{}
	if len(d.Filters) > maxFilters {
		bad("filters has %d rules, at most %d are allowed", len(d.Filters), maxFilters)
	}
	for i, rule := range d.Filters {
		field := fmt.Sprintf("filters[%d]", i)
		f := filter{rule: rule, exist: rule.MatchEquals == ""}
		switch {
		case rule.JSONPath == "":
			bad("%s.jsonPath is required", field)
		case len(rule.JSONPath) > 150:
			bad("%s.jsonPath is longer than 150 characters", field)
		default:
			p, err := jsonpath.Compile(rule.JSONPath)
			if err != nil {
				bad("%s.jsonPath %q: %v", field, rule.JSONPath, err)
			}
			f.path = p
		}
		if len(rule.MatchEquals) > 150 {
			bad("%s.matchEquals is longer than 150 characters", field)
		}
		f.want = placeholderPattern.ReplaceAllStringFunc(rule.MatchEquals, func(m string) string {
			key := m[1 : len(m)-1]
			if actionConfig == nil {
				return m
			}
			v, ok := actionConfig[key]
			if !ok {
				bad("%s.matchEquals: {%s} names no configuration property of action %s", field, key, d.TargetAction)
			}
			return v
		})
		w.filters = append(w.filters, f)
	}

	conf := d.AuthenticationConfiguration
	switch d.Authentication {
	case AuthGitHubHMAC:
		switch {
		case conf.SecretToken == "":
			bad("authenticationConfiguration.SecretToken is required for GITHUB_HMAC")
		case len(conf.SecretToken) > 100:
			bad("authenticationConfiguration.SecretToken is longer than 100 characters")
		}
	case AuthIP:
		p, err := netip.ParsePrefix(conf.AllowedIPRange)
		switch {
		case conf.AllowedIPRange == "":
			bad("authenticationConfiguration.AllowedIPRange is required for IP")
		case err != nil:
			bad("authenticationConfiguration.AllowedIPRange %q is not a CIDR range (for example 192.0.2.0/24)", conf.AllowedIPRange)
		default:
			w.ipRange = p.Masked()
		}
	case AuthUnauthenticated:
	case "":
		bad("authentication is required: GITHUB_HMAC, IP or UNAUTHENTICATED")
	default:
		bad("authentication %q is not GITHUB_HMAC, IP or UNAUTHENTICATED", d.Authentication)
	}
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	return w, nil
}

// Match applies the filters to a JSON payload: all must match. When one
// does not, the reason names it and what it found.
func (w *Webhook) Match(payload []byte) (ok bool, reason string, err error) {
	if len(w.filters) == 0 {
		return true, "", nil
	}
	doc, err := decodeJSON(payload)
	if err != nil {
		return false, "", err
	}
	return w.MatchDocument(doc)
}

// MatchDocument is Match over a payload already decoded with
// json.Decoder.UseNumber.
func (w *Webhook) MatchDocument(doc any) (bool, string, error) {
	for i, f := range w.filters {
		got, err := f.path.Get(jsonpath.Env{Input: doc})
		if err != nil {
			return false, fmt.Sprintf("filter %d: %s selects nothing", i, f.rule.JSONPath), nil
		}
		if f.exist {
			if got == nil {
				return false, fmt.Sprintf("filter %d: %s is null", i, f.rule.JSONPath), nil
			}
			continue
		}
		if !equals(got, f.want, !f.path.IsDefinite()) {
			return false, fmt.Sprintf("filter %d: %s is %s, not %q", i, f.rule.JSONPath, jsonpath.Text(got), f.want), nil
		}
	}
	return true, "", nil
}

// equals compares a selected value with MatchEquals the way Java compares
// the value's String.valueOf; an indefinite path matches when any of the
// values it selects does.
func equals(v any, want string, indefinite bool) bool {
	if list, ok := v.([]any); ok && indefinite {
		for _, e := range list {
			if e != nil && jsonpath.JavaString(e) == want {
				return true
			}
		}
		return false
	}
	return v != nil && jsonpath.JavaString(v) == want
}

func decodeJSON(payload []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, &PayloadError{Event: "webhook", Msg: fmt.Sprintf("invalid JSON: %v", err)}
	}
	if dec.More() {
		return nil, &PayloadError{Event: "webhook", Msg: "invalid JSON: data after the top-level value"}
	}
	return doc, nil
}

// NewToken returns the random part of a new webhook's URL: 32 hex
// characters.
func NewToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// PathPrefix is where Handler is mounted.
const PathPrefix = "/webhooks/"

// RepositoryPath is the path of the repository-level endpoint.
const RepositoryPath = PathPrefix + "github"

// URL returns the URL PutWebhook answers with for the webhook name, whose
// token is token, on a server reached at endpoint (scheme and host, maybe
// a base path).
func URL(endpoint, name, token string) string {
	return strings.TrimSuffix(endpoint, "/") + PathPrefix + name + "/" + token
}

// ARN returns a webhook's ARN.
func ARN(region, account, name string) string {
	return "arn:aws:codepipeline:" + region + ":" + account + ":webhook:" + name
}
