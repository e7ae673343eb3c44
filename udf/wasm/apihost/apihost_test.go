package apihost_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/udf/wasm"
	"github.com/arroyogo/arroyo/udf/wasm/apihost"
	"github.com/arroyogo/arroyo/udf/wasm/wasmtest"
)

// TestHost: Validate names a module's only function, leaves a module of
// several unnamed, and says what is wrong with a bad one (without the
// host's placeholder module name); Functions builds a scope with the
// stored modules' functions, refusing a function two modules export or
// one named like a built-in; a closed host loads nothing.
func TestHost(t *testing.T) {
	ctx := context.Background()
	identity := wasmtest.WAT(t, "spec/udfs/identity.wat") // f(BIGINT) -> BIGINT
	failing := wasmtest.WAT(t, "spec/udfs/failing.wat")   // f too
	abs := wasmtest.WAT(t, "spec/udfs/abs.wat")           // the built-in's name
	badabi := wasmtest.WAT(t, "spec/udfs/badabi.wat")
	scalars := wasmtest.Go(t, "examples/udfs/go/scalars") // many functions
	h, err := apihost.New(ctx, wasm.Config{CacheDir: wasmtest.CacheDir()})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := h.Validate(ctx, identity); err != nil || n != "f" {
		t.Errorf("validate identity: %q, %v", n, err)
	}
	if n, err := h.Validate(ctx, scalars); err != nil || n != "" {
		t.Errorf("validate a module of several functions: %q, %v (want no name)", n, err)
	}
	if _, err := h.Validate(ctx, badabi); err == nil || !strings.Contains(err.Error(), "ABI") || strings.Contains(err.Error(), "uploaded") {
		t.Errorf("validate a module of another ABI: %v", err)
	}
	one := &store.UDF{ID: "udf_1", Name: "f", Module: identity}
	reg, err := h.Functions(ctx, []*store.UDF{one})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.Lookup("f"); !ok {
		t.Errorf("f not in the scope")
	}
	if _, ok := reg.Lookup("upper"); !ok {
		t.Errorf("the scope lacks the built-ins")
	}
	if _, err := h.Functions(ctx, []*store.UDF{one, {ID: "udf_2", Name: "g", Module: failing}}); err == nil || !strings.Contains(err.Error(), "udf f is defined by two modules: f and g") {
		t.Errorf("two modules exporting f: %v", err)
	}
	if _, err := h.Functions(ctx, []*store.UDF{{ID: "udf_3", Name: "abs", Module: abs}}); err == nil || !strings.Contains(err.Error(), "built-in") {
		t.Errorf("a UDF named like a built-in: %v", err)
	}
	if _, err := h.Functions(ctx, []*store.UDF{{ID: "udf_4", Name: "x", Module: badabi}}); err == nil || !strings.Contains(err.Error(), "stored udf 'x' (udf_4)") {
		t.Errorf("a stored module that does not load: %v", err)
	}
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Functions(ctx, []*store.UDF{one}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("after close: %v", err)
	}
}

// FuzzValidate: any bytes uploaded as a module (POST /udfs, /udfs/validate)
// are refused with an error or named, never a panic or a hang. Seeds: a
// valid module, one of another ABI, and their truncations.
//
//	go test -run XXX -fuzz FuzzValidate -fuzztime 60s ./udf/wasm/apihost/
var sqlName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

func FuzzValidate(f *testing.F) {
	identity := wasmtest.WAT(f, "spec/udfs/identity.wat")
	badabi := wasmtest.WAT(f, "spec/udfs/badabi.wat")
	for _, m := range [][]byte{identity, badabi, identity[:len(identity)/2], identity[:9], []byte("\x00asm\x01\x00\x00\x00")} {
		f.Add(m)
	}
	h, err := apihost.New(context.Background(), wasm.Config{CallTimeout: time.Second})
	if err != nil {
		f.Fatal(err)
	}
	defer h.Close(context.Background())
	f.Fuzz(func(t *testing.T, module []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		name, err := h.Validate(ctx, module)
		if err == nil && name != "" && !sqlName.MatchString(name) {
			t.Errorf("validated a module whose function is named %q", name)
		}
	})
}
