package ops_test

import (
	"context"
	"encoding/binary"
	"math"
	"runtime"
	"runtime/metrics"
	"slices"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/memory"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
	"github.com/arroyogo/arroyo/engine/types"
)

// bufferer buffers rows in an operator: feed(i) sends the i-th batch.
type bufferer struct {
	name string
	make func(t testing.TB) (feed func(b *coldata.Batch) error)
	// keys is the number of keys (partitions) rows are spread over: 0 is
	// a tenth of the rows.
	keys int
}

var allTask = ops.TaskInfo{OperatorID: "op", Parallelism: 1, KeyGroups: [2]int{0, state.MaxKeyGroups}, MaxKeyGroups: state.MaxKeyGroups}

func wfNode(limit int64) *program.Node {
	return &program.Node{Op: program.OpWindowFunc, OperatorID: "wf",
		Schema: types.NewSchema(types.Field{Name: "v", Type: types.Int64T}, types.Field{Name: "rn", Type: types.UInt64T}, types.Field{Name: types.TimestampField, Type: types.TimestampT}),
		WindowFunc: &program.WindowFunc{Keys: 1, Cols: 1, Row: []types.Type{types.Int64T}, Limit: limit,
			Order: []program.SortKey{{Col: 1, Desc: true, NullsFirst: true}},
			Calls: []program.WinCall{{Func: "row_number", Arg: -1, Type: types.UInt64T}}}}
}

var bufferers = []bufferer{
	{name: "windowed join", make: func(t testing.TB) func(b *coldata.Batch) error {
		op, err := ops.NewJoin(joinNode(program.JoinInner, true), allTask)
		if err != nil {
			t.Fatal(err)
		}
		side := 0
		return func(b *coldata.Batch) error {
			side = 1 - side
			return op.Process(context.Background(), side, b, discard{})
		}
	}},
	{name: "updating join", make: func(t testing.TB) func(b *coldata.Batch) error {
		// Keys on one side only: every row is kept, none joins.
		op, err := ops.NewJoin(joinNode(program.JoinInner, false), allTask)
		if err != nil {
			t.Fatal(err)
		}
		return func(b *coldata.Batch) error { return op.Process(context.Background(), 0, b, discard{}) }
	}},
	{name: "window function", make: func(t testing.TB) func(b *coldata.Batch) error {
		op, err := ops.NewWindowFunc(wfNode(0), allTask)
		if err != nil {
			t.Fatal(err)
		}
		return func(b *coldata.Batch) error { return op.Process(context.Background(), 0, b, discard{}) }
	}},
	{name: "window function (top-N, every row beats the threshold)", make: func(t testing.TB) func(b *coldata.Batch) error {
		// ORDER BY v DESC over rising values (v is the row number): each
		// row is buffered, and a partition is pruned every 67 rows.
		op, err := ops.NewWindowFunc(wfNode(3), allTask)
		if err != nil {
			t.Fatal(err)
		}
		return func(b *coldata.Batch) error { return op.Process(context.Background(), 0, b, discard{}) }
	}, keys: 4},
}

// bufferBatches returns 10 batches of n/10 rows over keys keys, all of
// event time 9 (one window).
func bufferBatches(n, keys int) []*coldata.Batch {
	var bs []*coldata.Batch
	for i := 0; i < n; i += n / 10 {
		rows := make([][3]int64, n/10)
		for k := range rows {
			rows[k] = [3]int64{int64((i + k) % keys), int64(i + k), 9}
		}
		bs = append(bs, keyed(rows...))
	}
	return bs
}

// TestBufferedRowAllocs: buffering rows in one window allocates per
// batch and for the state's amortised growth, not per row: buffering
// 100K rows in 10 batches allocates less than twice what 10K rows in 10
// batches do (a pointer per row would make it ten times), and less than
// one allocation per 50 rows.
func TestBufferedRowAllocs(t *testing.T) {
	for _, c := range bufferers {
		t.Run(c.name, func(t *testing.T) {
			allocs := func(n int) float64 {
				keys := c.keys
				if keys == 0 {
					keys = n / 10
				}
				bs := bufferBatches(n, keys)
				return testing.AllocsPerRun(2, func() {
					feed := c.make(t)
					for _, b := range bs {
						if err := feed(b); err != nil {
							t.Fatal(err)
						}
					}
				})
			}
			small, big := allocs(10_000), allocs(100_000)
			t.Logf("%v allocations for 10K rows, %v for 100K", small, big)
			if big >= 2*small || big > 100_000/50 {
				t.Errorf("%v allocations buffering 100K rows, %v for 10K: allocating per row", big, small)
			}
		})
	}
}

// BenchmarkBufferedGCScan buffers 1M rows (100K keys, one window) in each
// stateful operator and reports what the garbage collector has to scan
// (runtime/metrics /gc/scan/heap:bytes after a forced GC) and the CPU a
// forced GC takes with that state live.
func BenchmarkBufferedGCScan(b *testing.B) {
	for _, c := range bufferers[:3] {
		b.Run(c.name, func(b *testing.B) {
			bs := bufferBatches(1_000_000, 100_000)
			for i := 0; i < b.N; i++ {
				feed := c.make(b)
				for _, bt := range bs {
					if err := feed(bt); err != nil {
						b.Fatal(err)
					}
				}
				s := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/gc/heap/objects:objects"}}
				runtime.GC()
				metrics.Read(s)
				cpu0 := s[1].Value.Float64()
				const gcs = 5
				for k := 0; k < gcs; k++ {
					runtime.GC()
				}
				metrics.Read(s)
				b.ReportMetric(float64(s[0].Value.Uint64())/(1<<20), "scan-MiB")
				b.ReportMetric(float64(s[2].Value.Uint64()), "heap-objects")
				b.ReportMetric((s[1].Value.Float64()-cpu0)/gcs*1000, "gc-cpu-ms")
				runtime.KeepAlive(feed)
			}
		})
	}
}

// TestJoinNullKeysAfterRestore: rows with a NULL key match nothing, also
// when some were restored into a bucket (where their keys' numbers are
// not the bucket's key count any more) and others arrive after.
func TestJoinNullKeysAfterRestore(t *testing.T) {
	ctx := context.Background()
	n := joinNode(program.JoinFull, true)
	// The NULL key's subtask at parallelism 3, and a key on another one.
	h := []uint64{0}
	null := &coldata.Vec[int64]{T: types.Int64T}
	null.AppendNull()
	coldata.HashInto(null, []int32{0}, h)
	ns := state.SubtaskOf(state.KeyGroupOf(h[0], state.MaxKeyGroups), 3, state.MaxKeyGroups)
	var other []int64
	for k := int64(0); len(other) < 3; k++ {
		if routeOf(k, 3) != ns {
			other = append(other, k)
		}
	}
	first := newJoin(t, n, 0, 1)
	out := &collector2{}
	// Three other keys, then a NULL-keyed left row: its key is numbered
	// after them.
	left := keyed([3]int64{other[0], 1, 9}, [3]int64{other[1], 2, 9}, [3]int64{other[2], 3, 9}, [3]int64{-1, 30, 9})
	if err := first.Process(ctx, 0, left, out); err != nil {
		t.Fatal(err)
	}
	hd, err := first.Checkpoint(ctx, ops.Barrier{Epoch: 1}, out)
	if err != nil {
		t.Fatal(err)
	}
	op := newJoin(t, n, ns, 3)
	if err := op.RestoreKeyed(ctx, []any{hd}); err != nil {
		t.Fatal(err)
	}
	// NULL-keyed right rows after the restore.
	right := keyed([3]int64{-1, 400, 9}, [3]int64{-1, 401, 9}, [3]int64{-1, 402, 9}, [3]int64{-1, 403, 9})
	if err := op.Process(ctx, 1, right, out); err != nil {
		t.Fatal(err)
	}
	if err := op.OnWatermark(ctx, math.MaxInt64, out); err != nil {
		t.Fatal(err)
	}
	got := lines(out.batches)
	slices.Sort(got)
	want := []string{"30 <nil> 9", "<nil> 400 9", "<nil> 401 9", "<nil> 402 9", "<nil> 403 9"}
	if !slices.Equal(got, want) {
		t.Errorf("NULL keys after a restore: %q, want %q", got, want)
	}
}

// TestJoinRestoresCopies restores an entry in the snapshot encoding that
// earlier versions wrote for duplicate rows (a row once, with its count of
// copies): each copy joins.
func TestJoinRestoresCopies(t *testing.T) {
	ctx := context.Background()
	n := joinNode(program.JoinInner, true)
	st, err := state.New(state.Config{OperatorID: "join", Subtask: 0, Parallelism: 1, MaxKeyGroups: state.MaxKeyGroups}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kv := &coldata.Vec[int64]{T: types.Int64T, Vals: []int64{5}}
	h := []uint64{0}
	coldata.HashInto(kv, []int32{0}, h)
	enc := func(v int64) []byte {
		return coldata.AppendEncoded(nil, &coldata.Vec[int64]{T: types.Int64T, Vals: []int64{v}}, 0)
	}
	key := binary.BigEndian.AppendUint64(nil, 9)
	key = coldata.AppendEncoded(key, kv, 0)
	val := binary.LittleEndian.AppendUint64(nil, h[0])
	val = binary.AppendVarint(val, 0)
	for _, rows := range [][][2]int64{{{10, 2}, {11, 1}}, {{100, 3}}} { // (value, copies)
		val = binary.AppendUvarint(val, uint64(len(rows)))
		for _, r := range rows {
			row := enc(r[0])
			val = binary.AppendUvarint(val, uint64(r[1]))
			val = binary.AppendUvarint(val, uint64(len(row)))
			val = append(val, row...)
		}
	}
	st.Keyed("groups").Put(state.KeyGroupOf(h[0], state.MaxKeyGroups), key, val, state.NoExpiry)
	j := newJoin(t, n, 0, 1)
	if err := j.RestoreKeyed(ctx, []any{st.Snapshot(1)}); err != nil {
		t.Fatal(err)
	}
	out := &collector2{}
	if err := j.OnWatermark(ctx, math.MaxInt64, out); err != nil {
		t.Fatal(err)
	}
	got := lines(out.batches)
	want := []string{"10 100 9", "10 100 9", "10 100 9", "10 100 9", "10 100 9", "10 100 9", "11 100 9", "11 100 9", "11 100 9"}
	if !slices.Equal(got, want) {
		t.Errorf("restored copies: %q, want %q", got, want)
	}
}

// BenchmarkWindowFuncTopN feeds a top-1 window function batches of 4096
// rows in 4 partitions of one window: past the first rows almost every
// row is compared with its partition's threshold and dropped.
func BenchmarkWindowFuncTopN(b *testing.B) {
	op, err := ops.NewWindowFunc(wfNode(1), allTask)
	if err != nil {
		b.Fatal(err)
	}
	rows := make([][3]int64, 4096)
	for i := range rows {
		rows[i] = [3]int64{int64(i % 4), int64((i * 7919) % 100_000), 9}
	}
	bt := keyed(rows...)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := op.Process(context.Background(), 0, bt, discard{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*4096/b.Elapsed().Seconds(), "rows/s")
}

// TestStateMemoryCharged: the memory a join's or a window function's
// buffered rows hold is charged to the task's account at each watermark
// (vectors are charged by the allocator; this task has none), and released
// by Close.
func TestStateMemoryCharged(t *testing.T) {
	ctx := context.Background()
	type op interface {
		ops.WatermarkHandler
		ops.Closer
	}
	for _, c := range []struct {
		name string
		make func(task ops.TaskInfo) (op, func(*coldata.Batch) error)
	}{
		{"windowed join", func(task ops.TaskInfo) (op, func(*coldata.Batch) error) {
			j, err := ops.NewJoin(joinNode(program.JoinInner, true), task)
			if err != nil {
				t.Fatal(err)
			}
			return j, func(b *coldata.Batch) error { return j.Process(ctx, 0, b, discard{}) }
		}},
		{"window function", func(task ops.TaskInfo) (op, func(*coldata.Batch) error) {
			w, err := ops.NewWindowFunc(wfNode(0), task)
			if err != nil {
				t.Fatal(err)
			}
			return w, func(b *coldata.Batch) error { return w.Process(ctx, 0, b, discard{}) }
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			acct := memory.NewRoot("test")
			task := allTask
			task.Account = acct
			o, feed := c.make(task)
			for _, b := range bufferBatches(100_000, 1000) {
				if err := feed(b); err != nil {
					t.Fatal(err)
				}
			}
			if err := o.OnWatermark(ctx, 5, discard{}); err != nil { // the window stays open
				t.Fatal(err)
			}
			held := acct.Used()
			// 100K rows of an 8-byte value, each with a row record.
			if held < 100_000*(8+16) {
				t.Errorf("%d bytes charged for 100K buffered rows", held)
			}
			if err := o.OnWatermark(ctx, math.MaxInt64, discard{}); err != nil {
				t.Fatal(err)
			}
			if err := o.Close(); err != nil {
				t.Fatal(err)
			}
			if u := acct.Used(); u != 0 {
				t.Errorf("%d bytes still charged after Close (%d while buffering)", u, held)
			}
			t.Logf("%d bytes charged for 100K buffered rows", held)
		})
	}
}
