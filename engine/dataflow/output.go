package dataflow

import (
	"context"
	"sync/atomic"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
)

// output routes one subtask's messages to its downstream subtasks, one
// edgeOut per output edge. It implements ops.Collector.
type output struct {
	ctx   context.Context
	edges []*edgeOut
	rows  interface{ Add(int64) int64 }
	// bytes counts the memory of the batches collected (bytes_out).
	bytes *atomic.Int64
}

type edgeOut struct {
	kind    program.EdgeKind
	keys    []int
	targets []*mailbox
	// slot is this sender's ring in every target's mailbox: the same in
	// each, since every receiver of an edge lays out its rings alike.
	slot int
	// wait counts the nanoseconds this sender spent blocked on a full
	// downstream ring (backpressure_ns, shared by the sender's edges).
	wait   *atomic.Int64
	self   int // forward: the target subtask; round-robin: next target
	groups int // key-group count of the program (keyed shuffles)

	// scratch for hash partitioning, reused across batches (owned by the
	// sending goroutine).
	rows   []int32
	hashes []uint64
	parts  [][]int32
}

var _ ops.Collector = (*output)(nil)

func (j *Job) newOutput(n *program.Node, subtask int) *output {
	o := &output{ctx: j.ctx, rows: j.counter(n, subtask, "rows_out"), bytes: j.counter(n, subtask, "bytes_out")}
	wait := j.counter(n, subtask, "backpressure_ns")
	for _, e := range j.prog.Outputs(n.ID) {
		eo := &edgeOut{kind: e.Kind, keys: e.Keys, targets: j.inputs[e.To], slot: j.slotOf(e, subtask), groups: keyGroups(j.prog), wait: wait}
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

// keyGroups is the program's key-group count; 0 (a program built by hand)
// means the default.
func keyGroups(p *program.Program) int {
	if p.MaxKeyGroups > 0 {
		return p.MaxKeyGroups
	}
	return state.MaxKeyGroups
}

// Collect implements ops.Collector.
func (o *output) Collect(b *coldata.Batch) error {
	if b.Rows() == 0 {
		return nil
	}
	o.rows.Add(int64(b.Rows()))
	o.bytes.Add(int64(b.MemBytes()))
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

func (e *edgeOut) send(ctx context.Context, m message) error {
	if e.kind == program.Forward {
		return e.targets[e.self].put(ctx, e.slot, m, e.wait)
	}
	if m.kind != msgData {
		// Watermarks, idleness, barriers and end of stream go to every
		// downstream subtask.
		for _, t := range e.targets {
			if err := t.put(ctx, e.slot, m, e.wait); err != nil {
				return err
			}
		}
		return nil
	}
	if len(e.targets) == 1 {
		return e.targets[0].put(ctx, e.slot, m, e.wait)
	}
	if len(e.keys) == 0 {
		t := e.targets[e.self]
		e.self = (e.self + 1) % len(e.targets)
		return t.put(ctx, e.slot, m, e.wait)
	}
	return e.partition(ctx, m)
}

// compactBelow is the sparseness at which a shuffle gathers a receiver's
// rows into vectors of its own instead of sending a selection over the
// shared batch: when it keeps fewer than 1/compactBelow of the physical
// rows (0: never; a variable so benchmarks can compare).
var compactBelow = coldata.SparseBelow

// sparse reports whether a selection of n of length rows is worth gathering.
func sparse(n, length int) bool { return compactBelow > 0 && n*compactBelow < length }

// partition splits a batch by the hash of its key columns into key groups
// (state.KeyGroupOf) and sends each group to the subtask that owns it
// (state.SubtaskOf), the one whose state.KeyGroupRange holds it.
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
		t := state.SubtaskOf(state.KeyGroupOf(h, e.groups), p, e.groups)
		e.parts[t] = append(e.parts[t], e.rows[k])
	}
	for t, rows := range e.parts {
		if len(rows) == 0 {
			continue
		}
		var mb *coldata.Batch
		if sparse(len(rows), b.Len) {
			// Each of P receivers holds about 1/P of the rows: dense
			// kernels downstream would compute every physical row, P
			// times the work over all receivers. Gathering costs one
			// copy of the batch in total.
			cols := make([]coldata.Vector, len(b.Cols))
			for i, c := range b.Cols {
				cols[i] = coldata.Gather(c, rows)
			}
			mb = &coldata.Batch{Cols: cols, Len: len(rows)}
		} else {
			// The receiver gets its own selection over the shared,
			// immutable vectors; the slice is copied because parts is
			// reused.
			sel := append([]int32(nil), rows...)
			mb = &coldata.Batch{Cols: b.Cols, Len: b.Len, Sel: sel}
		}
		if err := e.targets[t].put(ctx, e.slot, message{kind: msgData, batch: mb}, e.wait); err != nil {
			return err
		}
	}
	return nil
}
