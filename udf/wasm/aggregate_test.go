package wasm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/udf/wasm"
	"github.com/arroyogo/arroyo/udf/wasm/wasmtest"
)

func medianReg(t testing.TB, cfg wasm.Config) *expr.Registry {
	t.Helper()
	h := newHost(t, cfg)
	m := load(t, h, "median.wasm", wasmtest.Go(t, "examples/udfs/go/median"))
	reg := expr.Builtins().Scope()
	if err := wasm.Register(reg, m); err != nil {
		t.Fatal(err)
	}
	return reg
}

func newAcc(t testing.TB, reg *expr.Registry, fn string, args ...types.Type) expr.Accumulator {
	t.Helper()
	a, ok := reg.LookupAggregate(fn)
	if !ok {
		t.Fatalf("no aggregate %s", fn)
	}
	ra, err := a.ResolveWith(args, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ra.New()
}

func u64s(vals ...any) coldata.Vector { return vec(types.UInt64T, vals...) }

// TestAggregateAccumulator: Update, Retract, Merge, Snapshot/Restore and
// Reset of a UDAF's accumulator, results for several groups in one call.
func TestAggregateAccumulator(t *testing.T) {
	reg := medianReg(t, wasm.Config{})
	acc := newAcc(t, reg, "my_median", types.UInt64T)
	// Group 0: 1 5 9, group 1: 4 (and a NULL, left out), group 2 empty.
	if err := acc.Update([]uint32{0, 1, 0, 0, 1}, []coldata.Vector{u64s(uint64(1), uint64(4), uint64(5), uint64(9), nil)}, 5, nil); err != nil {
		t.Fatal(err)
	}
	res := func(slots ...uint32) string {
		t.Helper()
		v, err := acc.Result(slots)
		if err != nil {
			t.Fatal(err)
		}
		return values(v)
	}
	if got := res(0, 1, 2); got != "[5 4 <nil>]" {
		t.Fatalf("results %s", got)
	}
	r := acc.(expr.Retracter)
	if err := r.Retract([]uint32{0}, []coldata.Vector{u64s(uint64(9))}, 1, nil); err != nil {
		t.Fatal(err)
	}
	if got := res(0); got != "[3]" {
		t.Fatalf("after retracting 9: %s", got)
	}
	if err := r.Retract([]uint32{0}, []coldata.Vector{u64s(uint64(7))}, 1, nil); err == nil || !strings.Contains(err.Error(), "does not hold") {
		t.Fatalf("retracting a value not held: %v", err)
	}
	// Snapshot group 0 into group 5 of another accumulator.
	snap := acc.AppendSnapshot(nil, 0)
	other := newAcc(t, reg, "my_median", types.UInt64T)
	if err := other.Restore(5, snap); err != nil {
		t.Fatal(err)
	}
	if err := other.Restore(6, snap[:len(snap)-1]); err == nil {
		t.Fatal("a truncated snapshot restored")
	}
	// Merge group 1 into the restored one: 1 5 4 -> 4.
	if err := other.Merge([]uint32{5}, acc, []uint32{1}); err != nil {
		t.Fatal(err)
	}
	v, err := other.Result([]uint32{5})
	if err != nil || values(v) != "[4]" {
		t.Fatalf("merged: %v %v", v, err)
	}
	acc.Reset(0)
	if got := res(0, 1); got != "[<nil> 4]" {
		t.Fatalf("after reset: %s", got)
	}
}

// TestAggregateTwoArgsAndChunks: a two-argument UDAF with a NULL result,
// over more groups than one guest call may carry under a small memory
// limit (the host splits the call).
func TestAggregateTwoArgsAndChunks(t *testing.T) {
	reg := medianReg(t, wasm.Config{MemoryLimit: 8 << 20})
	acc := newAcc(t, reg, "weighted_mean", types.Float64T, types.Float64T)
	const groups, per = 400, 200
	n := groups * per
	xs := &coldata.Vec[float64]{T: types.Float64T, Vals: make([]float64, n)}
	ws := &coldata.Vec[float64]{T: types.Float64T, Vals: make([]float64, n)}
	slots := make([]uint32, n)
	for i := range n {
		g := i % groups
		slots[i] = uint32(g)
		xs.Vals[i] = float64(g)
		ws.Vals[i] = 1
		if g == 7 {
			ws.Vals[i] = 0 // weights add up to 0: NULL
		}
	}
	for round := 0; round < 10; round++ { // 10x the rows: 12.8 MB of input, over the 2 MiB a call may take
		if err := acc.Update(slots, []coldata.Vector{xs, ws}, n, nil); err != nil {
			t.Fatal(err)
		}
	}
	all := make([]uint32, groups+1)
	for i := range all {
		all[i] = uint32(i) // group 400 is empty
	}
	v, err := acc.Result(all)
	if err != nil {
		t.Fatal(err)
	}
	f := v.(*coldata.Vec[float64])
	for g := 0; g < groups; g++ {
		switch {
		case g == 7 && !f.IsNull(g):
			t.Errorf("group 7 (zero weights) = %v, want NULL", f.Vals[g])
		case g != 7 && (f.IsNull(g) || f.Vals[g] != float64(g)):
			t.Errorf("group %d = %v (null %v)", g, f.Vals[g], f.IsNull(g))
		}
	}
	if !f.IsNull(groups) {
		t.Error("the empty group is not NULL")
	}
}

// TestNoTimeLimit: with udf.call_timeout off the module is compiled without
// termination checks and computes the same.
func TestNoTimeLimit(t *testing.T) {
	h := newHost(t, wasm.Config{CallTimeout: -1})
	m := load(t, h, "scalars.wasm", wasmtest.Go(t, "examples/udfs/go/scalars"))
	reg := expr.Builtins().Scope()
	if err := wasm.Register(reg, m); err != nil {
		t.Fatal(err)
	}
	out, err := call(t, reg, "inc_i64_vec", ints(1, 2, 3))
	if err != nil || values(out) != "[2 3 4]" {
		t.Fatalf("inc_i64_vec = %v, %v", out, err)
	}
	// A host with a limit over the same cache directory still stops a
	// runaway loop compiled (and cached) without the checks first: the
	// caches are kept apart.
	load(t, h, "loop.wasm", wasmtest.WAT(t, "spec/udfs/loop.wat"))
	h2 := newHost(t, wasm.Config{CallTimeout: 200 * time.Millisecond})
	b, _ := bindF(t, h2, "spec/udfs/loop.wat", "f", types.Int64T)
	defer b.Close()
	if _, err := b.Eval(context.Background(), []coldata.Vector{ints(1)}, 1, nil); err == nil || !strings.Contains(err.Error(), "time limit") {
		t.Fatalf("loop: %v", err)
	}
}
