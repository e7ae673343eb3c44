package dataflow

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// mailbox is the input of one subtask: one bounded FIFO ring per (input,
// sender) and an unbounded control inbox, under one mutex, with one channel
// the receiver waits on.
//
//   - A sender blocks when its own ring is full, and only then: this is
//     credit-based flow control (a ring's free slots are the sender's
//     credits), so a network stream can later feed a ring without the
//     receiver telling the difference.
//   - The receiver reads the rings round-robin, one message per ring per
//     turn, so no sender starves another.
//   - The receiver can block a ring (barrier alignment): its messages stay
//     where they are, its sender fills the ring and then waits. Memory is
//     bounded by the rings' capacity whatever alignment does.
//   - Control messages never wait behind data: the receiver takes them
//     before each data message, and pushing one never blocks.
//
// No reflect.Select: one mutex and one wake-up channel per mailbox, one per
// ring for a sender waiting for room.
type mailbox struct {
	mu     sync.Mutex
	rings  []ring
	cursor int       // ring to look at first (round-robin)
	ctrl   []message // control inbox, FIFO
	// waiting is set by the receiver when it found nothing to read and is
	// about to wait on notify; a sender that then makes something readable
	// clears it and signals.
	waiting bool
	notify  chan struct{}
}

type ring struct {
	buf     []message
	head, n int
	// blocked: the receiver does not read this ring (alignment).
	blocked bool
	// waiting: the sender found the ring full and waits on space.
	waiting bool
	space   chan struct{}
}

func newMailbox(senders, capacity int) *mailbox {
	mb := &mailbox{rings: make([]ring, senders), notify: make(chan struct{}, 1)}
	for i := range mb.rings {
		mb.rings[i] = ring{buf: make([]message, capacity), space: make(chan struct{}, 1)}
	}
	return mb
}

// put appends m to ring slot, waiting while the ring is full. It fails only
// when ctx ends.
func (mb *mailbox) put(ctx context.Context, slot int, m message, wait *atomic.Int64) error {
	r := &mb.rings[slot]
	for {
		mb.mu.Lock()
		if r.n < len(r.buf) {
			i := r.head + r.n
			if i >= len(r.buf) {
				i -= len(r.buf)
			}
			r.buf[i] = m
			r.n++
			wake := mb.waiting && !r.blocked
			if wake {
				mb.waiting = false
			}
			mb.mu.Unlock()
			if wake {
				signal(mb.notify)
			}
			return nil
		}
		r.waiting = true
		mb.mu.Unlock()
		t0 := time.Now()
		select {
		case <-r.space:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if wait != nil {
			wait.Add(int64(time.Since(t0)))
		}
	}
}

// control appends m to the control inbox. It never blocks.
func (mb *mailbox) control(m message) {
	mb.mu.Lock()
	mb.ctrl = append(mb.ctrl, m)
	mb.waiting = false
	mb.mu.Unlock()
	// Signal unconditionally: a source's control loop waits on notify
	// without setting waiting, and control messages are rare.
	signal(mb.notify)
}

// takeControl returns the oldest control message, if any.
func (mb *mailbox) takeControl() (message, bool) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return mb.popControl()
}

func (mb *mailbox) popControl() (message, bool) {
	if len(mb.ctrl) == 0 {
		return message{}, false
	}
	m := mb.ctrl[0]
	n := copy(mb.ctrl, mb.ctrl[1:])
	mb.ctrl[n] = message{}
	mb.ctrl = mb.ctrl[:n]
	return m, true
}

// next returns the next message for the receiver: a control message if one
// is waiting (slot -1), else the next message of an unblocked ring and its
// slot. It waits until there is one or ctx ends.
func (mb *mailbox) next(ctx context.Context) (int, message, error) {
	for {
		mb.mu.Lock()
		if m, ok := mb.popControl(); ok {
			mb.mu.Unlock()
			return -1, m, nil
		}
		k := len(mb.rings)
		for i := 0; i < k; i++ {
			s := mb.cursor + i
			if s >= k {
				s -= k
			}
			r := &mb.rings[s]
			if r.n == 0 || r.blocked {
				continue
			}
			m := r.buf[r.head]
			r.buf[r.head] = message{} // do not pin the batch
			r.head++
			if r.head == len(r.buf) {
				r.head = 0
			}
			r.n--
			wake := r.waiting
			r.waiting = false
			mb.cursor = s + 1
			if mb.cursor == k {
				mb.cursor = 0
			}
			mb.mu.Unlock()
			if wake {
				signal(r.space)
			}
			return s, m, nil
		}
		mb.waiting = true
		mb.mu.Unlock()
		select {
		case <-mb.notify:
		case <-ctx.Done():
			return 0, message{}, context.Cause(ctx)
		}
	}
}

// block stops the receiver from reading ring slot until unblockAll.
func (mb *mailbox) block(slot int) {
	mb.mu.Lock()
	mb.rings[slot].blocked = true
	mb.mu.Unlock()
}

// unblockAll lets the receiver read every ring again.
func (mb *mailbox) unblockAll() {
	mb.mu.Lock()
	for i := range mb.rings {
		mb.rings[i].blocked = false
	}
	mb.mu.Unlock()
}

// buffered returns the number of messages in ring slot (for tests).
func (mb *mailbox) buffered(slot int) int {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return mb.rings[slot].n
}

// signal wakes whoever waits on c (capacity 1) without ever blocking; a
// stale token only costs the waiter one more look.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// hasControl reports whether a control message is waiting.
func (mb *mailbox) hasControl() bool {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return len(mb.ctrl) > 0
}
