package expr

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Approximate aggregates with bounded memory per group: approx_distinct (a
// HyperLogLog sketch, exact while a group has few values) and
// approx_percentile_cont / approx_median (a merging t-digest, exact while a
// group has few values). Neither retracts.

func init() {
	registerAggregate(&AggregateFunc{
		Name:        "approx_distinct",
		Description: "approximate number of distinct non-NULL values (HyperLogLog; exact up to 512 distinct values per group), BIGINT UNSIGNED",
		Resolve: func(args []types.Type) (*ResolvedAggregate, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("approx_distinct takes 1 argument, got %d", len(args))
			}
			t := args[0]
			if !keyable(t) {
				return nil, fmt.Errorf("approx_distinct does not support %s", t)
			}
			return &ResolvedAggregate{Args: []types.Type{t}, Result: types.UInt64T, New: func() Accumulator { return &hllAcc{t: t} }}, nil
		},
	})
	registerAggregate(&AggregateFunc{
		Name:        "approx_median",
		Description: "approximate median of the non-NULL values (t-digest; exact up to 500 values per group); same type as the argument",
		Resolve: func(args []types.Type) (*ResolvedAggregate, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("approx_median takes 1 argument, got %d", len(args))
			}
			return resolveDigest("approx_median", args[0], 0.5, defaultCompression, []types.Type{types.Float64T}, nil)
		},
	})
	registerAggregate(&AggregateFunc{
		Name:        "approx_percentile_cont",
		Description: "approximate continuous percentile p (a constant in [0, 1]) of the non-NULL values (t-digest; exact up to 500 values per group); an optional third constant sets the t-digest's size (default 100); same type as the argument",
		Resolve: func(args []types.Type) (*ResolvedAggregate, error) {
			// Only reached when the caller passes no constants
			// (ResolveWith always uses ResolveConsts).
			return nil, fmt.Errorf("approx_percentile_cont: the percentile must be a constant")
		},
		ResolveConsts: func(args []types.Type, consts []any) (*ResolvedAggregate, error) {
			const name = "approx_percentile_cont"
			if len(args) != 2 && len(args) != 3 {
				return nil, fmt.Errorf("%s takes 2 or 3 arguments (x, percentile[, centroids]), got %d", name, len(args))
			}
			if !args[1].Kind.IsNumeric() {
				return nil, fmt.Errorf("%s: the percentile must be a number, got %s", name, args[1])
			}
			p, ok := constFloat(consts[1])
			if !ok {
				return nil, fmt.Errorf("%s: the percentile must be a constant", name)
			}
			if !(p >= 0 && p <= 1) {
				return nil, fmt.Errorf("%s: the percentile must be between 0 and 1, got %v", name, p)
			}
			at, constArgs, comp := []types.Type{types.Float64T, types.Float64T}, []int{1}, float64(defaultCompression)
			if len(args) == 3 {
				c, ok := constFloat(consts[2])
				if !args[2].Kind.IsInteger() || !ok || c < 1 || c > 10000 || c != math.Trunc(c) {
					return nil, fmt.Errorf("%s: the number of centroids must be a constant integer between 1 and 10000", name)
				}
				comp = c
				at, constArgs = append(at, types.Int64T), []int{1, 2}
			}
			return resolveDigest(name, args[0], p, comp, at, constArgs)
		},
	})
}

// constFloat returns a numeric constant (as coldata.Value gives it) as a
// float64.
func constFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int64:
		return float64(v), true
	case int32:
		return float64(v), true
	case int16:
		return float64(v), true
	case int8:
		return float64(v), true
	case uint64:
		return float64(v), true
	case uint32:
		return float64(v), true
	case uint16:
		return float64(v), true
	case uint8:
		return float64(v), true
	case int:
		return float64(v), true
	}
	return 0, false
}

const defaultCompression = 100

func resolveDigest(name string, t types.Type, p, comp float64, args []types.Type, consts []int) (*ResolvedAggregate, error) {
	if t.Kind == types.Null {
		t = types.Float64T
	}
	if !t.Kind.IsNumeric() {
		return nil, fmt.Errorf("%s expects a number, got %s", name, t)
	}
	return &ResolvedAggregate{Args: args, Result: t, Consts: consts, New: func() Accumulator {
		return &digestAcc{name: name, t: t, p: p, comp: comp, nargs: len(args)}
	}}, nil
}

// hllAcc is approx_distinct. A group starts as an exact set of 64-bit
// value hashes (open addressing, 0 marks a free cell) and turns into a
// HyperLogLog of 2^12 registers (4 KiB, about 1.6% standard error) past
// hllSparseMax values; merging keeps whichever form the union needs.
type hllAcc struct {
	allocs

	t      types.Type
	sets   []hllSet
	rows   []int32
	hashes []uint64
}

type hllSet struct {
	sparse []uint64
	n      int
	regs   []uint8
}

const (
	hllP         = 12
	hllM         = 1 << hllP
	hllSparseMax = 512
)

// mixHash spreads coldata's key hashes over all 64 bits (the splitmix64
// finalizer): the registers use the top bits and the ranks the rest.
func mixHash(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

func (s *hllSet) add(h uint64) {
	if s.regs != nil {
		s.addDense(h)
		return
	}
	if h == 0 {
		h = 1
	}
	if s.sparse == nil {
		s.sparse = make([]uint64, 16)
	}
	mask := uint64(len(s.sparse) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.sparse[i] {
		case h:
			return
		case 0:
			s.sparse[i] = h
			s.n++
			if 2*s.n > len(s.sparse) {
				s.grow()
			}
			return
		}
	}
}

func (s *hllSet) grow() {
	old := s.sparse
	if s.n > hllSparseMax {
		s.sparse, s.n, s.regs = nil, 0, make([]uint8, hllM)
		for _, h := range old {
			if h != 0 {
				s.addDense(h)
			}
		}
		return
	}
	s.sparse, s.n = make([]uint64, 2*len(old)), 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}

func (s *hllSet) addDense(h uint64) {
	idx := h >> (64 - hllP)
	rank := uint8(bits.LeadingZeros64(h<<hllP|1<<(hllP-1))) + 1
	if rank > s.regs[idx] {
		s.regs[idx] = rank
	}
}

func (s *hllSet) count() uint64 {
	if s.regs == nil {
		return uint64(s.n)
	}
	sum, zeros := 0.0, 0
	for _, r := range s.regs {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	m := float64(hllM)
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		est = m * math.Log(m/float64(zeros)) // linear counting
	}
	return uint64(est + 0.5)
}

func (c *hllAcc) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	if err := checkArgs("approx_distinct", args, 1); err != nil {
		return err
	}
	v := args[0]
	if !v.Type().Equal(c.t) {
		return fmt.Errorf("approx_distinct: argument is %s, want %s", v.Type(), c.t)
	}
	m, err := maxSlot(slots, n, sel)
	if err != nil {
		return err
	}
	c.sets = growTo(c.sets, m)
	w := words(v)
	c.rows = c.rows[:0]
	for k, l := 0, selLen(n, sel); k < l; k++ {
		if i := liveRow(k, sel); !nullAt(w, i) {
			c.rows = append(c.rows, int32(i))
		}
	}
	c.hashes = growTo(c.hashes[:0], len(c.rows))
	clear(c.hashes)
	coldata.HashInto(v, c.rows, c.hashes)
	for k, i := range c.rows {
		c.sets[slots[i]].add(mixHash(c.hashes[k]))
	}
	return nil
}

func (c *hllAcc) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*hllAcc)
	if !ok || len(dst) != len(srcSlots) {
		return fmt.Errorf("approx_distinct: merge with %T (%d into %d slots)", src, len(srcSlots), len(dst))
	}
	c.sets = growTo(c.sets, maxOf(dst))
	for k, d := range dst {
		s := srcSlots[k]
		if int(s) >= len(o.sets) || (o == c && s == d) {
			continue
		}
		from, to := &o.sets[s], &c.sets[d]
		if from.regs != nil {
			if to.regs == nil {
				old := to.sparse
				to.sparse, to.n, to.regs = nil, 0, make([]uint8, hllM)
				for _, h := range old {
					if h != 0 {
						to.addDense(h)
					}
				}
			}
			for i, r := range from.regs {
				to.regs[i] = max(to.regs[i], r)
			}
			continue
		}
		for _, h := range from.sparse {
			if h != 0 {
				to.add(h)
			}
		}
	}
	return nil
}

func (c *hllAcc) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	out := coldata.AllocVec[uint64](al, types.UInt64T, len(slots))
	for k, s := range slots {
		if int(s) < len(c.sets) {
			out.Vals[k] = c.sets[s].count()
		}
	}
	return out, nil
}

func (c *hllAcc) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = append(dst, tagHLL)
	var s hllSet
	if int(slot) < len(c.sets) {
		s = c.sets[slot]
	}
	if s.regs != nil {
		return append(append(dst, 1), s.regs...)
	}
	hs := make([]uint64, 0, s.n)
	for _, h := range s.sparse {
		if h != 0 {
			hs = append(hs, h)
		}
	}
	slices.Sort(hs)
	dst = binary.AppendVarint(append(dst, 0), int64(len(hs)))
	for _, h := range hs {
		dst = binary.LittleEndian.AppendUint64(dst, h)
	}
	return dst
}

func (c *hllAcc) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagHLL, "approx_distinct")
	if err != nil {
		return err
	}
	var s hllSet
	switch {
	case len(r.b) == 0:
		r.fail("missing mode")
	case r.b[0] == 1:
		if len(r.b) != 1+hllM {
			r.fail("bad register count")
			break
		}
		s.regs, r.b = append([]uint8(nil), r.b[1:]...), nil
		for _, x := range s.regs {
			if x > 64-hllP+1 {
				r.fail("bad register")
			}
		}
	case r.b[0] == 0:
		r.b = r.b[1:]
		n := r.varint()
		if r.err == nil && (n < 0 || n > hllSparseMax) {
			r.fail("bad value count")
		}
		for k := int64(0); k < n && r.err == nil; k++ {
			h := r.u64()
			if h == 0 {
				r.fail("zero hash")
			}
			s.add(h)
		}
	default:
		r.fail("bad mode")
	}
	if err := r.done(); err != nil {
		return err
	}
	c.sets = growTo(c.sets, int(slot)+1)
	c.sets[slot] = s
	return nil
}

func (c *hllAcc) Reset(slot uint32) {
	if int(slot) < len(c.sets) {
		c.sets[slot] = hllSet{}
	}
}

// digestAcc is approx_percentile_cont(x, p) with p fixed at Resolve: a
// merging t-digest per group (Dunning's, with the k1 arcsine scale, about
// comp centroids). Values are buffered as weight-1 centroids and the buffer
// is compressed when it reaches 5*comp entries, so a group of up to 5*comp
// values keeps them all and its percentile is exact (linear interpolation
// between the closest ranks, as percentile_cont). NaN values are ignored.
type digestAcc struct {
	allocs

	name  string
	t     types.Type
	p     float64
	comp  float64
	nargs int
	ds    []digest
	tmp   []centroid
}

type centroid struct{ mean, w float64 }

type digest struct {
	cs       []centroid
	merged   int // cs[:merged] is a compressed, sorted digest
	total    float64
	min, max float64
}

func (c *digestAcc) bufCap() int { return int(5 * c.comp) }

func (d *digest) add(x, w float64) {
	if d.total == 0 {
		d.min, d.max = x, x
	}
	d.min, d.max = min(d.min, x), max(d.max, x)
	d.cs = append(d.cs, centroid{x, w})
	d.total += w
}

func byMean(a, b centroid) int { return cmp.Compare(a.mean, b.mean) }

// compress sorts and merges the centroids so that one covers at most one
// unit of the k1 scale k(q) = comp/(2 pi) asin(2q-1).
func (d *digest) compress(comp float64) {
	slices.SortFunc(d.cs, byMean)
	k := func(q float64) float64 { return comp / (2 * math.Pi) * math.Asin(2*q-1) }
	kInv := func(k float64) float64 {
		k = min(k, comp/4)
		return (math.Sin(2*math.Pi*k/comp) + 1) / 2
	}
	out := d.cs[:1]
	before := 0.0 // weight of the centroids before the current one
	limit := d.total * kInv(k(0)+1)
	for _, x := range d.cs[1:] {
		cur := &out[len(out)-1]
		if before+cur.w+x.w <= limit {
			cur.mean += (x.mean - cur.mean) * x.w / (cur.w + x.w)
			cur.w += x.w
			continue
		}
		before += cur.w
		limit = d.total * kInv(k(before/d.total)+1)
		out = append(out, x)
	}
	d.cs, d.merged = out, len(out)
}

// quantile returns the value at 0-based rank p*(total-1), interpolating
// linearly between centroid centres (a centroid of weight w covering ranks
// b .. b+w-1 sits at b + (w-1)/2) and the extremes. sorted is the digest's
// centroids in mean order.
func quantile(sorted []centroid, total, lo, hi, p float64) float64 {
	r := p * (total - 1)
	before := 0.0
	prevRank, prevVal := 0.0, lo
	for _, c := range sorted {
		center := before + (c.w-1)/2
		if r <= center {
			if center == prevRank {
				return c.mean
			}
			return prevVal + (c.mean-prevVal)*(r-prevRank)/(center-prevRank)
		}
		prevRank, prevVal = center, c.mean
		before += c.w
	}
	last := total - 1
	if last == prevRank {
		return hi
	}
	return prevVal + (hi-prevVal)*(r-prevRank)/(last-prevRank)
}

func (c *digestAcc) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	if err := checkArgs(c.name, args, c.nargs); err != nil {
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
	c.ds = growTo(c.ds, m)
	w := words(v)
	for k, l := 0, selLen(n, sel); k < l; k++ {
		i := liveRow(k, sel)
		if x := v.Vals[i]; !nullAt(w, i) && x == x {
			d := &c.ds[slots[i]]
			d.add(x, 1)
			if len(d.cs)-d.merged > c.bufCap() {
				d.compress(c.comp)
			}
		}
	}
	return nil
}

func (c *digestAcc) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*digestAcc)
	if !ok || len(dst) != len(srcSlots) {
		return fmt.Errorf("%s: merge with %T (%d into %d slots)", c.name, src, len(srcSlots), len(dst))
	}
	c.ds = growTo(c.ds, maxOf(dst))
	for k, dslot := range dst {
		s := srcSlots[k]
		if int(s) >= len(o.ds) || (o == c && s == dslot) {
			continue
		}
		from, to := &o.ds[s], &c.ds[dslot]
		if from.total == 0 {
			continue
		}
		lo, hi := from.min, from.max
		for _, x := range from.cs {
			to.add(x.mean, x.w)
		}
		to.min, to.max = min(to.min, lo), max(to.max, hi)
		if len(to.cs)-to.merged > c.bufCap() {
			to.compress(c.comp)
		}
	}
	return nil
}

func (c *digestAcc) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	out := al.New(c.t, len(slots))
	for _, s := range slots {
		if int(s) >= len(c.ds) || c.ds[s].total == 0 {
			out.AppendNull()
			continue
		}
		d := &c.ds[s]
		c.tmp = append(c.tmp[:0], d.cs...)
		slices.SortStableFunc(c.tmp, byMean)
		appendFloatAs(out, quantile(c.tmp, d.total, d.min, d.max, c.p))
	}
	return out, nil
}

// appendFloatAs appends x to a numeric vector, truncated toward zero for
// integers (DataFusion casts the t-digest's estimate with `as`).
func appendFloatAs(out coldata.Vector, x float64) {
	switch o := out.(type) {
	case *coldata.Vec[float64]:
		o.Append(x)
	case *coldata.Vec[float32]:
		o.Append(float32(x))
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
		o.Append(uint64(x))
	}
}

func (c *digestAcc) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = append(dst, tagTDigest)
	var d digest
	if int(slot) < len(c.ds) {
		d = c.ds[slot]
	}
	dst = binary.AppendVarint(dst, int64(len(d.cs)))
	if len(d.cs) == 0 {
		return dst
	}
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(d.min))
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(d.max))
	for _, x := range d.cs {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(x.mean))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(x.w))
	}
	return dst
}

func (c *digestAcc) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagTDigest, c.name)
	if err != nil {
		return err
	}
	n := r.varint()
	if r.err == nil && (n < 0 || n > int64(len(snap))/16) {
		r.fail("bad centroid count")
	}
	var d digest
	if n > 0 && r.err == nil {
		lo, hi := math.Float64frombits(r.u64()), math.Float64frombits(r.u64())
		for k := int64(0); k < n && r.err == nil; k++ {
			mean, w := math.Float64frombits(r.u64()), math.Float64frombits(r.u64())
			if !(w > 0) || mean != mean {
				r.fail("bad centroid")
			}
			d.add(mean, w)
		}
		d.min, d.max = lo, hi
	}
	if err := r.done(); err != nil {
		return err
	}
	c.ds = growTo(c.ds, int(slot)+1)
	c.ds[slot] = d
	return nil
}

func (c *digestAcc) Reset(slot uint32) {
	if int(slot) < len(c.ds) {
		c.ds[slot] = digest{cs: c.ds[slot].cs[:0]}
	}
}
