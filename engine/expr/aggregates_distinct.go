package expr

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Distinct wraps an aggregate so each group feeds it only the argument
// values it has not seen yet: agg(DISTINCT x). A group keeps the set of its
// values (the tuple of all arguments, as value keys) with the number of
// rows holding each, so DISTINCT also retracts when the aggregate does: a
// value is retracted from the aggregate when its last row goes. Rows with a
// NULL argument are skipped, unless the aggregate keeps NULLs (KeepNulls:
// array_agg(DISTINCT x) has at most one NULL). Merge feeds the aggregate
// the values dst had not seen, so partials combine exactly.
//
// The result has ra's types, Consts and KeepNulls; it retracts when ra
// does (through New or NewRetracting, kept apart as in ra).
func Distinct(ra *ResolvedAggregate) (*ResolvedAggregate, error) {
	if len(ra.Args) == 0 {
		return nil, fmt.Errorf("DISTINCT needs an argument")
	}
	for _, t := range ra.Args {
		if !keyable(t) {
			return nil, fmt.Errorf("DISTINCT over %s is not supported", t)
		}
	}
	out := *ra
	_, retracts := ra.New().(Retracter)
	out.New = func() Accumulator { return newDistinct(ra, ra.New(), retracts) }
	out.NewRetracting = nil
	if !retracts && ra.NewRetracting != nil {
		out.NewRetracting = func() Accumulator { return newDistinct(ra, ra.NewRetracting(), true) }
	}
	return &out, nil
}

func newDistinct(ra *ResolvedAggregate, inner Accumulator, retracts bool) Accumulator {
	d := &distinctAcc{inner: inner, args: ra.Args, keepNulls: ra.KeepNulls}
	if retracts {
		return &distinctRetracting{d}
	}
	return d
}

type distinctAcc struct {
	allocs

	inner     Accumulator
	args      []types.Type
	keepNulls bool
	sets      []map[string]int32 // value key -> index into entries
	entries   slab[distinctEntry]
	seq       uint64 // arrival order of values, for Merge
	key       []byte
	sel       []int32
}

// distinctEntry is a value of a group's set: how many rows hold it, and
// when it entered the set (Merge feeds new values in that order, which
// order-dependent aggregates such as array_agg see).
type distinctEntry struct {
	cnt int64
	seq uint64
}

// distinctRetracting is a distinctAcc over an aggregate that retracts.
type distinctRetracting struct{ *distinctAcc }

var (
	_ Accumulator = (*distinctAcc)(nil)
	_ Retracter   = (*distinctRetracting)(nil)
)

// rows returns the live rows of the batch whose value (tuple) enters
// (retract false: first row of the value in its group) or leaves (last
// row) its group's set.
func (c *distinctAcc) rows(slots []uint32, args []coldata.Vector, n int, sel []int32, retract bool) ([]int32, error) {
	if err := checkArgs("DISTINCT", args, len(c.args)); err != nil {
		return nil, err
	}
	m, err := maxSlot(slots, n, sel)
	if err != nil {
		return nil, err
	}
	c.sets = growTo(c.sets, m)
	c.sel = c.sel[:0]
rows:
	for k, l := 0, selLen(n, sel); k < l; k++ {
		i := liveRow(k, sel)
		c.key = c.key[:0]
		for _, a := range args {
			if !c.keepNulls && a.IsNull(i) {
				continue rows
			}
			c.key = appendKey(c.key, a, i)
		}
		s := slots[i]
		g := c.sets[s]
		if g == nil {
			g = map[string]int32{}
			c.sets[s] = g
		}
		x, ok := g[string(c.key)]
		switch {
		case !retract && ok:
			c.entries.items[x].cnt++
		case !retract:
			c.seq++
			g[string(c.key)] = c.entries.alloc(distinctEntry{cnt: 1, seq: c.seq})
			c.sel = append(c.sel, int32(i))
		case !ok:
			return nil, fmt.Errorf("DISTINCT: retract of a value the group does not hold (slot %d)", s)
		case c.entries.items[x].cnt == 1:
			delete(g, string(c.key))
			c.entries.release(x)
			c.sel = append(c.sel, int32(i))
		default:
			c.entries.items[x].cnt--
		}
	}
	return c.sel, nil
}

func (c *distinctAcc) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	rows, err := c.rows(slots, args, n, sel, false)
	if err != nil || len(rows) == 0 {
		return err
	}
	return c.inner.Update(slots, args, n, rows)
}

func (c *distinctRetracting) Retract(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	rows, err := c.rows(slots, args, n, sel, true)
	if err != nil || len(rows) == 0 {
		return err
	}
	return c.inner.(Retracter).Retract(slots, args, n, rows)
}

func (c *distinctAcc) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	al := c.al

	var o *distinctAcc
	switch s := src.(type) {
	case *distinctAcc:
		o = s
	case *distinctRetracting:
		o = s.distinctAcc
	}
	if o == nil || len(o.args) != len(c.args) || len(dst) != len(srcSlots) {
		return fmt.Errorf("DISTINCT: merge with %T (%d into %d slots)", src, len(srcSlots), len(dst))
	}
	c.sets = growTo(c.sets, maxOf(dst))
	// The values new to their dst group, fed to the aggregate as a batch.
	cols := make([]coldata.Vector, len(c.args))
	for j, t := range c.args {
		cols[j] = al.New(t, 0)
	}
	var slots []uint32
	var fresh []string
	for k, d := range dst {
		s := srcSlots[k]
		if o == c && s == d {
			continue
		}
		src := at(o.sets, s)
		g := c.sets[d]
		if g == nil && len(src) > 0 {
			g = map[string]int32{}
			c.sets[d] = g
		}
		fresh = fresh[:0]
		for key, x := range src {
			if y, ok := g[key]; ok {
				c.entries.items[y].cnt += o.entries.items[x].cnt
				continue
			}
			fresh = append(fresh, key)
		}
		// New values, in the order src saw them.
		seqOf := func(key string) uint64 { return o.entries.items[src[key]].seq }
		slices.SortFunc(fresh, func(a, b string) int { return cmp.Compare(seqOf(a), seqOf(b)) })
		for _, key := range fresh {
			c.seq++
			g[key] = c.entries.alloc(distinctEntry{cnt: o.entries.items[src[key]].cnt, seq: c.seq})
			b := []byte(key)
			for _, col := range cols {
				var err error
				if b, err = decodeKey(col, b); err != nil {
					return fmt.Errorf("DISTINCT: %w", err)
				}
			}
			slots = append(slots, d)
		}
	}
	if len(slots) == 0 {
		return nil
	}
	return c.inner.Update(slots, cols, len(slots), nil)
}

func (c *distinctAcc) Result(slots []uint32) (coldata.Vector, error) {
	return c.inner.Result(slots)
}

func (c *distinctAcc) AppendSnapshot(dst []byte, slot uint32) []byte {
	g := at(c.sets, slot)
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	// In arrival order: the snapshot keeps the order, not the sequence
	// numbers, which are the accumulator's own.
	slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(c.entries.items[g[a]].seq, c.entries.items[g[b]].seq) })
	dst = binary.AppendVarint(append(dst, tagDistinct), int64(len(keys)))
	for _, k := range keys {
		dst = binary.AppendVarint(dst, int64(len(k)))
		dst = binary.AppendVarint(append(dst, k...), c.entries.items[g[k]].cnt)
	}
	return c.inner.AppendSnapshot(dst, slot)
}

func (c *distinctAcc) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagDistinct, "DISTINCT")
	if err != nil {
		return err
	}
	n := r.varint()
	if r.err == nil && (n < 0 || n > int64(len(snap))) {
		r.fail("bad entry count")
	}
	type entry struct {
		key string
		cnt int64
	}
	var es []entry
	seen := map[string]bool{}
	for k := int64(0); k < n && r.err == nil; k++ {
		key, cnt := r.bytes(), r.varint()
		if r.err != nil {
			break
		}
		if !c.validKey(key) || cnt <= 0 {
			r.fail("bad value entry")
			break
		}
		if seen[string(key)] {
			r.fail("duplicate value")
			break
		}
		seen[string(key)] = true
		es = append(es, entry{string(key), cnt})
	}
	if r.err != nil {
		return r.err
	}
	if err := c.inner.Restore(slot, r.b); err != nil {
		return err
	}
	c.sets = growTo(c.sets, int(slot)+1)
	releaseAll(&c.entries, c.sets[slot])
	c.sets[slot] = nil
	if len(es) > 0 {
		g := make(map[string]int32, len(es))
		for _, e := range es {
			c.seq++
			g[e.key] = c.entries.alloc(distinctEntry{cnt: e.cnt, seq: c.seq})
		}
		c.sets[slot] = g
	}
	return nil
}

func (c *distinctAcc) validKey(key []byte) bool {
	off := 0
	for _, t := range c.args {
		l, err := keyLen(t, key[off:])
		if err != nil {
			return false
		}
		off += l
	}
	return off == len(key)
}

func (c *distinctAcc) Reset(slot uint32) {
	if int(slot) < len(c.sets) {
		releaseAll(&c.entries, c.sets[slot])
		c.sets[slot] = nil
	}
	c.inner.Reset(slot)
}

// SetAllocator implements AllocatorUser, for the accumulator too.
func (c *distinctAcc) SetAllocator(al *coldata.Allocator) {
	c.al = al
	if u, ok := c.inner.(AllocatorUser); ok {
		u.SetAllocator(al)
	}
}
