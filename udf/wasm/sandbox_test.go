package wasm_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/udf/wasm"
	"github.com/arroyogo/arroyo/udf/wasm/wasmtest"
)

func ints(vals ...int64) *coldata.Vec[int64] {
	return &coldata.Vec[int64]{T: types.Int64T, Vals: vals}
}

// TestLoadRefusals: modules that must not load, each with its reason.
func TestLoadRefusals(t *testing.T) {
	h := newHost(t, wasm.Config{})
	for _, c := range []struct{ file, want string }{
		{"spec/udfs/badmanifest.wat", "udf module badmanifest.wasm: manifest line 2: want NAME(TYPE, ...) -> TYPE"},
		{"spec/udfs/badabi.wat", "udf module badabi.wasm: speaks UDF ABI version 2; this host speaks version 1"},
		{"spec/udfs/hugemem.wat", "udf module hugemem.wasm: declares an initial memory of 1250 MiB, more than the limit of 64 MiB (udf.memory_limit)"},
		{"spec/udfs/imports.wat", "udf module imports.wasm: imports env.open_socket: a UDF module may import only wasi_snapshot_preview1 functions"},
		{"spec/udfs/noexports.wat", "udf module noexports.wasm: does not export arroyo_udf_abi"},
		{"spec/udfs/badexport.wat", "udf module badexport.wasm: exports arroyo_udf_alloc with type (i64) -> (i32), the ABI says (i32) -> (i32)"},
	} {
		name := strings.TrimSuffix(c.file[strings.LastIndexByte(c.file, '/')+1:], ".wat") + ".wasm"
		_, err := h.Load(context.Background(), name, wasmtest.WAT(t, c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.file, err, c.want)
		}
	}
	if _, err := h.Load(context.Background(), "junk.wasm", []byte("not wasm")); err == nil || !strings.Contains(err.Error(), "udf module junk.wasm: not a valid WebAssembly module") {
		t.Errorf("junk: %v", err)
	}
}

func bindF(t *testing.T, h *wasm.Host, file string, fn string, arg types.Type) (expr.Bound, *wasm.Module) {
	t.Helper()
	name := strings.TrimSuffix(file[strings.LastIndexByte(file, '/')+1:], ".wat") + ".wasm"
	var b []byte
	if strings.HasSuffix(file, ".wat") {
		b = wasmtest.WAT(t, file)
	} else {
		b = wasmtest.Go(t, file)
	}
	m := load(t, h, name, b)
	reg := expr.Builtins().Scope()
	if err := wasm.Register(reg, m); err != nil {
		t.Fatal(err)
	}
	f, _ := reg.Lookup(fn)
	r, err := f.Resolve([]types.Type{arg})
	if err != nil {
		t.Fatal(err)
	}
	bd, err := r.Bind(context.Background(), expr.TaskContext{})
	if err != nil {
		t.Fatal(err)
	}
	return bd, m
}

// TestHostileCalls: every misbehaviour fails the call with an error naming
// the UDF and what happened; the broken instance is closed, not pooled, and
// the module keeps working for the next caller.
func TestHostileCalls(t *testing.T) {
	// The time limit is short where it is what the case checks, and long
	// elsewhere: a guest growing its memory to the cap must not run into
	// it on a loaded machine (or under -race).
	short := newHost(t, wasm.Config{CallTimeout: 300 * time.Millisecond, MemoryLimit: 16 << 20})
	long := newHost(t, wasm.Config{CallTimeout: time.Hour, MemoryLimit: 16 << 20})
	for _, c := range []struct {
		file, fn string
		arg      coldata.Vector
		want     string
	}{
		{"spec/udfs/loop.wat", "f", ints(1), "udf f: call exceeded the time limit of 300ms (udf.call_timeout)"},
		{"spec/udfs/grow.wat", "f", ints(1), "udf f: guest trapped: wasm error: unreachable (its memory reached the limit of 16 MiB (udf.memory_limit)"},
		{"spec/udfs/trap.wat", "f", ints(1, 2, 0, 4), "udf f: guest trapped: wasm error: integer divide by zero"},
		{"spec/udfs/oob.wat", "f", ints(1), "udf f: guest trapped: wasm error: out of bounds memory access"},
		{"spec/udfs/badptr.wat", "f", ints(1, 2), "udf f: result values at 262100+16 lie outside guest memory (262144 bytes)"},
		{"spec/udfs/wronglen.wat", "f", ints(1, 2), "udf f: the guest returned 3 rows for 2"},
		{"spec/udfs/lying.wat", "f", ints(5, 7), "udf f: result offsets at 0 lie outside guest memory (262144 bytes) or are misaligned"},
		{"spec/udfs/failing.wat", "f", ints(5), "udf f failed: arroyo-udf"},
		{"spec/udfs/go/hostile", "boom", ints(1, 13), "udf boom: guest trapped: wasm error: unreachable; guest output: panic: unlucky number 13"},
		{"spec/udfs/go/hostile", "hog", ints(make([]int64, 64)...), "(its memory reached the limit of 16 MiB (udf.memory_limit)"},
		{"spec/udfs/go/hostile", "spin", ints(-1), "udf spin: call exceeded the time limit of 300ms (udf.call_timeout)"},
		{"spec/udfs/go/hostile", "bad_ends", vec(types.StringT, "ab", "c"), "udf bad_ends failed: bad_ends: the last of ends is not the length of the results"},
	} {
		t.Run(c.file+"/"+c.fn, func(t *testing.T) {
			h := long
			if strings.Contains(c.want, "time limit") {
				h = short
			}
			b, m := bindF(t, h, c.file, c.fn, c.arg.Type())
			_, err := b.Eval(context.Background(), []coldata.Vector{c.arg}, c.arg.Len(), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if !strings.Contains(err.Error(), m.Name) {
				t.Errorf("error %q does not name the module %s", err, m.Name)
			}
			b.Close()
			// A guest that reports an error is healthy: its instance
			// goes back to the pool. Any other failure closes it.
			want := 0
			if strings.Contains(c.want, "failed:") {
				want = 1
			}
			if n := m.Live(); n != want {
				t.Errorf("%d instances live after the failure, want %d", n, want)
			}
			m.Close(context.Background())
		})
	}
}

// TestRecoversAfterTrap: after a trap, the next Eval of the same binding
// runs on a fresh instance.
func TestRecoversAfterTrap(t *testing.T) {
	h := newHost(t, wasm.Config{})
	b, m := bindF(t, h, "spec/udfs/go/hostile", "boom", types.Int64T)
	defer b.Close()
	if _, err := b.Eval(context.Background(), []coldata.Vector{ints(13)}, 1, nil); err == nil {
		t.Fatal("boom(13) did not fail")
	}
	out, err := b.Eval(context.Background(), []coldata.Vector{ints(4)}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := out.(*coldata.Vec[int64]).Vals[0]; v != 8 {
		t.Fatalf("boom(4) = %d after a trap", v)
	}
	if n := m.Live(); n != 1 {
		t.Errorf("%d live instances, want 1", n)
	}
}

// TestCancelledContext: a job cancelled mid-call ends the call.
func TestCancelledContext(t *testing.T) {
	h := newHost(t, wasm.Config{CallTimeout: time.Minute})
	b, _ := bindF(t, h, "spec/udfs/loop.wat", "f", types.Int64T)
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := b.Eval(ctx, []coldata.Vector{ints(1)}, 1, nil)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "udf f: call cancelled") {
			t.Fatalf("error %v, want a cancellation", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the call did not end after its context was cancelled")
	}
}

// TestSpinningGuestLetsGCRun: garbage collections (each a stop-the-world)
// complete while guests spin, and the calls still end at their time limit
// (interrupt.go: the instrumented loop steps into Go regularly, where the
// goroutine can be preempted).
func TestSpinningGuestLetsGCRun(t *testing.T) {
	for _, c := range []struct{ file, fn string }{{"spec/udfs/loop.wat", "f"}, {"spec/udfs/go/hostile", "spin"}} {
		t.Run(c.fn, func(t *testing.T) { spinDuringGC(t, c.file, c.fn) })
	}
}

func spinDuringGC(t *testing.T, file, fn string) {
	h := newHost(t, wasm.Config{CallTimeout: 2 * time.Second})
	b, _ := bindF(t, h, file, fn, types.Int64T)
	defer b.Close()
	done := make(chan error, 1)
	go func() {
		_, err := b.Eval(context.Background(), []coldata.Vector{ints(-1)}, 1, nil)
		done <- err
	}()
	collected := make(chan int, 1)
	go func() {
		n := 0
		for end := time.Now().Add(time.Second); time.Now().Before(end); n++ {
			runtime.GC()
		}
		collected <- n
	}()
	select {
	case n := <-collected:
		if n == 0 {
			t.Fatal("no collection ran")
		}
	case <-time.After(time.Minute):
		t.Fatal("garbage collections blocked while the guest spins")
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "call exceeded the time limit of 2s") {
			t.Fatalf("error %v, want the time limit", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the call did not end at its time limit")
	}
}
