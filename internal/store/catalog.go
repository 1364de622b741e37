package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// The catalog is one partition listing every pipeline of the account, for
// ListPipelines, with each pipeline's tags. Its sort keys are
//
//	pipeline#<name>                                  PipelineEntry
//
// A pipeline's own partition holds its versions and executions; PutPipeline
// writes the entry in the same transaction as each version, and deleting a
// pipeline removes the entry last.
const catalogPartition = "catalog"

func entryKey(name string) string { return "pipeline#" + name }

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

// PipelineEntry is a pipeline's entry in the catalog: CodePipeline's
// PipelineSummary, and the pipeline's tags.
type PipelineEntry struct {
	Name string `json:"name"`
	// Version is the latest version.
	Version       int       `json:"version"`
	PipelineType  string    `json:"pipelineType,omitempty"`
	ExecutionMode string    `json:"executionMode,omitempty"`
	Created       time.Time `json:"created"`
	Updated       time.Time `json:"updated"`
	Tags          []Tag     `json:"tags,omitempty"`
}

// catalogWrite is the write of a pipeline's catalog entry that goes with
// storing version p: conditional on the entry read, so that two versions
// stored at once cannot both win.
func (s *Store) catalogWrite(ctx context.Context, p Pipeline) (Write, error) {
	e, err := getOrZero[PipelineEntry](ctx, s.b, catalogPartition, entryKey(p.Name))
	if err != nil {
		return Write{}, fmt.Errorf("read catalog entry of %s: %w", p.Name, err)
	}
	var kind struct {
		PipelineType  string `json:"pipelineType"`
		ExecutionMode string `json:"executionMode"`
	}
	if len(p.Declaration) > 0 {
		if err := json.Unmarshal(p.Declaration, &kind); err != nil {
			return Write{}, fmt.Errorf("decode pipeline %s: %w", p.Name, err)
		}
	}
	if kind.PipelineType == "" {
		kind.PipelineType = "V1"
	}
	if kind.ExecutionMode == "" {
		kind.ExecutionMode = ModeSuperseded
	}
	v := &e.Value
	v.Name = p.Name
	if e.Version == 0 || p.Version == 1 {
		v.Created, v.Tags = p.Created, nil
	}
	if p.Version >= v.Version {
		v.Version, v.Updated = p.Version, p.Created
		v.PipelineType, v.ExecutionMode = kind.PipelineType, kind.ExecutionMode
	}
	return PipelineEntryWrite(e)
}

// GetPipelineEntry returns a pipeline's catalog entry, or ErrNotFound.
func (s *Store) GetPipelineEntry(ctx context.Context, name string) (Versioned[PipelineEntry], error) {
	return get[PipelineEntry](ctx, s.b, catalogPartition, entryKey(name))
}

// PipelineEntryWrite is the conditional write of a catalog entry.
func PipelineEntryWrite(e Versioned[PipelineEntry]) (Write, error) {
	return PutWrite(catalogPartition, entryKey(e.Value.Name), e.Value, e.Version)
}

// DeletePipelineEntryWrite removes a catalog entry read at version.
func DeletePipelineEntryWrite(e Versioned[PipelineEntry]) Write {
	return Write{Op: Delete, PK: catalogPartition, SK: entryKey(e.Value.Name), Expect: e.Version}
}

// ListPipelineEntries returns up to limit catalog entries in name order,
// after the one named by nextToken (empty: from the first), and the token
// of the next page, empty at the end.
func (s *Store) ListPipelineEntries(ctx context.Context, limit int, nextToken string) ([]PipelineEntry, string, error) {
	out, next, err := page(ctx, s.b, catalogPartition, "pipeline#", limit, nextToken, func(e PipelineEntry) string { return e.Name })
	if err != nil {
		return nil, "", fmt.Errorf("list pipelines: %w", err)
	}
	return out, next, nil
}

// page reads up to limit records of a partition whose sort keys are
// prefix + name, in name order, after the name nextToken; it returns the
// name to continue after, empty at the end.
func page[T any](ctx context.Context, b Backend, pk, prefix string, limit int, nextToken string, name func(T) string) ([]T, string, error) {
	after := ""
	if nextToken != "" {
		after = prefix + nextToken
	}
	items, err := b.Query(ctx, pk, prefix, QueryOptions{Limit: limit, After: after})
	if err != nil {
		return nil, "", err
	}
	out, err := decodeItems[T](items)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if limit > 0 && len(out) == limit {
		next = name(out[len(out)-1])
	}
	return out, next, nil
}

// DeletePipelineRecords removes every record of a pipeline's own partition
// (versions, executions, stages, actions, approvals), in transactions of at
// most MaxTransactItems deletes. Deleting a pipeline that has no records is
// not an error; a deletion cut short is finished by calling it again.
func (s *Store) DeletePipelineRecords(ctx context.Context, name string) error {
	pk := partition(name)
	for {
		items, err := s.b.Query(ctx, pk, "", QueryOptions{Limit: MaxTransactItems})
		if err != nil {
			return fmt.Errorf("delete records of %s: %w", name, err)
		}
		if len(items) == 0 {
			return nil
		}
		writes := make([]Write, len(items))
		for i, it := range items {
			writes[i] = Write{Op: Delete, PK: pk, SK: it.SK, Expect: AnyVersion}
		}
		if err := s.b.Transact(ctx, writes...); err != nil {
			return fmt.Errorf("delete records of %s: %w", name, err)
		}
	}
}

// decodeItems decodes the bodies of items.
func decodeItems[T any](items []Item) ([]T, error) {
	out := make([]T, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it.Body, &out[i]); err != nil {
			return nil, fmt.Errorf("decode %s/%s: %w", it.PK, it.SK, err)
		}
	}
	return out, nil
}
