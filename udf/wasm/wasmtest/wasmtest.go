// Package wasmtest builds UDF modules for tests: Go examples with the Go
// toolchain (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared) and WAT files
// with wat2wasm (Debian's wabt), once per test binary run, into a
// temporary directory.
//
// It imports nothing from this module; only tests use it.
package wasmtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	dir   string
	built = map[string]string{}
)

// CacheDir is a wazero compilation cache shared by the test binaries of
// this machine (under the temporary directory): a module compiled by one
// test run (or by go test without -race) loads from it in the next.
// Compiling the Go example modules takes seconds, minutes under -race.
func CacheDir() string { return filepath.Join(os.TempDir(), "arroyo-test-wasm-cache") }

// Root returns the repository root (the directory of the main go.mod).
func Root(t testing.TB) string {
	t.Helper()
	d, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/arroyogo/arroyo\n")) {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			t.Fatal("wasmtest: repository root not found")
		}
		d = parent
	}
}

func outDir(t testing.TB) string {
	if dir == "" {
		d, err := os.MkdirTemp("", "arroyo-wasmtest-")
		if err != nil {
			t.Fatal(err)
		}
		dir = d
	}
	return dir
}

// GoPath builds the Go UDF module in pkg (a directory relative to the
// repository root, e.g. "examples/udfs/go/scalars") and returns the .wasm
// file's path.
func GoPath(t testing.TB, pkg string) string {
	t.Helper()
	return GoTagsPath(t, pkg, "")
}

// GoTagsPath is GoPath with the build tags tags (comma-separated, as go
// build's -tags takes them; "" for none).
func GoTagsPath(t testing.TB, pkg, tags string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	key := pkg + "#" + tags
	if p, ok := built[key]; ok {
		return p
	}
	root := Root(t)
	name := strings.ReplaceAll(pkg, "/", "_")
	if tags != "" {
		name += "_" + strings.ReplaceAll(tags, ",", "_")
	}
	out := filepath.Join(outDir(t), name+".wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-tags="+tags, "-o", out, ".")
	cmd.Dir = filepath.Join(root, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wasmtest: build %s (tags %q): %v\n%s", pkg, tags, err, b)
	}
	built[key] = out
	return out
}

// Go builds the Go UDF module in pkg and returns its bytes.
func Go(t testing.TB, pkg string) []byte {
	t.Helper()
	return GoTags(t, pkg, "")
}

// GoTags builds the Go UDF module in pkg with the build tags tags and
// returns its bytes.
func GoTags(t testing.TB, pkg, tags string) []byte {
	t.Helper()
	b, err := os.ReadFile(GoTagsPath(t, pkg, tags))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// skip skips t for a missing tool, or fails it when ARROYO_REQUIRE_WASM_TOOLS
// is set (CI installs the tools and must not skip silently).
func skip(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("ARROYO_REQUIRE_WASM_TOOLS") != "" {
		t.Fatalf(format+" (ARROYO_REQUIRE_WASM_TOOLS is set)", args...)
	}
	t.Skipf(format, args...)
}

// WATPath assembles the WAT file at path (relative to the repository
// root) and returns the .wasm file's path. The test is skipped when
// wat2wasm is not installed (apt-get install wabt).
func WATPath(t testing.TB, path string) string {
	t.Helper()
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		skip(t, "wat2wasm not installed (apt-get install wabt)")
	}
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[path]; ok {
		return p
	}
	out := filepath.Join(outDir(t), strings.ReplaceAll(path, "/", "_")+".wasm")
	cmd := exec.Command("wat2wasm", "-o", out, filepath.Join(Root(t), path))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wasmtest: wat2wasm %s: %v\n%s", path, err, b)
	}
	built[path] = out
	return out
}

// WAT assembles the WAT file at path and returns the module's bytes.
func WAT(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(WATPath(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// CPath compiles the C UDF source at path (relative to the repository
// root) with clang for wasm32-wasi, as a reactor, with udf/sdk/c on the
// include path, and returns the .wasm file's path. The test is skipped
// when clang or wasi-libc is missing (apt-get install clang lld wasi-libc
// libclang-rt-14-dev-wasm32).
func CPath(t testing.TB, path string) string {
	t.Helper()
	if _, err := exec.LookPath("clang"); err != nil {
		skip(t, "clang not installed (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)")
	}
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[path]; ok {
		return p
	}
	root := Root(t)
	out := filepath.Join(outDir(t), strings.ReplaceAll(path, "/", "_")+".wasm")
	cmd := exec.Command("clang", "--target=wasm32-wasi", "-O2", "-mbulk-memory", "-mexec-model=reactor", "-Wall", "-Werror",
		"-I", filepath.Join(root, "udf/sdk/c"), "-o", out, filepath.Join(root, path))
	if b, err := cmd.CombinedOutput(); err != nil {
		if msg := string(b); strings.Contains(msg, "file not found") || strings.Contains(msg, "unable to find library") ||
			strings.Contains(msg, "libclang_rt.builtins") || strings.Contains(msg, "wasm-ld") && strings.Contains(msg, "not found") {
			skip(t, "the wasm32-wasi C toolchain is incomplete (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32): %s", msg)
		}
		t.Fatalf("wasmtest: clang %s: %v\n%s", path, err, b)
	}
	built[path] = out
	return out
}
