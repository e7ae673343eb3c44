package expr

import (
	"bytes"
	"fmt"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// GREATEST and LEAST, as DataFusion: any number of arguments converted to
// their common type (CommonType), NULLs skipped, NULL only when every
// argument is. Floats order as everywhere here: NaN above all numbers.

func extremeResolve(name string, greatest bool) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		if len(args) == 0 {
			return nil, fmt.Errorf("function %s expects at least 1 argument", name)
		}
		t := types.NullT
		for _, a := range args {
			ct, err := CommonType(t, a)
			if err != nil {
				return nil, fmt.Errorf("function %s: arguments %s have no common type: %v", name, typeList(args), err)
			}
			t = ct
		}
		if t.Kind == types.Null {
			t = types.Int64T // greatest(NULL, NULL) is a NULL of some type
		}
		if !isComparable(t.Kind) {
			return nil, fmt.Errorf("function %s cannot compare values of type %s", name, t)
		}
		want := make([]types.Type, len(args))
		for i := range want {
			want[i] = t
		}
		return &Resolved{Args: want, Result: t, Kernel: func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
			return extreme(al, t, vs, n, greatest)
		}}, nil
	}
}

// andNulls returns the rows NULL in every one of vs (nil: none).
func andNulls(vs []coldata.Vector, n int) []uint64 {
	var w []uint64
	for k, v := range vs {
		x := words(v)
		if x == nil {
			return nil
		}
		if k == 0 {
			w = copyWords(x, n)
			continue
		}
		for j := range w {
			if j < len(x) {
				w[j] &= x[j]
			} else {
				w[j] = 0
			}
		}
	}
	return w
}

func extreme(al *coldata.Allocator, t types.Type, vs []coldata.Vector, n int, greatest bool) (coldata.Vector, error) {
	var out coldata.Vector
	switch vs[0].(type) {
	case *coldata.Vec[bool]:
		out = extremeFixed(al, t, vs, n, greatest, func(a, b bool) bool { return !a && b })
	case *coldata.Vec[int8]:
		out = extremeFixed(al, t, vs, n, greatest, nanLess[int8])
	case *coldata.Vec[int16]:
		out = extremeFixed(al, t, vs, n, greatest, nanLess[int16])
	case *coldata.Vec[int32]:
		out = extremeFixed(al, t, vs, n, greatest, nanLess[int32])
	case *coldata.Vec[int64]:
		out = extremeFixed(al, t, vs, n, greatest, nanLess[int64])
	case *coldata.Vec[uint8]:
		out = extremeFixed(al, t, vs, n, greatest, nanLess[uint8])
	case *coldata.Vec[uint16]:
		out = extremeFixed(al, t, vs, n, greatest, nanLess[uint16])
	case *coldata.Vec[uint32]:
		out = extremeFixed(al, t, vs, n, greatest, nanLess[uint32])
	case *coldata.Vec[uint64]:
		out = extremeFixed(al, t, vs, n, greatest, nanLess[uint64])
	case *coldata.Vec[float32]:
		out = extremeFixed(al, t, vs, n, greatest, nanLess[float32])
	case *coldata.Vec[float64]:
		out = extremeFixed(al, t, vs, n, greatest, nanLess[float64])
	case *coldata.Vec[coldata.Int128]:
		out = extremeFixed(al, t, vs, n, greatest, func(a, b coldata.Int128) bool { return a.Cmp(b) < 0 })
	case *coldata.Bytes:
		out = extremeBytes(al, t, vs, n, greatest)
	default:
		return nil, fmt.Errorf("unsupported operand %T", vs[0])
	}
	out.Nulls().SetWords(andNulls(vs, n))
	return out, nil
}

// nanLess orders numbers with NaN above everything (a != a only for NaN).
func nanLess[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64](a, b T) bool {
	return a < b || (b != b && a == a)
}

// extremeFixed keeps, per row, the greatest (or least) non-NULL value.
func extremeFixed[T coldata.Fixed](al *coldata.Allocator, t types.Type, vs []coldata.Vector, n int, greatest bool, lt func(a, b T) bool) coldata.Vector {
	first := vs[0].(*coldata.Vec[T])
	out := coldata.AllocVec[T](al, t, n)
	copy(out.Vals, first.Vals[:n])
	have := words(first) // rows where out holds no value yet (NULL so far)
	if have != nil {
		have = copyWords(have, n)
	}
	for _, v := range vs[1:] {
		x := v.(*coldata.Vec[T])
		xw := words(x)
		for i, b := range x.Vals[:n] {
			if nullAt(xw, i) {
				continue
			}
			if nullAt(have, i) {
				out.Vals[i] = b
				have[i>>6] &^= 1 << (uint(i) & 63)
				continue
			}
			a := out.Vals[i]
			if (greatest && lt(a, b)) || (!greatest && lt(b, a)) {
				out.Vals[i] = b
			}
		}
	}
	return out
}

func extremeBytes(al *coldata.Allocator, t types.Type, vs []coldata.Vector, n int, greatest bool) coldata.Vector {
	bs := make([]*coldata.Bytes, len(vs))
	ws := make([][]uint64, len(vs))
	size := 0
	for k, v := range vs {
		bs[k] = v.(*coldata.Bytes)
		ws[k] = words(v)
		size = max(size, len(bs[k].Data))
	}
	out := al.BytesRows(t, n, size)
	for i := 0; i < n; i++ {
		best := -1
		for k, b := range bs {
			if nullAt(ws[k], i) {
				continue
			}
			if best < 0 {
				best = k
				continue
			}
			c := bytes.Compare(b.Get(i), bs[best].Get(i))
			if (greatest && c > 0) || (!greatest && c < 0) {
				best = k
			}
		}
		if best >= 0 {
			out.Data = append(out.Data, bs[best].Get(i)...)
		}
		out.Offsets[i+1] = int32(len(out.Data))
	}
	return out
}

func init() {
	register(&Func{Name: "greatest", Description: "the largest non-NULL argument (NULL when all are)", Resolve: extremeResolve("greatest", true)})
	register(&Func{Name: "least", Description: "the smallest non-NULL argument (NULL when all are)", Resolve: extremeResolve("least", false)})
}
