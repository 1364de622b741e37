package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func sampleEvent(t testing.TB, pipeline string, n int) Event {
	t.Helper()
	e, err := New(DetailTypePipeline, "123456789012", "us-east-1", time.Date(2025, 6, 1, 12, 0, n%60, 0, time.UTC), Detail{
		Pipeline:                 pipeline,
		ExecutionID:              fmt.Sprintf("exec-%d", n),
		StartTime:                At(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)),
		ExecutionTrigger:         &ExecutionTrigger{TriggerType: "StartPipelineExecution", TriggerDetail: "arn:aws:iam::123456789012:user/sluice"},
		State:                    StateStarted,
		Version:                  1,
		PipelineExecutionAttempt: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func readAll(t *testing.T, path string, opts TailOptions) ([]Event, int64, error) {
	t.Helper()
	var got []Event
	off, err := Tail(context.Background(), path, opts, func(e Event) error {
		got = append(got, e)
		return nil
	})
	return got, off, err
}

// TestFileConcurrentWriters appends from many goroutines through two
// handles on the same file (each takes the file lock, as two processes
// would): every line is a whole event, none is lost.
func TestFileConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events", "events.jsonl")
	a, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		f := a
		if w%2 == 1 {
			f = b
		}
		wg.Go(func() {
			for i := range each {
				// batches of two: a batch's lines stay together
				if err := f.Publish(context.Background(), sampleEvent(t, fmt.Sprintf("p%d", w), i), sampleEvent(t, fmt.Sprintf("p%d", w), i+1000)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got, _, err := readAll(t, path, TailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != writers*each*2 {
		t.Fatalf("%d events, want %d", len(got), writers*each*2)
	}
	for i := 0; i < len(got); i += 2 {
		if got[i].Detail.Pipeline != got[i+1].Detail.Pipeline {
			t.Fatalf("a batch was split at event %d", i)
		}
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o, want 0600", info.Mode().Perm())
	}
}

// TestFileTornLine reopens a file a crash left with half a line: the next
// event starts a line of its own and the half line is reported.
func TestFileTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	line, _ := json.Marshal(sampleEvent(t, "p", 1))
	torn := append(append(line, '\n'), line[:40]...)
	if err := os.WriteFile(path, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Publish(context.Background(), sampleEvent(t, "p", 2)); err != nil {
		t.Fatal(err)
	}
	f.Close()

	var bad []*LineError
	got, _, err := readAll(t, path, TailOptions{OnBadLine: func(e *LineError) { bad = append(bad, e) }})
	if err != nil || len(got) != 2 || len(bad) != 1 || bad[0].Offset != int64(len(line)+1) {
		t.Fatalf("events %d, bad lines %v, error %v", len(got), bad, err)
	}
	_, off, err := readAll(t, path, TailOptions{})
	var le *LineError
	if !errors.As(err, &le) || off != int64(len(line)+1) {
		t.Fatalf("without OnBadLine: %v at %d, want the line error", err, off)
	}
}

func TestFilePublishChecksAll(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := sampleEvent(t, "p", 2)
	bad.Detail.State = StateAbandoned
	if err := f.Publish(context.Background(), sampleEvent(t, "p", 1), bad); err == nil {
		t.Fatal("an invalid event was published")
	}
	if data, _ := os.ReadFile(path); len(data) != 0 {
		t.Fatalf("wrote %q", data)
	}
	f.Close()
	if err := f.Publish(context.Background(), sampleEvent(t, "p", 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	var m Memory
	if err := m.Publish(context.Background(), sampleEvent(t, "p", 1), bad); err == nil {
		t.Fatal("Memory took an invalid event")
	}
	m.Publish(context.Background(), sampleEvent(t, "p", 1))
	if len(m.Events()) != 1 {
		t.Fatal("Memory lost the event")
	}
}

// TestTail reads, resumes from an offset, waits for the rest of a line and
// restarts after truncation.
func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if _, _, err := readAll(t, path, TailOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	f, _ := OpenFile(path)
	defer f.Close()
	f.Publish(context.Background(), sampleEvent(t, "p", 1), sampleEvent(t, "p", 2))
	got, off, err := readAll(t, path, TailOptions{})
	if err != nil || len(got) != 2 || got[1].Detail.ExecutionID != "exec-2" {
		t.Fatalf("%d events %v", len(got), err)
	}

	// Half a line being written is left for later.
	line, _ := json.Marshal(sampleEvent(t, "p", 3))
	raw, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	raw.Write(line[:25])
	got, off2, err := readAll(t, path, TailOptions{Offset: off})
	if err != nil || len(got) != 0 || off2 != off {
		t.Fatalf("partial line: %d events, offset %d (was %d), %v", len(got), off2, off, err)
	}
	raw.Write(append(line[25:], '\n'))
	raw.Close()
	got, end, err := readAll(t, path, TailOptions{Offset: off})
	if err != nil || len(got) != 1 || got[0].Detail.ExecutionID != "exec-3" {
		t.Fatalf("completed line: %d events %v", len(got), err)
	}

	// A file shorter than the offset was truncated: it is read again.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	f.Publish(context.Background(), sampleEvent(t, "p", 4))
	got, _, err = readAll(t, path, TailOptions{Offset: end})
	if err != nil || len(got) != 1 || got[0].Detail.ExecutionID != "exec-4" {
		t.Fatalf("after truncation: %d events %v", len(got), err)
	}
}

// TestTailFollow follows a file that does not exist yet, as it is written
// and then replaced.
func TestTailFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seen := make(chan Event, 16)
	done := make(chan error, 1)
	go func() {
		_, err := Tail(ctx, path, TailOptions{Follow: true, Poll: 5 * time.Millisecond}, func(e Event) error {
			seen <- e
			return nil
		})
		done <- err
	}()
	next := func() Event {
		select {
		case e := <-seen:
			return e
		case <-ctx.Done():
			t.Fatal("no event")
		}
		return Event{}
	}
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range 3 {
		f.Publish(context.Background(), sampleEvent(t, "p", i))
		if e := next(); e.Detail.ExecutionID != fmt.Sprintf("exec-%d", i) {
			t.Fatalf("event %d: %s", i, e.Detail.ExecutionID)
		}
	}
	// The file is replaced by a new one.
	fresh := path + ".new"
	g, err := OpenFile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	g.Publish(context.Background(), sampleEvent(t, "p", 9))
	if err := os.Rename(fresh, path); err != nil {
		t.Fatal(err)
	}
	if e := next(); e.Detail.ExecutionID != "exec-9" {
		t.Fatalf("after the file was replaced: %s", e.Detail.ExecutionID)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Tail ended with %v", err)
	}
}

// TestTailStops ends at the first error of fn.
func TestTailStops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	f, _ := OpenFile(path)
	f.Publish(context.Background(), sampleEvent(t, "p", 1), sampleEvent(t, "p", 2))
	f.Close()
	stop := errors.New("enough")
	n := 0
	off, err := Tail(context.Background(), path, TailOptions{}, func(Event) error { n++; return stop })
	data, _ := os.ReadFile(path)
	if !errors.Is(err, stop) || n != 1 || off != int64(bytes.IndexByte(data, '\n')+1) {
		t.Fatalf("%v after %d events at %d", err, n, off)
	}
}

func BenchmarkFilePublish(b *testing.B) {
	f, err := OpenFile(filepath.Join(b.TempDir(), "events.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	e := sampleEvent(b, "p", 1)
	b.ReportAllocs()
	for b.Loop() {
		if err := f.Publish(context.Background(), e); err != nil {
			b.Fatal(err)
		}
	}
}
