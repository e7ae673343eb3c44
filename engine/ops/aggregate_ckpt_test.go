package ops_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// TestAggregateCheckpointLongValues: accumulator snapshots and values of
// 128 bytes and more (a multi-byte length, written in place after a
// one-byte placeholder) restore exactly.
func TestAggregateCheckpointLongValues(t *testing.T) {
	ctx := context.Background()
	a := &program.Aggregate{Keys: 1, Window: &program.Window{Kind: program.WindowTumble, Width: 10 * time.Second}, Calls: []program.AggCall{
		{Func: "max", Args: []int{1}, ArgTypes: []types.Type{types.StringT}, Filter: -1, Type: types.StringT},
		{Func: "count", Filter: -1, Type: types.Int64T},
	}}
	fs := []types.Field{{Name: "k", Type: types.Int64T, Nullable: true}, {Name: "w", Type: program.WindowType}, {Name: "m", Type: types.StringT, Nullable: true}, {Name: "c", Type: types.Int64T}, {Name: types.TimestampField, Type: types.TimestampT}}
	n := &program.Node{Op: program.OpAggregate, OperatorID: "agg", Schema: types.NewSchema(fs...), Aggregate: a}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	k := &coldata.Vec[int64]{T: types.Int64T}
	v := coldata.NewBytes(types.StringT, 0, 0)
	ts := &coldata.Vec[int64]{T: types.TimestampT}
	for i := range 300 {
		k.Append(int64(i))
		v.AppendString(strings.Repeat(string(rune('a'+i%26)), i*70))
		ts.Append(base + int64(i))
	}
	first := newAgg(t, n, 0, 1)
	if err := first.Process(ctx, 0, coldata.NewBatch([]coldata.Vector{k, v, ts}, 300), &collector2{}); err != nil {
		t.Fatal(err)
	}
	h, err := first.Checkpoint(ctx, ops.Barrier{Epoch: 1}, &collector2{})
	if err != nil {
		t.Fatal(err)
	}
	op := newAgg(t, n, 0, 1)
	if err := op.RestoreKeyed(ctx, []any{h}); err != nil {
		t.Fatal(err)
	}
	out := &collector2{}
	if err := op.OnWatermark(ctx, math.MaxInt64, out); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, b := range out.batches {
		kk, m, c := b.Cols[0].(*coldata.Vec[int64]), b.Cols[2].(*coldata.Bytes), b.Cols[3].(*coldata.Vec[int64])
		b.ForEach(func(i int) {
			seen++
			want := strings.Repeat(string(rune('a'+kk.Vals[i]%26)), int(kk.Vals[i])*70)
			if string(m.Get(i)) != want || c.Vals[i] != 1 {
				t.Fatalf("key %d: %d bytes, count %d", kk.Vals[i], len(m.Get(i)), c.Vals[i])
			}
		})
	}
	if seen != 300 {
		t.Fatalf("%d groups", seen)
	}
}

// TestAggregateCheckpointPlainPanes: groups without accumulators (a GROUP
// BY of keys alone, q7's), whose entries are the pane start and the key
// (encodePlain), in two panes and with keys whose entry length takes one
// and two bytes, restore into the panes they came from.
func TestAggregateCheckpointPlainPanes(t *testing.T) {
	ctx := context.Background()
	width := 10 * time.Second
	a := &program.Aggregate{Keys: 1, Window: &program.Window{Kind: program.WindowTumble, Width: width}}
	fs := []types.Field{{Name: "k", Type: types.StringT, Nullable: true}, {Name: "w", Type: program.WindowType}, {Name: types.TimestampField, Type: types.TimestampT}}
	n := &program.Node{Op: program.OpAggregate, OperatorID: "agg", Schema: types.NewSchema(fs...), Aggregate: a}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	key := func(i int) string { return strings.Repeat(string(rune('a'+i%26)), 1+i%200) + string(rune('A'+i/26)) }
	const rows = 400
	k := coldata.NewBytes(types.StringT, 0, 0)
	ts := &coldata.Vec[int64]{T: types.TimestampT}
	for i := range rows {
		k.AppendString(key(i))
		ts.Append(base + int64(i%2)*int64(width) + int64(i))
	}
	first := newAgg(t, n, 0, 1)
	if err := first.Process(ctx, 0, coldata.NewBatch([]coldata.Vector{k, ts}, rows), &collector2{}); err != nil {
		t.Fatal(err)
	}
	h, err := first.Checkpoint(ctx, ops.Barrier{Epoch: 1}, &collector2{})
	if err != nil {
		t.Fatal(err)
	}
	op := newAgg(t, n, 0, 1)
	if err := op.RestoreKeyed(ctx, []any{h}); err != nil {
		t.Fatal(err)
	}
	out := &collector2{}
	if err := op.OnWatermark(ctx, math.MaxInt64, out); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for i := range rows {
		want[key(i)] = base + int64(i%2+1)*int64(width) - 1
	}
	seen := 0
	for _, b := range out.batches {
		kk, et := b.Cols[0].(*coldata.Bytes), b.Cols[2].(*coldata.Vec[int64])
		b.ForEach(func(i int) {
			seen++
			if w, ok := want[string(kk.Get(i))]; !ok || et.Vals[i] != w {
				t.Fatalf("key %q: event time %d, want %d (known %v)", kk.Get(i), et.Vals[i], w, ok)
			}
		})
	}
	if seen != rows {
		t.Fatalf("%d groups, want %d", seen, rows)
	}
}

// TestAggregateCheckpointCompactKeys: group keys of fixed-width columns
// of every width (nine of them: a NULL bitmap of two bytes), with NULLs
// and each type's extremes, are written compactly (state format 5) and
// restore exactly, in panes with and without accumulators and in an
// updating aggregate: the restored operator's output equals that of one
// never checkpointed.
func TestAggregateCheckpointCompactKeys(t *testing.T) {
	// Columns of every width, and 8-byte ones alone, with NULLs and
	// without (the fast path).
	t.Run("widths", func(t *testing.T) {
		testCompactKeys(t, []types.Type{types.Int8T, types.Int16T, types.Int32T, types.Int64T, types.BoolT, types.Float64T, types.UInt64T, types.DateT, types.TimestampT}, true)
	})
	eight := []types.Type{types.Int64T, types.TimestampT, types.Float64T, types.Int64T}
	for _, nulls := range []bool{true, false} {
		for nk := 1; nk <= 4; nk++ {
			t.Run(fmt.Sprintf("8-byte/%d/nulls=%v", nk, nulls), func(t *testing.T) {
				testCompactKeys(t, eight[:nk], nulls)
			})
		}
	}
}

func testCompactKeys(t *testing.T, keyTypes []types.Type, nulls bool) {
	ctx := context.Background()
	const rows = 600
	rng := rand.New(rand.NewPCG(7, 8))
	cols := make([]coldata.Vector, len(keyTypes))
	for c, kt := range keyTypes {
		v := coldata.NewAllocator(nil).New(kt, rows)
		for range rows {
			if nulls && rng.IntN(12) == 0 {
				v.AppendNull()
				continue
			}
			x := int64(rng.IntN(7)) - 3
			if nulls && rng.IntN(4) == 0 { // (without NULLs, a small range of values)
				x = []int64{math.MinInt64, math.MaxInt64, -1, 0}[rng.IntN(4)]
			}
			switch v := v.(type) {
			case *coldata.Vec[int8]:
				v.Append(int8(x))
			case *coldata.Vec[int16]:
				v.Append(int16(x))
			case *coldata.Vec[int32]:
				v.Append(int32(x))
			case *coldata.Vec[int64]:
				v.Append(x)
			case *coldata.Vec[uint64]:
				v.Append(uint64(x))
			case *coldata.Vec[bool]:
				v.Append(x&1 == 1)
			case *coldata.Vec[float64]:
				v.Append(float64(x) / 3)
			default:
				t.Fatalf("vector %T", v)
			}
		}
		cols[c] = v
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	width := 10 * time.Second
	ts := &coldata.Vec[int64]{T: types.TimestampT}
	for i := range rows {
		ts.Append(base + int64(i%3)*int64(width) + int64(i))
	}
	for _, kind := range []string{"plain", "count", "updating"} {
		t.Run(kind, func(t *testing.T) {
			a := &program.Aggregate{Keys: len(keyTypes)}
			var fs []types.Field
			for c, kt := range keyTypes {
				fs = append(fs, types.Field{Name: fmt.Sprint("k", c), Type: kt, Nullable: true})
			}
			n := &program.Node{Op: program.OpAggregate, OperatorID: "agg"}
			if kind != "updating" {
				a.Window = &program.Window{Kind: program.WindowTumble, Width: width}
				fs = append(fs, types.Field{Name: "w", Type: program.WindowType})
			} else {
				n.Updating = true
			}
			if kind != "plain" {
				a.Calls = []program.AggCall{{Func: "count", Filter: -1, Type: types.Int64T}}
				fs = append(fs, types.Field{Name: "c", Type: types.Int64T})
			}
			fs = append(fs, types.Field{Name: types.TimestampField, Type: types.TimestampT})
			n.Schema, n.Aggregate = types.NewSchema(fs...), a
			in := coldata.NewBatch(append(slices.Clone(cols), ts), rows)
			finish := func(op *ops.Aggregate, out *collector2) {
				if err := op.OnWatermark(ctx, math.MaxInt64, out); err != nil {
					t.Fatal(err)
				}
				if _, err := op.Checkpoint(ctx, ops.Barrier{Epoch: 9, Stop: true}, out); err != nil {
					t.Fatal(err)
				}
			}
			// Uninterrupted: the input twice, a checkpoint between.
			plain, pout := newAgg(t, n, 0, 1), &collector2{}
			if err := plain.Process(ctx, 0, in, pout); err != nil {
				t.Fatal(err)
			}
			if _, err := plain.Checkpoint(ctx, ops.Barrier{Epoch: 1}, pout); err != nil {
				t.Fatal(err)
			}
			if err := plain.Process(ctx, 0, in, pout); err != nil {
				t.Fatal(err)
			}
			finish(plain, pout)
			want := lines(pout.batches)
			// Restored from that checkpoint, the second input after.
			first, out := newAgg(t, n, 0, 1), &collector2{}
			if err := first.Process(ctx, 0, in, out); err != nil {
				t.Fatal(err)
			}
			h, err := first.Checkpoint(ctx, ops.Barrier{Epoch: 1}, out)
			if err != nil {
				t.Fatal(err)
			}
			op := newAgg(t, n, 0, 1)
			if err := op.RestoreKeyed(ctx, []any{h}); err != nil {
				t.Fatal(err)
			}
			if err := op.Process(ctx, 0, in, out); err != nil {
				t.Fatal(err)
			}
			finish(op, out)
			if got := lines(out.batches); len(want) < 20 || !slices.Equal(got, want) {
				t.Fatalf("restored: %d rows, want %d; first difference %s", len(got), len(want), firstDiff(got, want))
			}
			if kind == "updating" {
				return
			}
			// Windows: restored at parallelism 2, no more input.
			once := newAgg(t, n, 0, 1)
			wout := &collector2{}
			if err := once.Process(ctx, 0, in, wout); err != nil {
				t.Fatal(err)
			}
			finish(once, wout)
			want = lines(wout.batches)
			var got []string
			for sub := range 2 {
				op, out := newAgg(t, n, sub, 2), &collector2{}
				if err := op.RestoreKeyed(ctx, []any{h}); err != nil {
					t.Fatal(err)
				}
				finish(op, out)
				got = append(got, lines(out.batches)...)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("restored at parallelism 2: %d rows, want %d; first difference %s", len(got), len(want), firstDiff(got, want))
			}
		})
	}
}
