package ops_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
	"github.com/arroyogo/arroyo/engine/types"
)

// joinNode joins (key BIGINT, v BIGINT, ...hidden) with itself's shape:
// output (left v, right v, [_op], ts).
func joinNode(kind program.JoinKind, windowed bool) *program.Node {
	fs := []types.Field{{Name: "lv", Type: types.Int64T, Nullable: true}, {Name: "rv", Type: types.Int64T, Nullable: true}}
	if !windowed {
		fs = append(fs, types.Field{Name: program.ChangeKindField, Type: program.ChangeKindType})
	}
	fs = append(fs, types.Field{Name: types.TimestampField, Type: types.TimestampT})
	return &program.Node{Op: program.OpJoin, OperatorID: "join", Schema: types.NewSchema(fs...), Updating: !windowed,
		Join: &program.Join{Kind: kind, Keys: 1, Left: 1, Windowed: windowed}}
}

func newJoin(t *testing.T, n *program.Node, sub, par int) *ops.Join {
	t.Helper()
	lo, hi := state.KeyGroupRange(sub, par, state.MaxKeyGroups)
	j, err := ops.NewJoin(n, ops.TaskInfo{OperatorID: n.OperatorID, Subtask: sub, Parallelism: par, KeyGroups: [2]int{lo, hi}, MaxKeyGroups: state.MaxKeyGroups})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// keyed builds a batch of (k, v, ts) rows; k < 0 is a NULL key.
func keyed(rows ...[3]int64) *coldata.Batch {
	k := &coldata.Vec[int64]{T: types.Int64T}
	v := &coldata.Vec[int64]{T: types.Int64T}
	ts := &coldata.Vec[int64]{T: types.TimestampT}
	for _, r := range rows {
		if r[0] < 0 {
			k.AppendNull()
		} else {
			k.Append(r[0])
		}
		v.Append(r[1])
		ts.Append(r[2])
	}
	return coldata.NewBatch([]coldata.Vector{k, v, ts}, len(rows))
}

// TestWindowedJoinKinds joins the rows of two windows (event times 9 and
// 19) for every join kind: matched keys pair up (all pairs of duplicates),
// unmatched ones are padded on outer sides, NULL keys never match.
func TestWindowedJoinKinds(t *testing.T) {
	ctx := context.Background()
	left := keyed([3]int64{1, 10, 9}, [3]int64{1, 11, 9}, [3]int64{2, 20, 9}, [3]int64{-1, 30, 9}, [3]int64{1, 12, 19})
	right := keyed([3]int64{1, 100, 9}, [3]int64{3, 300, 9}, [3]int64{-1, 400, 9}, [3]int64{1, 101, 19})
	want := map[program.JoinKind][]string{
		program.JoinInner: {"10 100 9", "11 100 9", "12 101 19"},
		program.JoinLeft:  {"10 100 9", "11 100 9", "12 101 19", "20 <nil> 9", "30 <nil> 9"},
		program.JoinRight: {"10 100 9", "11 100 9", "12 101 19", "<nil> 300 9", "<nil> 400 9"},
		program.JoinFull:  {"10 100 9", "11 100 9", "12 101 19", "20 <nil> 9", "30 <nil> 9", "<nil> 300 9", "<nil> 400 9"},
	}
	for kind, w := range want {
		j := newJoin(t, joinNode(kind, true), 0, 1)
		out := &collector2{}
		if err := j.Process(ctx, 0, left, out); err != nil {
			t.Fatal(err)
		}
		if err := j.Process(ctx, 1, right, out); err != nil {
			t.Fatal(err)
		}
		if err := j.OnWatermark(ctx, 10, out); err != nil {
			t.Fatal(err)
		}
		if n := len(lines(out.batches)); n == len(w) {
			t.Errorf("%s: the window at 19 was emitted at watermark 10", kind)
		}
		// A late row for the closed window is dropped.
		if err := j.Process(ctx, 0, keyed([3]int64{3, 99, 9}), out); err != nil {
			t.Fatal(err)
		}
		if err := j.OnWatermark(ctx, math.MaxInt64, out); err != nil {
			t.Fatal(err)
		}
		if got := lines(out.batches); !slices.Equal(got, w) {
			t.Errorf("%s join: %q, want %q", kind, got, w)
		}
	}
}

// TestUpdatingJoinRetracts checks an updating inner join: each arrival
// joins the other side's rows so far; a retraction from an updating input
// retracts the pairs it had produced.
func TestUpdatingJoinRetracts(t *testing.T) {
	ctx := context.Background()
	n := joinNode(program.JoinInner, false)
	n.Join.Retract = [2]bool{true, false}
	j := newJoin(t, n, 0, 1)
	withOps := func(b *coldata.Batch, ops ...int8) *coldata.Batch {
		o := &coldata.Vec[int8]{T: program.ChangeKindType, Vals: ops}
		cols := append(append([]coldata.Vector{}, b.Cols[:2]...), o, b.Cols[2])
		return coldata.NewBatch(cols, b.Len)
	}
	out := &collector2{}
	steps := []struct {
		input int
		b     *coldata.Batch
		want  []string
	}{
		{0, withOps(keyed([3]int64{1, 10, 1}), program.ChangeInsert), nil},
		{1, keyed([3]int64{1, 100, 2}, [3]int64{1, 101, 2}), []string{"10 100 0 2", "10 101 0 2"}},
		{0, withOps(keyed([3]int64{1, 10, 3}, [3]int64{1, 11, 3}), program.ChangeUpdateBefore, program.ChangeUpdateAfter),
			[]string{"10 100 3 3", "10 101 3 3", "11 100 0 3", "11 101 0 3"}},
		{1, keyed([3]int64{2, 200, 4}), nil},
	}
	for i, st := range steps {
		out.batches = nil
		if err := j.Process(ctx, st.input, st.b, out); err != nil {
			t.Fatal(err)
		}
		if got := lines(out.batches); !slices.Equal(got, st.want) {
			t.Errorf("step %d: %q, want %q", i, got, st.want)
		}
	}
	// A retraction of a row never sent is an error, not a silent loss.
	if err := j.Process(ctx, 0, withOps(keyed([3]int64{5, 1, 5}), program.ChangeDelete), out); err == nil {
		t.Error("retracting an unknown row: no error")
	}
}

// TestJoinCheckpointRestore checkpoints a windowed join with rows buffered
// on both sides and restores it at parallelism 3: the output is what an
// uninterrupted join gives.
func TestJoinCheckpointRestore(t *testing.T) {
	ctx := context.Background()
	n := joinNode(program.JoinFull, true)
	var lrows, rrows [][3]int64
	for i := int64(0); i < 200; i++ {
		lrows = append(lrows, [3]int64{i % 17, i, (i % 5) * 10})
		rrows = append(rrows, [3]int64{i % 13, 1000 + i, (i % 5) * 10})
	}
	whole := &collector2{}
	j := newJoin(t, n, 0, 1)
	if err := j.Process(ctx, 0, keyed(lrows...), whole); err != nil {
		t.Fatal(err)
	}
	if err := j.Process(ctx, 1, keyed(rrows...), whole); err != nil {
		t.Fatal(err)
	}
	if err := j.OnWatermark(ctx, math.MaxInt64, whole); err != nil {
		t.Fatal(err)
	}

	cut := &collector2{}
	first := newJoin(t, n, 0, 1)
	if err := first.Process(ctx, 0, keyed(lrows...), cut); err != nil {
		t.Fatal(err)
	}
	h, err := first.Checkpoint(ctx, ops.Barrier{Epoch: 1}, cut)
	if err != nil {
		t.Fatal(err)
	}
	var second []*ops.Join
	for s := 0; s < 3; s++ {
		op := newJoin(t, n, s, 3)
		if err := op.RestoreKeyed(ctx, []any{h}); err != nil {
			t.Fatal(err)
		}
		second = append(second, op)
	}
	parts := make([][][3]int64, 3)
	for _, r := range rrows {
		s := 0
		if r[0] >= 0 {
			s = routeOf(r[0], 3)
		}
		parts[s] = append(parts[s], r)
	}
	for s, op := range second {
		if len(parts[s]) > 0 {
			if err := op.Process(ctx, 1, keyed(parts[s]...), cut); err != nil {
				t.Fatal(err)
			}
		}
		if err := op.OnWatermark(ctx, math.MaxInt64, cut); err != nil {
			t.Fatal(err)
		}
	}
	want, got := lines(whole.batches), lines(cut.batches)
	if len(want) < 100 || !slices.Equal(want, got) {
		t.Errorf("after restore %d rows, uninterrupted %d; %s", len(got), len(want), firstDiff(want, got))
	}
}

// TestUpdatingJoinTTL forgets a key no row has touched for the TTL: a
// later row of the key joins only with rows after it, and a retraction of
// an expired row is ignored.
func TestUpdatingJoinTTL(t *testing.T) {
	ctx := context.Background()
	n := joinNode(program.JoinInner, false)
	n.Join.TTL = 10
	j := newJoin(t, n, 0, 1)
	out := &collector2{}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(j.Process(ctx, 0, keyed([3]int64{1, 10, 0}), out))
	must(j.OnWatermark(ctx, 5, out))
	must(j.Process(ctx, 1, keyed([3]int64{1, 100, 3}), out))
	if got := lines(out.batches); !slices.Equal(got, []string{"10 100 0 3"}) {
		t.Fatalf("before expiry: %q", got)
	}
	out.batches = nil
	must(j.OnWatermark(ctx, 20, out)) // key 1 last seen at 3 < 20-10
	must(j.Process(ctx, 1, keyed([3]int64{1, 101, 21}), out))
	if got := lines(out.batches); len(got) != 0 {
		t.Errorf("after expiry the right row joined %q", got)
	}
}

// TestWindowFuncLimit: with a limit (top-N), a partition pruned while rows
// arrive emits the same first rows, numbered alike, as without it; ties go
// to the earlier row in both.
func TestWindowFuncLimit(t *testing.T) {
	ctx := context.Background()
	node := func(limit int64) *program.Node {
		return &program.Node{Op: program.OpWindowFunc, OperatorID: "wf",
			Schema: types.NewSchema(types.Field{Name: "v", Type: types.Int64T}, types.Field{Name: "rn", Type: types.UInt64T}, types.Field{Name: types.TimestampField, Type: types.TimestampT}),
			WindowFunc: &program.WindowFunc{Keys: 1, Cols: 1, Row: []types.Type{types.Int64T}, Limit: limit,
				Order: []program.SortKey{{Col: 1, Desc: true, NullsFirst: true}},
				Calls: []program.WinCall{{Func: "row_number", Arg: -1, Type: types.UInt64T}}}}
	}
	run := func(limit int64) []string {
		op, err := ops.NewWindowFunc(node(limit), ops.TaskInfo{OperatorID: "wf", Parallelism: 1, KeyGroups: [2]int{0, state.MaxKeyGroups}, MaxKeyGroups: state.MaxKeyGroups})
		if err != nil {
			t.Fatal(err)
		}
		out := &collector2{}
		for b := 0; b < 10; b++ {
			var rows [][3]int64
			for i := 0; i < 100; i++ {
				// Partition key 7, values with many ties.
				rows = append(rows, [3]int64{7, int64((b*100 + i) % 13), 9})
			}
			if err := op.Process(ctx, 0, keyed(rows...), out); err != nil {
				t.Fatal(err)
			}
		}
		if err := op.OnWatermark(ctx, math.MaxInt64, out); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range lines(out.batches) {
			got = append(got, l)
		}
		return got
	}
	all, top := run(0), run(3)
	var want []string
	for _, l := range all {
		if strings.HasSuffix(l, " 1 9") || strings.HasSuffix(l, " 2 9") || strings.HasSuffix(l, " 3 9") {
			want = append(want, l)
		}
	}
	if len(all) != 1000 || len(want) != 3 || !slices.Equal(top, want) {
		t.Errorf("limit 3: %q, want %q (of %d rows)", top, want, len(all))
	}
}
