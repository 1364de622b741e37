package states

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"
)

// errResultWriterFailed is the error of a Map state whose ResultWriter
// could not export its results.
const errResultWriterFailed = "States.ResultWriterFailed"

// resultWriter is a Map state's ResultWriter. Without a resource the
// transformed results are the state's output; with one, they are exported
// as the files of a Map Run (manifest.json, SUCCEEDED_n, FAILED_n,
// PENDING_n) through the handler registered for the resource, since
// locally there is no S3, and the state's output says where they went.
type resultWriter struct {
	resource       *resource
	params         template
	transformation string // NONE, COMPACT or FLATTEN
	jsonl          bool   // OutputType JSONL: one result a line
}

// compileWriter compiles a ResultWriter, whose shape package asl checked.
// Without a WriterConfig the results are exported unchanged (NONE) as a
// JSON array, as on AWS.
func compileWriter(v any, isJSONata bool) (*resultWriter, error) {
	m, _ := v.(map[string]any)
	w := &resultWriter{transformation: "NONE"}
	if res, ok := m["Resource"].(string); ok {
		w.resource = parseResource(res)
	}
	var err error
	if w.params, err = compileResourceParams(m, isJSONata); err != nil {
		return nil, err
	}
	if wc, ok := m["WriterConfig"].(map[string]any); ok {
		w.transformation, _ = wc["Transformation"].(string)
		w.jsonl = wc["OutputType"] == "JSONL"
	}
	return w, nil
}

// childRun is how one child execution of a Map Run went: not started
// (pending), or started at start and ended at stop with output or f.
type childRun struct {
	started     bool
	input       any
	output      any
	f           *failure
	start, stop time.Time
}

// Statuses of a Map Run's child executions, and of its result files.
const (
	childSucceeded = "SUCCEEDED"
	childFailed    = "FAILED"
	childAborted   = "ABORTED"
	childPending   = "PENDING"
)

func (c *childRun) status() string {
	switch {
	case !c.started:
		return childPending
	case c.f == abortedFailure:
		return childAborted
	case c.f != nil:
		return childFailed
	}
	return childSucceeded
}

// childName names child execution i of a Map Run, the same on every replay
// of the run.
func childName(mapRun string, i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", mapRun, i))
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

// mapRunID is the last part of a Map Run ARN, which names its results'
// folder.
func mapRunID(mapRun string) string {
	return mapRun[strings.LastIndex(mapRun, ":")+1:]
}

// childRecord is a child execution as the NONE transformation shows it:
// the execution's description, with its input and output as JSON text.
// A pending child never ran and has only its input.
func childRecord(mapRun string, i int, c *childRun) map[string]any {
	status := c.status()
	rec := map[string]any{
		"Input":        marshalString(c.input),
		"InputDetails": map[string]any{"Included": true},
		"Status":       status,
	}
	if status == childPending {
		return rec
	}
	base := mapRun[:strings.LastIndex(mapRun, ":")]
	name := childName(mapRun, i)
	rec["Name"] = name
	rec["ExecutionArn"] = strings.Replace(base, ":mapRun:", ":execution:", 1) + ":" + name
	rec["StateMachineArn"] = strings.Replace(base, ":mapRun:", ":stateMachine:", 1)
	rec["StartDate"] = recordTime(c.start)
	rec["StopDate"] = recordTime(c.stop)
	rec["RedriveCount"] = jsonNumber(0)
	switch status {
	case childSucceeded:
		rec["Output"] = marshalString(c.output)
		rec["OutputDetails"] = map[string]any{"Included": true}
		rec["RedriveStatus"] = "NOT_REDRIVABLE"
		rec["RedriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
	default:
		rec["RedriveStatus"] = "REDRIVABLE_BY_MAP_RUN"
		if c.f.Error != nil {
			rec["Error"] = *c.f.Error
		}
		if c.f.Cause != nil {
			rec["Cause"] = *c.f.Cause
		}
	}
	return rec
}

// recordTime formats a time as the dates of result records.
func recordTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// transform applies the writer's Transformation to the children of one
// status: a child that did not succeed is always shown whole (NONE).
func (w *resultWriter) transform(mapRun string, children []*childRun, idx []int) []any {
	out := []any{}
	for _, i := range idx {
		c := children[i]
		if c.status() != childSucceeded || w.transformation == "NONE" {
			out = append(out, childRecord(mapRun, i, c))
			continue
		}
		if arr, ok := c.output.([]any); ok && w.transformation == "FLATTEN" {
			out = append(out, arr...)
			continue
		}
		out = append(out, c.output)
	}
	return out
}

// resultFile is one object of a Map Run's export.
type resultFile struct {
	key  string
	body []byte
}

// files returns the objects AWS writes for a Map Run under prefix: a file
// for each status that has children (SUCCEEDED_0, FAILED_0 for the failed
// and aborted ones, PENDING_0 for those never started), then the
// manifest.json that lists them.
func (w *resultWriter) files(bucket, prefix, mapRun string, children []*childRun) []resultFile {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	dir := prefix + mapRunID(mapRun) + "/"
	groups := map[string][]int{}
	for i, c := range children {
		s := c.status()
		if s == childAborted {
			s = childFailed
		}
		groups[s] = append(groups[s], i)
	}
	ext := ".json"
	if w.jsonl {
		ext = ".jsonl"
	}
	var out []resultFile
	listed := map[string]any{}
	for _, s := range []string{childSucceeded, childFailed, childPending} {
		entries := []any{}
		if idx := groups[s]; len(idx) > 0 {
			f := resultFile{key: dir + s + "_0" + ext, body: w.encode(w.transform(mapRun, children, idx))}
			out = append(out, f)
			entries = append(entries, map[string]any{"Key": f.key, "Size": jsonNumber(int64(len(f.body)))})
		}
		listed[s] = entries
	}
	manifest := map[string]any{"DestinationBucket": bucket, "MapRunArn": mapRun, "ResultFiles": listed}
	return append(out, resultFile{key: dir + "manifest.json", body: marshal(manifest)})
}

// encode writes results as a JSON array, or as JSON Lines.
func (w *resultWriter) encode(results []any) []byte {
	if !w.jsonl {
		return marshal(results)
	}
	var b bytes.Buffer
	for _, r := range results {
		b.Write(marshal(r))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// writeResults hands a Map Run's results to the ResultWriter and returns
// the state's result: the transformed results without a resource, else
// the Map Run ARN and the key of the manifest. Each object goes to the
// resource's handler as the parameters of an S3 PutObject call
// ({"Bucket", "Key", "Body"}), the manifest last; the handler writes
// outside the engine, so the state's events are made durable first.
func (st *stateRun) writeResults(eff any, mapRun string, children []*childRun) (any, *failure) {
	w := st.n.writer
	if w.resource == nil {
		idx := make([]int, 0, len(children))
		for i, c := range children {
			if c.started {
				idx = append(idx, i)
			}
		}
		return w.transform(mapRun, children, idx), nil
	}
	params, f := st.evalTemplate(w.params, st.env(eff), map[string]any{}, "ResultWriter")
	if f != nil {
		return nil, f
	}
	m, _ := params.(map[string]any)
	bucket, ok := m["Bucket"].(string)
	if !ok || bucket == "" {
		return nil, st.evalFailure(&evalError{errRuntime, fmt.Sprintf(
			"the ResultWriter's Bucket must be a non-empty string, not %s", marshalString(m["Bucket"]))}, "ResultWriter")
	}
	prefix, ok := m["Prefix"].(string)
	if _, set := m["Prefix"]; set && !ok {
		return nil, st.evalFailure(&evalError{errRuntime, fmt.Sprintf(
			"the ResultWriter's Prefix must be a string, not %s", marshalString(m["Prefix"]))}, "ResultWriter")
	}
	reg := st.s.x.eng.handlers
	h := reg.get(w.resource.arn)
	if h == nil {
		return nil, st.evalFailure(&evalError{errRuntime, fmt.Sprintf(
			"no handler is registered for the ResultWriter resource '%s'", w.resource.arn)}, "ResultWriter")
	}
	files := w.files(bucket, prefix, mapRun, children)
	st.s.x.flush()
	for _, file := range files {
		in := map[string]any{"Bucket": bucket, "Key": file.key, "Body": string(file.body)}
		if _, err := safeCall(st.s.ctx, h, marshal(in)); err != nil {
			return nil, newFailure(errResultWriterFailed, fmt.Sprintf(
				"could not write s3://%s/%s: %v", bucket, file.key, err))
		}
	}
	return map[string]any{
		"MapRunArn":           mapRun,
		"ResultWriterDetails": map[string]any{"Bucket": bucket, "Key": files[len(files)-1].key},
	}, nil
}
