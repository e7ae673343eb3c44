package expr

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// Benchmarks over 4096-row batches; each reports rows/s.
//
//	go test -run '^$' -bench . -benchmem ./engine/expr/

const benchRows = 4096

func int64Col(rng *rand.Rand, n int, nullEvery int) coldata.Vector {
	v := &coldata.Vec[int64]{T: types.Int64T, Vals: make([]int64, n)}
	for i := range v.Vals {
		v.Vals[i] = rng.Int64N(1_000_000)
		if nullEvery > 0 && i%nullEvery == 0 {
			v.N.SetNull(i)
			v.Vals[i] = 0
		}
	}
	return v
}

func reportRows(b *testing.B, rowsPerOp int) {
	b.ReportMetric(float64(rowsPerOp)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func benchEval(b *testing.B, e *program.Expr, batch *coldata.Batch) {
	ev, err := Compile(e, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := ev.Eval(tctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, batch.Rows())
}

func benchFilter(b *testing.B, e *program.Expr, batch *coldata.Batch) {
	f, err := CompileFilter(e, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.Select(tctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, batch.Rows())
}

func BenchmarkInt64AddVecVec(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	batch := coldata.NewBatch([]coldata.Vector{int64Col(rng, benchRows, 0), int64Col(rng, benchRows, 0)}, benchRows)
	benchEval(b, call("+", tI64, col(0, tI64), col(1, tI64)), batch)
}

func BenchmarkFloat64MulLiteral(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	v := &coldata.Vec[float64]{T: types.Float64T, Vals: make([]float64, benchRows)}
	for i := range v.Vals {
		v.Vals[i] = rng.Float64() * 1e6
	}
	batch := coldata.NewBatch([]coldata.Vector{v}, benchRows)
	benchEval(b, call("*", tF64, col(0, tF64), lit(tF64, 0.908)), batch)
}

func BenchmarkInt64CompareFilter(b *testing.B) {
	for _, nulls := range []int{0, 10} {
		name := "nonulls"
		if nulls > 0 {
			name = "nulls"
		}
		b.Run(name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 3))
			batch := coldata.NewBatch([]coldata.Vector{int64Col(rng, benchRows, nulls)}, benchRows)
			benchFilter(b, call(">", tBool, col(0, tI64), lit(tI64, 500_000)), batch)
		})
	}
}

func BenchmarkLikePrefix(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 4))
	s := coldata.NewBytes(types.StringT, benchRows, benchRows*24)
	for i := 0; i < benchRows; i++ {
		prefix := []string{"https://www.nexmark.com/", "http://example.org/", "ftp://files/"}[rng.IntN(3)]
		s.AppendString(fmt.Sprintf("%sitem/%d", prefix, rng.IntN(1_000_000)))
	}
	batch := coldata.NewBatch([]coldata.Vector{s}, benchRows)
	e := call("like", tBool, col(0, tStr), lit(tStr, "https://www.nexmark.com/%"))
	b.Run("filter", func(b *testing.B) { benchFilter(b, e, batch) })
	b.Run("eval", func(b *testing.B) { benchEval(b, e, batch) })
}

// nexmarkBatch builds a batch shaped like Arroyo's nexmark source: one
// nullable struct column per event kind, of which only bid is used here
// (92% of the rows), plus the event time.
func nexmarkBatch(rng *rand.Rand, n int) (*coldata.Batch, types.Type) {
	bidT := types.StructOf(
		types.Field{Name: "auction", Type: tI64},
		types.Field{Name: "bidder", Type: tI64},
		types.Field{Name: "price", Type: tI64},
		types.Field{Name: "channel", Type: tStr},
		types.Field{Name: "datetime", Type: tTS},
	)
	bid := coldata.New(bidT, n).(*coldata.Struct)
	ts := &coldata.Vec[int64]{T: types.TimestampT, Vals: make([]int64, n)}
	for i := 0; i < n; i++ {
		ts.Vals[i] = int64(i) * 1000
		if i%50 < 4 { // persons and auctions
			bid.AppendNull()
			continue
		}
		bid.Fields[0].(*coldata.Vec[int64]).Append(1000 + rng.Int64N(10_000))
		bid.Fields[1].(*coldata.Vec[int64]).Append(1000 + rng.Int64N(100_000))
		bid.Fields[2].(*coldata.Vec[int64]).Append(100 + rng.Int64N(100_000_000))
		bid.Fields[3].(*coldata.Bytes).AppendString("Google")
		bid.Fields[4].(*coldata.Vec[int64]).Append(ts.Vals[i])
		bid.AppendRow()
	}
	return coldata.NewBatch([]coldata.Vector{bid, ts}, n), bidT
}

func field(e *program.Expr, i int, t types.Type) *program.Expr {
	return &program.Expr{Op: program.ExprField, Type: t, Field: i, Args: []*program.Expr{e}}
}

// runCalc is what a calc operator does per batch: filter, then project the
// selected rows.
func runCalc(b *testing.B, filter *program.Expr, project []*program.Expr, batch *coldata.Batch) {
	f, err := CompileFilter(filter, nil)
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]Evaluator, len(project))
	for i, p := range project {
		if evs[i], err = Compile(p, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		sel, err := f.Select(tctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		view := &coldata.Batch{Cols: batch.Cols, Len: batch.Len, Sel: sel}
		for _, ev := range evs {
			if _, err := ev.Eval(tctx, view); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRows(b, batch.Len)
}

// BenchmarkNexmarkCalc is the fused filter+project of Nexmark q1 (every bid
// with price * 0.908) and q2 (bids whose auction % 123 = 0).
func BenchmarkNexmarkCalc(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 5))
	batch, bidT := nexmarkBatch(rng, benchRows)
	bid := col(0, bidT)
	notNull := op(program.ExprIsNotNull, tBool, bid)
	b.Run("q1", func(b *testing.B) {
		runCalc(b, notNull, []*program.Expr{
			field(bid, 0, tI64),
			call("*", tF64, cast(field(bid, 2, tI64), tF64), lit(tF64, 0.908)),
			field(bid, 1, tI64),
			field(bid, 4, tTS),
		}, batch)
	})
	b.Run("q2", func(b *testing.B) {
		filter := op(program.ExprAnd, tBool, notNull,
			call("=", tBool, call("%", tI64, field(bid, 0, tI64), lit(tI64, 123)), lit(tI64, 0)))
		runCalc(b, filter, []*program.Expr{field(bid, 0, tI64), field(bid, 2, tI64)}, batch)
	})
}

// TestAllocsPerBatch guards against per-row allocation in the hot kernels:
// a batch costs a handful of allocations whatever its size.
func TestAllocsPerBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 6))
	ints := coldata.NewBatch([]coldata.Vector{int64Col(rng, benchRows, 0), int64Col(rng, benchRows, 7)}, benchRows)
	strs := coldata.NewBytes(types.StringT, benchRows, 0)
	for i := 0; i < benchRows; i++ {
		strs.AppendString(fmt.Sprint("Héllo ", i))
	}
	text := coldata.NewBatch([]coldata.Vector{strs}, benchRows)
	pats := coldata.NewBytes(types.StringT, benchRows, 0)
	for i := 0; i < benchRows; i++ {
		pats.AppendString(fmt.Sprint("^hé.*", i%4, "$"))
	}
	textPats := coldata.NewBatch([]coldata.Vector{strs, pats}, benchRows)
	for _, c := range []struct {
		name   string
		e      *program.Expr
		batch  *coldata.Batch
		filter bool
		max    float64
	}{
		{"add", call("+", tI64, col(0, tI64), col(1, tI64)), ints, false, 3},
		{"div literal", call("/", tI64, col(1, tI64), lit(tI64, 7)), ints, false, 3},
		{"compare filter", call("<", tBool, col(0, tI64), col(1, tI64)), ints, true, 3},
		{"case", func() *program.Expr {
			e := op(program.ExprCase, tI64, call(">", tBool, col(0, tI64), lit(tI64, 500)), col(0, tI64), col(1, tI64))
			e.HasElse = true
			return e
		}(), ints, false, 12},
		{"like", call("like", tBool, col(0, tStr), lit(tStr, "%llo 1%")), text, false, 3},
		{"ilike", call("ilike", tBool, col(0, tStr), lit(tStr, "HÉ%")), text, true, 4},
		{"upper", call("upper", tStr, col(0, tStr)), text, false, 6},
		{"cast", cast(col(0, tI64), tStr), ints, false, 6},
		{"substr", call("substr", tStr, col(0, tStr), lit(tI64, 2), lit(tI64, 3)), text, false, 6},
		{"regexp_like", call("regexp_like", tBool, col(0, tStr), lit(tStr, `^H.llo \d+7$`)), text, true, 4},
		{"~* row patterns", call("~*", tBool, col(0, tStr), col(1, tStr)), textPats, false, 8},
		{"translate", call("translate", tStr, col(0, tStr), lit(tStr, "é1"), lit(tStr, "eI")), text, false, 8},
		{"encode hex", call("encode", tStr, col(0, tStr), lit(tStr, "hex")), text, false, 8},
		{"sha256", call("sha256", tByt, col(0, tStr)), text, false, 8},
		{"greatest", call("greatest", tI64, col(0, tI64), col(1, tI64)), ints, false, 4},
	} {
		var run func()
		if c.filter {
			f, err := CompileFilter(c.e, nil)
			if err != nil {
				t.Fatal(err)
			}
			run = func() { _, _ = f.Select(tctx, c.batch) }
		} else {
			ev, err := Compile(c.e, nil)
			if err != nil {
				t.Fatal(err)
			}
			run = func() { _, _ = ev.Eval(tctx, c.batch) }
		}
		run() // warm caches (literal vectors, scratch)
		got := testing.AllocsPerRun(20, run)
		t.Logf("%s: %.0f", c.name, got)
		if raceEnabled && strings.Contains(c.name, "~") || raceEnabled && strings.HasPrefix(c.name, "regexp") {
			continue // regexp pools its machines; the race detector drops pooled items
		}
		if got > c.max {
			t.Errorf("%s: %.0f allocations per batch, want <= %.0f", c.name, got, c.max)
		}
	}
}
