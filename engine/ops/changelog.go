package ops

import (
	"fmt"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
)

// splitPairs keeps a filtered changelog consistent. An update is the pair
// (ChangeUpdateBefore, ChangeUpdateAfter) of adjacent rows; a filter that
// keeps only one of them would leave a retraction without its
// replacement, or a replacement of a row downstream never saw. So:
//
//	before passes, after passes: the update, unchanged
//	before passes, after fails:  a delete of before
//	before fails, after passes:  an insert of after
//	neither passes:              nothing
//
// in is the calc's input and out the same batch narrowed by the filters
// (out.Sel a subsequence of in's rows). It returns out with its change
// column (the one before the event time) rewritten where a pair was split;
// the input vectors are never modified.
func (c *Calc) splitPairs(in, out *coldata.Batch) (*coldata.Batch, error) {
	at := len(in.Cols) - 2
	if at < 0 {
		return nil, fmt.Errorf("calc over a changelog: the input has %d columns, no %s", len(in.Cols), program.ChangeKindField)
	}
	kinds, ok := in.Cols[at].(*coldata.Vec[int8])
	if !ok {
		return nil, fmt.Errorf("calc over a changelog: column %d (%s) is a %T, not an INT8 vector", at, program.ChangeKindField, in.Cols[at])
	}
	if cap(c.kept) < in.Len {
		c.kept = make([]bool, in.Len)
	}
	kept := c.kept[:in.Len]
	out.ForEach(func(i int) { kept[i] = true })
	var fixed *coldata.Vec[int8]
	n := in.Rows()
	phys := func(k int) int {
		if in.Sel != nil {
			return int(in.Sel[k])
		}
		return k
	}
	for k := 0; k+1 < n; k++ {
		i, j := phys(k), phys(k+1)
		if kinds.Vals[i] != program.ChangeUpdateBefore || kinds.Vals[j] != program.ChangeUpdateAfter {
			continue
		}
		k++ // the pair is handled
		if kept[i] == kept[j] {
			continue
		}
		if fixed == nil {
			fixed = coldata.AllocVec[int8](c.al, kinds.T, len(kinds.Vals))
			copy(fixed.Vals, kinds.Vals)
		}
		if kept[i] {
			fixed.Vals[i] = program.ChangeDelete
		} else {
			fixed.Vals[j] = program.ChangeInsert
		}
	}
	out.ForEach(func(i int) { kept[i] = false })
	if fixed == nil {
		return out, nil
	}
	cols := append([]coldata.Vector(nil), out.Cols...)
	cols[at] = fixed
	return &coldata.Batch{Cols: cols, Len: out.Len, Sel: out.Sel}, nil
}
