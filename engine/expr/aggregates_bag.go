package expr

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Aggregates over a multiset of the group's values: min and max that
// retract (ResolvedAggregate.NewRetracting of min and max), and the exact
// median. A group keeps a map from value key (aggkey.go: order-preserving,
// so keys compare as the values do) to the number of rows holding it. min
// and max cache the group's best key and rescan the map lazily, in
// Result, only after the best value's last row was retracted; the median
// sorts the group's distinct keys in Result.

func init() {
	registerAggregate(&AggregateFunc{
		Name:        "median",
		Description: "the middle non-NULL value (exact; for an even count the mean of the two middle ones, truncated for integers as DataFusion does); same type as the argument",
		Resolve: func(args []types.Type) (*ResolvedAggregate, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("median takes 1 argument, got %d", len(args))
			}
			t := args[0]
			if t.Kind == types.Null {
				t = types.Float64T
			}
			if !t.Kind.IsNumeric() {
				return nil, fmt.Errorf("median expects a number, got %s", args[0])
			}
			return &ResolvedAggregate{Args: []types.Type{t}, Result: t, New: func() Accumulator { return newBag("median", bagMedian, t) }}, nil
		},
	})
}

type bagKind uint8

const (
	bagMin bagKind = iota
	bagMax
	bagMedian
)

// bagAcc is a multiset of keys per group.
type bagAcc struct {
	allocs

	name   string
	kind   bagKind
	t      types.Type
	groups []map[string]int32 // value key -> index into cnts
	cnts   slab[int64]        // rows holding the value
	n      []int64            // rows per group
	best   [][]byte
	bestOK []bool // best holds the group's min/max key
	key    []byte // scratch
}

var (
	_ Accumulator = (*bagAcc)(nil)
	_ Retracter   = (*bagAcc)(nil)
)

func newBag(name string, kind bagKind, t types.Type) *bagAcc {
	return &bagAcc{name: name, kind: kind, t: t}
}

// better reports whether key a should replace b as the group's best.
func (c *bagAcc) better(a, b []byte) bool {
	if c.kind == bagMax {
		return bytes.Compare(a, b) > 0
	}
	return bytes.Compare(a, b) < 0
}

func (c *bagAcc) grow(m int) {
	c.groups, c.n = growTo(c.groups, m), growTo(c.n, m)
	c.best, c.bestOK = growTo(c.best, m), growTo(c.bestOK, m)
}

func (c *bagAcc) add(slots []uint32, args []coldata.Vector, n int, sel []int32, retract bool) error {
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
	c.grow(m)
	w := words(v)
	for k, l := 0, selLen(n, sel); k < l; k++ {
		i := liveRow(k, sel)
		if nullAt(w, i) {
			continue
		}
		s := slots[i]
		c.key = appendKey(c.key[:0], v, i)
		if retract {
			if err := c.remove(s, c.key, 1); err != nil {
				return err
			}
			continue
		}
		c.insert(s, c.key, 1)
	}
	return nil
}

func (c *bagAcc) insert(s uint32, key []byte, cnt int64) {
	g := c.groups[s]
	if g == nil {
		g = map[string]int32{}
		c.groups[s] = g
	}
	if i, ok := g[string(key)]; ok {
		c.cnts.items[i] += cnt
	} else {
		g[string(key)] = c.cnts.alloc(cnt)
	}
	if c.n[s] == 0 {
		c.best[s], c.bestOK[s] = append(c.best[s][:0], key...), true
	} else if c.bestOK[s] && c.better(key, c.best[s]) {
		c.best[s] = append(c.best[s][:0], key...)
	}
	c.n[s] += cnt
}

func (c *bagAcc) remove(s uint32, key []byte, cnt int64) error {
	g := c.groups[s]
	i, ok := g[string(key)]
	if !ok || c.cnts.items[i] < cnt {
		return fmt.Errorf("%s: retract of a value the group does not hold (slot %d)", c.name, s)
	}
	if c.cnts.items[i] == cnt {
		delete(g, string(key))
		c.cnts.release(i)
		if c.bestOK[s] && bytes.Equal(key, c.best[s]) {
			c.bestOK[s] = false
		}
	} else {
		c.cnts.items[i] -= cnt
	}
	if c.n[s] -= cnt; c.n[s] == 0 {
		c.groups[s], c.bestOK[s] = nil, false
	}
	return nil
}

func (c *bagAcc) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, false)
}

func (c *bagAcc) Retract(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, true)
}

func (c *bagAcc) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*bagAcc)
	if !ok || o.kind != c.kind || !o.t.Equal(c.t) || len(dst) != len(srcSlots) {
		return fmt.Errorf("%s: merge with %T (%d into %d slots)", c.name, src, len(srcSlots), len(dst))
	}
	c.grow(maxOf(dst))
	for k, d := range dst {
		s := srcSlots[k]
		if o == c && s == d {
			continue
		}
		for key, i := range at(o.groups, s) {
			c.insert(d, []byte(key), o.cnts.items[i])
		}
	}
	return nil
}

// bestKey returns group s's min or max key, rescanning after a retraction
// took the cached one away.
func (c *bagAcc) bestKey(s uint32) []byte {
	if !c.bestOK[s] {
		first := true
		for key := range c.groups[s] {
			if first || c.better([]byte(key), c.best[s]) {
				c.best[s], first = append(c.best[s][:0], key...), false
			}
		}
		c.bestOK[s] = true
	}
	return c.best[s]
}

func (c *bagAcc) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	out := al.New(c.t, len(slots))
	var keys []string
	scratch := al.New(c.t, 2)
	for _, s := range slots {
		if at(c.n, s) == 0 {
			out.AppendNull()
			continue
		}
		if c.kind != bagMedian {
			if _, err := decodeKey(out, c.bestKey(s)); err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			continue
		}
		keys = keys[:0]
		for key := range c.groups[s] {
			keys = append(keys, key)
		}
		slices.Sort(keys)
		// 0-based ranks of the middle rows: lo == hi for an odd count.
		total := c.n[s]
		lo, hi := (total-1)/2, total/2
		var loKey, hiKey string
		seen := int64(0)
		for _, key := range keys {
			cnt := c.cnts.items[c.groups[s][key]]
			if seen <= lo && lo < seen+cnt {
				loKey = key
			}
			if seen <= hi && hi < seen+cnt {
				hiKey = key
				break
			}
			seen += cnt
		}
		scratch = resetVec(al, scratch, c.t)
		if _, err := decodeKey(scratch, []byte(loKey)); err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		if _, err := decodeKey(scratch, []byte(hiKey)); err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		appendMidpoint(out, scratch)
	}
	return out, nil
}

// resetVec returns an empty vector of type t, reusing v's buffers when it
// is a fixed-width vector.
func resetVec(al *coldata.Allocator, v coldata.Vector, t types.Type) coldata.Vector {
	switch v := v.(type) {
	case *coldata.Vec[float64]:
		v.Vals, v.N = v.Vals[:0], coldata.Nulls{}
		return v
	case *coldata.Vec[int64]:
		v.Vals, v.N = v.Vals[:0], coldata.Nulls{}
		return v
	}
	return al.New(t, 2)
}

// appendMidpoint appends the midpoint of the two values of pair to out:
// (a+b)/2 in the type, truncated toward zero for integers (DataFusion's
// median, without its wrapping on overflow).
func appendMidpoint(out, pair coldata.Vector) {
	switch p := pair.(type) {
	case *coldata.Vec[int8]:
		out.(*coldata.Vec[int8]).Append(int8(midInt(int64(p.Vals[0]), int64(p.Vals[1]))))
	case *coldata.Vec[int16]:
		out.(*coldata.Vec[int16]).Append(int16(midInt(int64(p.Vals[0]), int64(p.Vals[1]))))
	case *coldata.Vec[int32]:
		out.(*coldata.Vec[int32]).Append(int32(midInt(int64(p.Vals[0]), int64(p.Vals[1]))))
	case *coldata.Vec[int64]:
		out.(*coldata.Vec[int64]).Append(midInt(p.Vals[0], p.Vals[1]))
	case *coldata.Vec[uint8]:
		out.(*coldata.Vec[uint8]).Append(uint8(midUint(uint64(p.Vals[0]), uint64(p.Vals[1]))))
	case *coldata.Vec[uint16]:
		out.(*coldata.Vec[uint16]).Append(uint16(midUint(uint64(p.Vals[0]), uint64(p.Vals[1]))))
	case *coldata.Vec[uint32]:
		out.(*coldata.Vec[uint32]).Append(uint32(midUint(uint64(p.Vals[0]), uint64(p.Vals[1]))))
	case *coldata.Vec[uint64]:
		out.(*coldata.Vec[uint64]).Append(midUint(p.Vals[0], p.Vals[1]))
	case *coldata.Vec[float32]:
		out.(*coldata.Vec[float32]).Append((p.Vals[0] + p.Vals[1]) / 2)
	case *coldata.Vec[float64]:
		out.(*coldata.Vec[float64]).Append((p.Vals[0] + p.Vals[1]) / 2)
	default:
		panic(fmt.Sprintf("median of %T", pair))
	}
}

// midInt is (a+b)/2 truncated toward zero, without overflow.
func midInt(a, b int64) int64 {
	if (a < 0) != (b < 0) {
		return (a + b) / 2 // cannot overflow
	}
	return a/2 + b/2 + (a%2+b%2)/2
}

func midUint(a, b uint64) uint64 { return a/2 + b/2 + (a%2+b%2)/2 }

func (c *bagAcc) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = append(dst, tagBag)
	g := at(c.groups, slot)
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic snapshots
	dst = binary.AppendVarint(dst, int64(len(keys)))
	for _, k := range keys {
		dst = binary.AppendVarint(dst, int64(len(k)))
		dst = append(dst, k...)
		dst = binary.AppendVarint(dst, c.cnts.items[g[k]])
	}
	return dst
}

func (c *bagAcc) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagBag, c.name)
	if err != nil {
		return err
	}
	n := r.varint()
	if n < 0 || n > int64(len(snap)) {
		r.fail("bad entry count")
	}
	counts := map[string]int64{}
	total := int64(0)
	for range max(n, 0) {
		if r.err != nil {
			break
		}
		key, cnt := r.bytes(), r.varint()
		if r.err != nil {
			break
		}
		if l, err := keyLen(c.t, key); err != nil || l != len(key) || key[0] != keyValue {
			r.fail("bad value key")
			break
		}
		if cnt <= 0 {
			r.fail("bad value count")
			break
		}
		if _, dup := counts[string(key)]; dup {
			r.fail("duplicate value")
			break
		}
		counts[string(key)] = cnt
		total += cnt
	}
	if err := r.done(); err != nil {
		return err
	}
	c.Reset(slot)
	c.grow(int(slot) + 1)
	for key, cnt := range counts {
		c.insert(slot, []byte(key), cnt)
	}
	return nil
}

func (c *bagAcc) Reset(slot uint32) {
	if int(slot) < len(c.n) {
		releaseAll(&c.cnts, c.groups[slot])
		c.groups[slot], c.n[slot], c.bestOK[slot] = nil, 0, false
	}
}
