package wasm_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/udf/wasm"
	"github.com/arroyogo/arroyo/udf/wasm/wasmtest"
)

// Benchmarks and checks of the Go SDK's paths: the example my_reverse
// (the SDK's batch form, straight-line words) against the built-in
// reverse, and module loads in a new process (BenchmarkGoLoadProcess).

// TestGoReverseMatchesBuiltin runs the Go example's my_reverse (its
// straight-line path for ASCII values of 8 to 24 bytes and the loop it
// hands the rest to) and my_reverse_append over strings of every length up
// to 40 (ASCII, multi-byte and mixed, so that every path and the switches
// between them run) and compares them with the built-in reverse.
func TestGoReverseMatchesBuiltin(t *testing.T) {
	h := newHost(t, wasm.Config{})
	m := load(t, h, "reverse.wasm", wasmtest.GoTags(t, "examples/udfs/go/reverse", "appendform"))
	reg := expr.Builtins().Scope()
	if err := wasm.Register(reg, m); err != nil {
		t.Fatal(err)
	}
	var all []string
	for n := 0; n <= 40; n++ {
		all = append(all,
			strings.Repeat("abcdefghij", 4)[:n],
			strings.Repeat("é", n),
			strings.Repeat("abcdefgh", n/8)+"€"+strings.Repeat("x", n%8)+"ñ"+strings.Repeat("yz", n))
	}
	// The batches: every string in that order (my_reverse hands the batch
	// to its general loop at the first, empty, string), and the ASCII
	// strings of 8 to 24 bytes (its straight-line path) followed by all
	// (the switch to the general loop in mid-batch).
	var fast []string
	for _, s := range all {
		if len(s) >= 8 && len(s) <= 24 && utf8.RuneCountInString(s) == len(s) {
			fast = append(fast, s)
		}
	}
	for _, batch := range [][]string{all, append(fast, all...)} {
		v := coldata.NewBytes(types.StringT, 0, 0)
		var want []string
		for _, s := range batch {
			v.AppendString(s)
			r := []rune(s)
			for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
				r[i], r[j] = r[j], r[i]
			}
			want = append(want, string(r))
		}
		v.AppendNull()
		for _, fn := range []string{"my_reverse", "my_reverse_append", "reverse"} {
			out, err := evalAny(t, reg, fn, v)
			if err != nil {
				t.Fatal(err)
			}
			got := out.(*coldata.Bytes)
			for i, w := range want {
				if got.IsNull(i) || got.GetString(i) != w {
					t.Fatalf("%s(%q) = %q, want %q", fn, v.GetString(i), got.GetString(i), w)
				}
			}
			if !got.IsNull(len(want)) {
				t.Fatalf("%s(NULL) = %q, want NULL", fn, got.GetString(len(want)))
			}
		}
	}
}

// evalAny evaluates fn over one batch whether it is a kernel (a
// built-in) or bound per task (a UDF).
func evalAny(t testing.TB, reg *expr.Registry, fn string, arg coldata.Vector) (coldata.Vector, error) {
	t.Helper()
	f, ok := reg.Lookup(fn)
	if !ok {
		t.Fatalf("no function %s", fn)
	}
	r, err := f.Resolve([]types.Type{arg.Type()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Kernel != nil {
		return r.Kernel(nil, []coldata.Vector{arg}, arg.Len(), nil)
	}
	return call(t, reg, fn, arg)
}

// BenchmarkGoLoadProcess loads a module in a new process per iteration
// (this test binary run as TestLoadChild): what a second start of arroyo
// run, or arroyo udf inspect, costs. cold has no compilation cache;
// cached has the cache a first load filled. load-cpu-ms is the CPU time
// of NewHost, Load and Close in the child (every thread); process-cpu-ms
// is the whole child's, process start and test binary initialization
// included.
//
//	go test ./udf/wasm -run '^$' -bench GoLoadProcess -benchtime 10x
func BenchmarkGoLoadProcess(b *testing.B) {
	mods := []struct{ name, path string }{
		{"go_scalars", wasmtest.GoPath(b, "examples/udfs/go/scalars")},
		{"go_reverse", wasmtest.GoPath(b, "examples/udfs/go/reverse")},
		{"c", wasmtest.CPath(b, "examples/udfs/c/udfs.c")},
	}
	for _, m := range mods {
		for _, mode := range []string{"cold", "cached"} {
			b.Run(m.name+"_"+mode, func(b *testing.B) {
				cache := ""
				if mode == "cached" {
					cache = b.TempDir()
					loadChild(b, m.path, cache) // fills the cache
				}
				var load, proc time.Duration
				for b.Loop() {
					l, p := loadChild(b, m.path, cache)
					load += l
					proc += p
				}
				b.ReportMetric(float64(load.Microseconds())/1000/float64(b.N), "load-cpu-ms")
				b.ReportMetric(float64(proc.Microseconds())/1000/float64(b.N), "process-cpu-ms")
			})
		}
	}
}

// loadChild runs TestLoadChild in a new process loading path with the
// compilation cache cache, and returns the CPU time of the load and of
// the whole process.
func loadChild(b *testing.B, path, cache string) (load, proc time.Duration) {
	cmd := exec.Command(os.Args[0], "-test.run", "^TestLoadChild$", "-test.count", "1")
	cmd.Env = append(os.Environ(), "ARROYO_UDF_LOAD_CHILD="+path, "ARROYO_UDF_LOAD_CACHE="+cache)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("load child: %v\n%s", err, out)
	}
	_, rest, ok := strings.Cut(string(out), "load-cpu-ns=")
	if !ok {
		b.Fatalf("load child printed no load-cpu-ns:\n%s", out)
	}
	ns, err := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return time.Duration(ns), time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestLoadChild is BenchmarkGoLoadProcess's child: it loads the module
// ARROYO_UDF_LOAD_CHILD names and prints the CPU time it took. Without
// that variable it is skipped.
func TestLoadChild(t *testing.T) {
	path := os.Getenv("ARROYO_UDF_LOAD_CHILD")
	if path == "" {
		t.Skip("run by BenchmarkGoLoadProcess")
	}
	wasmBytes, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c0 := processCPU()
	h, err := wasm.NewHost(ctx, wasm.Config{CacheDir: os.Getenv("ARROYO_UDF_LOAD_CACHE")})
	if err != nil {
		t.Fatal(err)
	}
	m, err := h.Load(ctx, filepath.Base(path), wasmBytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Functions()) == 0 {
		t.Fatal("no functions")
	}
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("load-cpu-ns=%d\n", (processCPU() - c0).Nanoseconds())
}

// TestGoAppendTextFixedArgument runs an AppendText1 function over a
// fixed-width argument (hex_u8 in the scalars example), NULLs included:
// a NULL row is not passed and its result is NULL.
func TestGoAppendTextFixedArgument(t *testing.T) {
	reg, _ := scalarsReg(t)
	out, err := call(t, reg, "hex_u8", vec(types.UInt8T, uint8(0), uint8(255), nil, uint8(0x3c)))
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*coldata.Bytes)
	for i, want := range []string{"00", "ff", "", "3c"} {
		if got.IsNull(i) != (i == 2) || got.GetString(i) != want {
			t.Errorf("hex_u8 row %d = %q (NULL %v), want %q", i, got.GetString(i), got.IsNull(i), want)
		}
	}
}

// TestCompactGoModule checks the compacted form of a Go example module
// (wasm.CheckCompactGoModule).
func TestCompactGoModule(t *testing.T) {
	wasm.CheckCompactGoModule(t, wasmtest.Go(t, "examples/udfs/go/scalars"))
}

// TestGoInline runs the scalars example's sdk.Inline functions: both of
// them (so that the per-batch dispatch finds the right one), over a batch
// with a NULL (not passed; its result is NULL) and an empty one.
func TestGoInline(t *testing.T) {
	reg, m := scalarsReg(t)
	sigs := map[string]string{}
	for _, s := range m.Functions() {
		sigs[s.Name] = s.String()
	}
	for name, want := range map[string]string{"inc_i64_inl": "scalar inc_i64_inl(BIGINT) -> BIGINT", "half_f64_inl": "scalar half_f64_inl(DOUBLE) -> DOUBLE"} {
		if sigs[name] != want {
			t.Errorf("signature of %s: %q, want %q", name, sigs[name], want)
		}
	}
	out, err := call(t, reg, "inc_i64_inl", vec(types.Int64T, int64(1), nil, int64(-5), int64(41)))
	if err != nil {
		t.Fatal(err)
	}
	if got := values(out); got != "[2 <nil> -4 42]" {
		t.Errorf("inc_i64_inl = %s", got)
	}
	out, err = call(t, reg, "half_f64_inl", vec(types.Float64T, 3.0, -1.0))
	if err != nil {
		t.Fatal(err)
	}
	if got := values(out); got != "[1.5 -0.5]" {
		t.Errorf("half_f64_inl = %s", got)
	}
	out, err = call(t, reg, "inc_i64_inl", vec(types.Int64T))
	if err != nil || out.Len() != 0 {
		t.Errorf("inc_i64_inl of no rows: %v, %v", out, err)
	}
}

// BenchmarkGoScalarInline is BenchmarkScalarInt64 for the Go SDK's three
// forms of x + 1 beside the built-in: Scalar1 (a call per row), Inline
// (the body inlined into the SDK's row loop) and Vector1 (the author's
// loop).
//
//	go test ./udf/wasm -run '^$' -bench GoScalarInline -benchtime 1s
func BenchmarkGoScalarInline(b *testing.B) {
	for _, l := range limits {
		b.Run(l.name, func(b *testing.B) {
			h := newHost(b, wasm.Config{CallTimeout: l.timeout})
			m := load(b, h, "scalars.wasm", wasmtest.Go(b, "examples/udfs/go/scalars"))
			reg := expr.Builtins().Scope()
			if err := wasm.Register(reg, m); err != nil {
				b.Fatal(err)
			}
			for _, n := range batchSizes {
				in := int64Input(n)
				for _, c := range []struct{ name, fn string }{{"scalar1", "inc_i64"}, {"inline", "inc_i64_inl"}, {"vector1", "inc_i64_vec"}, {"builtin_abs", "abs"}} {
					b.Run(fmt.Sprintf("%s/%d", c.name, n), func(b *testing.B) {
						f := bindFunc(b, reg, c.fn, types.Int64T)
						benchRows(b, n, func() error { _, err := f(in, n); return err })
					})
				}
			}
		})
	}
}

// TestBenchChild calls one scalar UDF over batches, for instruction counts
// under callgrind, which cannot run the benchmarks themselves (they build
// modules in child processes, and callgrind fails at their SIGCHLD). It
// is skipped unless ARROYO_UDF_BENCH_CHILD names a module; then
// ARROYO_UDF_BENCH_FN is the function, ARROYO_UDF_BENCH_ARG its argument
// ("bigint", or "text": the strings of BenchmarkScalarReverse),
// ARROYO_UDF_BENCH_ROWS the batch size, ARROYO_UDF_BENCH_ITERS the
// batches, ARROYO_UDF_BENCH_CACHE the compilation cache and
// ARROYO_UDF_BENCH_LIMIT "off" for no time limit. Run it with two counts
// of batches and take the difference, which removes the setup:
//
//	ARROYO_UDF_BENCH_CHILD=reverse.wasm ARROYO_UDF_BENCH_FN=my_reverse ARROYO_UDF_BENCH_ARG=text \
//	ARROYO_UDF_BENCH_ROWS=8192 ARROYO_UDF_BENCH_ITERS=10 ARROYO_UDF_BENCH_CACHE=/tmp/c \
//	GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind ./wasm.test -test.run '^TestBenchChild$'
func TestBenchChild(t *testing.T) {
	path := os.Getenv("ARROYO_UDF_BENCH_CHILD")
	if path == "" {
		t.Skip("run by hand under callgrind")
	}
	wasmBytes, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(os.Getenv("ARROYO_UDF_BENCH_ROWS"))
	if err != nil {
		t.Fatal(err)
	}
	iters, err := strconv.Atoi(os.Getenv("ARROYO_UDF_BENCH_ITERS"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := wasm.Config{CacheDir: os.Getenv("ARROYO_UDF_BENCH_CACHE")}
	if os.Getenv("ARROYO_UDF_BENCH_LIMIT") == "off" {
		cfg.CallTimeout = -1
	}
	h := newHost(t, cfg)
	m := load(t, h, filepath.Base(path), wasmBytes)
	reg := expr.Builtins().Scope()
	if err := wasm.Register(reg, m); err != nil {
		t.Fatal(err)
	}
	var in []coldata.Vector
	typ := types.Int64T
	switch os.Getenv("ARROYO_UDF_BENCH_ARG") {
	case "bigint":
		in = int64Input(n)
	case "text":
		in, typ = textInput(n), types.StringT
	default:
		t.Fatal("ARROYO_UDF_BENCH_ARG: bigint or text")
	}
	f := bindFunc(t, reg, os.Getenv("ARROYO_UDF_BENCH_FN"), typ)
	for range iters {
		if _, err := f(in, n); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGoTimeTimeRefused loads a module that registers a function of
// time.Time: the SDK panics at registration, so the load fails, with the
// SDK's message saying TIMESTAMP is an sdk.Timestamp.
func TestGoTimeTimeRefused(t *testing.T) {
	h := newHost(t, wasm.Config{})
	_, err := h.Load(context.Background(), "timetime.wasm", wasmtest.Go(t, "spec/udfs/go/timetime"))
	if err == nil || !strings.Contains(err.Error(), "next_hour: a TIMESTAMP argument 1 is an sdk.Timestamp") {
		t.Fatalf("load: %v, want the SDK's message about sdk.Timestamp", err)
	}
}
