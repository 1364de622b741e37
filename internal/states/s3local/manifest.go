package s3local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// inventoryManifest is the manifest.json of an S3 Inventory report.
type inventoryManifest struct {
	SourceBucket      string `json:"sourceBucket"`
	DestinationBucket string `json:"destinationBucket"`
	FileFormat        string `json:"fileFormat"`
	FileSchema        string `json:"fileSchema"`
	Files             []struct {
		Key string `json:"key"`
	} `json:"files"`
}

// maxManifestBytes caps the manifest.json read whole.
const maxManifestBytes = 16 << 20

// readManifest reads the objects an S3 Inventory manifest lists: every row
// of its CSV files (gzipped when their keys end in .gz), in the
// destination bucket, becomes an object keyed by the fileSchema's fields.
func (b *Buckets) readManifest(ctx context.Context, bucket, key, version string, rc *readerConfig, out *items) error {
	r, err := b.open(ctx, bucket, key, version)
	if err != nil {
		return err
	}
	var m inventoryManifest
	dec := json.NewDecoder(io.LimitReader(r, maxManifestBytes))
	err = dec.Decode(&m)
	r.Close()
	where := "s3://" + bucket + "/" + key
	if err != nil {
		return fmt.Errorf("%s: not an S3 Inventory manifest: %w", where, err)
	}
	if m.FileFormat != "CSV" {
		return fmt.Errorf("%s: fileFormat %q: only CSV inventory reports can be read", where, m.FileFormat)
	}
	if strings.TrimSpace(m.FileSchema) == "" {
		return fmt.Errorf("%s: the manifest has no fileSchema", where)
	}
	var headers []string
	for f := range strings.SplitSeq(m.FileSchema, ",") {
		headers = append(headers, strings.TrimSpace(f))
	}
	dest := strings.TrimPrefix(m.DestinationBucket, "arn:aws:s3:::")
	data := &readerConfig{InputType: "CSV", CSVHeaderLocation: "GIVEN", CSVHeaders: headers, CSVDelimiter: rc.CSVDelimiter}
	for _, f := range m.Files {
		if out.full() {
			break
		}
		if err := b.readObject(ctx, dest, f.Key, "", data, out); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	return nil
}
