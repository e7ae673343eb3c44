// Package engine is the bottom layer of the stream processor: SQL types,
// columnar data, the vectorized expression evaluator, the serializable
// dataflow program, operators, the runtime that executes a program, and the
// registries (connectors, formats, functions) that higher layers fill.
//
// Nothing under engine/ may import sqlplan, connectors, controlplane, udf or
// cmd; dep_test.go enforces this.
package engine
