package s3local

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sluice-ci/sluice/internal/action/s3"
)

// maxItemBytes is the largest item Step Functions reads from a CSV, JSON
// Lines or JSON file (8 MB).
const maxItemBytes = 8 << 20

// maxHeaderBytes is the largest CSV header Step Functions reads (10 KB).
const maxHeaderBytes = 10 << 10

// readerConfig is an ItemReader's ReaderConfig.
type readerConfig struct {
	InputType         string
	CSVHeaderLocation string
	CSVHeaders        []string
	CSVDelimiter      string
	ItemsPointer      string
	Transformation    string
	ManifestType      string
	MaxItems          any
}

// delimiters are the CSVDelimiter values and the characters they name.
var delimiters = map[string]rune{"COMMA": ',', "PIPE": '|', "SEMICOLON": ';', "SPACE": ' ', "TAB": '\t'}

// check refuses a ReaderConfig that the stand-in cannot follow, naming the
// field.
func (rc *readerConfig) check() error {
	switch rc.InputType {
	case "", "CSV", "JSON", "JSONL", "MANIFEST":
	case "PARQUET":
		return errors.New("ReaderConfig.InputType PARQUET: Parquet objects cannot be read by the local S3 stand-in")
	default:
		return fmt.Errorf("ReaderConfig.InputType %q: must be CSV, JSON, JSONL, MANIFEST or PARQUET", rc.InputType)
	}
	switch rc.ManifestType {
	case "":
	case "S3_INVENTORY":
		if rc.InputType != "" {
			return errors.New("ReaderConfig.ManifestType S3_INVENTORY: InputType must not be set")
		}
		rc.InputType = "MANIFEST"
	default:
		return fmt.Errorf("ReaderConfig.ManifestType %q: only S3_INVENTORY manifests can be read by the local S3 stand-in", rc.ManifestType)
	}
	switch rc.Transformation {
	case "", "NONE":
	case "LOAD_AND_FLATTEN":
		if rc.InputType == "" || rc.InputType == "MANIFEST" {
			return errors.New("ReaderConfig.Transformation LOAD_AND_FLATTEN: InputType must be CSV, JSON or JSONL")
		}
	default:
		return fmt.Errorf("ReaderConfig.Transformation %q: must be NONE or LOAD_AND_FLATTEN", rc.Transformation)
	}
	if _, ok := delimiters[rc.CSVDelimiter]; !ok && rc.CSVDelimiter != "" {
		return fmt.Errorf("ReaderConfig.CSVDelimiter %q: must be COMMA, PIPE, SEMICOLON, SPACE or TAB", rc.CSVDelimiter)
	}
	switch rc.CSVHeaderLocation {
	case "", "FIRST_ROW":
	case "GIVEN":
		if len(rc.CSVHeaders) == 0 {
			return errors.New("ReaderConfig.CSVHeaders: required when CSVHeaderLocation is GIVEN")
		}
	default:
		return fmt.Errorf("ReaderConfig.CSVHeaderLocation %q: must be FIRST_ROW or GIVEN", rc.CSVHeaderLocation)
	}
	return nil
}

// maxItems is MaxItems when it is a positive number, 0 (no limit)
// otherwise: the engine reports a MaxItems it cannot use.
func (rc *readerConfig) maxItems() int64 {
	if n, ok := rc.MaxItems.(float64); ok && n > 0 {
		return int64(n)
	}
	return 0
}

// items collects the items read as a JSON array, up to max of them (0: no
// limit).
type items struct {
	buf bytes.Buffer
	n   int64
	max int64
}

func newItems(max int64) *items {
	it := &items{max: max}
	it.buf.WriteByte('[')
	return it
}

// add appends one item (valid JSON text) and reports whether more are
// wanted.
func (it *items) add(raw []byte) bool {
	if it.full() {
		return false
	}
	if it.n > 0 {
		it.buf.WriteByte(',')
	}
	it.buf.Write(raw)
	it.n++
	return !it.full()
}

func (it *items) full() bool { return it.max > 0 && it.n >= it.max }

func (it *items) json() json.RawMessage {
	return append(it.buf.Bytes(), ']')
}

// readObject reads the items of one object, as rc says, into out.
func (b *Buckets) readObject(ctx context.Context, bucket, key, version string, rc *readerConfig, out *items) error {
	r, err := b.open(ctx, bucket, key, version)
	if err != nil {
		return err
	}
	defer r.Close()
	where := "s3://" + bucket + "/" + key
	switch rc.InputType {
	case "CSV":
		var headers []string // FIRST_ROW
		if rc.CSVHeaderLocation == "GIVEN" {
			headers = rc.CSVHeaders
		}
		err = readCSV(r, delimiters[orDefault(rc.CSVDelimiter, "COMMA")], headers, out)
	case "JSONL":
		err = readJSONL(r, out)
	case "JSON", "":
		err = readJSON(r, rc.ItemsPointer, out)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// open opens an object, through gzip when its key ends in .gz.
func (b *Buckets) open(ctx context.Context, bucket, key, version string) (io.ReadCloser, error) {
	if err := b.checkBucket(bucket); err != nil {
		return nil, err
	}
	if err := s3.ValidateKey(key); err != nil {
		return nil, fmt.Errorf("local bucket %s: %w", bucket, err)
	}
	f, _, err := b.store.Open(ctx, bucket, key, version)
	if errors.Is(err, s3.ErrNoSuchKey) {
		what := "key"
		if version != "" {
			what = "version"
		}
		return nil, &Error{"NoSuchKey", fmt.Sprintf("The specified %s does not exist (%v)", what, err)}
	}
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(key, ".gz") {
		return f, nil
	}
	z, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("s3://%s/%s: gzip: %w", bucket, key, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{z, f}, nil
}

// readJSONL reads one item a line, skipping blank lines.
func readJSONL(r io.Reader, out *items) error {
	br := bufio.NewReader(r)
	for line := 1; !out.full(); line++ {
		text, err := readLine(br)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 {
			continue
		}
		if !json.Valid(text) {
			return fmt.Errorf("line %d: not a JSON value", line)
		}
		out.add(compact(text))
	}
	return nil
}

// readLine reads one line of at most maxItemBytes, without its end.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxItemBytes {
			return nil, fmt.Errorf("longer than %d bytes", maxItemBytes)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(line) > 0:
			return line, nil
		case err != nil:
			return nil, err
		}
		return line[:len(line)-1], nil
	}
}

func compact(text []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, text); err != nil {
		return text
	}
	return b.Bytes()
}

// cause is an error whose text is the cause Step Functions gives, word
// for word.
type cause string

func (c cause) Error() string { return string(c) }

// Step Functions' causes for items that are not an array and for CSV
// headers that repeat a name.
const (
	errNotIterable     cause = "Attempting to map over non-iterable node."
	errDuplicateHeader cause = "CSV headers cannot contain duplicates."
)

// readJSON reads the array that the object holds, or that ItemsPointer (a
// JSON Pointer) selects in it. Without a pointer the array is read one
// item at a time.
func readJSON(r io.Reader, pointer string, out *items) error {
	dec := json.NewDecoder(bufio.NewReader(r))
	dec.UseNumber()
	if pointer != "" {
		var doc any
		if err := dec.Decode(&doc); err != nil {
			return fmt.Errorf("not JSON: %w", err)
		}
		node, err := resolvePointer(doc, pointer)
		if err != nil {
			return err
		}
		arr, ok := node.([]any)
		if !ok {
			return errNotIterable
		}
		for _, v := range arr {
			raw, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if !out.add(raw) {
				break
			}
		}
		return nil
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return errNotIterable
	}
	for dec.More() && !out.full() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("item %d: %w", out.n, err)
		}
		out.add(compact(raw))
	}
	return nil
}

// resolvePointer follows a JSON Pointer (RFC 6901) into doc.
func resolvePointer(doc any, pointer string) (any, error) {
	if !strings.HasPrefix(pointer, "/") {
		return nil, fmt.Errorf("ItemsPointer %q: a JSON Pointer starts with '/'", pointer)
	}
	node := doc
	for tok := range strings.SplitSeq(pointer[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[tok]
			if !ok {
				return nil, fmt.Errorf("ItemsPointer %q: no member %q", pointer, tok)
			}
			node = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil, fmt.Errorf("ItemsPointer %q: no element %q", pointer, tok)
			}
			node = n[i]
		default:
			return nil, fmt.Errorf("ItemsPointer %q: %q is inside a value that is not an object or array", pointer, tok)
		}
	}
	return node, nil
}
