// Package s3 is the local stand-in for Amazon S3 behind CodePipeline's S3
// source and S3 deploy actions: bucket B, key K is the file s3/B/K of the
// data folder, versioned as a bucket with versioning enabled.
//
// Every object keeps its versions beside it, in the bucket's hidden folder
// .sluice-versions: version V of key K is .sluice-versions/K.v/V (its bytes)
// and V.json (ETag, size, time, metadata). Version ids sort by creation time.
// A file put at s3/B/K by hand, outside Sluice, becomes a new version the
// next time the object is read, so a local user updates a source the way
// they would upload to S3: by writing the file.
package s3

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-ci/sluice/internal/artifact"
)

// versionsDir is the hidden folder of a bucket that holds object versions;
// no key may start with it.
const versionsDir = ".sluice-versions"

// MetaRevisionSummary is the object metadata key whose value CodePipeline
// shows as the revision summary of an S3 source.
const MetaRevisionSummary = "codepipeline-artifact-revision-summary"

// ErrNoSuchKey is wrapped when an object or a version does not exist.
var ErrNoSuchKey = errors.New("no such object")

// Store keeps the local buckets, one folder each below its folder.
type Store struct {
	dir string
	now func() time.Time
}

// NewStore returns the store of buckets kept in dir (the data folder's s3).
func NewStore(dir string) *Store {
	return &Store{dir: dir, now: time.Now}
}

// Object describes one version of an object.
type Object struct {
	Bucket       string            `json:"bucket"`
	Key          string            `json:"key"`
	VersionID    string            `json:"versionId"`
	ETag         string            `json:"etag"`
	Size         int64             `json:"size"`
	LastModified time.Time         `json:"lastModified"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	// JobID is the job that wrote the version, if one did.
	JobID string `json:"jobId,omitempty"`
	// CurrentModTime is the modification time of s3/B/K right after this
	// version was written there, to notice a later change by hand cheaply.
	CurrentModTime time.Time `json:"currentModTime,omitzero"`
}

// BucketDir is the folder of a bucket.
func (s *Store) BucketDir(bucket string) string { return filepath.Join(s.dir, bucket) }

// ObjectPath is the file holding the current version of an object.
func (s *Store) ObjectPath(bucket, key string) string {
	return filepath.Join(s.dir, bucket, filepath.FromSlash(key))
}

func (s *Store) versionDir(bucket, key string) string {
	return filepath.Join(s.dir, bucket, versionsDir, filepath.FromSlash(key)+".v")
}

// ValidateBucket checks a bucket name against S3's naming rules.
func ValidateBucket(bucket string) error {
	if len(bucket) < 3 || len(bucket) > 63 {
		return fmt.Errorf("bucket name %q: must be 3 to 63 characters long", bucket)
	}
	for i, c := range bucket {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.'
		if !ok {
			return fmt.Errorf("bucket name %q: character %q is not allowed (lowercase letters, digits, '-' and '.')", bucket, c)
		}
		if (i == 0 || i == len(bucket)-1) && (c == '-' || c == '.') {
			return fmt.Errorf("bucket name %q: must begin and end with a letter or digit", bucket)
		}
	}
	if strings.Contains(bucket, "..") {
		return fmt.Errorf("bucket name %q: two adjacent periods", bucket)
	}
	return nil
}

// ValidateKey checks that an object key maps to a file inside its bucket's
// folder: relative, no empty, "." or ".." segments, no NUL, not in the
// versions folder, at most 1024 bytes.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return errors.New("object key is empty")
	case len(key) > artifact.MaxKeyLength:
		return fmt.Errorf("object key %.40q...: longer than %d bytes", key, artifact.MaxKeyLength)
	case strings.ContainsRune(key, 0):
		return fmt.Errorf("object key %q: NUL byte", key)
	case strings.ContainsRune(key, '\\'):
		return fmt.Errorf("object key %q: backslashes cannot be stored as local files", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return fmt.Errorf("object key %q: empty segment (leading, trailing or double '/') cannot be stored as a local file", key)
		case ".", "..":
			return fmt.Errorf("object key %q: segment %q cannot be stored as a local file", key, seg)
		}
	}
	if key == versionsDir || strings.HasPrefix(key, versionsDir+"/") {
		return fmt.Errorf("object key %q: %s/ is reserved for object versions", key, versionsDir)
	}
	return nil
}

func validate(bucket, key string) error {
	if err := ValidateBucket(bucket); err != nil {
		return err
	}
	return ValidateKey(key)
}

// Put stores r as a new version of the object and makes it current. jobID,
// when not empty, is recorded with the version.
func (s *Store) Put(ctx context.Context, bucket, key string, r io.Reader, meta map[string]string, jobID string) (Object, error) {
	if err := validate(bucket, key); err != nil {
		return Object{}, err
	}
	obj, err := s.writeVersion(ctx, bucket, key, r, meta, jobID)
	if err != nil {
		return Object{}, fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	if err := s.makeCurrent(ctx, &obj); err != nil {
		return Object{}, fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return obj, nil
}

// writeVersion stores the bytes of a new version (not yet its metadata).
func (s *Store) writeVersion(ctx context.Context, bucket, key string, r io.Reader, meta map[string]string, jobID string) (Object, error) {
	dir := s.versionDir(bucket, key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Object{}, err
	}
	now := s.now().UTC()
	obj := Object{Bucket: bucket, Key: key, VersionID: newVersionID(now), LastModified: now, Metadata: meta, JobID: jobID}
	h := md5.New()
	cr := &countingReader{r: io.TeeReader(r, h)}
	if err := artifact.WriteFileAtomic(ctx, filepath.Join(dir, obj.VersionID), cr, 0o644); err != nil {
		return Object{}, err
	}
	obj.Size = cr.n
	obj.ETag = hex.EncodeToString(h.Sum(nil))
	return obj, nil
}

// makeCurrent copies a written version to the object's file and then
// records the version's metadata, which completes it.
func (s *Store) makeCurrent(ctx context.Context, obj *Object) error {
	path := s.ObjectPath(obj.Bucket, obj.Key)
	if err := mkdirParents(s.BucketDir(obj.Bucket), obj.Key); err != nil {
		return err
	}
	src, err := os.Open(filepath.Join(s.versionDir(obj.Bucket, obj.Key), obj.VersionID))
	if err != nil {
		return err
	}
	defer src.Close()
	if err := artifact.WriteFileAtomic(ctx, path, src, 0o644); err != nil {
		return err
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	obj.CurrentModTime = info.ModTime()
	return s.writeMeta(*obj)
}

// mkdirParents creates the folders of key below the bucket folder, with an
// error that says so when an object already holds one of their names.
func mkdirParents(bucketDir, key string) error {
	dir := filepath.Dir(filepath.Join(bucketDir, filepath.FromSlash(key)))
	err := os.MkdirAll(dir, 0o755)
	if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("key %q: a parent of it is an object, and a local file cannot also be a folder", key)
	}
	return err
}

func (s *Store) writeMeta(obj Object) error {
	b, err := json.MarshalIndent(obj, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(s.versionDir(obj.Bucket, obj.Key), obj.VersionID+".json")
	return artifact.WriteFileAtomic(context.Background(), p, strings.NewReader(string(b)), 0o644)
}

// Versions lists the complete versions of an object, newest first.
func (s *Store) Versions(bucket, key string) ([]Object, error) {
	if err := validate(bucket, key); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.versionDir(bucket, key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		obj, err := s.readMeta(bucket, key, id)
		if err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].VersionID > out[j].VersionID })
	return out, nil
}

func (s *Store) readMeta(bucket, key, versionID string) (Object, error) {
	b, err := os.ReadFile(filepath.Join(s.versionDir(bucket, key), versionID+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return Object{}, fmt.Errorf("s3://%s/%s version %s: %w", bucket, key, versionID, ErrNoSuchKey)
	}
	if err != nil {
		return Object{}, err
	}
	var obj Object
	if err := json.Unmarshal(b, &obj); err != nil {
		return Object{}, fmt.Errorf("s3://%s/%s version %s: metadata: %w", bucket, key, versionID, err)
	}
	return obj, nil
}

// Open opens a version of an object; versionID "" means the current one. A
// current file changed by hand since its last version is first recorded as
// a new version. The reader is the version's own file, so it stays
// consistent whatever happens to the current file meanwhile.
func (s *Store) Open(ctx context.Context, bucket, key, versionID string) (io.ReadCloser, Object, error) {
	if err := validate(bucket, key); err != nil {
		return nil, Object{}, err
	}
	var obj Object
	var err error
	if versionID == "" {
		obj, err = s.current(ctx, bucket, key)
	} else {
		if strings.ContainsAny(versionID, `/\.`) {
			return nil, Object{}, fmt.Errorf("version id %q is not valid", versionID)
		}
		obj, err = s.readMeta(bucket, key, versionID)
	}
	if err != nil {
		return nil, Object{}, err
	}
	f, err := os.Open(filepath.Join(s.versionDir(bucket, key), obj.VersionID))
	if err != nil {
		return nil, Object{}, err
	}
	return f, obj, nil
}

// current returns the version that the object's file holds, recording it
// first if it was changed by hand.
func (s *Store) current(ctx context.Context, bucket, key string) (Object, error) {
	path := s.ObjectPath(bucket, key)
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !info.Mode().IsRegular()) {
		return Object{}, fmt.Errorf("s3://%s/%s (file %s): %w", bucket, key, path, ErrNoSuchKey)
	}
	if err != nil {
		return Object{}, err
	}
	versions, err := s.Versions(bucket, key)
	if err != nil {
		return Object{}, err
	}
	if len(versions) > 0 {
		latest := versions[0]
		if latest.Size == info.Size() && latest.CurrentModTime.Equal(info.ModTime()) {
			return latest, nil
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return Object{}, err
	}
	defer f.Close()
	obj, err := s.writeVersion(ctx, bucket, key, f, nil, "")
	if err != nil {
		return Object{}, fmt.Errorf("record s3://%s/%s: %w", bucket, key, err)
	}
	if len(versions) > 0 && versions[0].ETag == obj.ETag {
		// Touched, not changed: keep the existing version.
		os.Remove(filepath.Join(s.versionDir(bucket, key), obj.VersionID))
		latest := versions[0]
		latest.CurrentModTime = info.ModTime()
		return latest, s.writeMeta(latest)
	}
	obj.LastModified = info.ModTime().UTC()
	obj.CurrentModTime = info.ModTime()
	return obj, s.writeMeta(obj)
}

// newVersionID returns an id that sorts by creation time: 16 hex digits of
// nanoseconds, then 16 random ones.
func newVersionID(t time.Time) string {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	return fmt.Sprintf("%016x%s", t.UnixNano(), hex.EncodeToString(rnd[:]))
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
