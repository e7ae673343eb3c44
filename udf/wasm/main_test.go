package wasm_test

import (
	"os"
	"testing"
)

// cacheDir is a compilation cache shared by the tests' hosts: each module
// is compiled once per test binary run.
var cacheDir string

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "arroyo-wasm-cache-")
	if err != nil {
		panic(err)
	}
	cacheDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}
