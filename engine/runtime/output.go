package runtime

import (
	"context"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
)

// output routes one subtask's messages to its downstream subtasks, one
// edgeOut per output edge. It implements ops.Collector.
type output struct {
	ctx   context.Context
	edges []*edgeOut
	rows  interface{ Add(int64) int64 }
}

type edgeOut struct {
	kind    program.EdgeKind
	input   int // index of the edge among the receiver's inputs
	keys    []int
	targets []chan message
	self    int // forward: the target subtask; round-robin: next target

	// scratch for hash partitioning, reused across batches (owned by the
	// sending goroutine).
	rows   []int32
	hashes []uint64
	parts  [][]int32
}

var _ ops.Collector = (*output)(nil)

func (j *Job) newOutput(n *program.Node, subtask int) *output {
	o := &output{ctx: j.ctx, rows: j.counter(n, "rows_out")}
	for _, e := range j.prog.Outputs(n.ID) {
		input := 0
		for k, in := range j.prog.Inputs(e.To) {
			if in == e {
				input = k
			}
		}
		eo := &edgeOut{kind: e.Kind, input: input, keys: e.Keys, targets: j.inputs[e.To]}
		if e.Kind == program.Forward {
			eo.self = subtask
		} else {
			eo.self = subtask % len(eo.targets)
			eo.parts = make([][]int32, len(eo.targets))
		}
		o.edges = append(o.edges, eo)
	}
	return o
}

// Collect implements ops.Collector.
func (o *output) Collect(b *coldata.Batch) error {
	if b.Rows() == 0 {
		return nil
	}
	o.rows.Add(int64(b.Rows()))
	return o.send(message{kind: msgData, batch: b})
}

func (o *output) send(m message) error {
	for _, e := range o.edges {
		if err := e.send(o.ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func put(ctx context.Context, ch chan message, m message) error {
	select {
	case ch <- m:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (e *edgeOut) send(ctx context.Context, m message) error {
	m.input = e.input
	if e.kind == program.Forward {
		return put(ctx, e.targets[e.self], m)
	}
	if m.kind != msgData {
		// Control messages go to every downstream subtask.
		for _, t := range e.targets {
			if err := put(ctx, t, m); err != nil {
				return err
			}
		}
		return nil
	}
	if len(e.targets) == 1 {
		return put(ctx, e.targets[0], m)
	}
	if len(e.keys) == 0 {
		t := e.targets[e.self]
		e.self = (e.self + 1) % len(e.targets)
		return put(ctx, t, m)
	}
	return e.partition(ctx, m)
}

// partition splits a batch by the hash of its key columns: key group =
// hash % MaxKeyGroups, subtask = keyGroup * P / MaxKeyGroups.
func (e *edgeOut) partition(ctx context.Context, m message) error {
	b := m.batch
	e.rows = e.rows[:0]
	b.ForEach(func(i int) { e.rows = append(e.rows, int32(i)) })
	if cap(e.hashes) < len(e.rows) {
		e.hashes = make([]uint64, len(e.rows))
	}
	e.hashes = e.hashes[:len(e.rows)]
	clear(e.hashes)
	for _, k := range e.keys {
		coldata.HashInto(b.Cols[k], e.rows, e.hashes)
	}
	p := len(e.targets)
	for t := range e.parts {
		e.parts[t] = e.parts[t][:0]
	}
	for k, h := range e.hashes {
		t := int(h%MaxKeyGroups) * p / MaxKeyGroups
		e.parts[t] = append(e.parts[t], e.rows[k])
	}
	for t, rows := range e.parts {
		if len(rows) == 0 {
			continue
		}
		// The receiver gets its own selection over the shared, immutable
		// vectors; the slice is copied because parts is reused.
		sel := append([]int32(nil), rows...)
		mb := &coldata.Batch{Cols: b.Cols, Len: b.Len, Sel: sel}
		if err := put(ctx, e.targets[t], message{kind: msgData, input: m.input, batch: mb}); err != nil {
			return err
		}
	}
	return nil
}
