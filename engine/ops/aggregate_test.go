package ops_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
	"github.com/arroyogo/arroyo/engine/types"
)

// aggNode is an aggregate over input (key BIGINT, v BIGINT, [_op], ts):
// count(*) and sum(v) per key (and window).
func aggNode(w *program.Window, retract bool) *program.Node {
	a := &program.Aggregate{Keys: 1, Window: w, Retract: retract, Calls: []program.AggCall{
		{Func: "count", Filter: -1, Type: types.Int64T},
		{Func: "sum", Args: []int{1}, ArgTypes: []types.Type{types.Int64T}, Filter: -1, Type: types.Int64T},
	}}
	fs := []types.Field{{Name: "k", Type: types.Int64T, Nullable: true}}
	if w != nil {
		fs = append(fs, types.Field{Name: "w", Type: program.WindowType})
	}
	fs = append(fs, types.Field{Name: "c", Type: types.Int64T}, types.Field{Name: "s", Type: types.Int64T, Nullable: true})
	if w == nil {
		fs = append(fs, types.Field{Name: program.ChangeKindField, Type: program.ChangeKindType})
	}
	fs = append(fs, types.Field{Name: types.TimestampField, Type: types.TimestampT})
	return &program.Node{Op: program.OpAggregate, OperatorID: "agg", Schema: types.NewSchema(fs...), Updating: w == nil, Aggregate: a}
}

type aggRow struct {
	k, v, ts int64
	op       int8
}

// aggBatch builds an input batch; with ops, the change kind column too.
func aggBatch(rows []aggRow, withOps bool) *coldata.Batch {
	k := &coldata.Vec[int64]{T: types.Int64T}
	v := &coldata.Vec[int64]{T: types.Int64T}
	o := &coldata.Vec[int8]{T: program.ChangeKindType}
	ts := &coldata.Vec[int64]{T: types.TimestampT}
	for _, r := range rows {
		k.Append(r.k)
		v.Append(r.v)
		o.Append(r.op)
		ts.Append(r.ts)
	}
	cols := []coldata.Vector{k, v}
	if withOps {
		cols = append(cols, o)
	}
	return coldata.NewBatch(append(cols, ts), len(rows))
}

func newAgg(t *testing.T, n *program.Node, sub, par int) *ops.Aggregate {
	t.Helper()
	lo, hi := state.KeyGroupRange(sub, par, state.MaxKeyGroups)
	task := ops.TaskInfo{OperatorID: n.OperatorID, Subtask: sub, Parallelism: par, KeyGroups: [2]int{lo, hi}, MaxKeyGroups: state.MaxKeyGroups}
	op, err := ops.NewAggregate(n, task)
	if err != nil {
		t.Fatalf("NewAggregate: %v", err)
	}
	return op
}

// lines renders every output row as text, sorted, so outputs of different
// runs compare as multisets.
func lines(bs []*coldata.Batch) []string {
	var out []string
	for _, b := range bs {
		b.ForEach(func(i int) {
			var parts []string
			for _, c := range b.Cols {
				parts = append(parts, fmt.Sprint(coldata.Value(c, i)))
			}
			out = append(out, strings.Join(parts, " "))
		})
	}
	sort.Strings(out)
	return out
}

// routeOf is the subtask of parallelism par that owns key k, as a keyed
// shuffle routes it.
func routeOf(k int64, par int) int {
	h := []uint64{0}
	coldata.HashInto(&coldata.Vec[int64]{T: types.Int64T, Vals: []int64{k}}, []int32{0}, h)
	return state.SubtaskOf(state.KeyGroupOf(h[0], state.MaxKeyGroups), par, state.MaxKeyGroups)
}

// aggInput is a stream of rows over 40 keys with event time rising by
// about a second per row, slightly out of order, and a watermark after
// every batch of 50 rows (5 s behind the largest time seen).
func aggInput(seed uint64, n int) (batches [][]aggRow, watermarks []int64) {
	rnd := rand.New(rand.NewPCG(seed, 7))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var cur []aggRow
	maxTs := int64(math.MinInt64)
	for i := 0; i < n; i++ {
		ts := base + int64(i)*int64(time.Second) - rnd.Int64N(int64(3*time.Second))
		cur = append(cur, aggRow{k: rnd.Int64N(40), v: rnd.Int64N(100), ts: ts})
		maxTs = max(maxTs, ts)
		if len(cur) == 50 {
			batches = append(batches, cur)
			watermarks = append(watermarks, maxTs-int64(5*time.Second))
			cur = nil
		}
	}
	return batches, watermarks
}

// TestAggregateCheckpointRestoreExact runs each kind of window over the
// same stream uninterrupted, and interrupted by a checkpoint after half
// the batches whose snapshot is restored at another parallelism, rows then
// routed by key as a shuffle would: the outputs must be the same rows.
// The interrupted run also checkpoints after every batch before that.
func TestAggregateCheckpointRestoreExact(t *testing.T) {
	windows := map[string]*program.Window{
		"tumble":  {Kind: program.WindowTumble, Width: 10 * time.Second},
		"hop":     {Kind: program.WindowHop, Width: 30 * time.Second, Slide: 10 * time.Second},
		"session": {Kind: program.WindowSession, Gap: 20 * time.Second},
	}
	ctx := context.Background()
	for name, w := range windows {
		for _, pars := range [][2]int{{1, 3}, {3, 2}, {2, 1}} {
			t.Run(fmt.Sprintf("%s/%d-%d", name, pars[0], pars[1]), func(t *testing.T) {
				n := aggNode(w, false)
				batches, wms := aggInput(uint64(pars[0]*10+pars[1]), 2000)
				process := func(ops []*ops.Aggregate, par int, batch []aggRow, out *collector2) {
					parts := make([][]aggRow, par)
					for _, r := range batch {
						s := routeOf(r.k, par)
						parts[s] = append(parts[s], r)
					}
					for s, rows := range parts {
						if len(rows) > 0 {
							if err := ops[s].Process(ctx, 0, aggBatch(rows, false), out); err != nil {
								t.Fatal(err)
							}
						}
					}
				}
				run := func(ops []*ops.Aggregate, par int, from, to int, out *collector2) {
					for b := from; b < to; b++ {
						process(ops, par, batches[b], out)
						for _, op := range ops {
							if err := op.OnWatermark(ctx, wms[b], out); err != nil {
								t.Fatal(err)
							}
						}
					}
				}
				finish := func(ops []*ops.Aggregate, out *collector2) {
					for _, op := range ops {
						if err := op.OnWatermark(ctx, math.MaxInt64, out); err != nil {
							t.Fatal(err)
						}
					}
				}
				build := func(par int) []*ops.Aggregate {
					var out []*ops.Aggregate
					for s := 0; s < par; s++ {
						out = append(out, newAgg(t, n, s, par))
					}
					return out
				}
				whole := &collector2{}
				all := build(pars[0])
				run(all, pars[0], 0, len(batches), whole)
				finish(all, whole)

				cut := &collector2{}
				first := build(pars[0])
				half := len(batches) / 2
				// Checkpoints in the middle of every batch and after it:
				// a pane no row reached since the previous one reuses its
				// encoding, and the snapshot restored (the last) must
				// still hold every change.
				var snaps []any
				epoch := uint64(0)
				checkpoint := func() {
					epoch++
					snaps = snaps[:0]
					for _, op := range first {
						h, err := op.Checkpoint(ctx, ops.Barrier{Epoch: epoch}, cut)
						if err != nil {
							t.Fatal(err)
						}
						snaps = append(snaps, h)
					}
				}
				for b := 0; b < half-1; b++ {
					run(first, pars[0], b, b+1, cut)
					checkpoint()
				}
				// The last batch before the cut in three parts: windows
				// open at the first checkpoint get more rows before the
				// second.
				last := batches[half-1]
				process(first, pars[0], last[:10], cut)
				checkpoint()
				process(first, pars[0], last[10:], cut)
				checkpoint()
				second := build(pars[1])
				for _, op := range second {
					if err := op.RestoreKeyed(ctx, snaps); err != nil {
						t.Fatal(err)
					}
				}
				// The batch's watermark comes after the barrier.
				for _, op := range second {
					if err := op.OnWatermark(ctx, wms[half-1], cut); err != nil {
						t.Fatal(err)
					}
				}
				run(second, pars[1], half, len(batches), cut)
				finish(second, cut)

				want, got := lines(whole.batches), lines(cut.batches)
				if len(want) < 50 {
					t.Fatalf("only %d windows: the test stream is too small", len(want))
				}
				if !slices.Equal(want, got) {
					t.Errorf("after restore: %d rows, want %d; first difference:\n%s", len(got), len(want), firstDiff(want, got))
				}
			})
		}
	}
}

func firstDiff(a, b []string) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return fmt.Sprintf("want %s\n got %s", a[i], b[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(a), len(b))
}

type collector2 struct{ batches []*coldata.Batch }

func (c *collector2) Collect(b *coldata.Batch) error {
	c.batches = append(c.batches, b)
	return nil
}

// TestAggregateLateRows drops and counts the rows behind the watermark;
// rows at the watermark are on time.
func TestAggregateLateRows(t *testing.T) {
	ctx := context.Background()
	n := aggNode(&program.Window{Kind: program.WindowTumble, Width: 10}, false)
	task := ops.TaskInfo{OperatorID: "agg", Parallelism: 1, KeyGroups: [2]int{0, state.MaxKeyGroups}, MaxKeyGroups: state.MaxKeyGroups}
	c := new(countingCounter)
	task.Counter = c.get
	op, err := ops.NewAggregate(n, task)
	if err != nil {
		t.Fatal(err)
	}
	out := &collector2{}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(op.Process(ctx, 0, aggBatch([]aggRow{{k: 1, v: 1, ts: 5}, {k: 1, v: 2, ts: 12}}, false), out))
	must(op.OnWatermark(ctx, 10, out)) // closes [0, 10)
	must(op.Process(ctx, 0, aggBatch([]aggRow{{k: 1, v: 100, ts: 9}, {k: 1, v: 4, ts: 10}, {k: 2, v: 200, ts: 3}}, false), out))
	must(op.OnWatermark(ctx, math.MaxInt64, out))
	got := lines(out.batches)
	want := []string{
		"1 [0 10] 1 1 9",
		"1 [10 20] 2 6 19",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
	if n := c.value("late_rows"); n != 2 {
		t.Errorf("late_rows = %d, want 2", n)
	}
}

// TestAggregateUpdatingChangelog checks the changelog of an updating
// aggregate over a changelog input: creates, an update pair, and a delete
// when a group's last row is retracted; an unchanged group emits nothing.
func TestAggregateUpdatingChangelog(t *testing.T) {
	ctx := context.Background()
	n := aggNode(nil, true)
	op := newAgg(t, n, 0, 1)
	out := &collector2{}
	ins, del := program.ChangeInsert, program.ChangeDelete
	steps := []struct {
		rows []aggRow
		want []string
	}{
		{[]aggRow{{k: 1, v: 10, op: ins}, {k: 2, v: 5, op: ins}, {k: 1, v: 1, op: ins}}, []string{"1 2 11 0 0", "2 1 5 0 0"}},
		{[]aggRow{{k: 1, v: 1, op: del}}, []string{"1 1 10 2 0", "1 2 11 1 0"}},
		{[]aggRow{{k: 2, v: 5, op: del}, {k: 3, v: 7, op: ins}, {k: 3, v: 7, op: del}}, []string{"2 1 5 3 0"}},
	}
	for i, st := range steps {
		out.batches = nil
		if err := op.Process(ctx, 0, aggBatch(st.rows, true), out); err != nil {
			t.Fatal(err)
		}
		if err := op.OnWatermark(ctx, int64(i+1), out); err != nil {
			t.Fatal(err)
		}
		if got := lines(out.batches); !slices.Equal(got, st.want) {
			t.Errorf("step %d: %q, want %q", i, got, st.want)
		}
	}
}

type countingCounter struct{ m map[string]*atomic.Int64 }

func (c *countingCounter) get(name string) *atomic.Int64 {
	if c.m == nil {
		c.m = map[string]*atomic.Int64{}
	}
	if c.m[name] == nil {
		c.m[name] = new(atomic.Int64)
	}
	return c.m[name]
}

func (c *countingCounter) value(name string) int64 {
	if c.m[name] == nil {
		return 0
	}
	return c.m[name].Load()
}

// TestAggregateUpdatingTTL forgets a group idle for longer than the TTL in
// event time, emitting a delete of its row, so a later row of the key is a
// create again; the end-of-input watermark expires nothing.
func TestAggregateUpdatingTTL(t *testing.T) {
	ctx := context.Background()
	n := aggNode(nil, false)
	n.Aggregate.TTL = 10
	op := newAgg(t, n, 0, 1)
	out := &collector2{}
	step := func(rows []aggRow, wm int64, want []string) {
		t.Helper()
		out.batches = nil
		if rows != nil {
			if err := op.Process(ctx, 0, aggBatch(rows, false), out); err != nil {
				t.Fatal(err)
			}
		}
		if err := op.OnWatermark(ctx, wm, out); err != nil {
			t.Fatal(err)
		}
		if got := lines(out.batches); !slices.Equal(got, want) {
			t.Errorf("watermark %d: %q, want %q", wm, got, want)
		}
	}
	step([]aggRow{{k: 1, v: 1, ts: 0}, {k: 2, v: 2, ts: 45}}, 5, []string{"1 1 1 0 45", "2 1 2 0 45"})
	step(nil, 50, []string{"1 1 1 3 45"})
	step([]aggRow{{k: 1, v: 7, ts: 51}}, 52, []string{"1 1 7 0 51"})
	step(nil, math.MaxInt64, nil)
}

// TestAggregateGroupChurn creates and retracts 150K groups (the key slab
// is compacted once its dead bytes pass 1 MiB) and checks that groups
// created after it, old keys again and new ones, are found and correct.
func TestAggregateGroupChurn(t *testing.T) {
	ctx := context.Background()
	op := newAgg(t, aggNode(nil, true), 0, 1)
	out := &collector2{}
	var rows []aggRow
	for k := int64(0); k < 150000; k++ {
		rows = append(rows, aggRow{k: k, v: 1, op: program.ChangeInsert})
	}
	for k := int64(0); k < 150000; k++ {
		rows = append(rows, aggRow{k: k, v: 1, op: program.ChangeDelete})
	}
	rows = append(rows, aggRow{k: 7, v: 5, op: program.ChangeInsert}, aggRow{k: 200000, v: 6, op: program.ChangeInsert}, aggRow{k: 7, v: 2, op: program.ChangeInsert})
	for len(rows) > 0 {
		n := min(len(rows), 4096)
		if err := op.Process(ctx, 0, aggBatch(rows[:n], true), out); err != nil {
			t.Fatal(err)
		}
		rows = rows[n:]
	}
	if err := op.OnWatermark(ctx, 1, out); err != nil {
		t.Fatal(err)
	}
	if got, want := lines(out.batches), []string{"200000 1 6 0 0", "7 2 7 0 0"}; !slices.Equal(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
}

// TestAggregateTickFlushes: an updating aggregate flushes on a tick once
// its flush interval has passed since the last flush, with no watermark.
func TestAggregateTickFlushes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		n := aggNode(nil, false)
		n.Aggregate.FlushInterval = time.Second
		op := newAgg(t, n, 0, 1)
		if op.TickInterval() != time.Second {
			t.Fatalf("tick interval %s", op.TickInterval())
		}
		out := &collector2{}
		if err := op.Process(ctx, 0, aggBatch([]aggRow{{k: 1, v: 2, ts: 5}}, false), out); err != nil {
			t.Fatal(err)
		}
		if err := op.Tick(ctx, out); err != nil {
			t.Fatal(err)
		}
		// The first flush is due at once (none happened yet).
		if got := lines(out.batches); !slices.Equal(got, []string{"1 1 2 0 5"}) {
			t.Fatalf("first tick: %q", got)
		}
		out.batches = nil
		if err := op.Process(ctx, 0, aggBatch([]aggRow{{k: 1, v: 3, ts: 6}}, false), out); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		if err := op.Tick(ctx, out); err != nil || len(out.batches) != 0 {
			t.Fatalf("tick before the interval: %v, %d batches", err, len(out.batches))
		}
		time.Sleep(600 * time.Millisecond)
		if err := op.Tick(ctx, out); err != nil {
			t.Fatal(err)
		}
		if got := lines(out.batches); !slices.Equal(got, []string{"1 1 2 1 6", "1 2 5 2 6"}) {
			t.Errorf("after the interval: %q", got)
		}
	})
}

// TestAggregateRestoreLargePane restores a window of many groups (its
// index is built in buckets of the table, not row by row) at the same and
// at another parallelism, then adds a row to every group: each must find
// its restored group, so every count is 2. The pane's checkpoint is one
// part (all key groups), or, when larger than the one-part limit, a part
// per key group.
func TestAggregateRestoreLargePane(t *testing.T) {
	for _, c := range []struct {
		name  string
		limit int // 0: the default
		parts int
	}{{"one part", 0, 1}, {"a part per key group", 1 << 10, state.MaxKeyGroups}} {
		t.Run(c.name, func(t *testing.T) {
			if c.limit > 0 {
				defer ops.SetOnePart(c.limit)()
			}
			testAggregateRestoreLargePane(t, c.parts)
		})
	}
}

func testAggregateRestoreLargePane(t *testing.T, parts int) {
	const keys = 60_000
	ctx := context.Background()
	n := aggNode(&program.Window{Kind: program.WindowTumble, Width: 10 * time.Second}, false)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	rows := make([]aggRow, keys)
	for i := range rows {
		rows[i] = aggRow{k: int64(i), v: int64(i % 7), ts: base + int64(i)}
	}
	split := func(par int) [][]aggRow {
		parts := make([][]aggRow, par)
		for _, r := range rows {
			s := routeOf(r.k, par)
			parts[s] = append(parts[s], r)
		}
		return parts
	}
	first := newAgg(t, n, 0, 1)
	if err := first.Process(ctx, 0, aggBatch(rows, false), &collector2{}); err != nil {
		t.Fatal(err)
	}
	h, err := first.Checkpoint(ctx, ops.Barrier{Epoch: 1}, &collector2{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(h.(*state.Snapshot).Groups); got != parts {
		t.Fatalf("the pane's checkpoint has %d parts, want %d", got, parts)
	}
	for _, par := range []int{1, 2} {
		out := &collector2{}
		for s, part := range split(par) {
			op := newAgg(t, n, s, par)
			if err := op.RestoreKeyed(ctx, []any{h}); err != nil {
				t.Fatal(err)
			}
			if err := op.Process(ctx, 0, aggBatch(part, false), out); err != nil {
				t.Fatal(err)
			}
			if err := op.OnWatermark(ctx, math.MaxInt64, out); err != nil {
				t.Fatal(err)
			}
		}
		seen := 0
		for _, b := range out.batches {
			k, c, sum := b.Cols[0].(*coldata.Vec[int64]), b.Cols[2].(*coldata.Vec[int64]), b.Cols[3].(*coldata.Vec[int64])
			b.ForEach(func(i int) {
				seen++
				if c.Vals[i] != 2 || sum.Vals[i] != 2*(k.Vals[i]%7) {
					t.Fatalf("parallelism %d: key %d: count %d, sum %d", par, k.Vals[i], c.Vals[i], sum.Vals[i])
				}
			})
		}
		if seen != keys {
			t.Fatalf("parallelism %d: %d groups emitted, want %d", par, seen, keys)
		}
	}
}
