// Package state holds the state of operator subtasks, in memory, in a form
// that checkpoints per key group and restores at any parallelism. It also
// owns the key-group functions that shuffle routing and state placement
// share, so they cannot disagree.
//
// # Key groups
//
// A key hashes (coldata.HashInto over the key columns) into one of K key
// groups, KeyGroupOf(hash, K); K is the program's MaxKeyGroups (default
// MaxKeyGroups = 128) and never changes across restores. Subtask s of P owns
// the contiguous range KeyGroupRange(s, P, K) = [ceil(s*K/P),
// ceil((s+1)*K/P)), and SubtaskOf(g, P, K) = g*P/K is its inverse: the
// shuffle sends group g to SubtaskOf(g), which is the subtask whose range
// holds g. With P > K, some subtasks own no group.
//
// # Tables
//
// A Store belongs to one operator subtask (New(Config, restored)). It has
// named keyed tables (Store.Keyed) and named global tables (Store.Global).
//
// A KeyedTable maps (key group, key bytes) to (value bytes, expiry). The
// caller passes the key group it computed from the row's hash, the same one
// the shuffle used; the table never derives placement itself. Expiry is in
// event time: ScanExpired(watermark, fn) removes every entry whose expiry
// is <= the watermark and hands each to fn (a window emits there), in a
// deterministic order (expiry, key group, key hash). Values are opaque
// bytes: an operator encodes its accumulators as it likes.
//
// A GlobalTable is a small string-keyed map per subtask (source split
// offsets, sink transaction ids). On restore each new subtask sees the
// union of every old subtask's entries, read-only (Restored); its live
// table starts empty and holds what it writes now.
//
// # Snapshots
//
// Store.Snapshot(epoch) copies the state into a Snapshot: one byte blob per
// non-empty key group holding that group's entries of every keyed table,
// plus the global entries. Snapshot.MarshalBinary encodes it (magic, version
// byte, varint framing, CRC-32C trailer); UnmarshalBinary rejects truncated
// or damaged bytes with ErrCorrupt. New(cfg, snapshots) takes the snapshots
// of all old subtasks of one epoch, validates the key groups in the new
// subtask's range, skips the others, and checks that operator id, epoch,
// key-group count and the set of old subtasks are consistent.
//
// A snapshot's groups are encoded as it is built, into one buffer its
// Groups are windows into; EncodeTo writes the file encoding from there
// piece by piece (no second copy). An operator whose keyed state lives in
// its own structures (the aggregate) does not copy it into a KeyedTable
// first: Store.SnapshotWith takes such tables as TableEncoders, which
// append their entries per key group already encoded (AppendEntry), or
// hand over immutable blobs the snapshot refers to (GroupBlobs; a key
// group may then have several GroupStates, format version 2), each with a
// PartSlot in which a checkpoint writer notes where it stored the blob, so
// that later checkpoints refer to it there (format version 3), or hand
// over immutable multi-group parts (GroupParts: one part holding several
// key groups' blobs behind an index, GroupState.Spans, format version 4),
// which a restore splits into their groups. On restore,
// the validated groups stay in the snapshots' bytes until a keyed table is
// first used; RangeRestoredKeyed reads them in place for an operator that
// moves them into its own structures, so they are never copied into
// tables at all.
//
// # Memory
//
// Large keyed state must not make the garbage collector scan it. Each key
// group of a keyed table is two pointer-free slices: a byte slab of records
// (16-byte header with expiry and lengths, key, value) and an
// open-addressing index of (hash, offset) slots with linear probing and
// backward-shift deletion (no tombstones). Expiries sit in one pointer-free
// min-heap per table. So the heap holds O(tables x key groups) objects,
// whatever the number of entries (TestHeapObjects: a million entries add a
// few hundred). Overwriting a value with one of the same length is done in
// place; a different length appends a new record, and a slab that is more
// than half garbage is compacted into a new slab at the next Put.
//
// Ownership: slices returned by Get or passed to Range are valid until the
// next modification of the table; those passed to a ScanExpired callback
// until it returns. Put copies its arguments. A Store is not safe for
// concurrent use: it lives on its subtask's goroutine, which also takes its
// snapshots (at a barrier).
//
// It must not import engine/expr, engine/program, engine/ops,
// engine/dataflow or engine/connector: only engine/coldata, engine/types and
// the standard library.
package state
