package program

import (
	"fmt"
	"time"
)

// OpJoin joins its two inputs (slot 0 the left, slot 1 the right) on
// equal keys; Join is set.
const OpJoin OpKind = "join"

// JoinKind is the SQL join type.
type JoinKind string

const (
	JoinInner JoinKind = "inner"
	JoinLeft  JoinKind = "left"
	JoinRight JoinKind = "right"
	JoinFull  JoinKind = "full"
)

// Join is an equi-join. Each input's first Keys columns are the join keys
// (equal types on both sides); the columns after them, up to the hidden
// ones, are the side's row. The output is the left row, the right row and
// the hidden event time.
//
// Windowed (the keys include both sides' window): rows are buffered by
// event time (a window aggregate's rows carry window end - 1ns) and key,
// and when the watermark passes a bucket its rows are joined, unmatched
// rows of an outer side padded with NULLs, and dropped. Rows behind the
// watermark are dropped (metric "late_rows").
//
// Not windowed (inner only): an updating join. Every row is kept (for TTL
// of event time after it was last seen, 0: forever) and joined with the
// other side's rows of the same key as it arrives; the output is a
// changelog, and an updating input's retractions retract what they had
// produced.
type Join struct {
	Kind JoinKind `json:"kind"`
	Keys int      `json:"keys"`
	// Left is the number of the left row's columns in the output.
	Left int `json:"left"`
	// Retract says which inputs are updating (changelogs).
	Retract  [2]bool       `json:"retract,omitempty"`
	Windowed bool          `json:"windowed,omitempty"`
	TTL      time.Duration `json:"ttl,omitempty"`
}

func checkJoin(j *Join, left, right, out *Node, updating bool) error {
	switch j.Kind {
	case JoinInner, JoinLeft, JoinRight, JoinFull:
	default:
		return fmt.Errorf("unknown join kind %q", j.Kind)
	}
	if !j.Windowed && j.Kind != JoinInner {
		return fmt.Errorf("a %s join needs a window", j.Kind)
	}
	if j.Windowed && (updating || left.Updating || right.Updating) {
		return fmt.Errorf("a windowed join neither reads nor emits an updating stream")
	}
	if !j.Windowed && !updating {
		return fmt.Errorf("a join without a window is updating")
	}
	lh, rh := hiddenCount(left), hiddenCount(right)
	ls, rs := left.Schema, right.Schema
	if j.Keys < 1 || j.Keys > ls.Len()-lh || j.Keys > rs.Len()-rh {
		return fmt.Errorf("%d keys for inputs of %d and %d columns", j.Keys, ls.Len(), rs.Len())
	}
	for k := 0; k < j.Keys; k++ {
		if !ls.Fields[k].Type.Equal(rs.Fields[k].Type) {
			return fmt.Errorf("key %d is %s on the left, %s on the right", k, ls.Fields[k].Type, rs.Fields[k].Type)
		}
	}
	nl, nr := ls.Len()-lh-j.Keys, rs.Len()-rh-j.Keys
	if j.Left != nl || j.Retract != [2]bool{left.Updating, right.Updating} {
		return fmt.Errorf("left %d and retract %v do not match the inputs (%d left columns, updating %t and %t)", j.Left, j.Retract, nl, left.Updating, right.Updating)
	}
	oh := 1
	if updating {
		oh = 2
	}
	s := out.Schema
	if s.Len() != nl+nr+oh {
		return fmt.Errorf("schema has %d columns, want %d left + %d right + %d hidden", s.Len(), nl, nr, oh)
	}
	for i := 0; i < nl; i++ {
		if !s.Fields[i].Type.Equal(ls.Fields[j.Keys+i].Type) {
			return fmt.Errorf("column %d is %s, the left's is %s", i, s.Fields[i].Type, ls.Fields[j.Keys+i].Type)
		}
	}
	for i := 0; i < nr; i++ {
		if !s.Fields[nl+i].Type.Equal(rs.Fields[j.Keys+i].Type) {
			return fmt.Errorf("column %d is %s, the right's is %s", nl+i, s.Fields[nl+i].Type, rs.Fields[j.Keys+i].Type)
		}
	}
	if j.TTL < 0 {
		return fmt.Errorf("negative TTL")
	}
	return nil
}

func hiddenCount(n *Node) int {
	if n.Updating {
		return 2
	}
	return 1
}
