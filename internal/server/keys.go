package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/sluice-ci/sluice/internal/api"
	"github.com/sluice-ci/sluice/internal/sigv4"
)

// KeysFile is the optional file of the data folder that lists more access
// keys than the credentials file's, each restricted to some pipelines:
//
//	{"keys": [{"name": "deployer", "accessKeyId": "AKIA...", "secretAccessKey": "...",
//	           "pipelines": ["release", "webhook:release-*"],
//	           "actions": ["codepipeline:Get*", "codepipeline:List*", "codepipeline:PutApprovalResult"]}]}
//
// It holds secrets: like the credentials file, it must be readable by its
// owner only.
const KeysFile = "keys.json"

// AdminName is the user name of the credentials file's key, which may do
// everything.
const AdminName = "sluice"

// loadKeys returns the data folder's keys: the credentials file's (created
// on the first start), allowed everything, then those of KeysFile.
func loadKeys(dataDir string) (sigv4.Credentials, []api.Key, error) {
	admin, err := sigv4.LoadOrCreate(dataDir)
	if err != nil {
		return admin, nil, err
	}
	keys := []api.Key{{Name: AdminName, AccessKeyID: admin.AccessKeyID, SecretAccessKey: admin.SecretAccessKey, Pipelines: []string{"*", "webhook:*"}}}
	path := filepath.Join(dataDir, KeysFile)
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return admin, keys, nil
	}
	if err != nil {
		return admin, nil, fmt.Errorf("read keys: %w", err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return admin, nil, fmt.Errorf("keys file %s is open to other users (mode %04o): chmod 600 it", path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return admin, nil, fmt.Errorf("read keys: %w", err)
	}
	var doc struct {
		Keys []api.Key `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return admin, nil, fmt.Errorf("keys file %s: %w", path, err)
	}
	for i, k := range doc.Keys {
		if k.Name == "" || k.Name == AdminName {
			return admin, nil, fmt.Errorf("keys file %s: key %d: a name other than %q is required", path, i, AdminName)
		}
	}
	return admin, append(keys, doc.Keys...), nil
}
