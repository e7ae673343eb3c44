package expr

import (
	"context"
	"fmt"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// allocSlack bounds how many more allocations a batch of 4096 rows may
// make than one of 64: a builder's buffer may double a few times, but
// nothing may allocate per row (that would be thousands).
const allocSlack = 8

// allocBatch returns a batch of n rows: BIGINT, BIGINT, TEXT, TIMESTAMP,
// JSON, BIGINT[].
func allocBatch(n int) *coldata.Batch {
	cols := []coldata.Vector{
		coldata.New(tI64, n), coldata.New(tI64, n), coldata.New(tStr, n),
		coldata.New(tTS, n), coldata.New(tJSON, n), coldata.New(types.ListOf(tI64), n),
	}
	for i := 0; i < n; i++ {
		cols[0].(*coldata.Vec[int64]).Append(int64(i))
		cols[1].(*coldata.Vec[int64]).Append(int64(3*i + 1))
		cols[2].(*coldata.Bytes).AppendString(fmt.Sprintf("Row %d", i))
		cols[3].(*coldata.Vec[int64]).Append(int64(i) * 3_600_000_000_123)
		cols[4].(*coldata.Bytes).AppendString(fmt.Sprintf(`{"a": %d, "b": [1, 2]}`, i))
		l := cols[5].(*coldata.List)
		for k := 0; k <= i%3; k++ {
			l.Elems.(*coldata.Vec[int64]).Append(int64(k))
		}
		l.CloseRow()
	}
	return coldata.NewBatch(cols, n)
}

// TestKernelAllocsPerBatch: for each kernel family, evaluating a batch
// makes a bounded number of allocations, the same for 64 rows as for 4096
// (a constant per batch, never per row).
func TestKernelAllocsPerBatch(t *testing.T) {
	c0, c1, s, ts, js, list := col(0, tI64), col(1, tI64), col(2, tStr), col(3, tTS), col(4, tJSON), col(5, types.ListOf(tI64))
	for _, c := range []struct {
		family string
		e      *program.Expr
	}{
		{"arith", call("-", tI64, call("*", tI64, call("+", tI64, c0, c1), c0), lit(tI64, 3))},
		{"compare", call("<", tBool, c0, c1)},
		{"compare and logic", op(program.ExprAnd, tBool, call("<", tBool, c0, c1), call(">", tBool, c1, lit(tI64, 10)))},
		{"strings", call("upper", tStr, call("lower", tStr, s))},
		{"cast to text", cast(c0, tStr)},
		{"cast to double", cast(c0, tF64)},
		{"dates", call("date_trunc", tTS, lit(tStr, "hour"), ts)},
		{"json", call("json_get_int", tI64, js, lit(tStr, "a"))},
		{"arrays", call("cardinality", tU64, list)},
		{"conditional", &program.Expr{Op: program.ExprCase, Type: tI64, HasElse: true, Args: []*program.Expr{call(">", tBool, c0, lit(tI64, 30)), c0, c1}}},
	} {
		t.Run(c.family, func(t *testing.T) {
			ev, err := (&Compiler{}).Compile(context.Background(), c.e)
			if err != nil {
				t.Fatal(err)
			}
			per := func(n int) float64 {
				b := allocBatch(n)
				ctx := context.Background()
				return testing.AllocsPerRun(10, func() {
					if _, err := ev.Eval(ctx, b); err != nil {
						t.Fatal(err)
					}
				})
			}
			small, big := per(64), per(4096)
			if big > small+allocSlack {
				t.Fatalf("%v allocations for 4096 rows, %v for 64: allocating per row", big, small)
			}
			t.Logf("%v allocations per batch (64 rows), %v (4096 rows)", small, big)
		})
	}
}

// TestAggregateAllocsPerBatch: updating existing groups and taking their
// results makes a bounded number of allocations per batch, for each
// aggregate family.
func TestAggregateAllocsPerBatch(t *testing.T) {
	for _, c := range []struct {
		name string
		args []types.Type
		col  int
	}{
		{"count", []types.Type{tI64}, 0}, {"sum", []types.Type{tI64}, 0},
		{"min", []types.Type{tI64}, 0}, {"max", []types.Type{tStr}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, _ := Builtins().LookupAggregate(c.name)
			r, err := a.Resolve(c.args)
			if err != nil {
				t.Fatal(err)
			}
			acc := r.New()
			per := func(n int) float64 {
				b := allocBatch(n)
				slots := make([]uint32, n)
				for i := range slots {
					slots[i] = uint32(i % 16)
				}
				groups := []uint32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
				args := []coldata.Vector{b.Cols[c.col]}
				// Grow the groups first: state growth is not per batch.
				if err := acc.Update(slots, args, n, nil); err != nil {
					t.Fatal(err)
				}
				return testing.AllocsPerRun(10, func() {
					if err := acc.Update(slots, args, n, nil); err != nil {
						t.Fatal(err)
					}
					if _, err := acc.Result(groups); err != nil {
						t.Fatal(err)
					}
				})
			}
			small, big := per(64), per(4096)
			if big > small+allocSlack {
				t.Fatalf("%v allocations for 4096 rows, %v for 64: allocating per row", big, small)
			}
		})
	}
}
