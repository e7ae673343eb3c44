package wasm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"testing"
)

// TestLoadSharesCode: two loads of the same bytes share one compiled
// module, which is closed with the last module using it; each module keeps
// its own instances.
func TestLoadSharesCode(t *testing.T) {
	ctx := context.Background()
	h, err := NewHost(ctx, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	b := wat(t, "../../spec/udfs/identity.wat")
	m1, err := h.Load(ctx, "a.wasm", b)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := h.Load(ctx, "b.wasm", b)
	if err != nil {
		t.Fatal(err)
	}
	if m1.compiled != m2.compiled || len(h.compiled) != 1 {
		t.Fatalf("two loads of one module: %d compiled entries, shared %v", len(h.compiled), m1.compiled == m2.compiled)
	}
	if m1.Live() != 1 || m2.Live() != 1 {
		t.Fatalf("live instances %d and %d, want 1 each", m1.Live(), m2.Live())
	}
	if err := m1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m1.Close(ctx); err != nil { // a second Close is a no-op
		t.Fatal(err)
	}
	if e := h.compiled[m2.key]; e == nil || e.refs != 1 {
		t.Fatalf("after one Close: entry %+v, want one reference", e)
	}
	// m2 still instantiates.
	in, err := m2.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m2.release(in)
	if err := m2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if len(h.compiled) != 0 {
		t.Fatalf("%d compiled entries after both modules closed", len(h.compiled))
	}
	// A module that fails to load releases its code too.
	if _, err := h.Load(ctx, "bad.wasm", wat(t, "../../spec/udfs/badabi.wat")); err == nil {
		t.Fatal("badabi.wat loaded")
	}
	if len(h.compiled) != 0 {
		t.Fatalf("%d compiled entries after a failed load", len(h.compiled))
	}
}

// TestInstrumentedCache: the compilation cache keeps the instrumented
// module and the manifest, a second host loads from there (creating no
// instance until one is needed), and a damaged entry is rewritten rather
// than failing the load.
func TestInstrumentedCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := wat(t, "../../spec/udfs/identity.wat")
	loadOnce := func(wantLive int) *Host {
		h, err := NewHost(ctx, Config{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		m, err := h.Load(ctx, "identity.wasm", b)
		if err != nil {
			t.Fatal(err)
		}
		if n := m.Live(); n != wantLive {
			t.Errorf("%d instances after the load, want %d", n, wantLive)
		}
		if got := m.Functions(); len(got) != 1 || got[0].String() != "scalar f(BIGINT) -> BIGINT" {
			t.Errorf("functions %v", got)
		}
		in, err := m.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m.release(in)
		m.Close(ctx)
		h.Close(ctx)
		return h
	}
	h := loadOnce(1)
	if _, err := os.Stat(h.cachePath(manifestDir, sha256.Sum256(b), ".txt")); err != nil {
		t.Errorf("no manifest in the cache: %v", err)
	}
	loadOnce(0)
	key := sha256.Sum256(b)
	path := h.cachePath(instrumentedDir, key, ".wasm")
	cached, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no instrumented module in the cache: %v", err)
	}
	want, err := instrument(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cached, want) {
		t.Fatal("the cached module is not the instrumented one")
	}
	if err := os.WriteFile(path, []byte("\x00asm damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	loadOnce(0)
	if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
		t.Fatal("a damaged cache entry was not rewritten")
	}
}
