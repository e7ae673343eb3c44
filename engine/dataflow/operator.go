package dataflow

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
)

// senderState is what an operator subtask knows about one upstream sender
// (one ring of its mailbox).
type senderState struct {
	watermark int64 // the latest watermark received; MinInt64 before any
	idle      bool  // the sender said idle and has sent nothing since
	finished  bool  // end of stream received
	aligned   bool  // barrier of the epoch being aligned received: ring blocked
}

// opTask is the protocol state of one operator subtask.
type opTask struct {
	j   *Job
	n   *program.Node
	i   int
	op  ops.Operator
	out *output
	mb  *mailbox

	senders []senderState
	live    int // senders not finished

	watermark int64 // the operator's watermark, last delivered
	idle      bool  // idle was forwarded and nothing has been forwarded since

	aligning   bool   // a barrier is being aligned
	epoch      uint64 // its epoch
	stop       bool   // it is Stop's barrier
	alignedN   int    // live senders whose barrier has arrived
	stopping   bool   // the stop barrier was taken: no Finish, wait for done
	stopEpoch  uint64 // its epoch
	stopDone   bool   // the stop checkpoint is complete
	anyStopped bool   // some sender ended with reason stopped

	tickPending atomic.Bool // a ctrlTick is in the control inbox
}

func (j *Job) runOperator(n *program.Node, i int, op ops.Operator, out *output) {
	defer j.wg.Done()
	if c, ok := op.(ops.Closer); ok {
		defer func() {
			if err := c.Close(); err != nil {
				j.failTask(n, i, fmt.Errorf("close: %w", err))
			}
		}()
	}
	defer j.recoverPanic(n, i)
	t := &opTask{j: j, n: n, i: i, op: op, out: out, mb: j.inputs[n.ID][i], watermark: math.MinInt64}
	t.senders = make([]senderState, len(j.slots[n.ID]))
	for s := range t.senders {
		t.senders[s].watermark = math.MinInt64
	}
	t.live = len(t.senders)
	if tk, ok := op.(ops.Ticker); ok && tk.TickInterval() > 0 {
		done := make(chan struct{})
		defer close(done)
		go t.ticks(tk.TickInterval(), done)
	}
	finished, err := t.loop()
	if err != nil {
		j.failTask(n, i, err)
		return
	}
	if finished {
		j.coord.post(Event{Kind: EventFinished, Node: n.ID, Operator: n.Description, Subtask: i})
	}
}

// loop runs the subtask until its inputs have ended; finished reports an
// end of input (as opposed to a stop).
func (t *opTask) loop() (finished bool, err error) {
	ctx := t.j.ctx
	rowsIn, bytesIn := t.j.counter(t.n, t.i, "rows_in"), t.j.counter(t.n, t.i, "bytes_in")
	for t.live > 0 || (t.stopping && !t.stopDone) {
		slot, m, err := t.mb.next(ctx)
		if err != nil {
			return false, err
		}
		if ctx.Err() != nil {
			// A message and the cancellation were both there: a failed or
			// cancelled job must not process, nor finish (flush, commit),
			// anything more.
			return false, context.Cause(ctx)
		}
		if slot < 0 {
			if err := t.control(m); err != nil {
				return false, err
			}
			continue
		}
		s := &t.senders[slot]
		switch m.kind {
		case msgData:
			if t.stopping {
				return false, fmt.Errorf("internal error: data from input %d sender %d after the stop barrier",
					t.j.slots[t.n.ID][slot].input, t.j.slots[t.n.ID][slot].sender)
			}
			if s.idle {
				// Data means active again: its watermark counts again.
				s.idle = false
				if err := t.advance(); err != nil {
					return false, err
				}
			}
			rowsIn.Add(int64(m.batch.Rows()))
			bytesIn.Add(int64(m.batch.MemBytes()))
			if err := t.op.Process(ctx, t.j.slots[t.n.ID][slot].input, m.batch, t.out); err != nil {
				return false, err
			}
		case msgWatermark:
			s.idle = false
			s.watermark = max(s.watermark, m.watermark)
			if err := t.advance(); err != nil {
				return false, err
			}
		case msgIdle:
			s.idle = true
			if err := t.advance(); err != nil {
				return false, err
			}
		case msgBarrier:
			if err := t.barrier(slot, m); err != nil {
				return false, err
			}
		case msgEOS:
			s.finished = true
			t.live--
			if m.reason == stopped {
				t.anyStopped = true
			}
			if s.aligned {
				// Cannot happen (an aligned ring is not read) but keeps the
				// count honest.
				s.aligned = false
				t.alignedN--
			}
			if t.live > 0 {
				// A finished sender counts as the end of time.
				if err := t.advance(); err != nil {
					return false, err
				}
				if err := t.maybeAligned(); err != nil {
					return false, err
				}
			}
		}
	}
	if t.stopping || t.anyStopped {
		return false, nil
	}
	// End of input: the final watermark (every sender is at the end of
	// time), then Finish, then end of stream.
	if err := t.advance(); err != nil {
		return false, err
	}
	if f, ok := t.op.(ops.Finisher); ok {
		if err := f.Finish(ctx, t.out); err != nil {
			return false, err
		}
	}
	return true, t.out.send(message{kind: msgEOS, reason: endOfInput})
}

// ticks posts a tick to the control inbox every interval until done or
// the job ends, skipping a tick while the previous one is pending.
func (t *opTask) ticks(interval time.Duration, done <-chan struct{}) {
	tk := time.NewTicker(interval)
	defer tk.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.j.ctx.Done():
			return
		case <-tk.C:
			if t.tickPending.CompareAndSwap(false, true) {
				t.mb.control(message{kind: ctrlTick})
			}
		}
	}
}

// control handles a message of the control inbox.
func (t *opTask) control(m message) error {
	switch m.kind {
	case ctrlTick:
		t.tickPending.Store(false)
		if t.stopping || t.live == 0 {
			return nil
		}
		return t.op.(ops.Ticker).Tick(t.j.ctx, t.out)
	case ctrlDone:
		if n, ok := t.op.(ops.CheckpointNotifier); ok {
			if err := n.CheckpointDone(t.j.ctx, m.epoch); err != nil {
				return fmt.Errorf("commit checkpoint %d: %w", m.epoch, err)
			}
		}
		if t.stopping && m.epoch == t.stopEpoch {
			t.stopDone = true
		}
	}
	return nil
}

// advance recomputes the operator's watermark, the minimum over senders that
// are neither idle nor finished (a finished sender counts as the end of
// time), and delivers it when it advanced: to the operator first, then
// downstream. When every sender still running is idle, the operator is idle
// and says so downstream once.
func (t *opTask) advance() error {
	wm := int64(math.MaxInt64)
	active, idle := false, false
	for i := range t.senders {
		s := &t.senders[i]
		switch {
		case s.finished:
		case s.idle:
			idle = true
		default:
			active = true
			wm = min(wm, s.watermark)
		}
	}
	if !active && idle {
		if t.idle {
			return nil
		}
		t.idle = true
		return t.out.send(message{kind: msgIdle})
	}
	if wm <= t.watermark {
		return nil
	}
	t.watermark, t.idle = wm, false
	if h, ok := t.op.(ops.WatermarkHandler); ok {
		if err := h.OnWatermark(t.j.ctx, wm, t.out); err != nil {
			return err
		}
	}
	return t.out.send(message{kind: msgWatermark, watermark: wm})
}

// barrier handles barrier m from ring slot: the ring is blocked until every
// live sender has delivered the same barrier.
func (t *opTask) barrier(slot int, m message) error {
	if !t.aligning {
		t.aligning, t.epoch, t.stop, t.alignedN = true, m.epoch, m.stop, 0
	} else if m.epoch != t.epoch {
		return fmt.Errorf("internal error: barrier %d from input %d sender %d while aligning barrier %d",
			m.epoch, t.j.slots[t.n.ID][slot].input, t.j.slots[t.n.ID][slot].sender, t.epoch)
	}
	t.senders[slot].aligned = true
	t.alignedN++
	t.mb.block(slot)
	return t.maybeAligned()
}

// maybeAligned completes the alignment once every live sender has delivered
// the barrier: snapshot, forward the barrier, acknowledge up, unblock.
func (t *opTask) maybeAligned() error {
	if !t.aligning || t.alignedN < t.live {
		return nil
	}
	ctx := t.j.ctx
	var snap any
	if c, ok := t.op.(ops.Checkpointer); ok {
		var err error
		if snap, err = c.Checkpoint(ctx, ops.Barrier{Epoch: t.epoch, Stop: t.stop}, t.out); err != nil {
			return fmt.Errorf("checkpoint %d: %w", t.epoch, err)
		}
	}
	if err := t.out.send(message{kind: msgBarrier, epoch: t.epoch, stop: t.stop}); err != nil {
		return err
	}
	t.j.coord.post(Event{Kind: EventAck, Node: t.n.ID, Operator: t.n.Description, Subtask: t.i, Epoch: t.epoch, Snapshot: snap})
	if t.stop {
		// Nothing follows a stop barrier but end of stream; the subtask
		// exits once the stop checkpoint is complete (so a two-phase sink
		// commits it) and every sender has ended.
		t.stopping, t.stopEpoch = true, t.epoch
		if err := t.out.send(message{kind: msgEOS, reason: stopped}); err != nil {
			return err
		}
	}
	for i := range t.senders {
		t.senders[i].aligned = false
	}
	t.aligning, t.alignedN = false, 0
	t.mb.unblockAll()
	return nil
}
