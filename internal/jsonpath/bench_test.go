package jsonpath

import "testing"

func BenchmarkGetDefinite(b *testing.B) {
	env := Env{Input: decode(b, store)}
	p := MustCompile("$.a.b.c")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Get(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetRoot(b *testing.B) {
	env := Env{Input: decode(b, store)}
	p := MustCompile("$")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Get(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetFilter(b *testing.B) {
	env := Env{Input: decode(b, store)}
	p := MustCompile("$.users[?(@.status == 0)].year")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Get(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSet(b *testing.B) {
	doc := decode(b, `{"a": 1, "b": {"c": 2}}`)
	p := MustCompile("$.b.result")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Set(doc, "x"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompareNumbers(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		CompareNumbers("12.50", "1.25e1")
	}
}
