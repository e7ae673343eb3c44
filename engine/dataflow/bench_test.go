//go:build unix

package dataflow_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// BenchmarkShuffle runs source -> shuffle by k -> calc (five integer
// kernels) -> sink at parallelism P, with the shuffle compacting each
// receiver's rows (the default) and with it sending selections over the
// shared batch instead:
//
//	go test ./engine/dataflow -run '^$' -bench Shuffle -cpu 2
//
// Each op is a job over 1M rows in 4096-row batches. cpu-ns/op is the
// process's CPU time (user + system) per op: on a shared machine it says
// more about the work done than the elapsed time does.
func BenchmarkShuffle(b *testing.B) {
	const batches, size = 256, 4096
	rnd := rand.New(rand.NewPCG(1, 2))
	rows := make([]row, size)
	for i := range rows {
		rows[i] = row{K: rnd.Int64N(100_000), V: rnd.Int64N(1000), S: fmt.Sprintf("auction-%d", rnd.IntN(1e6)), TS: int64(i)}
	}
	batch := makeBatch(rnd, rows, false)
	calc := shuffleCalc()
	for _, p := range []int{2, 4, 8} {
		for _, mode := range []struct {
			name  string
			below int
		}{{"compact", coldata.SparseBelow}, {"selection", 0}} {
			b.Run(fmt.Sprintf("P=%d/%s", p, mode.name), func(b *testing.B) {
				defer dataflow.SetCompactBelow(dataflow.SetCompactBelow(mode.below))
				src := &testSource{batches: make([][]*coldata.Batch, p), discard: true}
				for i := range batches {
					src.batches[i%p] = append(src.batches[i%p], batch)
				}
				sink := &testSink{discard: true}
				bld := newBuilder(b)
				s := bld.source("source", p, src)
				c := bld.calc("calc", p, calc)
				o := bld.sink("sink", p, sink)
				bld.shuffle(s, c, colK)
				bld.forward(c, o)
				b.ReportAllocs()
				cpu0 := cpuTime(b)
				for b.Loop() {
					j, err := dataflow.Start(context.Background(), &bld.p, dataflow.Options{})
					if err != nil {
						b.Fatal(err)
					}
					if err := j.Wait(); err != nil {
						b.Fatal(err)
					}
				}
				if got, want := sink.kept.Load(), int64(b.N)*batches*size; got != want {
					b.Fatalf("sink got %d rows, want %d", got, want)
				}
				b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(b.N)*batches*size/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}

// BenchmarkSparseCalc is the choice the shuffle makes for one receiver,
// isolated: the projection of BenchmarkShuffle's calc evaluated over a
// 4096-row batch with a selection of 1/d of its rows, as it is or gathered
// first (the gather is part of the cost):
//
//	go test ./engine/dataflow -run '^$' -bench SparseCalc -cpu 1
func BenchmarkSparseCalc(b *testing.B) {
	const size = 4096
	rnd := rand.New(rand.NewPCG(1, 3))
	rows := make([]row, size)
	for i := range rows {
		rows[i] = row{K: rnd.Int64N(100_000), V: rnd.Int64N(1000), S: fmt.Sprintf("auction-%d", rnd.IntN(1e6)), TS: int64(i)}
	}
	batch := makeBatch(rnd, rows, false)
	var evs []expr.Evaluator
	for _, e := range shuffleCalc().Project {
		ev, err := expr.Compile(e, expr.Builtins())
		if err != nil {
			b.Fatal(err)
		}
		evs = append(evs, ev)
	}
	for _, d := range []int{1, 2, 3, 4, 8} {
		var sel []int32
		for i := range size {
			if rnd.IntN(d) == 0 {
				sel = append(sel, int32(i))
			}
		}
		for _, gather := range []bool{true, false} {
			name := fmt.Sprintf("1of%d/selection", d)
			if gather {
				name = fmt.Sprintf("1of%d/compact", d)
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := cpuTime(b)
				defer func() { b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op") }()
				for b.Loop() {
					in := &coldata.Batch{Cols: batch.Cols, Len: batch.Len, Sel: sel}
					if gather {
						in = in.Compact()
					}
					for _, ev := range evs {
						if _, err := ev.Eval(context.Background(), in); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

// shuffleCalc projects (k, (v*3 + k) % 1000 + v*v, s, _timestamp): five
// integer kernels.
func shuffleCalc() *program.Calc {
	v, k := col(colV), col(colK)
	return &program.Calc{Project: []*program.Expr{
		k,
		call("+", types.Int64T,
			call("%", types.Int64T, call("+", types.Int64T, call("*", types.Int64T, v, int64Lit(3)), k), int64Lit(1000)),
			call("*", types.Int64T, v, v)),
		col(colS),
		col(colTS),
	}}
}

// cpuTime is the process's user + system CPU time so far, in nanoseconds.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
