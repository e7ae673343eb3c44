package runtime

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/program"
)

// sourceTask is one source subtask. Two goroutines share its output: the
// source's Run (through Emit) and a control loop that injects watermarks,
// idleness and barriers. A one-slot semaphore (a channel, so that tests
// under testing/synctest see a blocked holder as durably blocked) makes
// every injection fall between two Emit calls: the emit boundary.
//
// Until sources hand the runtime their loop (and their positions), a source
// contributes an empty snapshot to a checkpoint.
type sourceTask struct {
	j   *Job
	n   *program.Node
	i   int
	out *output
	mb  *mailbox // control inbox only

	ctx    context.Context // Run's; cancelled by Stop after the stop barrier
	cancel context.CancelFunc

	sem chan struct{} // the emit boundary; everything below is guarded by it

	stopped  bool // the stop barrier was sent: nothing more may be
	ended    bool // Run returned and end of stream was sent
	idle     bool // idle was sent and no data since
	lastData time.Time

	// Watermark generation: max event time seen minus lateness.
	tsCol    int
	lateness int64
	seen     bool
	maxTS    int64
	lastWM   int64
}

func (j *Job) startSource(n *program.Node, i int, src connector.Source, running *atomic.Int32, out *output) {
	s := &sourceTask{j: j, n: n, i: i, out: out, mb: j.inputs[n.ID][i], sem: make(chan struct{}, 1),
		lastData: time.Now(), tsCol: n.Schema.Len() - 1, lateness: int64(program.DefaultLateness), lastWM: math.MinInt64}
	if w := n.Watermark; w != nil {
		s.tsCol, s.lateness = w.Column, int64(w.Lateness)
	}
	s.ctx, s.cancel = context.WithCancel(j.ctx)
	done := make(chan struct{})
	j.wg.Add(2)
	go func() {
		defer j.wg.Done()
		defer close(done)
		s.run(src, running)
	}()
	go func() {
		defer j.wg.Done()
		s.controlLoop(done)
	}()
}

func (s *sourceTask) lock()   { s.sem <- struct{}{} }
func (s *sourceTask) unlock() { <-s.sem }

// run runs the source; running counts the node's subtasks still running,
// and the last one to exit closes the shared source.
func (s *sourceTask) run(src connector.Source, running *atomic.Int32) {
	j, n := s.j, s.n
	defer s.cancel()
	defer func() {
		if running.Add(-1) != 0 {
			return
		}
		if c, ok := src.(connector.Closer); ok {
			if err := c.Close(); err != nil {
				j.failTask(n, s.i, fmt.Errorf("close: %w", err))
			}
		}
	}()
	defer j.recoverPanic(n, s.i)
	err := src.Run((*sourceCtx)(s))
	s.lock()
	defer s.unlock()
	wasStopped := s.stopped
	s.ended = true
	if wasStopped {
		// Stop cancelled Run after the stop barrier: a normal end, whatever
		// Run made of the cancellation.
		return
	}
	if err != nil {
		j.failTask(n, s.i, err)
		return
	}
	if j.ctx.Err() != nil {
		return
	}
	// End of input: the end of time, then end of stream.
	if err := s.out.send(message{kind: msgWatermark, watermark: math.MaxInt64}); err != nil {
		j.failTask(n, s.i, err)
		return
	}
	if err := s.out.send(message{kind: msgEOS, reason: endOfInput}); err != nil {
		j.failTask(n, s.i, err)
		return
	}
	j.coord.post(Event{Kind: EventFinished, Node: n.ID, Operator: n.Description, Subtask: s.i})
}

// controlLoop handles the control inbox (barrier triggers) and the periodic
// watermark and idleness checks until Run has returned.
func (s *sourceTask) controlLoop(done <-chan struct{}) {
	tick := time.NewTicker(s.j.opts.WatermarkInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.mb.notify:
			for {
				m, ok := s.mb.takeControl()
				if !ok {
					break
				}
				if m.kind == ctrlTrigger {
					s.barrier(m.epoch, m.stop)
				}
			}
		case now := <-tick.C:
			s.tick(now)
		case <-done:
			return
		case <-s.j.ctx.Done():
			return
		}
	}
}

// barrier injects the barrier of epoch at the emit boundary and
// acknowledges it; a stop barrier is followed by end of stream, and Run is
// cancelled.
func (s *sourceTask) barrier(epoch uint64, stop bool) {
	s.lock()
	if s.stopped || s.ended {
		// Finished: the coordinator learns it from EventFinished.
		s.unlock()
		return
	}
	err := s.out.send(message{kind: msgBarrier, epoch: epoch, stop: stop})
	if err == nil && stop {
		s.stopped = true
		err = s.out.send(message{kind: msgEOS, reason: stopped})
	}
	s.unlock()
	if stop {
		s.cancel()
	}
	if err != nil {
		s.j.failTask(s.n, s.i, err)
		return
	}
	s.j.coord.post(Event{Kind: EventAck, Node: s.n.ID, Operator: s.n.Description, Subtask: s.i, Epoch: epoch})
}

// tick emits a watermark if event time advanced since the last one, and
// idleness once no data has been emitted for the idle timeout.
func (s *sourceTask) tick(now time.Time) {
	s.lock()
	defer s.unlock()
	if s.stopped || s.ended {
		return
	}
	var err error
	if s.seen {
		wm := s.maxTS - s.lateness
		if s.maxTS < math.MinInt64+s.lateness {
			wm = math.MinInt64
		}
		if wm > s.lastWM {
			s.lastWM = wm
			err = s.out.send(message{kind: msgWatermark, watermark: wm})
		}
	}
	if err == nil && !s.idle && s.j.opts.IdleTimeout > 0 && now.Sub(s.lastData) >= s.j.opts.IdleTimeout {
		s.idle = true
		err = s.out.send(message{kind: msgIdle})
	}
	if err != nil && s.j.ctx.Err() == nil {
		s.j.failTask(s.n, s.i, err)
	}
}

// sourceCtx is the connector.SourceContext of a source subtask.
type sourceCtx sourceTask

func (c *sourceCtx) Context() context.Context { return c.ctx }
func (c *sourceCtx) Subtask() int             { return c.i }
func (c *sourceCtx) Parallelism() int         { return c.n.Parallelism }
func (c *sourceCtx) Counter(name string, n int64) {
	c.j.counter(c.n, c.i, name).Add(n)
}

// Emit hands b downstream at the emit boundary. After the stop barrier it
// refuses: nothing may follow the barrier.
func (c *sourceCtx) Emit(b *coldata.Batch) error {
	s := (*sourceTask)(c)
	s.lock()
	defer s.unlock()
	if s.stopped {
		return context.Canceled
	}
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
