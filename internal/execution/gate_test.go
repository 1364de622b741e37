package execution

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ci/sluice/internal/store"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// arrival builds an arrival of execution "eN" started N minutes after t0.
func arrival(n int) Arrival {
	return Arrival{ExecutionID: fmt.Sprintf("e%d", n), TaskToken: fmt.Sprintf("tok%d", n), ExecutionStart: t0.Add(time.Duration(n) * time.Minute)}
}

func waiters(ids ...int) []store.Waiter {
	var ws []store.Waiter
	for _, n := range ids {
		a := arrival(n)
		ws = append(ws, store.Waiter{PipelineExecutionID: a.ExecutionID, TaskToken: a.TaskToken, ExecutionStart: a.ExecutionStart, Since: t0})
	}
	return ws
}

// summary renders what a decision did, for compact table expectations.
func summary(d Decision) string {
	var ws []string
	for _, w := range d.Control.Waiters {
		ws = append(ws, w.PipelineExecutionID)
	}
	var out []string
	for _, s := range d.Control.Outbox {
		if s.Error != "" {
			out = append(out, s.TaskToken+"!"+s.Error)
		} else {
			out = append(out, s.TaskToken)
		}
	}
	return fmt.Sprintf("holder=%s waiters=%v entered=%v superseded=%v outbox=%v",
		d.Control.Holder, ws, d.Entered, d.Superseded, out)
}

func TestEnter(t *testing.T) {
	disabled := store.Transition{Disabled: true, DisabledReason: "freeze"}
	tests := []struct {
		name    string
		control store.StageControl
		mode    string
		arrive  Arrival
		want    string
	}{
		{"free stage is entered", store.StageControl{}, store.ModeSuperseded, arrival(1),
			"holder=e1 waiters=[] entered=[e1] superseded=[] outbox=[tok1]"},
		{"locked stage: wait", store.StageControl{Holder: "e1"}, store.ModeSuperseded, arrival(2),
			"holder=e1 waiters=[e2] entered=[] superseded=[] outbox=[]"},
		{"superseded: newer waiter replaces older", store.StageControl{Holder: "e1", Waiters: waiters(2)}, store.ModeSuperseded, arrival(3),
			"holder=e1 waiters=[e3] entered=[] superseded=[e2] outbox=[tok2!Superseded]"},
		{"superseded: an older arrival is superseded at once", store.StageControl{Holder: "e1", Waiters: waiters(3)}, store.ModeSuperseded, arrival(2),
			"holder=e1 waiters=[e3] entered=[] superseded=[e2] outbox=[tok2!Superseded]"},
		{"queued: waiters queue in arrival order", store.StageControl{Holder: "e1", Waiters: waiters(3)}, store.ModeQueued, arrival(2),
			"holder=e1 waiters=[e3 e2] entered=[] superseded=[] outbox=[]"},
		{"queued: a free stage with a queue lets the head in first", store.StageControl{Waiters: waiters(2)}, store.ModeQueued, arrival(3),
			"holder=e2 waiters=[e3] entered=[e2] superseded=[] outbox=[tok2]"},
		{"parallel: no lock", store.StageControl{LatestExecutionID: "e1"}, store.ModeParallel, arrival(2),
			"holder= waiters=[] entered=[e2] superseded=[] outbox=[tok2]"},
		{"disabled transition: wait even when free", store.StageControl{Inbound: disabled}, store.ModeSuperseded, arrival(1),
			"holder= waiters=[e1] entered=[] superseded=[] outbox=[]"},
		{"disabled transition holds the latest in superseded mode", store.StageControl{Inbound: disabled, Waiters: waiters(1)}, store.ModeSuperseded, arrival(2),
			"holder= waiters=[e2] entered=[] superseded=[e1] outbox=[tok1!Superseded]"},
		{"disabled transition in parallel mode: all wait", store.StageControl{Inbound: disabled, Waiters: waiters(1)}, store.ModeParallel, arrival(2),
			"holder= waiters=[e1 e2] entered=[] superseded=[] outbox=[]"},
		{"redelivered arrival of the holder is answered again", store.StageControl{Holder: "e1"}, store.ModeSuperseded, arrival(1),
			"holder=e1 waiters=[] entered=[e1] superseded=[] outbox=[tok1]"},
		{"redelivered arrival of a parked execution keeps it parked", store.StageControl{Holder: "e1", Parked: []store.Parked{{PipelineExecutionID: "e1", TaskToken: "old"}}},
			store.ModeSuperseded, arrival(1), "holder=e1 waiters=[] entered=[] superseded=[] outbox=[]"},
		{"redelivered arrival of a waiter keeps its place", store.StageControl{Holder: "e1", Waiters: waiters(2, 3)}, store.ModeQueued, arrival(2),
			"holder=e1 waiters=[e2 e3] entered=[] superseded=[] outbox=[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := summary(Decision{Control: tt.control})
			d := Enter(tt.control, tt.mode, tt.arrive, t0)
			if got := summary(d); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if after := summary(Decision{Control: tt.control}); after != before {
				t.Errorf("input changed: %s -> %s", before, after)
			}
		})
	}
}

func TestLeaveAndTransitions(t *testing.T) {
	disabled := store.Transition{Disabled: true, DisabledReason: "freeze"}
	tests := []struct {
		name string
		run  func() Decision
		want string
	}{
		{"leaving hands the stage to the waiter", func() Decision {
			return Leave(store.StageControl{Holder: "e1", Waiters: waiters(2)}, store.ModeSuperseded, "e1", t0)
		}, "holder=e2 waiters=[] entered=[e2] superseded=[] outbox=[tok2]"},
		{"queued: the first waiter goes next", func() Decision {
			return Leave(store.StageControl{Holder: "e1", Waiters: waiters(2, 3)}, store.ModeQueued, "e1", t0)
		}, "holder=e2 waiters=[e3] entered=[e2] superseded=[] outbox=[tok2]"},
		{"leaving again is harmless", func() Decision {
			return Leave(store.StageControl{Holder: "e2"}, store.ModeSuperseded, "e1", t0)
		}, "holder=e2 waiters=[] entered=[] superseded=[] outbox=[]"},
		{"a stopped waiter leaves the queue", func() Decision {
			return Leave(store.StageControl{Holder: "e1", Waiters: waiters(2, 3)}, store.ModeQueued, "e2", t0)
		}, "holder=e1 waiters=[e3] entered=[] superseded=[] outbox=[]"},
		{"leaving a stage behind a disabled transition lets nobody in", func() Decision {
			return Leave(store.StageControl{Holder: "e1", Inbound: disabled, Waiters: waiters(2)}, store.ModeSuperseded, "e1", t0)
		}, "holder= waiters=[e2] entered=[] superseded=[] outbox=[]"},
		{"a withdrawn waiter is told and the next goes in", func() Decision {
			return Withdraw(store.StageControl{Waiters: waiters(2, 3)}, store.ModeQueued, "e2", ErrPipelineStopped, "stopped", t0)
		}, "holder=e3 waiters=[] entered=[e3] superseded=[] outbox=[tok2!PipelineStopped tok3]"},
		{"withdrawing one that does not wait changes nothing", func() Decision {
			return Withdraw(store.StageControl{Holder: "e1", Waiters: waiters(3)}, store.ModeQueued, "e2", ErrPipelineStopped, "stopped", t0)
		}, "holder=e1 waiters=[e3] entered=[] superseded=[] outbox=[]"},
		{"enabling lets the latest waiter in", func() Decision {
			return EnableInbound(store.StageControl{Inbound: disabled, Waiters: waiters(3)}, store.ModeSuperseded, "ops", t0)
		}, "holder=e3 waiters=[] entered=[e3] superseded=[] outbox=[tok3]"},
		{"enabling with the stage busy lets nobody in", func() Decision {
			return EnableInbound(store.StageControl{Holder: "e1", Inbound: disabled, Waiters: waiters(3)}, store.ModeSuperseded, "ops", t0)
		}, "holder=e1 waiters=[e3] entered=[] superseded=[] outbox=[]"},
		{"enabling in queued mode lets the first in", func() Decision {
			return EnableInbound(store.StageControl{Inbound: disabled, Waiters: waiters(2, 3)}, store.ModeQueued, "ops", t0)
		}, "holder=e2 waiters=[e3] entered=[e2] superseded=[] outbox=[tok2]"},
		{"enabling in parallel mode lets every waiter in", func() Decision {
			return EnableInbound(store.StageControl{Inbound: disabled, Waiters: waiters(2, 3)}, store.ModeParallel, "ops", t0)
		}, "holder= waiters=[] entered=[e2 e3] superseded=[] outbox=[tok2 tok3]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summary(tt.run()); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestDisableInbound(t *testing.T) {
	tests := []struct {
		reason  string
		wantErr string
	}{
		{"release freeze", ""},
		{"", "reason is required"},
		{strings.Repeat("x", 301), "longer than 300"},
	}
	for _, tt := range tests {
		c, err := DisableInbound(store.StageControl{}, tt.reason, "ops", t0)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("reason %.10q: err %v, want %q", tt.reason, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !c.Inbound.Disabled || c.Inbound.DisabledReason != tt.reason || c.Inbound.LastChangedBy != "ops" {
			t.Errorf("reason %q: %+v, %v", tt.reason, c.Inbound, err)
		}
	}
}

func TestDelivered(t *testing.T) {
	c := store.StageControl{Outbox: []store.TokenSend{{TaskToken: "a"}, {TaskToken: "b", Error: ErrSuperseded}, {TaskToken: "c"}}}
	got := Delivered(c, []store.TokenSend{{TaskToken: "a"}, {TaskToken: "b", Error: ErrSuperseded}})
	if len(got.Outbox) != 1 || got.Outbox[0].TaskToken != "c" || len(c.Outbox) != 3 {
		t.Errorf("outbox = %+v (input %+v)", got.Outbox, c.Outbox)
	}
	if got := Delivered(got, got.Outbox); got.Outbox != nil {
		t.Errorf("outbox = %+v, want nil", got.Outbox)
	}
}

// TestOneExecutionPerStage drives random arrivals and departures through the
// decisions and checks that no two executions are ever inside the stage, and
// that in QUEUED mode they enter in arrival order.
func TestOneExecutionPerStage(t *testing.T) {
	for _, mode := range []string{store.ModeSuperseded, store.ModeQueued} {
		t.Run(mode, func(t *testing.T) {
			var c store.StageControl
			var entered []string
			inside := map[string]bool{}
			next := 1
			for step := range 200 {
				var d Decision
				if step%3 != 2 || c.Holder == "" {
					d = Enter(c, mode, arrival(next), t0)
					next++
				} else {
					d = Leave(c, mode, c.Holder, t0)
					for id := range inside {
						delete(inside, id)
					}
				}
				for _, id := range d.Entered {
					inside[id] = true
					entered = append(entered, id)
				}
				if len(inside) > 1 {
					t.Fatalf("step %d: inside %v", step, inside)
				}
				c = Delivered(d.Control, d.Control.Outbox)
			}
			if mode == store.ModeQueued && !slices.IsSortedFunc(entered, func(a, b string) int {
				var x, y int
				fmt.Sscanf(a, "e%d", &x)
				fmt.Sscanf(b, "e%d", &y)
				return x - y
			}) {
				t.Errorf("entered out of order: %v", entered)
			}
		})
	}
}
