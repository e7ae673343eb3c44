package expr

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Statistical aggregates: variance and standard deviation of one argument,
// covariance, correlation and the regr_* linear regression family of two
// (y, x). One accumulator keeps, per group, the count and the sums of the
// values and of their squares and products, all shifted by the group's
// first value (x - kx, y - ky): values around 1e9 with a spread of a few
// units keep their digits, which plain sums of squares would lose all of,
// and retraction subtracts exactly what Update added (exactly, for
// integer-valued data), so retracting does not drift the way running
// Welford backwards does. A group emptied by retraction starts again from
// zeros with a new shift. Merge re-shifts the source's sums to the
// destination's shift. Arguments are DOUBLE (the planner casts); a row
// where any argument is NULL is ignored. Results follow DataFusion:
// DOUBLE, NULL where the statistic is undefined (sample statistics of
// fewer than 2 rows), regr_count BIGINT UNSIGNED.

type statKind uint8

const (
	statVarSamp statKind = iota
	statVarPop
	statStddevSamp
	statStddevPop
	statCovarSamp
	statCovarPop
	statCorr
	statRegrSlope
	statRegrIntercept
	statRegrCount
	statRegrR2
	statRegrAvgX
	statRegrAvgY
	statRegrSXX
	statRegrSYY
	statRegrSXY
)

func init() {
	for _, s := range []struct {
		names []string
		kind  statKind
		desc  string
	}{
		{[]string{"var", "var_samp", "var_sample", "variance"}, statVarSamp, "sample variance of the non-NULL values (NULL for fewer than 2)"},
		{[]string{"var_pop", "var_population"}, statVarPop, "population variance of the non-NULL values"},
		{[]string{"stddev", "stddev_samp"}, statStddevSamp, "sample standard deviation of the non-NULL values (NULL for fewer than 2)"},
		{[]string{"stddev_pop"}, statStddevPop, "population standard deviation of the non-NULL values"},
		{[]string{"covar_samp", "covar"}, statCovarSamp, "sample covariance of (y, x) over rows where neither is NULL"},
		{[]string{"covar_pop"}, statCovarPop, "population covariance of (y, x) over rows where neither is NULL"},
		{[]string{"corr"}, statCorr, "Pearson correlation coefficient of (y, x); 0 when either is constant"},
		{[]string{"regr_slope"}, statRegrSlope, "slope of the least-squares line of y on x"},
		{[]string{"regr_intercept"}, statRegrIntercept, "y-intercept of the least-squares line of y on x"},
		{[]string{"regr_count"}, statRegrCount, "number of rows where neither y nor x is NULL"},
		{[]string{"regr_r2"}, statRegrR2, "coefficient of determination of the least-squares line of y on x"},
		{[]string{"regr_avgx"}, statRegrAvgX, "mean of x over rows where neither is NULL"},
		{[]string{"regr_avgy"}, statRegrAvgY, "mean of y over rows where neither is NULL"},
		{[]string{"regr_sxx"}, statRegrSXX, "sum of squared deviations of x from its mean"},
		{[]string{"regr_syy"}, statRegrSYY, "sum of squared deviations of y from its mean"},
		{[]string{"regr_sxy"}, statRegrSXY, "sum of products of the deviations of y and x from their means"},
	} {
		for _, name := range s.names {
			kind := s.kind
			nargs := 2
			if kind <= statStddevPop {
				nargs = 1
			}
			registerAggregate(&AggregateFunc{
				Name:        name,
				Description: s.desc,
				Resolve: func(args []types.Type) (*ResolvedAggregate, error) {
					if len(args) != nargs {
						return nil, fmt.Errorf("%s takes %d argument%s, got %d", name, nargs, plural(nargs), len(args))
					}
					at := make([]types.Type, nargs)
					for i, a := range args {
						if !a.Kind.IsNumeric() && a.Kind != types.Null {
							return nil, fmt.Errorf("%s expects numbers, got %s", name, typeList(args))
						}
						at[i] = types.Float64T
					}
					res := types.Float64T
					if kind == statRegrCount {
						res = types.UInt64T
					}
					return &ResolvedAggregate{Args: at, Result: res, New: func() Accumulator {
						return &momentsAcc{name: name, kind: kind, two: nargs == 2}
					}}, nil
				},
			})
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// momentsAcc holds, per group, the count n, the shifts kx, ky (the
// group's first values) and, over dx = x-kx and dy = y-ky, the sums sx, sy,
// sxx, syy, sxy. For one argument (two false) the argument is x and the y
// fields stay empty. For (y, x) aggregates args[0] is y and args[1] is x.
type momentsAcc struct {
	allocs

	name             string
	kind             statKind
	two              bool
	n                []int64
	kx, sx, sxx      []float64
	ky, sy, syy, sxy []float64
}

var (
	_ Accumulator = (*momentsAcc)(nil)
	_ Retracter   = (*momentsAcc)(nil)
)

func (c *momentsAcc) grow(m int) {
	c.n, c.kx, c.sx, c.sxx = growTo(c.n, m), growTo(c.kx, m), growTo(c.sx, m), growTo(c.sxx, m)
	if c.two {
		c.ky, c.sy, c.syy, c.sxy = growTo(c.ky, m), growTo(c.sy, m), growTo(c.syy, m), growTo(c.sxy, m)
	}
}

func (c *momentsAcc) add(slots []uint32, args []coldata.Vector, n int, sel []int32, retract bool) error {
	want := 1
	if c.two {
		want = 2
	}
	if err := checkArgs(c.name, args, want); err != nil {
		return err
	}
	yv, ok := args[0].(*coldata.Vec[float64])
	if !ok {
		return fmt.Errorf("%s: argument is %s, want DOUBLE", c.name, args[0].Type())
	}
	xv := yv
	if c.two {
		if xv, ok = args[1].(*coldata.Vec[float64]); !ok {
			return fmt.Errorf("%s: argument is %s, want DOUBLE", c.name, args[1].Type())
		}
	}
	m, err := maxSlot(slots, n, sel)
	if err != nil {
		return err
	}
	c.grow(m)
	if !c.two {
		return c.add1(slots, xv, n, sel, retract)
	}
	wx, wy := words(xv), words(yv)
	for k, l := 0, selLen(n, sel); k < l; k++ {
		i := liveRow(k, sel)
		if nullAt(wx, i) || nullAt(wy, i) {
			continue
		}
		s := slots[i]
		if c.n[s] == 0 {
			if retract {
				return fmt.Errorf("%s: retract from a group with no rows (slot %d)", c.name, s)
			}
			c.kx[s], c.ky[s] = xv.Vals[i], yv.Vals[i]
		}
		dx, dy := xv.Vals[i]-c.kx[s], yv.Vals[i]-c.ky[s]
		if retract {
			if c.n[s]--; c.n[s] == 0 {
				c.kx[s], c.sx[s], c.sxx[s], c.ky[s], c.sy[s], c.syy[s], c.sxy[s] = 0, 0, 0, 0, 0, 0, 0
				continue
			}
			dx, dy = -dx, -dy
			c.sxx[s] -= dx * dx
			c.syy[s] -= dy * dy
			c.sxy[s] -= dx * dy
		} else {
			c.n[s]++
			c.sxx[s] += dx * dx
			c.syy[s] += dy * dy
			c.sxy[s] += dx * dy
		}
		c.sx[s] += dx
		c.sy[s] += dy
	}
	return nil
}

func (c *momentsAcc) add1(slots []uint32, v *coldata.Vec[float64], n int, sel []int32, retract bool) error {
	w := words(v)
	for k, l := 0, selLen(n, sel); k < l; k++ {
		i := liveRow(k, sel)
		if nullAt(w, i) {
			continue
		}
		s := slots[i]
		if c.n[s] == 0 {
			if retract {
				return fmt.Errorf("%s: retract from a group with no rows (slot %d)", c.name, s)
			}
			c.kx[s] = v.Vals[i]
		}
		dx := v.Vals[i] - c.kx[s]
		if !retract {
			c.n[s]++
			c.sx[s] += dx
			c.sxx[s] += dx * dx
			continue
		}
		if c.n[s]--; c.n[s] == 0 {
			c.kx[s], c.sx[s], c.sxx[s] = 0, 0, 0
			continue
		}
		c.sx[s] -= dx
		c.sxx[s] -= dx * dx
	}
	return nil
}

func (c *momentsAcc) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, false)
}

func (c *momentsAcc) Retract(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	return c.add(slots, args, n, sel, true)
}

func (c *momentsAcc) Merge(dst []uint32, src Accumulator, srcSlots []uint32) error {
	o, ok := src.(*momentsAcc)
	if !ok || o.two != c.two || len(dst) != len(srcSlots) {
		return fmt.Errorf("%s: merge with %T (%d into %d slots)", c.name, src, len(srcSlots), len(dst))
	}
	c.grow(maxOf(dst))
	for k, d := range dst {
		s := srcSlots[k]
		nb := at(o.n, s)
		if nb == 0 || (o == c && s == d) {
			continue
		}
		if c.n[d] == 0 {
			c.n[d], c.kx[d], c.sx[d], c.sxx[d] = nb, o.kx[s], o.sx[s], o.sxx[s]
			if c.two {
				c.ky[d], c.sy[d], c.syy[d], c.sxy[d] = o.ky[s], o.sy[s], o.syy[s], o.sxy[s]
			}
			continue
		}
		// Re-shift: x - ka = (x - kb) + (kb - ka).
		fn := float64(nb)
		hx := o.kx[s] - c.kx[d]
		c.sxx[d] += o.sxx[s] + 2*hx*o.sx[s] + fn*hx*hx
		if c.two {
			hy := o.ky[s] - c.ky[d]
			c.syy[d] += o.syy[s] + 2*hy*o.sy[s] + fn*hy*hy
			c.sxy[d] += o.sxy[s] + hx*o.sy[s] + hy*o.sx[s] + fn*hx*hy
			c.sy[d] += o.sy[s] + fn*hy
		}
		c.sx[d] += o.sx[s] + fn*hx
		c.n[d] += nb
	}
	return nil
}

// result returns the statistic of group s and whether it is defined.
func (c *momentsAcc) result(s uint32) (float64, bool) {
	n := at(c.n, s)
	if n == 0 {
		return 0, false
	}
	nf := float64(n)
	// Sums of squared deviations; rounding can leave one a hair below 0.
	m2x := math.Max(c.sxx[s]-c.sx[s]*c.sx[s]/nf, 0)
	mx := c.kx[s] + c.sx[s]/nf
	var m2y, cxy, my float64
	if c.two {
		m2y = math.Max(c.syy[s]-c.sy[s]*c.sy[s]/nf, 0)
		cxy = c.sxy[s] - c.sx[s]*c.sy[s]/nf
		my = c.ky[s] + c.sy[s]/nf
	}
	switch c.kind {
	case statVarSamp:
		return m2x / (nf - 1), n > 1
	case statVarPop:
		return m2x / nf, true
	case statStddevSamp:
		return math.Sqrt(m2x / (nf - 1)), n > 1
	case statStddevPop:
		return math.Sqrt(m2x / nf), true
	case statCovarSamp:
		return cxy / (nf - 1), n > 1
	case statCovarPop:
		return cxy / nf, true
	case statCorr:
		if n < 2 {
			return 0, false
		}
		if m2x == 0 || m2y == 0 {
			return 0, true // DataFusion: 0 when a standard deviation is 0
		}
		return cxy / math.Sqrt(m2x*m2y), true
	case statRegrSlope:
		return cxy / m2x, n > 1 && m2x != 0
	case statRegrIntercept:
		return my - cxy/m2x*mx, n > 1 && m2x != 0
	case statRegrR2:
		if n < 2 || m2x == 0 || m2y == 0 {
			return 0, false
		}
		return cxy * cxy / (m2x * m2y), true
	case statRegrAvgX:
		return mx, true
	case statRegrAvgY:
		return my, true
	case statRegrSXX:
		return m2x, true
	case statRegrSYY:
		return m2y, true
	case statRegrSXY:
		return cxy, true
	}
	return 0, false
}

func (c *momentsAcc) Result(slots []uint32) (coldata.Vector, error) {
	al := c.al

	if c.kind == statRegrCount {
		out := coldata.AllocVec[uint64](al, types.UInt64T, len(slots))
		for k, s := range slots {
			out.Vals[k] = uint64(at(c.n, s))
		}
		return out, nil
	}
	out := coldata.AllocVec[float64](al, types.Float64T, len(slots))
	var nulls []uint64
	for k, s := range slots {
		v, ok := c.result(s)
		if !ok {
			if nulls == nil {
				nulls = make([]uint64, (len(slots)+63)>>6)
			}
			setBit(nulls, k)
			continue
		}
		out.Vals[k] = v
	}
	out.N.SetWords(nulls)
	return out, nil
}

func (c *momentsAcc) fields(slot uint32) []float64 {
	fs := []float64{at(c.kx, slot), at(c.sx, slot), at(c.sxx, slot)}
	if c.two {
		fs = append(fs, at(c.ky, slot), at(c.sy, slot), at(c.syy, slot), at(c.sxy, slot))
	}
	return fs
}

func (c *momentsAcc) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = append(dst, tagMoments, byte(b2i(c.two)))
	dst = binary.AppendVarint(dst, at(c.n, slot))
	for _, f := range c.fields(slot) {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
	}
	return dst
}

func (c *momentsAcc) Restore(slot uint32, snap []byte) error {
	r, err := snapReader(snap, tagMoments, c.name)
	if err != nil {
		return err
	}
	if len(r.b) == 0 || r.b[0] != byte(b2i(c.two)) {
		return fmt.Errorf("%s: %w: wrong number of arguments", c.name, ErrSnapshot)
	}
	r.b = r.b[1:]
	n := r.varint()
	var fs [7]float64
	cnt := 3
	if c.two {
		cnt = 7
	}
	for i := range cnt {
		fs[i] = math.Float64frombits(r.u64())
	}
	if err := r.done(); err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("%s: %w: negative count %d", c.name, ErrSnapshot, n)
	}
	c.grow(int(slot) + 1)
	c.n[slot], c.kx[slot], c.sx[slot], c.sxx[slot] = n, fs[0], fs[1], fs[2]
	if c.two {
		c.ky[slot], c.sy[slot], c.syy[slot], c.sxy[slot] = fs[3], fs[4], fs[5], fs[6]
	}
	return nil
}

func (c *momentsAcc) Reset(slot uint32) {
	if int(slot) < len(c.n) {
		c.n[slot], c.kx[slot], c.sx[slot], c.sxx[slot] = 0, 0, 0, 0
		if c.two {
			c.ky[slot], c.sy[slot], c.syy[slot], c.sxy[slot] = 0, 0, 0, 0
		}
	}
}
