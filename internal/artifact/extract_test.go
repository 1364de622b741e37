package artifact

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func extractBytes(t testing.TB, data []byte, dest string, lim Limits) (Stats, error) {
	t.Helper()
	return Extract(context.Background(), bytes.NewReader(data), int64(len(data)), dest, lim)
}

func TestExtractRefusesZipSlip(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
		prepare func(t *testing.T, s *sandbox) // runs before extraction
		want    error                          // nil: any error
		reason  string                         // part of the message
	}{
		{name: "parent reference", entries: []entry{{name: "../evil", body: "x"}}, want: ErrUnsafePath, reason: "parent directory reference"},
		{name: "nested parent reference", entries: []entry{{name: "a/../../evil", body: "x"}}, want: ErrUnsafePath},
		{name: "backslash parent reference", entries: []entry{{name: `..\evil`, body: "x"}}, want: ErrUnsafePath},
		{name: "absolute path", entries: []entry{{name: "/tmp/evil", body: "x"}}, want: ErrUnsafePath, reason: "absolute path"},
		{name: "drive letter", entries: []entry{{name: "C:/evil", body: "x"}}, want: ErrUnsafePath, reason: "absolute path"},
		{name: "link to parent", entries: []entry{{name: "link", body: "../outside", link: true}}, want: ErrUnsafePath, reason: "climbs above"},
		{name: "absolute link", entries: []entry{{name: "link", body: "/etc", link: true}}, want: ErrUnsafePath, reason: "absolute target"},
		{name: "deep link climbing out", entries: []entry{{name: "d/link", body: "../../outside/keep", link: true}}, want: ErrUnsafePath},
		{name: "dot-dot after a name", entries: []entry{{name: "l", body: "sub/../..", link: true}}, want: ErrUnsafePath, reason: `".." after a name`},
		{
			name: "link then write through it",
			entries: []entry{
				{name: "link", body: "../outside", link: true},
				{name: "link/evil", body: "x"},
			},
			want: ErrUnsafePath,
		},
		{
			name: "link chain through a linked folder",
			entries: []entry{
				{name: "a/b/up", body: "../..", link: true},
				{name: "a/b/up/l", body: "../../outside", link: true},
			},
			want: ErrUnsafePath,
		},
		{
			name:    "existing link in the folder points outside",
			entries: []entry{{name: "old/evil", body: "x"}},
			prepare: func(t *testing.T, s *sandbox) {
				if err := os.MkdirAll(s.dest, 0o755); err != nil {
					t.Fatal(err)
				}
				old := filepath.Join(s.dest, "old")
				if err := os.Symlink("../outside", old); err != nil {
					t.Fatal(err)
				}
				s.planted = map[string]bool{old: true}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			if tt.prepare != nil {
				tt.prepare(t, s)
			}
			_, err := extractBytes(t, rawZip(t, tt.entries...), s.dest, DefaultLimits)
			if err == nil {
				t.Fatal("extraction succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("error %q does not say %q", err, tt.reason)
			}
			s.check(t)
		})
	}
}

func TestExtractAcceptsSafeArchives(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
		want    map[string]string // path -> content ("->target" for links)
		stats   Stats
	}{
		{
			name:    "files and folders",
			entries: []entry{{name: "a/", dir: true}, {name: "a/b/c.txt", body: "c"}, {name: "top.txt", body: "t"}},
			want:    map[string]string{"a/b/c.txt": "c", "top.txt": "t"},
			stats:   Stats{Files: 2, Dirs: 1, Bytes: 2},
		},
		{
			name:    "odd but safe names",
			entries: []entry{{name: "./x", body: "1"}, {name: "a//b", body: "2"}, {name: `w\v`, body: "3"}},
			want:    map[string]string{"x": "1", "a/b": "2", "w/v": "3"},
			stats:   Stats{Files: 3, Bytes: 3},
		},
		{
			name: "links that stay inside",
			entries: []entry{
				{name: "a/b/c.txt", body: "c"},
				{name: "d/link", body: "../a/b/c.txt", link: true},
				{name: "self", body: ".", link: true},
				{name: "self/through.txt", body: "t"},
			},
			want:  map[string]string{"a/b/c.txt": "c", "d/link": "->../a/b/c.txt", "self": "->.", "through.txt": "t"},
			stats: Stats{Files: 2, Symlinks: 2, Bytes: 2},
		},
		{
			name:    "executable bit kept",
			entries: []entry{{name: "run.sh", body: "#!/bin/sh", mode: 0o755}},
			want:    map[string]string{"run.sh": "#!/bin/sh"},
			stats:   Stats{Files: 1, Bytes: 9},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			st, err := extractBytes(t, rawZip(t, tt.entries...), s.dest, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if st != tt.stats {
				t.Errorf("stats %+v, want %+v", st, tt.stats)
			}
			for p, want := range tt.want {
				full := filepath.Join(s.dest, filepath.FromSlash(p))
				if target, ok := strings.CutPrefix(want, "->"); ok {
					got, err := os.Readlink(full)
					if err != nil || got != target {
						t.Errorf("%s: link to %q (%v), want %q", p, got, err, target)
					}
					continue
				}
				got, err := os.ReadFile(full)
				if err != nil || string(got) != want {
					t.Errorf("%s: %q (%v), want %q", p, got, err, want)
				}
			}
			s.check(t)
		})
	}
	t.Run("mode", func(t *testing.T) {
		s := newSandbox(t)
		if _, err := extractBytes(t, rawZip(t, entry{name: "run.sh", body: "x", mode: 0o755}), s.dest, DefaultLimits); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(filepath.Join(s.dest, "run.sh"))
		if err != nil || info.Mode().Perm() != 0o755 {
			t.Fatalf("mode %v (%v), want 0755", info.Mode(), err)
		}
	})
}

func TestExtractStopsZipBombs(t *testing.T) {
	const mib = 1 << 20
	many := make([]entry, 1001)
	for i := range many {
		many[i] = entry{name: "f/" + strconv.Itoa(i)}
	}
	tests := []struct {
		name     string
		data     []byte
		lim      Limits
		want     error
		maxBytes int64 // most bytes allowed on disk afterwards
	}{
		{
			name:     "one huge entry",
			data:     rawZip(t, entry{name: "zeros", body: strings.Repeat("\x00", 64<<10), repeat: 160}), // 10 MiB
			lim:      Limits{MaxBytes: mib, MaxEntries: 10},
			want:     ErrTooLarge,
			maxBytes: mib,
		},
		{
			name: "many entries adding up",
			data: rawZip(t,
				entry{name: "a", body: strings.Repeat("a", 600<<10)},
				entry{name: "b", body: strings.Repeat("b", 600<<10)}),
			lim:      Limits{MaxBytes: mib, MaxEntries: 10},
			want:     ErrTooLarge,
			maxBytes: mib,
		},
		{
			name:     "header understates the size",
			data:     lyingZip(t, 100, 2*mib),
			lim:      Limits{MaxBytes: mib, MaxEntries: 10},
			maxBytes: mib,
		},
		{
			name: "too many entries",
			data: rawZip(t, many...),
			lim:  Limits{MaxBytes: mib, MaxEntries: 1000},
			want: ErrTooManyEntries,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			_, err := extractBytes(t, tt.data, s.dest, tt.lim)
			if err == nil {
				t.Fatal("extraction succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if written := diskUsage(t, s.dest); written > tt.maxBytes {
				t.Fatalf("%d bytes written, cap %d", written, tt.maxBytes)
			}
			s.check(t)
		})
	}
}

func diskUsage(t testing.TB, dir string) int64 {
	t.Helper()
	var n int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}
