package artifact

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// writeLargeTree fills dir with one big file of size bytes (text-like, so
// deflate has work to do) and 200 small ones.
func writeLargeTree(b *testing.B, dir string, size int64) {
	b.Helper()
	f, err := os.Create(filepath.Join(dir, "big.bin"))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	block := make([]byte, 1<<16)
	for written := int64(0); written < size; written += int64(len(block)) {
		for i := range block {
			block[i] = "abcdefghij \n"[rng.IntN(12)]
		}
		if _, err := f.Write(block); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	for i := range 200 {
		p := filepath.Join(dir, "small", fmt.Sprintf("d%d", i%10), fmt.Sprintf("f%d.txt", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("file %d\n", i)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSizes are the artifact sizes benchmarked: B/op must stay flat
// between them.
var benchSizes = []int64{16 << 20, 128 << 20}

// largeArtifact writes a tree of size bytes and packs it into a folder store
// under "bench/Out".
func largeArtifact(b *testing.B, size int64) (store *Folder, src string) {
	b.Helper()
	src = b.TempDir()
	writeLargeTree(b, src, size)
	store, err := NewFolder(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	if err := packTree(store, src); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	return store, src
}

func packTree(store Store, src string) error {
	ctx := context.Background()
	return Pack(ctx, store, "bench/Out", func(w *Writer) error { return w.AddTree(ctx, src) })
}

// BenchmarkZipDir measures zipping a large tree into the folder store.
func BenchmarkZipDir(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			store, src := largeArtifact(b, size)
			for b.Loop() {
				if err := packTree(store, src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnpack measures extracting the same large artifact.
func BenchmarkUnpack(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			store, _ := largeArtifact(b, size)
			dest := b.TempDir()
			for b.Loop() {
				if _, err := Unpack(context.Background(), store, "bench/Out", dest, DefaultLimits); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
