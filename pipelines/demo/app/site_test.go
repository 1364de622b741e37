package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePage(t *testing.T) {
	tests := []struct {
		name, file, text string
		want             Page
		wantErr          string
	}{
		{"title and paragraphs", "content/01-welcome.txt", "Welcome\n\nFirst\nparagraph.\n\nSecond.\n",
			Page{Slug: "welcome", Title: "Welcome", Paragraphs: []string{"First paragraph.", "Second."}}, ""},
		{"no order prefix", "about.txt", "About us\r\n\r\nHello.", Page{Slug: "about", Title: "About us", Paragraphs: []string{"Hello."}}, ""},
		{"title only", "x.txt", "  Just a title  ", Page{Slug: "x", Title: "Just a title"}, ""},
		{"empty file", "empty.txt", "\n\n", Page{}, "no title"},
		{"index is taken", "00-index.txt", "Index", Page{}, "taken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePage(tt.file, tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	pages := []Page{
		{Slug: "welcome", Title: "Welcome <home>", Paragraphs: []string{"Fish & chips"}},
		{Slug: "how", Title: "How"},
	}
	tests := []struct {
		file     string
		contains []string
	}{
		{"index.html", []string{"<title>Demo</title>", `<a href="welcome.html">Welcome &lt;home&gt;</a>`, `<a href="how.html">How</a>`, "Built from abc123."}},
		{"welcome.html", []string{"<h1>Welcome &lt;home&gt;</h1>", "<p>Fish &amp; chips</p>", "Built from abc123."}},
		{"how.html", []string{"<h1>How</h1>"}},
	}
	files, err := Render("Demo", pages, "abc123")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tests) {
		t.Errorf("%d files, want %d", len(files), len(tests))
	}
	for _, tt := range tests {
		got := string(files[tt.file])
		for _, want := range tt.contains {
			if !strings.Contains(got, want) {
				t.Errorf("%s does not contain %q:\n%s", tt.file, want, got)
			}
		}
	}
	if _, err := Render("Demo", []Page{{Slug: "a"}, {Slug: "a"}}, ""); err == nil {
		t.Error("two pages with one name rendered")
	}
}
