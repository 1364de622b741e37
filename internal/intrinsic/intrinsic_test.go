package intrinsic

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/sluice-ci/sluice/internal/jsonpath"
	"github.com/sluice-ci/sluice/internal/jsonpath/jsonpathtest"
)

// context is a context object shaped like the one AWS passes, for the
// cases that read $$.
const context = `{
  "Execution": {"Id": "arn:aws:states:us-east-1:111111111111:execution:sm-name-1:exec-1", "Name": "exec-1",
                "Input": {"start": 2, "end": 6, "step": 2}, "StartTime": "2024-01-01T00:00:00.000Z"},
  "StateMachine": {"Id": "arn:aws:states:us-east-1:111111111111:stateMachine:sm-name-1", "Name": "sm-name-1"},
  "State": {"Name": "State_0", "EnteredTime": "2024-01-01T00:00:00.000Z"}
}`

func env(t testing.TB, input string) jsonpath.Env {
	vars := map[string]any{"name": "Ada", "list": jsonpathtest.Decode(t, `[1, 2, 3]`)}
	return jsonpath.Env{
		Input:   jsonpathtest.Decode(t, input),
		Context: jsonpathtest.Decode(t, context),
		Vars: func(n string) (any, bool) {
			v, ok := vars[n]
			return v, ok
		},
	}
}

// TestConformance evaluates every JSONPath-mode intrinsic_functions case of
// the recorded AWS corpus (a Pass state whose Parameters hold the calls) and
// compares with what AWS produced.
func TestConformance(t *testing.T) {
	ctx := jsonpathtest.Decode(t, context)
	ran := 0
	for _, c := range jsonpathtest.Cases(t, "intrinsic_functions") {
		params := passParameters(c)
		if params == nil {
			continue
		}
		ran++
		t.Run(c.ID, func(t *testing.T) {
			out := map[string]any{}
			for key, v := range params {
				expr, _ := v.(string)
				call, err := Parse(expr)
				if err != nil {
					t.Fatalf("Parse(%s): %v", expr, err)
				}
				got, err := call.Eval(jsonpath.Env{Input: c.Input, Context: ctx})
				if err != nil {
					t.Fatalf("Eval(%s): %v", expr, err)
				}
				out[strings.TrimSuffix(key, ".$")] = got
			}
			if c.Expected.Status != "SUCCEEDED" {
				t.Fatalf("recorded status %s, engine succeeded with %s", c.Expected.Status, jsonpath.Text(out))
			}
			if !jsonpathtest.NewMatcher(c.Expected.Placeholders).Match(c.Expected.Output, out) {
				t.Errorf("got %s, AWS recorded %s", jsonpath.Text(out), jsonpath.Text(c.Expected.Output))
			}
		})
	}
	if ran == 0 {
		t.Fatal("the corpus has no intrinsic_functions case of a Pass state whose Parameters are intrinsic calls: the selection reproduces nothing")
	}
	t.Logf("reproduced %d intrinsic_functions cases", ran)
}

// passParameters returns the Parameters of a one-state JSONPath Pass machine
// whose every field is an intrinsic call.
func passParameters(c jsonpathtest.Case) map[string]any {
	st := c.OnlyState()
	params, _ := st["Parameters"].(map[string]any)
	if st["Type"] != "Pass" || params == nil {
		return nil
	}
	for k, v := range params {
		if s, ok := v.(string); !ok || !strings.HasSuffix(k, ".$") || !IsIntrinsic(s) {
			return nil
		}
	}
	return params
}

// TestEval pins AWS's recorded results and argument rules, including where
// they differ from the documentation.
func TestEval(t *testing.T) {
	tests := []struct {
		expr, input, want string
	}{
		{`States.Format('Hello {}', $.name)`, `{"name":"Ada"}`, `"Hello Ada"`},
		{`States.Format('{} {} {}', $.a, $.b, $.c)`, `{"a":"x","b":2,"c":true}`, `"x 2 true"`},
		{`States.Format('Name: \'{}\', Surname: "{}"', $.n, $.s)`, `{"n":"Gabriel","s":"Moreira"}`, `"Name: 'Gabriel', Surname: \"Moreira\""`},
		{`States.Format('no placeholders')`, `{}`, `"no placeholders"`},
		{`States.Format($.template, $.name)`, `{"template":"Hello {}","name":"Ada"}`, `"Hello Ada"`},
		{`States.Format('\{\} is literal, {} is not', 1)`, `{}`, `"{} is literal, 1 is not"`},
		{`States.Format('{}|{}|{}|{}', $.n, $.b, $.f, $.big)`, `{"n":null,"b":false,"f":3.5,"big":9007199254740993}`, `"null|false|3.5|9007199254740993"`},
		{`States.Format('{}', $.o)`, `{"o":{"Arg1":1,"Arg2":[]}}`, `"{Arg1=1, Arg2=[]}"`},
		{`States.Format('{}:{}', $.name, $$.Execution.Input.start)`, `{"name":"job"}`, `"job:2"`},
		{`States.Format('{}', $name)`, `{}`, `"Ada"`},
		{`States.Format('arn:{}:{}', $.svc, States.JsonToString($.obj))`, `{"svc":"lambda","obj":{"k":1}}`, `"arn:lambda:{\"k\":1}"`},
		{`States.StringToJson($.s)`, `{"s":"{\"a\":1}"}`, `{"a":1}`},
		{`States.StringToJson($.s)`, `{"s":" {\"a\":1} "}`, `{"a":1}`},
		{`States.StringToJson($.s)`, `{"s":" "}`, `null`},
		{`States.StringToJson($.s)`, `{"s":""}`, `null`},
		{`States.StringToJson($.s)`, `{"s":"12345678901234567890.5"}`, `12345678901234567890.5`},
		{`States.JsonToString($.o)`, `{"o":{"Arg1":1,"Arg2":[],"s":"<&>"}}`, `"{\"Arg1\":1,\"Arg2\":[],\"s\":\"<&>\"}"`},
		{`States.JsonToString($.o)`, `{"o":1.10}`, `"1.10"`},
		{`States.Array()`, `{}`, `[]`},
		{`States.Array(42, true, null, 'hello', -1.5e3)`, `{}`, `[42, true, null, "hello", -1.5e3]`},
		{`States.Array(1, States.Array(2, 3))`, `{}`, `[1, [2, 3]]`},
		{`States.Array( $.a , $.b )`, `{"a":1,"b":2}`, `[1, 2]`},
		{`States.ArrayPartition($.a, 4)`, `{"a":[1,2,3,4,5,6,7,8,9]}`, `[[1,2,3,4],[5,6,7,8],[9]]`},
		{`States.ArrayPartition($.a, 2.6)`, `{"a":[1,2,3,4,5]}`, `[[1,2],[3,4],[5]]`},
		{`States.ArrayPartition($.a, 2147483647)`, `{"a":[1,2,3]}`, `[[1,2,3]]`},
		{`States.ArrayPartition($.a, 3)`, `{"a":[]}`, `[]`},
		{`States.ArrayContains($.a, 2)`, `{"a":[1,2,3]}`, `true`},
		{`States.ArrayContains($.a, null)`, `{"a":[1,null,3]}`, `true`},
		{`States.ArrayContains($.a, $.t)`, `{"a":[[1,2],[3,4]],"t":[1,2]}`, `true`},
		{`States.ArrayContains($.a, false)`, `{"a":[0,1,-1,-1.5]}`, `false`},
		{`States.ArrayContains($.a, $.t)`, `{"a":["9007199254740991"],"t":9007199254740991}`, `true`},
		{`States.ArrayContains($.a, true)`, `{"a":["true"]}`, `true`},
		{`States.ArrayContains($.a, $.t)`, `{"a":[{"a":1}],"t":{"a":1,"extra":null}}`, `false`},
		{`States.ArrayRange(1, 9, 2)`, `{}`, `[1,3,5,7,9]`},
		{`States.ArrayRange(-2, 2, 2)`, `{}`, `[-2,0,2]`},
		{`States.ArrayRange(1.4, 5.6, 2.2)`, `{}`, `[1,3,5]`},
		{`States.ArrayRange(1.6, 1.4, 1)`, `{}`, `[1]`},
		{`States.ArrayRange(5.4, -0.6, -2.4)`, `{}`, `[5,3,1]`},
		{`States.ArrayRange(3, 3, -1)`, `{}`, `[3]`},
		{`States.ArrayRange(5, 1, -2)`, `{}`, `[5,3,1]`},
		{`States.ArrayRange(5, 1, 1)`, `{}`, `[]`},
		{`States.ArrayRange(1, 5, -1)`, `{}`, `[]`},
		{`States.ArrayRange($$.Execution.Input.start, $$.Execution.Input.end, $$.Execution.Input.step)`, `{}`, `[2,4,6]`},
		{`States.ArrayGetItem($.a, 1)`, `{"a":["a","b","c"]}`, `"b"`},
		{`States.ArrayGetItem($.a, 1.2)`, `{"a":[10,20,30]}`, `20`},
		{`States.ArrayGetItem($.a, 999)`, `{"a":[]}`, `null`},
		{`States.ArrayGetItem(States.Array('x', 'y', 'z'), 1)`, `{}`, `"y"`},
		{`States.ArrayLength($.a)`, `{"a":[[1],[2],[3]]}`, `3`},
		{`States.ArrayLength(States.Array())`, `{}`, `0`},
		{`States.ArrayUnique($.a)`, `{"a":[1,2,3,3,3,4]}`, `[1,2,3,4]`},
		{`States.ArrayUnique($.a)`, `{"a":["a","b","a","c","b"]}`, `["a","b","c"]`},
		{`States.ArrayUnique($.a)`, `{"a":[true,false,true,false]}`, `[false,true]`},
		{`States.ArrayUnique($.a)`, `{"a":[[1,2],[1,2],[2,1]]}`, `[[2,1],[1,2]]`},
		{`States.ArrayUnique($.a)`, `{"a":[null,null,1,null]}`, `[null,1]`},
		{`States.ArrayUnique($.a)`, `{"a":[{"a":1,"b":2},{"b":2,"a":1}]}`, `[{"a":1,"b":2}]`},
		{`States.ArrayUnique($.a)`, `{"a":[1,"1",1.0,"01"]}`, `[1.0,1,"1","01"]`},
		{`States.Base64Encode('hello')`, `{}`, `"aGVsbG8="`},
		{`States.Base64Encode($.s)`, `{"s":"🚀"}`, `"8J+agA=="`},
		{`States.Base64Encode('')`, `{}`, `""`},
		{`States.Base64Decode('4pyT')`, `{}`, `"✓"`},
		{`States.Base64Decode('!!!aGVsbG8=')`, `{}`, `"hello"`},
		{`States.Base64Decode(' YWJjZA== ')`, `{}`, `"abcd"`},
		{`States.Base64Decode('ab==cd')`, `{}`, `"i"`},
		{`States.Base64Decode('YWJj')`, `{}`, `"abc"`},
		{`States.Base64Decode('YWI')`, `{}`, `"ab"`},
		{`States.Base64Decode(States.Base64Encode($.s))`, `{"s":"hello"}`, `"hello"`},
		{`States.Hash('hello', 'MD5')`, `{}`, `"5d41402abc4b2a76b9719d911017c592"`},
		{`States.Hash('hello', 'SHA-1')`, `{}`, `"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"`},
		{`States.Hash('hello', 'SHA-384')`, `{}`, `"59e1748777448c69de6b800d7a33bbfb9ff1b463e44354c3553bcdb9c666fa90125a3c79f90397bdf5f6a13de828684f"`},
		{`States.Hash('', 'SHA-256')`, `{}`, `"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"`},
		{`States.Hash($.s, 'MD5')`, `{"s":"abc\u0000def"}`, `"a5e4d5963ae44c1f4bfb37b1a3d55a3c"`},
		{`States.Hash(123, 'MD5')`, `{}`, `"202cb962ac59075b964b07152d234b70"`},
		{`States.JsonMerge($.a, $.b, false)`, `{"a":{"x":1,"y":2},"b":{"y":3,"z":4}}`, `{"x":1,"y":3,"z":4}`},
		{`States.JsonMerge($.a, $.b, false)`, `{"a":{"n":{"a1":1}},"b":{"n":{"a3":3}}}`, `{"n":{"a3":3}}`},
		{`States.JsonMerge($.a, $.b, $.deep)`, `{"a":{},"b":{"k":1},"deep":"false"}`, `{"k":1}`},
		{`States.MathAdd(5, 3)`, `{}`, `8`},
		{`States.MathAdd($.a, $.b)`, `{"a":1.6,"b":2.7}`, `5`},
		{`States.MathAdd($.a, $.b)`, `{"a":0.1,"b":0.2}`, `0`},
		{`States.MathAdd(-0.5, 0.5)`, `{}`, `1`},
		{`States.MathAdd(-1.5, -1.51)`, `{}`, `-3`},
		{`States.MathAdd(-2.5, 0)`, `{}`, `-2`},
		{`States.MathAdd(2147483646, 1)`, `{}`, `2147483647`},
		{`States.MathAdd(-2147483647, -1)`, `{}`, `-2147483648`},
		{`States.MathAdd(States.MathAdd($.x, 1), 2)`, `{"x":5}`, `8`},
		{`States.MathAdd($list[0], 1)`, `{}`, `2`},
		{`States.MathRandom(1, 100, 42)`, `{}`, `63`}, // java.util.Random(42).nextInt(99) is 62
		{`States.MathRandom(1, 1000, 7)`, `{}`, `971`},
		{`States.StringSplit($.s, ',')`, `{"s":"a,b,c"}`, `["a","b","c"]`},
		{`States.StringSplit($.s, $.d)`, `{"s":"1+2,3.4","d":".+,"}`, `["1","2","3","4"]`},
		{`States.StringSplit($.s, ',')`, `{"s":"a,,b"}`, `["a","b"]`},
		{`States.StringSplit($.s, ',')`, `{"s":",,,,"}`, `[]`},
		{`States.StringSplit($.s, ',')`, `{"s":""}`, `[]`},
		{`States.StringSplit($.s, '')`, `{"s":"abc"}`, `["abc"]`},
		{`States.StringSplit($.s, 'ab')`, `{"s":"1a2b3ab4"}`, `["1","2","3","4"]`},
		{`States.StringSplit(States.Format('{}-{}', $.a, $.b), '-')`, `{"a":"x","b":"y"}`, `["x","y"]`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			call, err := Parse(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := call.Eval(env(t, tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if want := jsonpathtest.Decode(t, tt.want); !jsonpath.Equal(got, want) || jsonpath.Text(got) != jsonpath.Text(want) {
				t.Errorf("got %s, want %s", jsonpath.Text(got), tt.want)
			}
		})
	}
}

// TestEvalInvalid pins the arguments AWS rejects at run time with
// States.Runtime and "Invalid arguments in States.<Name>".
func TestEvalInvalid(t *testing.T) {
	long := `"` + strings.Repeat("a", 10001) + `"`
	tests := []struct{ expr, input string }{
		{`States.Format('{} {}', $.a)`, `{"a":"x"}`},
		{`States.Format('{}', $.a, $.b)`, `{"a":"x","b":"y"}`},
		{`States.Format($.t, 'Ada')`, `{"t":123}`},
		{`States.Format('Hello {', $.a)`, `{"a":"x"}`},
		{`States.Format('Hello {{}}', $.a)`, `{"a":"x"}`},
		{`States.Format('}')`, `{}`},
		{`States.Format()`, `{}`},
		{`States.StringToJson($.s)`, `{"s":"{bad json}"}`},
		{`States.StringToJson($.s)`, `{"s":"{\"a\":1"}`},
		{`States.StringToJson($.s)`, `{"s":"undefined"}`},
		{`States.StringToJson($.s)`, `{"s":"1 2"}`},
		{`States.StringToJson($.s)`, `{"s":123}`},
		{`States.StringToJson($.a, $.b)`, `{"a":"1","b":"2"}`},
		{`States.JsonToString()`, `{}`},
		{`States.ArrayPartition('not-array', 2)`, `{}`},
		{`States.ArrayPartition($.a, 0.49)`, `{"a":[1]}`},
		{`States.ArrayPartition($.a, 0.6)`, `{"a":[1]}`},
		{`States.ArrayPartition($.a, -1)`, `{"a":[1]}`},
		{`States.ArrayPartition($.a, '2')`, `{"a":[1]}`},
		{`States.ArrayPartition($.a, null)`, `{"a":[1]}`},
		{`States.ArrayPartition($.a)`, `{"a":[1]}`},
		{`States.ArrayPartition($.a, 2, 999)`, `{"a":[1]}`},
		{`States.ArrayContains('not-array', 'x')`, `{}`},
		{`States.ArrayContains($.a)`, `{"a":[1]}`},
		{`States.ArrayRange('a', 5, 1)`, `{}`},
		{`States.ArrayRange(1, 10, 0)`, `{}`},
		{`States.ArrayRange(1, 10, 0.49)`, `{}`},
		{`States.ArrayRange(1, 1001, 1)`, `{}`},
		{`States.ArrayRange(1001, 1, -1)`, `{}`},
		{`States.ArrayRange(1, 3000000000, 1)`, `{}`},
		{`States.ArrayRange(1, 5)`, `{}`},
		{`States.ArrayGetItem('not-array', 0)`, `{}`},
		{`States.ArrayGetItem($.a, 3)`, `{"a":[10,20,30]}`},
		{`States.ArrayGetItem($.a, -1)`, `{"a":[10,20,30]}`},
		{`States.ArrayGetItem($.a, '1')`, `{"a":[10,20,30]}`},
		{`States.ArrayLength('not-array')`, `{}`},
		{`States.ArrayLength($.o)`, `{"o":{"k":1}}`},
		{`States.ArrayUnique('not-array')`, `{}`},
		{`States.Base64Encode(123)`, `{}`},
		{`States.Base64Encode($.a)`, `{"a":["x"]}`},
		{`States.Base64Encode($.s)`, `{"s":` + long + `}`},
		{`States.Base64Encode('a', 'b')`, `{}`},
		{`States.Base64Decode($.s)`, `{"s":` + long + `}`},
		{`States.Base64Decode($.o)`, `{"o":{}}`},
		{`States.Hash($.s, 'SHA-256')`, `{"s":` + long + `}`},
		{`States.Hash('hello', 123)`, `{}`},
		{`States.Hash('data', 'sha-256')`, `{}`},
		{`States.Hash('data', 'SHA256')`, `{}`},
		{`States.Hash('data', 'MD-5')`, `{}`},
		{`States.Hash('hello')`, `{}`},
		{`States.JsonMerge($.a, $.b, true)`, `{"a":{},"b":{}}`},
		{`States.JsonMerge($.a, $.b, false)`, `{"a":null,"b":{}}`},
		{`States.JsonMerge($.a, $.b, false)`, `{"a":[],"b":{}}`},
		{`States.JsonMerge($.a, $.b)`, `{"a":{},"b":{}}`},
		{`States.MathRandom(1, 1)`, `{}`},
		{`States.MathRandom(10, 5)`, `{}`},
		{`States.MathRandom(1.4, 1.6)`, `{}`},
		{`States.MathRandom('a', 10)`, `{}`},
		{`States.MathRandom(1, 10, 'seed')`, `{}`},
		{`States.MathRandom(1, 10, null)`, `{}`},
		{`States.MathRandom(1)`, `{}`},
		{`States.MathAdd(2147483647, 1)`, `{}`},
		{`States.MathAdd(-2147483648, -1)`, `{}`},
		{`States.MathAdd(3000000000, 1)`, `{}`},
		{`States.MathAdd('a', 1)`, `{}`},
		{`States.MathAdd(true, 1)`, `{}`},
		{`States.MathAdd('1.5', 2)`, `{}`},
		{`States.MathAdd(-1, $.p)`, `{"p":[1]}`},
		{`States.MathAdd(1)`, `{}`},
		{`States.StringSplit($.v, ',')`, `{"v":123}`},
		{`States.StringSplit($.s, $.d)`, `{"s":"a,b","d":[","]}`},
		{`States.StringSplit($.s, $.d)`, `{"s":null,"d":","}`},
		{`States.UUID(1)`, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			call, err := Parse(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := call.Eval(env(t, tt.input))
			var f *jsonpath.Failure
			if !errors.As(err, &f) {
				t.Fatalf("Eval = %s, %v; want a failure", jsonpath.Text(got), err)
			}
			if want := "Invalid arguments in " + call.Name(); f.Name != "States.Runtime" || f.Cause != want {
				t.Errorf("failure %s / %q, want States.Runtime / %q", f.Name, f.Cause, want)
			}
		})
	}
}

func TestEvalMissingPath(t *testing.T) {
	for _, expr := range []string{`States.Hash($.missing, 'SHA-256')`, `States.Format('{}', States.Array($.a.b))`, `States.Format('{}', $nope)`} {
		call, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		_, err = call.Eval(env(t, `{}`))
		var nf *jsonpath.NotFoundError
		if !errors.As(err, &nf) {
			t.Errorf("%s: %v, want a NotFoundError", expr, err)
		}
	}
}

func TestRandomAndUUID(t *testing.T) {
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	call, _ := Parse(`States.UUID()`)
	for range 20 {
		v, err := call.Eval(jsonpath.Env{})
		if s, ok := v.(string); err != nil || !ok || !uuidRE.MatchString(s) {
			t.Fatalf("UUID() = %v, %v", v, err)
		}
	}
	for _, tt := range []struct {
		expr    string
		lo, hi  int64
		repeats bool
	}{
		{`States.MathRandom(1, 999)`, 1, 999, false},
		{`States.MathRandom(1.6, 5.4)`, 1, 5, false},
		{`States.MathRandom(-99999, -9999)`, -99999, -9999, false},
		{`States.MathRandom(2147483640, 2147483647, 1)`, 2147483640, 2147483647, true},
		{`States.MathRandom(1, 10, -10)`, 1, 10, true},
		{`States.MathRandom(12.5, 44.51)`, 12, 44, false},
	} {
		call, err := Parse(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		var first any
		for i := range 50 {
			v, err := call.Eval(jsonpath.Env{})
			if err != nil {
				t.Fatalf("%s: %v", tt.expr, err)
			}
			n, _ := toInt64(v)
			if n < tt.lo || n >= tt.hi {
				t.Fatalf("%s = %d, outside [%d, %d)", tt.expr, n, tt.lo, tt.hi)
			}
			if i == 0 {
				first = v
			} else if tt.repeats && v != first {
				t.Fatalf("%s is seeded but gave %v then %v", tt.expr, first, v)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat("States.Array(", 11) + "1" + strings.Repeat(")", 11)
	for _, expr := range []string{
		"", "States.Nope()", "States.Format", "States.Format('x'", "States.Format('x' 'y')", "States.Array() trailing",
		"States.Array([1,2])", "States.Array(1.)", "States.Array(.5)", "States.Array(01)", "States.Array('open)",
		`States.Array('bad \n escape')`, "States.Array($.a b)", "States.Array(tru)", "States.Array($.)", deep,
		"States.ArrayGetItem($.arr, )", "format('x')",
	} {
		if c, err := Parse(expr); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", expr, c)
		}
	}
	ok := strings.Repeat("States.Array(", 10) + "1" + strings.Repeat(")", 10)
	if _, err := Parse(ok); err != nil {
		t.Errorf("ten nested calls: %v", err)
	}
}

func TestIsIntrinsic(t *testing.T) {
	for s, want := range map[string]bool{
		"States.Format('x')": true, " States.UUID()": true, "$.a": false, "States": false, "$$.States.x": false,
	} {
		if IsIntrinsic(s) != want {
			t.Errorf("IsIntrinsic(%q) != %v", s, want)
		}
	}
}

func TestString(t *testing.T) {
	expr := `States.Format('{}', States.ArrayGetItem($.a[?(@.x == 'a,b')], 0))`
	c, err := Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	if c.String() != expr || c.Name() != "States.Format" {
		t.Errorf("String() = %q, Name() = %q", c.String(), c.Name())
	}
	got, err := c.Eval(env(t, `{"a":[{"x":"a,b","v":1},{"x":"c"}]}`))
	if err != nil || got != "{v=1, x=a,b}" {
		t.Errorf("Eval = %v, %v", got, err)
	}
}
