package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// File publishes events by appending them to a JSON-lines file, one event
// a line. Each Publish writes its events in one write and syncs the file
// before it returns, under an exclusive lock on the file, so that writers
// in this process and in others never interleave their lines and a
// published event survives a crash.
type File struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

// OpenFile opens (creating it, and its folder, if needed) the events file
// at path. A line that a crash left unfinished at the end of the file is
// closed, so that the next event starts a line of its own.
func OpenFile(path string) (*File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open events file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open events file: %w", err)
	}
	ef := &File{path: path, f: f}
	if err := ef.closeTornLine(); err != nil {
		f.Close()
		return nil, err
	}
	return ef, nil
}

func (ef *File) closeTornLine() error {
	if err := lockFile(ef.f); err != nil {
		return fmt.Errorf("lock events file: %w", err)
	}
	defer unlockFile(ef.f)
	info, err := ef.f.Stat()
	if err != nil {
		return fmt.Errorf("open events file: %w", err)
	}
	if info.Size() == 0 {
		return nil
	}
	last := make([]byte, 1)
	if _, err := ef.f.ReadAt(last, info.Size()-1); err != nil && err != io.EOF {
		return fmt.Errorf("read events file: %w", err)
	}
	if last[0] == '\n' {
		return nil
	}
	if _, err := ef.f.Write([]byte{'\n'}); err != nil {
		return fmt.Errorf("repair events file: %w", err)
	}
	return ef.f.Sync()
}

// Path returns the file's path.
func (ef *File) Path() string { return ef.path }

// Publish implements Publisher. Every event is checked first; nothing is
// written unless all are valid.
func (ef *File) Publish(ctx context.Context, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range events {
		if err := events[i].Validate(); err != nil {
			return fmt.Errorf("publish event %d: %w", i, err)
		}
		if err := enc.Encode(&events[i]); err != nil {
			return fmt.Errorf("publish event %d: %w", i, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ef.mu.Lock()
	defer ef.mu.Unlock()
	if ef.f == nil {
		return ErrClosed
	}
	if err := lockFile(ef.f); err != nil {
		return fmt.Errorf("lock events file: %w", err)
	}
	defer unlockFile(ef.f)
	if _, err := ef.f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("append events: %w", err)
	}
	if err := ef.f.Sync(); err != nil {
		return fmt.Errorf("sync events: %w", err)
	}
	return nil
}

// Close closes the file; later Publish calls fail with ErrClosed.
func (ef *File) Close() error {
	ef.mu.Lock()
	defer ef.mu.Unlock()
	if ef.f == nil {
		return nil
	}
	err := ef.f.Close()
	ef.f = nil
	return err
}

// Memory keeps published events in memory, for tests and for wiring that
// has nowhere else to send them.
type Memory struct {
	mu     sync.Mutex
	events []Event
}

// Publish implements Publisher.
func (m *Memory) Publish(_ context.Context, events ...Event) error {
	for i := range events {
		if err := events[i].Validate(); err != nil {
			return fmt.Errorf("publish event %d: %w", i, err)
		}
	}
	m.mu.Lock()
	m.events = append(m.events, events...)
	m.mu.Unlock()
	return nil
}

// Events returns the events published so far.
func (m *Memory) Events() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Event(nil), m.events...)
}
