package coldata

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// indexCases returns the index lists Gather and AppendValue are tested with
// over a vector of n rows.
func indexCases(r *rand.Rand, n int) map[string][]int32 {
	all := make([]int32, n)
	rev := make([]int32, n)
	for i := range n {
		all[i] = int32(i)
		rev[i] = int32(n - 1 - i)
	}
	repeats := make([]int32, 2*n+3)
	for i := range repeats {
		repeats[i] = int32(r.IntN(n))
	}
	sub := make([]int32, 0, n)
	for i := range n {
		if r.IntN(3) == 0 {
			sub = append(sub, int32(i))
		}
	}
	return map[string][]int32{
		"nil":              nil,
		"empty":            {},
		"identity":         all,
		"reversed":         rev,
		"random repeats":   repeats,
		"ascending subset": sub,
		"one row":          {int32(n / 2)},
		"last row thrice":  {int32(n - 1), int32(n - 1), int32(n - 1)},
	}
}

func TestGather(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n = 130 // three bitmap words
	for _, typ := range testTypes {
		for _, nullPct := range []int{0, 30} {
			src, vals := randVector(r, typ, n, nullPct)
			before := cloneVector(src)
			for name, idx := range indexCases(r, n) {
				t.Run(fmt.Sprintf("%v/nulls%d/%s", typ, nullPct, name), func(t *testing.T) {
					g := Gather(src, idx)
					if !g.Type().Equal(typ) || g.Len() != len(idx) {
						t.Fatalf("Gather: type %v len %d, want %v %d", g.Type(), g.Len(), typ, len(idx))
					}
					checkInvariants(t, g)
					nulls := 0
					for k, i := range idx {
						if got := Value(g, k); !reflect.DeepEqual(got, vals[i]) {
							t.Fatalf("row %d (source %d) = %#v, want %#v", k, i, got, vals[i])
						}
						if g.IsNull(k) {
							nulls++
						}
					}
					if g.Nulls().Count() != nulls {
						t.Fatalf("%d null bits for %d NULL rows", g.Nulls().Count(), nulls)
					}
					if !reflect.DeepEqual(src, before) {
						t.Fatal("Gather modified its source")
					}
					// The result owns its memory: writing it (as a builder
					// may) must not reach the source.
					scribble(g)
					if !reflect.DeepEqual(src, before) {
						t.Fatal("Gather's result shares memory with its source")
					}
				})
			}
		}
	}
}

// TestAppendValueEqualsGather: appending rows one at a time builds the same
// vector, row for row, as gathering them.
func TestAppendValueEqualsGather(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 100
	for _, typ := range testTypes {
		for _, nullPct := range []int{0, 30} {
			src, vals := randVector(r, typ, n, nullPct)
			before := cloneVector(src)
			for name, idx := range indexCases(r, n) {
				t.Run(fmt.Sprintf("%v/nulls%d/%s", typ, nullPct, name), func(t *testing.T) {
					dst := New(typ, 0)
					for _, i := range idx {
						AppendValue(dst, src, int(i))
					}
					checkInvariants(t, dst)
					g := Gather(src, idx)
					if dst.Len() != g.Len() || dst.Nulls().Count() != g.Nulls().Count() {
						t.Fatalf("AppendValue built %d rows (%d NULL), Gather %d (%d NULL)", dst.Len(), dst.Nulls().Count(), g.Len(), g.Nulls().Count())
					}
					for k, i := range idx {
						a, b := Value(dst, k), Value(g, k)
						if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(a, vals[i]) {
							t.Fatalf("row %d: AppendValue %#v, Gather %#v, want %#v", k, a, b, vals[i])
						}
					}
					if !reflect.DeepEqual(src, before) {
						t.Fatal("AppendValue modified its source")
					}
				})
			}
		}
	}
}

// TestGatherNullStructFields: a NULL struct row keeps NULL in its fields
// after Gather, so code that reads a field vector directly sees NULL.
func TestGatherNullStructFields(t *testing.T) {
	v := New(pairT, 0).(*Struct)
	v.Fields[0].(*Vec[int64]).Append(1)
	v.Fields[1].(*Bytes).AppendString("x")
	v.AppendRow()
	v.AppendNull()
	g := Gather(v, []int32{1, 0, 1}).(*Struct)
	for _, k := range []int{0, 2} {
		if !g.IsNull(k) || !g.Fields[0].IsNull(k) || !g.Fields[1].IsNull(k) {
			t.Fatalf("row %d: struct null %v, fields null %v %v", k, g.IsNull(k), g.Fields[0].IsNull(k), g.Fields[1].IsNull(k))
		}
	}
	if g.IsNull(1) || Value(g, 1) == nil {
		t.Fatal("row 1 should be {1, x}")
	}
}

// cloneVector deep-copies v, keeping nil slices nil so that
// reflect.DeepEqual(v, cloneVector(v)) holds.
func cloneVector(v Vector) Vector {
	switch v := v.(type) {
	case *Vec[bool]:
		return cloneVec(v)
	case *Vec[int8]:
		return cloneVec(v)
	case *Vec[int16]:
		return cloneVec(v)
	case *Vec[uint8]:
		return cloneVec(v)
	case *Vec[uint16]:
		return cloneVec(v)
	case *Vec[int32]:
		return cloneVec(v)
	case *Vec[int64]:
		return cloneVec(v)
	case *Vec[uint32]:
		return cloneVec(v)
	case *Vec[uint64]:
		return cloneVec(v)
	case *Vec[float32]:
		return cloneVec(v)
	case *Vec[float64]:
		return cloneVec(v)
	case *Vec[Int128]:
		return cloneVec(v)
	case *Bytes:
		return &Bytes{T: v.T, Offsets: slices.Clone(v.Offsets), Data: slices.Clone(v.Data), N: cloneNulls(v.N)}
	case *Struct:
		fs := make([]Vector, len(v.Fields))
		for i, f := range v.Fields {
			fs[i] = cloneVector(f)
		}
		return &Struct{T: v.T, Fields: fs, Length: v.Length, N: cloneNulls(v.N)}
	case *List:
		return &List{T: v.T, Offsets: slices.Clone(v.Offsets), Elems: cloneVector(v.Elems), N: cloneNulls(v.N)}
	}
	panic(fmt.Sprintf("cloneVector: %T", v))
}

func cloneVec[T Fixed](v *Vec[T]) *Vec[T] {
	return &Vec[T]{T: v.T, Vals: slices.Clone(v.Vals), N: cloneNulls(v.N)}
}

func cloneNulls(n Nulls) Nulls { return Nulls{bits: slices.Clone(n.bits)} }

// scribble overwrites every value, offset-free byte and null word of v.
func scribble(v Vector) {
	ws := v.Nulls().Words()
	for i := range ws {
		ws[i] = ^ws[i]
	}
	switch v := v.(type) {
	case *Vec[bool]:
		for i := range v.Vals {
			v.Vals[i] = !v.Vals[i]
		}
	case *Vec[int8]:
		scribbleVec(v)
	case *Vec[int16]:
		scribbleVec(v)
	case *Vec[uint8]:
		scribbleVec(v)
	case *Vec[uint16]:
		scribbleVec(v)
	case *Vec[int32]:
		scribbleVec(v)
	case *Vec[int64]:
		scribbleVec(v)
	case *Vec[uint32]:
		scribbleVec(v)
	case *Vec[uint64]:
		scribbleVec(v)
	case *Vec[float32]:
		scribbleVec(v)
	case *Vec[float64]:
		scribbleVec(v)
	case *Vec[Int128]:
		for i := range v.Vals {
			v.Vals[i].Lo = ^v.Vals[i].Lo
			v.Vals[i].Hi++
		}
	case *Bytes:
		for i := range v.Data {
			v.Data[i] ^= 0xff
		}
	case *Struct:
		for _, f := range v.Fields {
			scribble(f)
		}
	case *List:
		scribble(v.Elems)
	}
}

func scribbleVec[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64](v *Vec[T]) {
	for i := range v.Vals {
		v.Vals[i] = v.Vals[i]*3 + 1
	}
}
