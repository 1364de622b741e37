// Package s3local is the embedded Step Functions engine's stand-in for the
// Amazon S3 calls of a Distributed Map state: the ItemReader's
// arn:aws:states:::s3:getObject and arn:aws:states:::s3:listObjectsV2, and
// the ResultWriter's arn:aws:states:::s3:putObject, answered from a folder.
//
// The folder is laid out as the pipelines' local buckets are (package
// internal/action/s3, whose Store it uses): bucket B, key K is the file
// <dir>/B/K, with the object's versions kept beside it, so that state
// machines and pipelines share their buckets. A bucket is a folder that
// exists: reading or writing one that does not fails with NoSuchBucket, as
// on AWS. Keys that cannot be files inside their bucket's folder ("..",
// empty segments, a leading '/') are refused.
//
// getObject parses the object as the ItemReader's ReaderConfig says (CSV,
// JSON with an optional ItemsPointer, JSONL, or an S3 inventory MANIFEST),
// one item at a time and no further than MaxItems; a key ending in .gz is
// read through gzip. listObjectsV2 lists the objects under a Prefix, each
// as {Etag, Key, LastModified, Size, StorageClass}, or with the
// LOAD_AND_FLATTEN Transformation the items of every listed object.
//
// The CSV reader is written by hand: Step Functions' rules (backslash
// escapes, a quote anywhere in a field, short rows padded and long rows
// cut) are not RFC 4180's, which encoding/csv implements strictly.
package s3local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/sluice-ci/sluice/internal/action/s3"
	"github.com/sluice-ci/sluice/internal/states"
)

// The resources the handlers answer.
const (
	GetObjectResource     = "arn:aws:states:::s3:getObject"
	ListObjectsV2Resource = "arn:aws:states:::s3:listObjectsV2"
	PutObjectResource     = "arn:aws:states:::s3:putObject"
)

// Error is an S3 error, named by its S3 error code.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Buckets answers the S3 calls of Distributed Map states from the buckets
// kept in a folder.
type Buckets struct {
	dir   string
	store *s3.Store
}

// New returns the buckets kept in dir (the data folder's s3).
func New(dir string) *Buckets {
	return &Buckets{dir: dir, store: s3.NewStore(dir)}
}

// Register registers the three handlers in reg.
func (b *Buckets) Register(reg *states.Registry) {
	reg.Register(GetObjectResource, b.GetObject)
	reg.Register(ListObjectsV2Resource, b.ListObjectsV2)
	reg.Register(PutObjectResource, b.PutObject)
}

// readRequest is what the engine gives an ItemReader's handler.
type readRequest struct {
	Resource     string
	Parameters   readParams
	ReaderConfig readerConfig
}

// readParams are the parameters of GetObject and ListObjectsV2 that matter
// locally; the others (ExpectedBucketOwner, RequestPayer, …) change nothing
// in a folder.
type readParams struct {
	Bucket    string
	Key       string
	VersionID string `json:"VersionId"`
	Prefix    string
}

func decodeRequest(in json.RawMessage) (*readRequest, error) {
	var req readRequest
	if err := json.Unmarshal(in, &req); err != nil {
		return nil, fmt.Errorf("ItemReader request: %w", err)
	}
	if err := req.ReaderConfig.check(); err != nil {
		return nil, err
	}
	return &req, nil
}

// GetObject is the ItemReader's s3:getObject: it reads the object
// Parameters.Bucket/Key (at VersionId, if given) and returns its items.
func (b *Buckets) GetObject(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
	req, err := decodeRequest(in)
	if err != nil {
		return nil, err
	}
	p := req.Parameters
	if p.Key == "" {
		return nil, &Error{"InvalidArgument", "the ItemReader's Parameters have no Key"}
	}
	out := newItems(req.ReaderConfig.maxItems())
	if req.ReaderConfig.InputType == "MANIFEST" {
		err = b.readManifest(ctx, p.Bucket, p.Key, p.VersionID, &req.ReaderConfig, out)
	} else {
		err = b.readObject(ctx, p.Bucket, p.Key, p.VersionID, &req.ReaderConfig, out)
	}
	if err != nil {
		return nil, err
	}
	return out.json(), nil
}

// ListObjectsV2 is the ItemReader's s3:listObjectsV2: it lists the objects
// of Parameters.Bucket whose keys start with Parameters.Prefix, in S3's
// order, or reads each of them with the LOAD_AND_FLATTEN Transformation.
func (b *Buckets) ListObjectsV2(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
	req, err := decodeRequest(in)
	if err != nil {
		return nil, err
	}
	rc := &req.ReaderConfig
	out := newItems(rc.maxItems())
	err = b.list(ctx, req.Parameters.Bucket, req.Parameters.Prefix, func(obj listed) (bool, error) {
		if rc.Transformation != "LOAD_AND_FLATTEN" {
			return out.add(obj.json()), nil
		}
		if err := b.readObject(ctx, req.Parameters.Bucket, obj.Key, "", rc, out); err != nil {
			return false, err
		}
		return !out.full(), nil
	})
	if err != nil {
		return nil, err
	}
	return out.json(), nil
}

// putRequest is what the engine gives a ResultWriter's handler for each
// object of a Map Run's export.
type putRequest struct {
	Bucket string
	Key    string
	Body   string
}

// PutObject is the ResultWriter's s3:putObject: it writes Body as a new
// version of Bucket/Key (atomically: a reader sees the old bytes or the
// new) and returns S3's answer, {ETag, VersionId}.
func (b *Buckets) PutObject(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
	var req putRequest
	if err := json.Unmarshal(in, &req); err != nil {
		return nil, fmt.Errorf("PutObject request: %w", err)
	}
	if err := b.checkBucket(req.Bucket); err != nil {
		return nil, err
	}
	if err := s3.ValidateKey(req.Key); err != nil {
		return nil, fmt.Errorf("local bucket %s: %w", req.Bucket, err)
	}
	obj, err := b.store.Put(ctx, req.Bucket, req.Key, strings.NewReader(req.Body), nil, "")
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]string{"ETag": `"` + obj.ETag + `"`, "VersionId": obj.VersionID})
}

// checkBucket checks the bucket's name and that its folder exists.
func (b *Buckets) checkBucket(bucket string) error {
	if err := s3.ValidateBucket(bucket); err != nil {
		return &Error{"InvalidBucketName", err.Error()}
	}
	info, err := os.Stat(b.store.BucketDir(bucket))
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !info.IsDir()) {
		return &Error{"NoSuchBucket", fmt.Sprintf("The specified bucket does not exist (bucket %s: no folder %s)", bucket, b.store.BucketDir(bucket))}
	}
	return err
}
