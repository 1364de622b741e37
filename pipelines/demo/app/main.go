// Command sluice-demo renders the Sluice demo's static site: every .txt file
// of the content folder becomes a page, and index.html lists them in file
// name order.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	content := flag.String("content", "content", "folder of the pages' text files")
	out := flag.String("out", "dist", "folder to write the site to")
	title := flag.String("title", "Sluice demo", "title of the index page")
	version := flag.String("version", "", "the revision the site is built from, shown in its footer")
	flag.Parse()
	if err := build(*content, *out, *title, *version); err != nil {
		fmt.Fprintln(os.Stderr, "sluice-demo:", err)
		os.Exit(1)
	}
}

func build(content, out, title, version string) error {
	names, err := filepath.Glob(filepath.Join(content, "*.txt"))
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return fmt.Errorf("no pages: %s has no .txt files", content)
	}
	sort.Strings(names)
	var pages []Page
	for _, name := range names {
		text, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		p, err := ParsePage(name, string(text))
		if err != nil {
			return err
		}
		pages = append(pages, p)
	}
	files, err := Render(title, pages, version)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %d pages to %s\n", len(files), out)
	return nil
}
