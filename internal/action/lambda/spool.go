package lambda

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/sluice-ci/sluice/internal/action"
)

// SpoolFolder is the folder, in the functions' folder, that keeps the
// invocations that have not ended. No function is named so: a function's
// name has no dot.
const SpoolFolder = ".invocations"

// spooled is a kept invocation.
type spooled struct {
	Job          action.Job `json:"job"`
	Continuation string     `json:"continuation,omitempty"`
}

// spoolPath is where the invocation of a job is kept.
func (h *Host) spoolPath(jobID string) string {
	sum := sha256.Sum256([]byte(jobID))
	return filepath.Join(h.dir, SpoolFolder, hex.EncodeToString(sum[:16])+".json")
}

// spool keeps an invocation until it has ended: written whole under a
// temporary name, then renamed.
func (h *Host) spool(inv *invocation) error {
	data, err := json.Marshal(spooled{Job: inv.job, Continuation: inv.continuation})
	if err != nil {
		return fmt.Errorf("keep the invocation of job %s: %w", inv.job.ID, err)
	}
	path := h.spoolPath(inv.job.ID)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("keep the invocation of job %s: %w", inv.job.ID, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("keep the invocation of job %s: %w", inv.job.ID, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("keep the invocation of job %s: %w", inv.job.ID, err)
	}
	return nil
}

// unspool forgets an invocation whose job is settled.
func (h *Host) unspool(jobID string, log *slog.Logger) {
	if err := os.Remove(h.spoolPath(jobID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Error("forget a Lambda invocation", "job", jobID, "error", err)
	}
}

// resume invokes again the kept invocations of an earlier host whose jobs
// still wait, and forgets the others.
func (h *Host) resume(w *Wiring) {
	if w.Jobs == nil {
		return
	}
	files, err := filepath.Glob(filepath.Join(h.dir, SpoolFolder, "*.json"))
	if err != nil || len(files) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, f := range files {
		var sp spooled
		data, err := os.ReadFile(f)
		if err == nil {
			err = json.Unmarshal(data, &sp)
		}
		if err != nil || sp.Job.ID == "" {
			w.Log.Error("read a kept Lambda invocation", "file", f, "error", err)
			os.Remove(f)
			continue
		}
		h.mu.Lock()
		mine := h.invoked[sp.Job.ID]
		h.mu.Unlock()
		if mine {
			continue
		}
		waiting, err := w.Jobs.JobWaiting(ctx, sp.Job.ID)
		switch {
		case err != nil:
			w.Log.Error("read the job of a kept Lambda invocation", "job", sp.Job.ID, "error", err)
			continue
		case !waiting:
			os.Remove(f)
			continue
		}
		if err := h.Invoke(&sp.Job, sp.Continuation); err != nil {
			if ferr := w.Jobs.FailJob(ctx, sp.Job.ID, action.Failed(action.CodeJobFailed, "invoke the function again: %v", err)); ferr != nil {
				w.Log.Error("settle the job of a kept Lambda invocation", "job", sp.Job.ID, "error", ferr)
				continue
			}
			os.Remove(f)
		}
	}
}
