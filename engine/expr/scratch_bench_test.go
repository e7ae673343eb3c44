package expr

import (
	"context"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/memory"
)

// BenchmarkNestedArithScratch evaluates ((a + b) * (a - b) + 3) * a over
// batches of 4096 rows through an accounted allocator, with the scratch
// reuse of temporaries on and off.
func BenchmarkNestedArithScratch(b *testing.B) {
	a, c := col(0, tI64), col(1, tI64)
	e := call("*", tI64, call("+", tI64, call("*", tI64, call("+", tI64, a, c), call("-", tI64, a, c)), lit(tI64, 3)), a)
	bt := allocBatch(4096)
	for _, noScratch := range []bool{false, true} {
		name := "reuse"
		if noScratch {
			name = "noreuse"
		}
		b.Run(name, func(b *testing.B) {
			comp := &Compiler{Alloc: coldata.NewAllocator(memory.NewRoot("bench")), NoScratch: noScratch}
			ev, err := comp.Compile(context.Background(), e)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ev.Eval(ctx, bt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
