// Package ops holds the operators a dataflow program is made of and the
// small contract they share with the runtime.
//
// An operator is driven by one goroutine (one subtask). It receives batches,
// watermarks and end-of-stream from the runtime and emits batches through a
// Collector. Extra capabilities (Finish, Close, later Snapshot/Restore) are
// optional interfaces found by type assertion.
//
// It must not import engine/runtime, sqlplan, connectors, controlplane, udf
// or cmd.
package ops

import (
	"context"
	"fmt"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
)

// Collector receives an operator's output.
type Collector interface {
	// Collect hands b downstream. b becomes immutable (see coldata): the
	// operator must not modify it afterwards. It blocks under backpressure
	// and returns an error only when the pipeline is shutting down.
	Collect(b *coldata.Batch) error
}

// Operator processes data batches. b is immutable and may be retained.
type Operator interface {
	Process(ctx context.Context, b *coldata.Batch, out Collector) error
}

// Finisher is implemented by operators that act at end of stream (flush
// buffered rows, close windows). Finish is called once, after the last
// Process, before end of stream is passed downstream.
type Finisher interface {
	Finish(ctx context.Context, out Collector) error
}

// Closer is implemented by operators holding resources; Close is called
// exactly once when the subtask exits, whether it succeeded or not.
type Closer interface {
	Close() error
}

// New builds the operator of a non-source node.
func New(n *program.Node) (Operator, error) {
	switch n.Op {
	case program.OpCalc:
		return NewCalc(n.Calc)
	case program.OpSink:
		c, ok := connector.Lookup(n.Sink.Connector)
		if !ok || c.NewSink == nil {
			return nil, fmt.Errorf("no sink connector %q", n.Sink.Connector)
		}
		s, err := c.NewSink(n.Sink)
		if err != nil {
			return nil, err
		}
		return &Sink{Sink: s}, nil
	}
	return nil, fmt.Errorf("node %d: unsupported operator %q", n.ID, n.Op)
}

// Calc filters then projects (program.Calc).
type Calc struct {
	filters []expr.Filter
	proj    []expr.Evaluator
}

var _ Operator = (*Calc)(nil)

// NewCalc compiles c's expressions.
func NewCalc(c *program.Calc) (*Calc, error) {
	op := &Calc{proj: make([]expr.Evaluator, len(c.Project))}
	for _, e := range c.Filters {
		f, err := expr.CompileFilter(e)
		if err != nil {
			return nil, err
		}
		op.filters = append(op.filters, f)
	}
	for i, e := range c.Project {
		ev, err := expr.Compile(e)
		if err != nil {
			return nil, err
		}
		op.proj[i] = ev
	}
	return op, nil
}

// Process implements Operator.
func (c *Calc) Process(_ context.Context, b *coldata.Batch, out Collector) error {
	if b.Rows() == 0 {
		// Without filters, nothing below would notice: never emit an empty
		// batch.
		return nil
	}
	for _, f := range c.filters {
		sel, err := f.Select(b)
		if err != nil {
			return err
		}
		if len(sel) == 0 {
			return nil
		}
		if len(sel) < b.Len || b.Sel != nil {
			b = &coldata.Batch{Cols: b.Cols, Len: b.Len, Sel: sel}
		}
	}
	cols := make([]coldata.Vector, len(c.proj))
	for i, ev := range c.proj {
		v, err := ev.Eval(b)
		if err != nil {
			return err
		}
		cols[i] = v
	}
	return out.Collect(&coldata.Batch{Cols: cols, Len: b.Len, Sel: b.Sel})
}

// Sink adapts a connector.Sink to the operator contract.
type Sink struct {
	Sink connector.Sink
}

var (
	_ Operator = (*Sink)(nil)
	_ Finisher = (*Sink)(nil)
	_ Closer   = (*Sink)(nil)
)

// Process implements Operator.
func (s *Sink) Process(ctx context.Context, b *coldata.Batch, _ Collector) error {
	if b.Rows() == 0 {
		return nil
	}
	return s.Sink.Write(ctx, b)
}

// Finish implements Finisher.
func (s *Sink) Finish(ctx context.Context, _ Collector) error { return s.Sink.Finish(ctx) }

// Close implements Closer.
func (s *Sink) Close() error {
	if c, ok := s.Sink.(connector.Closer); ok {
		return c.Close()
	}
	return nil
}
