package ops

import (
	"encoding/binary"
	"fmt"

	"github.com/arroyogo/arroyo/engine/state"
)

// State shared by the keyed operators (aggregate, join, window functions):
// keyed table "groups" (entries in their key's key group) and global table
// "watermark" (one entry per subtask: the operator's watermark, and for an
// aggregate its largest event time).
const (
	groupTable     = "groups"
	watermarkTable = "watermark"
)

// taskStore returns the state store of task's subtask: empty to fill at a
// checkpoint (handles nil), or holding the key groups it owns of every
// restored subtask's snapshot (handles are what Checkpoint returned).
func taskStore(task TaskInfo, handles []any) (*state.Store, error) {
	snaps := make([]*state.Snapshot, 0, len(handles))
	for _, h := range handles {
		s, ok := h.(*state.Snapshot)
		if !ok {
			return nil, fmt.Errorf("snapshot is a %T, not a state snapshot", h)
		}
		snaps = append(snaps, s)
	}
	groups := task.MaxKeyGroups
	if groups == 0 {
		groups = state.MaxKeyGroups
	}
	return state.New(state.Config{OperatorID: task.OperatorID, Subtask: task.Subtask, Parallelism: task.Parallelism, MaxKeyGroups: groups}, snaps)
}

// putWatermark records the subtask's watermark (and further values).
func putWatermark(st *state.Store, task TaskInfo, vals ...int64) {
	var b []byte
	for _, v := range vals {
		b = binary.AppendVarint(b, v)
	}
	st.Global(watermarkTable).Put(fmt.Sprint(task.Subtask), b)
}

// restoredWatermark returns the lowest watermark any restored subtask had
// reached (late rows stay late after a restore; windows emitted before the
// checkpoint are not emitted again) and the largest second value (an
// aggregate's event time); ok is false when nothing was restored.
func restoredWatermark(st *state.Store) (wm, second int64, ok bool, err error) {
	err = st.Global(watermarkTable).RangeRestored(func(_ string, v []byte) error {
		w, n := binary.Varint(v)
		if n <= 0 {
			return fmt.Errorf("malformed watermark entry")
		}
		if s, k := binary.Varint(v[n:]); k > 0 {
			second = max(second, s)
			if !ok {
				second = s
			}
		}
		if !ok || w < wm {
			wm = w
		}
		ok = true
		return nil
	})
	return wm, second, ok, err
}
