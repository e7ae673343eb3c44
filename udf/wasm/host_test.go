package wasm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/udf/wasm"
	"github.com/arroyogo/arroyo/udf/wasm/wasmtest"
)

func newHost(t testing.TB, cfg wasm.Config) *wasm.Host {
	t.Helper()
	if cfg.CacheDir == "" {
		cfg.CacheDir = cacheDir
	}
	h, err := wasm.NewHost(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

func load(t testing.TB, h *wasm.Host, name string, b []byte) *wasm.Module {
	t.Helper()
	m, err := h.Load(context.Background(), name, b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// call resolves fn in reg for the argument types, binds it and evaluates it
// over args.
func call(t testing.TB, reg *expr.Registry, fn string, args ...coldata.Vector) (coldata.Vector, error) {
	t.Helper()
	f, ok := reg.Lookup(fn)
	if !ok {
		t.Fatalf("no function %s", fn)
	}
	var ts []types.Type
	for _, a := range args {
		ts = append(ts, a.Type())
	}
	r, err := f.Resolve(ts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Bind(context.Background(), expr.TaskContext{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	n := 0
	if len(args) > 0 {
		n = args[0].Len()
	}
	return b.Eval(context.Background(), args, n, nil)
}

func TestManifestOfGoModule(t *testing.T) {
	h := newHost(t, wasm.Config{})
	m := load(t, h, "scalars.wasm", wasmtest.Go(t, "examples/udfs/go/scalars"))
	var got []string
	for _, s := range m.Functions() {
		got = append(got, s.String())
	}
	text := strings.Join(got, "\n")
	for _, want := range []string{
		"scalar double_it(BIGINT UNSIGNED) -> BIGINT",
		"scalar or_zero(BIGINT NULL) -> BIGINT",
		"scalar null_if_empty(TEXT) -> TEXT NULL",
		"scalar add_hour(TIMESTAMP) -> TIMESTAMP",
		"scalar json_kind(JSON) -> TEXT",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("manifest lacks %q; has\n%s", want, text)
		}
	}
}

func TestScalarDouble(t *testing.T) {
	h := newHost(t, wasm.Config{})
	m := load(t, h, "scalars.wasm", wasmtest.Go(t, "examples/udfs/go/scalars"))
	reg := expr.Builtins().Scope()
	if err := wasm.Register(reg, m); err != nil {
		t.Fatal(err)
	}
	in := &coldata.Vec[uint64]{T: types.UInt64T, Vals: []uint64{1, 2, 3, 0}}
	in.N.SetNull(3)
	out, err := call(t, reg, "double_it", in)
	if err != nil {
		t.Fatal(err)
	}
	v := out.(*coldata.Vec[int64])
	if v.Vals[0] != 2 || v.Vals[1] != 4 || v.Vals[2] != 6 || !v.IsNull(3) || v.IsNull(0) {
		t.Fatalf("double = %v nulls %v", v.Vals, v.N.Words())
	}
}
