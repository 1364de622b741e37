// Package testshared finds, for tests, the folders shared beside the
// repository rather than kept in it: the recorded Step Functions executions
// (asl-conformance) and the corpus of pipeline declarations
// (pipelines-corpus). They are in <repository root>/../shared, or in the
// folder SLUICE_SHARED_DIR names.
package testshared

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared folder called name: $SLUICE_SHARED_DIR/name when
// SLUICE_SHARED_DIR is set, else <repository root>/../shared/name, the
// repository root being the nearest folder above the working directory that
// holds go.mod. When the folder is missing the test is skipped, unless CI is
// set, where it fails.
func Dir(t testing.TB, name string) string {
	t.Helper()
	dir, err := find(name)
	if err == nil {
		return dir
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("shared folder %s: %v (CI is set, so it must be there; SLUICE_SHARED_DIR names where it is)", name, err)
	} else {
		t.Skipf("shared folder %s: %v", name, err)
	}
	return ""
}

func find(name string) (string, error) {
	var dir string
	if shared := os.Getenv("SLUICE_SHARED_DIR"); shared != "" {
		dir = filepath.Join(shared, name)
	} else {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "..", "shared", name)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%s is not a folder", dir)
	}
	return dir, nil
}

// repoRoot walks up from the working directory to the folder with go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
