package expr

import (
	"fmt"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// List functions.
//
// array_element(list, i) is what the planner calls for list[i]. As in
// DataFusion (and so Arroyo), i is 1-based, a negative i counts from the
// end (-1 is the last element), and index 0, an index past either end, a
// NULL list or a NULL index give NULL.

func init() {
	registerAll([]string{"array_element", "array_extract", "list_element", "list_extract"},
		"the element of a list at a 1-based index (negative: from the end); NULL when out of range",
		func(name string) func([]types.Type) (*Resolved, error) {
			return func(args []types.Type) (*Resolved, error) {
				if len(args) != 2 || args[0].Kind != types.List {
					return nil, fmt.Errorf("function %s expects (<type>[], BIGINT), got %s", name, typeList(args))
				}
				idx, ok := pInt.coerce(args[1])
				if !ok {
					return nil, fmt.Errorf("function %s expects (<type>[], BIGINT), got %s: the index must be an integer", name, typeList(args))
				}
				return &Resolved{Args: []types.Type{args[0], idx}, Result: *args[0].Elem, Kernel: arrayElement}, nil
			}
		})
}

// arrayElement gathers, for each row, the element its index names from the
// list's element vector, then marks NULL the rows that have none.
func arrayElement(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	l, ok := args[0].(*coldata.List)
	if !ok {
		return nil, fmt.Errorf("array_element on %s, want a list", args[0].Type())
	}
	idx := args[1].(*coldata.Vec[int64])
	elemT := *l.T.Elem
	if l.Elems.Len() == 0 {
		return al.Nulls(elemT, n), nil
	}
	pick := make([]int32, n) // rows outside sel pick element 0
	var missing []int
	row := func(i int) {
		if l.N.IsNull(i) || idx.N.IsNull(i) {
			missing = append(missing, i)
			return
		}
		start, end := int64(l.Offsets[i]), int64(l.Offsets[i+1])
		k := idx.Vals[i]
		switch {
		case k > 0 && k <= end-start:
			pick[i] = int32(start + k - 1)
		case k < 0 && -k <= end-start:
			pick[i] = int32(end + k)
		default:
			missing = append(missing, i)
		}
	}
	if sel == nil {
		for i := range n {
			row(i)
		}
	} else {
		for _, i := range sel {
			row(int(i))
		}
	}
	out := al.Gather(l.Elems, pick)
	for _, i := range missing {
		out.Nulls().SetNull(i)
	}
	return out, nil
}
