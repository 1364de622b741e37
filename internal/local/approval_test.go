package local

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

var pending = PendingApproval{
	Pipeline: "site", ExecutionID: "e1", Stage: "Approval", Action: "Approve", Token: "t",
	CustomData: "Publish 1a2b to testers?", ExternalEntityLink: "https://example.com/review",
	Expires: time.Date(2026, 5, 6, 7, 8, 0, 0, time.UTC),
}

func TestPrompt(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  *Decision
	}{
		{"approve with a comment", "y\nlooks right\n", &Decision{Approved: true, Summary: "looks right", User: "dave"}},
		{"reject", "no\nbroken layout\n", &Decision{Approved: false, Summary: "broken layout", User: "dave"}},
		{"asks again until it understands", "maybe\n\nAPPROVE\n\n", &Decision{Approved: true, User: "dave"}},
		{"terminal closed", "", nil},
		{"terminal closed before the comment", "y\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := &Prompt{In: strings.NewReader(tt.input), Out: &out, User: "dave"}
			got, err := p.Approve(context.Background(), pending)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decision %+v, want %+v", got, tt.want)
			}
			for _, want := range []string{"Approval needed: Approval/Approve of site, execution e1", "Publish 1a2b to testers?",
				"Review: https://example.com/review", "Approve? [y]es, [n]o to reject: "} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("the prompt does not show %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// TestPromptGivesUp: a question whose approval was decided elsewhere ends
// without an answer, and the next question gets the next line typed.
func TestPromptGivesUp(t *testing.T) {
	in, typing := io.Pipe()
	p := &Prompt{In: in, Out: io.Discard, User: "dave"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *Decision)
	go func() {
		d, _ := p.Approve(ctx, pending)
		done <- d
	}()
	cancel()
	if d := <-done; d != nil {
		t.Fatalf("a cancelled question decided %+v", d)
	}
	go func() {
		io.WriteString(typing, "n\nsecond thoughts\n")
	}()
	d, err := p.Approve(context.Background(), pending)
	if err != nil || d == nil || d.Approved || d.Summary != "second thoughts" {
		t.Errorf("the next question: %+v, %v", d, err)
	}
}

func TestElsewhereLeavesTheDecision(t *testing.T) {
	var out bytes.Buffer
	e := Elsewhere{Out: &out, Hint: func(a PendingApproval) string { return "sluice approve " + a.Pipeline }}
	d, err := e.Approve(context.Background(), pending)
	if d != nil || err != nil {
		t.Errorf("decided %+v, %v", d, err)
	}
	if !strings.Contains(out.String(), "Publish 1a2b to testers?") || !strings.Contains(out.String(), "sluice approve site") {
		t.Errorf("output:\n%s", out.String())
	}
}
