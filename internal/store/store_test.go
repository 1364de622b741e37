package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/store"
	"github.com/sluice-ci/sluice/internal/store/sqlite"
)

func open(t *testing.T) *store.Store {
	t.Helper()
	b, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sluice.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return store.New(b)
}

var t0 = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)

func TestPipelineExecutions(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	for i := range 5 {
		e := store.PipelineExecution{PipelineName: "p", PipelineExecutionID: fmt.Sprintf("e%d", i), Status: store.ExecutionInProgress, StartTime: t0.Add(time.Duration(i) * time.Minute)}
		if err := s.CreatePipelineExecution(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	dup := store.PipelineExecution{PipelineName: "p", PipelineExecutionID: "e1", StartTime: t0.Add(time.Hour)}
	if err := s.CreatePipelineExecution(ctx, dup); !errors.Is(err, store.ErrConditionFailed) {
		t.Errorf("creating e1 again: %v", err)
	}
	tests := []struct {
		limit int
		token string
		want  string
		more  bool
	}{
		{0, "", "[e4 e3 e2 e1 e0]", false},
		{2, "", "[e4 e3]", true},
	}
	for _, tt := range tests {
		got, next, err := s.ListPipelineExecutions(ctx, "p", tt.limit, tt.token)
		if err != nil {
			t.Fatal(err)
		}
		if ids := idsOf(got); ids != tt.want || (next != "") != tt.more {
			t.Errorf("limit %d: %s next %q; want %s", tt.limit, ids, next, tt.want)
		}
		if next != "" {
			rest, next2, _ := s.ListPipelineExecutions(ctx, "p", 10, next)
			if ids := idsOf(rest); ids != "[e2 e1 e0]" || next2 != "" {
				t.Errorf("second page %s, next %q", ids, next2)
			}
		}
	}
	e, err := s.GetPipelineExecution(ctx, "p", "e2")
	if err != nil {
		t.Fatal(err)
	}
	e.Value.Status = store.ExecutionSucceeded
	if err := s.PutPipelineExecution(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPipelineExecution(ctx, e); !errors.Is(err, store.ErrConditionFailed) {
		t.Errorf("a write at a stale version: %v", err)
	}
}

func idsOf(es []store.PipelineExecution) string {
	var ids []string
	for _, e := range es {
		ids = append(ids, e.PipelineExecutionID)
	}
	return fmt.Sprint(ids)
}

func TestActionExecutions(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	put := func(id, stage, act string, attempt int, start time.Time) {
		t.Helper()
		a := store.ActionExecution{PipelineName: "p", PipelineExecutionID: id, StageName: stage, ActionName: act, Attempt: attempt, StartTime: start, Status: store.ActionSucceeded}
		if err := s.PutActionExecution(ctx, store.Versioned[store.ActionExecution]{Value: a}); err != nil {
			t.Fatal(err)
		}
	}
	put("e1", "Build", "Compile", 1, t0)
	put("e1", "Build", "Compile", 2, t0.Add(2*time.Minute))
	put("e1", "Build", "CompileAll", 1, t0.Add(time.Minute))
	put("e2", "Build", "Compile", 1, t0.Add(3*time.Minute))
	latest, err := s.LatestActionExecution(ctx, "p", "e1", "Build", "Compile")
	if err != nil || latest.Value.Attempt != 2 {
		t.Errorf("latest attempt %+v, %v", latest.Value, err)
	}
	if _, err := s.LatestActionExecution(ctx, "p", "e1", "Build", "Comp"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a prefix of an action name matched: %v", err)
	}
	tests := []struct {
		id   string
		want []string
	}{
		{"e1", []string{"Compile#2", "CompileAll#1", "Compile#1"}},
		{"", []string{"Compile#1", "Compile#2", "CompileAll#1", "Compile#1"}},
	}
	for _, tt := range tests {
		got, err := s.ListActionExecutions(ctx, "p", tt.id)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range got {
			names = append(names, fmt.Sprintf("%s#%d", a.ActionName, a.Attempt))
		}
		if fmt.Sprint(names) != fmt.Sprint(tt.want) {
			t.Errorf("execution %q: %v, want %v (newest first)", tt.id, names, tt.want)
		}
	}
}

func TestPipelines(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	if _, err := s.GetPipeline(ctx, "p", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("no pipeline yet: %v", err)
	}
	for v := 1; v <= 11; v++ {
		if err := s.PutPipeline(ctx, store.Pipeline{Name: "p", Version: v, Declaration: []byte(fmt.Sprintf(`{"v":%d}`, v))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutPipeline(ctx, store.Pipeline{Name: "p", Version: 3, Declaration: []byte(`{}`)}); !errors.Is(err, store.ErrConditionFailed) {
		t.Errorf("storing version 3 again: %v", err)
	}
	latest, err := s.GetPipeline(ctx, "p", 0)
	if err != nil || latest.Version != 11 {
		t.Errorf("latest %+v, %v", latest, err)
	}
	v3, err := s.GetPipeline(ctx, "p", 3)
	if err != nil || string(v3.Declaration) != `{"v":3}` {
		t.Errorf("version 3 %+v, %v", v3, err)
	}
}
