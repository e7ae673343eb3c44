package ops_test

import (
	"context"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/memory"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// discard is a collector that drops what it is given.
type discard struct{}

func (discard) Collect(*coldata.Batch) error { return nil }

// allocSlack: see engine/expr's allocs_test.go. Operators may also grow
// state (a group table, a join's buffer) a few times per batch; what they
// must not do is allocate per row.
const allocSlack = 16

// perBatch returns the allocations of one run of f over a batch of 64 rows
// and over one of 4096.
func perBatch(t *testing.T, f func(n int) func()) (small, big float64) {
	t.Helper()
	return testing.AllocsPerRun(10, f(64)), testing.AllocsPerRun(10, f(4096))
}

func keyedRows(n, keys int, ts int64) *coldata.Batch {
	rows := make([][3]int64, n)
	for i := range rows {
		rows[i] = [3]int64{int64(i % keys), int64(i), ts}
	}
	return keyed(rows...)
}

// TestOperatorAllocsPerBatch: for each operator kind, processing a batch in
// steady state makes a bounded number of allocations, the same for 64 rows
// as for 4096 (a constant per batch, never per row), and the operator's
// allocations are charged to its task's account.
func TestOperatorAllocsPerBatch(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		run  func(t *testing.T, task ops.TaskInfo) func(n int) func()
	}{
		{"calc", func(t *testing.T, task ops.TaskInfo) func(n int) func() {
			op, err := ops.NewCalc(ctx, &program.Calc{Filters: []*program.Expr{bNonZero}, Project: projection}, task)
			if err != nil {
				t.Fatal(err)
			}
			return func(n int) func() {
				b := keyedRows(n, 7, 5)
				b.Cols[1].(*coldata.Vec[int64]).Vals[0] = 1 // b <> 0 everywhere
				return func() {
					if err := op.Process(ctx, 0, b, discard{}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}},
		{"windowed aggregate", func(t *testing.T, task ops.TaskInfo) func(n int) func() {
			n := aggNode(&program.Window{Kind: program.WindowTumble, Width: 1 << 40}, false)
			op, err := ops.NewAggregate(n, task)
			if err != nil {
				t.Fatal(err)
			}
			return func(n int) func() {
				b := keyedRows(n, 16, 5)
				if err := op.Process(ctx, 0, b, discard{}); err != nil { // the groups exist
					t.Fatal(err)
				}
				return func() {
					if err := op.Process(ctx, 0, b, discard{}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}},
		{"updating aggregate (changelog)", func(t *testing.T, task ops.TaskInfo) func(n int) func() {
			n := aggNode(nil, false)
			op, err := ops.NewAggregate(n, task)
			if err != nil {
				t.Fatal(err)
			}
			return func(n int) func() {
				b := keyedRows(n, 16, 5)
				return func() {
					if err := op.Process(ctx, 0, b, discard{}); err != nil {
						t.Fatal(err)
					}
					// Emit the changes of the 16 groups.
					if err := op.Tick(ctx, discard{}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}},
		{"calc over a changelog (split update pairs)", func(t *testing.T, task ops.TaskInfo) func(n int) func() {
			c := func(i int, typ types.Type) *program.Expr {
				return &program.Expr{Op: program.ExprCol, Col: i, Type: typ}
			}
			node := &program.Node{Op: program.OpCalc, Updating: true, Calc: &program.Calc{
				Filters: []*program.Expr{call(">", types.BoolT, c(1, types.Int64T), lit(10))},
				Project: []*program.Expr{c(0, types.Int64T), c(1, types.Int64T), c(2, program.ChangeKindType), c(3, types.TimestampT)},
			}}
			op, err := ops.New(ctx, node, task)
			if err != nil {
				t.Fatal(err)
			}
			return func(n int) func() {
				// Update pairs whose before passes the filter and whose
				// after does not: each becomes a delete.
				chs := make([]change, n)
				for i := range chs {
					if i%2 == 0 {
						chs[i] = change{int64(i), 20, cUB}
					} else {
						chs[i] = change{int64(i - 1), 5, cUA}
					}
				}
				b := changeBatch(chs, nil)
				return func() {
					if err := op.Process(ctx, 0, b, discard{}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}},
		{"windowed join", func(t *testing.T, task ops.TaskInfo) func(n int) func() {
			op, err := ops.NewJoin(joinNode(program.JoinInner, true), task)
			if err != nil {
				t.Fatal(err)
			}
			return func(n int) func() {
				ts := int64(0)
				return func() {
					// A window per run: buffered, joined and emitted.
					ts += 10
					l, r := keyedRows(n, 16, ts), keyedRows(16, 16, ts)
					if err := op.Process(ctx, 0, l, discard{}); err != nil {
						t.Fatal(err)
					}
					if err := op.Process(ctx, 1, r, discard{}); err != nil {
						t.Fatal(err)
					}
					if err := op.OnWatermark(ctx, ts+1, discard{}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}},
		{"window function (top-N)", func(t *testing.T, task ops.TaskInfo) func(n int) func() {
			node := &program.Node{Op: program.OpWindowFunc, OperatorID: "wf",
				Schema: types.NewSchema(types.Field{Name: "v", Type: types.Int64T}, types.Field{Name: "rn", Type: types.UInt64T}, types.Field{Name: types.TimestampField, Type: types.TimestampT}),
				WindowFunc: &program.WindowFunc{Keys: 1, Cols: 1, Row: []types.Type{types.Int64T}, Limit: 3,
					Order: []program.SortKey{{Col: 1, Desc: true, NullsFirst: true}},
					Calls: []program.WinCall{{Func: "row_number", Arg: -1, Type: types.UInt64T}}}}
			op, err := ops.NewWindowFunc(node, task)
			if err != nil {
				t.Fatal(err)
			}
			return func(n int) func() {
				ts := int64(0)
				return func() {
					ts += 10
					// Descending values: past each partition's first rows,
					// none beats the N-th best and none is buffered.
					b := keyedRows(n, 4, ts)
					vals := b.Cols[1].(*coldata.Vec[int64]).Vals
					for i := range vals {
						vals[i] = int64(n - i)
					}
					if err := op.Process(ctx, 0, b, discard{}); err != nil {
						t.Fatal(err)
					}
					if err := op.OnWatermark(ctx, ts, discard{}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			acct := memory.NewRoot("test")
			task := ops.TaskInfo{OperatorID: "op", Parallelism: 1, KeyGroups: [2]int{0, 128}, MaxKeyGroups: 128,
				Alloc: coldata.NewAllocator(acct), Account: acct}
			small, big := perBatch(t, c.run(t, task))
			if big > small+allocSlack {
				t.Fatalf("%v allocations for 4096 rows, %v for 64: allocating per row", big, small)
			}
			// A windowed aggregate allocates vectors when a window closes,
			// which no watermark does here.
			if acct.Allocated() == 0 && c.name != "windowed aggregate" {
				t.Fatal("nothing charged to the task's account")
			}
			t.Logf("%v allocations per batch (64 rows), %v (4096 rows); %d bytes allocated", small, big, acct.Allocated())
		})
	}
}
