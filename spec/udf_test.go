package spec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/sqlplan"
	"github.com/arroyogo/arroyo/udf/wasm"
	"github.com/arroyogo/arroyo/udf/wasm/wasmtest"
)

// UDF cases: "-- udf: PATH" loads a module built from PATH (relative to the
// repository root): a Go package directory (built with the Go toolchain for
// wasip1), a .wat file (wat2wasm), a .c file (clang for wasm32-wasi) or a
// .wasm file. The case's pipeline plans and runs with the modules'
// functions in a scope of its own, through the controller
// (controller.Pipeline.Functions) as `arroyo run --udf` does.

var (
	udfMu   sync.Mutex
	udfHost *wasm.Host
	udfMods = map[string]*wasm.Module{}
)

// udfModule loads (once per test binary run) the module built from path.
func udfModule(path string) (mod *wasm.Module, err error) {
	udfMu.Lock()
	defer udfMu.Unlock()
	if m, ok := udfMods[path]; ok {
		return m, nil
	}
	if udfHost == nil {
		if udfHost, err = wasm.NewHost(context.Background(), wasm.Config{CacheDir: wasmtest.CacheDir()}); err != nil {
			return nil, err
		}
	}
	var file string
	if err := buildSafely(func(t testing.TB) {
		switch {
		case strings.HasSuffix(path, ".wat"):
			file = wasmtest.WATPath(t, path)
		case strings.HasSuffix(path, ".c"):
			file = wasmtest.CPath(t, path)
		case strings.HasSuffix(path, ".wasm"):
			file = filepath.Join(wasmtest.Root(t), path)
		default:
			file = wasmtest.GoPath(t, path)
		}
	}); err != nil {
		return nil, fmt.Errorf("udf %s: %w", path, err)
	}
	m, err := udfHost.LoadFile(context.Background(), file)
	if err != nil {
		return nil, err
	}
	m.Name = filepath.Base(path)
	udfMods[path] = m
	return m, nil
}

// buildSafely runs a wasmtest build with a testing.TB that turns Fatal and
// Skip into an error (the runner's goroutines are not the test's).
func buildSafely(f func(t testing.TB)) (err error) {
	tb := &errTB{}
	defer func() {
		if r := recover(); r != nil {
			if r != errTBStop {
				panic(r)
			}
			err = fmt.Errorf("%s", tb.msg)
		}
	}()
	f(tb)
	return nil
}

var errTBStop = new(int)

type errTB struct {
	testing.TB
	msg string
}

func (e *errTB) Helper() {}
func (e *errTB) Fatal(args ...any) {
	e.msg = fmt.Sprint(args...)
	panic(errTBStop)
}
func (e *errTB) Fatalf(format string, args ...any) {
	e.msg = fmt.Sprintf(format, args...)
	panic(errTBStop)
}
func (e *errTB) Skip(args ...any) {
	e.msg = skipPrefix + fmt.Sprint(args...)
	panic(errTBStop)
}
func (e *errTB) Skipf(format string, args ...any) {
	e.msg = skipPrefix + fmt.Sprintf(format, args...)
	panic(errTBStop)
}

const skipPrefix = "cannot build the module: "

// udfSkip returns why c cannot run here (a tool its modules need is not
// installed), or "".
func udfSkip(c *Case) string {
	for _, p := range c.UDFs {
		if _, err := udfModule(p); err != nil {
			if _, why, ok := strings.Cut(err.Error(), skipPrefix); ok {
				return "udf " + p + ": " + why
			}
		}
	}
	return ""
}

// caseFunctions returns the registry c's pipeline plans and runs with: a
// scope with its UDFs over the built-ins, or nil (the built-ins) when it
// has none.
func caseFunctions(c *Case) (*expr.Registry, error) {
	if len(c.UDFs) == 0 {
		return nil, nil
	}
	var mods []*wasm.Module
	for _, p := range c.UDFs {
		m, err := udfModule(p)
		if err != nil {
			return nil, err
		}
		mods = append(mods, m)
	}
	reg := expr.Builtins().Scope()
	if err := wasm.Register(reg, mods...); err != nil {
		return nil, err
	}
	return reg, nil
}

// startUDFCase plans and starts c's SQL at parallelism p with its UDFs.
func startUDFCase(ctx context.Context, c *Case, sql string, p int) (*dataflow.Job, error) {
	reg, err := caseFunctions(c)
	if err != nil {
		return nil, err
	}
	prog, err := sqlplan.Plan(c.Path, sql, sqlplan.Options{Name: "spec", Parallelism: p, Functions: reg,
		UpdateFlushInterval: config.Default().Pipeline.UpdateAggregateFlushInterval})
	if err != nil {
		return nil, err
	}
	return dataflow.Start(ctx, prog, dataflow.Options{Functions: reg})
}

// TestUDFFailureIsolated runs a pipeline whose UDF panics beside one whose
// UDFs (from another host's module) are healthy, concurrently: the first
// fails naming the UDF, the second finishes with its rows.
func TestUDFFailureIsolated(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.json")
	var rows strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&rows, "{\"x\": %d, \"s\": \"r%d\"}\n", i%100, i)
	}
	if err := os.WriteFile(in, []byte(rows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(udf, sel, out string) error {
		c := &Case{Path: "isolated.sql", UDFs: []string{udf}}
		sql := "CREATE TABLE t (x BIGINT, s TEXT) WITH (connector = 'single_file', path = '" + in + "', format = 'json', type = 'source');\n" +
			"CREATE TABLE o WITH (connector = 'single_file', path = '" + filepath.Join(dir, out) + "', format = 'json', type = 'sink');\n" +
			"INSERT INTO o SELECT " + sel + " FROM t;\n"
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		j, err := startUDFCase(ctx, c, sql, 3)
		if err != nil {
			return err
		}
		return j.Wait()
	}
	badc, goodc := make(chan error, 1), make(chan error, 1)
	go func() { badc <- run("spec/udfs/go/hostile", "boom(x) AS y", "bad.json") }()
	go func() { goodc <- run("examples/udfs/go/scalars", "shout(s) AS s, add_i64(x, 1) AS y", "good.json") }()
	bad, good := <-badc, <-goodc
	if good != nil {
		t.Fatalf("the healthy pipeline: %v", good)
	}
	if bad == nil || !strings.Contains(bad.Error(), "udf boom: guest trapped") || !strings.Contains(bad.Error(), "unlucky number 13") {
		t.Fatalf("the hostile pipeline: %v", bad)
	}
	out, err := os.ReadFile(filepath.Join(dir, "good.json"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), "\n"); n != 2000 || !strings.Contains(string(out), `{"s":"R1999!","y":100}`) {
		t.Fatalf("the healthy pipeline wrote %d rows", n)
	}
}
