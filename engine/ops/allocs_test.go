package ops_test

import (
	"context"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/memory"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
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
