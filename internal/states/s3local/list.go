package s3local

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// versionsFolder is the bucket folder that holds object versions (package
// internal/action/s3): it holds no objects.
const versionsFolder = ".sluice-versions"

// listed is an object as the listObjectsV2 ItemReader gives it to the Map
// state (LastModified in seconds since the epoch).
type listed struct {
	Etag         string
	Key          string
	LastModified int64
	Size         int64
	StorageClass string
}

func (o listed) json() []byte {
	b, _ := json.Marshal(o)
	return b
}

// list calls each for every object of the bucket whose key starts with
// prefix, in S3's order (by the keys' UTF-8 bytes), until it returns false
// or an error. Only regular files are objects: symbolic links are not
// followed.
func (b *Buckets) list(ctx context.Context, bucket, prefix string, each func(listed) (bool, error)) error {
	if err := b.checkBucket(bucket); err != nil {
		return err
	}
	root := b.store.BucketDir(bucket)
	// Only the folder the prefix names need be walked.
	start := root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = filepath.Join(root, filepath.FromSlash(path.Clean("/"+prefix[:i])))
	}
	type file struct {
		key  string
		path string
	}
	var files []file
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == start {
				return fs.SkipAll
			}
			return err
		}
		rel, _ := filepath.Rel(root, p)
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if key == versionsFolder {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && strings.HasPrefix(key, prefix) {
			files = append(files, file{key, p})
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].key < files[j].key })
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		obj, err := b.describe(bucket, f.key, f.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted since the walk
		}
		if err != nil {
			return err
		}
		more, err := each(obj)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// describe returns an object's listing: its latest recorded version when
// the file is still what that version wrote, else the file's own MD5, size
// and time.
func (b *Buckets) describe(bucket, key, file string) (listed, error) {
	info, err := os.Stat(file)
	if err != nil {
		return listed{}, err
	}
	obj := listed{Key: key, StorageClass: "STANDARD"}
	versions, err := b.store.Versions(bucket, key)
	if err != nil {
		return listed{}, err
	}
	if len(versions) > 0 && versions[0].Size == info.Size() && versions[0].CurrentModTime.Equal(info.ModTime()) {
		v := versions[0]
		obj.Etag, obj.Size, obj.LastModified = `"`+v.ETag+`"`, v.Size, v.LastModified.Unix()
		return obj, nil
	}
	sum, err := md5File(file)
	if err != nil {
		return listed{}, err
	}
	obj.Etag, obj.Size, obj.LastModified = `"`+sum+`"`, info.Size(), info.ModTime().Truncate(time.Second).Unix()
	return obj, nil
}

func md5File(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
