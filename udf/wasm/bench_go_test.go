package wasm_test

import (
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/udf/wasm"
	"github.com/arroyogo/arroyo/udf/wasm/wasmtest"
)

// Benchmarks and checks of the Go SDK's paths: the example my_reverse
// (the SDK's append form, an ASCII word at a time) against the built-in
// reverse, and module loads in a new process (BenchmarkGoLoadProcess).

// TestGoReverseMatchesBuiltin runs the Go example my_reverse over strings
// of every length up to 40 (ASCII, multi-byte and mixed, so that both of
// its loops and the switch between them run) and compares it with the
// built-in reverse.
func TestGoReverseMatchesBuiltin(t *testing.T) {
	h := newHost(t, wasm.Config{})
	m := load(t, h, "reverse.wasm", wasmtest.Go(t, "examples/udfs/go/reverse"))
	reg := expr.Builtins().Scope()
	if err := wasm.Register(reg, m); err != nil {
		t.Fatal(err)
	}
	v := coldata.NewBytes(types.StringT, 0, 0)
	var want []string
	for n := 0; n <= 40; n++ {
		for _, s := range []string{
			strings.Repeat("abcdefghij", 4)[:n],
			strings.Repeat("é", n),
			strings.Repeat("abcdefgh", n/8) + "€" + strings.Repeat("x", n%8) + "ñ" + strings.Repeat("yz", n),
		} {
			v.AppendString(s)
			r := []rune(s)
			for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
				r[i], r[j] = r[j], r[i]
			}
			want = append(want, string(r))
		}
	}
	v.AppendNull()
	for _, fn := range []string{"my_reverse", "reverse"} {
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
