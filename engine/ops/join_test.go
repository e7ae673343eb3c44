package ops_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/checkpoint"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/dataflow"
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

// joinStage is a join's subtasks at one parallelism.
type joinStage struct {
	t   *testing.T
	n   *program.Node
	ops []*ops.Join
	out *collector2
}

func newJoinStage(t *testing.T, n *program.Node, par int, handles []any) *joinStage {
	t.Helper()
	s := &joinStage{t: t, n: n, out: &collector2{}}
	for i := range par {
		j := newJoin(t, n, i, par)
		if handles != nil {
			if err := j.RestoreKeyed(context.Background(), handles); err != nil {
				t.Fatalf("restore subtask %d of %d: %v", i, par, err)
			}
		}
		s.ops = append(s.ops, j)
	}
	return s
}

// feed routes rows of side to the subtasks by key group.
func (s *joinStage) feed(side int, rows [][3]int64) {
	s.t.Helper()
	parts := make([][][3]int64, len(s.ops))
	for _, r := range rows {
		i := routeOf(r[0], len(s.ops))
		parts[i] = append(parts[i], r)
	}
	for i, j := range s.ops {
		if len(parts[i]) > 0 {
			if err := j.Process(context.Background(), side, keyed(parts[i]...), s.out); err != nil {
				s.t.Fatal(err)
			}
		}
	}
}

func (s *joinStage) watermark(w int64) {
	s.t.Helper()
	for _, j := range s.ops {
		if err := j.OnWatermark(context.Background(), w, s.out); err != nil {
			s.t.Fatal(err)
		}
	}
}

// checkpoint writes the subtasks' snapshots to d as epoch.
func (s *joinStage) checkpoint(d *checkpoint.Dir, epoch uint64) *checkpoint.Metadata {
	s.t.Helper()
	n := *s.n
	n.Parallelism = len(s.ops)
	prog := &program.Program{Name: "t", Version: program.Version, MaxKeyGroups: state.MaxKeyGroups, Nodes: []*program.Node{&n}}
	hs := make([]any, len(s.ops))
	for i, j := range s.ops {
		h, err := j.Checkpoint(context.Background(), ops.Barrier{Epoch: epoch}, s.out)
		if err != nil {
			s.t.Fatal(err)
		}
		hs[i] = h
	}
	m, err := d.Write(context.Background(), prog, dataflow.CompletedCheckpoint{Epoch: epoch, Snapshot: dataflow.Snapshot{n.OperatorID: hs}})
	if err != nil {
		s.t.Fatal(err)
	}
	return m
}

func loadJoin(t *testing.T, d *checkpoint.Dir, m *checkpoint.Metadata) []any {
	t.Helper()
	snap, err := d.Load(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return snap["join"]
}

// TestJoinIncrementalChain: a join's slabs keep their encoding by key
// group, and a durable checkpoint refers to the key groups of the slabs
// no row reached since the last one (a windowed join's closed-to-new-rows
// event times, an updating join's untouched key groups). A chain written
// at parallelism 1, restored at 3, continued there and restored at 2
// emits exactly what one uninterrupted instance does, for a windowed
// (full outer) and an updating (inner) join.
func TestJoinIncrementalChain(t *testing.T) {
	// A few keys, so that most key groups are untouched by a step.
	few := func(side int, base, ts int64) [][3]int64 {
		var rows [][3]int64
		for k := int64(0); k < 3; k++ {
			rows = append(rows, [3]int64{k, base + k, ts})
		}
		return rows
	}
	many := func(side int, base, ts int64) [][3]int64 {
		var rows [][3]int64
		for i := int64(0); i < 2000; i++ {
			k := i % 700
			if side == 1 {
				k = i % 500
			}
			if i%97 == 0 {
				k = -1 // NULL keys
			}
			rows = append(rows, [3]int64{k, base + i, ts})
		}
		return rows
	}
	type step struct {
		rows func(side int, base, ts int64) [][3]int64
		side int
		ts   int64
	}
	// Checkpoints after steps 1, 3 (restore at 3 after it), 4, 5
	// (restore at 2 after it).
	steps := []step{{many, 0, 10}, {many, 1, 20}, {many, 0, 30}, {many, 1, 30}, {few, 1, 10}, {few, 0, 40}, {many, 0, 50}, {many, 1, 10}}
	for _, windowed := range []bool{true, false} {
		name := "windowed"
		kind := program.JoinFull
		if !windowed {
			name, kind = "updating", program.JoinInner
		}
		t.Run(name, func(t *testing.T) {
			n := joinNode(kind, windowed)
			run := func(s *joinStage, i int) {
				st := steps[i]
				s.feed(st.side, st.rows(st.side, int64(i)*10000, st.ts))
			}
			ref := newJoinStage(t, n, 1, nil)
			for i := range steps {
				run(ref, i)
			}
			ref.watermark(math.MaxInt64)
			want := lines(ref.out.batches)

			root := t.TempDir()
			d := &checkpoint.Dir{Storage: checkpoint.Local{Root: root}, Root: "cp", Keep: 2}
			s1 := newJoinStage(t, n, 1, nil)
			run(s1, 0)
			run(s1, 1)
			m1 := s1.checkpoint(d, 1)
			run(s1, 2)
			run(s1, 3)
			m2 := s1.checkpoint(d, 2)
			if windowed && (m2.Referenced() == 0 || m2.Bytes() >= m1.Bytes()) {
				// Event times 10 and 20 did not change.
				t.Errorf("checkpoint 2: %d bytes of its own, %d referenced; checkpoint 1 has %d", m2.Bytes(), m2.Referenced(), m1.Bytes())
			}
			m3 := s1.checkpoint(d, 3) // nothing changed
			if m3.Referenced() == 0 || m3.Bytes() >= m2.Bytes()/10 {
				t.Errorf("checkpoint 3 (no change): %d bytes of its own, %d referenced; checkpoint 2 has %d", m3.Bytes(), m3.Referenced(), m2.Bytes())
			}

			s3 := newJoinStage(t, n, 3, loadJoin(t, d, m3))
			d3 := &checkpoint.Dir{Storage: checkpoint.Local{Root: root}, Root: "cp", Keep: 2}
			m4 := s3.checkpoint(d3, 4)
			if m4.Referenced() != 0 {
				t.Errorf("a restored job's first checkpoint refers to %d bytes", m4.Referenced())
			}
			run(s3, 4) // three keys: most key groups are unchanged
			m5 := s3.checkpoint(d3, 5)
			if m5.Referenced() == 0 || m5.Bytes() >= m4.Bytes()/4 {
				t.Errorf("checkpoint 5 (three keys changed): %d bytes of its own, %d referenced; checkpoint 4 has %d", m5.Bytes(), m5.Referenced(), m4.Bytes())
			}
			run(s3, 5)
			m6 := s3.checkpoint(d3, 6)

			s2 := newJoinStage(t, n, 2, loadJoin(t, d3, m6))
			for i := 6; i < len(steps); i++ {
				run(s2, i)
			}
			s2.watermark(math.MaxInt64)
			got := lines(append(append(s1.out.batches, s3.out.batches...), s2.out.batches...))
			if len(want) < 1000 || !slices.Equal(want, got) {
				t.Errorf("after the chain %d rows, uninterrupted %d; %s", len(got), len(want), firstDiff(want, got))
			}
		})
	}
}

// joinState fills a join subtask (parallelism 1) with rows: rows rows on
// the left side over rows/10 keys, one event time (windowed).
func joinState(b *testing.B, windowed bool, rows int) *ops.Join {
	j, err := ops.NewJoin(joinNode(program.JoinInner, windowed), allTask)
	if err != nil {
		b.Fatal(err)
	}
	const chunk = 4096
	batch := make([][3]int64, 0, chunk)
	for i := 0; i < rows; i++ {
		batch = append(batch, [3]int64{int64(i % (rows / 10)), int64(i), 9})
		if len(batch) == chunk || i == rows-1 {
			if err := j.Process(context.Background(), 0, keyed(batch...), discard{}); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return j
}

// BenchmarkJoinCheckpoint measures one Checkpoint of a join holding 1M
// buffered rows (100K keys, 8-byte rows; a windowed join's one event
// time, or an updating join's state), and the snapshot's encoding as the
// durable writer streams it (Snapshot.EncodeTo, to io.Discard): after a
// row in every key group (changed=all: everything is encoded again),
// after rows of three keys (changed=3keys) and after nothing
// (changed=none). ns/op includes the few rows fed before each
// checkpoint. BenchmarkJoinRestore restores that state.
//
//	go test ./engine/ops -run '^$' -bench 'Join(Checkpoint|Restore)' -benchtime 20x
func BenchmarkJoinCheckpoint(b *testing.B) {
	const rows = 1_000_000
	// One key per key group (state.MaxKeyGroups of them), and three keys.
	var all, three [][3]int64
	seen := map[int]bool{}
	for k := int64(0); len(seen) < state.MaxKeyGroups; k++ {
		if g := keyGroupOf(k); !seen[g] {
			seen[g] = true
			all = append(all, [3]int64{k, -k, 9})
		}
	}
	three = all[:3]
	for _, windowed := range []bool{true, false} {
		kind := "updating"
		if windowed {
			kind = "windowed"
		}
		j := joinState(b, windowed, rows)
		for _, c := range []struct {
			name string
			feed [][3]int64
		}{{"all", all}, {"3keys", three}, {"none", nil}} {
			for _, encode := range []bool{false, true} {
				name := fmt.Sprintf("%s/changed=%s", kind, c.name)
				if encode {
					name += "/encoded"
				}
				b.Run(name, func(b *testing.B) {
					var size int64
					for i := 0; b.Loop(); i++ {
						if c.feed != nil {
							if err := j.Process(context.Background(), 0, keyed(c.feed...), discard{}); err != nil {
								b.Fatal(err)
							}
						}
						h, err := j.Checkpoint(context.Background(), ops.Barrier{Epoch: uint64(i + 1)}, discard{})
						if err != nil {
							b.Fatal(err)
						}
						if encode {
							if size, _, err = h.(*state.Snapshot).EncodeTo(io.Discard); err != nil {
								b.Fatal(err)
							}
						}
					}
					if encode {
						b.ReportMetric(float64(size)/rows, "bytes/row")
					}
				})
			}
		}
	}
}

func BenchmarkJoinRestore(b *testing.B) {
	const rows = 1_000_000
	for _, windowed := range []bool{true, false} {
		kind := "updating"
		if windowed {
			kind = "windowed"
		}
		h, err := joinState(b, windowed, rows).Checkpoint(context.Background(), ops.Barrier{Epoch: 1}, discard{})
		if err != nil {
			b.Fatal(err)
		}
		data, err := h.(*state.Snapshot).MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(kind, func(b *testing.B) {
			for b.Loop() {
				snap, err := state.DecodeSnapshot(data)
				if err != nil {
					b.Fatal(err)
				}
				j, err := ops.NewJoin(joinNode(program.JoinInner, windowed), allTask)
				if err != nil {
					b.Fatal(err)
				}
				if err := j.RestoreKeyed(context.Background(), []any{snap}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// keyGroupOf is the key group of BIGINT key k.
func keyGroupOf(k int64) int {
	h := []uint64{0}
	coldata.HashInto(&coldata.Vec[int64]{T: types.Int64T, Vals: []int64{k}}, []int32{0}, h)
	return state.KeyGroupOf(h[0], state.MaxKeyGroups)
}
