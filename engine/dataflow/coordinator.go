package dataflow

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// EventKind says what a subtask reports up.
type EventKind uint8

const (
	// EventAck: the subtask has taken its snapshot of checkpoint Epoch and
	// forwarded the barrier; Snapshot is its handle.
	EventAck EventKind = iota + 1
	// EventFailed: the subtask failed with Err (a *TaskError).
	EventFailed
	// EventFinished: the subtask reached end of input and exited.
	EventFinished
)

func (k EventKind) String() string {
	switch k {
	case EventAck:
		return "ack"
	case EventFailed:
		return "failed"
	case EventFinished:
		return "finished"
	}
	return "unknown"
}

// Event is a message from a subtask to the coordinator. Events are values
// (no pointers into the subtask), so a worker in another process can send
// them over the wire.
type Event struct {
	Kind     EventKind
	Node     int
	Operator string // the node's description
	Subtask  int
	Epoch    uint64
	// Snapshot is the handle of the subtask's snapshot (EventAck): an
	// in-memory value until checkpoints are durable. A source's is its
	// []connector.SplitState.
	Snapshot any
	Err      error
}

// CheckpointWriter makes checkpoints durable (Options.Durable).
type CheckpointWriter interface {
	// WriteCheckpoint stores a complete checkpoint and returns once it is
	// durable (a crash after it returns must restore this checkpoint).
	// Calls are sequential, one per checkpoint, in epoch order.
	WriteCheckpoint(ctx context.Context, c CompletedCheckpoint) error
}

// CompletedCheckpoint is a checkpoint every subtask has acknowledged.
type CompletedCheckpoint struct {
	JobID string
	Epoch uint64
	// Stop marks the final checkpoint of Stop.
	Stop bool
	// Started is when its barriers were triggered.
	Started  time.Time
	Snapshot Snapshot
}

// ErrCheckpointInProgress is returned by Checkpoint while another checkpoint
// is in flight: at most one is.
var ErrCheckpointInProgress = errors.New("a checkpoint is already in progress")

// ErrNoCheckpoint is returned by Checkpoint when no checkpoint can be taken:
// the job is stopping or ending, or every source has finished.
var ErrNoCheckpoint = errors.New("no checkpoint can be taken: the job is stopping or its sources have finished")

// Checkpoint triggers a checkpoint and returns its epoch once every subtask
// still running has acknowledged it (and been told it is complete). It fails
// with ErrCheckpointInProgress while another is in flight.
func (j *Job) Checkpoint(ctx context.Context) (uint64, error) {
	reply := make(chan checkpointResult, 1)
	if !j.coord.request(coordCheckpoint, reply) {
		return 0, ErrNoCheckpoint
	}
	select {
	case r := <-reply:
		return r.epoch, r.err
	case <-ctx.Done():
		return 0, context.Cause(ctx)
	}
}

type coordReqKind uint8

const (
	coordCheckpoint coordReqKind = iota + 1
	coordStop
)

type coordReq struct {
	kind  coordReqKind
	reply chan checkpointResult
}

type checkpointResult struct {
	epoch uint64
	snaps Snapshot
	err   error
}

// Snapshot is a complete checkpoint: per operator id (program.Node's
// OperatorID, stable across re-plans of the same SQL), the handle each
// subtask acknowledged it with (nil for a subtask that had finished). A source
// subtask's handle is its []connector.SplitState. Options.Restore starts a
// job from it.
type Snapshot map[string][]any

// CheckpointSnapshot is Checkpoint that also returns the checkpoint's
// snapshot handles.
func (j *Job) CheckpointSnapshot(ctx context.Context) (uint64, Snapshot, error) {
	reply := make(chan checkpointResult, 1)
	if !j.coord.request(coordCheckpoint, reply) {
		return 0, nil, ErrNoCheckpoint
	}
	select {
	case r := <-reply:
		return r.epoch, r.snaps, r.err
	case <-ctx.Done():
		return 0, nil, context.Cause(ctx)
	}
}

type taskKey struct{ node, subtask int }

// inflight is the checkpoint being taken.
type inflight struct {
	epoch     uint64
	stop      bool
	pending   map[taskKey]bool // subtasks yet to acknowledge
	snapshots map[taskKey]any
	reply     chan checkpointResult // nil for periodic and stop checkpoints
	started   time.Time
	writing   bool // every subtask acknowledged; Durable is writing it
}

// written is the outcome of a durable write.
type written struct {
	epoch uint64
	err   error
}

// coordinator is the in-memory checkpoint coordinator: it triggers barriers
// at the sources, collects acknowledgements, and tells every subtask when a
// checkpoint is complete. At most one checkpoint is in flight.
type coordinator struct {
	j      *Job
	events chan Event
	reqs   chan coordReq
	done   chan struct{} // closed when run returns
	writes chan written  // results of durable writes

	finished  map[taskKey]bool
	epoch     uint64 // the last epoch triggered
	cur       *inflight
	stopAsked bool // Stop was called
	stopSent  bool // the stop barrier was triggered
	// completed is the last complete checkpoint's epoch. Its snapshots
	// are not kept: the checkpoint store has them, and holding them here
	// kept the last checkpoint's state alive until the next completed.
	completed uint64
}

func newCoordinator(j *Job) *coordinator {
	tasks := 0
	for _, n := range j.prog.Nodes {
		tasks += n.Parallelism
	}
	return &coordinator{
		j: j,
		// Subtasks post a few events each over their life; the coordinator
		// drains continuously, so a post waits at most briefly.
		events:   make(chan Event, 4*tasks),
		reqs:     make(chan coordReq),
		done:     make(chan struct{}),
		writes:   make(chan written, 1),
		finished: map[taskKey]bool{},
		epoch:    j.opts.RestoreEpoch,
	}
}

// post reports ev up. It does not block once the coordinator has ended.
func (c *coordinator) post(ev Event) {
	select {
	case c.events <- ev:
	case <-c.done:
	}
}

// request hands a request to the coordinator; false if it has ended.
func (c *coordinator) request(kind coordReqKind, reply chan checkpointResult) bool {
	select {
	case c.reqs <- coordReq{kind: kind, reply: reply}:
		return true
	case <-c.done:
		return false
	}
}

// run is the coordinator's loop. It ends when every subtask has exited.
func (c *coordinator) run() {
	defer close(c.done)
	exited := make(chan struct{})
	go func() {
		c.j.wg.Wait()
		close(exited)
	}()
	var tick <-chan time.Time
	if iv := c.j.opts.CheckpointInterval; iv > 0 {
		t := time.NewTicker(iv)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case ev := <-c.events:
			c.handle(ev)
		case w := <-c.writes:
			c.onWritten(w)
		case r := <-c.reqs:
			switch r.kind {
			case coordCheckpoint:
				switch {
				case c.cur != nil:
					r.reply <- checkpointResult{err: ErrCheckpointInProgress}
				case c.stopAsked:
					r.reply <- checkpointResult{err: ErrNoCheckpoint}
				default:
					c.trigger(false, r.reply)
				}
			case coordStop:
				if !c.stopAsked {
					c.stopAsked = true
					c.maybeStop()
				}
			}
		case <-tick:
			if c.cur == nil && !c.stopAsked {
				c.trigger(false, nil)
			}
		case <-exited:
			// Every subtask has exited: handle what they posted, then end.
			for len(c.events) > 0 {
				c.handle(<-c.events)
			}
			if c.cur != nil && c.cur.writing {
				// Let the write end, so the checkpoint is either whole
				// or absent when the job is over.
				c.onWritten(<-c.writes)
			}
			if c.cur != nil && c.cur.reply != nil {
				err := context.Cause(c.j.ctx)
				if err == nil {
					err = ErrNoCheckpoint
				}
				c.cur.reply <- checkpointResult{err: err}
			}
			return
		}
	}
}

// maybeStop triggers the stop barrier once no other checkpoint is in flight.
func (c *coordinator) maybeStop() {
	if c.stopAsked && !c.stopSent && c.cur == nil {
		c.stopSent = true
		c.trigger(true, nil)
	}
}

// trigger starts checkpoint epoch+1 at every source subtask still running.
func (c *coordinator) trigger(stop bool, reply chan checkpointResult) {
	cp := &inflight{stop: stop, pending: map[taskKey]bool{}, snapshots: map[taskKey]any{}, reply: reply, started: time.Now()}
	sources := 0
	for _, n := range c.j.prog.Nodes {
		for i := range n.Parallelism {
			k := taskKey{n.ID, i}
			if c.finished[k] {
				continue
			}
			cp.pending[k] = true
			if n.Source != nil {
				sources++
			}
		}
	}
	if sources == 0 {
		// Nothing can carry a barrier; what still runs drains to its end.
		if reply != nil {
			reply <- checkpointResult{err: ErrNoCheckpoint}
		}
		return
	}
	c.epoch++
	cp.epoch = c.epoch
	c.cur = cp
	for _, n := range c.j.prog.Nodes {
		if n.Source == nil {
			continue
		}
		for i := range n.Parallelism {
			if cp.pending[taskKey{n.ID, i}] {
				c.j.inputs[n.ID][i].control(message{kind: ctrlTrigger, epoch: cp.epoch, stop: stop})
			}
		}
	}
}

func (c *coordinator) handle(ev Event) {
	if f := c.j.opts.OnEvent; f != nil {
		f(ev)
	}
	k := taskKey{ev.Node, ev.Subtask}
	switch ev.Kind {
	case EventAck:
		if c.cur == nil || ev.Epoch != c.cur.epoch || !c.cur.pending[k] {
			return
		}
		delete(c.cur.pending, k)
		c.cur.snapshots[k] = ev.Snapshot
	case EventFinished:
		// A subtask that reached end of input owes no acknowledgement: its
		// inputs are exhausted and it holds nothing more.
		c.finished[k] = true
		if c.cur != nil {
			delete(c.cur.pending, k)
		}
	case EventFailed:
		// The job is failing (the subtask cancelled it): the checkpoint in
		// flight will never complete.
		if c.cur != nil && c.cur.reply != nil {
			c.cur.reply <- checkpointResult{err: ev.Err}
			c.cur.reply = nil
		}
		return
	}
	if c.cur != nil && len(c.cur.pending) == 0 && !c.cur.writing {
		c.acknowledged()
	}
}

// acknowledged is called once every subtask has acknowledged the
// checkpoint in flight: it is complete, or, with Durable, complete once
// written.
func (c *coordinator) acknowledged() {
	cp := c.cur
	d := c.j.opts.Durable
	if d == nil {
		c.complete()
		return
	}
	cp.writing = true
	cc := CompletedCheckpoint{JobID: c.j.opts.JobID, Epoch: cp.epoch, Stop: cp.stop, Started: cp.started, Snapshot: c.snapshot(cp)}
	go func() {
		c.writes <- written{cp.epoch, d.WriteCheckpoint(c.j.ctx, cc)}
	}()
}

// onWritten handles the end of a durable write.
func (c *coordinator) onWritten(w written) {
	cp := c.cur
	if cp == nil || !cp.writing || cp.epoch != w.epoch {
		return
	}
	if w.err == nil {
		c.complete()
		return
	}
	c.cur = nil
	err := fmt.Errorf("checkpoint %d: %w", w.epoch, w.err)
	if cp.reply != nil {
		cp.reply <- checkpointResult{err: err}
	}
	if cp.stop {
		// Subtasks wait for the stop checkpoint to complete; it never will.
		c.j.fail(fmt.Errorf("stop: %w", err))
		return
	}
	c.maybeStop()
}

// snapshot arranges a checkpoint's handles per operator id and subtask.
func (c *coordinator) snapshot(cp *inflight) Snapshot {
	snaps := Snapshot{}
	for _, n := range c.j.prog.Nodes {
		snaps[n.OperatorID] = make([]any, n.Parallelism)
	}
	for k, h := range cp.snapshots {
		snaps[c.j.prog.Nodes[k.node].OperatorID][k.subtask] = h
	}
	return snaps
}

// complete records the checkpoint in flight as complete and tells every
// subtask still running, sources included (on its control inbox, never
// behind data).
func (c *coordinator) complete() {
	cp := c.cur
	c.cur = nil
	c.completed = cp.epoch
	for _, n := range c.j.prog.Nodes {
		for i := range n.Parallelism {
			if !c.finished[taskKey{n.ID, i}] {
				c.j.inputs[n.ID][i].control(message{kind: ctrlDone, epoch: cp.epoch})
			}
		}
	}
	if cp.reply != nil {
		cp.reply <- checkpointResult{epoch: cp.epoch, snaps: c.snapshot(cp)}
	}
	c.maybeStop()
}
