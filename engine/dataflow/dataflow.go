// Package dataflow executes a dataflow program in this process: every
// operator subtask is a goroutine. A subtask's input is a mailbox with one
// bounded queue per (input, sender) (a full queue blocks that sender only:
// backpressure, and credit-based flow control once a network stream feeds a
// queue) and a control inbox that never waits behind data. Forward edges
// connect subtask i to subtask i; shuffle edges hash-partition rows by key
// into key groups and key groups onto subtasks, with engine/state's
// KeyGroupOf and SubtaskOf: subtask s receives exactly the groups of
// state.KeyGroupRange(s, P, program.MaxKeyGroups), where its keyed state lives.
//
// Watermarks, idleness, checkpoint barriers and end of stream travel in the
// senders' queues as their own message kinds, never inside batches; the
// runtime tracks them per sender (watermark minimum, barrier alignment) and
// operators only react (see engine/ops and docs/ARCHITECTURE.md, "Runtime
// protocol"). Subtasks report events (acknowledgements, failures, finish) up
// to an in-memory checkpoint coordinator.
//
// The first error anywhere stops the whole job and is what Wait returns.
//
// It must not import sqlplan, connectors, controlplane, udf or cmd.
package dataflow

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/memory"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
)

type msgKind uint8

const (
	// Data path (a sender's queue), in order per sender.
	msgData      msgKind = iota
	msgWatermark         // watermark: the sender will send nothing older
	msgIdle              // the sender has nothing to send for now
	msgBarrier           // checkpoint barrier epoch (stop: the last one)
	msgEOS               // end of stream, with its reason

	// Control path (the control inbox), never behind data.
	ctrlTrigger // sources: inject barrier epoch (stop: the final one)
	ctrlDone    // checkpoint epoch is complete: notify
	ctrlTick    // processing time passed: ops.Ticker
)

// eosReason says why a stream ended.
type eosReason uint8

const (
	// endOfInput: the bounded sources upstream are exhausted; the receiver
	// finishes (final watermark, Finish) once all its inputs have ended.
	endOfInput eosReason = iota + 1
	// stopped: the stream ended after a stop barrier; the receiver has
	// checkpointed and exits without Finish.
	stopped
)

// message is what travels in a mailbox. The sender is implied by the ring
// it is in.
type message struct {
	kind  msgKind
	batch *coldata.Batch
	// watermark is the event-time watermark (nanoseconds) for msgWatermark.
	watermark int64
	// epoch is the checkpoint epoch of a barrier or a control message;
	// stop marks the barrier (or trigger) of Stop.
	epoch  uint64
	stop   bool
	reason eosReason
}

// Options tune a job.
type Options struct {
	// QueueSize is the capacity, in messages, of each (input, sender) queue
	// of a subtask (default 16). A subtask's input memory is bounded by
	// QueueSize times its number of senders, alignment included.
	QueueSize int
	// WatermarkInterval is how often sources emit a watermark when event
	// time has advanced (default 200ms).
	WatermarkInterval time.Duration
	// IdleTimeout is how long a source subtask emits nothing before it
	// declares itself idle, so it stops holding back the watermark of the
	// operators it feeds (default 5 minutes; negative: never).
	IdleTimeout time.Duration
	// CheckpointInterval, if positive, triggers a checkpoint that often
	// (skipped while one is in flight).
	CheckpointInterval time.Duration
	// JobID identifies the job to its operators (default: the program's
	// name).
	JobID string
	// Functions resolves the functions the program's expressions call:
	// the pipeline's UDF scope over the built-ins (default the built-ins).
	// Every operator subtask binds its own instances from it.
	Functions *expr.Registry
	// Memory is the account the job's account rolls up to (default
	// memory.Process). Each operator subtask allocates through an
	// allocator charging its own account under the job's, reported as the
	// subtask's memory_bytes (live) and allocated_bytes metrics.
	Memory *memory.Account
	// Restore, if set, starts the job from a complete checkpoint's
	// snapshots (CheckpointSnapshot): per operator id, the handles its subtasks
	// acknowledged, at whatever parallelism the checkpoint was taken.
	// Source split states are reassigned round-robin over the new subtasks
	// (connector.AssignSplits); a source node absent from it has no split
	// left (its subtasks had finished). Old subtask k's handle of any
	// other node goes to new subtask k mod P (ops.Restorer).
	Restore Snapshot
	// RestoreEpoch is the epoch of the checkpoint Restore holds: the job's
	// first checkpoint is RestoreEpoch+1, so epochs keep increasing across
	// restores (two-phase sinks and checkpoint directories are keyed by
	// them).
	RestoreEpoch uint64
	// Durable, if set, makes checkpoints durable. Once every subtask has
	// acknowledged checkpoint n, the coordinator hands its handles to
	// Durable.WriteCheckpoint on a goroutine of its own (subtasks keep
	// processing meanwhile: their handles are copies) and tells them the
	// checkpoint is complete (done(n): two-phase sinks commit) only once
	// it has returned nil. An error fails that checkpoint, not the job: the
	// previous checkpoint stays the last complete one and what sinks
	// pre-committed waits for the next. A stop checkpoint that cannot be
	// written fails the job (it could not resume).
	Durable CheckpointWriter
	// OnEvent, if set, receives every event subtasks report to the
	// coordinator, in the order the coordinator handles them, on its
	// goroutine (it must not block for long).
	OnEvent func(Event)
}

const (
	defaultQueueSize         = 16
	defaultWatermarkInterval = 200 * time.Millisecond
	defaultIdleTimeout       = 5 * time.Minute
)

// slotInfo says which input and which upstream subtask a mailbox ring
// belongs to.
type slotInfo struct{ input, sender int }

// Job is a running program.
type Job struct {
	prog *program.Program
	opts Options
	mem  *memory.Account // the job's account

	ctx    context.Context // cancelled on failure, and when the job ends
	cancel context.CancelCauseFunc

	wg      sync.WaitGroup
	errOnce sync.Once
	err     error

	inputs [][]*mailbox // [node][subtask]; a source's has only its control inbox
	slots  [][]slotInfo // [node][ring]
	bases  map[*program.Edge]int
	coord  *coordinator

	counters sync.Map // MetricKey -> *atomic.Int64
}

// Start validates p and starts all its subtasks. The job runs until every
// source has finished and all data has drained, until Stop, or until an
// error. Cancelling ctx cancels the job.
func Start(ctx context.Context, p *program.Program, opts Options) (*Job, error) {
	return start(ctx, p, opts, ops.New)
}

// start is Start with the constructor of non-source operators as a
// parameter (tests substitute probes).
func start(ctx context.Context, p *program.Program, opts Options, newOp func(context.Context, *program.Node, ops.TaskInfo) (ops.Operator, error)) (*Job, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("invalid program: %w", err)
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = defaultQueueSize
	}
	if opts.WatermarkInterval <= 0 {
		opts.WatermarkInterval = defaultWatermarkInterval
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = defaultIdleTimeout
	}
	if opts.JobID == "" {
		opts.JobID = p.Name
	}
	j := &Job{prog: p, opts: opts, bases: map[*program.Edge]int{}}
	if j.mem = opts.Memory; j.mem == nil {
		j.mem = memory.Process
	}
	j.mem = j.mem.Child(opts.JobID)
	j.ctx, j.cancel = context.WithCancelCause(ctx)

	// Build every operator before starting anything, so a configuration
	// error fails the job before any side effect.
	type built struct {
		src []connector.Source
		op  []ops.Operator
	}
	nodes := make([]built, len(p.Nodes))
	// abort closes whatever Start had built (Close is owed to every source
	// and operator constructed, even if it never runs) and cancels the job.
	abort := func(err error) (*Job, error) {
		errs := []error{err}
		for id, b := range nodes {
			for _, s := range b.src {
				if c, ok := s.(connector.Closer); ok {
					if cerr := c.Close(); cerr != nil {
						errs = append(errs, fmt.Errorf("%s: close: %w", p.Nodes[id].Description, cerr))
					}
				}
			}
			for _, op := range b.op {
				if c, ok := op.(ops.Closer); ok {
					if cerr := c.Close(); cerr != nil {
						errs = append(errs, fmt.Errorf("%s: close: %w", p.Nodes[id].Description, cerr))
					}
				}
			}
		}
		if len(errs) > 1 {
			err = errors.Join(errs...)
		}
		j.cancel(err)
		return nil, err
	}
	j.inputs = make([][]*mailbox, len(p.Nodes))
	j.slots = make([][]slotInfo, len(p.Nodes))
	for _, n := range p.Nodes {
		// Rings in input-slot order; an operator is told the edge's
		// explicit slot (Validate: 0..k-1, one edge each).
		ins := p.Inputs(n.ID)
		slices.SortFunc(ins, func(a, b *program.Edge) int { return a.Input - b.Input })
		for _, e := range ins {
			j.bases[e] = len(j.slots[n.ID])
			senders := 1
			if e.Kind != program.Forward {
				senders = p.Nodes[e.From].Parallelism
			}
			for s := range senders {
				j.slots[n.ID] = append(j.slots[n.ID], slotInfo{input: e.Input, sender: s})
			}
		}
		j.inputs[n.ID] = make([]*mailbox, n.Parallelism)
		for i := range n.Parallelism {
			j.inputs[n.ID][i] = newMailbox(len(j.slots[n.ID]), opts.QueueSize)
		}
		if n.Op == program.OpSource {
			// One source per subtask, owning its share of the splits.
			c, ok := connector.Lookup(n.Source.Connector)
			if !ok || c.NewSource == nil {
				return abort(fmt.Errorf("%s: no source connector %q", n.Description, n.Source.Connector))
			}
			// {{ENV}} templates are expanded here, on the worker, never
			// in the plan (program.ExpandEnv).
			t, err := program.ExpandEnv(n.Source, os.LookupEnv)
			if err != nil {
				return abort(fmt.Errorf("%s: %w", n.Description, err))
			}
			states, err := j.splitStates(ctx, c, n, t)
			if err != nil {
				return abort(fmt.Errorf("%s: %w", n.Description, err))
			}
			for i, own := range connector.AssignSplits(states, n.Parallelism) {
				s, err := c.NewSource(t, j.sourceTask(n, i), own)
				if err != nil {
					return abort(fmt.Errorf("%s: %w", n.Description, err))
				}
				nodes[n.ID].src = append(nodes[n.ID].src, s)
			}
			continue
		}
		for i := 0; i < n.Parallelism; i++ {
			op, err := newOp(j.ctx, n, j.task(n, i))
			if err != nil {
				return abort(fmt.Errorf("%s: %w", n.Description, err))
			}
			nodes[n.ID].op = append(nodes[n.ID].op, op)
		}
	}
	if opts.Restore != nil {
		for _, n := range p.Nodes {
			for i, op := range nodes[n.ID].op {
				if r, ok := op.(ops.KeyedRestorer); ok {
					var all []any
					for _, h := range opts.Restore[n.OperatorID] {
						if h != nil {
							all = append(all, h)
						}
					}
					if err := r.RestoreKeyed(j.ctx, all); err != nil {
						return abort(fmt.Errorf("%s: restore: %w", n.Description, err))
					}
					continue
				}
				r, ok := op.(ops.Restorer)
				if !ok {
					continue
				}
				var mine []any
				for k, h := range opts.Restore[n.OperatorID] {
					if k%n.Parallelism == i && h != nil {
						mine = append(mine, h)
					}
				}
				if err := r.Restore(j.ctx, mine); err != nil {
					return abort(fmt.Errorf("%s: restore: %w", n.Description, err))
				}
			}
		}
	}
	j.coord = newCoordinator(j)
	for _, n := range p.Nodes {
		for i := 0; i < n.Parallelism; i++ {
			out := j.newOutput(n, i)
			if n.Op == program.OpSource {
				j.startSource(n, i, nodes[n.ID].src[i], out)
			} else {
				j.wg.Add(1)
				go j.runOperator(n, i, nodes[n.ID].op[i], out)
			}
		}
	}
	go j.coord.run()
	return j, nil
}

// splitStates returns the split states of source node n: the restored
// ones, or, for a fresh start, the connector's splits from their start.
func (j *Job) splitStates(ctx context.Context, c *connector.Connector, n *program.Node, t *connector.Table) ([]connector.SplitState, error) {
	if j.opts.Restore != nil {
		var out []connector.SplitState
		for k, h := range j.opts.Restore[n.OperatorID] {
			if h == nil {
				continue
			}
			ss, ok := h.([]connector.SplitState)
			if !ok {
				return nil, fmt.Errorf("restore: subtask %d's snapshot is a %T, not split states", k, h)
			}
			out = append(out, ss...)
		}
		return out, nil
	}
	if c.Splits == nil {
		return []connector.SplitState{{}}, nil
	}
	names, err := c.Splits(ctx, t, n.Parallelism)
	if err != nil {
		return nil, err
	}
	out := make([]connector.SplitState, len(names))
	for k, name := range names {
		out[k].Split = name
	}
	return out, nil
}

func (j *Job) sourceTask(n *program.Node, i int) connector.SourceTask {
	return connector.SourceTask{JobID: j.opts.JobID, OperatorID: n.OperatorID, Subtask: i, Parallelism: n.Parallelism}
}

// task describes subtask i of n to its operator.
func (j *Job) task(n *program.Node, i int) ops.TaskInfo {
	lo, hi := state.KeyGroupRange(i, n.Parallelism, keyGroups(j.prog))
	acct := j.mem.ChildWith(fmt.Sprintf("%s/%d", n.OperatorID, i), j.counter(n, i, "memory_bytes"), j.counter(n, i, "allocated_bytes"))
	return ops.TaskInfo{
		Alloc:        coldata.NewAllocator(acct),
		Account:      acct,
		JobID:        j.opts.JobID,
		OperatorID:   n.OperatorID,
		Node:         n.ID,
		Description:  n.Description,
		Subtask:      i,
		Parallelism:  n.Parallelism,
		KeyGroups:    [2]int{lo, hi},
		MaxKeyGroups: keyGroups(j.prog),
		Counter:      func(name string) *atomic.Int64 { return j.counter(n, i, name) },
		Functions:    j.opts.Functions,
	}
}

// slotOf returns the ring that subtask sender of e.From writes into in
// every mailbox of e.To.
func (j *Job) slotOf(e *program.Edge, sender int) int {
	if e.Kind == program.Forward {
		return j.bases[e]
	}
	return j.bases[e] + sender
}

// Stop stops the job at a consistent point: a final checkpoint barrier,
// marked stop, is injected at every source (after the checkpoint in flight,
// if any); sources emit nothing after it; every operator snapshots at it
// and exits without Finish, so no partial result is emitted and a resumed
// run would emit nothing twice. Sinks are flushed (connector.Flusher) at the
// barrier and closed, not finished. Sources that have already finished are
// unaffected. Wait then returns nil unless something failed. Stop does not
// wait.
func (j *Job) Stop() { j.coord.request(coordStop, nil) }

// Cancel stops the job at once, without draining or checkpointing.
func (j *Job) Cancel() { j.fail(context.Canceled) }

// Wait blocks until every subtask has exited and returns the first error.
func (j *Job) Wait() error {
	j.wg.Wait()
	<-j.coord.done
	// Every subtask has exited: the result is final. Completing errOnce
	// makes a later Cancel a no-op, and orders j.err's write (by a Cancel
	// racing with the end of the job) before the read below.
	j.errOnce.Do(func() {})
	j.cancel(nil)
	return j.err
}

// MetricKey identifies one metric of one operator subtask. Two operators
// with the same description (two calcs) are told apart by Node; subtasks by
// Subtask.
//
// Operator is the node's description for now; once the program carries a
// stable operator id per node, Operator becomes that id (state is keyed by
// it too) and the description moves to a label.
type MetricKey struct {
	Node       int
	OperatorID string // Node.OperatorID: stable across re-plans
	Operator   string // the node's description, for people
	Subtask    int
	Name       string
}

// String formats k for people: "operator[subtask]/name".
func (k MetricKey) String() string {
	return fmt.Sprintf("%s[%d]/%s", k.Operator, k.Subtask, k.Name)
}

// Counters returns the job's metrics, one value per (node, subtask, name).
// A counter exists once its subtask has started, even if it is still zero.
func (j *Job) Counters() map[MetricKey]int64 {
	out := map[MetricKey]int64{}
	j.counters.Range(func(k, v any) bool {
		out[k.(MetricKey)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// counter returns subtask i of n's counter name, creating it at zero.
func (j *Job) counter(n *program.Node, i int, name string) *atomic.Int64 {
	key := MetricKey{Node: n.ID, OperatorID: n.OperatorID, Operator: n.Description, Subtask: i, Name: name}
	if c, ok := j.counters.Load(key); ok {
		return c.(*atomic.Int64)
	}
	c, _ := j.counters.LoadOrStore(key, new(atomic.Int64))
	return c.(*atomic.Int64)
}

func (j *Job) fail(err error) {
	j.errOnce.Do(func() {
		j.err = err
		j.cancel(err)
	})
}

// TaskError is the error of one subtask: which operator, which subtask,
// what went wrong. It is what Wait returns when a subtask failed, and what
// the coordinator receives in an EventFailed.
type TaskError struct {
	Node     int
	Operator string // the node's description
	Subtask  int
	Err      error
	// Retriable says whether running the subtask again (restarting the job
	// from its last checkpoint) can help: Retriable(Err) when the runtime
	// built the error. The controller's Recovering state is for these; a
	// job whose error is not retriable goes to Failed.
	Retriable bool
}

// Error labels Err with the operator, unless Err already names its place in
// the SQL file (an expression's error), which says more, or already starts
// with the operator's name.
func (e *TaskError) Error() string {
	msg := e.Err.Error()
	if ee := (*expr.Error)(nil); errors.As(e.Err, &ee) && ee.Pos != nil {
		return msg
	}
	if strings.HasPrefix(msg, e.Operator+": ") {
		return msg
	}
	return e.Operator + ": " + msg
}

func (e *TaskError) Unwrap() error { return e.Err }

// TaskFailure describes the failure for a controller that does not import
// the runtime: which operator and subtask, what went wrong, and whether a
// restart from the last checkpoint can help.
func (e *TaskError) TaskFailure() (operator string, subtask int, message string, retriable bool) {
	return e.Operator, e.Subtask, e.Err.Error(), e.Retriable
}

// Retriable classifies an error by whether a retry can help. An error that
// says so itself (a method Retriable() bool anywhere in its chain: a
// connector knows whether its broker was unreachable or its credentials
// were refused) decides. Otherwise timeouts (a context deadline, an I/O
// deadline, a network timeout) and a cancellation that was not the job's
// own are retriable: the world may be different next time. Everything else
// is not: an expression error, a bad record, a bad plan or an internal
// error (a panic) fails the same way again on the same input.
func Retriable(err error) bool {
	if err == nil {
		return false
	}
	var r interface{ Retriable() bool }
	if errors.As(err, &r) {
		return r.Retriable()
	}
	if ee := (*expr.Error)(nil); errors.As(err, &ee) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var timeout interface{ Timeout() bool }
	return errors.As(err, &timeout) && timeout.Timeout()
}

// failTask fails the job with subtask i of n's error (unless it is merely
// the job's own cancellation seen by that subtask) and reports it up.
func (j *Job) failTask(n *program.Node, i int, err error) {
	if j.ctx.Err() != nil {
		if cause := context.Cause(j.ctx); errors.Is(err, context.Canceled) || errors.Is(err, cause) {
			// The job is already ending and this subtask merely saw it.
			j.fail(err)
			return
		}
	}
	te := &TaskError{Node: n.ID, Operator: n.Description, Subtask: i, Err: err, Retriable: Retriable(err)}
	j.fail(te)
	j.coord.post(Event{Kind: EventFailed, Node: n.ID, Operator: n.Description, Subtask: i, Err: te})
}

// recoverPanic turns a panic in a subtask (a bug in an operator, kernel or
// connector) into the job's error, so it fails this job, labelled with the
// operator and with the stack for the bug report, instead of the process.
func (j *Job) recoverPanic(n *program.Node, i int) {
	if r := recover(); r != nil {
		j.failTask(n, i, fmt.Errorf("internal error: panic: %v\n%s", r, debug.Stack()))
	}
}
