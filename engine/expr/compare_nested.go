package expr

import (
	"bytes"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// nestedEqual compares structs or lists (a join on window values, a = b
// of two arrays) for equality (or inequality with ne): equal when every
// field or element is, compared through their row encodings (equal values
// encode alike; a NULL field equals a NULL field, as for GROUP BY keys).
// A NULL operand gives NULL.
func nestedEqual(ne bool) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		out := coldata.AllocVec[bool](al, types.BoolT, n)
		var a, b []byte
		each(n, sel, func(i int) {
			if args[0].IsNull(i) || args[1].IsNull(i) {
				out.N.SetNull(i)
				return
			}
			a = coldata.AppendEncoded(a[:0], args[0], i)
			b = coldata.AppendEncoded(b[:0], args[1], i)
			out.Vals[i] = bytes.Equal(a, b) != ne
		})
		return out, nil
	}
}

func each(n int, sel []int32, f func(i int)) {
	if sel == nil {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	for _, i := range sel {
		f(int(i))
	}
}
