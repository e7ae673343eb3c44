package dataflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync/atomic"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/program"
)

// maxPoll is the longest a source's Poll may take before the loop looks at
// its control inbox and clocks again.
const maxPoll = 100 * time.Millisecond

// sourceTask is one source subtask. One goroutine runs its loop: take the
// control inbox (a barrier trigger: Snapshot, then the barrier downstream,
// then the acknowledgement with the snapshot as its handle; a completed
// checkpoint: connector.CheckpointNotifier), emit the periodic watermark
// and idleness, then Poll the source with a deadline.
// Because Poll, Snapshot and Close all run on that goroutine, a barrier
// falls between two Poll calls and the snapshot holds exactly the
// positions of the data emitted before it, for every connector.
//
// A second, tiny goroutine (the waker) cancels the Poll in progress when a
// control message arrives, so a barrier does not wait for Poll's deadline.
type sourceTask struct {
	j   *Job
	n   *program.Node
	i   int
	src connector.Source
	out *output
	mb  *mailbox // control inbox only

	wake atomic.Pointer[context.CancelFunc] // the running Poll's cancel

	idle     bool // idle was sent and no data since
	lastData time.Time
	nextWM   time.Time // when the next watermark check is due

	// Watermark generation: max event time seen minus lateness.
	tsCol    int
	lateness int64
	seen     bool
	maxTS    int64
	// Per split (connector.SplitOutput; nil: the source emits without
	// splits): each split's largest event time, whether it has one, and
	// whether it is exhausted.
	splitMax             []int64
	splitSeen, splitDone []bool
	lastWM               int64
	// scripted: the source emits its own watermarks
	// (connector.WatermarkOutput); no periodic ones.
	scripted bool
}

func (j *Job) startSource(n *program.Node, i int, src connector.Source, out *output) {
	now := time.Now()
	s := &sourceTask{j: j, n: n, i: i, src: src, out: out, mb: j.inputs[n.ID][i],
		lastData: now, nextWM: now.Add(j.opts.WatermarkInterval),
		tsCol: n.Schema.Len() - 1, lateness: int64(program.DefaultLateness), lastWM: math.MinInt64}
	if w := n.Watermark; w != nil {
		s.tsCol, s.lateness = w.Column, int64(w.Lateness)
	}
	done := make(chan struct{})
	j.wg.Add(2)
	go func() {
		defer j.wg.Done()
		defer close(done)
		s.run()
	}()
	go func() {
		defer j.wg.Done()
		s.waker(done)
	}()
}

// waker cancels the running Poll whenever the control inbox is signalled.
func (s *sourceTask) waker(done <-chan struct{}) {
	for {
		select {
		case <-s.mb.notify:
			if c := s.wake.Load(); c != nil {
				(*c)()
			}
		case <-done:
			return
		}
	}
}

// run is the source loop; it closes the source when it returns.
func (s *sourceTask) run() {
	j, n := s.j, s.n
	defer func() {
		if c, ok := s.src.(connector.Closer); ok {
			if err := c.Close(); err != nil {
				j.failTask(n, s.i, fmt.Errorf("close: %w", err))
			}
		}
	}()
	defer j.recoverPanic(n, s.i)
	for {
		for {
			m, ok := s.mb.takeControl()
			if !ok {
				break
			}
			switch m.kind {
			case ctrlTrigger:
				if end := s.barrier(m.epoch, m.stop); end {
					if m.stop && j.ctx.Err() == nil {
						s.awaitDone(m.epoch)
					}
					return
				}
			case ctrlDone:
				if err := s.done(m.epoch); err != nil {
					s.fail(err)
					return
				}
			}
		}
		if j.ctx.Err() != nil {
			return
		}
		now := time.Now()
		if !now.Before(s.nextWM) {
			if err := s.tick(now); err != nil {
				s.fail(err)
				return
			}
			s.nextWM = now.Add(j.opts.WatermarkInterval)
		}
		deadline := now.Add(maxPoll)
		if s.nextWM.Before(deadline) {
			deadline = s.nextWM
		}
		if !s.idle && j.opts.IdleTimeout > 0 {
			if d := s.lastData.Add(j.opts.IdleTimeout); d.Before(deadline) {
				// Idleness is checked with the watermark.
				deadline, s.nextWM = d, d
			}
		}
		ctx, cancel := context.WithDeadline(j.ctx, deadline)
		s.wake.Store(&cancel)
		if s.mb.hasControl() {
			cancel() // arrived before the waker could see this Poll
		}
		err := s.src.Poll(ctx, (*sourceOut)(s))
		s.wake.Store(nil)
		cancel()
		switch {
		case errors.Is(err, io.EOF):
			s.endOfInput()
			return
		case err == nil:
		case j.ctx.Err() != nil:
			return
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			// The deadline, or a barrier waking Poll: not an error.
		default:
			s.fail(err)
			return
		}
	}
}

func (s *sourceTask) fail(err error) {
	if s.j.ctx.Err() == nil {
		s.j.failTask(s.n, s.i, err)
	}
}

// endOfInput sends the end of time, then end of stream.
func (s *sourceTask) endOfInput() {
	if err := s.out.send(message{kind: msgWatermark, watermark: math.MaxInt64}); err != nil {
		s.fail(err)
		return
	}
	if err := s.out.send(message{kind: msgEOS, reason: endOfInput}); err != nil {
		s.fail(err)
		return
	}
	s.j.coord.post(Event{Kind: EventFinished, Node: s.n.ID, Operator: s.n.Description, Subtask: s.i})
}

// barrier snapshots the source, sends the barrier of epoch downstream and
// acknowledges it with the split states as the handle; a stop barrier is
// followed by end of stream, and the loop ends (end is true).
func (s *sourceTask) barrier(epoch uint64, stop bool) (end bool) {
	snap, err := s.src.Snapshot(epoch)
	if err != nil {
		s.fail(fmt.Errorf("snapshot: %w", err))
		return true
	}
	if err := s.out.send(message{kind: msgBarrier, epoch: epoch, stop: stop}); err != nil {
		s.fail(err)
		return true
	}
	if stop {
		if err := s.out.send(message{kind: msgEOS, reason: stopped}); err != nil {
			s.fail(err)
			return true
		}
	}
	s.j.coord.post(Event{Kind: EventAck, Node: s.n.ID, Operator: s.n.Description, Subtask: s.i, Epoch: epoch, Snapshot: snap})
	return stop
}

// done tells a connector.CheckpointNotifier that checkpoint epoch is
// complete.
func (s *sourceTask) done(epoch uint64) error {
	n, ok := s.src.(connector.CheckpointNotifier)
	if !ok {
		return nil
	}
	if err := n.CheckpointDone(s.j.ctx, epoch); err != nil {
		return fmt.Errorf("commit checkpoint %d: %w", epoch, err)
	}
	return nil
}

// awaitDone keeps a stopped source that is a connector.CheckpointNotifier
// (it is not polled again) until the stop checkpoint stop is complete and
// notified, or the job ends. It waits the way Poll does: the waker cancels
// the wait when a control message arrives.
func (s *sourceTask) awaitDone(stop uint64) {
	if _, ok := s.src.(connector.CheckpointNotifier); !ok {
		return
	}
	j := s.j
	for {
		for {
			m, ok := s.mb.takeControl()
			if !ok {
				break
			}
			if m.kind != ctrlDone {
				continue // no trigger follows the stop barrier's
			}
			if err := s.done(m.epoch); err != nil {
				s.fail(err)
				return
			}
			if m.epoch >= stop {
				return
			}
		}
		ctx, cancel := context.WithCancel(j.ctx)
		s.wake.Store(&cancel)
		if s.mb.hasControl() {
			cancel()
		}
		<-ctx.Done()
		s.wake.Store(nil)
		cancel()
		if j.ctx.Err() != nil {
			return
		}
	}
}

// tick emits a watermark if event time advanced since the last one, and
// idleness once no data has been emitted for the idle timeout.
func (s *sourceTask) tick(now time.Time) error {
	if hi, ok := s.eventTime(); ok && !s.scripted {
		wm := hi - s.lateness
		if hi < math.MinInt64+s.lateness {
			wm = math.MinInt64
		}
		if wm > s.lastWM {
			s.lastWM = wm
			if err := s.out.send(message{kind: msgWatermark, watermark: wm}); err != nil {
				return err
			}
		}
	}
	if !s.idle && s.j.opts.IdleTimeout > 0 && now.Sub(s.lastData) >= s.j.opts.IdleTimeout {
		s.idle = true
		return s.out.send(message{kind: msgIdle})
	}
	return nil
}

// eventTime is the event time the watermark follows: the largest seen,
// or, for a source that emits per split, the least of its unfinished
// splits' largest (none until each has emitted). Once every split is done
// (a Kafka subtask whose partitions all went idle), nothing holds the
// source back: the largest event time seen, as without splits. Otherwise
// the watermark would depend on the order the splits went idle in: the
// last one alone would release the others' times, both at once nothing.
func (s *sourceTask) eventTime() (int64, bool) {
	if s.splitMax == nil {
		return s.maxTS, s.seen
	}
	hi, any, open := int64(math.MaxInt64), false, false
	for i, m := range s.splitMax {
		switch {
		case s.splitDone[i]:
		case !s.splitSeen[i]:
			return 0, false
		default:
			hi, any, open = min(hi, m), true, true
		}
	}
	if !open {
		return s.maxTS, s.seen
	}
	return hi, any
}

// sourceOut is the connector.SourceOutput of a source subtask.
type sourceOut sourceTask

var (
	_ connector.SplitOutput     = (*sourceOut)(nil)
	_ connector.WatermarkOutput = (*sourceOut)(nil)
)

// EmitWatermark implements connector.WatermarkOutput.
func (c *sourceOut) EmitWatermark(ts int64) error {
	s := (*sourceTask)(c)
	s.scripted = true
	if ts <= s.lastWM {
		return nil
	}
	s.lastWM = ts
	s.lastData, s.idle = time.Now(), false
	return s.out.send(message{kind: msgWatermark, watermark: ts})
}

// Idle implements connector.WatermarkOutput.
func (c *sourceOut) Idle() error {
	s := (*sourceTask)(c)
	if s.idle {
		return nil
	}
	s.idle = true
	return s.out.send(message{kind: msgIdle})
}

// DeclareSplits implements connector.SplitOutput.
func (c *sourceOut) DeclareSplits(n int) {
	s := (*sourceTask)(c)
	if n <= 0 {
		return
	}
	s.splitMax, s.splitSeen, s.splitDone = make([]int64, n), make([]bool, n), make([]bool, n)
}

// EmitSplit implements connector.SplitOutput.
func (c *sourceOut) EmitSplit(split int, b *coldata.Batch) error {
	s := (*sourceTask)(c)
	if split < 0 || split >= len(s.splitMax) {
		return fmt.Errorf("internal error: batch of split %d of %d declared", split, len(s.splitMax))
	}
	if b.Rows() == 0 {
		return nil
	}
	before, seen := s.maxTS, s.seen
	s.maxTS, s.seen = s.splitMax[split], s.splitSeen[split]
	s.observe(b)
	s.splitMax[split], s.splitSeen[split] = s.maxTS, s.seen
	s.maxTS, s.seen = max(before, s.maxTS), seen || s.seen
	s.lastData, s.idle = time.Now(), false
	return s.out.Collect(b)
}

// SplitDone implements connector.SplitOutput.
func (c *sourceOut) SplitDone(split int) {
	s := (*sourceTask)(c)
	if split >= 0 && split < len(s.splitDone) {
		s.splitDone[split] = true
	}
}

func (c *sourceOut) Counter(name string, n int64) {
	c.j.counter(c.n, c.i, name).Add(n)
}

// Emit hands b downstream.
func (c *sourceOut) Emit(b *coldata.Batch) error {
	s := (*sourceTask)(c)
	if b.Rows() == 0 {
		return nil
	}
	s.observe(b)
	s.lastData, s.idle = time.Now(), false
	// Collect counts the source's rows_out.
	return s.out.Collect(b)
}

// observe records the largest event time of b. It runs once per batch
// over one column: the hot loop has no call per row.
func (s *sourceTask) observe(b *coldata.Batch) {
	ts, ok := b.Cols[s.tsCol].(*coldata.Vec[int64])
	if !ok {
		return
	}
	hi, seen := s.maxTS, s.seen
	vals := ts.Vals[:b.Len]
	switch {
	case ts.N.Any():
		b.ForEach(func(i int) {
			if !ts.N.IsNull(i) && (!seen || vals[i] > hi) {
				hi, seen = vals[i], true
			}
		})
	case b.Sel != nil:
		for _, i := range b.Sel {
			if !seen || vals[i] > hi {
				hi, seen = vals[i], true
			}
		}
	default:
		if !seen && len(vals) > 0 {
			hi, seen = vals[0], true
		}
		for _, v := range vals {
			hi = max(hi, v)
		}
	}
	s.maxTS, s.seen = hi, seen
}
