package checkpoint_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/checkpoint"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
	"github.com/arroyogo/arroyo/engine/types"
)

// aggProgram is a program of one tumbling-window aggregate (count and sum
// per key) at parallelism p.
func aggProgram(p int) (*program.Program, *program.Node) {
	a := &program.Aggregate{Keys: 1, Window: &program.Window{Kind: program.WindowTumble, Width: 10 * time.Second}, Calls: []program.AggCall{
		{Func: "count", Filter: -1, Type: types.Int64T},
		{Func: "sum", Args: []int{1}, ArgTypes: []types.Type{types.Int64T}, Filter: -1, Type: types.Int64T},
	}}
	n := &program.Node{Op: program.OpAggregate, OperatorID: "agg", Description: "aggregate", Parallelism: p, Aggregate: a, Schema: types.NewSchema(
		types.Field{Name: "k", Type: types.Int64T, Nullable: true}, types.Field{Name: "w", Type: program.WindowType},
		types.Field{Name: "c", Type: types.Int64T}, types.Field{Name: "s", Type: types.Int64T, Nullable: true},
		types.Field{Name: types.TimestampField, Type: types.TimestampT})}
	return &program.Program{Name: "t", Version: program.Version, MaxKeyGroups: state.MaxKeyGroups, Nodes: []*program.Node{n}}, n
}

type rows struct{ k, v, ts []int64 }

func (r *rows) add(k, v, ts int64) { r.k, r.v, r.ts = append(r.k, k), append(r.v, v), append(r.ts, ts) }

func (r *rows) batch() *coldata.Batch {
	return coldata.NewBatch([]coldata.Vector{
		&coldata.Vec[int64]{T: types.Int64T, Vals: r.k}, &coldata.Vec[int64]{T: types.Int64T, Vals: r.v}, &coldata.Vec[int64]{T: types.TimestampT, Vals: r.ts},
	}, len(r.k))
}

type sink struct{ lines []string }

func (s *sink) Collect(b *coldata.Batch) error {
	b.ForEach(func(i int) {
		s.lines = append(s.lines, fmt.Sprint(coldata.Value(b.Cols[0], i), coldata.Value(b.Cols[1], i), coldata.Value(b.Cols[2], i), coldata.Value(b.Cols[3], i)))
	})
	return nil
}

// subtasks are the aggregate's instances at parallelism p, restored from
// handles (if any).
func subtasks(t *testing.T, n *program.Node, p int, handles []any) []*ops.Aggregate {
	t.Helper()
	out := make([]*ops.Aggregate, p)
	for i := range p {
		lo, hi := state.KeyGroupRange(i, p, state.MaxKeyGroups)
		op, err := ops.NewAggregate(n, ops.TaskInfo{OperatorID: n.OperatorID, Subtask: i, Parallelism: p, KeyGroups: [2]int{lo, hi}, MaxKeyGroups: state.MaxKeyGroups})
		if err != nil {
			t.Fatal(err)
		}
		if handles != nil {
			if err := op.RestoreKeyed(context.Background(), handles); err != nil {
				t.Fatalf("restore subtask %d of %d: %v", i, p, err)
			}
		}
		out[i] = op
	}
	return out
}

// feed routes rows to the subtasks by key group, as the shuffle does.
func feed(t *testing.T, aggs []*ops.Aggregate, keys []int64, window int, base int64) {
	t.Helper()
	parts := make([]rows, len(aggs))
	for _, k := range keys {
		h := []uint64{0}
		coldata.HashInto(&coldata.Vec[int64]{T: types.Int64T, Vals: []int64{k}}, []int32{0}, h)
		s := state.SubtaskOf(state.KeyGroupOf(h[0], state.MaxKeyGroups), len(aggs), state.MaxKeyGroups)
		parts[s].add(k, k%5, base+int64(window)*int64(10*time.Second)+k)
	}
	for i, op := range aggs {
		if len(parts[i].k) == 0 {
			continue
		}
		if err := op.Process(context.Background(), 0, parts[i].batch(), &sink{}); err != nil {
			t.Fatal(err)
		}
	}
}

// checkpointAll takes every subtask's snapshot and writes them to d; with
// notify set it then tells every subtask the checkpoint is complete, as
// the runtime does (ops.CheckpointNotifier).
func checkpointAll(t *testing.T, d *checkpoint.Dir, prog *program.Program, aggs []*ops.Aggregate, epoch uint64, notify bool) *checkpoint.Metadata {
	t.Helper()
	m, err := tryCheckpointAll(t, d, prog, aggs, epoch, notify)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func tryCheckpointAll(t *testing.T, d *checkpoint.Dir, prog *program.Program, aggs []*ops.Aggregate, epoch uint64, notify bool) (*checkpoint.Metadata, error) {
	t.Helper()
	hs := make([]any, len(aggs))
	for i, op := range aggs {
		h, err := op.Checkpoint(context.Background(), ops.Barrier{Epoch: epoch}, &sink{})
		if err != nil {
			t.Fatal(err)
		}
		hs[i] = h
	}
	lastSnaps = hs
	m, err := d.Write(context.Background(), prog, dataflow.CompletedCheckpoint{Epoch: epoch, Snapshot: dataflow.Snapshot{"agg": hs}})
	if err != nil {
		return nil, err
	}
	if notify {
		for _, op := range aggs {
			if err := op.CheckpointDone(context.Background(), epoch); err != nil {
				t.Fatal(err)
			}
		}
	}
	return m, nil
}

// lastSnaps are the handles of the last checkpointAll.
var lastSnaps []any

func load(t *testing.T, d *checkpoint.Dir, m *checkpoint.Metadata) []any {
	t.Helper()
	snap, err := d.Load(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return snap["agg"]
}

// closeAll emits every window.
func closeAll(t *testing.T, aggs []*ops.Aggregate) []string {
	t.Helper()
	out := &sink{}
	for _, op := range aggs {
		if err := op.OnWatermark(context.Background(), math.MaxInt64, out); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(out.lines)
	return out.lines
}

// TestAggregateIncrementalChain: the aggregate's panes no row reached
// since the last checkpoint are referred to by the next one; a chain
// written at parallelism 1, restored at 3, continued there and restored
// at 2 emits exactly what one uninterrupted instance does.
//
// Notified, the subtasks are told of each complete checkpoint, as the
// runtime tells them, and drop the encodings the checkpoint wrote: their
// next snapshots' unchanged parts are references without bytes, which the
// writer refers to the same way.
func TestAggregateIncrementalChain(t *testing.T) {
	for _, notify := range []bool{false, true} {
		t.Run(fmt.Sprintf("notify=%v", notify), func(t *testing.T) { testAggregateIncrementalChain(t, notify) })
	}
}

func testAggregateIncrementalChain(t *testing.T, notify bool) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	keys := func(lo, hi int64) []int64 {
		var out []int64
		for k := lo; k < hi; k++ {
			out = append(out, k)
		}
		return out
	}
	// What is fed, in order: (keys, window).
	steps := []struct {
		lo, hi int64
		window int
	}{{0, 3000, 0}, {0, 3000, 1}, {0, 2000, 2}, {1000, 4000, 3}, {0, 500, 3}, {0, 4000, 4}}
	prog1, n := aggProgram(1)
	ref := subtasks(t, n, 1, nil)
	for _, s := range steps {
		feed(t, ref, keys(s.lo, s.hi), s.window, base)
	}
	want := closeAll(t, ref)

	root := t.TempDir()
	d := &checkpoint.Dir{Storage: checkpoint.Local{Root: root}, Root: "cp", Keep: 2}
	aggs := subtasks(t, n, 1, nil)
	feed(t, aggs, keys(0, 3000), 0, base)
	feed(t, aggs, keys(0, 3000), 1, base)
	m1 := checkpointAll(t, d, prog1, aggs, 1, notify)
	feed(t, aggs, keys(0, 2000), 2, base)
	m2 := checkpointAll(t, d, prog1, aggs, 2, notify)
	// Windows 0 and 1 were written by checkpoint 1: once told, the
	// subtask keeps no bytes of them, and the snapshot's parts of them
	// are references; window 2's parts have their bytes.
	if dropped, kept := partsWithoutData(lastSnaps); notify && (dropped == 0 || kept == 0) || !notify && dropped != 0 {
		t.Fatalf("checkpoint 2 (notify %v): %d parts without bytes, %d with", notify, dropped, kept)
	}
	// Windows 0 and 1 did not change: checkpoint 2 refers to them.
	if m2.Referenced() == 0 || m2.Bytes() >= m1.Bytes() {
		t.Fatalf("checkpoint 2: %d bytes of its own, %d referenced; checkpoint 1 has %d", m2.Bytes(), m2.Referenced(), m1.Bytes())
	}
	snap2, err := d.Load(context.Background(), m2)
	if err != nil {
		t.Fatal(err)
	}
	if desc := checkpoint.Describe(snap2["agg"][0]); !strings.Contains(desc, "referenced in earlier checkpoints' files") {
		t.Errorf("Describe(checkpoint 2) = %q", desc)
	}
	m3 := checkpointAll(t, d, prog1, aggs, 3, notify) // nothing changed
	if dropped, kept := partsWithoutData(lastSnaps); notify && kept != 0 {
		t.Fatalf("checkpoint 3 (nothing changed, notified): %d parts without bytes, %d with", dropped, kept)
	}
	if m3.Bytes() >= m2.Bytes() || m3.Referenced() < m2.Referenced() {
		t.Fatalf("checkpoint 3 (no change): %d bytes of its own, %d referenced", m3.Bytes(), m3.Referenced())
	}

	// Restore at parallelism 3 (a new job: a new Dir value) and continue.
	prog3, n3 := aggProgram(3)
	aggs = subtasks(t, n3, 3, load(t, d, m3))
	feed(t, aggs, keys(1000, 4000), 3, base)
	d3 := &checkpoint.Dir{Storage: checkpoint.Local{Root: root}, Root: "cp", Keep: 2}
	m4 := checkpointAll(t, d3, prog3, aggs, 4, notify)
	if m4.Referenced() != 0 {
		t.Errorf("a restored job's first checkpoint refers to %d bytes", m4.Referenced())
	}
	feed(t, aggs, keys(0, 500), 3, base)
	m5 := checkpointAll(t, d3, prog3, aggs, 5, notify)
	if m5.Referenced() == 0 {
		t.Errorf("checkpoint 5 refers to nothing (windows 0 to 2 did not change)")
	}
	m6 := checkpointAll(t, d3, prog3, aggs, 6, notify)

	// Restore at parallelism 2 and finish.
	_, n2 := aggProgram(2)
	aggs = subtasks(t, n2, 2, load(t, d3, m6))
	feed(t, aggs, keys(0, 4000), 4, base)
	if got := closeAll(t, aggs); !slices.Equal(got, want) {
		t.Fatalf("after the chain 1 -> 3 -> 2: %d rows, want %d (first %q, want %q)", len(got), len(want), got[:min(3, len(got))], want[:3])
	}
}

// partsWithoutData counts the parts of the state snapshots in hs that
// have no bytes (a reference to where a checkpoint wrote them) and those
// that have.
func partsWithoutData(hs []any) (dropped, kept int) {
	for _, h := range hs {
		for _, g := range h.(*state.Snapshot).Groups {
			if g.Data == nil {
				if g.Ref == nil {
					panic("a part with neither bytes nor a reference")
				}
				dropped++
			} else {
				kept++
			}
		}
	}
	return dropped, kept
}

// failingStore fails every write while fail is set.
type failingStore struct {
	checkpoint.Local
	fail bool
}

func (f *failingStore) WriteFile(ctx context.Context, name string, data []byte) error {
	if f.fail {
		return errors.New("no space left on device")
	}
	return f.Local.WriteFile(ctx, name, data)
}

func (f *failingStore) WriteFileFrom(ctx context.Context, name string, write func(io.Writer) error) error {
	if f.fail {
		return errors.New("no space left on device")
	}
	return f.Local.WriteFileFrom(ctx, name, write)
}

// TestAggregateDroppedEncodingsAfterFailedWrite: a subtask that dropped
// the encodings checkpoint 1 wrote refers to them again after checkpoint
// 2 failed to write (and so completed nowhere, and was not notified); the
// chain restores to what one uninterrupted instance emits.
func TestAggregateDroppedEncodingsAfterFailedWrite(t *testing.T) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	keys := make([]int64, 2000)
	for i := range keys {
		keys[i] = int64(i)
	}
	prog, n := aggProgram(1)
	ref := subtasks(t, n, 1, nil)
	aggs := subtasks(t, n, 1, nil)
	fs := &failingStore{Local: checkpoint.Local{Root: t.TempDir()}}
	d := &checkpoint.Dir{Storage: fs, Root: "cp"}
	for _, a := range [][]*ops.Aggregate{ref, aggs} {
		feed(t, a, keys, 0, base)
		feed(t, a, keys[:1000], 1, base)
	}
	checkpointAll(t, d, prog, aggs, 1, true)
	for _, a := range [][]*ops.Aggregate{ref, aggs} {
		feed(t, a, keys[500:], 2, base)
	}
	fs.fail = true
	if _, err := tryCheckpointAll(t, d, prog, aggs, 2, true); err == nil {
		t.Fatal("checkpoint 2 written on a full disk")
	}
	fs.fail = false
	for _, a := range [][]*ops.Aggregate{ref, aggs} {
		feed(t, a, keys[:10], 1, base) // window 1 changes again
	}
	m3 := checkpointAll(t, d, prog, aggs, 3, true)
	if m3.Referenced() == 0 {
		t.Fatal("checkpoint 3 refers to nothing: window 0 did not change since checkpoint 1")
	}
	want := closeAll(t, ref)
	_, n2 := aggProgram(2)
	if got := closeAll(t, subtasks(t, n2, 2, load(t, d, m3))); !slices.Equal(got, want) {
		t.Fatalf("restored from checkpoint 3 at parallelism 2: %d rows, want %d", len(got), len(want))
	}
}
