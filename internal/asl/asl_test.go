package asl_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/asl"
)

func TestParseValid(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "valid-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := asl.Parse(data); err != nil {
				t.Fatalf("Parse: %v", err)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	pass := `{"Type":"Pass","End":true}`
	tests := []struct {
		name, def string
		code      string // diagnostic code expected
		where     string // JSON pointer to the field the problem names
	}{
		{"not json", `{`, "INVALID_JSON_DESCRIPTION", ""},
		{"not an object", `[]`, "SCHEMA_VALIDATION_FAILED", ""},
		{"no StartAt", `{"States":{"A":` + pass + `}}`, "SCHEMA_VALIDATION_FAILED", "/StartAt"},
		{"missing StartAt target", `{"StartAt":"B","States":{"A":` + pass + `}}`, "MISSING_TRANSITION_TARGET", "/StartAt"},
		{"missing Next target", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`, "MISSING_TRANSITION_TARGET", "/States/A/Next"},
		{"unreachable state", `{"StartAt":"A","States":{"A":` + pass + `,"B":` + pass + `}}`, "UNREACHABLE_STATE", "/States/B"},
		{"neither Next nor End", `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A"},
		{"both Next and End", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A","End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A"},
		{"unknown type", `{"StartAt":"A","States":{"A":{"Type":"Nope","End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Type"},
		{"field of another type", `{"StartAt":"A","States":{"A":{"Type":"Pass","Resource":"arn:x","End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Resource"},
		{"JSONPath field in JSONata", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$","End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/InputPath"},
		{"bad path", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"a.b","End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/InputPath"},
		{"bad ResultPath", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/ResultPath"},
		{"bad payload path", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"nope"},"End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Parameters"},
		{"bad intrinsic", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope(1)"},"End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Parameters"},
		{"bad JSONata", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% 1 + %}","End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Output"},
		{"task without resource", `{"StartAt":"A","States":{"A":{"Type":"Task","End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Resource"},
		{"heartbeat not below timeout", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","TimeoutSeconds":5,"HeartbeatSeconds":5,"End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/HeartbeatSeconds"},
		{"States.ALL not alone", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Retry":[{"ErrorEquals":["States.ALL","X"]}],"End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/ErrorEquals"},
		{"States.ALL not last", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}],"End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/ErrorEquals"},
		{"negative MaxAttempts", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Retry":[{"ErrorEquals":["X"],"MaxAttempts":-1}],"End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/MaxAttempts"},
		{"BackoffRate below 1", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Retry":[{"ErrorEquals":["X"],"BackoffRate":0.5}],"End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/BackoffRate"},
		{"bad JitterStrategy", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Retry":[{"ErrorEquals":["X"],"JitterStrategy":"HALF"}],"End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/JitterStrategy"},
		{"catch without Next", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Catch":[{"ErrorEquals":["X"]}],"End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Catch/0/Next"},
		{"catch to a missing state", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Catch":[{"ErrorEquals":["X"],"Next":"Z"}],"End":true}}}`, "MISSING_TRANSITION_TARGET", "/States/A/Catch/0/Next"},
		{"empty Choices", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[]}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Choices"},
		{"bad choice rule", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","Nope":1,"Next":"A"}]}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Choices/0"},
		{"choice rule not an object", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[1]}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Choices/0"},
		{"no Branches", `{"StartAt":"A","States":{"A":{"Type":"Parallel","End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Branches"},
		{"branch not an object", `{"StartAt":"A","States":{"A":{"Type":"Parallel","End":true,"Branches":["B"]}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Branches/0"},
		{"Retry not an array", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Retry":{},"End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Retry"},
		{"retrier not an object", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Retry":[[]],"End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0"},
		{"SecondsPath not a string", `{"StartAt":"A","States":{"A":{"Type":"Wait","SecondsPath":5,"End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/SecondsPath"},
		{"bad SecondsPath", `{"StartAt":"A","States":{"A":{"Type":"Wait","SecondsPath":"$.a[*]","End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/SecondsPath"},
		{"two wait fields", `{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A"},
		{"bad timestamp", `{"StartAt":"A","States":{"A":{"Type":"Wait","Timestamp":"tomorrow","End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Timestamp"},
		{"Error and ErrorPath", `{"StartAt":"A","States":{"A":{"Type":"Fail","Error":"E","ErrorPath":"$.e"}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A"},
		{"CausePath intrinsic not returning a string", `{"StartAt":"A","States":{"A":{"Type":"Fail","CausePath":"States.ArrayLength($.a)"}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/CausePath"},
		{"branch escapes", `{"StartAt":"A","States":{"A":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","Next":"A"}}}]}}}`, "MISSING_TRANSITION_TARGET", "/States/A/Branches/0/States/B/Next"},
		{"map without processor", `{"StartAt":"A","States":{"A":{"Type":"Map","End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/ItemProcessor"},
		{"tolerated percentage above 100", `{"StartAt":"A","States":{"A":{"Type":"Map","ToleratedFailurePercentage":101,"ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/ToleratedFailurePercentage"},
		{"state name too long", `{"StartAt":"` + strings.Repeat("a", 81) + `","States":{"` + strings.Repeat("a", 81) + `":` + pass + `}}`, "SCHEMA_VALIDATION_FAILED", "/States/" + strings.Repeat("a", 81)},
		{"bad TimeoutSeconds", `{"StartAt":"A","TimeoutSeconds":0,"States":{"A":` + pass + `}}`, "SCHEMA_VALIDATION_FAILED", "/TimeoutSeconds"},
		{"Iterator not an object", `{"StartAt":"A","States":{"A":{"Type":"Map","Iterator":5,"End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Iterator"},
		{"ItemReader not an object", mapWith(`"ItemReader":5`), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader"},
		{"ItemReader without Resource", mapWith(`"ItemReader":{"Parameters":{}}`), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader/Resource"},
		{"unknown ItemReader field", mapWith(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Nope":1}`), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader/Nope"},
		{"bad ItemReader Parameters", mapWith(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"a.$":"nope"}}`), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader/Parameters"},
		{"ReaderConfig not an object", mapWith(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":[]}`), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader/ReaderConfig"},
		{"ItemBatcher not an object", mapWith(`"ItemBatcher":true`), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemBatcher"},
		{"batch limit and its path", mapWith(`"ItemBatcher":{"MaxItemsPerBatch":2,"MaxItemsPerBatchPath":"$.n"}`), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemBatcher"},
		{"negative batch limit", mapWith(`"ItemBatcher":{"MaxInputBytesPerBatch":-1}`), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemBatcher/MaxInputBytesPerBatch"},
		{"bad batch limit path", mapWith(`"ItemBatcher":{"MaxItemsPerBatchPath":"$.a[*]"}`), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemBatcher/MaxItemsPerBatchPath"},
		{"bad BatchInput", mapWith(`"ItemBatcher":{"BatchInput":{"a.$":"States.Nope()"}}`), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemBatcher/BatchInput"},
		{"ResultWriter in an inline Map", mapWith(`"ResultWriter":{"WriterConfig":{"OutputType":"JSON","Transformation":"COMPACT"}}`), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter"},
		{"ResultWriter not an object", distributedMapWith(`"ResultWriter":[]`, false), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter"},
		{"empty ResultWriter", distributedMapWith(`"ResultWriter":{}`, false), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter"},
		{"unknown ResultWriter field", distributedMapWith(`"ResultWriter":{"WriterConfig":{"OutputType":"JSON","Transformation":"NONE"},"Nope":1}`, false), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter/Nope"},
		{"ResultWriter Resource without Parameters", distributedMapWith(`"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject"}`, false), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter/Parameters"},
		{"ResultWriter Parameters without Resource", distributedMapWith(`"ResultWriter":{"Parameters":{"Bucket":"b"}}`, false), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter/Resource"},
		{"ResultWriter Resource not putObject", distributedMapWith(`"ResultWriter":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b"}}`, false), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter/Resource"},
		{"ResultWriter without Bucket", distributedMapWith(`"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Prefix":"p"}}`, false), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter/Parameters/Bucket"},
		{"ResultWriter Parameters field other than Bucket and Prefix", distributedMapWith(`"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"b","Key":"k"}}`, false), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter/Parameters/Key"},
		{"bad ResultWriter Parameters path", distributedMapWith(`"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket.$":"nope"}}`, false), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter/Parameters"},
		{"ResultWriter Parameters in JSONata", distributedMapWith(`"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"b"}}`, true), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter/Parameters"},
		{"bad ResultWriter Arguments expression", distributedMapWith(`"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Arguments":{"Bucket":"{% $x + %}"}}`, true), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter/Arguments"},
		{"WriterConfig not an object", distributedMapWith(`"ResultWriter":{"WriterConfig":"JSON"}`, false), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter/WriterConfig"},
		{"WriterConfig without OutputType", distributedMapWith(`"ResultWriter":{"WriterConfig":{"Transformation":"FLATTEN"}}`, false), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter/WriterConfig/OutputType"},
		{"bad OutputType", distributedMapWith(`"ResultWriter":{"WriterConfig":{"OutputType":"CSV","Transformation":"NONE"}}`, false), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter/WriterConfig/OutputType"},
		{"bad Transformation", distributedMapWith(`"ResultWriter":{"WriterConfig":{"OutputType":"JSON","Transformation":"flatten"}}`, true), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter/WriterConfig/Transformation"},
		{"unknown WriterConfig field", distributedMapWith(`"ResultWriter":{"WriterConfig":{"OutputType":"JSON","Transformation":"NONE","Compression":"GZIP"}}`, false), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultWriter/WriterConfig/Compression"},
		{"Assign not an object", `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":"x","End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Assign"},
		{"JSONata Assign not an object", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":[],"End":true}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Assign"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := asl.Parse([]byte(tc.def))
			var inv *asl.InvalidDefinition
			if !errors.As(err, &inv) {
				t.Fatalf("Parse error %v, want an InvalidDefinition", err)
			}
			seen := map[string]bool{}
			for _, p := range inv.Problems {
				if seen[p.Error()] {
					t.Errorf("problem %q reported twice", p.Error())
				}
				seen[p.Error()] = true
			}
			for _, p := range inv.Problems {
				if p.Code == tc.code && p.Where == tc.where {
					return
				}
			}
			t.Errorf("problems %v, want %s at %s", err, tc.code, tc.where)
		})
	}
}

// mapWith returns a definition of one Map state with the given fields.
func mapWith(fields string) string {
	return `{"StartAt":"A","States":{"A":{"Type":"Map",` + fields +
		`,"ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}}}`
}

// distributedMapWith returns a definition of one Map state in DISTRIBUTED
// mode with the given fields, in JSONata or JSONPath.
func distributedMapWith(fields string, jsonata bool) string {
	ql := ""
	if jsonata {
		ql = `"QueryLanguage":"JSONata",`
	}
	return `{` + ql + `"StartAt":"A","States":{"A":{"Type":"Map",` + fields +
		`,"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}}}`
}

func TestMatches(t *testing.T) {
	tests := []struct {
		equals []string
		name   string
		want   bool
	}{
		{[]string{"States.ALL"}, "Anything", true},
		{[]string{"States.ALL"}, "", true},
		{[]string{"States.TaskFailed"}, "Custom", true},
		{[]string{"States.TaskFailed"}, "States.Timeout", false},
		{[]string{"A", "B"}, "B", true},
		{[]string{"A"}, "a", false},
	}
	for _, tc := range tests {
		if got := asl.Matches(tc.equals, tc.name); got != tc.want {
			t.Errorf("Matches(%v, %q) = %v, want %v", tc.equals, tc.name, got, tc.want)
		}
	}
}

// FuzzParse checks that no definition makes Parse panic, and that what it
// accepts it accepts again.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		def, err := asl.Parse(data)
		if err != nil {
			return
		}
		if def.States[def.StartAt] == nil {
			t.Fatalf("accepted a definition whose StartAt %q is missing", def.StartAt)
		}
		if _, err := asl.Parse(data); err != nil {
			t.Fatalf("second Parse failed: %v", err)
		}
	})
}
