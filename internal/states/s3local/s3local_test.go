package s3local_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/golden"
	"github.com/sluice-ci/sluice/internal/states/s3local"
)

// fixed is the time the fixtures' files are given, so that listings are
// stable.
var fixed = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newBuckets copies the fixture buckets of testdata/s3 to a temporary
// folder (reads record object versions there), adds an empty bucket and a
// gzipped JSON Lines object, and returns the buckets and their folder.
func newBuckets(t *testing.T) (*s3local.Buckets, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "s3"))); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("{\"n\": 1}\n{\"n\": 2}\n"))
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, "data", "numbers.jsonl.gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, fixed, fixed)
	})
	if err != nil {
		t.Fatal(err)
	}
	return s3local.New(dir), dir
}

// readRequest is an ItemReader request as the engine sends it.
func readRequest(resource, params, config string) json.RawMessage {
	req := `{"Resource":"` + resource + `","Parameters":` + params
	if config != "" {
		req += `,"ReaderConfig":` + config
	}
	return json.RawMessage(req + "}")
}

// TestReaders reads the fixtures with each ReaderConfig and compares the
// items with testdata/golden/<name>.json (-update rewrites them), or the
// error with the expected text.
func TestReaders(t *testing.T) {
	const get, list = s3local.GetObjectResource, s3local.ListObjectsV2Resource
	tests := []struct {
		name             string
		resource, params string
		config           string
		err              string // a part of the expected error
	}{
		{name: "csv-first-row", resource: get, params: `{"Bucket":"data","Key":"ratings.csv"}`,
			config: `{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"}`},
		{name: "csv-given-pipe-crlf", resource: get, params: `{"Bucket":"data","Key":"ratings.psv"}`,
			config: `{"InputType":"CSV","CSVHeaderLocation":"GIVEN","CSVHeaders":["userId","movieId","rating"],"CSVDelimiter":"PIPE"}`},
		{name: "csv-semicolon", resource: get, params: `{"Bucket":"data","Key":"people.semicolon.csv"}`,
			config: `{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW","CSVDelimiter":"SEMICOLON"}`},
		{name: "csv-tab", resource: get, params: `{"Bucket":"data","Key":"people.tsv"}`,
			config: `{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW","CSVDelimiter":"TAB"}`},
		{name: "csv-space", resource: get, params: `{"Bucket":"data","Key":"people.space.txt"}`,
			config: `{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW","CSVDelimiter":"SPACE"}`},
		{name: "csv-max-items", resource: get, params: `{"Bucket":"data","Key":"ratings.csv"}`,
			config: `{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW","MaxItems":2}`},
		{name: "csv-duplicate-header", resource: get, params: `{"Bucket":"data","Key":"duplicate-header.csv"}`,
			config: `{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"}`, err: "s3://data/duplicate-header.csv: CSV headers cannot contain duplicates."},
		{name: "csv-given-duplicate-header", resource: get, params: `{"Bucket":"data","Key":"ratings.psv"}`,
			config: `{"InputType":"CSV","CSVHeaderLocation":"GIVEN","CSVHeaders":["a","a"],"CSVDelimiter":"PIPE"}`, err: "CSV headers cannot contain duplicates."},
		{name: "csv-unclosed-quote", resource: get, params: `{"Bucket":"data","Key":"unclosed-quote.csv"}`,
			config: `{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"}`, err: "s3://data/unclosed-quote.csv: line 1: a quoted field is not closed"},
		{name: "csv-given-without-headers", resource: get, params: `{"Bucket":"data","Key":"ratings.psv"}`,
			config: `{"InputType":"CSV","CSVHeaderLocation":"GIVEN"}`, err: "ReaderConfig.CSVHeaders: required when CSVHeaderLocation is GIVEN"},
		{name: "csv-bad-delimiter", resource: get, params: `{"Bucket":"data","Key":"ratings.psv"}`,
			config: `{"InputType":"CSV","CSVDelimiter":"COLON"}`, err: `ReaderConfig.CSVDelimiter "COLON": must be COMMA, PIPE, SEMICOLON, SPACE or TAB`},
		{name: "json", resource: get, params: `{"Bucket":"data","Key":"facts.json"}`, config: `{"InputType":"JSON"}`},
		{name: "json-max-items", resource: get, params: `{"Bucket":"data","Key":"facts.json"}`, config: `{"InputType":"JSON","MaxItems":1}`},
		{name: "json-items-pointer", resource: get, params: `{"Bucket":"data","Key":"nested.json"}`,
			config: `{"InputType":"JSON","ItemsPointer":"/inventory/products/featured"}`},
		{name: "json-pointer-not-array", resource: get, params: `{"Bucket":"data","Key":"nested.json"}`,
			config: `{"InputType":"JSON","ItemsPointer":"/inventory/products/other"}`, err: "s3://data/nested.json: Attempting to map over non-iterable node."},
		{name: "json-pointer-missing", resource: get, params: `{"Bucket":"data","Key":"nested.json"}`,
			config: `{"InputType":"JSON","ItemsPointer":"/inventory/nothing"}`, err: `ItemsPointer "/inventory/nothing": no member "nothing"`},
		{name: "json-object", resource: get, params: `{"Bucket":"data","Key":"object.json"}`,
			config: `{"InputType":"JSON"}`, err: "s3://data/object.json: Attempting to map over non-iterable node."},
		{name: "json-not-json", resource: get, params: `{"Bucket":"data","Key":"ratings.csv"}`,
			config: `{"InputType":"JSON"}`, err: "s3://data/ratings.csv: not JSON"},
		{name: "jsonl", resource: get, params: `{"Bucket":"data","Key":"facts.jsonl"}`, config: `{"InputType":"JSONL"}`},
		{name: "jsonl-gzip", resource: get, params: `{"Bucket":"data","Key":"numbers.jsonl.gz"}`, config: `{"InputType":"JSONL"}`},
		{name: "jsonl-broken-line", resource: get, params: `{"Bucket":"data","Key":"broken.jsonl"}`,
			config: `{"InputType":"JSONL"}`, err: "s3://data/broken.jsonl: line 2: not a JSON value"},
		{name: "manifest", resource: get, params: `{"Bucket":"inventory","Key":"reports/manifest.json"}`, config: `{"InputType":"MANIFEST"}`},
		{name: "manifest-s3-inventory", resource: get, params: `{"Bucket":"inventory","Key":"reports/manifest.json"}`, config: `{"ManifestType":"S3_INVENTORY"}`},
		{name: "parquet", resource: get, params: `{"Bucket":"data","Key":"facts.json"}`,
			config: `{"InputType":"PARQUET"}`, err: "ReaderConfig.InputType PARQUET: Parquet objects cannot be read by the local S3 stand-in"},
		{name: "missing-object", resource: get, params: `{"Bucket":"data","Key":"nothing.csv"}`,
			config: `{"InputType":"CSV"}`, err: "NoSuchKey: The specified key does not exist"},
		{name: "missing-version", resource: get, params: `{"Bucket":"data","Key":"facts.json","VersionId":"0000000000000000ffffffffffffffff"}`,
			config: `{"InputType":"JSON"}`, err: "NoSuchKey: The specified version does not exist"},
		{name: "missing-bucket", resource: get, params: `{"Bucket":"nowhere","Key":"facts.json"}`,
			config: `{"InputType":"JSON"}`, err: "NoSuchBucket: The specified bucket does not exist"},
		{name: "invalid-bucket", resource: get, params: `{"Bucket":"../data","Key":"facts.json"}`,
			config: `{"InputType":"JSON"}`, err: "InvalidBucketName"},
		{name: "escaping-key", resource: get, params: `{"Bucket":"data","Key":"../inventory/reports/manifest.json"}`,
			config: `{"InputType":"JSON"}`, err: `object key "../inventory/reports/manifest.json": segment ".." cannot be stored as a local file`},
		{name: "absolute-key", resource: get, params: `{"Bucket":"data","Key":"/etc/passwd"}`,
			config: `{"InputType":"CSV"}`, err: `object key "/etc/passwd": empty segment`},
		{name: "no-key", resource: get, params: `{"Bucket":"data"}`, config: `{"InputType":"JSON"}`, err: "InvalidArgument: the ItemReader's Parameters have no Key"},
		{name: "list-prefix", resource: list, params: `{"Bucket":"logs","Prefix":"2026"}`},
		{name: "list-folder-prefix", resource: list, params: `{"Bucket":"logs","Prefix":"2026/"}`},
		{name: "list-all-max-items", resource: list, params: `{"Bucket":"logs"}`, config: `{"MaxItems":3}`},
		{name: "list-no-match", resource: list, params: `{"Bucket":"logs","Prefix":"2027/"}`},
		{name: "list-escaping-prefix", resource: list, params: `{"Bucket":"logs","Prefix":"../data/"}`},
		{name: "list-empty-bucket", resource: list, params: `{"Bucket":"empty"}`},
		{name: "list-load-and-flatten", resource: list, params: `{"Bucket":"logs","Prefix":"2026/"}`,
			config: `{"InputType":"JSONL","Transformation":"LOAD_AND_FLATTEN"}`},
		{name: "list-missing-bucket", resource: list, params: `{"Bucket":"nowhere"}`, err: "NoSuchBucket"},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := newBuckets(t)
			h := b.GetObject
			if tc.resource == list {
				h = b.ListObjectsV2
			}
			out, err := h(ctx, readRequest(tc.resource, tc.params, tc.config))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q (output %s)", err, tc.err, out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, out, "", "  "); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			pretty.WriteByte('\n')
			golden.Check(t, filepath.Join("testdata", "golden", tc.name+".json"), pretty.Bytes())
		})
	}
}

// TestPutObject writes objects as the ResultWriter does, and refuses keys
// that escape the bucket's folder and buckets that do not exist.
func TestPutObject(t *testing.T) {
	tests := []struct {
		name, bucket, key, err string
	}{
		{name: "new object in a new folder", bucket: "empty", key: "runs/abc/manifest.json"},
		{name: "replaces an object", bucket: "data", key: "facts.json"},
		{name: "dot dot", bucket: "data", key: "../logs/z.txt", err: `segment ".." cannot be stored as a local file`},
		{name: "dot dot inside", bucket: "data", key: "runs/../../logs/z.txt", err: `segment ".." cannot be stored as a local file`},
		{name: "absolute", bucket: "data", key: "/tmp/x", err: "empty segment"},
		{name: "versions folder", bucket: "data", key: ".sluice-versions/x", err: "reserved for object versions"},
		{name: "empty key", bucket: "data", key: "", err: "object key is empty"},
		{name: "missing bucket", bucket: "nowhere", key: "x.json", err: "NoSuchBucket: The specified bucket does not exist"},
		{name: "bucket escaping", bucket: "..", key: "x.json", err: "InvalidBucketName"},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, dir := newBuckets(t)
			body := `{"written": "` + tc.name + `"}`
			in, _ := json.Marshal(map[string]string{"Bucket": tc.bucket, "Key": tc.key, "Body": body})
			out, err := b.PutObject(ctx, in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				if got, _ := os.ReadFile(filepath.Join(dir, "logs", "z.txt")); string(got) != "zulu\n" {
					t.Fatalf("logs/z.txt holds %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var res struct{ ETag, VersionId string }
			if err := json.Unmarshal(out, &res); err != nil || len(res.ETag) != 34 || res.ETag[0] != '"' || res.VersionId == "" {
				t.Fatalf("answer %s (%v)", out, err)
			}
			got, err := os.ReadFile(filepath.Join(dir, tc.bucket, filepath.FromSlash(tc.key)))
			if err != nil || string(got) != body {
				t.Fatalf("file holds %q (%v), want %q", got, err, body)
			}
			// The object written is read and listed like any other.
			listing, err := b.ListObjectsV2(ctx, readRequest(s3local.ListObjectsV2Resource, `{"Bucket":"`+tc.bucket+`","Prefix":"`+tc.key+`"}`, ""))
			etag, _ := json.Marshal(res.ETag)
			if err != nil || !strings.Contains(string(listing), `"Etag":`+string(etag)) {
				t.Fatalf("listing %s (%v), want the ETag %s", listing, err, res.ETag)
			}
		})
	}
}
