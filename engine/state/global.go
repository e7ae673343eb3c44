package state

import (
	"fmt"
	"sort"
)

// GlobalTable is a small string-keyed table of one subtask that is not
// partitioned by key group: source split offsets, sink transaction ids.
// Every subtask snapshots its own. On restore, at any parallelism, every
// new subtask sees the union of all old subtasks' entries through Restored
// and RangeRestored, read-only, while the live table starts empty: a
// subtask writes what it owns now (the splits assigned to it), so its next
// snapshot holds no stale copy of what another subtask owns.
//
// Keys must be unique across the subtasks of an operator (e.g. the split
// id, or a name that includes the subtask): two snapshots holding one key
// with different values fail the restore.
//
// It is a map with a pointer per entry: meant for tens to thousands of
// entries, not for keyed state.
type GlobalTable struct {
	name     string
	live     map[string][]byte
	restored map[string][]byte
}

func newGlobalTable(name string) *GlobalTable {
	return &GlobalTable{name: name, live: map[string][]byte{}, restored: map[string][]byte{}}
}

// Name is the table's name.
func (t *GlobalTable) Name() string { return t.name }

// Put sets key to a copy of value.
func (t *GlobalTable) Put(key string, value []byte) {
	t.live[key] = append(t.live[key][:0:0], value...)
}

// Get returns the value of key; the slice is valid until the next Put or
// Delete of key, and must not be modified.
func (t *GlobalTable) Get(key string) ([]byte, bool) {
	v, ok := t.live[key]
	return v, ok
}

// Delete removes key.
func (t *GlobalTable) Delete(key string) { delete(t.live, key) }

// Len is the number of live entries.
func (t *GlobalTable) Len() int { return len(t.live) }

// Range calls fn for every live entry in key order.
func (t *GlobalTable) Range(fn func(key string, value []byte) error) error {
	return rangeSorted(t.live, fn)
}

// Restored returns the value key had in the restored checkpoint (in any
// old subtask's table), or false.
func (t *GlobalTable) Restored(key string) ([]byte, bool) {
	v, ok := t.restored[key]
	return v, ok
}

// RangeRestored calls fn for every restored entry in key order.
func (t *GlobalTable) RangeRestored(fn func(key string, value []byte) error) error {
	return rangeSorted(t.restored, fn)
}

func (t *GlobalTable) restore(key string, value []byte, from int, owners map[string]int) error {
	if old, ok := t.restored[key]; ok {
		if string(old) != string(value) {
			return fmt.Errorf("global table %q: key %q has different values in the snapshots of subtasks %d and %d", t.name, key, owners[key], from)
		}
		return nil
	}
	t.restored[key] = value
	owners[key] = from
	return nil
}

func rangeSorted(m map[string][]byte, fn func(key string, value []byte) error) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn(k, m[k]); err != nil {
			return err
		}
	}
	return nil
}
