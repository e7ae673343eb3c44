package expr

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// libCase is an aggregate of any arity checked against a Go model, as
// aggCase but for the whole library: DISTINCT, the retracting forms,
// constant arguments, order-dependent results and float tolerances.
type libCase struct {
	name       string
	args       []types.Type // given to Resolve
	consts     []any
	distinct   bool
	retracting bool // build with Retracting() and test Retract
	gen        func(r *rand.Rand) []any
	model      func(rows [][]any) any
	tol        float64 // relative tolerance of float results (0: exact)
	ordered    bool    // the result depends on arrival order
}

func (c libCase) String() string {
	s := c.name + typeList(c.args)
	if c.distinct {
		s = "distinct " + s
	}
	if c.retracting {
		s += " retracting"
	}
	return s
}

func (c libCase) resolve(t testing.TB) (*ResolvedAggregate, func() Accumulator) {
	t.Helper()
	a, ok := Builtins().LookupAggregate(c.name)
	if !ok {
		t.Fatalf("no aggregate %s", c.name)
	}
	ra, err := a.ResolveWith(c.args, c.consts)
	if err != nil {
		t.Fatalf("resolve %s: %v", c, err)
	}
	if c.distinct {
		if ra, err = Distinct(ra); err != nil {
			t.Fatalf("distinct %s: %v", c, err)
		}
	}
	if !c.retracting {
		return ra, ra.New
	}
	mk := ra.Retracting()
	if mk == nil {
		t.Fatalf("%s does not retract", c)
	}
	return ra, mk
}

type libRows struct {
	rows   [][]any
	groups []uint32
}

func (rs *libRows) add(row []any, g uint32) {
	rs.rows, rs.groups = append(rs.rows, row), append(rs.groups, g)
}

// feedLib applies rs to acc in random batch shapes (see feed).
func feedLib(t *testing.T, r *rand.Rand, c libCase, ra *ResolvedAggregate, acc Accumulator, rs libRows, slotOf func(uint32) uint32, retract bool) {
	t.Helper()
	apply := acc.Update
	if retract {
		apply = acc.(Retracter).Retract
	}
	for from := 0; from < len(rs.rows); {
		to := min(len(rs.rows), from+1+r.IntN(300))
		var cols []coldata.Vector
		for j, at := range ra.Args {
			v := coldata.New(at, to-from)
			for _, row := range rs.rows[from:to] {
				appendLib(v, row[j])
			}
			cols = append(cols, v)
		}
		slotv := &coldata.Vec[uint32]{T: types.UInt32T}
		for _, g := range rs.groups[from:to] {
			slotv.Append(slotOf(g))
		}
		cols = append(cols, slotv)
		b := &coldata.Batch{Cols: cols, Len: to - from}
		if r.IntN(2) == 0 {
			b = padded(cols, to-from, r)
		}
		na := len(ra.Args)
		if err := apply(b.Cols[na].(*coldata.Vec[uint32]).Vals, b.Cols[:na], b.Len, b.Sel); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		from = to
	}
}

func closeEnough(got, want any, tol float64) bool {
	if tol == 0 {
		return equalValue(got, want)
	}
	g, ok1 := got.(float64)
	w, ok2 := want.(float64)
	if !ok1 || !ok2 {
		return equalValue(got, want)
	}
	if math.IsNaN(g) || math.IsNaN(w) {
		return math.IsNaN(g) && math.IsNaN(w)
	}
	return math.Abs(g-w) <= tol*math.Max(1, math.Abs(w))
}

// checkLib compares acc's results for groups 0..ngroups-1 with the model.
func checkLib(t *testing.T, what string, c libCase, ra *ResolvedAggregate, acc Accumulator, rs libRows, ngroups int, slotOf func(uint32) uint32) {
	t.Helper()
	byGroup := make([][][]any, ngroups)
	for i, g := range rs.groups {
		byGroup[g] = append(byGroup[g], rs.rows[i])
	}
	slots := make([]uint32, ngroups)
	for g := range ngroups {
		slots[g] = slotOf(uint32(g))
	}
	res, err := acc.Result(slots)
	if err != nil {
		t.Fatalf("%s %s: Result: %v", c, what, err)
	}
	if !res.Type().Equal(ra.Result) || res.Len() != ngroups {
		t.Fatalf("%s %s: result %s of %d rows, want %s of %d", c, what, res.Type(), res.Len(), ra.Result, ngroups)
	}
	for g := range ngroups {
		want := c.model(byGroup[g])
		if want != nil {
			want = normalizeLib(ra.Result, []any{want})[0]
		}
		if got := coldata.Value(res, g); !closeEnough(got, want, c.tol) {
			t.Fatalf("%s %s: group %d (%d rows):\n got  %v\n want %v", c, what, g, len(byGroup[g]), got, want)
		}
	}
}

// TestAggregateLibrary runs every case through updates in random batch
// shapes, merges of partials (split at random, or into a prefix and a
// suffix for order-dependent aggregates), merges within one accumulator,
// snapshot and restore into other slots (the snapshot of the restored
// group must be the same bytes), retraction of a random subset and of
// everything, Reset and empty groups.
func TestAggregateLibrary(t *testing.T) {
	for _, c := range libCases() {
		t.Run(c.String(), func(t *testing.T) {
			h := uint64(0)
			for _, b := range []byte(c.String()) {
				h = h*131 + uint64(b)
			}
			r := rand.New(rand.NewPCG(h, 23))
			ra, mk := c.resolve(t)
			const groups = 7
			for round := range 8 {
				var rs libRows
				for range r.IntN(1500) {
					rs.add(c.gen(r), uint32(r.IntN(groups)))
				}
				whole := mk()
				feedLib(t, r, c, ra, whole, rs, id, false)
				checkLib(t, "update", c, ra, whole, rs, groups, id)
				empty, err := whole.Result([]uint32{groups + 9})
				if err != nil {
					t.Fatal(err)
				}
				if got, want := coldata.Value(empty, 0), c.model(nil); !equalValue(got, normalizeLib(ra.Result, []any{want})[0]) {
					t.Errorf("%s: empty group gives %v, want %v", c, got, want)
				}

				var a, b libRows
				cut := r.IntN(len(rs.rows) + 1)
				for i := range rs.rows {
					p := &a
					if (c.ordered && i >= cut) || (!c.ordered && r.IntN(2) == 0) {
						p = &b
					}
					p.add(rs.rows[i], rs.groups[i])
				}
				shift := func(g uint32) uint32 { return g + 50 }
				pa, pb, merged := mk(), mk(), mk()
				feedLib(t, r, c, ra, pa, a, id, false)
				feedLib(t, r, c, ra, pb, b, shift, false)
				dst, srcA, srcB := make([]uint32, groups), make([]uint32, groups), make([]uint32, groups)
				for g := range uint32(groups) {
					dst[g], srcA[g], srcB[g] = g, g, shift(g)
				}
				if err := merged.Merge(dst, pa, srcA); err != nil {
					t.Fatal(err)
				}
				if err := merged.Merge(dst, pb, srcB); err != nil {
					t.Fatal(err)
				}
				checkLib(t, "merge", c, ra, merged, rs, groups, id)
				// Within one accumulator: b's partial (at shifted slots)
				// folded after a's.
				self := mk()
				feedLib(t, r, c, ra, self, a, id, false)
				feedLib(t, r, c, ra, self, b, shift, false)
				if err := self.Merge(srcA, self, srcB); err != nil {
					t.Fatal(err)
				}
				checkLib(t, "self merge", c, ra, self, rs, groups, id)

				perm := r.Perm(groups)
				moved := func(g uint32) uint32 { return uint32(perm[g])*3 + 1 }
				restored := mk()
				var buf, again []byte
				for g := range uint32(groups) {
					buf = whole.AppendSnapshot(buf[:0], g)
					if err := restored.Restore(moved(g), buf); err != nil {
						t.Fatalf("restore: %v", err)
					}
					if again = restored.AppendSnapshot(again[:0], moved(g)); !bytes.Equal(buf, again) {
						t.Fatalf("%s: snapshot of the restored group differs:\n%x\n%x", c, buf, again)
					}
				}
				checkLib(t, "restore", c, ra, restored, rs, groups, moved)
				// The restored accumulator keeps working.
				var more libRows
				for range 50 {
					more.add(c.gen(r), uint32(r.IntN(groups)))
				}
				feedLib(t, r, c, ra, restored, more, moved, false)
				both := libRows{rows: append(slices.Clip(rs.rows), more.rows...), groups: append(slices.Clip(rs.groups), more.groups...)}
				checkLib(t, "restore then update", c, ra, restored, both, groups, moved)

				if c.retracting && !c.ordered {
					var gone, kept libRows
					for i := range rs.rows {
						p := &kept
						if r.IntN(3) > 0 {
							p = &gone
						}
						p.add(rs.rows[i], rs.groups[i])
					}
					feedLib(t, r, c, ra, whole, gone, id, true)
					checkLib(t, fmt.Sprintf("round %d retract", round), c, ra, whole, kept, groups, id)
					feedLib(t, r, c, ra, whole, kept, id, true)
					checkLib(t, "retract all", c, ra, whole, libRows{}, groups, id)
					feedLib(t, r, c, ra, whole, kept, id, false)
					checkLib(t, "update after retract all", c, ra, whole, kept, groups, id)
				}

				restored.Reset(moved(0))
				v, _ := restored.Result([]uint32{moved(0)})
				if got, want := coldata.Value(v, 0), c.model(nil); !equalValue(got, normalizeLib(ra.Result, []any{want})[0]) {
					t.Errorf("%s: after Reset: %v", c, got)
				}
			}
		})
	}
}

// Generators: nil is NULL.

func genInt(lo, hi int64) func(r *rand.Rand) []any {
	return func(r *rand.Rand) []any {
		return []any{sometimesNull(r, func() any { return lo + r.Int64N(hi-lo+1) })}
	}
}

func genFloat(lo, hi int) func(r *rand.Rand) []any {
	return func(r *rand.Rand) []any {
		return []any{sometimesNull(r, func() any { return float64(lo + r.IntN(hi-lo+1)) })}
	}
}

func genText(r *rand.Rand) []any {
	return []any{sometimesNull(r, func() any {
		b := make([]byte, r.IntN(4))
		for i := range b {
			b[i] = byte('a' + r.IntN(4))
		}
		return string(b)
	})}
}

func genBool(r *rand.Rand) []any {
	return []any{sometimesNull(r, func() any { return r.IntN(4) > 0 })}
}

// genPair is (y, x), each sometimes NULL, correlated.
func genPair(r *rand.Rand) []any {
	x := float64(r.IntN(201) - 100)
	y := 3*x + float64(r.IntN(41)-20)
	var row = []any{y, x}
	if r.IntN(6) == 0 {
		row[0] = nil
	}
	if r.IntN(6) == 0 {
		row[1] = nil
	}
	return row
}

// col0 returns the non-NULL first arguments.
func col0(rows [][]any) []any {
	var out []any
	for _, row := range rows {
		if row[0] != nil {
			out = append(out, row[0])
		}
	}
	return out
}

func distinctVals(vals []any) []any {
	var out []any
	for _, v := range vals {
		if !slices.ContainsFunc(out, func(o any) bool { return equalValue(o, v) }) {
			out = append(out, v)
		}
	}
	return out
}

func cmpAny(a, b any) int {
	switch a := a.(type) {
	case int64:
		return cmp.Compare(a, b.(int64))
	case float64:
		return cmp.Compare(a, b.(float64)) // NaN first: not used with NaN
	case string:
		return cmp.Compare(a, b.(string))
	}
	panic(fmt.Sprintf("cmpAny %T", a))
}

func best(max bool) func(rows [][]any) any {
	return func(rows [][]any) any {
		vs := col0(rows)
		if len(vs) == 0 {
			return nil
		}
		if max {
			return slices.MaxFunc(vs, cmpAny)
		}
		return slices.MinFunc(vs, cmpAny)
	}
}

func medianModel(rows [][]any) any {
	vs := col0(rows)
	if len(vs) == 0 {
		return nil
	}
	slices.SortFunc(vs, cmpAny)
	lo, hi := vs[(len(vs)-1)/2], vs[len(vs)/2]
	if f, ok := lo.(float64); ok {
		return (f + hi.(float64)) / 2
	}
	return (lo.(int64) + hi.(int64)) / 2 // Go truncates toward zero, as DataFusion
}

func floats(vals []any) []float64 {
	out := make([]float64, len(vals))
	for i, v := range vals {
		out[i] = v.(float64)
	}
	return out
}

// variance by the two-pass formula: pop divides by n, else n-1.
func varModel(pop, sqrt bool) func(rows [][]any) any {
	return func(rows [][]any) any {
		xs := floats(col0(rows))
		n := float64(len(xs))
		if len(xs) == 0 || (!pop && len(xs) < 2) {
			return nil
		}
		mean := 0.0
		for _, x := range xs {
			mean += x
		}
		mean /= n
		ss := 0.0
		for _, x := range xs {
			ss += (x - mean) * (x - mean)
		}
		d := n
		if !pop {
			d = n - 1
		}
		if sqrt {
			return math.Sqrt(ss / d)
		}
		return ss / d
	}
}

// pairStats are the two-pass moments of the (y, x) rows with neither NULL.
type pairStats struct{ n, mx, my, sxx, syy, sxy float64 }

func pairsOf(rows [][]any) pairStats {
	var ys, xs []float64
	for _, row := range rows {
		if row[0] != nil && row[1] != nil {
			ys, xs = append(ys, row[0].(float64)), append(xs, row[1].(float64))
		}
	}
	var s pairStats
	s.n = float64(len(xs))
	for i := range xs {
		s.mx += xs[i] / s.n
		s.my += ys[i] / s.n
	}
	for i := range xs {
		dx, dy := xs[i]-s.mx, ys[i]-s.my
		s.sxx += dx * dx
		s.syy += dy * dy
		s.sxy += dx * dy
	}
	return s
}

func pairModel(f func(s pairStats) any) func(rows [][]any) any {
	return func(rows [][]any) any { return f(pairsOf(rows)) }
}

func libCases() []libCase {
	i64, f64, str := []types.Type{tI64}, []types.Type{tF64}, []types.Type{tStr}
	var cs []libCase
	// Retracting min and max over the types min and max take.
	for _, max := range []bool{false, true} {
		name := map[bool]string{false: "min", true: "max"}[max]
		cs = append(cs,
			libCase{name: name, args: i64, retracting: true, gen: genInt(-50, 50), model: best(max)},
			libCase{name: name, args: f64, retracting: true, gen: genFloat(-50, 50), model: best(max)},
			libCase{name: name, args: str, retracting: true, gen: genText, model: best(max)},
			libCase{name: name, args: []types.Type{types.TimestampT}, retracting: true, gen: genInt(0, 1e12), model: best(max)},
		)
	}
	cs = append(cs,
		libCase{name: "median", args: i64, retracting: true, gen: genInt(-1000, 1000), model: medianModel},
		libCase{name: "median", args: f64, retracting: true, gen: genFloat(-1000, 1000), model: medianModel},
		libCase{name: "median", args: []types.Type{types.Int32T}, gen: func(r *rand.Rand) []any {
			return []any{sometimesNull(r, func() any { return int32(r.IntN(99) - 49) })}
		}, model: func(rows [][]any) any {
			var conv [][]any
			for _, row := range rows {
				if row[0] != nil {
					conv = append(conv, []any{int64(row[0].(int32))})
				}
			}
			if m := medianModel(conv); m != nil {
				return int32(m.(int64))
			}
			return nil
		}},
	)
	for _, v := range []struct {
		name      string
		pop, sqrt bool
	}{{"var", false, false}, {"var_samp", false, false}, {"variance", false, false}, {"var_pop", true, false},
		{"stddev", false, true}, {"stddev_samp", false, true}, {"stddev_pop", true, true}} {
		cs = append(cs, libCase{name: v.name, args: i64, retracting: true, gen: genFloat(-1000, 1000), model: varModel(v.pop, v.sqrt), tol: 1e-9})
	}
	two := []types.Type{tF64, tI64}
	nilIf := func(cond bool, v float64) any {
		if cond {
			return nil
		}
		return v
	}
	for _, p := range []struct {
		name string
		f    func(s pairStats) any
	}{
		{"covar_samp", func(s pairStats) any { return nilIf(s.n < 2, s.sxy/(s.n-1)) }},
		{"covar", func(s pairStats) any { return nilIf(s.n < 2, s.sxy/(s.n-1)) }},
		{"covar_pop", func(s pairStats) any { return nilIf(s.n < 1, s.sxy/s.n) }},
		{"corr", func(s pairStats) any {
			if s.n >= 2 && (s.sxx == 0 || s.syy == 0) {
				return 0.0
			}
			return nilIf(s.n < 2, s.sxy/math.Sqrt(s.sxx*s.syy))
		}},
		{"regr_slope", func(s pairStats) any { return nilIf(s.n < 2 || s.sxx == 0, s.sxy/s.sxx) }},
		{"regr_intercept", func(s pairStats) any { return nilIf(s.n < 2 || s.sxx == 0, s.my-s.sxy/s.sxx*s.mx) }},
		{"regr_count", func(s pairStats) any { return uint64(s.n) }},
		{"regr_r2", func(s pairStats) any {
			return nilIf(s.n < 2 || s.sxx == 0 || s.syy == 0, s.sxy*s.sxy/(s.sxx*s.syy))
		}},
		{"regr_avgx", func(s pairStats) any { return nilIf(s.n < 1, s.mx) }},
		{"regr_avgy", func(s pairStats) any { return nilIf(s.n < 1, s.my) }},
		{"regr_sxx", func(s pairStats) any { return nilIf(s.n < 1, s.sxx) }},
		{"regr_syy", func(s pairStats) any { return nilIf(s.n < 1, s.syy) }},
		{"regr_sxy", func(s pairStats) any { return nilIf(s.n < 1, s.sxy) }},
	} {
		cs = append(cs, libCase{name: p.name, args: two, retracting: true, gen: genPair, model: pairModel(p.f), tol: 1e-9})
	}
	bitModel := func(op bitOp) func(rows [][]any) any {
		return func(rows [][]any) any {
			vs := col0(rows)
			if len(vs) == 0 {
				return nil
			}
			acc := vs[0].(int64)
			for _, v := range vs[1:] {
				switch op {
				case bitAnd:
					acc &= v.(int64)
				case bitOr:
					acc |= v.(int64)
				default:
					acc ^= v.(int64)
				}
			}
			return acc
		}
	}
	bitsGen := func(r *rand.Rand) []any {
		return []any{sometimesNull(r, func() any { return int64(r.Uint64() | r.Uint64()) })}
	}
	for _, b := range []struct {
		name string
		op   bitOp
	}{{"bit_and", bitAnd}, {"bit_or", bitOr}, {"bit_xor", bitXor}} {
		cs = append(cs,
			libCase{name: b.name, args: i64, gen: bitsGen, model: bitModel(b.op)},
			libCase{name: b.name, args: i64, retracting: true, gen: bitsGen, model: bitModel(b.op)},
		)
	}
	cs = append(cs, libCase{name: "bit_or", args: []types.Type{types.Int16T}, retracting: true,
		gen: func(r *rand.Rand) []any { return []any{sometimesNull(r, func() any { return int16(1 << r.IntN(16)) })} },
		model: func(rows [][]any) any {
			vs := col0(rows)
			if len(vs) == 0 {
				return nil
			}
			var acc int16
			for _, v := range vs {
				acc |= v.(int16)
			}
			return acc
		}})
	boolModel := func(and bool) func(rows [][]any) any {
		return func(rows [][]any) any {
			vs := col0(rows)
			if len(vs) == 0 {
				return nil
			}
			for _, v := range vs {
				if v.(bool) != and {
					return !and
				}
			}
			return and
		}
	}
	cs = append(cs, libCase{name: "sum", args: []types.Type{types.UInt32T}, retracting: true,
		gen: func(r *rand.Rand) []any { return []any{sometimesNull(r, func() any { return uint64(r.Uint32()) })} },
		model: func(rows [][]any) any {
			vs := col0(rows)
			if len(vs) == 0 {
				return nil
			}
			var s uint64
			for _, v := range vs {
				s += v.(uint64)
			}
			return s
		}})
	cs = append(cs,
		libCase{name: "bool_and", args: []types.Type{types.BoolT}, retracting: true, gen: genBool, model: boolModel(true)},
		libCase{name: "bool_or", args: []types.Type{types.BoolT}, retracting: true,
			gen: func(r *rand.Rand) []any { return []any{sometimesNull(r, func() any { return r.IntN(40) == 0 })} }, model: boolModel(false)},
	)
	firstLast := func(last bool) func(rows [][]any) any {
		return func(rows [][]any) any {
			if len(rows) == 0 {
				return nil
			}
			if last {
				return rows[len(rows)-1][0]
			}
			return rows[0][0]
		}
	}
	arrayModel := func(rows [][]any) any {
		if len(rows) == 0 {
			return nil
		}
		out := []any{}
		for _, row := range rows {
			out = append(out, row[0])
		}
		return out
	}
	for _, args := range [][]types.Type{i64, str} {
		gen := genInt(-5, 5)
		if args[0].Kind == types.String {
			gen = genText
		}
		cs = append(cs,
			libCase{name: "first_value", args: args, gen: gen, model: firstLast(false), ordered: true},
			libCase{name: "last_value", args: args, gen: gen, model: firstLast(true), ordered: true},
			libCase{name: "array_agg", args: args, gen: gen, model: arrayModel, ordered: true},
		)
	}
	// DISTINCT.
	countDistinct := func(rows [][]any) any { return int64(len(distinctVals(col0(rows)))) }
	sumDistinct := func(rows [][]any) any {
		vs := distinctVals(col0(rows))
		if len(vs) == 0 {
			return nil
		}
		s := int64(0)
		for _, v := range vs {
			s += v.(int64)
		}
		return s
	}
	cs = append(cs,
		libCase{name: "count", args: i64, distinct: true, gen: genInt(0, 30), model: countDistinct},
		libCase{name: "count", args: str, distinct: true, gen: genText, model: countDistinct},
		libCase{name: "sum", args: i64, distinct: true, gen: genInt(-30, 30), model: sumDistinct},
		libCase{name: "sum", args: i64, distinct: true, retracting: true, gen: genInt(-30, 30), model: sumDistinct},
		libCase{name: "count", args: str, distinct: true, retracting: true, gen: genText, model: countDistinct},
		libCase{name: "max", args: i64, distinct: true, retracting: true, gen: genInt(-30, 30), model: best(true)},
		libCase{name: "array_agg", args: i64, distinct: true, gen: genInt(0, 6), ordered: true, model: func(rows [][]any) any {
			if len(rows) == 0 {
				return nil
			}
			var vs []any
			for _, row := range rows {
				vs = append(vs, row[0])
			}
			return distinctVals(vs)
		}},
	)
	// Approximate aggregates are exact on groups this small.
	cs = append(cs,
		libCase{name: "approx_distinct", args: i64, gen: genInt(0, 100), model: func(rows [][]any) any { return uint64(len(distinctVals(col0(rows)))) }},
		libCase{name: "approx_distinct", args: str, gen: genText, model: func(rows [][]any) any { return uint64(len(distinctVals(col0(rows)))) }},
	)
	for _, p := range []float64{0, 0.25, 0.5, 0.9, 1} {
		cs = append(cs, libCase{name: "approx_percentile_cont", args: []types.Type{tF64, tF64}, consts: []any{nil, p},
			gen:   func(r *rand.Rand) []any { return append(genFloat(-1000, 1000)(r), 0.0) },
			model: func(rows [][]any) any { return percentileCont(floats(col0(rows)), p) }, tol: 1e-12})
	}
	cs = append(cs, libCase{name: "approx_median", args: i64, gen: genFloat(-1000, 1000),
		model: func(rows [][]any) any {
			if m := percentileCont(floats(col0(rows)), 0.5); m != nil {
				return int64(m.(float64))
			}
			return nil
		}})
	return append(cs, decimalLibCases()...)
}

// percentileCont is the exact continuous percentile.
func percentileCont(xs []float64, p float64) any {
	if len(xs) == 0 {
		return nil
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	r := p * float64(len(xs)-1)
	lo := int(math.Floor(r))
	if lo == len(xs)-1 {
		return xs[lo]
	}
	return xs[lo] + (xs[lo+1]-xs[lo])*(r-float64(lo))
}

// TestAggregateLibraryValues: hand-computed results.
func TestAggregateLibraryValues(t *testing.T) {
	for _, c := range []struct {
		name   string
		args   []types.Type
		consts []any
		rows   [][]any // one group
		want   any
	}{
		{"median", []types.Type{tI64}, nil, [][]any{{1}, {2}, {3}, {4}}, int64(2)},
		{"median", []types.Type{tI64}, nil, [][]any{{-1}, {-2}}, int64(-1)},
		{"median", []types.Type{tI64}, nil, [][]any{{math.MaxInt64}, {math.MaxInt64 - 2}}, int64(math.MaxInt64 - 1)},
		{"median", []types.Type{tF64}, nil, [][]any{{1.0}, {2.0}, {3.0}, {4.0}}, 2.5},
		{"median", []types.Type{tF64}, nil, [][]any{{nil}, {5.0}, {nil}}, 5.0},
		{"median", []types.Type{types.UInt64T}, nil, [][]any{{uint64(math.MaxUint64)}, {uint64(math.MaxUint64 - 2)}}, uint64(math.MaxUint64 - 1)},
		// Sample variance of 1e9+{4, 7, 13, 16}: mean 1e9+10, squares
		// 36+9+9+36 = 90, / 3.
		{"var_samp", []types.Type{tF64}, nil, [][]any{{1e9 + 4}, {1e9 + 7}, {1e9 + 13}, {1e9 + 16}}, 30.0},
		{"var_pop", []types.Type{tF64}, nil, [][]any{{1e9 + 4}, {1e9 + 7}, {1e9 + 13}, {1e9 + 16}}, 22.5},
		{"stddev_pop", []types.Type{tF64}, nil, [][]any{{2.0}, {4.0}, {4.0}, {4.0}, {5.0}, {5.0}, {7.0}, {9.0}}, 2.0},
		{"var_samp", []types.Type{tF64}, nil, [][]any{{3.0}}, nil},
		{"stddev", []types.Type{tF64}, nil, [][]any{{1.0}, {3.0}}, math.Sqrt2},
		{"var_pop", []types.Type{tF64}, nil, [][]any{{1.0}, {3.0}}, 1.0},
		{"var_pop", []types.Type{tF64}, nil, [][]any{{3.0}}, 0.0},
		{"stddev", []types.Type{tF64}, nil, [][]any{{nil}}, nil},
		// y = 2x + 1 exactly.
		{"regr_slope", []types.Type{tF64, tF64}, nil, [][]any{{3.0, 1.0}, {5.0, 2.0}, {9.0, 4.0}, {nil, 7.0}}, 2.0},
		{"regr_intercept", []types.Type{tF64, tF64}, nil, [][]any{{3.0, 1.0}, {5.0, 2.0}, {9.0, 4.0}, {8.0, nil}}, 1.0},
		{"regr_r2", []types.Type{tF64, tF64}, nil, [][]any{{3.0, 1.0}, {5.0, 2.0}, {9.0, 4.0}}, 1.0},
		{"corr", []types.Type{tF64, tF64}, nil, [][]any{{3.0, 1.0}, {5.0, 2.0}, {9.0, 4.0}}, 1.0},
		{"corr", []types.Type{tF64, tF64}, nil, [][]any{{3.0, 1.0}, {3.0, 2.0}}, 0.0},
		{"regr_count", []types.Type{tF64, tF64}, nil, [][]any{{3.0, 1.0}, {nil, 2.0}, {9.0, nil}}, uint64(1)},
		{"regr_count", []types.Type{tF64, tF64}, nil, nil, uint64(0)},
		// x = 1, 2, 4: mean 7/3, sxx = (16+1+25)/9 = 42/9.
		{"regr_sxx", []types.Type{tF64, tF64}, nil, [][]any{{3.0, 1.0}, {5.0, 2.0}, {9.0, 4.0}}, 42.0 / 9},
		{"regr_avgy", []types.Type{tF64, tF64}, nil, [][]any{{3.0, 1.0}, {5.0, 2.0}, {9.0, 4.0}}, 17.0 / 3},
		{"covar_pop", []types.Type{tF64, tF64}, nil, [][]any{{1.0, 1.0}, {3.0, 3.0}}, 1.0},
		{"covar_samp", []types.Type{tF64, tF64}, nil, [][]any{{1.0, 1.0}, {3.0, 3.0}}, 2.0},
		{"regr_slope", []types.Type{tF64, tF64}, nil, [][]any{{1.0, 2.0}, {3.0, 2.0}}, nil},
		{"bit_and", []types.Type{types.Int32T}, nil, [][]any{{int32(12)}, {int32(10)}, {nil}}, int32(8)},
		{"bit_or", []types.Type{types.UInt8T}, nil, [][]any{{uint8(1)}, {uint8(4)}}, uint8(5)},
		{"bit_xor", []types.Type{tI64}, nil, [][]any{{int64(6)}, {int64(3)}}, int64(5)},
		{"bit_xor", []types.Type{tI64}, nil, [][]any{{nil}}, nil},
		{"bool_and", []types.Type{types.BoolT}, nil, [][]any{{true}, {nil}, {false}}, false},
		{"bool_and", []types.Type{types.BoolT}, nil, [][]any{{true}, {nil}}, true},
		{"bool_or", []types.Type{types.BoolT}, nil, [][]any{{false}, {nil}}, false},
		{"bool_or", []types.Type{types.BoolT}, nil, [][]any{{nil}}, nil},
		{"first_value", []types.Type{tStr}, nil, [][]any{{nil}, {"b"}}, nil},
		{"last_value", []types.Type{tStr}, nil, [][]any{{nil}, {"b"}}, "b"},
		{"array_agg", []types.Type{tI64}, nil, [][]any{{int64(3)}, {nil}, {int64(1)}}, []any{int64(3), nil, int64(1)}},
		{"array_agg", []types.Type{types.ListOf(tI64)}, nil, [][]any{{[]any{int64(1), nil}}, {nil}, {[]any{}}}, []any{[]any{int64(1), nil}, nil, []any(nil)}},
		{"approx_percentile_cont", []types.Type{tI64, tF64}, []any{nil, 0.5}, [][]any{{1.0}, {2.0}, {4.0}, {8.0}}, int64(3)},
		{"approx_percentile_cont", []types.Type{tF64, tF64}, []any{nil, 0.75}, [][]any{{1.0}, {2.0}, {4.0}, {8.0}}, 5.0},
		{"approx_percentile_cont", []types.Type{tF64, tF64, tI64}, []any{nil, int64(1), int64(50)}, [][]any{{1.0}, {math.NaN()}, {8.0}}, 8.0},
		{"approx_median", []types.Type{tF64}, nil, [][]any{{1.0}, {2.0}, {4.0}, {8.0}}, 3.0},
		{"approx_median", []types.Type{tF64}, nil, [][]any{{nil}}, nil},
		{"approx_distinct", []types.Type{tStr}, nil, [][]any{{"a"}, {"b"}, {"a"}, {nil}}, uint64(2)},
		{"approx_distinct", []types.Type{tStr}, nil, nil, uint64(0)},
		{"avg", []types.Type{tI64}, nil, [][]any{{1 << 52}, {1<<52 + 1}}, float64(1<<52) + 0.5},
		{"sum", []types.Type{types.Int32T}, nil, [][]any{{math.MaxInt32}, {math.MaxInt32}}, int64(2 * math.MaxInt32)},
		{"sum", []types.Type{types.UInt64T}, nil, [][]any{{uint64(math.MaxUint64 - 1)}, {uint64(1)}, {nil}}, uint64(math.MaxUint64)},
	} {
		a, _ := Builtins().LookupAggregate(c.name)
		ra, err := a.ResolveWith(c.args, c.consts)
		if err != nil {
			t.Errorf("%s%s: %v", c.name, typeList(c.args), err)
			continue
		}
		acc := ra.New()
		if len(c.rows) > 0 {
			cols := make([]coldata.Vector, len(ra.Args))
			for j, at := range ra.Args {
				cols[j] = coldata.New(at, len(c.rows))
				for _, row := range c.rows {
					if j < len(row) {
						appendLib(cols[j], row[j])
					} else {
						appendLib(cols[j], c.consts[j]) // a constant argument's column
					}
				}
			}
			if err := acc.Update(make([]uint32, len(c.rows)), cols, len(c.rows), nil); err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
		}
		res, err := acc.Result([]uint32{0})
		if err != nil {
			t.Fatal(err)
		}
		want := c.want
		if want != nil {
			want = normalizeLib(ra.Result, []any{want})[0]
		}
		if got := coldata.Value(res, 0); !closeEnough(got, want, 1e-12) {
			t.Errorf("%s%s over %v: got %v, want %v", c.name, typeList(c.args), c.rows, got, want)
		}
	}
}

// appendLib is appendGo with lists ([]any of elements).
func appendLib(v coldata.Vector, x any) {
	if f, ok := v.(*coldata.Vec[float64]); ok {
		if i, ok := x.(int64); ok {
			f.Append(float64(i))
			return
		}
	}
	l, ok := v.(*coldata.List)
	if !ok || x == nil {
		appendGo(v, x)
		return
	}
	for _, e := range x.([]any) {
		appendLib(l.Elems, e)
	}
	l.CloseRow()
}

// normalizeLib is normalize, leaving lists (whose models give values of
// the right Go types) alone.
func normalizeLib(t types.Type, want []any) []any {
	if t.Kind == types.List {
		return want
	}
	return normalize(t, want)
}

func TestAggregateLibraryResolve(t *testing.T) {
	for _, c := range []struct {
		name   string
		args   []types.Type
		consts []any
		want   string // argument types asked for -> result, or the error
	}{
		{"median", []types.Type{types.Int32T}, nil, "(INT) -> INT"},
		{"median", []types.Type{tStr}, nil, "median expects a number, got TEXT"},
		{"var", []types.Type{types.Int32T}, nil, "(DOUBLE) -> DOUBLE"},
		{"stddev_pop", []types.Type{tI64, tI64}, nil, "stddev_pop takes 1 argument, got 2"},
		{"corr", []types.Type{tI64, types.Float32T}, nil, "(DOUBLE, DOUBLE) -> DOUBLE"},
		{"corr", []types.Type{tI64}, nil, "corr takes 2 arguments, got 1"},
		{"covar", []types.Type{tStr, tI64}, nil, "covar expects numbers, got (TEXT, BIGINT)"},
		{"regr_count", []types.Type{tF64, tF64}, nil, "(DOUBLE, DOUBLE) -> BIGINT UNSIGNED"},
		{"bit_and", []types.Type{types.UInt16T}, nil, "(SMALLINT UNSIGNED) -> SMALLINT UNSIGNED"},
		{"bit_xor", []types.Type{tF64}, nil, "bit_xor expects an integer, got DOUBLE"},
		{"bool_or", []types.Type{tI64}, nil, "bool_or expects BOOLEAN, got BIGINT"},
		{"first_value", []types.Type{types.TimestampT}, nil, "(TIMESTAMP) -> TIMESTAMP"},
		{"array_agg", []types.Type{tStr}, nil, "(TEXT) -> TEXT[]"},
		{"array_agg", nil, nil, "array_agg takes 1 argument, got 0"},
		{"approx_distinct", []types.Type{tStr}, nil, "(TEXT) -> BIGINT UNSIGNED"},
		{"approx_median", []types.Type{types.Int32T}, nil, "(DOUBLE) -> INT"},
		{"approx_median", []types.Type{tStr}, nil, "approx_median expects a number, got TEXT"},
		{"approx_percentile_cont", []types.Type{tI64, tF64}, []any{nil, 0.9}, "(DOUBLE, DOUBLE) -> BIGINT"},
		{"approx_percentile_cont", []types.Type{tF64, tI64}, []any{nil, int64(1)}, "(DOUBLE, DOUBLE) -> DOUBLE"},
		{"approx_percentile_cont", []types.Type{tF64, tF64, tI64}, []any{nil, 0.5, int64(200)}, "(DOUBLE, DOUBLE, BIGINT) -> DOUBLE"},
		{"approx_percentile_cont", []types.Type{tF64, tF64}, []any{nil, nil}, "approx_percentile_cont: the percentile must be a constant"},
		{"approx_percentile_cont", []types.Type{tF64, tF64}, nil, "approx_percentile_cont: the percentile must be a constant"},
		{"approx_percentile_cont", []types.Type{tF64, tF64}, []any{nil, 1.5}, "approx_percentile_cont: the percentile must be between 0 and 1, got 1.5"},
		{"approx_percentile_cont", []types.Type{tF64, tF64}, []any{nil, math.NaN()}, "approx_percentile_cont: the percentile must be between 0 and 1, got NaN"},
		{"approx_percentile_cont", []types.Type{tF64, tStr}, []any{nil, "x"}, "approx_percentile_cont: the percentile must be a number, got TEXT"},
		{"approx_percentile_cont", []types.Type{tF64, tF64, tI64}, []any{nil, 0.5, int64(0)}, "approx_percentile_cont: the number of centroids must be a constant integer between 1 and 10000"},
		{"approx_percentile_cont", []types.Type{tF64}, []any{nil}, "approx_percentile_cont takes 2 or 3 arguments (x, percentile[, centroids]), got 1"},
		{"approx_percentile_cont", []types.Type{tF64, tF64}, []any{nil}, "approx_percentile_cont: 1 constants for 2 arguments"},
	} {
		a, ok := Builtins().LookupAggregate(c.name)
		if !ok {
			t.Fatalf("no %s", c.name)
		}
		r, err := a.ResolveWith(c.args, c.consts)
		got := fmt.Sprint(err)
		if err == nil {
			got = typeList(r.Args) + " -> " + r.Result.String()
		}
		if got != c.want {
			t.Errorf("%s%s: %s, want %s", c.name, typeList(c.args), got, c.want)
		}
	}
	// Resolve without constants cannot build a percentile.
	a, _ := Builtins().LookupAggregate("approx_percentile_cont")
	if _, err := a.Resolve([]types.Type{tF64, tF64}); err == nil {
		t.Errorf("approx_percentile_cont resolved without its constant")
	}
}

// TestAggregateRetracting: which aggregates retract, and through which
// constructor.
func TestAggregateRetracting(t *testing.T) {
	for _, c := range []struct {
		name string
		args []types.Type
		// new: New's accumulators retract; retracting: Retracting() is
		// not nil.
		new, retracting bool
	}{
		{"min", []types.Type{tI64}, false, true},
		{"max", []types.Type{tStr}, false, true},
		{"median", []types.Type{tF64}, true, true},
		{"var", []types.Type{tF64}, true, true},
		{"corr", []types.Type{tF64, tF64}, true, true},
		{"bit_xor", []types.Type{tI64}, true, true},
		{"bit_and", []types.Type{tI64}, false, true},
		{"bool_and", []types.Type{types.BoolT}, true, true},
		{"array_agg", []types.Type{tI64}, true, true},
		{"first_value", []types.Type{tI64}, false, false},
		{"last_value", []types.Type{tI64}, false, false},
		{"approx_distinct", []types.Type{tI64}, false, false},
		{"approx_median", []types.Type{tI64}, false, false},
	} {
		a, _ := Builtins().LookupAggregate(c.name)
		ra, err := a.Resolve(c.args)
		if err != nil {
			t.Fatal(err)
		}
		for _, distinct := range []bool{false, true} {
			r := ra
			if distinct {
				if r, err = Distinct(ra); err != nil {
					t.Fatal(err)
				}
			}
			_, isNew := r.New().(Retracter)
			mk := r.Retracting()
			if isNew != c.new || (mk != nil) != c.retracting {
				t.Errorf("%s (distinct %v): New retracts %v, Retracting %v; want %v, %v", c.name, distinct, isNew, mk != nil, c.new, c.retracting)
			}
			if mk != nil {
				if _, ok := mk().(Retracter); !ok {
					t.Errorf("%s: Retracting() builds a %T", c.name, mk())
				}
			}
		}
	}
	if _, err := Distinct(&ResolvedAggregate{Result: tI64, New: func() Accumulator { return &countAcc{star: true} }}); err == nil {
		t.Errorf("DISTINCT of count(*) accepted")
	}
}

// update1 feeds one column of values into slot 0.
func update1(t *testing.T, acc Accumulator, typ types.Type, retract bool, vals ...any) error {
	t.Helper()
	v := vec(typ, vals...)
	apply := acc.Update
	if retract {
		apply = acc.(Retracter).Retract
	}
	return apply(make([]uint32, len(vals)), []coldata.Vector{v}, len(vals), nil)
}

func result0(t *testing.T, acc Accumulator) any {
	t.Helper()
	res, err := acc.Result([]uint32{0})
	if err != nil {
		t.Fatal(err)
	}
	return coldata.Value(res, 0)
}

// TestMinMaxRetract: retracting the current minimum finds the next one,
// down to an empty group; duplicates count.
func TestMinMaxRetract(t *testing.T) {
	for _, typ := range []types.Type{tI64, tF64, tStr} {
		a, _ := Builtins().LookupAggregate("min")
		ra, _ := a.Resolve([]types.Type{typ})
		acc := ra.Retracting()()
		conv := func(x int) any {
			switch typ.Kind {
			case types.String:
				return fmt.Sprintf("v%02d", x)
			case types.Float64:
				return float64(x)
			}
			return int64(x)
		}
		step := func(retract bool, x int, want any) {
			t.Helper()
			if err := update1(t, acc, typ, retract, conv(x)); err != nil {
				t.Fatal(err)
			}
			if want != nil {
				want = conv(want.(int))
			}
			if got := result0(t, acc); !equalValue(got, want) {
				t.Fatalf("%s: after %v %d: min %v, want %v", typ, map[bool]string{false: "update", true: "retract"}[retract], x, got, want)
			}
		}
		step(false, 5, 5)
		step(false, 3, 3)
		step(false, 7, 3)
		step(false, 3, 3)
		step(true, 3, 3) // one 3 is left
		step(true, 3, 5)
		step(true, 5, 7)
		step(false, 9, 7)
		step(true, 7, 9)
		step(true, 9, nil)
		step(false, 4, 4)
		if err := update1(t, acc, typ, true, conv(8)); err == nil || !errContains(err, "retract of a value the group does not hold") {
			t.Errorf("%s: retract of a missing value: %v", typ, err)
		}
	}
}

func TestSumUnsignedOverflow(t *testing.T) {
	a, _ := Builtins().LookupAggregate("sum")
	ra, _ := a.Resolve([]types.Type{types.UInt64T})
	acc := ra.New()
	if err := update1(t, acc, types.UInt64T, false, uint64(math.MaxUint64), uint64(1)); !errors.Is(err, ErrOverflow) || err.Error() != "sum(BIGINT UNSIGNED): integer overflow" {
		t.Errorf("overflow: %v", err)
	}
}

func TestAggregateRetractErrors(t *testing.T) {
	for _, c := range []struct {
		name     string
		typ      types.Type
		distinct bool
		in, out  []any
		want     string
	}{
		{"median", tI64, false, []any{int64(1)}, []any{int64(2)}, "median: retract of a value the group does not hold"},
		{"count", tI64, true, []any{int64(1)}, []any{int64(2)}, "DISTINCT: retract of a value the group does not hold"},
		{"array_agg", tI64, false, []any{int64(1)}, []any{int64(2)}, "array_agg: retract of a value the group does not hold"},
		{"var", tF64, false, nil, []any{1.0}, "var: retract from a group with no rows"},
		{"bool_or", types.BoolT, false, []any{false}, []any{true}, "bool_or: retract of a value the group does not hold"},
		{"bit_and", tI64, false, nil, []any{int64(1)}, "bit_and: retract from a group with no rows"},
		{"bit_xor", tI64, false, nil, []any{int64(1)}, "bit_xor: retract from a group with no rows"},
	} {
		a, _ := Builtins().LookupAggregate(c.name)
		ra, err := a.Resolve([]types.Type{c.typ})
		if err != nil {
			t.Fatal(err)
		}
		if c.distinct {
			ra, _ = Distinct(ra)
		}
		acc := ra.Retracting()()
		if len(c.in) > 0 {
			if err := update1(t, acc, ra.Args[0], false, c.in...); err != nil {
				t.Fatal(err)
			}
		}
		if err := update1(t, acc, ra.Args[0], true, c.out...); !errContains(err, c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestAggregateSnapshotCorrupt: every strict prefix of a snapshot, and a
// snapshot of another aggregate, fail to restore with ErrSnapshot.
func TestAggregateSnapshotCorrupt(t *testing.T) {
	count := aggCase{name: "count"}.resolve(t).New()
	countSnap := count.AppendSnapshot(nil, 0)
	for _, c := range libCases() {
		r := rand.New(rand.NewPCG(5, 6))
		ra, mk := c.resolve(t)
		acc := mk()
		var rs libRows
		for range 40 {
			rs.add(c.gen(r), 0)
		}
		feedLib(t, r, c, ra, acc, rs, id, false)
		snap := acc.AppendSnapshot(nil, 0)
		for n := range len(snap) {
			if err := mk().Restore(0, snap[:n]); !errors.Is(err, ErrSnapshot) {
				t.Errorf("%s: restore of %d of %d bytes: %v", c, n, len(snap), err)
				break
			}
		}
		if err := mk().Restore(0, append(slices.Clip(snap), 0)); !errors.Is(err, ErrSnapshot) {
			t.Errorf("%s: restore with a trailing byte: %v", c, err)
		}
		if err := mk().Restore(0, countSnap); !errors.Is(err, ErrSnapshot) {
			t.Errorf("%s: restore of count's snapshot: %v", c, err)
		}
		if err := mk().Merge([]uint32{0}, count, []uint32{0}); err == nil {
			t.Errorf("%s: merge with count accepted", c)
		}
	}
}

// TestApproxDistinctLarge: past the exact range the sketch stays within a
// few percent, merged partials and restored snapshots give the same
// estimate as one accumulator, and duplicates do not count.
func TestApproxDistinctLarge(t *testing.T) {
	a, _ := Builtins().LookupAggregate("approx_distinct")
	ra, _ := a.Resolve([]types.Type{tI64})
	const n = 100000
	whole, p1, p2 := ra.New(), ra.New(), ra.New()
	v := &coldata.Vec[int64]{T: tI64}
	for i := range n {
		v.Append(int64(i) * 7919)
	}
	slots := make([]uint32, n)
	for _, acc := range []Accumulator{whole, whole} { // twice: duplicates
		if err := acc.Update(slots, []coldata.Vector{v}, n, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Halves overlapping by 20%.
	if err := p1.Update(slots, []coldata.Vector{v}, n*6/10, nil); err != nil {
		t.Fatal(err)
	}
	sel := make([]int32, 0, n)
	for i := n * 4 / 10; i < n; i++ {
		sel = append(sel, int32(i))
	}
	if err := p2.Update(slots, []coldata.Vector{v}, n, sel); err != nil {
		t.Fatal(err)
	}
	// A small partial (still exact) merged into a big one and back.
	small := ra.New()
	if err := small.Update(slots[:10], []coldata.Vector{v}, 10, nil); err != nil {
		t.Fatal(err)
	}
	if err := p1.Merge([]uint32{0}, p2, []uint32{0}); err != nil {
		t.Fatal(err)
	}
	if err := small.Merge([]uint32{0}, p1, []uint32{0}); err != nil {
		t.Fatal(err)
	}
	est := result0(t, whole).(uint64)
	if math.Abs(float64(est)-n)/n > 0.04 {
		t.Errorf("estimate %d of %d distinct values", est, n)
	}
	if got := result0(t, small); got != est {
		t.Errorf("merged partials estimate %v, one accumulator %d", got, est)
	}
	restored := ra.New()
	if err := restored.Restore(3, whole.AppendSnapshot(nil, 0)); err != nil {
		t.Fatal(err)
	}
	if res, _ := restored.Result([]uint32{3}); coldata.Value(res, 0) != est {
		t.Errorf("restored estimate %v, want %d", coldata.Value(res, 0), est)
	}
}

// TestApproxPercentileLarge: on 200K values the t-digest keeps a bounded
// number of centroids and its percentiles are close, also when built from
// merged partials.
func TestApproxPercentileLarge(t *testing.T) {
	a, _ := Builtins().LookupAggregate("approx_percentile_cont")
	const n = 200000
	r := rand.New(rand.NewPCG(9, 9))
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = r.NormFloat64()*10 + 100
	}
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	for _, p := range []float64{0.01, 0.25, 0.5, 0.99, 0.999} {
		ra, err := a.ResolveWith([]types.Type{tF64, tF64}, []any{nil, p})
		if err != nil {
			t.Fatal(err)
		}
		whole, merged := ra.New(), ra.New()
		parts := []Accumulator{ra.New(), ra.New(), ra.New()}
		pv := vec(tF64)
		for range n {
			pv.(*coldata.Vec[float64]).Append(p)
		}
		for from := 0; from < n; from += 4096 {
			to := min(n, from+4096)
			cols := []coldata.Vector{&coldata.Vec[float64]{T: tF64, Vals: xs[from:to]}, pv}
			cols[1] = &coldata.Vec[float64]{T: tF64, Vals: pv.(*coldata.Vec[float64]).Vals[from:to]}
			slots := make([]uint32, to-from)
			if err := whole.Update(slots, cols, to-from, nil); err != nil {
				t.Fatal(err)
			}
			if err := parts[(from/4096)%3].Update(slots, cols, to-from, nil); err != nil {
				t.Fatal(err)
			}
		}
		for _, part := range parts {
			if err := merged.Merge([]uint32{0}, part, []uint32{0}); err != nil {
				t.Fatal(err)
			}
		}
		want := percentileCont(sorted, p).(float64)
		for name, acc := range map[string]Accumulator{"one": whole, "merged": merged} {
			d := acc.(*digestAcc).ds[0]
			if len(d.cs) > 6*defaultCompression+1 {
				t.Errorf("p%v %s: %d centroids kept", p, name, len(d.cs))
			}
			got := result0(t, acc).(float64)
			// Rank error: the fraction of values between got and want.
			rank := float64(sort64(sorted, got)) / n
			if math.Abs(rank-p) > 0.01*math.Max(0.1, math.Sqrt(p*(1-p))*2) {
				t.Errorf("p%v %s: %v (rank %.5f), exact %v", p, name, got, rank, want)
			}
		}
	}
}

// sort64 returns the number of sorted values below x.
func sort64(sorted []float64, x float64) int {
	i, _ := slices.BinarySearch(sorted, x)
	return i
}

// TestAggregateLibraryAllocs: updating existing groups with values they
// already hold does not allocate, for the fixed-size aggregates and the
// value-keeping ones alike.
func TestAggregateLibraryAllocs(t *testing.T) {
	for _, c := range libCases() {
		switch c.name {
		case "array_agg", "approx_percentile_cont", "approx_median":
			continue // they keep every value (up to a bound): buffers grow
		}
		r := rand.New(rand.NewPCG(1, 2))
		ra, mk := c.resolve(t)
		acc := mk()
		var rs libRows
		for range 1024 {
			rs.add(c.gen(r), uint32(r.IntN(16)))
		}
		cols := make([]coldata.Vector, len(ra.Args))
		for j, at := range ra.Args {
			cols[j] = coldata.New(at, len(rs.rows))
			for _, row := range rs.rows {
				appendLib(cols[j], row[j])
			}
		}
		if err := acc.Update(rs.groups, cols, len(rs.groups), nil); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(10, func() { _ = acc.Update(rs.groups, cols, len(rs.groups), nil) }); n != 0 {
			t.Errorf("%s: %v allocations per Update", c, n)
		}
	}
}

// BenchmarkAggregateUpdate1M: Update of 1M rows (batches of 1024) into 1K
// groups, for the aggregates every query uses, append-only and (for
// min/max) retracting.
func BenchmarkAggregateUpdate1M(b *testing.B) {
	const rows, batch, groups = 1 << 20, 1024, 1000
	r := rand.New(rand.NewPCG(3, 4))
	i64 := &coldata.Vec[int64]{T: tI64}
	f64 := &coldata.Vec[float64]{T: tF64}
	slots := make([]uint32, rows)
	for i := range rows {
		x := r.Int64N(1 << 20)
		i64.Append(x)
		f64.Append(float64(x))
		slots[i] = uint32(r.IntN(groups))
	}
	for _, c := range []struct {
		name       string
		arg        coldata.Vector
		retracting bool
	}{
		{"count", nil, false}, {"count", i64, false}, {"sum", i64, false}, {"sum", f64, false},
		{"avg", f64, false}, {"min", i64, false}, {"max", f64, false},
		{"min", i64, true}, {"var", f64, false}, {"count_distinct", i64, false},
	} {
		label := c.name
		if c.arg != nil {
			label += "(" + c.arg.Type().String() + ")"
		}
		if c.retracting {
			label += "_retracting"
		}
		b.Run(label, func(b *testing.B) {
			name := c.name
			if name == "count_distinct" {
				name = "count"
			}
			a, _ := Builtins().LookupAggregate(name)
			var args []types.Type
			if c.arg != nil {
				args = []types.Type{c.arg.Type()}
			}
			ra, err := a.Resolve(args)
			if err != nil {
				b.Fatal(err)
			}
			if c.name == "count_distinct" {
				ra, _ = Distinct(ra)
			}
			mk := ra.New
			if c.retracting {
				mk = ra.Retracting()
			}
			acc := mk()
			// Column views of each batch, built once.
			var cols [][]coldata.Vector
			for from := 0; from < rows; from += batch {
				switch v := c.arg.(type) {
				case *coldata.Vec[int64]:
					cols = append(cols, []coldata.Vector{&coldata.Vec[int64]{T: v.T, Vals: v.Vals[from : from+batch]}})
				case *coldata.Vec[float64]:
					cols = append(cols, []coldata.Vector{&coldata.Vec[float64]{T: v.T, Vals: v.Vals[from : from+batch]}})
				default:
					cols = append(cols, nil)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				for k, from := 0, 0; from < rows; k, from = k+1, from+batch {
					if err := acc.Update(slots[from:from+batch], cols[k], batch, nil); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
		})
	}
}
