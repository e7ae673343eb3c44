// Package udf will host user-defined functions compiled to WebAssembly and
// run by wazero (udf/wasm): modules register their functions into the
// engine's function registry (engine/expr) and are called once per batch.
//
// Nothing is implemented yet; the package exists so the layering test
// already guards it. It may import the engine only; it must not import
// sqlplan, connectors, controlplane or cmd.
package udf
