// Package udf holds the user-defined functions compiled to WebAssembly:
// the host (udf/wasm, on wazero) that loads modules and registers their
// functions into the engine's function registry (engine/expr), called once
// per batch, and the guest SDKs (udf/sdk/go, a module of its own, and the
// C header udf/sdk/c). docs/udfs.md is the author's guide,
// docs/udf-abi.md the ABI.
//
// It may import the engine only; it must not import sqlplan, connectors,
// controlplane or cmd.
package udf
