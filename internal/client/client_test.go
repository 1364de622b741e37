package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/sigv4"
)

func TestSigner(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want Signer
	}{
		{"local server", Options{Endpoint: "http://127.0.0.1:8080"}, SignWithDataDir},
		{"localhost", Options{Endpoint: "http://localhost:9000"}, SignWithDataDir},
		{"IPv6 loopback", Options{Endpoint: "http://[::1]:8080"}, SignWithDataDir},
		{"deployed", Options{Endpoint: "https://api.example.com/prod"}, SignWithChain},
		{"deployed with a data folder", Options{Endpoint: "https://api.example.com", DataDirGiven: true}, SignWithDataDir},
		{"local with a profile", Options{Endpoint: "http://127.0.0.1:8080", Profile: "ci"}, SignWithChain},
		{"a profile wins over a data folder", Options{Endpoint: "http://127.0.0.1:8080", Profile: "ci", DataDirGiven: true}, SignWithChain},
		{"another machine of the network", Options{Endpoint: "http://10.0.0.5:8080"}, SignWithChain},
	}
	for _, tt := range tests {
		if got := tt.o.Signer(); got != tt.want {
			t.Errorf("%s: signer %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestCheckEndpoint(t *testing.T) {
	for endpoint, ok := range map[string]bool{
		"http://127.0.0.1:8080":    true,
		"https://api.example.com/": true,
		"127.0.0.1:8080":           false,
		"ftp://example.com":        false,
		"http://":                  false,
		"":                         false,
	} {
		if err := CheckEndpoint(endpoint); (err == nil) != ok {
			t.Errorf("CheckEndpoint(%q) = %v", endpoint, err)
		}
	}
}

// fakeAPI answers every request with the status and body of answer, and
// records the requests' Authorization headers.
type fakeAPI struct {
	*httptest.Server
	auth chan string
}

func newFakeAPI(t *testing.T, answer func(op string) (int, []byte)) *fakeAPI {
	f := &fakeAPI{auth: make(chan string, 16)}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case f.auth <- r.Header.Get("Authorization"):
		default:
		}
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "CodePipeline_20150709.")
		status, body := answer(op)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(f.Close)
	return f
}

// writeCredentials writes a data folder's credentials file.
func writeCredentials(t *testing.T, dir, profile, id string) string {
	t.Helper()
	path := filepath.Join(dir, sigv4.CredentialsFile)
	body := "[" + profile + "]\naws_access_key_id = " + id + "\naws_secret_access_key = c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDialCredentials checks which key signs the requests: the data
// folder's for a local endpoint, the named profile's otherwise.
func TestDialCredentials(t *testing.T) {
	api := newFakeAPI(t, func(string) (int, []byte) { return 200, []byte(`{"pipelines":[]}`) })
	data := t.TempDir()
	writeCredentials(t, data, sigv4.Profile, "AKIADATAFOLDER000001")
	shared := writeCredentials(t, t.TempDir(), "ci", "AKIAPROFILE000000001")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", shared)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_PROFILE", "")
	tests := []struct {
		name    string
		o       Options
		wantKey string
		wantErr string
	}{
		{"the data folder's key", Options{Endpoint: api.URL, DataDir: data}, "AKIADATAFOLDER000001", ""},
		{"a profile's key", Options{Endpoint: api.URL, DataDir: data, Profile: "ci"}, "AKIAPROFILE000000001", ""},
		{"no credentials file", Options{Endpoint: api.URL, DataDir: t.TempDir()}, "", "the file 'sluice serve --data-dir"},
		{"an endpoint that is no URL", Options{Endpoint: "localhost:8080", DataDir: data}, "", `endpoint "localhost:8080": want a URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Dial(context.Background(), tt.o)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Dial: %v, want an error saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.API.ListPipelines(context.Background(), &codepipeline.ListPipelinesInput{}); err != nil {
				t.Fatal(err)
			}
			auth := <-api.auth
			if !strings.Contains(auth, "Credential="+tt.wantKey+"/") || !strings.Contains(auth, "/us-east-1/codepipeline/aws4_request") {
				t.Errorf("signed %q, want key %s for codepipeline in us-east-1", auth, tt.wantKey)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	api := newFakeAPI(t, func(op string) (int, []byte) {
		codes := map[string]string{
			"GetPipelineState":      "PipelineNotFoundException",
			"GetPipelineExecution":  "PipelineExecutionNotFoundException",
			"RetryStageExecution":   "StageNotFoundException",
			"PutApprovalResult":     "ActionNotFoundException",
			"ListPipelines":         "UnrecognizedClientException",
			"StopPipelineExecution": "PipelineExecutionNotStoppableException",
		}
		return 400, []byte(`{"__type":"` + codes[op] + `","message":"the server's words"}`)
	})
	data := t.TempDir()
	writeCredentials(t, data, sigv4.Profile, "AKIADATAFOLDER000001")
	c, err := Dial(context.Background(), Options{Endpoint: api.URL, DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	down, err := Dial(context.Background(), Options{Endpoint: closed, DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	target := Target{Pipeline: "release", Execution: "e-1", Stage: "Deploy", Action: "Approve"}
	tests := []struct {
		name     string
		conn     *Conn
		call     func(*codepipeline.Client) error
		wantCode string
		want     string
	}{
		{"no pipeline", c, func(a *codepipeline.Client) error {
			_, err := a.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String("release")})
			return err
		}, "PipelineNotFoundException", "pipeline 'release' not found"},
		{"no execution", c, func(a *codepipeline.Client) error {
			_, err := a.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("release"), PipelineExecutionId: aws.String("e-1")})
			return err
		}, "PipelineExecutionNotFoundException", "execution 'e-1' of pipeline 'release' not found"},
		{"no stage", c, func(a *codepipeline.Client) error {
			_, err := a.RetryStageExecution(ctx, &codepipeline.RetryStageExecutionInput{PipelineName: aws.String("release"), StageName: aws.String("Deploy"),
				PipelineExecutionId: aws.String("e-1"), RetryMode: types.StageRetryModeAllActions})
			return err
		}, "StageNotFoundException", "pipeline 'release' has no stage 'Deploy'"},
		{"no action", c, func(a *codepipeline.Client) error {
			_, err := a.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{PipelineName: aws.String("release"), StageName: aws.String("Deploy"),
				ActionName: aws.String("Approve"), Token: aws.String("t"), Result: &types.ApprovalResult{Status: types.ApprovalStatusApproved, Summary: aws.String("")}})
			return err
		}, "ActionNotFoundException", "stage 'Deploy' of pipeline 'release' has no action 'Approve'"},
		{"refused credentials", c, func(a *codepipeline.Client) error {
			_, err := a.ListPipelines(ctx, &codepipeline.ListPipelinesInput{})
			return err
		}, "UnrecognizedClientException", "refused the request (UnrecognizedClientException: the server's words); it was signed with profile sluice of " + data},
		{"another exception", c, func(a *codepipeline.Client) error {
			_, err := a.StopPipelineExecution(ctx, &codepipeline.StopPipelineExecutionInput{PipelineName: aws.String("release"), PipelineExecutionId: aws.String("e-1")})
			return err
		}, "PipelineExecutionNotStoppableException", "PipelineExecutionNotStoppableException: the server's words"},
		{"no server", down, func(a *codepipeline.Client) error {
			_, err := a.ListPipelines(ctx, &codepipeline.ListPipelinesInput{})
			return err
		}, "", "no Sluice server answers at " + closed + ": start one with 'sluice serve'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.conn.Explain(tt.call(tt.conn.API), target)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Explain gave %T %v", err, err)
			}
			if e.Code != tt.wantCode || !strings.Contains(e.Message, tt.want) {
				t.Errorf("Explain: %s %q, want %s %q", e.Code, e.Message, tt.wantCode, tt.want)
			}
		})
	}
	if c.Explain(nil, target) != nil {
		t.Error("Explain(nil) is not nil")
	}
}

// fill sets every member of v, recursively: strings, enums, numbers,
// booleans, one element of every list and map, and a timestamp with
// milliseconds.
func fill(v reflect.Value, depth int) {
	if depth > 12 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(time.UnixMilli(1_700_000_000_125).UTC()))
			return
		}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && f.Type != metadataType {
				fill(v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), depth+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		val := reflect.New(v.Type().Elem()).Elem()
		fill(val, depth+1)
		m.SetMapIndex(reflect.ValueOf("key").Convert(v.Type().Key()), val)
		v.Set(m)
	case reflect.String:
		v.SetString("value-" + v.Type().Name())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(7)
	}
}

// TestWriteJSONRoundTrip fills every member of the outputs the command
// line prints, writes them with MarshalJSON, has the SDK decode that as
// the server's answer, and checks that nothing was lost: every member name
// is the one the SDK's decoder reads.
func TestWriteJSONRoundTrip(t *testing.T) {
	ctx := context.Background()
	name := aws.String("p")
	decl := new(types.PipelineDeclaration)
	fill(reflect.ValueOf(decl).Elem(), 0)
	tests := []struct {
		op   string
		out  any
		call func(*codepipeline.Client) (any, error)
	}{
		{"ListPipelines", &codepipeline.ListPipelinesOutput{}, func(c *codepipeline.Client) (any, error) {
			return c.ListPipelines(ctx, &codepipeline.ListPipelinesInput{})
		}},
		{"GetPipeline", &codepipeline.GetPipelineOutput{}, func(c *codepipeline.Client) (any, error) {
			return c.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: name})
		}},
		{"CreatePipeline", &codepipeline.CreatePipelineOutput{}, func(c *codepipeline.Client) (any, error) {
			return c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: decl})
		}},
		{"UpdatePipeline", &codepipeline.UpdatePipelineOutput{}, func(c *codepipeline.Client) (any, error) {
			return c.UpdatePipeline(ctx, &codepipeline.UpdatePipelineInput{Pipeline: decl})
		}},
		{"GetPipelineState", &codepipeline.GetPipelineStateOutput{}, func(c *codepipeline.Client) (any, error) {
			return c.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: name})
		}},
		{"GetPipelineExecution", &codepipeline.GetPipelineExecutionOutput{}, func(c *codepipeline.Client) (any, error) {
			return c.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: name, PipelineExecutionId: name})
		}},
		{"ListPipelineExecutions", &codepipeline.ListPipelineExecutionsOutput{}, func(c *codepipeline.Client) (any, error) {
			return c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: name})
		}},
		{"ListActionExecutions", &codepipeline.ListActionExecutionsOutput{}, func(c *codepipeline.Client) (any, error) {
			return c.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: name})
		}},
		{"StartPipelineExecution", &codepipeline.StartPipelineExecutionOutput{}, func(c *codepipeline.Client) (any, error) {
			return c.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: name})
		}},
		{"PutApprovalResult", &codepipeline.PutApprovalResultOutput{}, func(c *codepipeline.Client) (any, error) {
			return c.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{PipelineName: name, StageName: name, ActionName: name, Token: name,
				Result: &types.ApprovalResult{Status: types.ApprovalStatusApproved, Summary: name}})
		}},
		{"ListWebhooks", &codepipeline.ListWebhooksOutput{}, func(c *codepipeline.Client) (any, error) {
			return c.ListWebhooks(ctx, &codepipeline.ListWebhooksInput{})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			fill(reflect.ValueOf(tt.out).Elem(), 0)
			want, err := MarshalJSON(tt.out)
			if err != nil {
				t.Fatal(err)
			}
			api := newFakeAPI(t, func(op string) (int, []byte) {
				if op != tt.op {
					return 400, []byte(`{"__type":"UnknownOperationException"}`)
				}
				return 200, want
			})
			data := t.TempDir()
			writeCredentials(t, data, sigv4.Profile, "AKIADATAFOLDER000001")
			c, err := Dial(ctx, Options{Endpoint: api.URL, DataDir: data})
			if err != nil {
				t.Fatal(err)
			}
			decoded, err := tt.call(c.API)
			if err != nil {
				t.Fatal(err)
			}
			got, err := MarshalJSON(decoded)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("the SDK read back\n%s\nfrom\n%s", got, want)
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	out := &codepipeline.GetPipelineStateOutput{
		PipelineName: aws.String("release"), PipelineVersion: aws.Int32(2),
		Created: aws.Time(time.UnixMilli(1_700_000_000_500)),
		StageStates: []types.StageState{{
			StageName:              aws.String("Deploy"),
			InboundTransitionState: &types.TransitionState{Enabled: false, DisabledReason: aws.String("<freeze> & hold")},
			ActionStates:           []types.ActionState{},
		}},
	}
	var b strings.Builder
	if err := WriteJSON(&b, out); err != nil {
		t.Fatal(err)
	}
	want := `{
  "created": 1700000000.5,
  "pipelineName": "release",
  "pipelineVersion": 2,
  "stageStates": [
    {
      "actionStates": [],
      "inboundTransitionState": {
        "disabledReason": "<freeze> & hold",
        "enabled": false
      },
      "stageName": "Deploy"
    }
  ]
}
`
	if b.String() != want {
		t.Errorf("WriteJSON wrote\n%s\nwant\n%s", b.String(), want)
	}
}

// TestDeclarationRoundTrip converts declarations to the SDK's type and
// back, and checks that the SDK's type, written as the API writes it, says
// what the declaration says.
func TestDeclarationRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("../../pipelines/*.yaml")
	files = append(files, "../pipeline/testdata/forms/declaration.yaml")
	if len(files) < 3 {
		t.Fatalf("declarations %v", files)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			f, err := pipeline.Load(file, pipeline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			d := f.Pipelines[0].Declaration
			sdk, err := ToSDK(d)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(d)
			got, err := MarshalJSON(sdk)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, got, want) {
				t.Errorf("the SDK's declaration says\n%s\nthe file says\n%s", got, want)
			}
			back, err := FromSDK(sdk)
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := json.Marshal(back); !sameJSON(t, again, want) {
				t.Errorf("back from the SDK's type\n%s\nwant\n%s", again, want)
			}
		})
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}
