package expr

import (
	"math/rand/v2"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// genDecimal returns DECIMAL values of up to 18 digits (some negative, some
// NULL), as unscaled Int128s.
func genDecimal(r *rand.Rand) []any {
	if r.IntN(10) == 0 {
		return []any{nil}
	}
	v := r.Int64N(2_000_000_000_000_000_000) - 1_000_000_000_000_000_000
	if r.IntN(2) == 0 {
		v %= 10000
	}
	return []any{coldata.Int128Of(v)}
}

// decimalLibCases are the DECIMAL aggregates in TestAggregateLibrary's
// harness (updates, merges, snapshots, retraction).
func decimalLibCases() []libCase {
	d := []types.Type{types.DecimalOf(18, 2)}
	sum := func(rows [][]any) (coldata.Int128, int) {
		var s coldata.Int128
		n := 0
		for _, v := range col0(rows) {
			s, _ = s.Add(v.(coldata.Int128))
			n++
		}
		return s, n
	}
	best := func(max bool) func(rows [][]any) any {
		return func(rows [][]any) any {
			var b any
			for _, v := range col0(rows) {
				x := v.(coldata.Int128)
				if b == nil || (x.Cmp(b.(coldata.Int128)) > 0) == max && x != b.(coldata.Int128) {
					b = x
				}
			}
			return b
		}
	}
	sumModel := func(rows [][]any) any {
		s, n := sum(rows)
		if n == 0 {
			return nil
		}
		return s
	}
	// avg: DECIMAL(22, 6), the sum times 10^4 divided by the count,
	// truncated toward zero (the sums here fit int64 after scaling only
	// sometimes, so the model uses Int128 steps: |sum| < 1500 * 10^18).
	avgModel := func(rows [][]any) any {
		s, n := sum(rows)
		if n == 0 {
			return nil
		}
		var dv decDivider
		q, _ := dv.quo(s, coldata.Int128Of(int64(n)), 4)
		return q
	}
	var cs []libCase
	for _, retracting := range []bool{false, true} {
		cs = append(cs,
			libCase{name: "sum", args: d, retracting: retracting, gen: genDecimal, model: sumModel},
			libCase{name: "avg", args: d, retracting: retracting, gen: genDecimal, model: avgModel},
			libCase{name: "min", args: d, retracting: retracting, gen: genDecimal, model: best(false)},
			libCase{name: "max", args: d, retracting: retracting, gen: genDecimal, model: best(true)},
		)
	}
	return append(cs, libCase{name: "sum", args: d, distinct: true, gen: func(r *rand.Rand) []any {
		return []any{coldata.Int128Of(r.Int64N(20) - 10)}
	}, model: func(rows [][]any) any {
		seen := map[coldata.Int128]bool{}
		var s coldata.Int128
		for _, v := range col0(rows) {
			if x := v.(coldata.Int128); !seen[x] {
				seen[x] = true
				s, _ = s.Add(x)
			}
		}
		if len(seen) == 0 {
			return nil
		}
		return s
	}})
}

func TestDecimalAggregateTypes(t *testing.T) {
	for _, c := range []struct {
		name string
		arg  types.Type
		want types.Type
	}{
		{"sum", types.DecimalOf(10, 2), types.DecimalOf(20, 2)},
		{"sum", types.DecimalOf(30, 5), types.DecimalOf(38, 5)},
		{"avg", types.DecimalOf(10, 2), types.DecimalOf(14, 6)},
		{"avg", types.DecimalOf(38, 36), types.DecimalOf(38, 38)},
		{"min", types.DecimalOf(7, 3), types.DecimalOf(7, 3)},
		{"max", types.DecimalOf(7, 3), types.DecimalOf(7, 3)},
	} {
		a, _ := Builtins().LookupAggregate(c.name)
		ra, err := a.ResolveWith([]types.Type{c.arg}, nil)
		if err != nil || !ra.Result.Equal(c.want) || !ra.Args[0].Equal(c.arg) {
			t.Errorf("%s(%s) = %v, %v; want %s", c.name, c.arg, ra, err, c.want)
		}
	}
}

// TestDecimalSumOverflow: a sum past its type's 38 digits is an error,
// also through a merge.
func TestDecimalSumOverflow(t *testing.T) {
	typ := types.DecimalOf(38, 0)
	big := coldata.Pow10(38)
	big, _ = big.Sub(coldata.Int128Of(1))
	v := &coldata.Vec[coldata.Int128]{T: typ, Vals: []coldata.Int128{big, coldata.Int128Of(1)}}
	acc := newDecSum(false, typ)
	if err := acc.Update([]uint32{0, 0}, []coldata.Vector{v}, 2, nil); !errContains(err, "sum(DECIMAL(38, 0)): decimal overflow") {
		t.Errorf("update: %v", err)
	}
	a, b := newDecSum(false, typ), newDecSum(false, typ)
	one := &coldata.Vec[coldata.Int128]{T: typ, Vals: []coldata.Int128{big}}
	if err := a.Update([]uint32{0}, []coldata.Vector{one}, 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Update([]uint32{0}, []coldata.Vector{one}, 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Merge([]uint32{0}, b, []uint32{0}); !errContains(err, "decimal overflow") {
		t.Errorf("merge: %v", err)
	}
	// The wrong argument type is refused.
	if err := a.Update([]uint32{0}, []coldata.Vector{&coldata.Vec[coldata.Int128]{T: types.DecimalOf(10, 2), Vals: []coldata.Int128{{}}}}, 1, nil); err == nil {
		t.Error("DECIMAL(10, 2) accepted by sum(DECIMAL(38, 0))")
	}
}
