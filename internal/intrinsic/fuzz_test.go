package intrinsic

import (
	"testing"

	"github.com/sluice-ci/sluice/internal/jsonpath"
	"github.com/sluice-ci/sluice/internal/jsonpath/jsonpathtest"
)

// FuzzIntrinsic parses arbitrary text and evaluates whatever parses: nothing
// may panic, and every failure is a Failure or a NotFoundError.
func FuzzIntrinsic(f *testing.F) {
	for _, seed := range []string{
		`States.Format('Hello {}, \{\} {}', $.name, $$.Execution.Name)`,
		`States.ArrayGetItem(States.StringSplit($.s, ', '), States.MathAdd(States.ArrayLength($.a), -1))`,
		`States.ArrayRange(1, 9, 2)`, `States.ArrayPartition($.a, 2.5)`, `States.ArrayUnique($.a)`,
		`States.Base64Decode(States.Base64Encode('x'))`, `States.Hash($.s, 'SHA-256')`,
		`States.JsonMerge($.o, $.o, false)`, `States.StringToJson(States.JsonToString($.o))`,
		`States.MathRandom(1, 10, 3)`, `States.UUID()`, `States.ArrayContains($.a, 1.0)`,
		`States.Array($.a[?(@ > 1)], null, true, -1.5e3, $x)`,
	} {
		f.Add(seed)
	}
	env := jsonpath.Env{
		Input:   jsonpathtest.Decode(f, `{"name":"n","s":"a, b","a":[1,2,2,"2",{"k":[1]}],"o":{"k":1}}`),
		Context: jsonpathtest.Decode(f, context),
		Vars:    func(string) (any, bool) { return "v", true },
	}
	f.Fuzz(func(t *testing.T, expr string) {
		call, err := Parse(expr)
		if err != nil {
			return
		}
		if _, err := call.Eval(env); err != nil {
			switch err.(type) {
			case *jsonpath.Failure, *jsonpath.NotFoundError:
			default:
				t.Fatalf("%s: unexpected error type %T: %v", expr, err, err)
			}
		}
	})
}
