package artifact

import (
	"bufio"
	"strings"
	"testing"
)

// specZip turns a text spec into an archive: one entry a line, "f NAME BODY"
// for a file, "d NAME" for a folder, "l NAME TARGET" for a link. Names and
// targets are written as given, unchecked.
func specZip(t testing.TB, spec string) []byte {
	var entries []entry
	sc := bufio.NewScanner(strings.NewReader(spec))
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), " ", 3)
		if len(fields) < 2 || fields[1] == "" {
			continue
		}
		e := entry{name: fields[1]}
		if len(fields) == 3 {
			e.body = fields[2]
		}
		switch fields[0] {
		case "d":
			e.dir = true
		case "l":
			e.link = true
		}
		entries = append(entries, e)
	}
	return rawZip(t, entries...)
}

// FuzzExtractEntries builds archives from entry specs: extraction must never
// panic, write outside its folder, or leave a link that leads outside.
func FuzzExtractEntries(f *testing.F) {
	for _, seed := range []string{
		"f a/b.txt hello",
		"f ../evil x",
		"l link ../outside\nf link/evil x",
		"l a/b/up ../..\nl a/b/up/l ../../outside",
		"l self .\nf self/x y",
		"d a/\nl a/l ..\nf a/l/top x",
		"f /abs x",
		`f ..\evil x`,
		"l l sub/../..",
		"l x y\nl y ../outside\nf x/z 1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s := newSandbox(t)
		_, _ = extractBytes(t, specZip(t, spec), s.dest, Limits{MaxBytes: 1 << 20, MaxEntries: 64})
		s.check(t)
	})
}

// FuzzExtractBytes feeds arbitrary bytes, seeded with valid and hostile
// archives, to Extract.
func FuzzExtractBytes(f *testing.F) {
	f.Add(specZip(f, "f a/b.txt hello\nl l a/b.txt"))
	f.Add(specZip(f, "l link ../outside\nf link/evil x"))
	f.Add(lyingZip(f, 10, 4096))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newSandbox(t)
		_, _ = extractBytes(t, data, s.dest, Limits{MaxBytes: 1 << 20, MaxEntries: 64})
		s.check(t)
	})
}
