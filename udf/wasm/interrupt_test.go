package wasm

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// wat assembles the WAT file at path (relative to this package) with
// wat2wasm (skipped without it, unless ARROYO_REQUIRE_WASM_TOOLS is set).
// Not wasmtest.WAT: this package's own tests may import only what the
// package may (engine/dep_test.go).
func wat(t *testing.T, path string) []byte {
	t.Helper()
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		if os.Getenv("ARROYO_REQUIRE_WASM_TOOLS") != "" {
			t.Fatal("wat2wasm not installed (ARROYO_REQUIRE_WASM_TOOLS is set)")
		}
		t.Skip("wat2wasm not installed (apt-get install wabt)")
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path)+".wasm")
	if b, err := exec.Command("wat2wasm", "-o", out, path).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm %s: %v\n%s", path, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInstrumentRuns: instrumented modules validate and run: one without
// globals or exports gets both sections, the interrupt global starting at
// 0; one with imported and defined globals, SIMD and bulk memory keeps
// them.
func TestInstrumentRuns(t *testing.T) {
	ctx := context.Background()
	orig := wat(t, "testdata/noglobals.wat")
	code, err := instrument(orig)
	if err != nil {
		t.Fatal(err)
	}
	// Three loops, one check each.
	check := []byte{0x23, 0x00, 0x04, 0x40, 0x00, 0x0b}
	if n := bytes.Count(code, check); n != 3 {
		t.Errorf("%d loop checks, want 3", n)
	}
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	// Its start function runs the loops (with the checks in them).
	mod, err := rt.Instantiate(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := mod.ExportedGlobal(interruptExport).(api.MutableGlobal)
	if !ok {
		t.Fatalf("no mutable global %s exported", interruptExport)
	}
	if g.Get() != 0 {
		t.Fatalf("interrupt global starts at %d", g.Get())
	}
	// A module with an imported i64 global: the added global's index
	// counts it, or the check would not validate.
	withExports := wat(t, "testdata/globals.wat")
	code2, err := instrument(withExports)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := rt.CompileModule(ctx, code2)
	if err != nil {
		t.Fatalf("instrumented module does not compile: %v", err)
	}
	cm.Close(ctx)
}

// TestInstrumentInterrupts: a spinning guest stops when the global is set.
func TestInstrumentInterrupts(t *testing.T) {
	ctx := context.Background()
	code, err := instrument(wat(t, "testdata/spin.wat"))
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.Instantiate(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := mod.ExportedFunction("count").Call(ctx, 1000); err != nil || r[0] != 1000 {
		t.Fatalf("count(1000) = %v, %v", r, err)
	}
	g := mod.ExportedGlobal(interruptExport).(api.MutableGlobal)
	done := make(chan error, 1)
	go func() {
		_, err := mod.ExportedFunction("spin").Call(ctx)
		done <- err
	}()
	g.Set(1)
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Fatalf("spin ended with %v, want the unreachable trap", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("spin did not stop after the interrupt was set")
	}
}

// TestInstrumentRefuses: what the rewriter cannot decode is an error, not
// a module that cannot be stopped.
func TestInstrumentRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		wasm []byte
		want string
	}{
		{"not wasm", []byte("hello"), "no WebAssembly magic number"},
		{"truncated section", []byte("\x00asm\x01\x00\x00\x00\x0a\x10\x01"), "section 10: unexpected end"},
		// One function whose body is return_call 0 (a tail call).
		{"tail call", []byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x06\x01\x04\x00\x12\x00\x0b"),
			"code section: function 0: instruction 0x12 at 1: unknown instruction"},
		{"unknown section", []byte("\x00asm\x01\x00\x00\x00\x0d\x00"), "unknown section 13"},
	} {
		_, err := instrument(c.wasm)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// An empty module is fine: it gets a global and an export.
	code, err := instrument([]byte("\x00asm\x01\x00\x00\x00"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	if _, err := rt.Instantiate(ctx, code); err != nil {
		t.Errorf("empty module, instrumented: %v", err)
	}
}

// TestInstrumentBranches: loops whose checks leave the loop and enter it
// again (with the branches out of them renumbered) compute what they
// computed before, past the 16384 iterations between two looks at the
// interrupt global.
func TestInstrumentBranches(t *testing.T) {
	ctx := context.Background()
	orig := wat(t, "testdata/branches.wat")
	code, err := instrument(orig)
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	a, err := rt.Instantiate(ctx, orig)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rt.InstantiateWithConfig(ctx, code, wazero.NewModuleConfig().WithName("instrumented"))
	if err != nil {
		t.Fatalf("instrumented module: %v", err)
	}
	// A wrongly renumbered branch can loop forever: then the interrupt
	// stops the call and the comparison fails.
	watchdog := time.AfterFunc(time.Minute, func() { b.ExportedGlobal(interruptExport).(api.MutableGlobal).Set(1) })
	for _, c := range []struct {
		fn   string
		args []uint64
	}{
		{"nested", []uint64{3, 4}}, {"nested", []uint64{200, 300}}, {"nested", []uint64{1000, 97}},
		{"result", []uint64{5}}, {"result", []uint64{100000}},
		{"param", []uint64{7}}, {"param", []uint64{50000}},
		{"ret", []uint64{9}}, {"ret", []uint64{70000}},
	} {
		want, err := a.ExportedFunction(c.fn).Call(ctx, c.args...)
		if err != nil {
			t.Fatalf("%s%v: %v", c.fn, c.args, err)
		}
		got, err := b.ExportedFunction(c.fn).Call(ctx, c.args...)
		if err != nil || got[0] != want[0] {
			t.Errorf("instrumented %s%v = %v, %v; want %v", c.fn, c.args, got, err, want)
		}
	}
	watchdog.Stop()
	// The wrapped loops still stop: 16384 iterations after the interrupt
	// is set, the call traps.
	b.ExportedGlobal(interruptExport).(api.MutableGlobal).Set(1)
	if _, err := b.ExportedFunction("result").Call(ctx, 100000); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("result(100000) with the interrupt set: %v, want the unreachable trap", err)
	}
	if _, err := b.ExportedFunction("param").Call(ctx, 100000); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("param(100000) with the interrupt set: %v, want the unreachable trap", err)
	}
}
