package ops_test

import (
	"context"
	"math"
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
