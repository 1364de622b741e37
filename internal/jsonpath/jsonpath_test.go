package jsonpath

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// decode parses JSON text the way the engine does (UseNumber).
func decode(t testing.TB, text string) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", text, err)
	}
	return v
}

const store = `{
  "a": {"b": {"c": 1}, "list": [10, 20, 30, 40, 50], "s": "str", "n": null},
  "a b": "spaced",
  "delivery-partner": "UQS",
  "users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}, {"year": 2000, "status": "0"}],
  "books": [
    {"title": "A", "price": 8.95, "tags": ["x"], "isbn": "1"},
    {"title": "B", "price": 12.99, "tags": []},
    {"title": "C", "price": 22, "tags": ["x", "y"], "isbn": null}
  ],
  "big": 123456789012345678901234567890
}`

func TestGet(t *testing.T) {
	doc := decode(t, store)
	tests := []struct {
		path string
		want string
	}{
		{"$", store},
		{"$.a.b.c", `1`},
		{"$['a']['b']", `{"c":1}`},
		{`$["a"].s`, `"str"`},
		{"$['a b']", `"spaced"`},
		{"$.delivery-partner", `"UQS"`},
		{"$.a.list[0]", `10`},
		{"$.a.list[-1]", `50`},
		{"$.a.n", `null`},
		{"$.big", `123456789012345678901234567890`},
		{"$.a.list[1:3]", `[20,30]`},
		{"$.a.list[3:]", `[40,50]`},
		{"$.a.list[-2:]", `[40,50]`},
		{"$.a.list[:2]", `[10,20]`},
		{"$.a.list[1:100]", `[20,30,40,50]`},
		{"$.a.list[0,2]", `[10,30]`},
		{"$.a.list[*]", `[10,20,30,40,50]`},
		{"$.users[*].year", `[1997,1998,2000]`},
		{"$.users[?(@.status == 0)]", `[{"year":1997,"status":0},{"year":2000,"status":"0"}]`},
		{"$.users[?(@.status === 0)].year", `[1997]`},
		{"$.users[?(@.year > 1997 && @.year < 2000)].year", `[1998]`},
		{"$.users[?(@.year <= 1997 || @.year >= 2000)].year", `[1997,2000]`},
		{"$.users[?(!(@.year == 1998))].year", `[1997,2000]`},
		{"$.books[?(@.isbn)].title", `["A","C"]`},
		{"$.books[?(@.price < 10.0)].title", `["A"]`},
		{"$.books[?(@.price == 22.0)].title", `["C"]`},
		{"$.books[?(@.title =~ /[AB]/)].title", `["A","B"]`},
		{"$.books[?(@.title =~ /a/i)].title", `["A"]`},
		{"$.books[?(@.title in ['A','C'])].price", `[8.95,22]`},
		{"$.books[?(@.title nin ['A','C'])].price", `[12.99]`},
		{"$.books[?(@.tags size 2)].title", `["C"]`},
		{"$.books[?(@.tags empty true)].title", `["B"]`},
		{"$.books[?(@.tags contains 'y')].title", `["C"]`},
		{"$.books[?(@.tags subsetof ['x'])].title", `["A","B"]`},
		{"$.books[?(@.tags anyof ['y','z'])].title", `["C"]`},
		{"$.books[?(@.tags noneof ['x'])].title", `["B"]`},
		{"$.books[?(@.price > $.books[0].price)].title", `["B","C"]`},
		{"$..c", `[1]`},
		{"$..title", `["A","B","C"]`},
		{"$.a.b.*", `[1]`},
		{"$.a['b','s']", `{"b":{"c":1},"s":"str"}`},
		{"$.missing[*]", `[]`},
		{"$.missing[1:]", `[]`},
		{"$.missing[1:5].itemValue", `[]`},
		{"$[*]", `[{"b":{"c":1},"list":[10,20,30,40,50],"n":null,"s":"str"},"spaced",123456789012345678901234567890,[{"isbn":"1","price":8.95,"tags":["x"],"title":"A"},{"price":12.99,"tags":[],"title":"B"},{"isbn":null,"price":22,"tags":["x","y"],"title":"C"}],"UQS",[{"status":0,"year":1997},{"status":1,"year":1998},{"status":"0","year":2000}]]`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, err := Compile(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Get(Env{Input: doc})
			if err != nil {
				t.Fatal(err)
			}
			if !Equal(got, decode(t, tt.want)) {
				t.Errorf("Get(%s) = %s, want %s", tt.path, Text(got), tt.want)
			}
		})
	}
}

// TestGetEmptyInput covers AWS's recorded result of an indefinite path over
// an empty input: an empty list, not an error.
func TestGetEmptyInput(t *testing.T) {
	for _, path := range []string{"$[*]", "$.item.items[1:5].itemValue", "$.item.items[*]", "$..x"} {
		got, err := MustCompile(path).Get(Env{Input: map[string]any{}})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if l, ok := got.([]any); !ok || len(l) != 0 {
			t.Errorf("%s = %#v, want []", path, got)
		}
	}
}

func TestGetErrors(t *testing.T) {
	doc := decode(t, store)
	tests := []struct {
		path, input string
		want        string
	}{
		// AWS: "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
		{"$.NoSuchInputPath", "", "No results for path: $['NoSuchInputPath']"},
		// AWS: "Invalid path '$.no.such.result.path' : Missing property in path $['no']"
		{"$.no.such.result.path", "", "Missing property in path $['no']"},
		{"$.a.b.x", "", "No results for path: $['a']['b']['x']"},
		{"$.a.list[9]", "", "No results for path: $['a']['list'][9]"},
		{"$.a.s.x", "", "Expected to find an object with property ['x'] in path $['a']['s'] but found 'java.lang.String'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'."},
		{"$.a.list.x", "", "Expected to find an object with property ['x'] in path $['a']['list'] but found 'java.util.ArrayList'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'."},
		{"$.a.n[0]", "", "The path $['a']['n'] is null"},
		{"$.a.b[0]", "", "Filter: [0] can only be applied to arrays. Current context is: {c=1}"},
		{"$.x", `"text"`, "Expected to find an object with property ['x'] in path $ but found 'java.lang.String'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'."},
		{"$v.x", "", "No results for path: $v.x"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			input := doc
			if tt.input != "" {
				input = decode(t, tt.input)
			}
			_, err := MustCompile(tt.path).Get(Env{Input: input})
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("Get(%s) error = %v, want a NotFoundError", tt.path, err)
			}
			if nf.Msg != tt.want || nf.Path != tt.path {
				t.Errorf("Get(%s) = %q (path %q), want %q", tt.path, nf.Msg, nf.Path, tt.want)
			}
		})
	}
	_, err := MustCompile("$.NoSuchInputPath").Get(Env{Input: doc})
	var nf *NotFoundError
	errors.As(err, &nf)
	name, cause := nf.Invalid().StatesError()
	if name != "States.Runtime" || cause != "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']" {
		t.Errorf("Invalid() = %s, %s", name, cause)
	}
}

func TestRoots(t *testing.T) {
	ctx := decode(t, `{"Execution": {"Id": "arn:x", "Input": {"input-value": 7}}, "Map": {"Item": {"Index": 2}}}`)
	vars := map[string]any{"answer": json.Number("42"), "obj": map[string]any{"k": []any{"v"}}}
	env := Env{
		Input:   decode(t, `{"a": 1}`),
		Context: ctx,
		Vars: func(name string) (any, bool) {
			v, ok := vars[name]
			return v, ok
		},
	}
	tests := []struct {
		path string
		root Root
		want string
	}{
		{"$", RootInput, `{"a":1}`},
		{"$$", RootContext, Text(ctx)},
		{"$$.Execution.Id", RootContext, `"arn:x"`},
		{"$$.Execution.Input.input-value", RootContext, `7`},
		{"$$.Map.Item.Index", RootContext, `2`},
		{"$answer", RootVariable, `42`},
		{"$obj.k[0]", RootVariable, `"v"`},
		{"$obj['k']", RootVariable, `["v"]`},
	}
	for _, tt := range tests {
		p := MustCompile(tt.path)
		if p.Root() != tt.root {
			t.Errorf("%s: root %d, want %d", tt.path, p.Root(), tt.root)
		}
		got, err := p.Get(env)
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		if !Equal(got, decode(t, tt.want)) {
			t.Errorf("Get(%s) = %s, want %s", tt.path, Text(got), tt.want)
		}
	}
	if MustCompile("$obj.k").Variable() != "obj" {
		t.Error("Variable() of $obj.k")
	}
	if _, err := MustCompile("$missing").Get(Env{}); err == nil {
		t.Error("undefined variable: no error")
	}
}

func TestCompileErrors(t *testing.T) {
	for _, path := range []string{
		"", "a.b", "$.", "$..", "$.a.", "$[", "$['a'", "$[a]", "$[1:2:3]", "$.a[?(@.x ==)]",
		"$.a[?(@.x =~ 'y')]", "$.a[?(@.x =~ /(/)]", "$.a b", "$[?(@.a > 1]", "$.a[?(1)]",
		"$.a(", "$[-]", "$[1,]",
	} {
		if p, err := Compile(path); err == nil {
			t.Errorf("Compile(%q) = %v, want an error", path, p)
		}
	}
}

func TestCompileReference(t *testing.T) {
	for _, ok := range []string{"$", "$.a", "$.a.b[0]", "$['a b'].c", "$.a[-1]"} {
		if _, err := CompileReference(ok); err != nil {
			t.Errorf("CompileReference(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"$.a[*]", "$..a", "$.a[1:]", "$.a[?(@.x)]", "$.a[0,1]", "$['a','b']", "$.*"} {
		if _, err := CompileReference(bad); err == nil {
			t.Errorf("CompileReference(%q): no error", bad)
		}
	}
}

func TestDefinite(t *testing.T) {
	tests := map[string]bool{
		"$": true, "$.a.b": true, "$.a[0]": true, "$['a','b']": true,
		"$.a[*]": false, "$..a": false, "$.a[1:]": false, "$.a[0,1]": false, "$['a','b'].c": false, "$.a[?(@.x)]": false,
	}
	for path, want := range tests {
		if got := MustCompile(path).IsDefinite(); got != want {
			t.Errorf("IsDefinite(%s) = %v, want %v", path, got, want)
		}
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		path, doc, value, want string
	}{
		{"$", `{"a":1}`, `"x"`, `"x"`},
		{"$.result", `{"a":1}`, `{"r":true}`, `{"a":1,"result":{"r":true}}`},
		{"$.a", `{"a":1}`, `2`, `{"a":2}`},
		{"$.x.y.z", `{"a":1}`, `3`, `{"a":1,"x":{"y":{"z":3}}}`},
		{"$.x.y", `{"x":{"k":1}}`, `3`, `{"x":{"k":1,"y":3}}`},
		{"$.x.y", `{"x":null}`, `3`, `{"x":{"y":3}}`},
		{"$.l[1]", `{"l":[1,2,3]}`, `"b"`, `{"l":[1,"b",3]}`},
		{"$.l[-1].k", `{"l":[{},{"k":0}]}`, `9`, `{"l":[{},{"k":9}]}`},
		{"$['a b']", `{}`, `1`, `{"a b":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			doc := decode(t, tt.doc)
			before := Text(doc)
			got, err := MustCompile(tt.path).Set(doc, decode(t, tt.value))
			if err != nil {
				t.Fatal(err)
			}
			if !Equal(got, decode(t, tt.want)) {
				t.Errorf("Set = %s, want %s", Text(got), tt.want)
			}
			if Text(doc) != before {
				t.Errorf("Set mutated its input: %s, was %s", Text(doc), before)
			}
		})
	}
	for _, tt := range []struct{ path, doc, cause string }{
		{"$.a.b", `{"a":"s"}`, `Unable to apply ReferencePath $.a.b to input {"a":"s"}`},
		{"$.a", `"text"`, `Unable to apply ReferencePath $.a to input "text"`},
		{"$.l[5]", `{"l":[]}`, `Unable to apply ReferencePath $.l[5] to input {"l":[]}`},
		{"$.l[0]", `{"l":{}}`, `Unable to apply ReferencePath $.l[0] to input {"l":{}}`},
	} {
		_, err := MustCompile(tt.path).Set(decode(t, tt.doc), "v")
		var f *Failure
		if !errors.As(err, &f) || f.Name != ErrResultPathMatchFailure || f.Cause != tt.cause {
			t.Errorf("Set(%s) on %s: %v, want %s", tt.path, tt.doc, err, tt.cause)
		}
	}
	if _, err := MustCompile("$.a[*]").Set(map[string]any{}, 1); err == nil {
		t.Error("Set through a wildcard: no error")
	}
	if _, err := MustCompile("$$.a").Set(map[string]any{}, 1); err == nil {
		t.Error("Set on the context: no error")
	}
}

func TestFieldNotFound(t *testing.T) {
	f := FieldNotFound("address.$", "$.application.address", decode(t, `{"flagged":false}`))
	want := `The JSONPath '$.application.address' specified for the field 'address.$' could not be found in the input '{"flagged":false}'`
	if f.Name != "States.Runtime" || f.Cause != want {
		t.Errorf("FieldNotFound = %s / %s", f.Name, f.Cause)
	}
}

func TestCompareNumbers(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "1.0", 0}, {"0", "-0", 0}, {"0.0", "0", 0}, {"1e2", "100", 0}, {"100", "1E+2", 0},
		{"2.22", "2.22", 0}, {"1", "1.1", -1}, {"-1", "1", -1}, {"-1.5", "-1.25", -1},
		{"9007199254740993", "9007199254740992", 1},
		{"123456789012345678901234567890", "123456789012345678901234567891", -1},
		{"0.1", "0.10000000000000001", -1}, {"1e-400", "0", 1}, {"-1e400", "-1e399", -1},
		{"0.001", "1e-3", 0}, {"12.5", "125e-1", 0},
	}
	for _, tt := range tests {
		got, ok := CompareNumbers(json.Number(tt.a), json.Number(tt.b))
		if !ok || got != tt.want {
			t.Errorf("CompareNumbers(%s, %s) = %d, %v, want %d", tt.a, tt.b, got, ok, tt.want)
		}
		back, _ := CompareNumbers(json.Number(tt.b), json.Number(tt.a))
		if back != -tt.want {
			t.Errorf("CompareNumbers(%s, %s) = %d, want %d", tt.b, tt.a, back, -tt.want)
		}
	}
	if _, ok := CompareNumbers("1", "x"); ok {
		t.Error("CompareNumbers accepted a non-number")
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{`1`, `1.0`, true}, {`{"a":[1,{"b":2}]}`, `{"a":[1.0,{"b":2e0}]}`, true}, {`true`, `1`, false},
		{`null`, `null`, true}, {`[]`, `{}`, false}, {`{"a":1}`, `{"a":1,"b":2}`, false}, {`"1"`, `1`, false},
	}
	for _, tt := range tests {
		if got := Equal(decode(t, tt.a), decode(t, tt.b)); got != tt.want {
			t.Errorf("Equal(%s, %s) = %v", tt.a, tt.b, got)
		}
	}
}

func TestJavaString(t *testing.T) {
	tests := []struct {
		json, want string
	}{
		{`{"Arg1": 1, "Arg2": []}`, "{Arg1=1, Arg2=[]}"},
		{`{"Id": "arn", "Name": "n"}`, "{Id=arn, Name=n}"},
		{`null`, "null"}, {`"s"`, "s"}, {`1.1`, "1.1"}, {`1`, "1"}, {`-0`, "0"}, {`1.0`, "1.0"},
		{`100.5e1`, "1005.0"}, {`1e7`, "1.0E7"}, {`12345678.9`, "1.23456789E7"}, {`0.001`, "0.001"},
		{`0.0001`, "1.0E-4"}, {`-2.5e-5`, "-2.5E-5"}, {`123456789012345678901234567890`, "123456789012345678901234567890"},
		{`[null, "", " ", 0, true, [0, 1, false]]`, "[null, ,  , 0, true, [0, 1, false]]"},
	}
	for _, tt := range tests {
		if got := JavaString(decode(t, tt.json)); got != tt.want {
			t.Errorf("JavaString(%s) = %q, want %q", tt.json, got, tt.want)
		}
	}
}

func TestText(t *testing.T) {
	v := decode(t, `{"b": "<&>", "a": [1.50, 2e3]}`)
	if got, want := Text(v), `{"a":[1.50,2e3],"b":"<&>"}`; got != want {
		t.Errorf("Text = %s, want %s", got, want)
	}
}

func TestCompareStrings(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"A", "AB", -1}, {"AB", "A", 1}, {"A ", "A", 1}, {"a", "B", 1},
		// U+FF61 sorts after U+1F600 in UTF-8 byte order but before it in UTF-16.
		{"\uff61", "\U0001F600", 1}, {"x\U0001F600", "x\uff61", -1},
	}
	for _, tt := range tests {
		if got := CompareStrings(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareStrings(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
