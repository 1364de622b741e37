package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/runtime"
	"github.com/sluice-ci/sluice/internal/store"
)

// forEachPipeline calls fn with the catalog entry of every pipeline.
func (s *Server) forEachPipeline(ctx context.Context, fn func(e store.PipelineEntry) error) error {
	token := ""
	for {
		entries, next, err := s.Local.Runtime.Store.ListPipelineEntries(ctx, 100, token)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := fn(e); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		token = next
	}
}

// recover finishes what a previous process decided but did not carry out:
// stage callbacks left in an outbox, approvals decided but not delivered.
// The pending starts are the start worker's. The engine resumed its own
// executions when the data folder was opened.
func (s *Server) recover(ctx context.Context) error {
	rt := s.Local.Runtime
	err := s.forEachPipeline(ctx, func(e store.PipelineEntry) error {
		name := e.Name
		d, _, err := rt.Declaration(ctx, name, 0)
		if err != nil {
			return err
		}
		for _, st := range d.Stages {
			if err := rt.Gate().Flush(ctx, name, st.Name); err != nil {
				s.log.Warn("deliver stage callbacks", "pipeline", name, "stage", st.Name, "error", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recover stage callbacks: %w", err)
	}
	return s.deliverApprovals(ctx)
}

// deliverApprovals delivers the approvals decided but not yet delivered:
// by a process that crashed between the two, or by `sluice approve` from
// another process, which records decisions in the store for the owner of
// the data folder to deliver.
func (s *Server) deliverApprovals(ctx context.Context) error {
	rt := s.Local.Runtime
	return s.forEachPipeline(ctx, func(e store.PipelineEntry) error {
		name := e.Name
		aps, err := rt.Store.ListApprovals(ctx, name)
		if err != nil {
			return err
		}
		for _, ap := range aps {
			if ap.Delivered || (ap.Status != store.ApprovalApproved && ap.Status != store.ApprovalRejected) {
				continue
			}
			err := rt.PutApprovalResult(ctx, runtime.ApprovalInput{
				Pipeline: name, Stage: ap.StageName, Action: ap.ActionName, Token: ap.Token,
				Status: ap.Status, Summary: ap.Summary, User: ap.DecidedBy,
			})
			if err != nil {
				s.log.Warn("deliver approval", "pipeline", name, "stage", ap.StageName, "action", ap.ActionName, "error", err)
				continue
			}
			s.log.Info("approval delivered", "pipeline", name, "stage", ap.StageName, "action", ap.ActionName, "status", ap.Status)
		}
		return nil
	})
}

// runSweeps delivers approvals decided elsewhere, every Sweep.
func (s *Server) runSweeps() {
	tick := time.NewTicker(s.opts.Sweep)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		if err := s.deliverApprovals(s.ctx); err != nil && s.ctx.Err() == nil {
			s.log.Error("deliver approvals", "error", err)
		}
	}
}

// deployFolder creates or updates the pipelines of the files in dir (the
// .json, .yaml and .yml files, in name order). Creating a pipeline starts
// its first execution, as CreatePipeline does; a pipeline whose stored
// declaration is the same is left as it is.
func (s *Server) deployFolder(ctx context.Context, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read pipelines folder: %w", err)
	}
	var errs []error
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || !slices.Contains([]string{".json", ".yaml", ".yml"}, ext) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		f, err := pipeline.Load(path, pipeline.Options{Params: map[string]string{"AWS::Region": s.opts.Region, "AWS::AccountId": s.opts.Account}})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, p := range f.Pipelines {
			if problems := p.Problems(); pipeline.HasErrors(problems) {
				var msgs []string
				for _, pr := range problems {
					if pr.Severity == pipeline.SeverityError {
						msgs = append(msgs, pr.String())
					}
				}
				errs = append(errs, fmt.Errorf("%s: pipeline %s: %s", path, p.Declaration.Name, strings.Join(msgs, "; ")))
				continue
			}
			var tags []store.Tag
			for _, t := range p.Tags {
				tags = append(tags, store.Tag{Key: t.Key, Value: t.Value})
			}
			version, created, err := s.API.Apply(ctx, s.Caller, p.Declaration, tags)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("%s: pipeline %s: %w", path, p.Declaration.Name, err))
			case created:
				s.log.Info("pipeline created", "pipeline", p.Declaration.Name, "file", path)
			default:
				s.log.Info("pipeline deployed", "pipeline", p.Declaration.Name, "version", version, "file", path)
			}
		}
	}
	return errors.Join(errs...)
}
