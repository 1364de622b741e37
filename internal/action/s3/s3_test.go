package s3

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/action/actiontest"
	"github.com/sluice-ci/sluice/internal/artifact"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func readAll(t *testing.T, rc io.ReadCloser) string {
	t.Helper()
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStoreVersions(t *testing.T) {
	ctx := context.Background()
	st := NewStore(t.TempDir())
	v1, err := st.Put(ctx, "my-bucket", "app/src.zip", strings.NewReader("one"), map[string]string{MetaRevisionSummary: "first"}, "")
	if err != nil {
		t.Fatal(err)
	}
	v2, err := st.Put(ctx, "my-bucket", "app/src.zip", strings.NewReader("two"), nil, "job-2")
	if err != nil {
		t.Fatal(err)
	}
	if v1.VersionID >= v2.VersionID {
		t.Fatalf("version ids do not sort by time: %s, %s", v1.VersionID, v2.VersionID)
	}
	tests := []struct {
		name      string
		versionID string
		want      string
		wantObj   Object
	}{
		{name: "current", want: "two", wantObj: v2},
		{name: "first version", versionID: v1.VersionID, want: "one", wantObj: v1},
		{name: "second version", versionID: v2.VersionID, want: "two", wantObj: v2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, obj, err := st.Open(ctx, "my-bucket", "app/src.zip", tt.versionID)
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, rc); got != tt.want {
				t.Fatalf("content %q, want %q", got, tt.want)
			}
			if obj.VersionID != tt.wantObj.VersionID || obj.ETag != md5hex(tt.want) || obj.Size != int64(len(tt.want)) {
				t.Fatalf("object %+v", obj)
			}
		})
	}
	if got, _ := os.ReadFile(st.ObjectPath("my-bucket", "app/src.zip")); string(got) != "two" {
		t.Fatalf("current file holds %q", got)
	}
	versions, err := st.Versions("my-bucket", "app/src.zip")
	if err != nil || len(versions) != 2 || versions[0].JobID != "job-2" || versions[1].Metadata[MetaRevisionSummary] != "first" {
		t.Fatalf("versions %+v, %v", versions, err)
	}
	if _, _, err := st.Open(ctx, "my-bucket", "app/src.zip", "0000000000000000ffffffffffffffff"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("missing version: %v", err)
	}
	if _, err := st.Put(ctx, "my-bucket", "app/src.zip/inner", strings.NewReader("x"), nil, ""); err == nil || !strings.Contains(err.Error(), "cannot also be a folder") {
		t.Fatalf("object under an object: %v", err)
	}
}

func TestStoreRecordsFilesWrittenByHand(t *testing.T) {
	ctx := context.Background()
	st := NewStore(t.TempDir())
	path := st.ObjectPath("hand-bucket", "src.txt")
	steps := []struct {
		name         string
		write        string // content written by hand ("" = none)
		touch        bool
		wantContent  string
		wantVersions int
	}{
		{name: "first file", write: "hello", wantContent: "hello", wantVersions: 1},
		{name: "read again", wantContent: "hello", wantVersions: 1},
		{name: "touched only", touch: true, wantContent: "hello", wantVersions: 1},
		{name: "changed", write: "hello again", wantContent: "hello again", wantVersions: 2},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.write != "" {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(s.write), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if s.touch {
				later := time.Now().Add(time.Hour)
				if err := os.Chtimes(path, later, later); err != nil {
					t.Fatal(err)
				}
			}
			rc, obj, err := st.Open(ctx, "hand-bucket", "src.txt", "")
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, rc); got != s.wantContent || obj.ETag != md5hex(s.wantContent) {
				t.Fatalf("content %q etag %s", got, obj.ETag)
			}
			versions, _ := st.Versions("hand-bucket", "src.txt")
			if len(versions) != s.wantVersions {
				t.Fatalf("%d versions, want %d", len(versions), s.wantVersions)
			}
		})
	}
}

func TestValidateNames(t *testing.T) {
	tests := []struct {
		bucket, key string
		wantErr     string
	}{
		{bucket: "ok-bucket.1", key: "a/b/c.zip"},
		{bucket: "ab", key: "k", wantErr: "3 to 63"},
		{bucket: "Upper", key: "k", wantErr: "not allowed"},
		{bucket: "-bucket", key: "k", wantErr: "begin and end"},
		{bucket: "a..b", key: "k", wantErr: "adjacent periods"},
		{bucket: "bucket", key: "", wantErr: "empty"},
		{bucket: "bucket", key: "../x", wantErr: `segment ".."`},
		{bucket: "bucket", key: "/abs", wantErr: "empty segment"},
		{bucket: "bucket", key: "dir/", wantErr: "empty segment"},
		{bucket: "bucket", key: `a\b`, wantErr: "backslashes"},
		{bucket: "bucket", key: ".sluice-versions/x", wantErr: "reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.bucket+"/"+tt.key, func(t *testing.T) {
			err := validate(tt.bucket, tt.key)
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// fixture is a data folder with an S3 store and an artifact store.
type fixture struct {
	store     *Store
	artifacts *artifact.Folder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return &fixture{store: NewStore(filepath.Join(t.TempDir(), "s3")), artifacts: actiontest.Artifacts(t)}
}

func sourceJob(f *fixture, config map[string]string, overrides ...action.SourceRevisionOverride) *action.Job {
	return &action.Job{
		ID: "src-1", ActionName: "Source", ActionType: action.Type{Category: "Source", Owner: "AWS", Provider: "S3", Version: "1"},
		Configuration:   config,
		OutputArtifacts: []action.Artifact{{Name: "SourceArtifact", Key: "p/e/SourceArtifact"}},
		SourceRevisions: overrides,
		Artifacts:       f.artifacts,
	}
}

func TestSource(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v1, _ := f.store.Put(ctx, "src-bucket", "app.zip", strings.NewReader("v1 bytes"), map[string]string{MetaRevisionSummary: "release 1"}, "")
	v2, _ := f.store.Put(ctx, "src-bucket", "app.zip", strings.NewReader("v2 bytes"), nil, "")
	_, _ = f.store.Put(ctx, "src-bucket", "other.txt", strings.NewReader("other"), nil, "")
	config := map[string]string{"S3Bucket": "src-bucket", "S3ObjectKey": "app.zip"}
	allow := map[string]string{"S3Bucket": "src-bucket", "S3ObjectKey": "app.zip", "AllowOverrideForS3ObjectKey": "true"}

	tests := []struct {
		name      string
		job       *action.Job
		want      string // artifact content
		wantVer   Object
		wantCode  string // failure code
		wantInMsg string
	}{
		{name: "latest", job: sourceJob(f, config), want: "v2 bytes", wantVer: v2},
		{
			name: "version override", want: "v1 bytes", wantVer: v1,
			job: sourceJob(f, config, action.SourceRevisionOverride{RevisionType: action.RevisionS3ObjectVersionID, RevisionValue: v1.VersionID}),
		},
		{
			name: "unknown version", wantCode: action.CodeRevisionUnavailable, wantInMsg: "no such object",
			job: sourceJob(f, config, action.SourceRevisionOverride{RevisionType: action.RevisionS3ObjectVersionID, RevisionValue: "0000000000000000ffffffffffffffff"}),
		},
		{
			name: "key override not allowed", wantCode: action.CodeConfigurationError, wantInMsg: "AllowOverrideForS3ObjectKey",
			job: sourceJob(f, config, action.SourceRevisionOverride{RevisionType: action.RevisionS3ObjectKey, RevisionValue: "other.txt"}),
		},
		{
			name: "key override allowed", want: "other",
			job: sourceJob(f, allow, action.SourceRevisionOverride{RevisionType: action.RevisionS3ObjectKey, RevisionValue: "other.txt"}),
		},
		{
			name: "missing object", wantCode: action.CodeConfigurationError, wantInMsg: "put the source object at",
			job: sourceJob(f, map[string]string{"S3Bucket": "src-bucket", "S3ObjectKey": "none.zip"}),
		},
		{
			name: "missing configuration", wantCode: action.CodeConfigurationError, wantInMsg: "S3ObjectKey is required",
			job: sourceJob(f, map[string]string{"S3Bucket": "src-bucket"}),
		},
		{
			name: "bad key", wantCode: action.CodeConfigurationError, wantInMsg: `segment ".."`,
			job: sourceJob(f, map[string]string{"S3Bucket": "src-bucket", "S3ObjectKey": "../../etc/passwd"}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := (&Source{Store: f.store}).Run(ctx, tt.job)
			if !actiontest.Check(t, res, err, tt.wantCode, tt.wantInMsg) {
				return
			}
			if got := string(actiontest.Read(t, f.artifacts, "p/e/SourceArtifact")); got != tt.want {
				t.Fatalf("artifact %q, want %q", got, tt.want)
			}
			if res.OutputVariables["ETag"] != md5hex(tt.want) || res.Revision.ChangeIdentifier != md5hex(tt.want) {
				t.Fatalf("ETag %q", res.OutputVariables["ETag"])
			}
			if tt.wantVer.VersionID != "" {
				if res.OutputVariables["VersionId"] != tt.wantVer.VersionID || res.Revision.RevisionID != tt.wantVer.VersionID ||
					res.Revision.RevisionSummary != tt.wantVer.Metadata[MetaRevisionSummary] || !res.Revision.Created.Equal(tt.wantVer.LastModified) {
					t.Fatalf("revision %+v, variables %v, want version %+v", res.Revision, res.OutputVariables, tt.wantVer)
				}
			}
		})
	}
}

func TestDeploy(t *testing.T) {
	ctx := context.Background()
	site := map[string]string{"index.html": "<h1>hi</h1>", "css/site.css": "body{}"}
	tests := []struct {
		name      string
		config    map[string]string
		input     []byte
		want      map[string]string // key -> content in the bucket
		wantCode  string
		wantInMsg string
	}{
		{
			name:   "extract at the root",
			config: map[string]string{"BucketName": "web-bucket", "Extract": "true"},
			input:  actiontest.Zip(t, site),
			want:   map[string]string{"index.html": "<h1>hi</h1>", "css/site.css": "body{}"},
		},
		{
			name:   "extract under a prefix",
			config: map[string]string{"BucketName": "web-bucket", "Extract": "TRUE", "ObjectKey": "/v1/"},
			input:  actiontest.Zip(t, site),
			want:   map[string]string{"v1/index.html": "<h1>hi</h1>", "v1/css/site.css": "body{}"},
		},
		{
			name:   "artifact as one object",
			config: map[string]string{"BucketName": "web-bucket", "Extract": "false", "ObjectKey": "builds/app.zip"},
			input:  []byte("zip bytes"),
			want:   map[string]string{"builds/app.zip": "zip bytes"},
		},
		{
			name:     "object key required without extract",
			config:   map[string]string{"BucketName": "web-bucket", "Extract": "false"},
			input:    []byte("x"),
			wantCode: action.CodeConfigurationError, wantInMsg: "ObjectKey is required when Extract is false",
		},
		{
			name:     "extract is a boolean",
			config:   map[string]string{"BucketName": "web-bucket", "Extract": "yes"},
			input:    []byte("x"),
			wantCode: action.CodeConfigurationError, wantInMsg: `Extract is "yes"`,
		},
		{
			name:     "not a zip",
			config:   map[string]string{"BucketName": "web-bucket", "Extract": "true"},
			input:    []byte("plain text"),
			wantCode: action.CodeJobFailed, wantInMsg: "read zip",
		},
		{
			name:     "reserved folder in the artifact",
			config:   map[string]string{"BucketName": "web-bucket", "Extract": "true"},
			input:    actiontest.Zip(t, map[string]string{".sluice-versions/x": "evil"}),
			wantCode: action.CodeJobFailed, wantInMsg: "reserved",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			actiontest.Put(t, f.artifacts, "p/e/Build", tt.input)
			job := &action.Job{
				ID: "deploy-" + string(rune('a'+i)), ActionName: "Deploy",
				ActionType:     action.Type{Category: "Deploy", Owner: "AWS", Provider: "S3", Version: "1"},
				Configuration:  tt.config,
				InputArtifacts: []action.Artifact{{Name: "Build", Key: "p/e/Build"}},
				Artifacts:      f.artifacts,
			}
			d := &Deploy{Store: f.store}
			res, err := d.Run(ctx, job)
			if !actiontest.Check(t, res, err, tt.wantCode, tt.wantInMsg) {
				return
			}
			for key, want := range tt.want {
				got, err := os.ReadFile(f.store.ObjectPath("web-bucket", key))
				if err != nil || string(got) != want {
					t.Errorf("%s: %q %v, want %q", key, got, err, want)
				}
			}
			// A redelivery of the same job writes no new version.
			if _, err := d.Run(ctx, job); err != nil {
				t.Fatal(err)
			}
			for key := range tt.want {
				if versions, _ := f.store.Versions("web-bucket", key); len(versions) != 1 || versions[0].JobID != job.ID {
					t.Errorf("%s: versions %+v after a redelivery", key, versions)
				}
			}
			// A new job deploys a new version.
			job.ID += "-next"
			if _, err := d.Run(ctx, job); err != nil {
				t.Fatal(err)
			}
			for key := range tt.want {
				if versions, _ := f.store.Versions("web-bucket", key); len(versions) != 2 {
					t.Errorf("%s: %d versions after a second deployment", key, len(versions))
				}
			}
		})
	}
}
