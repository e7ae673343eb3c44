package expr

import (
	"fmt"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Null-safe comparisons: a IS NOT DISTINCT FROM b is a = b where two NULLs
// are equal and a NULL differs from any value; a IS DISTINCT FROM b is its
// negation. Neither is ever NULL. The planner calls them for the SQL
// operators (and for MySQL's <=>).

// Names of the null-safe comparisons.
const (
	IsDistinctFrom    = "is_distinct_from"
	IsNotDistinctFrom = "is_not_distinct_from"
)

func distinctKernel(distinct bool) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		a, b := args[0], args[1]
		out := coldata.AllocVec[bool](al, types.BoolT, n)
		if err := compareInto(cmpEQ, a, b, nil, out.Vals, n, sel); err != nil {
			return nil, err
		}
		if an, bn := words(a), words(b); an != nil || bn != nil {
			// A word at a time: rows where neither side is NULL keep the
			// comparison; elsewhere the result is "both are NULL".
			for w := 0; w<<6 < n; w++ {
				x, y := wordAt(an, w), wordAt(bn, w)
				if x|y == 0 {
					continue
				}
				for i := w << 6; i < min(n, (w+1)<<6); i++ {
					bit := uint64(1) << (uint(i) & 63)
					if (x|y)&bit != 0 {
						out.Vals[i] = x&y&bit != 0
					}
				}
			}
		}
		if distinct {
			for i, v := range out.Vals {
				out.Vals[i] = !v
			}
		}
		return out, nil
	}
}

func wordAt(w []uint64, i int) uint64 {
	if i < len(w) {
		return w[i]
	}
	return 0
}

func distinctResolve(name string, distinct bool) func(args []types.Type) (*Resolved, error) {
	op := "IS NOT DISTINCT FROM"
	if distinct {
		op = "IS DISTINCT FROM"
	}
	kernel := distinctKernel(distinct)
	return func(args []types.Type) (*Resolved, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("operator %s expects 2 operands, got %d", op, len(args))
		}
		ct, err := CommonType(args[0], args[1])
		if err != nil {
			return nil, fmt.Errorf("operator %s cannot compare %s and %s", op, args[0], args[1])
		}
		if ct.Kind == types.Null {
			ct = types.BoolT
		}
		if !isComparable(ct.Kind) {
			return nil, fmt.Errorf("operator %s cannot compare values of type %s", op, ct)
		}
		return &Resolved{Args: []types.Type{ct, ct}, Result: types.BoolT, Kernel: kernel}, nil
	}
}

func init() {
	register(&Func{Name: IsDistinctFrom, Description: "a IS DISTINCT FROM b: a <> b where NULL equals NULL; never NULL",
		Resolve: distinctResolve(IsDistinctFrom, true)})
	register(&Func{Name: IsNotDistinctFrom, Description: "a IS NOT DISTINCT FROM b: a = b where NULL equals NULL; never NULL",
		Resolve: distinctResolve(IsNotDistinctFrom, false)})
}
