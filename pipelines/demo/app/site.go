package main

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"path"
	"strings"
)

// Page is one page of the site, read from a text file: its first line is
// the title, and blank lines separate the paragraphs that follow.
type Page struct {
	Slug       string // file name without extension or order prefix: the page is Slug.html
	Title      string
	Paragraphs []string
}

// ParsePage reads a page from the text of the file name.
func ParsePage(name, text string) (Page, error) {
	slug := strings.TrimSuffix(path.Base(name), path.Ext(name))
	if i := strings.IndexByte(slug, '-'); i > 0 && strings.Trim(slug[:i], "0123456789") == "" {
		slug = slug[i+1:]
	}
	if slug == "" || slug == "index" {
		return Page{}, fmt.Errorf("%s: the page name %q is taken or empty", name, slug)
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	title, body, _ := strings.Cut(strings.TrimSpace(text), "\n")
	if title = strings.TrimSpace(title); title == "" {
		return Page{}, errors.New(name + ": no title: the first line of a page is its title")
	}
	p := Page{Slug: slug, Title: title}
	for _, para := range strings.Split(body, "\n\n") {
		if para = strings.Join(strings.Fields(para), " "); para != "" {
			p.Paragraphs = append(p.Paragraphs, para)
		}
	}
	return p, nil
}

var layout = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
<h1>{{.Title}}</h1>
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}{{if .Pages}}<ul>
{{range .Pages}}<li><a href="{{.Slug}}.html">{{.Title}}</a></li>
{{end}}</ul>
{{end}}<footer>{{if .Version}}Built from {{.Version}}.{{end}} <a href="index.html">Home</a></footer>
</body>
</html>
`))

type view struct {
	Title      string
	Paragraphs []string
	Pages      []Page
	Version    string
}

// Render returns the site's files by name: index.html, which lists the
// pages, and one file per page. Version, when given, is shown on every page.
func Render(title string, pages []Page, version string) (map[string][]byte, error) {
	files := map[string][]byte{}
	render := func(name string, v view) error {
		if _, dup := files[name]; dup {
			return fmt.Errorf("two pages would be %s", name)
		}
		var buf bytes.Buffer
		if err := layout.Execute(&buf, v); err != nil {
			return fmt.Errorf("render %s: %w", name, err)
		}
		files[name] = buf.Bytes()
		return nil
	}
	if err := render("index.html", view{Title: title, Pages: pages, Version: version}); err != nil {
		return nil, err
	}
	for _, p := range pages {
		if err := render(p.Slug+".html", view{Title: p.Title, Paragraphs: p.Paragraphs, Version: version}); err != nil {
			return nil, err
		}
	}
	return files, nil
}
