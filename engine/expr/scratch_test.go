package expr

import (
	"context"
	"fmt"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/memory"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// TestScratchResultSurvivesNextBatch evaluates expressions whose
// temporaries come from the scratch allocator on two batches and checks
// that the first result still holds its values after the second Eval: it
// fails if a vector reachable from a result (the result itself, one of its
// buffers through a view, a field of a struct) were recycled, since the
// second batch's temporaries would overwrite it.
func TestScratchResultSurvivesNextBatch(t *testing.T) {
	a, b := col(0, tI64), col(1, tI64)
	sum := call("+", tI64, a, b)
	r, err := Builtins().funcs["struct"].Resolve([]types.Type{tI64, tI64})
	if err != nil {
		t.Fatal(err)
	}
	st := r.Result
	cases := []struct {
		name string
		e    *program.Expr
		// pooled is whether temporaries stay in the pool after a batch
		// (not when the result shares them all).
		pooled bool
	}{
		{"nested arithmetic", call("*", tI64, sum, call("-", tI64, a, b)), true},
		{"a cast that is a view of its temporary", cast(sum, tTS), false},
		{"coalesce returning its temporary", op(program.ExprCoalesce, tI64, sum, a), false},
		{"case choosing temporaries", &program.Expr{Op: program.ExprCase, Type: tI64, HasElse: true, Args: []*program.Expr{call(">", tBool, a, b), sum, call("-", tI64, a, b)}}, false},
		{"a struct of temporaries", call("struct", st, sum, call("-", tI64, a, b)), false},
		{"a field of a struct temporary", &program.Expr{Op: program.ExprField, Field: 1, Type: tI64, Args: []*program.Expr{
			call("struct", st, sum, call("-", tI64, a, b))}}, true},
		{"strings", call("upper", tStr, call("lower", tStr, col(2, tStr))), true},
	}
	batch := func(k int64) *coldata.Batch {
		x, y, s := coldata.New(tI64, 4), coldata.New(tI64, 4), coldata.New(tStr, 4)
		for i := int64(0); i < 4; i++ {
			x.(*coldata.Vec[int64]).Append(k*100 + i)
			y.(*coldata.Vec[int64]).Append(k + i*3)
			s.(*coldata.Bytes).AppendString(fmt.Sprintf("Row%d-%d", k, i))
		}
		return coldata.NewBatch([]coldata.Vector{x, y, s}, 4)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			acct := memory.NewRoot("test")
			comp := &Compiler{Alloc: coldata.NewAllocator(acct)}
			ev, err := comp.Compile(context.Background(), c.e)
			if err != nil {
				t.Fatal(err)
			}
			root, ok := ev.(*rootEval)
			if !ok {
				t.Fatalf("compiled to %T, want a rootEval", ev)
			}
			ctx := context.Background()
			out1, err := ev.Eval(ctx, batch(1))
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprint(values(out1, allRows(4)))
			if len(want) < 10 {
				t.Fatalf("result %s: no values", want)
			}
			for k := int64(2); k < 5; k++ {
				if _, err := ev.Eval(ctx, batch(k)); err != nil {
					t.Fatal(err)
				}
			}
			if got := fmt.Sprint(values(out1, allRows(4))); got != want {
				t.Fatalf("the first result changed after later batches:\n got %s\nwant %s", got, want)
			}
			if c.pooled && root.scratch.Pooled() == 0 {
				t.Fatal("no temporaries pooled")
			}
			// And the result equals what the expression computes without
			// scratch reuse.
			plain, err := (&Compiler{NoScratch: true}).Compile(ctx, c.e)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := plain.Eval(ctx, batch(1))
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(values(ref, allRows(4))); got != want {
				t.Fatalf("with scratch %s, without %s", want, got)
			}
			if acct.Allocated() == 0 {
				t.Fatal("nothing charged to the account")
			}
		})
	}
}

// TestScratchReusesTemporaries checks that in steady state a nested
// expression allocates only its result: its temporaries are reused.
func TestScratchReusesTemporaries(t *testing.T) {
	a, b := col(0, tI64), col(1, tI64)
	e := call("*", tI64, call("+", tI64, a, b), call("-", tI64, call("+", tI64, a, lit(tI64, 3)), b))
	cols := []coldata.Vector{coldata.New(tI64, 1024), coldata.New(tI64, 1024)}
	for i := 0; i < 1024; i++ {
		cols[0].(*coldata.Vec[int64]).Append(int64(i))
		cols[1].(*coldata.Vec[int64]).Append(int64(2 * i))
	}
	bt := coldata.NewBatch(cols, 1024)
	ctx := context.Background()
	allocs := func(noScratch bool) float64 {
		ev, err := (&Compiler{NoScratch: noScratch}).Compile(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		return testingAllocs(func() {
			if _, err := ev.Eval(ctx, bt); err != nil {
				t.Fatal(err)
			}
		})
	}
	with, without := allocs(false), allocs(true)
	if with >= without {
		t.Fatalf("allocations per batch with scratch reuse %v, without %v: want fewer", with, without)
	}
	if with > 2 {
		t.Fatalf("allocations per batch with scratch reuse %v, want at most 2 (the result's header and values)", with)
	}
}
