package trigger

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/webhook"
)

const connARN = "arn:aws:codeconnections:us-east-1:123456789012:connection/4d6f2a8e-0b1c-4e3d-9f5a-7b8c9d0e1f2a"

func loadDeclarations(t testing.TB) []pipeline.Declaration {
	t.Helper()
	data, err := os.ReadFile("testdata/pipelines.json")
	if err != nil {
		t.Fatal(err)
	}
	var decls []pipeline.Declaration
	if err := json.Unmarshal(data, &decls); err != nil {
		t.Fatal(err)
	}
	return decls
}

func testSet(t testing.TB) *Set {
	t.Helper()
	var ps []*Pipeline
	for _, d := range loadDeclarations(t) {
		p, err := Compile(&d)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return NewSet(ps...)
}

func files(list ...string) func() ([]string, error) {
	return func() ([]string, error) { return list, nil }
}

// started lists the pipelines of the matches as "name:type".
func started(ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Pipeline+":"+m.Trigger.TriggerType)
	}
	return out
}

func TestGit(t *testing.T) {
	const sha = "9fceb02d0ae598e95dc970b74767f19372d61af8"
	push := func(branch string, changed ...string) *GitEvent {
		return &GitEvent{Kind: GitPush, Repository: "example-org/orders-service", Branch: branch, Commit: sha, Files: files(changed...)}
	}
	tag := func(name string) *GitEvent {
		return &GitEvent{Kind: GitPush, Repository: "example-org/orders-service", Tag: name, Commit: sha}
	}
	pr := func(event pipeline.GitPullRequestEventType, dest string, changed ...string) *GitEvent {
		return &GitEvent{Kind: GitPullRequest, Repository: "example-org/orders-service", Branch: dest, SourceBranch: "feature/x",
			Commit: sha, PullRequestEvent: event, Files: files(changed...)}
	}
	mainPush := []string{"two-sources:WebhookV2", "v1-main:Webhook", "v2-branches:WebhookV2", "v2-default:WebhookV2", "v2-empty-trigger:WebhookV2", "v2-files:WebhookV2"}
	tests := []struct {
		name string
		ev   *GitEvent
		want []string
	}{
		{name: "push to main", ev: push("main", "src/orders/validate.go", "README.md"), want: mainPush},
		{name: "push to main, docs only", ev: push("main", "README.md", "docs/rules.md"),
			want: []string{"two-sources:WebhookV2", "v1-main:Webhook", "v2-branches:WebhookV2", "v2-default:WebhookV2", "v2-empty-trigger:WebhookV2"}},
		{name: "push to main, files excluded win", ev: push("main", "src/orders/README.md"),
			want: []string{"two-sources:WebhookV2", "v1-main:Webhook", "v2-branches:WebhookV2", "v2-default:WebhookV2", "v2-empty-trigger:WebhookV2"}},
		{name: "push to main, nothing changed", ev: push("main"),
			want: []string{"two-sources:WebhookV2", "v1-main:Webhook", "v2-branches:WebhookV2", "v2-default:WebhookV2", "v2-empty-trigger:WebhookV2"}},
		{name: "repository name in other case", ev: func() *GitEvent {
			e := push("main", "src/a.go")
			e.Repository = "Example-Org/Orders-Service"
			return e
		}(), want: mainPush},
		{name: "push to a release branch", ev: push("release/2.0/rc1"), want: []string{"v2-branches:WebhookV2"}},
		{name: "push to an excluded release branch", ev: push("release/legacy-1")},
		{name: "push to a hotfix branch", ev: push("hotfix/login"), want: []string{"v2-push-or:WebhookV2"}},
		{name: "push to a nested hotfix branch", ev: push("hotfix/a/b")},
		{name: "push to another branch", ev: push("feature/x", "src/a.go")},
		{name: "tag", ev: tag("v1.4.0"), want: []string{"v2-tags:WebhookV2"}},
		{name: "excluded tag", ev: tag("v0.9")},
		{name: "tag in the second push filter", ev: tag("release-2025.06"), want: []string{"v2-push-or:WebhookV2"}},
		{name: "branch deleted", ev: func() *GitEvent { e := push("main"); e.Deleted = true; return e }()},
		{name: "other repository", ev: &GitEvent{Kind: GitPush, Repository: "example-org/billing", Branch: "main", Commit: sha}, want: []string{"other-repo:WebhookV2"}},
		{name: "unknown repository", ev: &GitEvent{Kind: GitPush, Repository: "example-org/unknown", Branch: "main", Commit: sha}},
		{name: "pull request opened", ev: pr(pipeline.PullRequestOpen, "main", "src/orders/validate.go"),
			want: []string{"v2-pr:WebhookV2", "v2-pr-all:WebhookV2"}},
		{name: "pull request updated, docs only", ev: pr(pipeline.PullRequestUpdated, "main", "docs/a.md"),
			want: []string{"v2-pr-all:WebhookV2"}},
		{name: "pull request closed", ev: pr(pipeline.PullRequestClosed, "main"),
			want: []string{"v2-pr-all:WebhookV2", "v2-pr-closed:WebhookV2"}},
		{name: "pull request into an excluded branch", ev: pr(pipeline.PullRequestOpen, "experimental/a", "src/a.go")},
		{name: "pull request into another branch", ev: pr(pipeline.PullRequestOpen, "develop", "src/a.go"), want: []string{"v2-pr-all:WebhookV2"}},
		{name: "pull request edited", ev: pr("", "main", "src/a.go")},
		{name: "pull request files unknown", ev: func() *GitEvent { e := pr(pipeline.PullRequestOpen, "main"); e.Files = nil; return e }(),
			want: []string{"v2-pr-all:WebhookV2"}},
	}
	set := testSet(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := set.Git(tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if got := started(ms); !slices.Equal(got, tt.want) {
				t.Fatalf("started %q\nwant    %q", got, tt.want)
			}
			for _, m := range ms {
				if m.Trigger.TriggerDetail != connARN {
					t.Fatalf("%s: trigger detail %q", m.Pipeline, m.Trigger.TriggerDetail)
				}
				for _, r := range m.SourceRevisions {
					if r.RevisionType != "COMMIT_ID" || r.RevisionValue != sha {
						t.Fatalf("%s: revision %+v", m.Pipeline, r)
					}
				}
			}
		})
	}
}

// TestGitMatchDetail checks one match whole: the trigger, one revision per
// matched source action, and the execution-trigger of the events.
func TestGitMatchDetail(t *testing.T) {
	p := &webhook.Push{
		Ref: "refs/tags/v1.4.0", After: "0d4bd2cd", Repository: webhook.Repository{FullName: "example-org/orders-service"},
		HeadCommit: &webhook.Commit{ID: "9fceb02d", Message: "Document the validation rules", Timestamp: "2025-06-01T11:59:40+02:00",
			Author: webhook.Person{Name: "Mary Major", Email: "mary.major@example.com", Username: "mmajor"}},
	}
	ms, err := testSet(t).Git(FromPush(p))
	if err != nil || len(ms) != 1 {
		t.Fatalf("%v %v", ms, err)
	}
	m := ms[0]
	if m.Pipeline != "v2-tags" || m.Trigger != (store.ExecutionTrigger{TriggerType: TypeWebhookV2, TriggerDetail: connARN}) ||
		!slices.Equal(m.SourceRevisions, []store.SourceRevisionOverride{{ActionName: "Source", RevisionType: "COMMIT_ID", RevisionValue: "9fceb02d"}}) {
		t.Fatalf("match %+v", m)
	}
	et := m.EventTrigger
	if et.TriggerType != "" || et.TagName != "v1.4.0" || et.BranchName != "" || et.CommitID != "9fceb02d" || et.ConnectionArn != connARN ||
		et.FullRepositoryName != "example-org/orders-service" || et.ProviderType != "GitHub" || et.AuthorDisplayName != "Mary Major" ||
		et.AuthorID != "mmajor" || et.CommitMessage != "Document the validation rules" {
		t.Fatalf("event trigger %+v", et)
	}

	main, _ := testSet(t).Git(&GitEvent{Kind: GitPush, Repository: "example-org/orders-service", Branch: "main", Commit: "abc"})
	byName := map[string]Match{}
	for _, m := range main {
		byName[m.Pipeline] = m
	}
	two, ok := byName["two-sources"]
	want := []store.SourceRevisionOverride{{ActionName: "App", RevisionType: "COMMIT_ID", RevisionValue: "abc"}, {ActionName: "Config", RevisionType: "COMMIT_ID", RevisionValue: "abc"}}
	if !ok || !slices.Equal(two.SourceRevisions, want) {
		t.Fatalf("two sources: %v %+v", ok, two.SourceRevisions)
	}
	// A V1 pipeline's events show its trigger type and detail, not the
	// git event.
	v1, ok := byName["v1-main"]
	if wantTrigger := (store.ExecutionTrigger{TriggerType: TypeWebhook, TriggerDetail: connARN}); !ok || v1.Trigger != wantTrigger ||
		v1.EventTrigger != EventTriggerOf(wantTrigger) {
		t.Fatalf("v1-main: %v %+v", ok, v1)
	}
}

func TestGitFromDeliveries(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("../webhook/testdata/payloads/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	push, err := webhook.DecodePush(read("push.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev := FromPush(push)
	got, _ := ev.Files()
	if ev.Branch != "main" || ev.Tag != "" || ev.Commit != "9fceb02d0ae598e95dc970b74767f19372d61af8" || len(got) != 5 || ev.AuthorEmail != "mary.major@example.com" {
		t.Fatalf("push event %+v", ev)
	}
	tests := []struct {
		file string
		want pipeline.GitPullRequestEventType
	}{
		{"pull-request-opened.json", pipeline.PullRequestOpen},
		{"pull-request-synchronize.json", pipeline.PullRequestUpdated},
		{"pull-request-closed.json", pipeline.PullRequestClosed},
	}
	for _, tt := range tests {
		p, err := webhook.DecodePullRequest(read(tt.file))
		if err != nil {
			t.Fatal(err)
		}
		ev := FromPullRequest(p, nil)
		if ev.PullRequestEvent != tt.want || ev.Branch != "main" || ev.SourceBranch != "feature/empty-orders" || ev.Commit != p.PullRequest.Head.SHA {
			t.Fatalf("%s: %+v", tt.file, ev)
		}
	}
	p, _ := webhook.DecodePullRequest(read("pull-request-opened.json"))
	p.Action = "labeled"
	if ev := FromPullRequest(p, nil); ev.PullRequestEvent != "" {
		t.Fatalf("labeled is %q", ev.PullRequestEvent)
	}
}

// TestFilesAskedOnce asks for the changed files once, only when a file
// filter needs them, and stops at their error.
func TestFilesAskedOnce(t *testing.T) {
	set := testSet(t)
	calls := 0
	ev := &GitEvent{Kind: GitPush, Repository: "example-org/orders-service", Branch: "release/1", Commit: "c",
		Files: func() ([]string, error) { calls++; return nil, nil }}
	if _, err := set.Git(ev); err != nil || calls != 0 {
		t.Fatalf("no file filter applies, yet Files was called %d times (%v)", calls, err)
	}
	ev.Branch = "main"
	if _, err := set.Git(ev); err != nil || calls != 1 {
		t.Fatalf("Files called %d times (%v)", calls, err)
	}
	ev.Files = func() ([]string, error) { return nil, errors.New("git: object not found") }
	if _, err := set.Git(ev); err == nil || err.Error() != "list changed files: git: object not found" {
		t.Fatalf("error %v", err)
	}
}

func TestCompileErrors(t *testing.T) {
	decls := loadDeclarations(t)
	base := func() pipeline.Declaration {
		var d pipeline.Declaration
		b, _ := json.Marshal(decls[3]) // v2-branches
		json.Unmarshal(b, &d)
		return d
	}
	tests := []struct {
		name   string
		mutate func(*pipeline.Declaration)
		want   string
	}{
		{name: "bad include", mutate: func(d *pipeline.Declaration) {
			d.Triggers[0].GitConfiguration.Push[0].Branches.Includes[1] = "main["
		}, want: `pipeline v2-branches: triggers: triggers[0].gitConfiguration.push[0].branches.includes[1]: glob "main[": the bracket expression has no closing ']' at offset 4`},
		{name: "bad exclude and file path", mutate: func(d *pipeline.Declaration) {
			d.Triggers[0].GitConfiguration.Push[0].Branches.Excludes = []string{"{a"}
			d.Triggers[0].GitConfiguration.Push[0].FilePaths = &pipeline.GitFilterCriteria{Includes: []string{"[z-a]"}}
		}, want: `triggers[0].gitConfiguration.push[0].branches.excludes[0]: glob "{a": the group has no closing '}' at offset 0; ` +
			`triggers[0].gitConfiguration.push[0].filePaths.includes[0]: glob "[z-a]": the range z-a runs backwards at offset 2`},
		{name: "pull request glob", mutate: func(d *pipeline.Declaration) {
			d.Triggers[0].GitConfiguration.PullRequest = []pipeline.GitPullRequestFilter{{Branches: &pipeline.GitFilterCriteria{Excludes: []string{`x\`}}}}
		}, want: `triggers[0].gitConfiguration.pullRequest[0].branches.excludes[0]: glob "x\\": no character to escape at offset 1`},
		{name: "unknown action", mutate: func(d *pipeline.Declaration) { d.Triggers[0].GitConfiguration.SourceActionName = "Checkout" },
			want: `triggers[0].gitConfiguration.sourceActionName "Checkout" names no CodeStarSourceConnection source action`},
		{name: "provider", mutate: func(d *pipeline.Declaration) { d.Triggers[0].ProviderType = "GitHub" },
			want: `triggers[0].providerType "GitHub" is not CodeStarSourceConnection`},
		{name: "no git configuration", mutate: func(d *pipeline.Declaration) { d.Triggers[0].GitConfiguration = nil },
			want: `triggers[0].gitConfiguration is missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := base()
			tt.mutate(&d)
			_, err := Compile(&d)
			var ce *CompileError
			if !errors.As(err, &ce) || !strings.HasSuffix(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant  %s", err, tt.want)
			}
		})
	}
}

func eventBridge(source, detailType, detail string) *lambdaevents.CloudWatchEvent {
	return &lambdaevents.CloudWatchEvent{
		Version: "0", ID: "c9888434-815d-c6f4-9fc2-4dd7bdeccaaf", Source: source, DetailType: detailType,
		AccountID: "123456789012", Region: "us-east-1", Detail: json.RawMessage(detail),
	}
}

func TestEventBridge(t *testing.T) {
	codecommit := func(event, refType, ref string) *lambdaevents.CloudWatchEvent {
		return eventBridge(SourceCodeCommit, DetailTypeCodeCommitChange, fmt.Sprintf(
			`{"event":%q,"repositoryName":"orders","repositoryId":"0a1b2c3d","referenceType":%q,"referenceName":%q,"referenceFullName":"refs/heads/%s","commitId":"5a6b7c8d","oldCommitId":"1e2f3a4b"}`,
			event, refType, ref, ref))
	}
	s3 := func(bucket, key string) *lambdaevents.CloudWatchEvent {
		return eventBridge(SourceS3, DetailTypeObjectCreated, fmt.Sprintf(
			`{"version":"0","bucket":{"name":%q},"object":{"key":%q,"size":1024,"etag":"d41d8cd9","version-id":"3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY","sequencer":"0062E99A88DC407460"},"request-id":"N4N7GDK58NMKJ12R","requester":"123456789012","reason":"PutObject"}`,
			bucket, key))
	}
	rule := "arn:aws:events:us-east-1:123456789012:rule/codepipeline-"
	tests := []struct {
		name    string
		ev      *lambdaevents.CloudWatchEvent
		want    []Match
		wantErr string
	}{
		{name: "branch updated", ev: codecommit("referenceUpdated", "branch", "main"), want: []Match{
			{Pipeline: "codecommit-events", Trigger: store.ExecutionTrigger{TriggerType: TypeCloudWatchEvent, TriggerDetail: rule + "codecommit-events-Source"},
				SourceRevisions: []store.SourceRevisionOverride{{ActionName: "Source", RevisionType: "COMMIT_ID", RevisionValue: "5a6b7c8d"}}},
			{Pipeline: "codecommit-polling", Trigger: store.ExecutionTrigger{TriggerType: TypePollForSourceChanges},
				SourceRevisions: []store.SourceRevisionOverride{{ActionName: "Checkout", RevisionType: "COMMIT_ID", RevisionValue: "5a6b7c8d"}}},
		}},
		{name: "branch created", ev: codecommit("referenceCreated", "branch", "main"), want: []Match{{Pipeline: "codecommit-events"}, {Pipeline: "codecommit-polling"}}},
		{name: "branch deleted", ev: codecommit("referenceDeleted", "branch", "main")},
		{name: "tag", ev: codecommit("referenceCreated", "tag", "main")},
		{name: "other branch", ev: codecommit("referenceUpdated", "branch", "develop")},
		{name: "object created", ev: s3("releases", "orders/app.zip"), want: []Match{
			{Pipeline: "s3-source", Trigger: store.ExecutionTrigger{TriggerType: TypeCloudWatchEvent, TriggerDetail: rule + "s3-source-Source"},
				SourceRevisions: []store.SourceRevisionOverride{{ActionName: "Source", RevisionType: "S3_OBJECT_VERSION_ID", RevisionValue: "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"}}},
		}},
		{name: "other key", ev: s3("releases", "orders/other.zip")},
		{name: "other bucket", ev: s3("backups", "orders/app.zip")},
		{name: "unsupported", ev: eventBridge("aws.codebuild", "CodeBuild Build State Change", `{}`),
			wantErr: `EventBridge event "CodeBuild Build State Change" from aws.codebuild starts no pipeline`},
		{name: "bad detail", ev: eventBridge(SourceS3, DetailTypeObjectCreated, `{"object":{"size":"big"}}`),
			wantErr: "Object Created event c9888434-815d-c6f4-9fc2-4dd7bdeccaaf: detail.object.size is a JSON string, want int64"},
	}
	set := testSet(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := set.EventBridge(tt.ev)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("matches %+v %v, want %d", got, err, len(tt.want))
			}
			for i, w := range tt.want {
				if got[i].Pipeline != w.Pipeline {
					t.Fatalf("match %d: %s, want %s", i, got[i].Pipeline, w.Pipeline)
				}
				if w.Trigger.TriggerType == "" {
					continue
				}
				if got[i].Trigger != w.Trigger || !slices.Equal(got[i].SourceRevisions, w.SourceRevisions) || got[i].EventTrigger != EventTriggerOf(w.Trigger) {
					t.Fatalf("match %d: %+v\nwant %+v", i, got[i], w)
				}
			}
		})
	}
}

func TestForWebhook(t *testing.T) {
	d := &webhook.Delivery{Webhook: &webhook.Registered{
		Definition: webhook.Definition{Name: "orders-main", TargetPipeline: "orders", TargetAction: "Source"},
		ARN:        "arn:aws:codepipeline:us-east-1:123456789012:webhook:orders-main",
	}}
	m := ForWebhook(d)
	if m.Pipeline != "orders" || m.Trigger != (store.ExecutionTrigger{TriggerType: TypeWebhook, TriggerDetail: d.Webhook.ARN}) ||
		len(m.SourceRevisions) != 0 || m.EventTrigger.TriggerType != TypeWebhook {
		t.Fatalf("match %+v", m)
	}
	if got := Manual(TypeStartPipelineExecution, "arn:aws:iam::123456789012:user/sluice"); got.TriggerType != "StartPipelineExecution" || got.TriggerDetail == "" {
		t.Fatalf("manual %+v", got)
	}
}

func TestExecutionID(t *testing.T) {
	a := ExecutionID("github#delivery#72d3162e", "orders")
	if a != ExecutionID("github#delivery#72d3162e", "orders") || a == ExecutionID("github#delivery#72d3162e", "billing") ||
		a == ExecutionID("github#delivery#72d3162f", "orders") {
		t.Fatal("execution ids are not a function of delivery and pipeline")
	}
	if len(a) != 36 || a[14] != '5' {
		t.Fatalf("%q is not a version 5 UUID", a)
	}
}

func TestRuleARN(t *testing.T) {
	long := RuleARN("eu-west-1", "111122223333", strings.Repeat("p", 80), "Source")
	if !strings.HasPrefix(long, "arn:aws:events:eu-west-1:111122223333:rule/codepipeline-ppp") || len(long)-strings.Index(long, "rule/")-5 != 64 {
		t.Fatalf("rule ARN %q", long)
	}
}

// BenchmarkSetGit matches a push against a thousand V2 pipelines over a
// hundred repositories, each with branch, tag and file path filters.
func BenchmarkSetGit(b *testing.B) {
	var ps []*Pipeline
	for i := range 1000 {
		d := pipeline.Declaration{
			Name: fmt.Sprintf("p%04d", i), PipelineType: pipeline.PipelineTypeV2,
			Stages: []pipeline.Stage{{Name: "Source", Actions: []pipeline.Action{{
				Name:          "Source",
				ActionTypeID:  pipeline.ActionTypeID{Category: "Source", Owner: "AWS", Provider: ProviderConnection, Version: "1"},
				Configuration: map[string]string{"ConnectionArn": connARN, "FullRepositoryId": fmt.Sprintf("org/repo-%d", i%100), "BranchName": "main"},
			}}}},
			Triggers: []pipeline.Trigger{{ProviderType: pipeline.TriggerCodeStarSourceConnection, GitConfiguration: &pipeline.GitConfiguration{
				SourceActionName: "Source",
				Push: []pipeline.GitPushFilter{
					{Branches: &pipeline.GitFilterCriteria{Includes: []string{"main", "release/**"}, Excludes: []string{"release/legacy*"}},
						FilePaths: &pipeline.GitFilterCriteria{Includes: []string{fmt.Sprintf("services/svc-%d/**", i%10), "common/**"}, Excludes: []string{"**/*.md"}}},
					{Tags: &pipeline.GitFilterCriteria{Includes: []string{"v*"}}},
				},
			}}},
		}
		p, err := Compile(&d)
		if err != nil {
			b.Fatal(err)
		}
		ps = append(ps, p)
	}
	set := NewSet(ps...)
	ev := &GitEvent{Kind: GitPush, Repository: "org/repo-42", Branch: "main", Commit: "9fceb02d",
		Files: files("services/svc-2/api/handler.go", "services/svc-2/README.md", "docs/index.md")}
	b.ReportAllocs()
	for b.Loop() {
		ms, err := set.Git(ev)
		if err != nil || len(ms) != 10 {
			b.Fatalf("%d matches, %v", len(ms), err)
		}
	}
}
