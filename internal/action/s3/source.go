package s3

import (
	"context"
	"errors"
	"fmt"

	"github.com/sluice-ci/sluice/internal/action"
)

// Source is the S3 source action (Source/AWS/S3): the output artifact is
// the object S3ObjectKey of bucket S3Bucket, as it is (a zip, or any file:
// CodePipeline passes it on unchanged and downstream actions that need a zip
// fail on anything else). The revision is the object's version id.
//
// Configuration: S3Bucket, S3ObjectKey (required), AllowOverrideForS3ObjectKey.
// PollForSourceChanges has no effect locally. Output variables: ETag and
// VersionId.
type Source struct {
	Store *Store
}

// Run copies the object's current version, or the version or key given as
// a source revision override, to the output artifact.
func (s *Source) Run(ctx context.Context, job *action.Job) (*action.Result, error) {
	if res := job.Check([]string{"S3Bucket", "S3ObjectKey"}, 0, 0, 1, 1); res != nil {
		return res, nil
	}
	bucket, key := job.Configuration["S3Bucket"], job.Configuration["S3ObjectKey"]
	if k, ok := job.Override(action.RevisionS3ObjectKey); ok {
		allow, err := job.Bool("AllowOverrideForS3ObjectKey", false)
		if err != nil {
			return action.Failed(action.CodeConfigurationError, "%v", err), nil
		}
		if !allow {
			return action.Failed(action.CodeConfigurationError,
				"action %s: the source revision overrides S3ObjectKey, which AllowOverrideForS3ObjectKey does not allow", job.ActionName), nil
		}
		key = k
	}
	if err := validate(bucket, key); err != nil {
		return action.Failed(action.CodeConfigurationError, "action %s: %v", job.ActionName, err), nil
	}
	versionID, _ := job.Override(action.RevisionS3ObjectVersionID)
	body, obj, err := s.Store.Open(ctx, bucket, key, versionID)
	switch {
	case errors.Is(err, ErrNoSuchKey) && versionID != "":
		return action.Failed(action.CodeRevisionUnavailable, "action %s: %v", job.ActionName, err), nil
	case errors.Is(err, ErrNoSuchKey):
		return action.Failed(action.CodeConfigurationError,
			"action %s: %v: put the source object at %s", job.ActionName, err, s.Store.ObjectPath(bucket, key)), nil
	case err != nil:
		return nil, fmt.Errorf("read source object: %w", err)
	}
	defer body.Close()
	out := job.OutputArtifacts[0]
	if err := job.Artifacts.Put(ctx, out.Key, body); err != nil {
		return nil, fmt.Errorf("write artifact %s: %w", out.Name, err)
	}
	fmt.Fprintf(job.Logger(), "s3://%s/%s version %s (ETag %s, %d bytes) -> artifact %s\n", bucket, key, obj.VersionID, obj.ETag, obj.Size, out.Name)
	return &action.Result{
		Status:  action.StatusSucceeded,
		Summary: fmt.Sprintf("s3://%s/%s version %s", bucket, key, obj.VersionID),
		OutputVariables: map[string]string{
			"ETag":      obj.ETag,
			"VersionId": obj.VersionID,
		},
		Revision: &action.Revision{
			RevisionID:       obj.VersionID,
			ChangeIdentifier: obj.ETag,
			RevisionSummary:  obj.Metadata[MetaRevisionSummary],
			Created:          obj.LastModified,
		},
	}, nil
}
