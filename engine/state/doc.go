// Package state holds the state of operator subtasks: keyed tables
// partitioned by key group, with event-time expiry, and small global
// key-value tables (source offsets, sink transaction ids). It also owns the
// key-group functions (KeyGroupOf, KeyGroupRange, SubtaskOf) that shuffle
// routing and state placement share.
//
// It must not import engine/expr, engine/program, engine/ops,
// engine/runtime or engine/connector: only engine/coldata, engine/types and
// the standard library.
package state
