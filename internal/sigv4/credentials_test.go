package sigv4

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
)

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(first.AccessKeyID) {
		t.Fatalf("access key id %q is not AKIA-shaped", first.AccessKeyID)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`).MatchString(first.SecretAccessKey) {
		t.Fatalf("secret %q is not a 40-character key", first.SecretAccessKey)
	}
	path := filepath.Join(dir, CredentialsFile)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o, want 0600", info.Mode().Perm())
	}

	again, err := LoadOrCreate(dir)
	if err != nil || again != first {
		t.Fatalf("second start: %+v %v, want the same credentials", again, err)
	}

	// The file is one the AWS SDKs and CLI read, as AWS_SHARED_CREDENTIALS_FILE.
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithSharedCredentialsFiles([]string{path}), config.WithSharedConfigFiles([]string{}),
		config.WithSharedConfigProfile(Profile), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || got.AccessKeyID != first.AccessKeyID || got.SecretAccessKey != first.SecretAccessKey {
		t.Fatalf("the SDK reads %+v %v", got, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".credentials-*"))
	if len(leftovers) > 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
}

func TestLoadOrCreateConcurrent(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	got := make([]Credentials, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = LoadOrCreate(dir) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i] != got[0] {
			t.Fatalf("start %d: %+v %v, want %+v", i, got[i], errs[i], got[0])
		}
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    Credentials
		wantErr string
	}{
		{
			name:    "among other profiles",
			content: "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n\n[sluice]\naws_access_key_id = AKIASLUICE\naws_secret_access_key = s3cr3t\naws_session_token = tok\n",
			mode:    0o600,
			want:    Credentials{AccessKeyID: "AKIASLUICE", SecretAccessKey: "s3cr3t", SessionToken: "tok"},
		},
		{
			name:    "no sluice profile",
			content: "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n",
			mode:    0o600,
			wantErr: "sluice",
		},
		{
			name:    "no secret",
			content: "[sluice]\naws_access_key_id = AKIASLUICE\n",
			mode:    0o600,
			wantErr: "partial credentials found for profile sluice",
		},
		{
			name:    "readable by others",
			content: "[sluice]\naws_access_key_id = AKIASLUICE\naws_secret_access_key = s\n",
			mode:    0o644,
			wantErr: "is open to other users (mode 0644): chmod 600 it",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.mode&0o077 != 0 && runtime.GOOS == "windows" {
				t.Skip("no file modes")
			}
			path := filepath.Join(t.TempDir(), CredentialsFile)
			if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			got, err := Load(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v %v, want %+v", got, err, tt.want)
			}
		})
	}
}

func TestNewCredentialsDiffer(t *testing.T) {
	a, b := NewCredentials(), NewCredentials()
	if a.AccessKeyID == b.AccessKeyID || a.SecretAccessKey == b.SecretAccessKey {
		t.Fatal("two fresh credentials are equal")
	}
}
