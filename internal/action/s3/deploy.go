package s3

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/sluice-ci/sluice/internal/action"
	"github.com/sluice-ci/sluice/internal/artifact"
)

// Deploy is the S3 deploy action (Deploy/AWS/S3). With Extract true the
// input artifact is unzipped and every file becomes an object under
// ObjectKey (a key prefix, optional); with Extract false the artifact itself
// becomes the object ObjectKey. Each object written gets a new version;
// objects already in the bucket and absent from the artifact stay, as on AWS.
//
// Configuration: BucketName, Extract (required), ObjectKey (required when
// Extract is false). KMSEncryptionKeyARN, CannedACL and CacheControl have no
// effect locally. A missing bucket folder is created. A redelivered job
// (same ID) that already deployed does nothing again.
type Deploy struct {
	Store *Store
	// Limits caps the extraction of the artifact (artifact.DefaultLimits
	// when zero).
	Limits artifact.Limits
}

// Run deploys the input artifact to the bucket.
func (d *Deploy) Run(ctx context.Context, job *action.Job) (*action.Result, error) {
	if res := job.Check([]string{"BucketName", "Extract"}, 1, 1, 0, 0); res != nil {
		return res, nil
	}
	bucket, prefix := job.Configuration["BucketName"], job.Configuration["ObjectKey"]
	extract, err := job.Bool("Extract", false)
	if err != nil {
		return action.Failed(action.CodeConfigurationError, "%v", err), nil
	}
	if err := ValidateBucket(bucket); err != nil {
		return action.Failed(action.CodeConfigurationError, "action %s: %v", job.ActionName, err), nil
	}
	if !extract && prefix == "" {
		return action.Failed(action.CodeConfigurationError, "action %s: configuration property ObjectKey is required when Extract is false", job.ActionName), nil
	}
	if prefix = strings.Trim(prefix, "/"); prefix != "" {
		if err := ValidateKey(prefix); err != nil {
			return action.Failed(action.CodeConfigurationError, "action %s: ObjectKey: %v", job.ActionName, err), nil
		}
	}
	for _, k := range []string{"KMSEncryptionKeyARN", "CannedACL", "CacheControl"} {
		if v := job.Configuration[k]; v != "" {
			fmt.Fprintf(job.Logger(), "%s=%s has no effect on a local bucket\n", k, v)
		}
	}
	marker := filepath.Join(d.Store.BucketDir(bucket), versionsDir, ".deploys", jobDigest(job.ID))
	if summary, err := os.ReadFile(marker); err == nil {
		fmt.Fprintf(job.Logger(), "job %s already deployed: %s\n", job.ID, summary)
		return &action.Result{Status: action.StatusSucceeded, Summary: string(summary)}, nil
	}
	if err := os.MkdirAll(d.Store.BucketDir(bucket), 0o755); err != nil {
		return nil, fmt.Errorf("create bucket folder: %w", err)
	}
	in := job.InputArtifacts[0]
	var summary string
	if extract {
		n, err := d.deployExtracted(ctx, job, bucket, prefix)
		var bad *badArtifactError
		if errors.As(err, &bad) {
			return action.Failed(action.CodeJobFailed, "action %s: artifact %s: %v", job.ActionName, in.Name, bad.err), nil
		}
		if err != nil {
			return nil, err
		}
		summary = fmt.Sprintf("Deployed %d objects from %s to s3://%s/%s", n, in.Name, bucket, prefix)
	} else {
		body, err := job.Artifacts.Get(ctx, in.Key)
		if err != nil {
			return nil, fmt.Errorf("read artifact %s: %w", in.Name, err)
		}
		obj, err := d.Store.Put(ctx, bucket, prefix, body, nil, job.ID)
		body.Close()
		if err != nil {
			return action.Failed(action.CodeJobFailed, "action %s: %v", job.ActionName, err), nil
		}
		fmt.Fprintf(job.Logger(), "upload: %s to s3://%s/%s (version %s)\n", in.Name, bucket, prefix, obj.VersionID)
		summary = fmt.Sprintf("Deployed %s to s3://%s/%s (version %s)", in.Name, bucket, prefix, obj.VersionID)
	}
	if err := os.MkdirAll(filepath.Dir(marker), 0o755); err != nil {
		return nil, fmt.Errorf("record deployment: %w", err)
	}
	if err := artifact.WriteFileAtomic(ctx, marker, strings.NewReader(summary), 0o644); err != nil {
		return nil, fmt.Errorf("record deployment: %w", err)
	}
	return &action.Result{Status: action.StatusSucceeded, Summary: summary}, nil
}

// badArtifactError is an input artifact that cannot be deployed: the action
// fails, retrying would not help.
type badArtifactError struct{ err error }

func (e *badArtifactError) Error() string { return e.err.Error() }

// deployExtracted unzips the artifact into a staging folder inside the
// bucket's versions folder, then puts every file as an object.
func (d *Deploy) deployExtracted(ctx context.Context, job *action.Job, bucket, prefix string) (int, error) {
	in := job.InputArtifacts[0]
	stagingRoot := filepath.Join(d.Store.BucketDir(bucket), versionsDir, ".staging")
	if err := os.MkdirAll(stagingRoot, 0o755); err != nil {
		return 0, fmt.Errorf("create staging folder: %w", err)
	}
	staging, err := os.MkdirTemp(stagingRoot, "deploy-*")
	if err != nil {
		return 0, fmt.Errorf("create staging folder: %w", err)
	}
	defer os.RemoveAll(staging)
	lim := d.Limits
	if lim == (artifact.Limits{}) {
		lim = artifact.DefaultLimits
	}
	if _, err := artifact.Unpack(ctx, job.Artifacts, in.Key, staging, lim); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, artifact.ErrNotFound) {
			return 0, err
		}
		return 0, &badArtifactError{err}
	}
	n := 0
	err = filepath.WalkDir(staging, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(staging, p)
		if err != nil {
			return err
		}
		key := path.Join(prefix, filepath.ToSlash(rel))
		info, err := os.Stat(p) // a link deploys what it points at
		if err != nil || !info.Mode().IsRegular() {
			fmt.Fprintf(job.Logger(), "skip: %s is not a regular file\n", rel)
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		obj, err := d.Store.Put(ctx, bucket, key, f, nil, job.ID)
		if err != nil {
			return &badArtifactError{err}
		}
		fmt.Fprintf(job.Logger(), "upload: %s to s3://%s/%s (version %s)\n", rel, bucket, key, obj.VersionID)
		n++
		return nil
	})
	return n, err
}

func jobDigest(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}
