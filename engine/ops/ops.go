// Package ops holds the operators a dataflow program is made of and the
// small contract they share with the runtime.
//
// An operator is driven by one goroutine (one subtask). The runtime runs the
// protocol (per-sender queues, watermark minimum, barrier alignment, end of
// input versus stop); operators only react: Process for data, and optional
// capabilities found by type assertion (WatermarkHandler, Checkpointer,
// CheckpointNotifier, Finisher, Restorer, Closer). See docs/ARCHITECTURE.md, "Runtime
// protocol".
//
// It must not import engine/dataflow, sqlplan, connectors, controlplane, udf
// or cmd.
package ops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/memory"
	"github.com/arroyogo/arroyo/engine/program"
)

// Collector receives an operator's output.
type Collector interface {
	// Collect hands b downstream. b becomes immutable (see coldata): the
	// operator must not modify it afterwards. It blocks under backpressure
	// and returns an error only when the pipeline is shutting down.
	Collect(b *coldata.Batch) error
}

// TaskInfo describes the subtask an operator instance runs as.
type TaskInfo struct {
	JobID string
	// OperatorID identifies the node within the program. It is derived from
	// the node's index until the program carries stable operator ids.
	OperatorID string
	// Node is the node's index in the program; Description its label.
	Node        int
	Description string
	Subtask     int
	Parallelism int
	// KeyGroups is the half-open range [lo, hi) of key groups this subtask
	// owns: a keyed shuffle routes exactly those groups here.
	KeyGroups [2]int
	// MaxKeyGroups is the program's key-group count (state.KeyGroupOf).
	MaxKeyGroups int
	// Counter, when set, returns the subtask's counter metric called name
	// (e.g. "late_rows"), created on first use.
	Counter func(name string) *atomic.Int64
	// Functions resolves the functions the operator's expressions call:
	// the pipeline's scope of UDFs over the built-ins (nil: the built-ins).
	Functions *expr.Registry
	// Alloc is the allocator the subtask allocates vectors through,
	// charging Account, the subtask's memory account (under its job's,
	// under the process's). Nil: unaccounted (tests).
	Alloc   *coldata.Allocator
	Account *memory.Account
}

// counter returns the task's counter called name, or a private one when
// the task has no metrics.
func (t TaskInfo) counter(name string) *atomic.Int64 {
	if t.Counter == nil {
		return new(atomic.Int64)
	}
	return t.Counter(name)
}

// FuncTask is the task as the functions bound for it see it.
func (t TaskInfo) FuncTask() expr.TaskContext {
	return expr.TaskContext{JobID: t.JobID, OperatorID: t.OperatorID, Subtask: t.Subtask, Parallelism: t.Parallelism, Alloc: t.Alloc}
}

// Operator processes data batches. input is the index of the edge the batch
// arrived on, among the node's inputs in program order. b is immutable and
// may be retained.
type Operator interface {
	Process(ctx context.Context, input int, b *coldata.Batch, out Collector) error
}

// WatermarkHandler is implemented by operators that act on event time
// (windows, joins). OnWatermark is called when the subtask's watermark (the
// minimum over its active senders across all inputs) advances, with the new
// value in nanoseconds; the runtime forwards the watermark downstream after
// OnWatermark returns, so what it emits precedes the watermark.
// math.MaxInt64 means the end of time: every input has ended.
type WatermarkHandler interface {
	OnWatermark(ctx context.Context, watermark int64, out Collector) error
}

// Checkpointer is implemented by operators with state. Checkpoint is called
// once every input has delivered the barrier of epoch and before the barrier
// is forwarded: no batch after the barrier has been processed. What it emits
// precedes the barrier downstream. The returned value stands for the
// snapshot's handle and is sent to the coordinator with the acknowledgement;
// it is an in-memory value until checkpoints become durable.
type Checkpointer interface {
	Checkpoint(ctx context.Context, b Barrier, out Collector) (snapshot any, err error)
}

// Barrier identifies a checkpoint barrier.
type Barrier struct {
	Epoch uint64
	// Stop marks Stop's barrier, the last one: after it the subtask gets
	// no more data, no Finish, and exits once the checkpoint is complete.
	Stop bool
}

// CheckpointNotifier is implemented by operators with side effects to
// commit (two-phase-commit sinks). CheckpointDone is called when checkpoint
// epoch is complete (every subtask has acknowledged it), on the control
// path, never behind data. It must be idempotent.
type CheckpointNotifier interface {
	CheckpointDone(ctx context.Context, epoch uint64) error
}

// Finisher is implemented by operators that act at end of input (flush
// buffered rows, close windows). Finish is called once, after the last
// Process and after the final watermark, before end of stream is passed
// downstream; only when every input ended because its data was exhausted,
// never on Stop (a stopped job resumes from its checkpoint, and a Finish
// would emit partial results twice).
type Finisher interface {
	Finish(ctx context.Context, out Collector) error
}

// Ticker is implemented by operators that act on processing time (an
// updating aggregate flushing its changes every interval even while the
// watermark stands still). Tick is called about every TickInterval on the
// subtask's goroutine, through the control path (never behind data), and
// never after the stop barrier; ticks that fall while one is pending are
// dropped. What it emits goes downstream like Process's output.
type Ticker interface {
	TickInterval() time.Duration
	Tick(ctx context.Context, out Collector) error
}

// Closer is implemented by operators holding resources; Close is called
// exactly once when the subtask exits, whether it succeeded or not.
type Closer interface {
	Close() error
}

// Restorer is implemented by operators that take state from a checkpoint.
// When a job is restored, Restore is called once per subtask before the
// first message, with the snapshot handles (what Checkpoint returned) of
// the checkpoint's subtasks assigned to this one (old subtask k to new
// subtask k mod P; possibly none).
type Restorer interface {
	Restore(ctx context.Context, snapshots []any) error
}

// KeyedRestorer is implemented by operators with keyed state
// (engine/state), which is redistributed by key group on restore:
// RestoreKeyed is called once per subtask before the first message with
// the snapshot handles of every subtask of the restored checkpoint, and
// keeps the key groups the subtask owns. An operator implementing it is
// not given Restore.
type KeyedRestorer interface {
	RestoreKeyed(ctx context.Context, snapshots []any) error
}

// New builds the operator of a non-source node for one subtask. ctx is the
// job's: cancelling the job cancels a construction in progress (a UDF's
// Bind, e.g. a wasm module's start function), and Process passes the
// subtask's context to every bound function.
func New(ctx context.Context, n *program.Node, task TaskInfo) (Operator, error) {
	switch n.Op {
	case program.OpCalc:
		c, err := NewCalc(ctx, n.Calc, task)
		if err == nil {
			c.Changelog = n.Updating
		}
		return c, err
	case program.OpAggregate:
		return NewAggregate(n, task)
	case program.OpJoin:
		return NewJoin(n, task)
	case program.OpWindowFunc:
		return NewWindowFunc(n, task)
	case program.OpSink:
		c, ok := connector.Lookup(n.Sink.Connector)
		if !ok || c.NewSink == nil {
			return nil, fmt.Errorf("no sink connector %q", n.Sink.Connector)
		}
		// {{ENV}} templates are expanded here, on the worker, never in
		// the plan (program.ExpandEnv).
		t, err := program.ExpandEnv(n.Sink, os.LookupEnv)
		if err != nil {
			return nil, err
		}
		s, err := c.NewSink(t, connector.SinkTask{JobID: task.JobID, OperatorID: task.OperatorID, Subtask: task.Subtask, Parallelism: task.Parallelism})
		if err != nil {
			return nil, err
		}
		return &Sink{Sink: s, Task: task}, nil
	}
	return nil, fmt.Errorf("node %d: unsupported operator %q", n.ID, n.Op)
}

// Calc filters then projects (program.Calc). Its expressions are compiled
// for its subtask: functions that bind per task (UDF instances) are bound
// at construction, get the subtask's context in every call, and are closed
// by Close.
type Calc struct {
	comp    *expr.Compiler
	filters []expr.Filter
	proj    []expr.Evaluator
	// Changelog is set for a calc over an updating stream: its filters
	// keep the changelog consistent where they split an update pair
	// (changelog.go).
	Changelog bool
	// unnest is program.Calc.Unnest.
	unnest int
	kept   []bool // scratch of splitPairs
	// al is the task's allocator.
	al *coldata.Allocator
}

var (
	_ Operator = (*Calc)(nil)
	_ Closer   = (*Calc)(nil)
)

// NewCalc compiles c's expressions for task, resolving functions through
// task.Functions.
func NewCalc(ctx context.Context, c *program.Calc, task TaskInfo) (*Calc, error) {
	ft := task.FuncTask()
	op := &Calc{comp: &expr.Compiler{Registry: task.Functions, Task: &ft}, proj: make([]expr.Evaluator, len(c.Project)), unnest: c.Unnest, al: task.Alloc}
	fail := func(err error) (*Calc, error) {
		// Close what was bound before the error: nobody else will.
		if cerr := op.comp.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close functions: %w", cerr))
		}
		return nil, err
	}
	for _, e := range c.Filters {
		f, err := op.comp.CompileFilter(ctx, e)
		if err != nil {
			return fail(err)
		}
		op.filters = append(op.filters, f)
	}
	for i, e := range c.Project {
		ev, err := op.comp.Compile(ctx, e)
		if err != nil {
			return fail(err)
		}
		op.proj[i] = ev
	}
	return op, nil
}

// Process implements Operator.
func (c *Calc) Process(ctx context.Context, _ int, b *coldata.Batch, out Collector) error {
	if b.Rows() == 0 {
		// Without filters, nothing below would notice: never emit an empty
		// batch.
		return nil
	}
	in, narrowed := b, false
	for _, f := range c.filters {
		sel, err := f.Select(ctx, b)
		if err != nil {
			return err
		}
		if len(sel) == 0 {
			return nil
		}
		if len(sel) < b.Rows() {
			narrowed = true
		}
		if len(sel) < b.Len || b.Sel != nil {
			b = &coldata.Batch{Cols: b.Cols, Len: b.Len, Sel: sel}
		}
	}
	if narrowed && c.Changelog {
		var err error
		if b, err = c.splitPairs(in, b); err != nil {
			return err
		}
	}
	if narrowed && b.Sparse() {
		// A selective filter: the projection's dense kernels would compute
		// every physical row, and downstream operators would too. The
		// gather costs in proportion to the rows kept. (A sparse input
		// selection is passed through: the shuffle compacts what it
		// sends, so one arrives only from a hand-built program.)
		b = b.CompactWith(c.al)
	}
	cols := make([]coldata.Vector, len(c.proj))
	for i, ev := range c.proj {
		v, err := ev.Eval(ctx, b)
		if err != nil {
			return err
		}
		cols[i] = v
	}
	if c.unnest > 0 {
		return c.expand(&coldata.Batch{Cols: cols, Len: b.Len, Sel: b.Sel}, out)
	}
	return out.Collect(&coldata.Batch{Cols: cols, Len: b.Len, Sel: b.Sel})
}

// expand turns each live row of b into one row per element of its list
// column c.unnest-1 (UNNEST).
func (c *Calc) expand(b *coldata.Batch, out Collector) error {
	u := c.unnest - 1
	list := b.Cols[u].(*coldata.List)
	var rows, elems []int32
	b.ForEach(func(i int) {
		if list.IsNull(i) {
			return
		}
		for e := list.Offsets[i]; e < list.Offsets[i+1]; e++ {
			rows = append(rows, int32(i))
			elems = append(elems, e)
		}
	})
	if len(rows) == 0 {
		return nil
	}
	cols := make([]coldata.Vector, len(b.Cols))
	for i, v := range b.Cols {
		if i == u {
			cols[i] = c.al.Gather(list.Elems, elems)
		} else {
			cols[i] = c.al.Gather(v, rows)
		}
	}
	return out.Collect(coldata.NewBatch(cols, len(rows)))
}

// Close implements Closer: it closes the functions bound for the subtask.
func (c *Calc) Close() error { return c.comp.Close() }

// Sink adapts a connector.Sink to the operator contract.
//
// A connector.TwoPhaseSink pre-commits at every barrier (its bytes are the
// subtask's snapshot handle, a TwoPhaseState, with every epoch not yet
// committed), commits in CheckpointDone once the checkpoint is complete,
// and recovers on restore (Restore). At end of input, Finish commits what
// is still pending and then the sink's Finish commits the rest.
//
// Any other sink is flushed at a barrier (connector.Flusher), so what was
// written before it is visible. For it, Stop ends its stream as end of
// input does: what it was given before the stop barrier is all it will be
// given, and it is a consistent cut, so the sink's Finish (which commits,
// e.g. single_file's rename into place) runs at end of input and, after a
// stop, once the stop checkpoint is complete. Operators must not emit on
// Stop; a sink only commits what they emitted.
type Sink struct {
	Sink connector.Sink
	Task TaskInfo

	stopEpoch uint64 // the stop barrier's epoch, once seen
	stopped   bool
	finished  bool
	pending   TwoPhaseState // pre-committed, not yet committed
}

// TwoPhaseState is a two-phase-commit sink subtask's snapshot handle: the
// epochs it pre-committed and not yet committed, oldest first, and what
// PreCommit returned for each.
type TwoPhaseState struct {
	Epochs   []uint64
	Prepared [][]byte
}

var (
	_ Operator           = (*Sink)(nil)
	_ Finisher           = (*Sink)(nil)
	_ Checkpointer       = (*Sink)(nil)
	_ CheckpointNotifier = (*Sink)(nil)
	_ Restorer           = (*Sink)(nil)
	_ Closer             = (*Sink)(nil)
)

// Process implements Operator.
func (s *Sink) Process(ctx context.Context, _ int, b *coldata.Batch, _ Collector) error {
	if b.Rows() == 0 {
		return nil
	}
	return s.Sink.Write(ctx, b)
}

// Checkpoint implements Checkpointer: a two-phase-commit sink pre-commits
// (the handle is every epoch not yet committed); any other is flushed and
// contributes no state.
func (s *Sink) Checkpoint(ctx context.Context, b Barrier, _ Collector) (any, error) {
	if b.Stop {
		s.stopEpoch, s.stopped = b.Epoch, true
	}
	if tp, ok := s.Sink.(connector.TwoPhaseSink); ok {
		prep, err := tp.PreCommit(ctx, b.Epoch)
		if err != nil {
			return nil, fmt.Errorf("pre-commit epoch %d: %w", b.Epoch, err)
		}
		s.pending.Epochs = append(s.pending.Epochs, b.Epoch)
		s.pending.Prepared = append(s.pending.Prepared, prep)
		// The handle must not alias what later commits trim.
		return TwoPhaseState{Epochs: slices.Clone(s.pending.Epochs), Prepared: slices.Clone(s.pending.Prepared)}, nil
	}
	if f, ok := s.Sink.(connector.Flusher); ok {
		return nil, f.Flush(ctx)
	}
	return nil, nil
}

// CheckpointDone implements CheckpointNotifier. A two-phase-commit sink
// commits every pending epoch up to epoch. Any other sink commits (Finish)
// when the stop checkpoint is complete: its stream is over.
func (s *Sink) CheckpointDone(ctx context.Context, epoch uint64) error {
	if _, ok := s.Sink.(connector.TwoPhaseSink); ok {
		if err := s.commit(ctx, epoch); err != nil || !s.stopped || epoch != s.stopEpoch {
			return err
		}
		// The stop epoch is committed and nothing follows its pre-commit:
		// the stream is over, so the sink may publish (single_file renames
		// its file into place; a resumed run continues it).
		return s.Finish(ctx, nil)
	}
	if !s.stopped || epoch != s.stopEpoch {
		return nil
	}
	return s.Finish(ctx, nil)
}

// commit commits the pending epochs up to epoch.
func (s *Sink) commit(ctx context.Context, epoch uint64) error {
	k := 0
	for k < len(s.pending.Epochs) && s.pending.Epochs[k] <= epoch {
		k++
	}
	if k == 0 {
		return nil
	}
	tp := s.Sink.(connector.TwoPhaseSink)
	if err := tp.Commit(ctx, s.pending.Epochs[k-1], s.pending.Prepared[:k]); err != nil {
		return fmt.Errorf("commit epoch %d: %w", s.pending.Epochs[k-1], err)
	}
	s.pending.Epochs = slices.Delete(s.pending.Epochs, 0, k)
	s.pending.Prepared = slices.Delete(s.pending.Prepared, 0, k)
	return nil
}

// Restore implements Restorer: a two-phase-commit sink recovers with what
// the restored checkpoint's subtasks had pre-committed and not committed.
func (s *Sink) Restore(ctx context.Context, snapshots []any) error {
	tp, ok := s.Sink.(connector.TwoPhaseSink)
	if !ok {
		return nil
	}
	var restored [][]byte
	for _, h := range snapshots {
		st, ok := h.(TwoPhaseState)
		if !ok {
			return fmt.Errorf("snapshot is a %T, not a TwoPhaseState", h)
		}
		restored = append(restored, st.Prepared...)
	}
	return tp.Recover(ctx, restored)
}

// Finish implements Finisher. It calls the sink's Finish at most once; a
// two-phase-commit sink first commits its pending epochs (the job ends
// successfully: nothing will replay them).
func (s *Sink) Finish(ctx context.Context, _ Collector) error {
	if s.finished {
		return nil
	}
	s.finished = true
	if len(s.pending.Epochs) > 0 {
		if err := s.commit(ctx, s.pending.Epochs[len(s.pending.Epochs)-1]); err != nil {
			return err
		}
	}
	return s.Sink.Finish(ctx)
}

// Close implements Closer.
func (s *Sink) Close() error {
	if c, ok := s.Sink.(connector.Closer); ok {
		return c.Close()
	}
	return nil
}
