// Package wasm is the host of WebAssembly UDFs: it loads a module (from
// bytes or a file) with wazero, checks it against the guest ABI
// (docs/udf-abi.md: an ABI version, a signature manifest, an allocator and
// one call entry point), and registers its functions into a pipeline's
// function registry scope (engine/expr) so that the planner type-checks
// them like built-ins.
//
// A scalar UDF is called once per batch: the host writes the argument
// columns into the guest's memory (values and a NULL bitmap; strings and
// bytes as offsets and one buffer), the guest writes a result column, and
// the host copies it back into a vector. A UDAF keeps its groups' rows in
// its accumulator and is called once per emission for all the groups
// emitted, each argument a list column. Instances are pooled per module:
// a subtask binds one for its life (expr.Resolved.Bind); an aggregate takes
// one for each Result call.
//
// Sandbox: a module may import WASI only, and gets no filesystem,
// environment, arguments, network or real clock (a fake one); its stdout
// and stderr go to the log, bounded. Each instance has a memory limit and
// each call a time limit; a trap, a timeout or the memory limit fails the
// call with an error naming the UDF and what happened, and the instance is
// discarded. The time limit is enforced by a loop counter the host adds to
// the module's code before compiling it (interrupt.go), not by wazero's
// termination checks, which cost a call out of the guest per loop
// iteration.
//
// It imports the engine (types, coldata, expr) and wazero only; it must not
// import sqlplan, connectors, controlplane or cmd.
package wasm
