package expr

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// aggCase is an aggregate over one column (none for count(*)), with a value
// generator (nil means NULL) and a Go model of its result over a group's
// values (NULLs included, as the model must ignore them).
type aggCase struct {
	name  string
	arg   *types.Type // nil: count(*)
	gen   func(r *rand.Rand) any
	model func(vals []any) any
}

func ptr(t types.Type) *types.Type { return &t }

func nonNull(vals []any) []any {
	var out []any
	for _, v := range vals {
		if v != nil {
			out = append(out, v)
		}
	}
	return out
}

// pick returns the best non-NULL value by better (nil if none).
func pick(vals []any, better func(x, cur any) bool) any {
	var best any
	for _, v := range nonNull(vals) {
		if best == nil || better(v, best) {
			best = v
		}
	}
	return best
}

func sometimesNull(r *rand.Rand, f func() any) any {
	if r.IntN(5) == 0 {
		return nil
	}
	return f()
}

// pgLess is PostgreSQL's float order: NaN above everything.
func pgLess(a, b float64) bool { return a < b || (math.IsNaN(b) && !math.IsNaN(a)) }

func aggCases() []aggCase {
	ints := func(r *rand.Rand) any { return sometimesNull(r, func() any { return r.Int64N(2001) - 1000 }) }
	// Integer-valued doubles keep sums exact whatever the order of
	// addition (merge, retract); NaN is special-cased by min/max only.
	floats := func(r *rand.Rand) any { return sometimesNull(r, func() any { return float64(r.IntN(2001) - 1000) }) }
	floatsNaN := func(r *rand.Rand) any {
		return sometimesNull(r, func() any {
			if r.IntN(20) == 0 {
				return math.NaN()
			}
			return r.Float64()*2 - 1
		})
	}
	texts := func(r *rand.Rand) any {
		return sometimesNull(r, func() any {
			b := make([]byte, r.IntN(6))
			for i := range b {
				b[i] = byte('a' + r.IntN(26))
			}
			return string(b)
		})
	}
	i32 := func(r *rand.Rand) any { return sometimesNull(r, func() any { return int32(r.IntN(1 << 20)) }) }
	sumI := func(vals []any) any {
		vs := nonNull(vals)
		if len(vs) == 0 {
			return nil
		}
		var s int64
		for _, v := range vs {
			s += v.(int64)
		}
		return s
	}
	sumF := func(avg bool) func(vals []any) any {
		return func(vals []any) any {
			vs := nonNull(vals)
			if len(vs) == 0 {
				return nil
			}
			var s float64
			for _, v := range vs {
				s += v.(float64)
			}
			if avg {
				s /= float64(len(vs))
			}
			return s
		}
	}
	return []aggCase{
		{"count", nil, ints, func(vals []any) any { return int64(len(vals)) }},
		{"count", ptr(tStr), texts, func(vals []any) any { return int64(len(nonNull(vals))) }},
		{"sum", ptr(tI64), ints, sumI},
		{"sum", ptr(tF64), floats, sumF(false)},
		{"avg", ptr(tF64), floats, sumF(true)},
		{"min", ptr(tI64), ints, func(v []any) any { return pick(v, func(x, c any) bool { return x.(int64) < c.(int64) }) }},
		{"max", ptr(tI64), ints, func(v []any) any { return pick(v, func(x, c any) bool { return x.(int64) > c.(int64) }) }},
		{"min", ptr(types.Int32T), i32, func(v []any) any { return pick(v, func(x, c any) bool { return x.(int32) < c.(int32) }) }},
		{"max", ptr(tF64), floatsNaN, func(v []any) any { return pick(v, func(x, c any) bool { return pgLess(c.(float64), x.(float64)) }) }},
		{"min", ptr(tF64), floatsNaN, func(v []any) any { return pick(v, func(x, c any) bool { return pgLess(x.(float64), c.(float64)) }) }},
		{"min", ptr(tStr), texts, func(v []any) any { return pick(v, func(x, c any) bool { return x.(string) < c.(string) }) }},
		{"max", ptr(types.BytesT), func(r *rand.Rand) any {
			if s, ok := texts(r).(string); ok {
				return []byte(s)
			}
			return nil
		}, func(v []any) any {
			return pick(v, func(x, c any) bool { return bytes.Compare(x.([]byte), c.([]byte)) > 0 })
		}},
		{"max", ptr(types.TimestampT), ints, func(v []any) any { return pick(v, func(x, c any) bool { return x.(int64) > c.(int64) }) }},
	}
}

func (c aggCase) String() string {
	if c.arg == nil {
		return c.name + "(*)"
	}
	return fmt.Sprintf("%s(%s)", c.name, *c.arg)
}

func (c aggCase) resolve(t testing.TB) *ResolvedAggregate {
	t.Helper()
	a, ok := Builtins().LookupAggregate(c.name)
	if !ok {
		t.Fatalf("no aggregate %s", c.name)
	}
	var args []types.Type
	if c.arg != nil {
		args = []types.Type{*c.arg}
	}
	r, err := a.Resolve(args)
	if err != nil {
		t.Fatalf("resolve %s: %v", c, err)
	}
	return r
}

// aggRows is a set of input rows: a value and a group per row.
type aggRows struct {
	t      types.Type
	vals   []any
	groups []uint32
}

func (c aggCase) rows(r *rand.Rand, n, groups int) aggRows {
	t := tI64
	if c.arg != nil {
		t = *c.arg
	}
	rs := aggRows{t: t}
	for range n {
		rs.vals = append(rs.vals, c.gen(r))
		rs.groups = append(rs.groups, uint32(r.IntN(groups)))
	}
	return rs
}

// feed applies rows to acc (Update, or Retract) in random batch shapes:
// compact batches and batches whose live rows sit, selected, among garbage
// rows with garbage slots (up to MaxUint32: an accumulator that looked at
// them would fail or grow absurdly). slotOf maps a group to a slot.
func feed(t *testing.T, r *rand.Rand, c aggCase, acc Accumulator, rs aggRows, slotOf func(uint32) uint32, retract bool) {
	t.Helper()
	apply := acc.Update
	if retract {
		apply = acc.(Retracter).Retract
	}
	for from := 0; from < len(rs.vals); {
		to := min(len(rs.vals), from+1+r.IntN(300))
		vals := vec(rs.t, rs.vals[from:to]...)
		slotv := &coldata.Vec[uint32]{T: types.UInt32T}
		for _, g := range rs.groups[from:to] {
			slotv.Append(slotOf(g))
		}
		cols := []coldata.Vector{vals, slotv}
		b := &coldata.Batch{Cols: cols, Len: to - from}
		if r.IntN(2) == 0 {
			b = padded(cols, to-from, r)
		}
		args := b.Cols[:1]
		if c.arg == nil {
			args = nil
		}
		if err := apply(b.Cols[1].(*coldata.Vec[uint32]).Vals, args, b.Len, b.Sel); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		from = to
	}
}

// check compares acc's results for groups 0..groups-1 (at slotOf(g)) with
// the model over the rows of each group.
func check(t *testing.T, what string, c aggCase, r *ResolvedAggregate, acc Accumulator, rs aggRows, groups int, slotOf func(uint32) uint32) {
	t.Helper()
	byGroup := make([][]any, groups)
	for i, g := range rs.groups {
		byGroup[g] = append(byGroup[g], rs.vals[i])
	}
	slots := make([]uint32, groups)
	want := make([]any, groups)
	for g := range groups {
		slots[g] = slotOf(uint32(g))
		want[g] = c.model(byGroup[g])
	}
	res, err := acc.Result(slots)
	if err != nil {
		t.Fatalf("%s %s: Result: %v", c, what, err)
	}
	if !res.Type().Equal(r.Result) || res.Len() != groups {
		t.Fatalf("%s %s: result %s of %d rows, want %s of %d", c, what, res.Type(), res.Len(), r.Result, groups)
	}
	got := values(res, allRows(groups))
	if !equalValues(got, normalize(r.Result, want)) {
		t.Fatalf("%s %s:\n got  %v\n want %v", c, what, got, want)
	}
}

func id(g uint32) uint32 { return g }

// TestAggregates checks every built-in aggregate against its model: updates
// in random batch shapes, merge of partial accumulators, snapshot and
// restore into other slots of a new accumulator, retraction, reset, and
// empty groups.
func TestAggregates(t *testing.T) {
	for _, c := range aggCases() {
		t.Run(c.String(), func(t *testing.T) {
			seed := uint64(len(c.String()))*7919 + uint64(c.name[0])
			r := rand.New(rand.NewPCG(seed, 17))
			ra := c.resolve(t)
			const groups = 7
			for round := range 10 {
				rs := c.rows(r, r.IntN(1500), groups)
				whole := ra.New()
				feed(t, r, c, whole, rs, id, false)
				check(t, "update", c, ra, whole, rs, groups, id)
				// A group never touched, beyond the others.
				empty, _ := whole.Result([]uint32{groups + 5})
				if v := coldata.Value(empty, 0); (c.name == "count") != (v != nil) || (c.name == "count" && v != int64(0)) {
					t.Errorf("%s: empty group gives %v", c, v)
				}

				// Merge: two partials (the second at other slots) into a
				// third accumulator.
				var a, b aggRows
				a.t, b.t = rs.t, rs.t
				for i := range rs.vals {
					p := &a
					if r.IntN(2) == 0 {
						p = &b
					}
					p.vals, p.groups = append(p.vals, rs.vals[i]), append(p.groups, rs.groups[i])
				}
				shift := func(g uint32) uint32 { return g + 100 }
				pa, pb, merged := ra.New(), ra.New(), ra.New()
				feed(t, r, c, pa, a, id, false)
				feed(t, r, c, pb, b, shift, false)
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
				check(t, "merge", c, ra, merged, rs, groups, id)
				// Merge within one accumulator (hop panes): fold b's slots
				// into a's.
				if err := pb.Merge(dst, pa, srcA); err != nil {
					t.Fatal(err)
				}
				if err := pb.Merge(srcA, pb, srcB); err != nil {
					t.Fatal(err)
				}
				check(t, "self merge", c, ra, pb, rs, groups, id)

				// Snapshot each group, restore it into a permuted slot of
				// a fresh accumulator.
				perm := r.Perm(groups)
				at := func(g uint32) uint32 { return uint32(perm[g]) * 3 }
				restored := ra.New()
				var buf []byte
				for g := range uint32(groups) {
					buf = whole.AppendSnapshot(buf[:0], g)
					if err := restored.Restore(at(g), buf); err != nil {
						t.Fatalf("restore: %v", err)
					}
				}
				check(t, "restore", c, ra, restored, rs, groups, at)

				// Retract a random subset: the rest remains.
				if _, ok := whole.(Retracter); ok {
					var gone, kept aggRows
					gone.t, kept.t = rs.t, rs.t
					for i := range rs.vals {
						p := &kept
						if r.IntN(3) > 0 {
							p = &gone
						}
						p.vals, p.groups = append(p.vals, rs.vals[i]), append(p.groups, rs.groups[i])
					}
					feed(t, r, c, whole, gone, id, true)
					check(t, fmt.Sprintf("round %d retract", round), c, ra, whole, kept, groups, id)
					feed(t, r, c, whole, kept, id, true)
					check(t, "retract all", c, ra, whole, aggRows{}, groups, id)
				}

				// Reset empties a slot.
				restored.Reset(at(0))
				v, _ := restored.Result([]uint32{at(0)})
				if got := coldata.Value(v, 0); (c.name == "count" && got != int64(0)) || (c.name != "count" && got != nil) {
					t.Errorf("%s: after Reset: %v", c, got)
				}
			}
		})
	}
}

// TestAggregateRetractResidue: a float group emptied by retraction starts
// again from exactly 0, not from rounding residue.
func TestAggregateRetractResidue(t *testing.T) {
	for _, name := range []string{"sum", "avg"} {
		acc := aggCase{name: name, arg: ptr(tF64)}.resolve(t).New()
		slots := []uint32{0, 0, 0}
		in := []coldata.Vector{vec(tF64, 0.1, 0.2, 0.7)}
		if err := acc.Update(slots, in, 3, nil); err != nil {
			t.Fatal(err)
		}
		if err := acc.(Retracter).Retract(slots, []coldata.Vector{vec(tF64, 0.7, 0.1, 0.2)}, 3, nil); err != nil {
			t.Fatal(err)
		}
		if err := acc.Update(slots[:1], []coldata.Vector{vec(tF64, 0.3)}, 1, nil); err != nil {
			t.Fatal(err)
		}
		v, _ := acc.Result(slots[:1])
		if got := coldata.Value(v, 0); got != 0.3 {
			t.Errorf("%s after emptying the group and adding 0.3: %v", name, got)
		}
	}
}

func TestAggregateRetractable(t *testing.T) {
	for _, c := range aggCases() {
		_, ok := c.resolve(t).New().(Retracter)
		if want := c.name != "min" && c.name != "max"; ok != want {
			t.Errorf("%s: Retracter %v, want %v", c, ok, want)
		}
	}
}

func TestAggregateErrors(t *testing.T) {
	sum := aggCase{name: "sum", arg: ptr(tI64)}.resolve(t)
	acc := sum.New()
	big := vec(tI64, int64(math.MaxInt64), 1, nil)
	if err := acc.Update([]uint32{0, 1, 0}, []coldata.Vector{big}, 3, nil); err != nil {
		t.Fatal(err)
	}
	if err := acc.Update([]uint32{0}, []coldata.Vector{vec(tI64, 1)}, 1, nil); !errors.Is(err, ErrOverflow) || err.Error() != "sum(BIGINT): integer overflow" {
		t.Errorf("sum overflow: %v", err)
	}
	// An overflowing value outside the selection is not added.
	acc = sum.New()
	if err := acc.Update([]uint32{0, 0}, []coldata.Vector{vec(tI64, int64(math.MaxInt64), int64(math.MaxInt64))}, 2, []int32{1}); err != nil {
		t.Errorf("overflow outside the selection: %v", err)
	}
	other := sum.New()
	if err := other.Update([]uint32{0}, []coldata.Vector{vec(tI64, 1)}, 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := acc.Merge([]uint32{0}, other, []uint32{0}); !errors.Is(err, ErrOverflow) {
		t.Errorf("merge overflow: %v", err)
	}
	if err := other.(Retracter).Retract([]uint32{5}, []coldata.Vector{vec(tI64, 1)}, 1, nil); err == nil || !strings.Contains(err.Error(), "retract from a group with no rows") {
		t.Errorf("retract from an empty group: %v", err)
	}
	count := aggCase{name: "count"}.resolve(t).New()
	if err := acc.Merge([]uint32{0}, count, []uint32{0}); err == nil {
		t.Errorf("merge of count into sum accepted")
	}
	snap := count.AppendSnapshot(nil, 0)
	if err := acc.Restore(0, snap); !errors.Is(err, ErrSnapshot) {
		t.Errorf("restore of count's snapshot into sum: %v", err)
	}
	good := other.AppendSnapshot(nil, 0)
	for _, bad := range [][]byte{nil, good[:len(good)-1], append(good, 0)} {
		if err := other.Restore(1, bad); !errors.Is(err, ErrSnapshot) {
			t.Errorf("restore of %x: %v", bad, err)
		}
	}
	if err := count.Update([]uint32{0}, []coldata.Vector{vec(tI64, 1)}, 1, nil); err == nil {
		t.Errorf("count(*) accepted an argument")
	}
	if err := acc.Update([]uint32{0}, []coldata.Vector{vec(tI64, 1, 2)}, 2, nil); err == nil {
		t.Errorf("fewer slots than rows accepted")
	}
}

func TestAggregateResolve(t *testing.T) {
	for _, c := range []struct {
		name string
		args []types.Type
		want string // the argument types asked for -> result, or the error
	}{
		{"count", nil, "() -> BIGINT"},
		{"count", []types.Type{types.BoolT}, "(BOOLEAN) -> BIGINT"},
		{"count", []types.Type{tI64, tI64}, "count takes 1 argument or *, got 2"},
		{"sum", []types.Type{types.Int32T}, "(BIGINT) -> BIGINT"},
		{"sum", []types.Type{types.Float32T}, "(DOUBLE) -> DOUBLE"},
		{"sum", []types.Type{tStr}, "sum expects a number (BIGINT or DOUBLE), got TEXT"},
		{"sum", []types.Type{types.UInt64T}, "(BIGINT UNSIGNED) -> BIGINT UNSIGNED"},
		{"sum", []types.Type{types.UInt8T}, "(BIGINT UNSIGNED) -> BIGINT UNSIGNED"},
		{"avg", []types.Type{tI64}, "(DOUBLE) -> DOUBLE"},
		{"avg", []types.Type{types.TimestampT}, "avg expects a number, got TIMESTAMP"},
		{"min", []types.Type{types.TimestampT}, "(TIMESTAMP) -> TIMESTAMP"},
		{"max", []types.Type{types.BoolT}, "max expects a number, TIMESTAMP, INTERVAL, TEXT or BYTEA, got BOOLEAN"},
		{"min", nil, "min takes 1 argument, got 0"},
	} {
		a, _ := Builtins().LookupAggregate(c.name)
		r, err := a.Resolve(c.args)
		got := fmt.Sprint(err)
		if err == nil {
			got = typeList(r.Args) + " -> " + r.Result.String()
		}
		if got != c.want {
			t.Errorf("%s%s: %s, want %s", c.name, typeList(c.args), got, c.want)
		}
	}
}

// TestAggregateUpdateAllocs: updating existing groups does not allocate.
func TestAggregateUpdateAllocs(t *testing.T) {
	for _, c := range aggCases() {
		r := rand.New(rand.NewPCG(1, 2))
		ra := c.resolve(t)
		acc := ra.New()
		rs := c.rows(r, 1024, 16)
		vals := vec(rs.t, rs.vals...)
		var args []coldata.Vector
		if c.arg != nil {
			args = []coldata.Vector{vals}
		}
		if err := acc.Update(rs.groups, args, len(rs.groups), nil); err != nil {
			t.Fatal(err)
		}
		if c.name == "min" || c.name == "max" {
			if k := rs.t.Kind; k == types.String || k == types.Bytes {
				continue // a group's buffer may grow when its value does
			}
		}
		if n := testing.AllocsPerRun(20, func() { _ = acc.Update(rs.groups, args, len(rs.groups), nil) }); n != 0 {
			t.Errorf("%s: %v allocations per Update", c, n)
		}
	}
}

// BenchmarkAggregateUpdate: one Update of a 4096-row batch into 256
// groups, per aggregate.
func BenchmarkAggregateUpdate(b *testing.B) {
	for _, c := range aggCases() {
		b.Run(c.String(), func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 4))
			acc := c.resolve(b).New()
			rs := c.rows(r, 4096, 256)
			var args []coldata.Vector
			if c.arg != nil {
				args = []coldata.Vector{vec(rs.t, rs.vals...)}
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := acc.Update(rs.groups, args, len(rs.groups), nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/4096, "ns/row")
		})
	}
}
