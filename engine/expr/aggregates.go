package expr

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// The built-in aggregates: count, sum, avg, min, max.

func init() {
	registerAggregate(&AggregateFunc{
		Name:        "count",
		Description: "count(*) counts rows; count(x) counts rows where x is not NULL",
		Resolve: func(args []types.Type) (*ResolvedAggregate, error) {
			switch len(args) {
			case 0:
				return &ResolvedAggregate{Result: types.Int64T, New: func() Accumulator { return &countAcc{star: true} }}, nil
			case 1:
				return &ResolvedAggregate{Args: []types.Type{args[0]}, Result: types.Int64T, New: func() Accumulator { return &countAcc{} }}, nil
			}
			return nil, fmt.Errorf("count takes 1 argument or *, got %d", len(args))
		},
	})
	registerAggregate(&AggregateFunc{
		Name:        "sum",
		Description: "sum of the non-NULL values: BIGINT for signed integers, BIGINT UNSIGNED for unsigned ones (an overflow is an error), DOUBLE for floats",
		Resolve: func(args []types.Type) (*ResolvedAggregate, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("sum takes 1 argument, got %d", len(args))
			}
			switch k := args[0].Kind; {
			case k.IsUnsigned():
				// DataFusion sums unsigned integers as UInt64.
				return &ResolvedAggregate{Args: []types.Type{types.UInt64T}, Result: types.UInt64T, New: func() Accumulator { return &sumUintAcc{} }}, nil
			case k.IsInteger() || k == types.Null:
				return &ResolvedAggregate{Args: []types.Type{types.Int64T}, Result: types.Int64T, New: func() Accumulator { return &sumIntAcc{} }}, nil
			case k.IsFloat():
				return &ResolvedAggregate{Args: []types.Type{types.Float64T}, Result: types.Float64T, New: func() Accumulator { return &floatAcc{name: "sum"} }}, nil
			case k == types.Decimal:
				t := args[0]
				return &ResolvedAggregate{Args: []types.Type{t}, Result: decimalSumType(t), New: func() Accumulator { return newDecSum(false, t) }}, nil
			}
			return nil, fmt.Errorf("sum expects a number (BIGINT or DOUBLE), got %s", args[0])
		},
	})
	registerAggregate(&AggregateFunc{
		Name:        "avg",
		Description: "mean of the non-NULL values, as DOUBLE",
		Resolve: func(args []types.Type) (*ResolvedAggregate, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("avg takes 1 argument, got %d", len(args))
			}
			if t := args[0]; t.Kind == types.Decimal {
				return &ResolvedAggregate{Args: []types.Type{t}, Result: decimalAvgType(t), New: func() Accumulator { return newDecSum(true, t) }}, nil
			}
			if k := args[0].Kind; !k.IsNumeric() && k != types.Null {
				return nil, fmt.Errorf("avg expects a number, got %s", args[0])
			}
			return &ResolvedAggregate{Args: []types.Type{types.Float64T}, Result: types.Float64T, New: func() Accumulator { return &floatAcc{name: "avg", avg: true} }}, nil
		},
	})
	for _, max := range []bool{false, true} {
		name := "min"
		if max {
			name = "max"
		}
		registerAggregate(&AggregateFunc{
			Name:        name,
			Description: name + " of the non-NULL values (numbers, TIMESTAMP, INTERVAL, TEXT, BYTEA); NaN is greater than every number",
			Resolve: func(args []types.Type) (*ResolvedAggregate, error) {
				if len(args) != 1 {
					return nil, fmt.Errorf("%s takes 1 argument, got %d", name, len(args))
				}
				t := args[0]
				if newMinMax(name, max, t) == nil {
					return nil, fmt.Errorf("%s expects a number, TIMESTAMP, INTERVAL, TEXT or BYTEA, got %s", name, t)
				}
				kind := bagMin
				if max {
					kind = bagMax
				}
				return &ResolvedAggregate{Args: []types.Type{t}, Result: t,
					New:           func() Accumulator { return newMinMax(name, max, t) },
					NewRetracting: func() Accumulator { return newBag(name, kind, t) },
				}, nil
			},
		})
	}
}

// countAcc is count(*) (star) or count(x).
type countAcc struct {
	allocs

	star bool
	n    []int64
}

var (
	_ Accumulator = (*countAcc)(nil)
	_ Retracter   = (*countAcc)(nil)
)

func (c *countAcc) add(slots []uint32, args []coldata.Vector, n int, sel []int32, d int64) error {
	want := 1
	if c.star {
		want = 0
	}
	if err := checkArgs("count", args, want); err != nil {
		return err
	}
	m, err := maxSlot(slots, n, sel)
	if err != nil {
		return err
	}
	c.n = growTo(c.n, m)
	var w []uint64
	if !c.star {
		w = words(args[0])
	}
	for k, l := 0, selLen(n, sel); k < l; k++ {
		i := liveRow(k, sel)
		if nullAt(w, i) {
			continue
		}
		s := slots[i]
		if d < 0 && c.n[s] == 0 {
			return fmt.Errorf("count: retract from a group with no rows (slot %d)", s)
		}
		c.n[s] += d
	}
	return nil
}

func (c *countAcc) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, 1)
}

func (c *countAcc) Retract(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, -1)
}

func (c *countAcc) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*countAcc)
	if !ok || len(dst) != len(srcSlots) {
		return fmt.Errorf("count: merge with %T (%d into %d slots)", src, len(srcSlots), len(dst))
	}
	c.n = growTo(c.n, maxOf(dst))
	for k, d := range dst {
		c.n[d] += at(o.n, srcSlots[k])
	}
	return nil
}

func (c *countAcc) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	out := coldata.AllocVec[int64](al, types.Int64T, len(slots))
	for k, s := range slots {
		out.Vals[k] = at(c.n, s)
	}
	return out, nil
}

func (c *countAcc) AppendSnapshot(dst []byte, slot uint32) []byte {
	return binary.AppendVarint(append(dst, tagCount), at(c.n, slot))
}

func (c *countAcc) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagCount, "count")
	if err != nil {
		return err
	}
	v := r.varint()
	if err := r.done(); err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("count: %w: negative count %d", ErrSnapshot, v)
	}
	c.n = growTo(c.n, int(slot)+1)
	c.n[slot] = v
	return nil
}

func (c *countAcc) Reset(slot uint32) {
	if int(slot) < len(c.n) {
		c.n[slot] = 0
	}
}

// sumIntAcc is sum(BIGINT) with checked overflow. cnt counts the non-NULL
// values, so an empty group's sum is NULL, not 0.
type sumIntAcc struct {
	allocs

	sum, cnt []int64
}

var (
	_ Accumulator = (*sumIntAcc)(nil)
	_ Retracter   = (*sumIntAcc)(nil)
)

// addInt returns a+b and whether it did not overflow.
func addInt(a, b int64) (int64, bool) {
	s := a + b
	return s, (b >= 0) == (s >= a)
}

func (c *sumIntAcc) add(slots []uint32, args []coldata.Vector, n int, sel []int32, retract bool) error {
	if err := checkArgs("sum", args, 1); err != nil {
		return err
	}
	v, ok := args[0].(*coldata.Vec[int64])
	if !ok {
		return fmt.Errorf("sum: argument is %s, want BIGINT", args[0].Type())
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
				return fmt.Errorf("sum: retract from a group with no rows (slot %d)", s)
			}
			if x == math.MinInt64 {
				return fmt.Errorf("sum(BIGINT): %w", ErrOverflow)
			}
			x, d = -x, -1
		}
		r, ok := addInt(c.sum[s], x)
		if !ok {
			return fmt.Errorf("sum(BIGINT): %w", ErrOverflow)
		}
		c.sum[s], c.cnt[s] = r, c.cnt[s]+d
	}
	return nil
}

func (c *sumIntAcc) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, false)
}

func (c *sumIntAcc) Retract(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, true)
}

func (c *sumIntAcc) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*sumIntAcc)
	if !ok || len(dst) != len(srcSlots) {
		return fmt.Errorf("sum: merge with %T (%d into %d slots)", src, len(srcSlots), len(dst))
	}
	m := maxOf(dst)
	c.sum, c.cnt = growTo(c.sum, m), growTo(c.cnt, m)
	for k, d := range dst {
		r, ok := addInt(c.sum[d], at(o.sum, srcSlots[k]))
		if !ok {
			return fmt.Errorf("sum(BIGINT): %w", ErrOverflow)
		}
		c.sum[d], c.cnt[d] = r, c.cnt[d]+at(o.cnt, srcSlots[k])
	}
	return nil
}

func (c *sumIntAcc) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	out := coldata.AllocVec[int64](al, types.Int64T, len(slots))
	for k, s := range slots {
		out.Vals[k] = at(c.sum, s)
	}
	out.N.SetWords(nullsOf(len(slots), func(k int) bool { return at(c.cnt, slots[k]) == 0 }))
	return out, nil
}

func (c *sumIntAcc) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = binary.AppendVarint(append(dst, tagSumInt), at(c.cnt, slot))
	return binary.AppendVarint(dst, at(c.sum, slot))
}

func (c *sumIntAcc) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagSumInt, "sum")
	if err != nil {
		return err
	}
	cnt, sum := r.varint(), r.varint()
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

func (c *sumIntAcc) Reset(slot uint32) {
	if int(slot) < len(c.sum) {
		c.sum[slot], c.cnt[slot] = 0, 0
	}
}

// floatAcc is sum(DOUBLE) or, with avg, avg(DOUBLE): a float sum and the
// count of non-NULL values. When a retraction empties a group its sum is
// reset to exactly 0, so rounding residue does not survive the group.
type floatAcc struct {
	allocs

	name string
	avg  bool
	sum  []float64
	cnt  []int64
}

var (
	_ Accumulator = (*floatAcc)(nil)
	_ Retracter   = (*floatAcc)(nil)
)

func (c *floatAcc) add(slots []uint32, args []coldata.Vector, n int, sel []int32, retract bool) error {
	if err := checkArgs(c.name, args, 1); err != nil {
		return err
	}
	v, ok := args[0].(*coldata.Vec[float64])
	if !ok {
		return fmt.Errorf("%s: argument is %s, want DOUBLE", c.name, args[0].Type())
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
		s := slots[i]
		if !retract {
			c.sum[s] += v.Vals[i]
			c.cnt[s]++
			continue
		}
		if c.cnt[s] == 0 {
			return fmt.Errorf("%s: retract from a group with no rows (slot %d)", c.name, s)
		}
		c.sum[s] -= v.Vals[i]
		if c.cnt[s]--; c.cnt[s] == 0 {
			c.sum[s] = 0
		}
	}
	return nil
}

func (c *floatAcc) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, false)
}

func (c *floatAcc) Retract(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, true)
}

func (c *floatAcc) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*floatAcc)
	if !ok || o.avg != c.avg || len(dst) != len(srcSlots) {
		return fmt.Errorf("%s: merge with %T (%d into %d slots)", c.name, src, len(srcSlots), len(dst))
	}
	m := maxOf(dst)
	c.sum, c.cnt = growTo(c.sum, m), growTo(c.cnt, m)
	for k, d := range dst {
		c.sum[d] += at(o.sum, srcSlots[k])
		c.cnt[d] += at(o.cnt, srcSlots[k])
	}
	return nil
}

func (c *floatAcc) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	out := coldata.AllocVec[float64](al, types.Float64T, len(slots))
	for k, s := range slots {
		if n := at(c.cnt, s); n > 0 {
			out.Vals[k] = c.sum[s]
			if c.avg {
				out.Vals[k] /= float64(n)
			}
		}
	}
	out.N.SetWords(nullsOf(len(slots), func(k int) bool { return at(c.cnt, slots[k]) == 0 }))
	return out, nil
}

func (c *floatAcc) tag() byte {
	if c.avg {
		return tagAvg
	}
	return tagSumFloat
}

func (c *floatAcc) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = binary.AppendVarint(append(dst, c.tag()), at(c.cnt, slot))
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(at(c.sum, slot)))
}

func (c *floatAcc) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, c.tag(), c.name)
	if err != nil {
		return err
	}
	cnt, sum := r.varint(), math.Float64frombits(r.u64())
	if err := r.done(); err != nil {
		return err
	}
	if cnt < 0 {
		return fmt.Errorf("%s: %w: negative count %d", c.name, ErrSnapshot, cnt)
	}
	c.sum, c.cnt = growTo(c.sum, int(slot)+1), growTo(c.cnt, int(slot)+1)
	c.sum[slot], c.cnt[slot] = sum, cnt
	return nil
}

func (c *floatAcc) Reset(slot uint32) {
	if int(slot) < len(c.sum) {
		c.sum[slot], c.cnt[slot] = 0, 0
	}
}

// newMinMax returns min or max over t, or nil if t is not ordered here.
func newMinMax(name string, max bool, t types.Type) Accumulator {
	switch t.Kind {
	case types.Int8:
		return newFixedMinMax[int8](name, max, t, func(x int8) uint64 { return uint64(x) }, func(u uint64) int8 { return int8(u) })
	case types.Int16:
		return newFixedMinMax[int16](name, max, t, func(x int16) uint64 { return uint64(x) }, func(u uint64) int16 { return int16(u) })
	case types.Int32, types.Date:
		return newFixedMinMax[int32](name, max, t, func(x int32) uint64 { return uint64(x) }, func(u uint64) int32 { return int32(u) })
	case types.Int64, types.Timestamp, types.Interval, types.Time:
		return newFixedMinMax[int64](name, max, t, func(x int64) uint64 { return uint64(x) }, func(u uint64) int64 { return int64(u) })
	case types.UInt8:
		return newFixedMinMax[uint8](name, max, t, func(x uint8) uint64 { return uint64(x) }, func(u uint64) uint8 { return uint8(u) })
	case types.UInt16:
		return newFixedMinMax[uint16](name, max, t, func(x uint16) uint64 { return uint64(x) }, func(u uint64) uint16 { return uint16(u) })
	case types.UInt32:
		return newFixedMinMax[uint32](name, max, t, func(x uint32) uint64 { return uint64(x) }, func(u uint64) uint32 { return uint32(u) })
	case types.UInt64:
		return newFixedMinMax[uint64](name, max, t, func(x uint64) uint64 { return x }, func(u uint64) uint64 { return u })
	case types.Float32:
		return newFixedMinMax[float32](name, max, t, func(x float32) uint64 { return uint64(math.Float32bits(x)) }, func(u uint64) float32 { return math.Float32frombits(uint32(u)) })
	case types.Float64:
		return newFixedMinMax[float64](name, max, t, math.Float64bits, math.Float64frombits)
	case types.String, types.Bytes:
		return &bytesMinMax{name: name, max: max, t: t}
	case types.Decimal:
		return &decMinMax{name: name, max: max, t: t}
	}
	return nil
}

type ordered interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// less orders like PostgreSQL: NaN equals NaN and is greater than every
// other value (x != x only for NaN; for integers it folds away).
func less[T ordered](a, b T) bool {
	return a < b || (b != b && a == a)
}

// fixedMinMax is min or max over a fixed-width type.
type fixedMinMax[T ordered] struct {
	allocs

	name     string
	max      bool
	t        types.Type
	vals     []T
	has      []bool
	toBits   func(T) uint64
	fromBits func(uint64) T
}

func newFixedMinMax[T ordered](name string, max bool, t types.Type, toBits func(T) uint64, fromBits func(uint64) T) *fixedMinMax[T] {
	return &fixedMinMax[T]{name: name, max: max, t: t, toBits: toBits, fromBits: fromBits}
}

// better reports whether x should replace cur.
func (c *fixedMinMax[T]) better(x, cur T) bool {
	if c.max {
		return less(cur, x)
	}
	return less(x, cur)
}

func (c *fixedMinMax[T]) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
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

func (c *fixedMinMax[T]) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*fixedMinMax[T])
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

func (c *fixedMinMax[T]) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	out := coldata.AllocVec[T](al, c.t, len(slots))
	for k, s := range slots {
		out.Vals[k] = at(c.vals, s)
	}
	out.N.SetWords(nullsOf(len(slots), func(k int) bool { return !at(c.has, slots[k]) }))
	return out, nil
}

func (c *fixedMinMax[T]) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = append(dst, tagMinMax)
	if !at(c.has, slot) {
		return append(dst, 0)
	}
	return binary.LittleEndian.AppendUint64(append(dst, 1), c.toBits(c.vals[slot]))
}

func (c *fixedMinMax[T]) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagMinMax, c.name)
	if err != nil {
		return err
	}
	has, x := restoreHas(&r), T(0)
	if has {
		x = c.fromBits(r.u64())
	}
	if err := r.done(); err != nil {
		return err
	}
	c.vals, c.has = growTo(c.vals, int(slot)+1), growTo(c.has, int(slot)+1)
	c.vals[slot], c.has[slot] = x, has
	return nil
}

func restoreHas(r *reader) bool {
	if len(r.b) == 0 || r.b[0] > 1 {
		r.fail("bad presence byte")
		return false
	}
	has := r.b[0] == 1
	r.b = r.b[1:]
	return has
}

func (c *fixedMinMax[T]) Reset(slot uint32) {
	if int(slot) < len(c.has) {
		var zero T
		c.vals[slot], c.has[slot] = zero, false
	}
}

// bytesMinMax is min or max over TEXT or BYTEA, in byte order (for UTF-8
// text, code point order). It keeps one buffer per group, reused when the
// group's value is replaced: unlike the fixed-width accumulators, a pointer
// per group (columnar string state waits for the state layer's slabs).
type bytesMinMax struct {
	allocs

	name string
	max  bool
	t    types.Type
	vals [][]byte
	has  []bool
}

func (c *bytesMinMax) better(x, cur []byte) bool {
	if c.max {
		return bytes.Compare(x, cur) > 0
	}
	return bytes.Compare(x, cur) < 0
}

func (c *bytesMinMax) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	if err := checkArgs(c.name, args, 1); err != nil {
		return err
	}
	v, ok := args[0].(*coldata.Bytes)
	if !ok || v.T.Kind != c.t.Kind {
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
		s, x := slots[i], v.Get(i)
		if !c.has[s] || c.better(x, c.vals[s]) {
			// Copy: the input vector must not be retained.
			c.vals[s], c.has[s] = append(c.vals[s][:0], x...), true
		}
	}
	return nil
}

func (c *bytesMinMax) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*bytesMinMax)
	if !ok || o.max != c.max || len(dst) != len(srcSlots) {
		return fmt.Errorf("%s: merge with %T (%d into %d slots)", c.name, src, len(srcSlots), len(dst))
	}
	m := maxOf(dst)
	c.vals, c.has = growTo(c.vals, m), growTo(c.has, m)
	for k, d := range dst {
		s := srcSlots[k]
		if !at(o.has, s) || (o == c && s == d) {
			continue
		}
		if x := o.vals[s]; !c.has[d] || c.better(x, c.vals[d]) {
			c.vals[d], c.has[d] = append(c.vals[d][:0], x...), true
		}
	}
	return nil
}

func (c *bytesMinMax) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	size := 0
	for _, s := range slots {
		size += len(at(c.vals, s))
	}
	out := al.Bytes(c.t, len(slots), size)
	for _, s := range slots {
		if at(c.has, s) {
			out.Append(c.vals[s])
		} else {
			out.AppendNull()
		}
	}
	return out, nil
}

func (c *bytesMinMax) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = append(dst, tagMinMax)
	if !at(c.has, slot) {
		return append(dst, 0)
	}
	x := c.vals[slot]
	return append(binary.AppendVarint(append(dst, 1), int64(len(x))), x...)
}

func (c *bytesMinMax) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagMinMax, c.name)
	if err != nil {
		return err
	}
	has := restoreHas(&r)
	var x []byte
	if has {
		x = r.bytes()
	}
	if err := r.done(); err != nil {
		return err
	}
	c.vals, c.has = growTo(c.vals, int(slot)+1), growTo(c.has, int(slot)+1)
	c.vals[slot], c.has[slot] = x, has
	return nil
}

func (c *bytesMinMax) Reset(slot uint32) {
	if int(slot) < len(c.has) {
		c.vals[slot], c.has[slot] = c.vals[slot][:0], false
	}
}
