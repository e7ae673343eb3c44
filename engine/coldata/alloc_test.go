package coldata

import (
	"runtime"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/memory"
	"github.com/arroyogo/arroyo/engine/types"
)

// TestAllocatorCharges checks that every constructor charges its buffers
// and that the charge is released once the vectors are collected.
func TestAllocatorCharges(t *testing.T) {
	acct := memory.NewRoot("test")
	a := NewAllocator(acct)
	keep := []Vector{
		AllocVec[int64](a, types.Int64T, 100),                                      // 800
		AllocVecCap[int32](a, types.Int32T, 10),                                    // 40
		a.Bytes(types.StringT, 10, 64),                                             // 44 + 64
		a.BytesRows(types.StringT, 10, 0),                                          // 44
		a.Nulls(types.Float64T, 8),                                                 // 64
		VecOf(a, types.Int64T, make([]int64, 4)),                                   // 32
		a.List(types.ListOf(types.Int64T), 3, AllocVec[int64](a, types.Int64T, 2)), // 16 + 16
		a.Gather(AllocVec[int16](a, types.Int16T, 4), []int32{0, 2}),               // 8 + 4
	}
	want := int64(800 + 40 + 44 + 64 + 44 + 64 + 32 + 16 + 16 + 8 + 4)
	if got := acct.Used(); got != want {
		t.Fatalf("used %d, want %d", got, want)
	}
	if got := acct.Allocated(); got != want {
		t.Fatalf("allocated %d, want %d", got, want)
	}
	runtime.KeepAlive(keep)
	keep = nil
	deadline := time.Now().Add(10 * time.Second)
	for acct.Used() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("used %d after the vectors were collected, want 0", acct.Used())
		}
		runtime.GC()
		runtime.Gosched()
	}
	if acct.Allocated() != want {
		t.Fatalf("allocated %d after collection, want %d", acct.Allocated(), want)
	}
	// A nil allocator allocates, unaccounted.
	var nilA *Allocator
	if v := AllocVec[int8](nilA, types.Int8T, 3); len(v.Vals) != 3 {
		t.Fatalf("nil allocator: %d values", len(v.Vals))
	}
}

// TestScratchRecycles checks that a scratch allocator reuses what it handed
// out, except what the kept vector shares, and that a reused vector starts
// clean (zero values, no nulls).
func TestScratchRecycles(t *testing.T) {
	s := NewScratch(nil)
	x := AllocVec[int64](s, types.Int64T, 4)
	x.Vals[1] = 7
	x.N.SetNull(2)
	y := AllocVec[int64](s, types.Int64T, 4)
	b := s.BytesRows(types.StringT, 2, 8)
	b.Data = append(b.Data, "ab"...)
	view := RetypeVec(y, types.TimestampT) // the result shares y
	s.Recycle(view)
	if s.Pooled() != 2 {
		t.Fatalf("pool holds %d vectors, want 2 (y left with the result)", s.Pooled())
	}
	x2 := AllocVec[int64](s, types.Int64T, 3)
	if x2 != x || len(x2.Vals) != 3 || x2.Vals[1] != 0 || x2.N.Any() || !x2.T.Equal(types.Int64T) {
		t.Fatalf("reused vector: same %v, %v, nulls %v", x2 == x, x2.Vals, x2.N.Any())
	}
	y2 := AllocVec[int64](s, types.Int64T, 4)
	if y2 == y {
		t.Fatal("a vector the result shares was reused")
	}
	b2 := s.Bytes(types.JSONT, 2, 4)
	if b2 != b || b2.Len() != 0 || len(b2.Data) != 0 || !b2.T.Equal(types.JSONT) {
		t.Fatalf("reused bytes vector: same %v, len %d", b2 == b, b2.Len())
	}
	// Growing: a reused vector too small for the request gets new memory.
	s.Recycle()
	big := AllocVec[int64](s, types.Int64T, 1000)
	if len(big.Vals) != 1000 {
		t.Fatalf("grown vector has %d values", len(big.Vals))
	}
	// A struct result keeps its fields.
	s.Recycle()
	f := AllocVec[int64](s, types.Int64T, 2)
	st := s.Struct(types.StructOf(types.Field{Name: "a", Type: types.Int64T}), []Vector{f}, 2)
	s.Recycle(st)
	if g := AllocVec[int64](s, types.Int64T, 2); g == f {
		t.Fatal("a struct result's field was reused")
	}
}

// BenchmarkAllocVec measures an accounted allocation (with its cleanup)
// against an unaccounted one and a scratch reuse.
func BenchmarkAllocVec(b *testing.B) {
	acct := memory.NewRoot("bench")
	for _, c := range []struct {
		name string
		a    *Allocator
	}{{"unaccounted", nil}, {"accounted", NewAllocator(acct)}, {"scratch", NewScratch(acct)}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v := AllocVec[int64](c.a, types.Int64T, 1024)
				c.a.Recycle()
				_ = v
			}
		})
	}
}
