package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/sluice-ci/sluice/internal/api"
)

// TestAuthentication sends requests that are not signed, or signed badly,
// and checks AWS's exceptions.
func TestAuthentication(t *testing.T) {
	ts := startServer(t, "")
	admin := ts.srv.Admin
	body := []byte(`{}`)
	send := func(sign func(*http.Request)) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, ts.srv.Endpoint()+"/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "CodePipeline_20150709.ListPipelines")
		if sign != nil {
			sign(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e struct {
			Type string `json:"__type"`
		}
		json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e.Type
	}
	signedIn := func(region, id, secret string, at time.Time) func(*http.Request) {
		return func(r *http.Request) {
			sum := sha256.Sum256(body)
			err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret},
				r, hex.EncodeToString(sum[:]), "codepipeline", region, at)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	signed := func(id, secret string, at time.Time) func(*http.Request) {
		return signedIn("us-east-1", id, secret, at)
	}
	now := time.Now()
	tests := []struct {
		name   string
		sign   func(*http.Request)
		status int
		code   string
	}{
		{"signed", signed(admin.AccessKeyID, admin.SecretAccessKey, now), 200, ""},
		{"not signed", nil, 400, "MissingAuthenticationTokenException"},
		{"an unknown key", signed("AKIAUNKNOWNUNKNOWN00", admin.SecretAccessKey, now), 400, "UnrecognizedClientException"},
		{"a wrong secret", signed(admin.AccessKeyID, "wrong"+admin.SecretAccessKey[5:], now), 400, "InvalidSignatureException"},
		{"a stale date", signed(admin.AccessKeyID, admin.SecretAccessKey, now.Add(-20*time.Minute)), 400, "InvalidSignatureException"},
		{"a date from the future", signed(admin.AccessKeyID, admin.SecretAccessKey, now.Add(20*time.Minute)), 400, "InvalidSignatureException"},
		{"signed for another region", signedIn("eu-west-1", admin.AccessKeyID, admin.SecretAccessKey, now), 400, "InvalidSignatureException"},
		{"a body changed after signing", func(r *http.Request) {
			signed(admin.AccessKeyID, admin.SecretAccessKey, now)(r)
			r.Body, r.ContentLength = http.NoBody, 0
		}, 400, "InvalidSignatureException"},
	}
	for _, tt := range tests {
		status, code := send(tt.sign)
		if status != tt.status || code != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, status, code, tt.status, tt.code)
		}
	}
}

// TestAuthorization gives keys allow-lists: one key may act on pipeline
// other only, another may only read release. Approvals, their tokens and
// every other operation follow the lists.
func TestAuthorization(t *testing.T) {
	dir := t.TempDir()
	writeKeys(t, dir,
		api.Key{Name: "deployer", AccessKeyID: "AKIADEPLOYER00000000", SecretAccessKey: "deployer-secret", Pipelines: []string{"other"}},
		api.Key{Name: "viewer", AccessKeyID: "AKIAVIEWER0000000000", SecretAccessKey: "viewer-secret", Pipelines: []string{"release"},
			Actions: []string{"codepipeline:Get*", "codepipeline:List*"}},
	)
	ts := startServer(t, dir)
	ctx := context.Background()
	ts.putSource("v1")
	for _, name := range []string{"release", "other"} {
		if _, err := ts.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: declaration(t, "release.json", name)}); err != nil {
			t.Fatal(err)
		}
	}
	token := ts.waitApproval("release", "Approve", "Release")
	deployer := ts.clientFor("AKIADEPLOYER00000000", "deployer-secret")
	viewer := ts.clientFor("AKIAVIEWER0000000000", "viewer-secret")
	approve := func(c *codepipeline.Client, pipelineName, tok string) error {
		_, err := c.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{
			PipelineName: aws.String(pipelineName), StageName: aws.String("Approve"), ActionName: aws.String("Release"),
			Token: aws.String(tok), Result: &types.ApprovalResult{Status: types.ApprovalStatusApproved, Summary: aws.String("")},
		})
		return err
	}
	refused := []struct {
		name string
		call func() error
	}{
		{"the deployer reads release", func() error {
			_, err := deployer.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("release")})
			return err
		}},
		{"the deployer approves release", func() error { return approve(deployer, "release", token) }},
		{"the deployer deletes release", func() error {
			_, err := deployer.DeletePipeline(ctx, &codepipeline.DeletePipelineInput{Name: aws.String("release")})
			return err
		}},
		{"the viewer approves release", func() error { return approve(viewer, "release", token) }},
		{"the viewer starts release", func() error {
			_, err := viewer.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("release")})
			return err
		}},
		{"the viewer disables a transition", func() error {
			_, err := viewer.DisableStageTransition(ctx, &codepipeline.DisableStageTransitionInput{PipelineName: aws.String("release"),
				StageName: aws.String("Deploy"), TransitionType: types.StageTransitionTypeInbound, Reason: aws.String("no")})
			return err
		}},
		{"the viewer tags release", func() error {
			_, err := viewer.TagResource(ctx, &codepipeline.TagResourceInput{ResourceArn: aws.String("arn:aws:codepipeline:us-east-1:123456789012:release"),
				Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}},
	}
	for _, tc := range refused {
		wantCode(t, tc.name, tc.call(), "AccessDeniedException")
	}

	list, err := deployer.ListPipelines(ctx, &codepipeline.ListPipelinesInput{})
	if err != nil || len(list.Pipelines) != 1 || aws.ToString(list.Pipelines[0].Name) != "other" {
		t.Errorf("the deployer lists %+v, %v", list, err)
	}
	tokenOf := func(c *codepipeline.Client) string {
		s, err := c.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String("release")})
		if err != nil {
			t.Fatal(err)
		}
		if le := s.StageStates[1].ActionStates[0].LatestExecution; le != nil {
			return aws.ToString(le.Token)
		}
		return ""
	}
	if got := tokenOf(viewer); got != "" {
		t.Errorf("the viewer sees the approval token %q", got)
	}
	if got := tokenOf(ts.client); got != token {
		t.Errorf("the admin sees token %q, want %q", got, token)
	}
	otherToken := ts.waitApproval("other", "Approve", "Release")
	if err := approve(deployer, "other", otherToken); err != nil {
		t.Errorf("the deployer approves other: %v", err)
	}

}
