package expr

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// More array functions: array_slice, array_reverse, array_sort,
// array_repeat (DataFusion's).

var errArrayTooLarge = errors.New("requested array length too large")

// sliceBounds returns the 0-based [from, to) of array_slice(a, begin, end)
// over n elements: 1-based, end inclusive, negative from the end, clamped.
func sliceBounds(n, begin, end int64) (from, to int64) {
	if begin < 0 {
		begin += n + 1
	}
	if end < 0 {
		end += n + 1
	}
	begin = max(begin, 1)
	end = min(end, n)
	if begin > end {
		return 0, 0
	}
	return begin - 1, end
}

func arraySliceResolve(name string) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		if len(args) < 3 || len(args) > 4 || args[0].Kind != types.List {
			return nil, fmt.Errorf("function %s expects (<type>[], BIGINT, BIGINT[, BIGINT]), got %s", name, typeList(args))
		}
		want := []types.Type{args[0]}
		for _, a := range args[1:] {
			t, ok := pInt.coerce(a)
			if !ok {
				return nil, fmt.Errorf("function %s expects (<type>[], BIGINT, BIGINT[, BIGINT]), got %s", name, typeList(args))
			}
			want = append(want, t)
		}
		return &Resolved{Args: want, Result: args[0], Kernel: func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
			l := vs[0].(*coldata.List)
			b, e := vs[1].(*coldata.Vec[int64]), vs[2].(*coldata.Vec[int64])
			var stride *coldata.Vec[int64]
			if len(vs) > 3 {
				stride = vs[3].(*coldata.Vec[int64])
			}
			p := &picker{srcs: []coldata.Vector{l.Elems}}
			return buildList(al, args[0], n, sel, unionNulls(vs), p, func(i int) bool {
				step := int64(1)
				if stride != nil {
					if step = stride.Vals[i]; step <= 0 {
						return false // only forward strides
					}
				}
				off := int64(l.Offsets[i])
				from, to := sliceBounds(int64(l.Offsets[i+1])-off, b.Vals[i], e.Vals[i])
				for k := from; k < to; k += step {
					p.add(0, int32(off+k))
				}
				return true
			}), nil
		}}, nil
	}
}

func arrayReverseResolve(args []types.Type) (*Resolved, error) {
	if len(args) != 1 || args[0].Kind != types.List {
		return nil, fmt.Errorf("function array_reverse expects (<type>[]), got %s", typeList(args))
	}
	return &Resolved{Args: args, Result: args[0], Kernel: func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		l := vs[0].(*coldata.List)
		p := &picker{srcs: []coldata.Vector{l.Elems}}
		return buildList(al, args[0], n, sel, words(l), p, func(i int) bool {
			for e := l.Offsets[i+1] - 1; e >= l.Offsets[i]; e-- {
				p.add(0, e)
			}
			return true
		}), nil
	}}, nil
}

// sortOrder reads array_sort's 'ASC' / 'DESC' and 'NULLS FIRST' / 'NULLS
// LAST' arguments.
func sortOrder(dir, nulls []byte) (desc, nullsFirst bool, err error) {
	switch strings.ToUpper(strings.TrimSpace(string(dir))) {
	case "", "ASC":
	case "DESC":
		desc = true
	default:
		return false, false, fmt.Errorf("array_sort: the order must be 'ASC' or 'DESC', got '%s'", dir)
	}
	nullsFirst = !desc // DataFusion's default: NULLS FIRST for ASC, LAST for DESC
	if nulls != nil {
		switch strings.Join(strings.Fields(strings.ToUpper(string(nulls))), " ") {
		case "NULLS FIRST":
			nullsFirst = true
		case "NULLS LAST":
			nullsFirst = false
		default:
			return false, false, fmt.Errorf("array_sort: the NULL order must be 'NULLS FIRST' or 'NULLS LAST', got '%s'", nulls)
		}
	}
	return desc, nullsFirst, nil
}

func arraySortResolve(name string) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		if len(args) < 1 || len(args) > 3 || args[0].Kind != types.List {
			return nil, fmt.Errorf("function %s expects (<type>[][, TEXT[, TEXT]]), got %s", name, typeList(args))
		}
		et := *args[0].Elem
		if !(et.Kind.IsNumeric() || et.Kind == types.Bool || et.Kind.IsBytesLike() || et.Kind == types.Timestamp || et.Kind == types.Interval) {
			return nil, fmt.Errorf("function %s does not support arrays of %s", name, et)
		}
		want := []types.Type{args[0]}
		for _, a := range args[1:] {
			t, ok := pText.coerce(a)
			if !ok {
				return nil, fmt.Errorf("function %s expects (<type>[][, TEXT[, TEXT]]), got %s", name, typeList(args))
			}
			want = append(want, t)
		}
		return &Resolved{Args: want, Result: args[0], Kernel: func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
			l := vs[0].(*coldata.List)
			less := lessFunc(l.Elems)
			p := &picker{srcs: []coldata.Vector{l.Elems}}
			var idx []int32
			var err error
			out := buildList(al, args[0], n, sel, unionNulls(vs), p, func(i int) bool {
				if err != nil {
					return false
				}
				var dir, nulls []byte
				if len(vs) > 1 {
					dir = vs[1].(*coldata.Bytes).Get(i)
				}
				if len(vs) > 2 {
					nulls = vs[2].(*coldata.Bytes).Get(i)
				}
				desc, nullsFirst, e := sortOrder(dir, nulls)
				if e != nil {
					err = atRow(i, e)
					return false
				}
				idx = idx[:0]
				for e := l.Offsets[i]; e < l.Offsets[i+1]; e++ {
					idx = append(idx, e)
				}
				slices.SortStableFunc(idx, func(a, b int32) int {
					an, bn := l.Elems.IsNull(int(a)), l.Elems.IsNull(int(b))
					switch {
					case an && bn:
						return 0
					case an != bn:
						if an == nullsFirst {
							return -1
						}
						return 1
					}
					c := 0
					if less(int(a), int(b)) {
						c = -1
					} else if less(int(b), int(a)) {
						c = 1
					}
					if desc {
						c = -c
					}
					return c
				})
				for _, e := range idx {
					p.add(0, e)
				}
				return true
			})
			if err != nil {
				return nil, err
			}
			return out, nil
		}}, nil
	}
}

func arrayRepeatResolve(args []types.Type) (*Resolved, error) {
	if len(args) != 2 || !(args[1].Kind.IsInteger() || args[1].Kind == types.Null) {
		return nil, fmt.Errorf("function array_repeat expects (<type>, BIGINT), got %s", typeList(args))
	}
	et := args[0]
	if et.Kind == types.Null {
		et = types.Int64T
	}
	rt := types.ListOf(et)
	return &Resolved{Args: []types.Type{et, types.Int64T}, Result: rt, Kernel: func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		count := vs[1].(*coldata.Vec[int64])
		p := &picker{srcs: vs[:1]}
		total := 0
		var err error
		out := buildList(al, rt, n, sel, words(count), p, func(i int) bool {
			if err != nil {
				return false
			}
			c := count.Vals[i]
			if total += int(max(c, 0)); c > maxResult || total > maxResult {
				err = atRow(i, errArrayTooLarge)
				return false
			}
			for ; c > 0; c-- {
				p.add(0, int32(i))
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	}}, nil
}

func init() {
	registerAll([]string{"array_slice", "list_slice"}, "the elements from a 1-based begin to an end position (inclusive; negative from the end), with an optional stride",
		arraySliceResolve)
	registerAll([]string{"array_reverse", "list_reverse"}, "the elements in reverse order",
		func(string) func([]types.Type) (*Resolved, error) { return arrayReverseResolve })
	registerAll([]string{"array_sort", "list_sort"}, "the elements sorted ('ASC' or 'DESC', 'NULLS FIRST' or 'NULLS LAST')",
		arraySortResolve)
	registerAll([]string{"array_repeat", "list_repeat"}, "an array of the element repeated n times",
		func(string) func([]types.Type) (*Resolved, error) { return arrayRepeatResolve })
}
