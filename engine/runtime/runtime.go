// Package runtime executes a dataflow program in this process: every
// operator subtask is a goroutine, joined to its neighbours by bounded
// channels (a full channel blocks the sender: backpressure). Forward edges
// connect subtask i to subtask i; shuffle edges hash-partition rows by key
// into key groups and key groups onto subtasks.
//
// Control messages (watermarks, checkpoint barriers, end of stream) travel
// on the same channels as data, in order, but as their own message kinds,
// never inside batches.
//
// The first error anywhere stops the whole job and is what Wait returns.
//
// It must not import sqlplan, connectors, controlplane, udf or cmd.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
)

// MaxKeyGroups is the number of key groups keys hash into. Subtask i of P
// owns key groups [i*MaxKeyGroups/P, (i+1)*MaxKeyGroups/P), so keyed state
// checkpointed at one parallelism can be restored at another.
const MaxKeyGroups = 128

type msgKind uint8

const (
	msgData msgKind = iota
	msgWatermark
	msgBarrier
	msgEOS
)

// message is what travels on a channel between subtasks.
type message struct {
	kind  msgKind
	input int // index of the receiving node's input edge
	batch *coldata.Batch
	// watermark is the event-time watermark (nanoseconds) for msgWatermark.
	watermark int64
	// epoch is the checkpoint epoch for msgBarrier.
	epoch uint64
}

// Options tune a job.
type Options struct {
	// QueueSize is the capacity, in messages, of each subtask's input
	// channel (default 16).
	QueueSize int
}

// Job is a running program.
type Job struct {
	prog *program.Program

	ctx    context.Context // cancelled on failure
	cancel context.CancelCauseFunc
	// stopCtx is cancelled to stop the sources gracefully (Stop) and on
	// failure.
	stopCtx  context.Context
	stopFunc context.CancelFunc

	wg      sync.WaitGroup
	errOnce sync.Once
	err     error

	inputs   [][]chan message // [node][subtask]
	counters sync.Map         // "node-description/name" -> *atomic.Int64
}

// Start validates p and starts all its subtasks. The job runs until every
// source has finished and all data has drained, until Stop, or until an
// error.
func Start(ctx context.Context, p *program.Program, opts Options) (*Job, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("invalid program: %w", err)
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 16
	}
	j := &Job{prog: p}
	j.ctx, j.cancel = context.WithCancelCause(ctx)
	j.stopCtx, j.stopFunc = context.WithCancel(j.ctx)

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
	j.inputs = make([][]chan message, len(p.Nodes))
	for _, n := range p.Nodes {
		j.inputs[n.ID] = make([]chan message, n.Parallelism)
		if n.Op == program.OpSource {
			// One source object per node: its subtasks share it (each
			// calls Run), so whatever it fixes at construction (a
			// generator's base time, an opened file) is the same for all.
			c, ok := connector.Lookup(n.Source.Connector)
			if !ok || c.NewSource == nil {
				return abort(fmt.Errorf("%s: no source connector %q", n.Description, n.Source.Connector))
			}
			s, err := c.NewSource(n.Source)
			if err != nil {
				return abort(fmt.Errorf("%s: %w", n.Description, err))
			}
			nodes[n.ID].src = append(nodes[n.ID].src, s)
			continue
		}
		for i := 0; i < n.Parallelism; i++ {
			op, err := ops.New(n)
			if err != nil {
				return abort(fmt.Errorf("%s: %w", n.Description, err))
			}
			nodes[n.ID].op = append(nodes[n.ID].op, op)
			j.inputs[n.ID][i] = make(chan message, opts.QueueSize)
		}
	}
	for _, n := range p.Nodes {
		var running *atomic.Int32
		if n.Op == program.OpSource {
			running = new(atomic.Int32)
			running.Store(int32(n.Parallelism))
		}
		for i := 0; i < n.Parallelism; i++ {
			out := j.newOutput(n, i)
			j.wg.Add(1)
			if n.Op == program.OpSource {
				go j.runSource(n, i, nodes[n.ID].src[0], running, out)
			} else {
				go j.runOperator(n, i, nodes[n.ID].op[i], out)
			}
		}
	}
	return j, nil
}

// Stop asks the sources to stop; the data already produced drains through
// the pipeline and the sinks finish normally. Wait then returns nil unless
// something failed.
func (j *Job) Stop() { j.stopFunc() }

// Cancel stops the job at once, without draining.
func (j *Job) Cancel() { j.fail(context.Canceled) }

// Wait blocks until every subtask has exited and returns the first error.
func (j *Job) Wait() error {
	j.wg.Wait()
	// Every subtask has exited: the result is final. Completing errOnce
	// makes a later Cancel a no-op, and orders j.err's write (by a Cancel
	// racing with the end of the job) before the read below.
	j.errOnce.Do(func() {})
	j.cancel(nil)
	return j.err
}

// Counters returns the job's metrics, "operator/name" -> value, summed over
// subtasks.
func (j *Job) Counters() map[string]int64 {
	out := map[string]int64{}
	j.counters.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// CounterNames returns the names of the counters with nonzero values, sorted.
func (j *Job) CounterNames() []string {
	var out []string
	for k, v := range j.Counters() {
		if v != 0 {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (j *Job) counter(n *program.Node, name string) *atomic.Int64 {
	key := n.Description + "/" + name
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

// subtaskError labels an error with the operator it came from, unless it
// already is the job's cancellation or names its place in the SQL file (an
// expression's error), which says more than the operator's name.
func (j *Job) subtaskError(n *program.Node, err error) error {
	if j.ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return err
	}
	if ee := (*expr.Error)(nil); errors.As(err, &ee) && ee.Pos != nil {
		return err
	}
	if strings.HasPrefix(err.Error(), n.Description+": ") {
		return err
	}
	return fmt.Errorf("%s: %w", n.Description, err)
}

type sourceCtx struct {
	j       *Job
	n       *program.Node
	subtask int
	out     *output
}

func (s *sourceCtx) Context() context.Context { return s.j.stopCtx }
func (s *sourceCtx) Subtask() int             { return s.subtask }
func (s *sourceCtx) Parallelism() int         { return s.n.Parallelism }
func (s *sourceCtx) Emit(b *coldata.Batch) error {
	// Collect skips empty batches and counts the source's rows_out.
	return s.out.Collect(b)
}
func (s *sourceCtx) Counter(name string, n int64) { s.j.counter(s.n, name).Add(n) }

// runSource runs subtask i of a source node; running counts the node's
// subtasks still running, and the last one to exit closes the shared source.
func (j *Job) runSource(n *program.Node, i int, src connector.Source, running *atomic.Int32, out *output) {
	defer j.wg.Done()
	defer func() {
		if running.Add(-1) != 0 {
			return
		}
		if c, ok := src.(connector.Closer); ok {
			if err := c.Close(); err != nil {
				j.fail(j.subtaskError(n, fmt.Errorf("close: %w", err)))
			}
		}
	}()
	defer j.recoverPanic(n)
	err := src.Run(&sourceCtx{j: j, n: n, subtask: i, out: out})
	if err != nil && !(errors.Is(err, context.Canceled) && j.ctx.Err() == nil) {
		// A cancellation caused by Stop is a normal end; anything else
		// fails the job.
		j.fail(j.subtaskError(n, err))
		return
	}
	if j.ctx.Err() != nil {
		return
	}
	if err := out.send(message{kind: msgEOS}); err != nil {
		j.fail(j.subtaskError(n, err))
	}
}

func (j *Job) runOperator(n *program.Node, i int, op ops.Operator, out *output) {
	defer j.wg.Done()
	if c, ok := op.(ops.Closer); ok {
		defer func() {
			if err := c.Close(); err != nil {
				j.fail(j.subtaskError(n, fmt.Errorf("close: %w", err)))
			}
		}()
	}
	defer j.recoverPanic(n)
	if err := j.operatorLoop(n, i, op, out); err != nil {
		j.fail(j.subtaskError(n, err))
	}
}

// recoverPanic turns a panic in a subtask (a bug in an operator, kernel or
// connector) into the job's error, so it fails this job, labelled with the
// operator and with the stack for the bug report, instead of the process.
func (j *Job) recoverPanic(n *program.Node) {
	if r := recover(); r != nil {
		j.fail(fmt.Errorf("%s: internal error: panic: %v\n%s", n.Description, r, debug.Stack()))
	}
}

func (j *Job) operatorLoop(n *program.Node, i int, op ops.Operator, out *output) error {
	in := j.inputs[n.ID][i]
	senders := 0
	for _, e := range j.prog.Inputs(n.ID) {
		if e.Kind == program.Forward {
			senders++
		} else {
			senders += j.prog.Nodes[e.From].Parallelism
		}
	}
	rowsIn := j.counter(n, "rows_in")
	for senders > 0 {
		var m message
		select {
		case m = <-in:
		case <-j.ctx.Done():
			return context.Cause(j.ctx)
		}
		if j.ctx.Err() != nil {
			// Both cases were ready and select chose the input: a failed or
			// cancelled job must not process, nor finish (flush, commit),
			// anything more.
			return context.Cause(j.ctx)
		}
		switch m.kind {
		case msgData:
			rowsIn.Add(int64(m.batch.Rows()))
			if err := op.Process(j.ctx, m.batch, out); err != nil {
				return err
			}
		case msgEOS:
			senders--
		case msgWatermark, msgBarrier:
			// Filled in by the watermark and checkpoint work: operators
			// without time or state forward nothing yet.
		}
	}
	if f, ok := op.(ops.Finisher); ok {
		if err := f.Finish(j.ctx, out); err != nil {
			return err
		}
	}
	return out.send(message{kind: msgEOS})
}
