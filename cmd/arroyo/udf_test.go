package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/udf/wasm/wasmtest"
)

// TestRunWithUDFs runs a pipeline calling a scalar UDF and a UDAF from two
// modules given with --udf, at parallelism 1 and 3.
func TestRunWithUDFs(t *testing.T) {
	udfCache(t)
	scalars := wasmtest.GoPath(t, "examples/udfs/go/scalars")
	median := wasmtest.GoPath(t, "examples/udfs/go/median")
	dir := t.TempDir()
	in := writeFile(t, dir, "in.json", `{"k": "a", "v": 1}
{"k": "a", "v": 5}
{"k": "b", "v": 4}
{"k": "a", "v": 2}
{"k": null, "v": 7}
`)
	sql := writeFile(t, dir, "p.sql", `
CREATE TABLE t (k TEXT, v BIGINT UNSIGNED) WITH (connector = 'single_file', path = '`+in+`', format = 'json', type = 'source');
SELECT shout(k) AS k, double_it(v) AS d FROM t WHERE v > 1;
`)
	for _, p := range []string{"1", "3"} {
		r := runArroyo(t, "", "run", "-p", p, "--udf", scalars, "--udf", median, sql)
		if r.code != 0 {
			t.Fatalf("p=%s: exit %d: %s", p, r.code, r.stderr)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		sort.Strings(lines)
		want := `{"k":"A!","d":10}|{"k":"A!","d":4}|{"k":"B!","d":8}|{"k":null,"d":14}`
		if got := strings.Join(lines, "|"); got != want {
			t.Fatalf("p=%s: output %s, want %s", p, got, want)
		}
	}
	// The UDAF, in an updating aggregate, through run.udfs (the
	// environment form of the config key).
	sql = writeFile(t, dir, "agg.sql", `
CREATE TABLE t (k TEXT, v BIGINT UNSIGNED) WITH (connector = 'single_file', path = '`+in+`', format = 'json', type = 'source');
CREATE TABLE out WITH (connector = 'single_file', path = '`+filepath.Join(dir, "out.json")+`', format = 'debezium_json', type = 'sink');
INSERT INTO out SELECT k, my_median(v) AS m FROM t GROUP BY k;
`)
	r := runArroyoEnv(t, []string{"ARROYO__RUN__UDFS=" + median}, "run", sql)
	if r.code != 0 {
		t.Fatalf("run.udfs: exit %d: %s", r.code, r.stderr)
	}
	out, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"k":"a","m":2.0`, `"k":"b","m":4.0`, `"k":null,"m":7.0`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("updating my_median output lacks %s:\n%s", want, out)
		}
	}
}

// TestRunUDFErrors: clashes name both definitions; a bad module and a bad
// call are errors a user can act on.
func TestRunUDFErrors(t *testing.T) {
	udfCache(t)
	scalars := wasmtest.GoPath(t, "examples/udfs/go/scalars")
	clash := wasmtest.GoPath(t, "spec/udfs/go/clash")
	dir := t.TempDir()
	sql := writeFile(t, dir, "p.sql", impulse+"SELECT shout('x') AS s FROM i;\n")
	bad := writeFile(t, dir, "p2.sql", impulse+"SELECT inc_u8('x') AS s FROM i;\n")
	junk := writeFile(t, dir, "junk.wasm", "junk")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--udf", scalars, "--udf", clash, sql}, "udf shout is defined by two modules: examples_udfs_go_scalars.wasm and spec_udfs_go_clash.wasm"},
		{[]string{"--udf", junk, sql}, "udf module junk.wasm: not a valid WebAssembly module"},
		{[]string{"--udf", filepath.Join(dir, "missing.wasm"), sql}, "missing.wasm: no such file or directory"},
		{[]string{"--udf", scalars, bad}, "p2.sql:2:8: inc_u8(TINYINT UNSIGNED) expects TINYINT UNSIGNED as argument 1, got TEXT"},
	} {
		r := runArroyo(t, "", append([]string{"run"}, c.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, r.code, r.stderr, c.want)
		}
	}
	if _, err := exec.LookPath("wat2wasm"); err == nil {
		abs := wasmtest.WATPath(t, "spec/udfs/abs.wat")
		r := runArroyo(t, "", "run", "--udf", abs, sql)
		if want := "udf abs of module spec_udfs_abs.wat.wasm clashes with a built-in function of that name"; r.code == 0 || !strings.Contains(r.stderr, want) {
			t.Errorf("built-in clash: exit %d, stderr %q, want %q", r.code, r.stderr, want)
		}
	}
}

// udfCache keeps the tests' compiled modules out of the user's cache
// directory, in the one the test binaries share.
func udfCache(t *testing.T) {
	t.Setenv("ARROYO__UDF__CACHE_DIR", wasmtest.CacheDir())
}

// impulse is a source of one row.
const impulse = "CREATE TABLE i WITH (connector = 'impulse', event_rate = '1000', message_count = '1');\n"

func TestUDFInspect(t *testing.T) {
	udfCache(t)
	median := wasmtest.GoPath(t, "examples/udfs/go/median")
	r := runArroyo(t, "", "udf", "inspect", median)
	want := median + `: UDF ABI 1, 2 functions
  aggregate my_median(BIGINT UNSIGNED) -> DOUBLE
  aggregate weighted_mean(DOUBLE, DOUBLE) -> DOUBLE NULL
`
	if r.code != 0 || r.stdout != want {
		t.Fatalf("exit %d, stdout\n%s\nwant\n%s\nstderr %s", r.code, r.stdout, want, r.stderr)
	}
	r = runArroyo(t, "", "udf", "inspect", filepath.Join(t.TempDir(), "none.wasm"))
	if r.code == 0 || !strings.Contains(r.stderr, "none.wasm: no such file") {
		t.Fatalf("missing file: exit %d, %s", r.code, r.stderr)
	}
}

// TestUDFNew scaffolds a Go project, builds it with the Go toolchain as
// its README says, and inspects and runs the module.
func TestUDFNew(t *testing.T) {
	udfCache(t)
	dir := t.TempDir()
	proj := filepath.Join(dir, "my-udfs")
	sdk := filepath.Join(wasmtest.Root(t), "udf", "sdk", "go")
	r := runArroyo(t, "", "udf", "new", "--lang", "go", "--sdk", sdk, proj)
	if r.code != 0 {
		t.Fatalf("udf new: exit %d: %s", r.code, r.stderr)
	}
	build := exec.Command("go", "build", "-buildmode=c-shared", "-o", "my-udfs.wasm", ".")
	build.Dir = proj
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the scaffold: %v\n%s", err, out)
	}
	wasmFile := filepath.Join(proj, "my-udfs.wasm")
	r = runArroyo(t, "", "udf", "inspect", wasmFile)
	if !strings.Contains(r.stdout, "scalar my_udfs(TEXT) -> TEXT") || !strings.Contains(r.stdout, "aggregate my_udfs_sum(BIGINT) -> BIGINT") {
		t.Fatalf("inspect the scaffold: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runArroyo(t, "", "run", "--udf", wasmFile, writeFile(t, dir, "q.sql", impulse+"SELECT my_udfs('hi') AS x FROM i;\n"))
	if r.code != 0 || strings.TrimSpace(r.stdout) != `{"x":"HI"}` {
		t.Fatalf("run with the scaffold: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	if r := runArroyo(t, "", "udf", "new", "--lang", "go", proj); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("udf new over an existing directory: exit %d, %s", r.code, r.stderr)
	}
	if r := runArroyo(t, "", "udf", "new", "--lang", "rust", filepath.Join(dir, "x")); r.code == 0 || !strings.Contains(r.stderr, "the supported language is go") {
		t.Errorf("udf new --lang rust: exit %d, %s", r.code, r.stderr)
	}
}
