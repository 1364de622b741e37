package trigger

import (
	"errors"
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern string
		yes     []string
		no      []string
	}{
		{pattern: "main", yes: []string{"main"}, no: []string{"mainline", "Main", "", "x/main"}},
		{pattern: "feature/*", yes: []string{"feature/a", "feature/"}, no: []string{"feature/a/b", "feature", "features/a"}},
		{pattern: "feature/**", yes: []string{"feature/a", "feature/a/b/c", "feature/"}, no: []string{"feature", "hotfix/feature/a"}},
		{pattern: "**", yes: []string{"", "a", "a/b/c"}},
		{pattern: "*", yes: []string{"", "main", "a.b"}, no: []string{"a/b"}},
		// Java's glob: **/ needs a slash, so the root file does not match.
		{pattern: "**/README.md", yes: []string{"docs/README.md", "a/b/README.md"}, no: []string{"README.md", "docs/README.mdx"}},
		{pattern: "common/**/*.js", yes: []string{"common/x/a.js", "common/x/y/a.js"}, no: []string{"common/a.js", "common/x/a.ts"}},
		{pattern: "src/**", yes: []string{"src/a", "src/a/b.go"}, no: []string{"src", "lib/src/a"}},
		{pattern: "*.java", yes: []string{"A.java", ".java"}, no: []string{"a/A.java", "A.javax"}},
		{pattern: "*.*", yes: []string{"a.b", "."}, no: []string{"ab"}},
		{pattern: "*.{java,class}", yes: []string{"a.java", "a.class"}, no: []string{"a.cs", "dir/a.java", "a.{java,class}"}},
		{pattern: "foo.?", yes: []string{"foo.c", "foo.é"}, no: []string{"foo.cc", "foo.", "foo./"}},
		{pattern: "release-v{0,1}", yes: []string{"release-v0", "release-v1"}, no: []string{"release-v2", "release-v01"}},
		{pattern: "{main,release/**}", yes: []string{"main", "release/1/2"}, no: []string{"mainline"}},
		{pattern: "{a,b/c}", yes: []string{"a", "b/c"}, no: []string{"b"}},
		{pattern: "{,x}y", yes: []string{"y", "xy"}, no: []string{"zy"}},
		{pattern: "[abc]x", yes: []string{"ax", "bx", "cx"}, no: []string{"dx", "x", "abx"}},
		{pattern: "v[0-9].[0-9]", yes: []string{"v1.2", "v0.9"}, no: []string{"v10.2", "va.2"}},
		{pattern: "[a-cx-z]", yes: []string{"b", "y"}, no: []string{"d", "w"}},
		{pattern: "[!a-c]", yes: []string{"d", "-", "é"}, no: []string{"a", "c", "/", ""}},
		{pattern: "[-a]", yes: []string{"-", "a"}, no: []string{"b"}},
		{pattern: "[!-a]", yes: []string{"b"}, no: []string{"-", "a"}},
		{pattern: "[a-]", yes: []string{"a", "-"}, no: []string{"b"}},
		{pattern: `[*?\]`, yes: []string{"*", "?", `\`}, no: []string{"a"}},
		{pattern: "[^a]", yes: []string{"^", "a"}, no: []string{"b"}},
		{pattern: "[[]", yes: []string{"["}, no: []string{"a"}},
		{pattern: "[.-0]", yes: []string{".", "0"}, no: []string{"/"}},
		{pattern: `\*`, yes: []string{"*"}, no: []string{"a", `\*`}},
		{pattern: `a\{b\}`, yes: []string{"a{b}"}, no: []string{"ab"}},
		{pattern: `\a`, yes: []string{"a"}},
		{pattern: "x}", yes: []string{"x}"}},
		{pattern: "a,b", yes: []string{"a,b"}, no: []string{"a"}},
		{pattern: "a.b+c(d)|e$", yes: []string{"a.b+c(d)|e$"}, no: []string{"aXb+c(d)|e$", "abbc(d)|e$"}},
		{pattern: "é*", yes: []string{"é", "éa"}, no: []string{"e"}},
	}
	for _, tt := range tests {
		g, err := CompileGlob(tt.pattern)
		if err != nil {
			t.Errorf("CompileGlob(%q): %v", tt.pattern, err)
			continue
		}
		if g.String() != tt.pattern {
			t.Errorf("String() = %q", g.String())
		}
		for _, name := range tt.yes {
			if !g.Match(name) {
				t.Errorf("%q does not match %q", tt.pattern, name)
			}
		}
		for _, name := range tt.no {
			if g.Match(name) {
				t.Errorf("%q matches %q", tt.pattern, name)
			}
		}
	}
}

func TestGlobErrors(t *testing.T) {
	tests := []struct {
		pattern string
		offset  int
		msg     string
	}{
		{pattern: "release/[", offset: 8, msg: "the bracket expression has no closing ']'"},
		{pattern: "[abc", offset: 0, msg: "the bracket expression has no closing ']'"},
		{pattern: "[]", offset: 0, msg: "the bracket expression is empty"},
		{pattern: "x[!]", offset: 1, msg: "the bracket expression is empty"},
		{pattern: "[a/b]", offset: 2, msg: "'/' cannot be in a bracket expression"},
		{pattern: "[z-a]", offset: 2, msg: "the range z-a runs backwards"},
		{pattern: "[a-c-e]", offset: 4, msg: "a range needs a character before '-'"},
		{pattern: "[a-", offset: 0, msg: "the bracket expression has no closing ']'"},
		{pattern: "{a,{b}}", offset: 3, msg: "a group cannot be nested in the group at offset 0"},
		{pattern: "src/{a,b", offset: 4, msg: "the group has no closing '}'"},
		{pattern: `tail\`, offset: 4, msg: "no character to escape"},
	}
	for _, tt := range tests {
		_, err := CompileGlob(tt.pattern)
		var ge *GlobError
		if !errors.As(err, &ge) || ge.Offset != tt.offset || ge.Msg != tt.msg {
			t.Errorf("CompileGlob(%q): %v, want %q at %d", tt.pattern, err, tt.msg, tt.offset)
			continue
		}
		if !strings.HasPrefix(err.Error(), "glob \""+tt.pattern) {
			t.Errorf("message %q does not quote the pattern", err)
		}
	}
}

// FuzzGlob compiles and matches arbitrary patterns and names: no panic,
// and a pattern without special characters matches exactly itself.
func FuzzGlob(f *testing.F) {
	for _, s := range []string{"main", "feature/**", "*.{java,class}", "[!a-c]?", `\*[*?\]`, "{a,b/c}", "[.-0]", "**/README.md", "[^-a]"} {
		f.Add(s, "feature/a/README.md")
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		g, err := CompileGlob(pattern)
		if err != nil {
			var ge *GlobError
			if !errors.As(err, &ge) {
				t.Fatalf("error %v is not a GlobError", err)
			}
			return
		}
		got := g.Match(name)
		if !strings.ContainsAny(pattern, `*?[]{},\`) && got != (pattern == name) {
			t.Fatalf("literal %q matched %q: %v", pattern, name, got)
		}
	})
}

func BenchmarkGlob(b *testing.B) {
	cases := []struct{ name, pattern, input string }{
		{"literal", "main", "main"},
		{"star", "feature/*", "feature/new-checkout"},
		{"globstar", "src/**/*.go", "src/orders/internal/validate/rules.go"},
		{"group", "release-v{0,1,2}.*", "release-v1.42"},
	}
	for _, c := range cases {
		g := must(CompileGlob(c.pattern))
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !g.Match(c.input) {
					b.Fatal("no match")
				}
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
