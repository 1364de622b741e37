package states_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/golden"
	"github.com/sluice-ci/sluice/internal/states"
)

// putObjects is an s3:putObject handler that keeps the objects it is given
// in the order they come, and checks that the Map state's events are
// durable before anything is written.
type putObjects struct {
	log  states.EventLog
	exec string
	mu   sync.Mutex
	keys []string
	objs map[string]string
}

func (p *putObjects) put(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
	var obj struct{ Bucket, Key, Body string }
	if err := json.Unmarshal(in, &obj); err != nil {
		return nil, fmt.Errorf("unexpected input %s", in)
	}
	h, _ := p.log.History(p.exec, states.AllEvents)
	if len(h) == 0 || h[len(h)-1].Type != states.MapRunStarted {
		return nil, fmt.Errorf("the writer ran before MapRunStarted was in the log (%d events)", len(h))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	key := obj.Bucket + "/" + obj.Key
	p.keys = append(p.keys, key)
	p.objs[key] = obj.Body
	return json.RawMessage(`{"ETag":"\"e\""}`), nil
}

// writerMachine returns a definition whose distributed Map state "Export"
// has the given fields. Its items are objects: one with "fail" fails with
// Bad, the others output their "v".
func writerMachine(jsonata bool, fields string) string {
	processor := `"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"Check","States":{
	    "Check":{"Type":"Choice","Choices":[{"Variable":"$.fail","IsPresent":true,"Next":"Bad"}],"Default":"Good"},
	    "Bad":{"Type":"Fail","Error":"Bad","Cause":"the item failed"},
	    "Good":{"Type":"Pass","OutputPath":"$.v","End":true}}}`
	ql, items := "", `"ItemsPath":"$.items",`
	if jsonata {
		ql, items = `"QueryLanguage":"JSONata",`, `"Items":"{% $states.input.items %}",`
		processor = strings.NewReplacer(
			`{"Variable":"$.fail","IsPresent":true,"Next":"Bad"}`, `{"Condition":"{% $exists($states.input.fail) %}","Next":"Bad"}`,
			`"OutputPath":"$.v"`, `"Output":"{% $states.input.v %}"`).Replace(processor)
	}
	return `{` + ql + `"StartAt":"Export","States":{"Export":{"Type":"Map",` + items + fields + `,` + processor + `,
	  "Catch":[{"ErrorEquals":["States.ResultWriterFailed"],"Next":"Caught"}],"End":true},
	  "Caught":{"Type":"Pass","End":true}}}`
}

const (
	s3Writer     = `"Resource":"arn:aws:states:::s3:putObject"`
	writerItems  = `{"bucket":"results","items":[{"v":[1,2]},{"v":[3]},{"v":4},{"fail":true}]}`
	failingFirst = `{"bucket":"results","items":[{"fail":true},{"v":1},{"v":2}]}`
)

// TestResultWriter runs distributed Map states with each form of
// ResultWriter and compares how the execution ended and the objects
// written with testdata/resultwriter/<case>.golden (-update rewrites them).
func TestResultWriter(t *testing.T) {
	tests := []struct {
		name, def, input string
		handler          bool // register the s3:putObject handler
		failing          bool // the handler fails
	}{
		{"none-json-s3", writerMachine(false, `"ToleratedFailureCount":1,"MaxConcurrency":1,
		  "ResultWriter":{`+s3Writer+`,"Parameters":{"Bucket.$":"$.bucket","Prefix":"runs"}}`), writerItems, true, false},
		{"compact-jsonl-s3-jsonata", writerMachine(true, `"ToleratedFailurePercentage":25,
		  "ResultWriter":{`+s3Writer+`,"Arguments":{"Bucket":"{% $states.input.bucket %}"},"WriterConfig":{"OutputType":"JSONL","Transformation":"COMPACT"}}`), writerItems, true, false},
		{"flatten-json-s3", writerMachine(false, `"ToleratedFailureCount":1,
		  "ResultWriter":{`+s3Writer+`,"Parameters":{"Bucket":"results","Prefix":"flat/"},"WriterConfig":{"OutputType":"JSON","Transformation":"FLATTEN"}}`), writerItems, true, false},
		{"none-jsonl-s3", writerMachine(false, `"ToleratedFailureCount":1,
		  "ResultWriter":{`+s3Writer+`,"Parameters":{"Bucket":"results"},"WriterConfig":{"OutputType":"JSONL","Transformation":"NONE"}}`), writerItems, true, false},
		{"flatten-output", writerMachine(false, `"ItemSelector":{"v.$":"$$.Map.Item.Value.v"},
		  "ResultWriter":{"WriterConfig":{"OutputType":"JSON","Transformation":"FLATTEN"}}`), `{"items":[{"v":[1,2]},{"v":[3]},{"v":4}]}`, false, false},
		{"compact-output-tolerated-failure", writerMachine(true, `"ToleratedFailureCount":1,
		  "ResultWriter":{"WriterConfig":{"OutputType":"JSON","Transformation":"COMPACT"}}`), writerItems, false, false},
		{"none-output-jsonata", writerMachine(true, `"ToleratedFailureCount":1,
		  "ResultWriter":{"WriterConfig":{"OutputType":"JSONL","Transformation":"NONE"}}`), writerItems, false, false},
		{"failed-run-exports-pending", writerMachine(false, `"MaxConcurrency":1,
		  "ResultWriter":{`+s3Writer+`,"Parameters":{"Bucket":"results","Prefix":"runs"}}`), failingFirst, true, false},
		{"no-handler", writerMachine(false, `"ResultWriter":{`+s3Writer+`,"Parameters":{"Bucket":"results"}}`), writerItems, false, false},
		{"handler-fails", writerMachine(false, `"ToleratedFailureCount":1,"ResultWriter":{`+s3Writer+`,"Parameters":{"Bucket":"results"}}`), writerItems, true, true},
		{"bucket-not-a-string", writerMachine(false, `"ToleratedFailureCount":1,"ResultWriter":{`+s3Writer+`,"Parameters":{"Bucket.$":"$.items"}}`), writerItems, true, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := states.NewMemoryLog()
			reg := states.NewRegistry()
			name := fmt.Sprintf("Writer%d", i)
			objs := &putObjects{log: log, exec: "arn:aws:states:us-east-1:123456789012:execution:" + name + ":x", objs: map[string]string{}}
			switch {
			case tc.failing:
				reg.Register("arn:aws:states:::s3:putObject", func(context.Context, json.RawMessage) (json.RawMessage, error) {
					return nil, errors.New("AccessDenied: the bucket refuses writes")
				})
			case tc.handler:
				reg.Register("arn:aws:states:::s3:putObject", objs.put)
			}
			clock := states.NewVirtualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			eng := openEngine(t, states.Options{Log: log, Handlers: reg, Clock: clock})
			d := wait(t, eng, start(t, eng, createMachine(t, eng, name, tc.def), "x", tc.input))
			var b bytes.Buffer
			fmt.Fprintf(&b, "status %s\n", d.Status)
			if d.Error != nil {
				fmt.Fprintf(&b, "error %s\ncause %s\n", *d.Error, *d.Cause)
			}
			if d.Output != nil {
				var out bytes.Buffer
				if err := json.Indent(&out, []byte(*d.Output), "", "  "); err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "output %s\n", out.String())
			}
			for _, k := range objs.keys {
				fmt.Fprintf(&b, "== %s\n%s\n", k, objs.objs[k])
			}
			golden.Check(t, filepath.Join("testdata", "resultwriter", tc.name+".golden"), []byte(stableIDs(b.String())))
		})
	}
}

var uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// stableIDs replaces the random ids of a text (Map Run ids and the names
// derived from them) by <id-N>, numbered in the order they appear.
func stableIDs(s string) string {
	ids := map[string]string{}
	return uuidPattern.ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := ids[id]; !ok {
			ids[id] = fmt.Sprintf("<id-%d>", len(ids)+1)
		}
		return ids[id]
	})
}
