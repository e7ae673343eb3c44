package wasm_test

import "github.com/arroyogo/arroyo/udf/wasm/wasmtest"

// cacheDir is the compilation cache the tests' hosts share: each module is
// compiled once, not once per test (or per test run).
var cacheDir = wasmtest.CacheDir()
