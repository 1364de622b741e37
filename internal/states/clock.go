package states

import (
	"container/heap"
	"sync"
	"time"
)

// Clock is the engine's source of time. Every deadline the engine keeps
// (Wait states, retry back-off, task and heartbeat timeouts, execution
// timeouts) is an absolute time on this clock.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer whose channel receives once the clock
	// reaches at (at once when at has passed).
	NewTimer(at time.Time) Timer
}

// Timer is a one-shot timer of a Clock.
type Timer interface {
	C() <-chan struct{}
	// Stop prevents the timer from firing; it returns false when the timer
	// has already fired.
	Stop() bool
}

// activity is implemented by clocks that must know whether the engine is
// busy: a virtual clock moves time forward only while every goroutine of
// the engine waits.
//
// The protocol: a goroutine that runs holds one unit. It gives its unit up
// (Idle) before it blocks. Whatever wakes it hands it a unit: a firing timer
// takes one (Busy) on the sleeper's behalf, and so does a sender that wakes a
// waiter through a channel. A waiter that leaves by another way gives back
// the unit of a wake-up it did not take. A waiter woken by a cancelled
// context takes its unit itself once it runs, so whoever cancels keeps a
// unit until the goroutines it woke have run.
type activity interface {
	Busy()
	Idle()
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns the current time in UTC.
func (RealClock) Now() time.Time { return time.Now().UTC() }

// NewTimer returns a timer on the wall clock.
func (RealClock) NewTimer(at time.Time) Timer {
	t := &realTimer{c: make(chan struct{})}
	t.t = time.AfterFunc(time.Until(at), func() { close(t.c) })
	return t
}

type realTimer struct {
	t *time.Timer
	c chan struct{}
}

func (t *realTimer) C() <-chan struct{} { return t.c }
func (t *realTimer) Stop() bool         { return t.t.Stop() }

// VirtualClock is a simulated clock: whenever every goroutine of the engine
// waits, it jumps to the earliest pending deadline and fires it, so that
// Wait states, back-off and timeouts pass instantly.
type VirtualClock struct {
	mu     sync.Mutex
	now    time.Time
	active int
	seq    int
	timers timerHeap
}

// NewVirtualClock returns a virtual clock that starts at start.
func NewVirtualClock(start time.Time) *VirtualClock {
	return &VirtualClock{now: start.UTC()}
}

// Now returns the simulated time.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer on simulated time.
func (c *VirtualClock) NewTimer(at time.Time) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &virtualTimer{clock: c, at: at, seq: c.seq, c: make(chan struct{}, 1)}
	heap.Push(&c.timers, t)
	c.advance()
	return t
}

// Busy records that one more goroutine runs.
func (c *VirtualClock) Busy() {
	c.mu.Lock()
	c.active++
	c.mu.Unlock()
}

// Idle records that a goroutine waits or ended, and moves time forward when
// nothing runs any more.
func (c *VirtualClock) Idle() {
	c.mu.Lock()
	c.active--
	c.advance()
	c.mu.Unlock()
}

// advance fires the earliest timer when nothing runs, or every timer whose
// deadline has passed. Callers hold c.mu.
func (c *VirtualClock) advance() {
	for c.timers.Len() > 0 {
		t := c.timers[0]
		if t.at.After(c.now) {
			if c.active > 0 {
				return
			}
			c.now = t.at
		}
		heap.Pop(&c.timers)
		t.fired = true
		c.active++
		t.c <- struct{}{}
	}
}

type virtualTimer struct {
	clock *VirtualClock
	at    time.Time
	seq   int
	index int
	fired bool
	c     chan struct{}
}

func (t *virtualTimer) C() <-chan struct{} { return t.c }

func (t *virtualTimer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.fired {
		return false
	}
	if t.index >= 0 {
		heap.Remove(&c.timers, t.index)
	}
	t.fired = true
	return true
}

type timerHeap []*virtualTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*virtualTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}
