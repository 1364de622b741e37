package sigv4

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/aws/aws-sdk-go-v2/config"
)

// Profile is the profile of the local credentials file.
const Profile = "sluice"

// CredentialsFile is the name of the credentials file in the data folder.
const CredentialsFile = "credentials"

// LoadOrCreate returns the server's credentials from <dataDir>/credentials,
// an AWS shared-credentials file with the profile "sluice". On the first
// start the file does not exist: it is created, mode 0600, with a random
// AKIA-shaped access key id and a random 40-character secret. Concurrent
// first starts agree on one file: it appears complete or not at all.
func LoadOrCreate(dataDir string) (Credentials, error) {
	path := filepath.Join(dataDir, CredentialsFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := create(dataDir, path); err != nil {
			return Credentials{}, err
		}
	} else if err != nil {
		return Credentials{}, fmt.Errorf("read credentials: %w", err)
	}
	return Load(path)
}

// Load reads the profile "sluice" of the shared-credentials file at path.
func Load(path string) (Credentials, error) {
	info, err := os.Stat(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("read credentials: %w", err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return Credentials{}, fmt.Errorf("credentials file %s is open to other users (mode %04o): chmod 600 it", path, info.Mode().Perm())
	}
	cfg, err := config.LoadSharedConfigProfile(context.Background(), Profile, func(o *config.LoadSharedConfigOptions) {
		o.CredentialsFiles = []string{path}
		o.ConfigFiles = []string{}
	})
	if err != nil {
		return Credentials{}, fmt.Errorf("read credentials %s: %w", path, err)
	}
	c := cfg.Credentials
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return Credentials{}, fmt.Errorf("credentials file %s: profile [%s] has no aws_access_key_id and aws_secret_access_key", path, Profile)
	}
	return Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, nil
}

// NewCredentials returns fresh random credentials: an access key id of
// "AKIA" and 16 characters of base32, and a 40-character secret of base64
// characters, the shapes of IAM's long-term keys.
func NewCredentials() Credentials {
	const (
		idChars     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
		secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	)
	return Credentials{
		AccessKeyID:     "AKIA" + randomString(idChars, 16),
		SecretAccessKey: randomString(secretChars, 40),
	}
}

// randomString draws n characters of alphabet, whose length divides 256,
// from crypto/rand.
func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// create writes a new credentials file at path: to a temporary file first,
// then linked into place, so that the file never shows half-written and a
// file created meanwhile by another process wins.
func create(dataDir, path string) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, ".credentials-*")
	if err != nil {
		return fmt.Errorf("create credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	c := NewCredentials()
	content := fmt.Sprintf("[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", Profile, c.AccessKeyID, c.SecretAccessKey)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("create credentials: %w", err)
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return fmt.Errorf("create credentials: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("create credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("create credentials: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create credentials: %w", err)
	}
	if d, err := os.Open(dataDir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
