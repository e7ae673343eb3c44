package wasm_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/udf/wasm"
	"github.com/arroyogo/arroyo/udf/wasm/wasmtest"
)

// Benchmarks of a UDF beside the built-in computing the same thing, at
// batch sizes 1K and 8K (rows/s per core in the rows/s metric), and of
// loading a module cold and from the compilation cache:
//
//	go test ./udf/wasm -run '^$' -bench . -benchtime 2s

var batchSizes = []int{1024, 8192}

// bindFunc resolves and binds fn of reg (or a built-in) for args.
func bindFunc(b testing.TB, reg *expr.Registry, fn string, args ...types.Type) func(args []coldata.Vector, n int) (coldata.Vector, error) {
	f, ok := reg.Lookup(fn)
	if !ok {
		b.Fatalf("no function %s", fn)
	}
	r, err := f.Resolve(args)
	if err != nil {
		b.Fatal(err)
	}
	if r.Kernel != nil {
		return func(a []coldata.Vector, n int) (coldata.Vector, error) { return r.Kernel(nil, a, n, nil) }
	}
	bd, err := r.Bind(context.Background(), expr.TaskContext{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bd.Close() })
	return func(a []coldata.Vector, n int) (coldata.Vector, error) {
		return bd.Eval(context.Background(), a, n, nil)
	}
}

// benchRows reports rows/s of wall time and cpu-rows/s of the benchmark
// thread's CPU time: on a shared machine the second is the per-core figure.
func cModule(b *testing.B) []byte {
	data, err := os.ReadFile(wasmtest.CPath(b, "examples/udfs/c/udfs.c"))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func benchRows(b *testing.B, n int, f func() error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	c0 := threadCPU()
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	cpu := threadCPU() - c0
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "cpu-rows/s")
}

// processCPU is the process's CPU time (every thread: wazero compiles on
// several).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// threadCPU is the calling thread's CPU time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// limits are the two sandbox settings benchmarked: the default (a call
// time limit: the module is instrumented with a loop counter, see
// interrupt.go) and no time limit (the module as built).
var limits = []struct {
	name    string
	timeout time.Duration
}{{"limit", 0}, {"nolimit", -1}}

func BenchmarkScalarInt64(b *testing.B) {
	for _, l := range limits {
		b.Run(l.name, func(b *testing.B) { benchInt64(b, l.timeout) })
	}
}

// int64Input is one BIGINT column of n rows around zero (-n/2 .. n/2-1).
func int64Input(n int) []coldata.Vector {
	vals := make([]int64, n)
	for i := range vals {
		vals[i] = int64(i) - int64(n/2)
	}
	return []coldata.Vector{&coldata.Vec[int64]{T: types.Int64T, Vals: vals}}
}

func benchInt64(b *testing.B, timeout time.Duration) {
	h := newHost(b, wasm.Config{CallTimeout: timeout})
	m := load(b, h, "scalars.wasm", wasmtest.Go(b, "examples/udfs/go/scalars"))
	c := load(b, h, "udfs.wasm", cModule(b))
	reg := expr.Builtins().Scope()
	if err := wasm.Register(reg, m, c); err != nil {
		b.Fatal(err)
	}
	for _, n := range batchSizes {
		in := int64Input(n)
		for _, c := range []struct{ name, fn string }{{"udf_go_inc_i64", "inc_i64"}, {"udf_go_inc_i64_vec", "inc_i64_vec"}, {"udf_c_add_one", "c_add_one"}, {"builtin_abs", "abs"}} {
			b.Run(fmt.Sprintf("%s/%d", c.name, n), func(b *testing.B) {
				f := bindFunc(b, reg, c.fn, types.Int64T)
				benchRows(b, n, func() error { _, err := f(in, n); return err })
			})
		}
	}
}

func BenchmarkScalarReverse(b *testing.B) {
	for _, l := range limits {
		b.Run(l.name, func(b *testing.B) { benchReverse(b, l.timeout) })
	}
}

func benchReverse(b *testing.B, timeout time.Duration) {
	h := newHost(b, wasm.Config{CallTimeout: timeout})
	m := load(b, h, "reverse.wasm", wasmtest.GoTags(b, "examples/udfs/go/reverse", "appendform"))
	c := load(b, h, "udfs.wasm", cModule(b))
	sb, err := os.ReadFile(wasmtest.CPath(b, "udf/wasm/testdata/strbench.c"))
	if err != nil {
		b.Fatal(err)
	}
	s := load(b, h, "strbench.wasm", sb)
	reg := expr.Builtins().Scope()
	if err := wasm.Register(reg, m, c, s); err != nil {
		b.Fatal(err)
	}
	for _, n := range batchSizes {
		in := textInput(n)
		for _, c := range []struct{ name, fn string }{
			{"udf_go_my_reverse", "my_reverse"}, {"udf_go_my_reverse_append", "my_reverse_append"}, {"udf_c_reverse", "c_reverse"}, {"builtin_reverse", "reverse"},
			// The host's marshalling alone, and c_reverse written a byte
			// at a time and 8 bytes at a time (testdata/strbench.c).
			{"udf_c_echo", "s_echo"}, {"udf_c_rev_bytewise", "s_rev_bytewise"}, {"udf_c_rev_words", "s_rev_words"},
		} {
			b.Run(fmt.Sprintf("%s/%d", c.name, n), func(b *testing.B) {
				f := bindFunc(b, reg, c.fn, types.StringT)
				benchRows(b, n, func() error { _, err := f(in, n); return err })
			})
		}
	}
}

// textInput is one TEXT column of n 17-byte ASCII strings.
func textInput(n int) []coldata.Vector {
	v := coldata.NewBytes(types.StringT, n, n*17)
	for i := 0; i < n; i++ {
		v.AppendString(fmt.Sprintf("row %08d text", i))
	}
	return []coldata.Vector{v}
}

// BenchmarkMedian aggregates a batch into 64 groups and takes the results
// of all of them: one Update and one Result per iteration.
func BenchmarkMedian(b *testing.B) {
	for _, l := range limits {
		b.Run(l.name, func(b *testing.B) { benchMedian(b, l.timeout) })
	}
}

func benchMedian(b *testing.B, timeout time.Duration) {
	h := newHost(b, wasm.Config{CallTimeout: timeout})
	m := load(b, h, "median.wasm", wasmtest.Go(b, "examples/udfs/go/median"))
	reg := expr.Builtins().Scope()
	if err := wasm.Register(reg, m); err != nil {
		b.Fatal(err)
	}
	const groups = 64
	for _, n := range batchSizes {
		vals := make([]uint64, n)
		slots := make([]uint32, n)
		for i := range vals {
			vals[i] = uint64(i*7919) % 1000
			slots[i] = uint32(i % groups)
		}
		in := []coldata.Vector{&coldata.Vec[uint64]{T: types.UInt64T, Vals: vals}}
		all := make([]uint32, groups)
		for i := range all {
			all[i] = uint32(i)
		}
		for _, c := range []struct{ name, fn string }{{"udf_my_median", "my_median"}, {"builtin_median", "median"}} {
			b.Run(fmt.Sprintf("%s/%d", c.name, n), func(b *testing.B) {
				a, _ := reg.LookupAggregate(c.fn)
				ra, err := a.ResolveWith([]types.Type{types.UInt64T}, nil)
				if err != nil {
					b.Fatal(err)
				}
				benchRows(b, n, func() error {
					acc := ra.New()
					if err := acc.Update(slots, in, n, nil); err != nil {
						return err
					}
					_, err := acc.Result(all)
					return err
				})
			})
		}
	}
}

// BenchmarkLoad loads the Go scalars module (2.9 MB) and the C example
// (60 KB) on a new host: cold compiles, cached reads the compilation cache
// a first load filled (a second start of arroyo run); go_same_host loads
// the module again on the host that loaded it (another pipeline using it).
func BenchmarkLoad(b *testing.B) {
	goBytes, cBytes := wasmtest.Go(b, "examples/udfs/go/scalars"), cModule(b)
	for _, c := range []struct {
		name    string
		cache   string
		timeout time.Duration
		wasm    []byte
	}{
		{"go_cold", "", 0, goBytes}, {"go_cached", b.TempDir(), 0, goBytes}, {"go_cached_nolimit", b.TempDir(), -1, goBytes},
		{"c_cold", "", 0, cBytes}, {"c_cached", b.TempDir(), 0, cBytes},
	} {
		wasmBytes := c.wasm
		b.Run(c.name, func(b *testing.B) {
			if c.cache != "" {
				h, err := wasm.NewHost(context.Background(), wasm.Config{CacheDir: c.cache, CallTimeout: c.timeout})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := h.Load(context.Background(), "scalars.wasm", wasmBytes); err != nil {
					b.Fatal(err)
				}
				h.Close(context.Background())
			}
			c0 := processCPU()
			for b.Loop() {
				h, err := wasm.NewHost(context.Background(), wasm.Config{CacheDir: c.cache, CallTimeout: c.timeout})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := h.Load(context.Background(), "scalars.wasm", wasmBytes); err != nil {
					b.Fatal(err)
				}
				h.Close(context.Background())
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/load")
			b.ReportMetric(float64((processCPU()-c0).Milliseconds())/float64(b.N), "cpu-ms/load")
		})
	}
	b.Run("go_same_host", func(b *testing.B) {
		h := newHost(b, wasm.Config{})
		load(b, h, "scalars.wasm", goBytes)
		c0 := processCPU()
		for b.Loop() {
			m := load(b, h, "scalars.wasm", goBytes)
			m.Close(context.Background())
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/load")
		b.ReportMetric(float64((processCPU()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/load")
	})
}
