package expr

import (
	"encoding/binary"
	"fmt"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Aggregates over DECIMAL, with DataFusion's result types:
//
//	sum(DECIMAL(p, s))  DECIMAL(min(38, p + 10), s)
//	avg(DECIMAL(p, s))  DECIMAL(min(38, p + 4), min(38, s + 4)), truncated
//	min, max            DECIMAL(p, s)
//
// A sum past 38 digits is an error (decimal overflow), not a wrap.

// decimalSumType and decimalAvgType are the result types of sum and avg.
func decimalSumType(t types.Type) types.Type {
	return types.DecimalOf(min(types.MaxDecimalPrecision, int(t.Precision)+10), int(t.Scale))
}

func decimalAvgType(t types.Type) types.Type {
	return types.DecimalOf(min(types.MaxDecimalPrecision, int(t.Precision)+4), min(types.MaxDecimalPrecision, int(t.Scale)+4))
}

// decSumAcc is sum or avg over DECIMAL: an exact 128-bit sum and the count
// of non-NULL values per group.
type decSumAcc struct {
	allocs

	name string
	avg  bool
	in   types.Type // the argument's type
	out  types.Type // the result's
	sum  []coldata.Int128
	cnt  []int64
}

var (
	_ Accumulator = (*decSumAcc)(nil)
	_ Retracter   = (*decSumAcc)(nil)
)

func newDecSum(avg bool, in types.Type) *decSumAcc {
	c := &decSumAcc{name: "sum", avg: avg, in: in, out: decimalSumType(in)}
	if avg {
		c.name, c.out = "avg", decimalAvgType(in)
	}
	return c
}

func (c *decSumAcc) overflow() error {
	return fmt.Errorf("%s(%s): %w", c.name, c.in, ErrDecimalOverflow)
}

// addTo adds x to group s's sum, checking the sum's precision (the sum's
// own type for sum; 38 digits for avg, whose sum is not a result).
func (c *decSumAcc) addTo(s uint32, x coldata.Int128) error {
	r, o := c.sum[s].Add(x)
	p := types.MaxDecimalPrecision
	if !c.avg {
		p = int(c.out.Precision)
	}
	if o || !r.FitsDigits(p) {
		return c.overflow()
	}
	c.sum[s] = r
	return nil
}

func (c *decSumAcc) add(slots []uint32, args []coldata.Vector, n int, sel []int32, retract bool) error {
	if err := checkArgs(c.name, args, 1); err != nil {
		return err
	}
	v, ok := args[0].(*coldata.Vec[coldata.Int128])
	if !ok || !v.T.Equal(c.in) {
		return fmt.Errorf("%s: argument is %s, want %s", c.name, args[0].Type(), c.in)
	}
	m, err := maxSlot(slots, n, sel)
	if err != nil {
		return err
	}
	c.sum, c.cnt = growTo(c.sum, m), growTo(c.cnt, m)
	w := words(v)
	for k, l := 0, selLen(n, sel); k < l; k++ {
		i := liveRow(k, sel)
		if nullAt(w, i) {
			continue
		}
		s, x, d := slots[i], v.Vals[i], int64(1)
		if retract {
			if c.cnt[s] == 0 {
				return fmt.Errorf("%s: retract from a group with no rows (slot %d)", c.name, s)
			}
			x, _ = x.Neg() // a DECIMAL is far from the 128-bit limit
			d = -1
		}
		if err := c.addTo(s, x); err != nil {
			return err
		}
		c.cnt[s] += d
	}
	return nil
}

func (c *decSumAcc) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, false)
}

func (c *decSumAcc) Retract(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, true)
}

func (c *decSumAcc) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*decSumAcc)
	if !ok || o.avg != c.avg || len(dst) != len(srcSlots) {
		return fmt.Errorf("%s: merge with %T (%d into %d slots)", c.name, src, len(srcSlots), len(dst))
	}
	m := maxOf(dst)
	c.sum, c.cnt = growTo(c.sum, m), growTo(c.cnt, m)
	for k, d := range dst {
		if err := c.addTo(d, at(o.sum, srcSlots[k])); err != nil {
			return err
		}
		c.cnt[d] += at(o.cnt, srcSlots[k])
	}
	return nil
}

func (c *decSumAcc) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	out := coldata.AllocVec[coldata.Int128](al, c.out, len(slots))
	var dv decDivider
	for k, s := range slots {
		n := at(c.cnt, s)
		if n <= 0 {
			continue
		}
		if !c.avg {
			out.Vals[k] = c.sum[s]
			continue
		}
		q, failed := dv.quo(c.sum[s], coldata.Int128Of(n), int(c.out.Scale-c.in.Scale))
		if failed != decOK || !q.FitsDigits(int(c.out.Precision)) {
			return nil, c.overflow()
		}
		out.Vals[k] = q
	}
	out.N.SetWords(nullsOf(len(slots), func(k int) bool { return at(c.cnt, slots[k]) <= 0 }))
	return out, nil
}

func (c *decSumAcc) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = binary.AppendVarint(append(dst, tagSumDecimal), at(c.cnt, slot))
	x := at(c.sum, slot)
	dst = binary.LittleEndian.AppendUint64(dst, x.Lo)
	return binary.LittleEndian.AppendUint64(dst, uint64(x.Hi))
}

func (c *decSumAcc) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagSumDecimal, c.name)
	if err != nil {
		return err
	}
	cnt := r.varint()
	x := coldata.Int128{Lo: r.u64()}
	x.Hi = int64(r.u64())
	if err := r.done(); err != nil {
		return err
	}
	if cnt < 0 {
		return fmt.Errorf("%s: %w: negative count %d", c.name, ErrSnapshot, cnt)
	}
	c.sum, c.cnt = growTo(c.sum, int(slot)+1), growTo(c.cnt, int(slot)+1)
	c.sum[slot], c.cnt[slot] = x, cnt
	return nil
}

func (c *decSumAcc) Reset(slot uint32) {
	if int(slot) < len(c.sum) {
		c.sum[slot], c.cnt[slot] = coldata.Int128{}, 0
	}
}

// decMinMax is min or max over DECIMAL (append-only; the retracting form
// is the multiset every min/max uses).
type decMinMax struct {
	allocs

	name string
	max  bool
	t    types.Type
	vals []coldata.Int128
	has  []bool
}

var _ Accumulator = (*decMinMax)(nil)

func (c *decMinMax) better(x, cur coldata.Int128) bool {
	if c.max {
		return x.Cmp(cur) > 0
	}
	return x.Cmp(cur) < 0
}

func (c *decMinMax) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	if err := checkArgs(c.name, args, 1); err != nil {
		return err
	}
	v, ok := args[0].(*coldata.Vec[coldata.Int128])
	if !ok || !v.T.Equal(c.t) {
		return fmt.Errorf("%s: argument is %s, want %s", c.name, args[0].Type(), c.t)
	}
	m, err := maxSlot(slots, n, sel)
	if err != nil {
		return err
	}
	c.vals, c.has = growTo(c.vals, m), growTo(c.has, m)
	w := words(v)
	for k, l := 0, selLen(n, sel); k < l; k++ {
		i := liveRow(k, sel)
		if nullAt(w, i) {
			continue
		}
		s, x := slots[i], v.Vals[i]
		if !c.has[s] || c.better(x, c.vals[s]) {
			c.vals[s], c.has[s] = x, true
		}
	}
	return nil
}

func (c *decMinMax) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*decMinMax)
	if !ok || o.max != c.max || len(dst) != len(srcSlots) {
		return fmt.Errorf("%s: merge with %T (%d into %d slots)", c.name, src, len(srcSlots), len(dst))
	}
	m := maxOf(dst)
	c.vals, c.has = growTo(c.vals, m), growTo(c.has, m)
	for k, d := range dst {
		s := srcSlots[k]
		if !at(o.has, s) {
			continue
		}
		if x := o.vals[s]; !c.has[d] || c.better(x, c.vals[d]) {
			c.vals[d], c.has[d] = x, true
		}
	}
	return nil
}

func (c *decMinMax) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	out := coldata.AllocVec[coldata.Int128](al, c.t, len(slots))
	for k, s := range slots {
		out.Vals[k] = at(c.vals, s)
	}
	out.N.SetWords(nullsOf(len(slots), func(k int) bool { return !at(c.has, slots[k]) }))
	return out, nil
}

func (c *decMinMax) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = append(dst, tagMinMax)
	if !at(c.has, slot) {
		return append(dst, 0)
	}
	x := c.vals[slot]
	dst = binary.LittleEndian.AppendUint64(append(dst, 1), x.Lo)
	return binary.LittleEndian.AppendUint64(dst, uint64(x.Hi))
}

func (c *decMinMax) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagMinMax, c.name)
	if err != nil {
		return err
	}
	has := restoreHas(&r)
	var x coldata.Int128
	if has {
		x.Lo = r.u64()
		x.Hi = int64(r.u64())
	}
	if err := r.done(); err != nil {
		return err
	}
	c.vals, c.has = growTo(c.vals, int(slot)+1), growTo(c.has, int(slot)+1)
	c.vals[slot], c.has[slot] = x, has
	return nil
}

func (c *decMinMax) Reset(slot uint32) {
	if int(slot) < len(c.vals) {
		c.vals[slot], c.has[slot] = coldata.Int128{}, false
	}
}
