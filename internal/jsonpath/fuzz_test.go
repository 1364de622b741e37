package jsonpath

import (
	"testing"
)

// FuzzPath compiles arbitrary text and evaluates whatever compiles against a
// fixed document: nothing may panic, and a definite path never returns a
// list where the document has none.
func FuzzPath(f *testing.F) {
	for _, seed := range []string{
		"$", "$$", "$.a.b", "$['a b'][0]", "$.a[-1:]", "$..c", "$.a[*].b", "$.users[?(@.status == 0)]",
		"$.a[?(@.x =~ /a.*/i && !(@.y < 2) || @.z in [1,'2'])]", "$v.x[1:2]", "$$.Execution.Input", "$.a[0,1]",
		"$['a','b']", "$.a[?(@.t size 2)]", "$[?($.a)]", "$.a[:3]",
	} {
		f.Add(seed)
	}
	doc := decode(f, store)
	env := Env{Input: doc, Context: doc, Vars: func(string) (any, bool) { return doc, true }}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := Compile(text)
		if err != nil {
			return
		}
		v, err := p.Get(env)
		if err == nil && !p.IsDefinite() {
			if _, ok := v.([]any); !ok {
				t.Fatalf("indefinite path %q returned %T", text, v)
			}
		}
		if _, err := CompileReference(text); err == nil {
			_, _ = p.Set(doc, "x")
		}
	})
}
