package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// TailOptions says how Tail reads.
type TailOptions struct {
	// Offset is the byte offset to start at: 0 for the beginning, or the
	// offset a previous Tail returned.
	Offset int64
	// Follow keeps reading as the file grows, until the context ends; a
	// file that does not exist yet is waited for.
	Follow bool
	// Poll is how often a followed file is checked for growth; zero means
	// 200 milliseconds.
	Poll time.Duration
	// OnBadLine is told of a line that is not an event, and Tail goes on;
	// nil makes Tail stop with that error.
	OnBadLine func(err *LineError)
}

// LineError is a line of the events file that does not decode.
type LineError struct {
	Path   string
	Offset int64 // where the line starts
	Err    error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("%s at byte %d: not an event: %v", e.Path, e.Offset, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// Tail reads the events file at path from opts.Offset and calls fn with
// each event in order. It returns the offset after the last whole line it
// read, to resume from. A line still being written is left for later. When
// following, a file that shrinks (truncated or replaced) is read again from
// its beginning. Tail ends when fn returns an error (which it returns),
// when the file ends and opts.Follow is unset, or when ctx ends (returning
// ctx's error).
func Tail(ctx context.Context, path string, opts TailOptions, fn func(Event) error) (int64, error) {
	poll := opts.Poll
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	offset := opts.Offset
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	buf := make([]byte, 64<<10)
	var pending []byte // the start of a line not yet ended
	for {
		if f == nil {
			var err error
			f, err = os.Open(path)
			switch {
			case errors.Is(err, fs.ErrNotExist) && opts.Follow:
				if err := wait(ctx, poll); err != nil {
					return offset, err
				}
				continue
			case err != nil:
				return offset, fmt.Errorf("read events: %w", err)
			}
		}
		if info, err := f.Stat(); err == nil && info.Size() < offset+int64(len(pending)) {
			offset, pending = 0, pending[:0]
		}
		n, err := f.ReadAt(buf, offset+int64(len(pending)))
		if err != nil && err != io.EOF {
			return offset, fmt.Errorf("read events: %w", err)
		}
		pending = append(pending, buf[:n]...)
		for {
			i := bytes.IndexByte(pending, '\n')
			if i < 0 {
				break
			}
			line := pending[:i]
			start := offset
			offset += int64(i + 1)
			pending = pending[i+1:]
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var e Event
			if err := json.Unmarshal(line, &e); err != nil {
				le := &LineError{Path: path, Offset: start, Err: err}
				if opts.OnBadLine == nil {
					return start, le
				}
				opts.OnBadLine(le)
				continue
			}
			if err := fn(e); err != nil {
				return offset, err
			}
		}
		if len(pending) == 0 {
			pending = nil
		}
		if n == len(buf) {
			continue
		}
		if !opts.Follow {
			return offset, nil
		}
		if err := wait(ctx, poll); err != nil {
			return offset, err
		}
		if replaced(f, path) {
			f.Close()
			f, offset, pending = nil, 0, pending[:0]
		}
	}
}

// replaced reports whether path now names another file than f.
func replaced(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && !os.SameFile(a, b)
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
