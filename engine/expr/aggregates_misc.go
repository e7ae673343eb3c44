package expr

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// bit_and, bit_or, bit_xor, bool_and, bool_or, first_value, last_value and
// array_agg.

type bitOp uint8

const (
	bitAnd bitOp = iota
	bitOr
	bitXor
)

func init() {
	for _, b := range []struct {
		name string
		op   bitOp
		desc string
	}{
		{"bit_and", bitAnd, "bitwise AND of the non-NULL values; same integer type as the argument"},
		{"bit_or", bitOr, "bitwise OR of the non-NULL values; same integer type as the argument"},
		{"bit_xor", bitXor, "bitwise XOR of the non-NULL values; same integer type as the argument"},
	} {
		name, op := b.name, b.op
		registerAggregate(&AggregateFunc{
			Name:        name,
			Description: b.desc,
			Resolve: func(args []types.Type) (*ResolvedAggregate, error) {
				if len(args) != 1 {
					return nil, fmt.Errorf("%s takes 1 argument, got %d", name, len(args))
				}
				t := args[0]
				if t.Kind == types.Null {
					t = types.Int64T
				}
				if newBitAcc(name, op, t) == nil {
					return nil, fmt.Errorf("%s expects an integer, got %s", name, args[0])
				}
				ra := &ResolvedAggregate{Args: []types.Type{t}, Result: t, New: func() Accumulator { return newBitAcc(name, op, t) }}
				if op != bitXor {
					ra.NewRetracting = func() Accumulator { return newBitCounts(name, op, t) }
				}
				return ra, nil
			},
		})
	}
	for _, and := range []bool{true, false} {
		name := "bool_or"
		if and {
			name = "bool_and"
		}
		registerAggregate(&AggregateFunc{
			Name:        name,
			Description: map[bool]string{true: "TRUE if every non-NULL value is TRUE", false: "TRUE if any non-NULL value is TRUE"}[and],
			Resolve: func(args []types.Type) (*ResolvedAggregate, error) {
				if len(args) != 1 {
					return nil, fmt.Errorf("%s takes 1 argument, got %d", name, len(args))
				}
				if k := args[0].Kind; k != types.Bool && k != types.Null {
					return nil, fmt.Errorf("%s expects BOOLEAN, got %s", name, args[0])
				}
				return &ResolvedAggregate{Args: []types.Type{types.BoolT}, Result: types.BoolT, New: func() Accumulator { return &boolAcc{name: name, and: and} }}, nil
			},
		})
	}
	for _, last := range []bool{false, true} {
		name := "first_value"
		if last {
			name = "last_value"
		}
		registerAggregate(&AggregateFunc{
			Name:        name,
			Description: map[bool]string{false: "the value of the group's first row in arrival order (NULL included)", true: "the value of the group's last row in arrival order (NULL included)"}[last],
			Resolve: func(args []types.Type) (*ResolvedAggregate, error) {
				if len(args) != 1 {
					return nil, fmt.Errorf("%s takes 1 argument, got %d", name, len(args))
				}
				t := args[0]
				if !keyable(t) {
					return nil, fmt.Errorf("%s does not support %s", name, t)
				}
				return &ResolvedAggregate{Args: []types.Type{t}, Result: t, KeepNulls: true, New: func() Accumulator { return &firstLastAcc{name: name, last: last, t: t} }}, nil
			},
		})
	}
	registerAggregate(&AggregateFunc{
		Name:        "array_agg",
		Description: "an array of the group's values in arrival order, NULLs included",
		Resolve: func(args []types.Type) (*ResolvedAggregate, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("array_agg takes 1 argument, got %d", len(args))
			}
			t := args[0]
			if !keyable(t) {
				return nil, fmt.Errorf("array_agg does not support %s", t)
			}
			return &ResolvedAggregate{Args: []types.Type{t}, Result: types.ListOf(t), KeepNulls: true, New: func() Accumulator { return &arrayAcc{t: t} }}, nil
		},
	})
}

// newBitAcc returns bit_and/or/xor over integer type t, or nil.
func newBitAcc(name string, op bitOp, t types.Type) Accumulator {
	switch t.Kind {
	case types.Int8:
		return mkBitAcc[int8](name, op, t)
	case types.Int16:
		return mkBitAcc[int16](name, op, t)
	case types.Int32:
		return mkBitAcc[int32](name, op, t)
	case types.Int64:
		return mkBitAcc[int64](name, op, t)
	case types.UInt8:
		return mkBitAcc[uint8](name, op, t)
	case types.UInt16:
		return mkBitAcc[uint16](name, op, t)
	case types.UInt32:
		return mkBitAcc[uint32](name, op, t)
	case types.UInt64:
		return mkBitAcc[uint64](name, op, t)
	}
	return nil
}

func mkBitAcc[T integer](name string, op bitOp, t types.Type) Accumulator {
	a := &bitAcc[T]{name: name, op: op, t: t}
	if op == bitXor {
		return &bitXorAcc[T]{a}
	}
	return a
}

// bitAcc is bit_and, bit_or or bit_xor; cnt counts the non-NULL values so
// an empty group is NULL (and bit_xor can retract).
type bitAcc[T integer] struct {
	allocs

	name string
	op   bitOp
	t    types.Type
	vals []T
	cnt  []int64
}

// bitXorAcc is bit_xor, which retracts by XOR-ing again.
type bitXorAcc[T integer] struct{ *bitAcc[T] }

var (
	_ Accumulator = (*bitAcc[int64])(nil)
	_ Retracter   = (*bitXorAcc[int64])(nil)
)

func (c *bitAcc[T]) fold(cur T, has bool, x T) T {
	if !has {
		return x
	}
	switch c.op {
	case bitAnd:
		return cur & x
	case bitOr:
		return cur | x
	}
	return cur ^ x
}

func (c *bitAcc[T]) add(slots []uint32, args []coldata.Vector, n int, sel []int32, retract bool) error {
	if err := checkArgs(c.name, args, 1); err != nil {
		return err
	}
	v, ok := args[0].(*coldata.Vec[T])
	if !ok || v.T.Kind != c.t.Kind {
		return fmt.Errorf("%s: argument is %s, want %s", c.name, args[0].Type(), c.t)
	}
	m, err := maxSlot(slots, n, sel)
	if err != nil {
		return err
	}
	c.vals, c.cnt = growTo(c.vals, m), growTo(c.cnt, m)
	w := words(v)
	for k, l := 0, selLen(n, sel); k < l; k++ {
		i := liveRow(k, sel)
		if nullAt(w, i) {
			continue
		}
		s := slots[i]
		if retract {
			if c.cnt[s] == 0 {
				return fmt.Errorf("%s: retract from a group with no rows (slot %d)", c.name, s)
			}
			c.vals[s] ^= v.Vals[i]
			c.cnt[s]--
			continue
		}
		c.vals[s] = c.fold(c.vals[s], c.cnt[s] > 0, v.Vals[i])
		c.cnt[s]++
	}
	return nil
}

func (c *bitAcc[T]) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, false)
}

func (c *bitXorAcc[T]) Retract(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, true)
}

func (c *bitAcc[T]) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*bitAcc[T])
	if x, isX := src.(*bitXorAcc[T]); isX {
		o, ok = x.bitAcc, true
	}
	if !ok || o.op != c.op || len(dst) != len(srcSlots) {
		return fmt.Errorf("%s: merge with %T (%d into %d slots)", c.name, src, len(srcSlots), len(dst))
	}
	m := maxOf(dst)
	c.vals, c.cnt = growTo(c.vals, m), growTo(c.cnt, m)
	for k, d := range dst {
		s := srcSlots[k]
		if at(o.cnt, s) == 0 || (o == c && s == d) {
			continue
		}
		c.vals[d] = c.fold(c.vals[d], c.cnt[d] > 0, o.vals[s])
		c.cnt[d] += o.cnt[s]
	}
	return nil
}

func (c *bitAcc[T]) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	out := coldata.AllocVec[T](al, c.t, len(slots))
	for k, s := range slots {
		out.Vals[k] = at(c.vals, s)
	}
	out.N.SetWords(nullsOf(len(slots), func(k int) bool { return at(c.cnt, slots[k]) == 0 }))
	return out, nil
}

func (c *bitAcc[T]) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = binary.AppendVarint(append(dst, tagBits, byte(c.op)), at(c.cnt, slot))
	return binary.LittleEndian.AppendUint64(dst, uint64(at(c.vals, slot)))
}

func (c *bitAcc[T]) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagBits, c.name)
	if err != nil {
		return err
	}
	if len(r.b) == 0 || r.b[0] != byte(c.op) {
		return fmt.Errorf("%s: %w: another bit operation", c.name, ErrSnapshot)
	}
	r.b = r.b[1:]
	cnt, x := r.varint(), r.u64()
	if err := r.done(); err != nil {
		return err
	}
	if cnt < 0 {
		return fmt.Errorf("%s: %w: negative count %d", c.name, ErrSnapshot, cnt)
	}
	c.vals, c.cnt = growTo(c.vals, int(slot)+1), growTo(c.cnt, int(slot)+1)
	c.vals[slot], c.cnt[slot] = T(x), cnt
	return nil
}

func (c *bitAcc[T]) Reset(slot uint32) {
	if int(slot) < len(c.cnt) {
		c.vals[slot], c.cnt[slot] = 0, 0
	}
}

// bitCounts is the retracting bit_and / bit_or: per group, the number of
// non-NULL values and, per bit, how many of them have it set (values are
// widened to 64 bits, sign-extended, and narrowed back in Result).
type bitCounts struct {
	allocs

	name string
	op   bitOp
	t    types.Type
	cnt  []int64
	ones [][64]int64
}

var _ Retracter = (*bitCounts)(nil)

func newBitCounts(name string, op bitOp, t types.Type) *bitCounts {
	return &bitCounts{name: name, op: op, t: t}
}

func (c *bitCounts) add(slots []uint32, args []coldata.Vector, n int, sel []int32, d int64) error {
	if err := checkArgs(c.name, args, 1); err != nil {
		return err
	}
	if args[0].Type().Kind != c.t.Kind {
		return fmt.Errorf("%s: argument is %s, want %s", c.name, args[0].Type(), c.t)
	}
	m, err := maxSlot(slots, n, sel)
	if err != nil {
		return err
	}
	c.cnt, c.ones = growTo(c.cnt, m), growTo(c.ones, m)
	switch v := args[0].(type) {
	case *coldata.Vec[int8]:
		return addBitCounts(c, v, slots, n, sel, d)
	case *coldata.Vec[int16]:
		return addBitCounts(c, v, slots, n, sel, d)
	case *coldata.Vec[int32]:
		return addBitCounts(c, v, slots, n, sel, d)
	case *coldata.Vec[int64]:
		return addBitCounts(c, v, slots, n, sel, d)
	case *coldata.Vec[uint8]:
		return addBitCounts(c, v, slots, n, sel, d)
	case *coldata.Vec[uint16]:
		return addBitCounts(c, v, slots, n, sel, d)
	case *coldata.Vec[uint32]:
		return addBitCounts(c, v, slots, n, sel, d)
	case *coldata.Vec[uint64]:
		return addBitCounts(c, v, slots, n, sel, d)
	}
	return fmt.Errorf("%s: argument is %T", c.name, args[0])
}

// addBitCounts counts the bits of the live non-NULL rows of v, widened
// to 64 bits (sign-extended when signed), d = 1 or -1 times.
func addBitCounts[T integer](c *bitCounts, v *coldata.Vec[T], slots []uint32, n int, sel []int32, d int64) error {
	w := words(v)
	for k, l := 0, selLen(n, sel); k < l; k++ {
		i := liveRow(k, sel)
		if nullAt(w, i) {
			continue
		}
		s := slots[i]
		if d < 0 && c.cnt[s] == 0 {
			return fmt.Errorf("%s: retract from a group with no rows (slot %d)", c.name, s)
		}
		c.cnt[s] += d
		ones := &c.ones[s]
		for x := uint64(int64(v.Vals[i])); x != 0; x &= x - 1 {
			ones[bits.TrailingZeros64(x)] += d
		}
	}
	return nil
}

func (c *bitCounts) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, 1)
}

func (c *bitCounts) Retract(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, -1)
}

func (c *bitCounts) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*bitCounts)
	if !ok || o.op != c.op || len(dst) != len(srcSlots) {
		return fmt.Errorf("%s: merge with %T (%d into %d slots)", c.name, src, len(srcSlots), len(dst))
	}
	m := maxOf(dst)
	c.cnt, c.ones = growTo(c.cnt, m), growTo(c.ones, m)
	for k, d := range dst {
		s := srcSlots[k]
		if at(o.cnt, s) == 0 || (o == c && s == d) {
			continue
		}
		c.cnt[d] += o.cnt[s]
		for b := range 64 {
			c.ones[d][b] += o.ones[s][b]
		}
	}
	return nil
}

func (c *bitCounts) value(s uint32) uint64 {
	var x uint64
	for b := range 64 {
		if o := c.ones[s][b]; (c.op == bitAnd && o == c.cnt[s]) || (c.op == bitOr && o > 0) {
			x |= 1 << b
		}
	}
	return x
}

func (c *bitCounts) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	out := al.New(c.t, len(slots))
	for _, s := range slots {
		if at(c.cnt, s) == 0 {
			out.AppendNull()
			continue
		}
		appendNarrowed(out, c.value(s))
	}
	return out, nil
}

// appendNarrowed appends x, truncated to out's integer type.
func appendNarrowed(out coldata.Vector, x uint64) {
	switch o := out.(type) {
	case *coldata.Vec[int8]:
		o.Append(int8(x))
	case *coldata.Vec[int16]:
		o.Append(int16(x))
	case *coldata.Vec[int32]:
		o.Append(int32(x))
	case *coldata.Vec[int64]:
		o.Append(int64(x))
	case *coldata.Vec[uint8]:
		o.Append(uint8(x))
	case *coldata.Vec[uint16]:
		o.Append(uint16(x))
	case *coldata.Vec[uint32]:
		o.Append(uint32(x))
	case *coldata.Vec[uint64]:
		o.Append(x)
	}
}

func (c *bitCounts) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = binary.AppendVarint(append(dst, tagBitCounts, byte(c.op)), at(c.cnt, slot))
	if at(c.cnt, slot) == 0 {
		return dst
	}
	for b := range 64 {
		dst = binary.AppendVarint(dst, c.ones[slot][b])
	}
	return dst
}

func (c *bitCounts) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagBitCounts, c.name)
	if err != nil {
		return err
	}
	if len(r.b) == 0 || r.b[0] != byte(c.op) {
		return fmt.Errorf("%s: %w: another bit operation", c.name, ErrSnapshot)
	}
	r.b = r.b[1:]
	var ones [64]int64
	cnt := r.varint()
	if cnt > 0 {
		for b := range 64 {
			if ones[b] = r.varint(); ones[b] < 0 || ones[b] > cnt {
				r.fail("bad bit count")
			}
		}
	}
	if err := r.done(); err != nil {
		return err
	}
	if cnt < 0 {
		return fmt.Errorf("%s: %w: negative count %d", c.name, ErrSnapshot, cnt)
	}
	c.cnt, c.ones = growTo(c.cnt, int(slot)+1), growTo(c.ones, int(slot)+1)
	c.cnt[slot], c.ones[slot] = cnt, ones
	return nil
}

func (c *bitCounts) Reset(slot uint32) {
	if int(slot) < len(c.cnt) {
		c.cnt[slot], c.ones[slot] = 0, [64]int64{}
	}
}

// boolAcc is bool_and or bool_or: per group the number of non-NULL values
// and of TRUE ones, so both retract.
type boolAcc struct {
	allocs

	name       string
	and        bool
	cnt, trues []int64
}

var _ Retracter = (*boolAcc)(nil)

func (c *boolAcc) add(slots []uint32, args []coldata.Vector, n int, sel []int32, d int64) error {
	if err := checkArgs(c.name, args, 1); err != nil {
		return err
	}
	v, ok := args[0].(*coldata.Vec[bool])
	if !ok {
		return fmt.Errorf("%s: argument is %s, want BOOLEAN", c.name, args[0].Type())
	}
	m, err := maxSlot(slots, n, sel)
	if err != nil {
		return err
	}
	c.cnt, c.trues = growTo(c.cnt, m), growTo(c.trues, m)
	w := words(v)
	if v.T.Kind == types.Null {
		return nil // only NULLs
	}
	for k, l := 0, selLen(n, sel); k < l; k++ {
		i := liveRow(k, sel)
		if nullAt(w, i) {
			continue
		}
		s := slots[i]
		if d < 0 && (c.cnt[s] == 0 || (v.Vals[i] && c.trues[s] == 0)) {
			return fmt.Errorf("%s: retract of a value the group does not hold (slot %d)", c.name, s)
		}
		c.cnt[s] += d
		if v.Vals[i] {
			c.trues[s] += d
		}
	}
	return nil
}

func (c *boolAcc) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, 1)
}

func (c *boolAcc) Retract(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, -1)
}

func (c *boolAcc) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*boolAcc)
	if !ok || o.and != c.and || len(dst) != len(srcSlots) {
		return fmt.Errorf("%s: merge with %T (%d into %d slots)", c.name, src, len(srcSlots), len(dst))
	}
	m := maxOf(dst)
	c.cnt, c.trues = growTo(c.cnt, m), growTo(c.trues, m)
	for k, d := range dst {
		c.cnt[d] += at(o.cnt, srcSlots[k])
		c.trues[d] += at(o.trues, srcSlots[k])
	}
	return nil
}

func (c *boolAcc) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	out := coldata.AllocVec[bool](al, types.BoolT, len(slots))
	for k, s := range slots {
		if c.and {
			out.Vals[k] = at(c.trues, s) == at(c.cnt, s)
		} else {
			out.Vals[k] = at(c.trues, s) > 0
		}
	}
	out.N.SetWords(nullsOf(len(slots), func(k int) bool { return at(c.cnt, slots[k]) == 0 }))
	return out, nil
}

func (c *boolAcc) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = binary.AppendVarint(append(dst, tagBool), at(c.cnt, slot))
	return binary.AppendVarint(dst, at(c.trues, slot))
}

func (c *boolAcc) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagBool, c.name)
	if err != nil {
		return err
	}
	cnt, trues := r.varint(), r.varint()
	if err := r.done(); err != nil {
		return err
	}
	if cnt < 0 || trues < 0 || trues > cnt {
		return fmt.Errorf("%s: %w: bad counts %d, %d", c.name, ErrSnapshot, cnt, trues)
	}
	c.cnt, c.trues = growTo(c.cnt, int(slot)+1), growTo(c.trues, int(slot)+1)
	c.cnt[slot], c.trues[slot] = cnt, trues
	return nil
}

func (c *boolAcc) Reset(slot uint32) {
	if int(slot) < len(c.cnt) {
		c.cnt[slot], c.trues[slot] = 0, 0
	}
}

// firstLastAcc is first_value or last_value in arrival order: the value
// (NULL included, as DataFusion without IGNORE NULLS) of the group's first
// or last row, kept as a value key in a buffer per group that is reused as
// the value changes. Merge treats dst as the earlier rows and src as the
// later ones: first_value keeps dst's value unless dst is empty,
// last_value takes src's unless src is empty. It does not retract (which
// row is first after a delete needs every row kept).
type firstLastAcc struct {
	allocs

	name string
	last bool
	t    types.Type
	has  []bool
	vals [][]byte
}

func (c *firstLastAcc) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	if err := checkArgs(c.name, args, 1); err != nil {
		return err
	}
	v := args[0]
	if !v.Type().Equal(c.t) {
		return fmt.Errorf("%s: argument is %s, want %s", c.name, v.Type(), c.t)
	}
	m, err := maxSlot(slots, n, sel)
	if err != nil {
		return err
	}
	c.has, c.vals = growTo(c.has, m), growTo(c.vals, m)
	for k, l := 0, selLen(n, sel); k < l; k++ {
		i := liveRow(k, sel)
		s := slots[i]
		if c.has[s] && !c.last {
			continue
		}
		c.vals[s], c.has[s] = appendKey(c.vals[s][:0], v, i), true
	}
	return nil
}

func (c *firstLastAcc) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*firstLastAcc)
	if !ok || o.last != c.last || len(dst) != len(srcSlots) {
		return fmt.Errorf("%s: merge with %T (%d into %d slots)", c.name, src, len(srcSlots), len(dst))
	}
	m := maxOf(dst)
	c.has, c.vals = growTo(c.has, m), growTo(c.vals, m)
	for k, d := range dst {
		s := srcSlots[k]
		if !at(o.has, s) || (o == c && s == d) || (c.has[d] && !c.last) {
			continue
		}
		c.vals[d], c.has[d] = append(c.vals[d][:0], o.vals[s]...), true
	}
	return nil
}

func (c *firstLastAcc) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	out := al.New(c.t, len(slots))
	for _, s := range slots {
		if !at(c.has, s) {
			out.AppendNull()
			continue
		}
		if _, err := decodeKey(out, c.vals[s]); err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
	}
	return out, nil
}

func (c *firstLastAcc) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = append(dst, tagFirstLast)
	if !at(c.has, slot) {
		return append(dst, 0)
	}
	return append(append(dst, 1), c.vals[slot]...)
}

func (c *firstLastAcc) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagFirstLast, c.name)
	if err != nil {
		return err
	}
	has := restoreHas(&r)
	var val []byte
	if has && r.err == nil {
		l, err := keyLen(c.t, r.b)
		if err != nil {
			r.fail("bad value key")
		} else {
			val, r.b = append([]byte(nil), r.b[:l]...), r.b[l:]
		}
	}
	if err := r.done(); err != nil {
		return err
	}
	c.has, c.vals = growTo(c.has, int(slot)+1), growTo(c.vals, int(slot)+1)
	c.has[slot], c.vals[slot] = has, val
	return nil
}

func (c *firstLastAcc) Reset(slot uint32) {
	if int(slot) < len(c.has) {
		c.has[slot], c.vals[slot] = false, c.vals[slot][:0]
	}
}

// arrayAcc is array_agg: per group the number of values and their keys,
// concatenated in arrival order (NULLs included, as DataFusion). Merge
// appends src's values after dst's. Retract removes the earliest
// occurrence of the value, which costs a scan of the group's buffer.
type arrayAcc struct {
	allocs

	t   types.Type
	cnt []int64
	buf [][]byte
	key []byte
}

var _ Retracter = (*arrayAcc)(nil)

func (c *arrayAcc) add(slots []uint32, args []coldata.Vector, n int, sel []int32, retract bool) error {
	if err := checkArgs("array_agg", args, 1); err != nil {
		return err
	}
	v := args[0]
	if !v.Type().Equal(c.t) {
		return fmt.Errorf("array_agg: argument is %s, want %s", v.Type(), c.t)
	}
	m, err := maxSlot(slots, n, sel)
	if err != nil {
		return err
	}
	c.cnt, c.buf = growTo(c.cnt, m), growTo(c.buf, m)
	for k, l := 0, selLen(n, sel); k < l; k++ {
		i := liveRow(k, sel)
		s := slots[i]
		if !retract {
			c.buf[s] = appendKey(c.buf[s], v, i)
			c.cnt[s]++
			continue
		}
		c.key = appendKey(c.key[:0], v, i)
		if err := c.remove(s, c.key); err != nil {
			return err
		}
	}
	return nil
}

func (c *arrayAcc) remove(s uint32, key []byte) error {
	b := c.buf[s]
	for off := 0; off < len(b); {
		l, err := keyLen(c.t, b[off:])
		if err != nil {
			return fmt.Errorf("array_agg: %w", err)
		}
		if l == len(key) && bytes.Equal(b[off:off+l], key) {
			c.buf[s] = append(b[:off], b[off+l:]...)
			c.cnt[s]--
			return nil
		}
		off += l
	}
	return fmt.Errorf("array_agg: retract of a value the group does not hold (slot %d)", s)
}

func (c *arrayAcc) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, false)
}

func (c *arrayAcc) Retract(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, true)
}

func (c *arrayAcc) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*arrayAcc)
	if !ok || !o.t.Equal(c.t) || len(dst) != len(srcSlots) {
		return fmt.Errorf("array_agg: merge with %T (%d into %d slots)", src, len(srcSlots), len(dst))
	}
	m := maxOf(dst)
	c.cnt, c.buf = growTo(c.cnt, m), growTo(c.buf, m)
	for k, d := range dst {
		s := srcSlots[k]
		if at(o.cnt, s) == 0 || (o == c && s == d) {
			continue
		}
		c.buf[d] = append(c.buf[d], o.buf[s]...)
		c.cnt[d] += o.cnt[s]
	}
	return nil
}

func (c *arrayAcc) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	out := al.New(types.ListOf(c.t), len(slots)).(*coldata.List)
	for _, s := range slots {
		if at(c.cnt, s) == 0 {
			out.AppendNull()
			continue
		}
		b := c.buf[s]
		for range c.cnt[s] {
			var err error
			if b, err = decodeKey(out.Elems, b); err != nil {
				return nil, fmt.Errorf("array_agg: %w", err)
			}
		}
		out.CloseRow()
	}
	return out, nil
}

func (c *arrayAcc) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = binary.AppendVarint(append(dst, tagArray), at(c.cnt, slot))
	return append(dst, at(c.buf, slot)...)
}

func (c *arrayAcc) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagArray, "array_agg")
	if err != nil {
		return err
	}
	cnt := r.varint()
	if r.err == nil && cnt < 0 {
		r.fail("negative count")
	}
	start := r.b
	for k := int64(0); k < cnt && r.err == nil; k++ {
		l, err := keyLen(c.t, r.b)
		if err != nil {
			r.fail("bad value key")
			break
		}
		r.b = r.b[l:]
	}
	if err := r.done(); err != nil {
		return err
	}
	c.cnt, c.buf = growTo(c.cnt, int(slot)+1), growTo(c.buf, int(slot)+1)
	c.cnt[slot], c.buf[slot] = cnt, append([]byte(nil), start...)
	return nil
}

func (c *arrayAcc) Reset(slot uint32) {
	if int(slot) < len(c.cnt) {
		c.cnt[slot], c.buf[slot] = 0, c.buf[slot][:0]
	}
}

// sumUintAcc is sum over unsigned integers, as BIGINT UNSIGNED (DataFusion's
// UInt64), with checked overflow; cnt counts the non-NULL values.
type sumUintAcc struct {
	allocs

	sum []uint64
	cnt []int64
}

var _ Retracter = (*sumUintAcc)(nil)

func (c *sumUintAcc) add(slots []uint32, args []coldata.Vector, n int, sel []int32, retract bool) error {
	if err := checkArgs("sum", args, 1); err != nil {
		return err
	}
	v, ok := args[0].(*coldata.Vec[uint64])
	if !ok {
		return fmt.Errorf("sum: argument is %s, want BIGINT UNSIGNED", args[0].Type())
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
		s, x := slots[i], v.Vals[i]
		if retract {
			if c.cnt[s] == 0 || c.sum[s] < x {
				return fmt.Errorf("sum: retract of a value the group does not hold (slot %d)", s)
			}
			c.sum[s] -= x
			c.cnt[s]--
			continue
		}
		r, carry := bits.Add64(c.sum[s], x, 0)
		if carry != 0 {
			return fmt.Errorf("sum(BIGINT UNSIGNED): %w", ErrOverflow)
		}
		c.sum[s] = r
		c.cnt[s]++
	}
	return nil
}

func (c *sumUintAcc) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, false)
}

func (c *sumUintAcc) Retract(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, true)
}

func (c *sumUintAcc) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*sumUintAcc)
	if !ok || len(dst) != len(srcSlots) {
		return fmt.Errorf("sum: merge with %T (%d into %d slots)", src, len(srcSlots), len(dst))
	}
	m := maxOf(dst)
	c.sum, c.cnt = growTo(c.sum, m), growTo(c.cnt, m)
	for k, d := range dst {
		s := srcSlots[k]
		if o == c && s == d {
			continue
		}
		r, carry := bits.Add64(c.sum[d], at(o.sum, s), 0)
		if carry != 0 {
			return fmt.Errorf("sum(BIGINT UNSIGNED): %w", ErrOverflow)
		}
		c.sum[d], c.cnt[d] = r, c.cnt[d]+at(o.cnt, s)
	}
	return nil
}

func (c *sumUintAcc) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	out := coldata.AllocVec[uint64](al, types.UInt64T, len(slots))
	for k, s := range slots {
		out.Vals[k] = at(c.sum, s)
	}
	out.N.SetWords(nullsOf(len(slots), func(k int) bool { return at(c.cnt, slots[k]) == 0 }))
	return out, nil
}

func (c *sumUintAcc) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = binary.AppendVarint(append(dst, tagSumUint), at(c.cnt, slot))
	return binary.AppendUvarint(dst, at(c.sum, slot))
}

func (c *sumUintAcc) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagSumUint, "sum")
	if err != nil {
		return err
	}
	cnt := r.varint()
	sum, n := binary.Uvarint(r.b)
	if r.err == nil {
		if n <= 0 {
			r.fail("truncated integer")
		} else {
			r.b = r.b[n:]
		}
	}
	if err := r.done(); err != nil {
		return err
	}
	if cnt < 0 {
		return fmt.Errorf("sum: %w: negative count %d", ErrSnapshot, cnt)
	}
	c.sum, c.cnt = growTo(c.sum, int(slot)+1), growTo(c.cnt, int(slot)+1)
	c.sum[slot], c.cnt[slot] = sum, cnt
	return nil
}

func (c *sumUintAcc) Reset(slot uint32) {
	if int(slot) < len(c.cnt) {
		c.sum[slot], c.cnt[slot] = 0, 0
	}
}
