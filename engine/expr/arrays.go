package expr

import (
	"bytes"
	"cmp"
	"fmt"
	"reflect"
	"slices"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Array (list) functions, as DataFusion defines them: positions are
// 1-based, lengths and positions are BIGINT UNSIGNED (DataFusion's UInt64),
// a NULL array gives NULL, and an element compares equal only to a non-NULL
// equal element. Elements of different numeric types meet in their common
// type (array_has of an INT[] and a BIGINT compares as BIGINT): the kernel
// converts the list's elements, which the planner cannot cast.
//
// Results that are lists are built by gathering elements from the
// arguments' element vectors: one pass per batch, no per-row vectors.

// picker collects the elements of a list result: element k is row row[k]
// of srcs[src[k]].
type picker struct {
	srcs []coldata.Vector
	src  []uint8
	row  []int32
}

func (p *picker) add(src int, row int32) {
	p.src = append(p.src, uint8(src))
	p.row = append(p.row, row)
}

// addRange adds rows from..to (exclusive) of srcs[src].
func (p *picker) addRange(src int, from, to int32) {
	for r := from; r < to; r++ {
		p.add(src, r)
	}
}

// build gathers the picked elements into a vector of type t (the type of
// every source).
func (p *picker) build(al *coldata.Allocator, t types.Type) coldata.Vector {
	if len(p.row) == 0 {
		return al.New(t, 0)
	}
	if len(p.srcs) == 1 {
		return al.Gather(p.srcs[0], p.row)
	}
	switch p.srcs[0].(type) {
	case *coldata.Vec[bool]:
		return pickFixed[bool](al, p, t)
	case *coldata.Vec[int8]:
		return pickFixed[int8](al, p, t)
	case *coldata.Vec[int16]:
		return pickFixed[int16](al, p, t)
	case *coldata.Vec[int32]:
		return pickFixed[int32](al, p, t)
	case *coldata.Vec[int64]:
		return pickFixed[int64](al, p, t)
	case *coldata.Vec[uint8]:
		return pickFixed[uint8](al, p, t)
	case *coldata.Vec[uint16]:
		return pickFixed[uint16](al, p, t)
	case *coldata.Vec[uint32]:
		return pickFixed[uint32](al, p, t)
	case *coldata.Vec[uint64]:
		return pickFixed[uint64](al, p, t)
	case *coldata.Vec[float32]:
		return pickFixed[float32](al, p, t)
	case *coldata.Vec[float64]:
		return pickFixed[float64](al, p, t)
	case *coldata.Bytes:
		size := 0
		for k, r := range p.row {
			b := p.srcs[p.src[k]].(*coldata.Bytes)
			size += int(b.Offsets[r+1] - b.Offsets[r])
		}
		out := al.Bytes(t, len(p.row), size)
		for k, r := range p.row {
			b := p.srcs[p.src[k]].(*coldata.Bytes)
			if b.IsNull(int(r)) {
				out.AppendNull()
			} else {
				out.Append(b.Get(int(r)))
			}
		}
		return out
	}
	// Nested elements (structs, lists) are rare: the general path.
	out := al.New(t, len(p.row))
	for k, r := range p.row {
		coldata.AppendValue(out, p.srcs[p.src[k]], int(r))
	}
	return out
}

func pickFixed[T coldata.Fixed](al *coldata.Allocator, p *picker, t types.Type) coldata.Vector {
	out := coldata.AllocVec[T](al, t, len(p.row))
	for k, r := range p.row {
		v := p.srcs[p.src[k]].(*coldata.Vec[T])
		out.Vals[k] = v.Vals[r]
		if v.N.IsNull(int(r)) {
			out.N.SetNull(k)
		}
	}
	return out
}

// buildList makes a list result of type t over n rows: for each live row
// not NULL in nulls, row(i) adds its elements to p and reports false to
// make the row NULL. Other rows are empty lists.
func buildList(al *coldata.Allocator, t types.Type, n int, sel []int32, nulls []uint64, p *picker, row func(i int) bool) *coldata.List {
	out := al.List(t, n, nil)
	var missing []int
	k := 0
	for i := 0; i < n; i++ {
		live := sel == nil
		if !live && k < len(sel) && int(sel[k]) == i {
			live = true
			k++
		}
		if live && !nullAt(nulls, i) {
			mark := len(p.row)
			if !row(i) {
				p.src, p.row = p.src[:mark], p.row[:mark]
				missing = append(missing, i)
			}
		}
		out.Offsets[i+1] = int32(len(p.row))
	}
	out.Elems = p.build(al, *t.Elem)
	out.N.SetWords(withMissing(nulls, missing, n))
	return out
}

// elemsAs returns the elements of l converted to type t.
func elemsAs(al *coldata.Allocator, l *coldata.List, t types.Type) (coldata.Vector, error) {
	return castVec(al, l.Elems, t, l.Elems.Len(), nil)
}

// asType converts v (n rows) to t.
func asType(al *coldata.Allocator, v coldata.Vector, t types.Type, n int) (coldata.Vector, error) {
	return castVec(al, v, t, n, nil)
}

// eqFunc returns whether row i of a equals row j of b (same type); NULLs
// are never equal.
func eqFunc(a, b coldata.Vector) func(i, j int) bool {
	switch a := a.(type) {
	case *coldata.Vec[bool]:
		return eqFixed(a, b.(*coldata.Vec[bool]))
	case *coldata.Vec[int8]:
		return eqFixed(a, b.(*coldata.Vec[int8]))
	case *coldata.Vec[int16]:
		return eqFixed(a, b.(*coldata.Vec[int16]))
	case *coldata.Vec[int32]:
		return eqFixed(a, b.(*coldata.Vec[int32]))
	case *coldata.Vec[int64]:
		return eqFixed(a, b.(*coldata.Vec[int64]))
	case *coldata.Vec[uint8]:
		return eqFixed(a, b.(*coldata.Vec[uint8]))
	case *coldata.Vec[uint16]:
		return eqFixed(a, b.(*coldata.Vec[uint16]))
	case *coldata.Vec[uint32]:
		return eqFixed(a, b.(*coldata.Vec[uint32]))
	case *coldata.Vec[uint64]:
		return eqFixed(a, b.(*coldata.Vec[uint64]))
	case *coldata.Vec[float32]:
		return eqFixed(a, b.(*coldata.Vec[float32]))
	case *coldata.Vec[float64]:
		return eqFixed(a, b.(*coldata.Vec[float64]))
	case *coldata.Bytes:
		bb := b.(*coldata.Bytes)
		return func(i, j int) bool { return !a.IsNull(i) && !bb.IsNull(j) && bytes.Equal(a.Get(i), bb.Get(j)) }
	}
	return func(i, j int) bool {
		return !a.IsNull(i) && !b.IsNull(j) && reflect.DeepEqual(coldata.Value(a, i), coldata.Value(b, j))
	}
}

func eqFixed[T coldata.Fixed](a, b *coldata.Vec[T]) func(i, j int) bool {
	aw, bw := words(a), words(b)
	return func(i, j int) bool { return !nullAt(aw, i) && !nullAt(bw, j) && a.Vals[i] == b.Vals[j] }
}

// listElemArg resolves (T[], T) arguments: the element meets the list's
// element type in their common type, which is returned.
func listElemArg(name string, list, elem types.Type) (types.Type, error) {
	if list.Kind != types.List {
		return types.Type{}, fmt.Errorf("function %s expects an array first, got %s", name, list)
	}
	ct, err := CommonType(*list.Elem, elem)
	if err != nil {
		return types.Type{}, fmt.Errorf("function %s expects (%s, %s), got (%s, %s): %v", name, list, list.Elem, list, elem, err)
	}
	return ct, nil
}

// commonList is the common element type of list arguments.
func commonList(name string, args []types.Type) (types.Type, error) {
	var t types.Type = types.NullT
	for _, a := range args {
		if a.Kind == types.Null {
			continue
		}
		if a.Kind != types.List {
			return types.Type{}, fmt.Errorf("function %s expects arrays, got %s", name, typeList(args))
		}
		ct, err := CommonType(t, *a.Elem)
		if err != nil {
			return types.Type{}, fmt.Errorf("function %s expects arrays of one element type, got %s: %v", name, typeList(args), err)
		}
		t = ct
	}
	if t.Kind == types.Null {
		return types.Type{}, fmt.Errorf("function %s expects arrays, got %s", name, typeList(args))
	}
	return t, nil
}

// listArgType is the argument type an array argument keeps: itself, or for
// an untyped NULL an array of elem.
func listArgType(t, elem types.Type) types.Type {
	if t.Kind == types.Null {
		return types.ListOf(elem)
	}
	return t
}

func makeArrayResolve(args []types.Type) (*Resolved, error) {
	var t types.Type = types.NullT
	for _, a := range args {
		ct, err := CommonType(t, a)
		if err != nil {
			return nil, fmt.Errorf("function make_array: the elements have no common type: %v", err)
		}
		t = ct
	}
	if t.Kind == types.Null && len(args) > 0 {
		t = types.Int64T // make_array(NULL): DataFusion's Int64 for an untyped NULL
	}
	// make_array() and [] are empty arrays of NULL, which combine with an
	// array of any type (array_concat(a, [])).
	want := make([]types.Type, len(args))
	for i := range want {
		want[i] = t
	}
	lt := types.ListOf(t)
	return &Resolved{Args: want, Result: lt, Kernel: func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		p := &picker{srcs: vs}
		return buildList(al, lt, n, sel, nil, p, func(i int) bool {
			for k := range vs {
				p.add(k, int32(i))
			}
			return true
		}), nil
	}}, nil
}

// lengthKernel is array_length and cardinality: the number of elements.
func lengthKernel(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	l := args[0].(*coldata.List)
	nulls := unionNulls(args)
	var dim *coldata.Vec[int64]
	if len(args) > 1 {
		dim = args[1].(*coldata.Vec[int64])
	}
	out := coldata.AllocVec[uint64](al, types.UInt64T, n)
	var missing []int
	_ = forLive(n, sel, nulls, func(i int) error {
		if dim != nil && dim.Vals[i] != 1 {
			missing = append(missing, i) // only one dimension
			return nil
		}
		out.Vals[i] = uint64(l.Offsets[i+1] - l.Offsets[i])
		return nil
	})
	out.N.SetWords(withMissing(nulls, missing, n))
	return out, nil
}

// findKernel is array_has and array_position: find the needle among the
// elements (from a 1-based start), giving its position or whether it is
// there.
func findKernel(position bool, ct types.Type) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		l := args[0].(*coldata.List)
		elems, err := elemsAs(al, l, ct)
		if err != nil {
			return nil, err
		}
		needle, err := asType(al, args[1], ct, n)
		if err != nil {
			return nil, err
		}
		var start *coldata.Vec[int64]
		if len(args) > 2 {
			start = args[2].(*coldata.Vec[int64])
		}
		eq := eqFunc(elems, needle)
		nulls := unionNulls(args)
		find := func(i int) int {
			from := l.Offsets[i]
			if start != nil {
				s := start.Vals[i]
				if s > 1 {
					from += int32(min(s-1, int64(l.Offsets[i+1]-from)))
				}
			}
			for e := from; e < l.Offsets[i+1]; e++ {
				if eq(int(e), i) {
					return int(e - l.Offsets[i] + 1)
				}
			}
			return 0
		}
		if !position {
			out := coldata.AllocVec[bool](al, types.BoolT, n)
			_ = forLive(n, sel, nulls, func(i int) error { out.Vals[i] = find(i) > 0; return nil })
			out.N.SetWords(nulls)
			return out, nil
		}
		out := coldata.AllocVec[uint64](al, types.UInt64T, n)
		var missing []int
		_ = forLive(n, sel, nulls, func(i int) error {
			if k := find(i); k > 0 {
				out.Vals[i] = uint64(k)
			} else {
				missing = append(missing, i)
			}
			return nil
		})
		out.N.SetWords(withMissing(nulls, missing, n))
		return out, nil
	}
}

func findResolve(name string, position bool) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		n := 2
		if position {
			n = 3
		}
		if len(args) < 2 || len(args) > n || (len(args) == 3 && !(args[2].Kind.IsInteger() || args[2].Kind == types.Null)) {
			form := "(<type>[], <type>)"
			if position {
				form = "(<type>[], <type>[, BIGINT])"
			}
			return nil, fmt.Errorf("function %s expects %s, got %s", name, form, typeList(args))
		}
		if args[0].Kind == types.Null {
			args = append([]types.Type{types.ListOf(args[1])}, args[1:]...)
		}
		ct, err := listElemArg(name, args[0], args[1])
		if err != nil {
			return nil, err
		}
		want := []types.Type{args[0], args[1]}
		if args[1].Kind == types.Null {
			want[1] = ct
		}
		if len(args) == 3 {
			want = append(want, types.Int64T)
		}
		result := types.BoolT
		if position {
			result = types.UInt64T
		}
		return &Resolved{Args: want, Result: result, Kernel: findKernel(position, ct)}, nil
	}
}

// setKernel is array_has_all (all) and array_has_any: whether all (any)
// elements of the second array are in the first.
func setKernel(all bool, ct types.Type) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		a, b := args[0].(*coldata.List), args[1].(*coldata.List)
		ae, err := elemsAs(al, a, ct)
		if err != nil {
			return nil, err
		}
		be, err := elemsAs(al, b, ct)
		if err != nil {
			return nil, err
		}
		eq := eqFunc(ae, be)
		nulls := unionNulls(args)
		out := coldata.AllocVec[bool](al, types.BoolT, n)
		_ = forLive(n, sel, nulls, func(i int) error {
			res := all
			for j := b.Offsets[i]; j < b.Offsets[i+1]; j++ {
				in := false
				for e := a.Offsets[i]; e < a.Offsets[i+1] && !in; e++ {
					in = eq(int(e), int(j))
				}
				if in != all {
					res = !all
					break
				}
			}
			out.Vals[i] = res
			return nil
		})
		out.N.SetWords(nulls)
		return out, nil
	}
}

func setResolve(name string, all bool) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("function %s expects (<type>[], <type>[]), got %s", name, typeList(args))
		}
		ct, err := commonList(name, args)
		if err != nil {
			return nil, err
		}
		return &Resolved{Args: []types.Type{listArgType(args[0], ct), listArgType(args[1], ct)}, Result: types.BoolT,
			Kernel: setKernel(all, ct)}, nil
	}
}

// appendResolve is array_append(list, e) (prepend false) and
// array_prepend(e, list). A NULL list is taken as empty, as DataFusion
// does.
func appendResolve(name string, prepend bool) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("function %s expects %s, got %s", name, map[bool]string{false: "(<type>[], <type>)", true: "(<type>, <type>[])"}[prepend], typeList(args))
		}
		li, ei := 0, 1
		if prepend {
			li, ei = 1, 0
		}
		lt := args[li]
		if lt.Kind == types.Null {
			lt = types.ListOf(args[ei])
			if args[ei].Kind == types.Null {
				lt = types.ListOf(types.Int64T)
			}
		}
		ct, err := listElemArg(name, lt, args[ei])
		if err != nil {
			return nil, err
		}
		want := make([]types.Type, 2)
		want[li], want[ei] = lt, ct
		rt := types.ListOf(ct)
		return &Resolved{Args: want, Result: rt, Kernel: func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
			l := vs[li].(*coldata.List)
			elems, err := elemsAs(al, l, ct)
			if err != nil {
				return nil, err
			}
			lw := words(l)
			p := &picker{srcs: []coldata.Vector{elems, vs[ei]}}
			return buildList(al, rt, n, sel, nil, p, func(i int) bool {
				if prepend {
					p.add(1, int32(i))
				}
				if !nullAt(lw, i) {
					p.addRange(0, l.Offsets[i], l.Offsets[i+1])
				}
				if !prepend {
					p.add(1, int32(i))
				}
				return true
			}), nil
		}}, nil
	}
}

// concatResolveArrays is array_concat(list, ...): NULL arrays are skipped;
// the result is NULL only if every array is.
func concatResolveArrays(name string) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		if len(args) == 0 {
			return nil, fmt.Errorf("function %s expects at least one array", name)
		}
		ct, err := commonList(name, args)
		if err != nil {
			return nil, err
		}
		want := make([]types.Type, len(args))
		for i, a := range args {
			want[i] = listArgType(a, ct)
		}
		rt := types.ListOf(ct)
		return &Resolved{Args: want, Result: rt, Kernel: func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
			ls := make([]*coldata.List, len(vs))
			p := &picker{srcs: make([]coldata.Vector, len(vs))}
			for k, v := range vs {
				ls[k] = v.(*coldata.List)
				e, err := elemsAs(al, ls[k], ct)
				if err != nil {
					return nil, err
				}
				p.srcs[k] = e
			}
			return buildList(al, rt, n, sel, nil, p, func(i int) bool {
				any := false
				for k, l := range ls {
					if l.IsNull(i) {
						continue
					}
					any = true
					p.addRange(k, l.Offsets[i], l.Offsets[i+1])
				}
				return any
			}), nil
		}}, nil
	}
}

// removeResolve is array_remove (the first occurrence) and
// array_remove_all. A NULL element equals nothing: the array is unchanged.
func removeResolve(name string, all bool) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("function %s expects (<type>[], <type>), got %s", name, typeList(args))
		}
		ct, err := listElemArg(name, args[0], args[1])
		if err != nil {
			return nil, err
		}
		rt := types.ListOf(ct)
		return &Resolved{Args: []types.Type{args[0], ct}, Result: rt, Kernel: func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
			l := vs[0].(*coldata.List)
			elems, err := elemsAs(al, l, ct)
			if err != nil {
				return nil, err
			}
			eq := eqFunc(elems, vs[1])
			p := &picker{srcs: []coldata.Vector{elems}}
			return buildList(al, rt, n, sel, words(l), p, func(i int) bool {
				removed := false
				for e := l.Offsets[i]; e < l.Offsets[i+1]; e++ {
					if (all || !removed) && eq(int(e), i) {
						removed = true
						continue
					}
					p.add(0, e)
				}
				return true
			}), nil
		}}, nil
	}
}

// arrayDistinctResolve is array_distinct: the distinct elements in ascending
// order (NULL first), as DataFusion sorts them.
func arrayDistinctResolve(args []types.Type) (*Resolved, error) {
	if len(args) != 1 || args[0].Kind != types.List {
		return nil, fmt.Errorf("function array_distinct expects (<type>[]), got %s", typeList(args))
	}
	et := *args[0].Elem
	if !(et.Kind.IsNumeric() || et.Kind == types.Bool || et.Kind.IsBytesLike() || et.Kind == types.Timestamp || et.Kind == types.Interval) {
		return nil, fmt.Errorf("function array_distinct does not support arrays of %s", et)
	}
	return &Resolved{Args: args, Result: args[0], Kernel: func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		l := vs[0].(*coldata.List)
		less := lessFunc(l.Elems)
		eq := eqFunc(l.Elems, l.Elems)
		p := &picker{srcs: []coldata.Vector{l.Elems}}
		var idx []int32
		return buildList(al, args[0], n, sel, words(l), p, func(i int) bool {
			idx = idx[:0]
			for e := l.Offsets[i]; e < l.Offsets[i+1]; e++ {
				idx = append(idx, e)
			}
			slices.SortStableFunc(idx, func(a, b int32) int {
				an, bn := l.Elems.IsNull(int(a)), l.Elems.IsNull(int(b))
				switch {
				case an && bn:
					return 0
				case an:
					return -1
				case bn:
					return 1
				case less(int(a), int(b)):
					return -1
				case less(int(b), int(a)):
					return 1
				}
				return 0
			})
			for k, e := range idx {
				if k > 0 {
					prev := idx[k-1]
					if eq(int(prev), int(e)) || l.Elems.IsNull(int(prev)) && l.Elems.IsNull(int(e)) {
						continue
					}
				}
				p.add(0, e)
			}
			return true
		}), nil
	}}, nil
}

// lessFunc orders the non-NULL rows of a scalar vector.
func lessFunc(v coldata.Vector) func(i, j int) bool {
	switch v := v.(type) {
	case *coldata.Vec[bool]:
		return func(i, j int) bool { return !v.Vals[i] && v.Vals[j] }
	case *coldata.Vec[int8]:
		return lessFixed(v)
	case *coldata.Vec[int16]:
		return lessFixed(v)
	case *coldata.Vec[int32]:
		return lessFixed(v)
	case *coldata.Vec[int64]:
		return lessFixed(v)
	case *coldata.Vec[uint8]:
		return lessFixed(v)
	case *coldata.Vec[uint16]:
		return lessFixed(v)
	case *coldata.Vec[uint32]:
		return lessFixed(v)
	case *coldata.Vec[uint64]:
		return lessFixed(v)
	case *coldata.Vec[float32]:
		return lessFixed(v)
	case *coldata.Vec[float64]:
		return lessFixed(v)
	case *coldata.Bytes:
		return func(i, j int) bool { return bytes.Compare(v.Get(i), v.Get(j)) < 0 }
	}
	panic(fmt.Sprintf("expr: lessFunc of %T", v))
}

func lessFixed[T interface {
	coldata.Fixed
	cmp.Ordered
}](v *coldata.Vec[T]) func(i, j int) bool {
	return func(i, j int) bool { return cmp.Less(v.Vals[i], v.Vals[j]) }
}

// arrayToString joins the elements as text with a separator; NULL
// elements are skipped, or written as the third argument when given.
func arrayToStringResolve(name string) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		form := fmt.Errorf("function %s expects (<type>[], TEXT[, TEXT]), got %s", name, typeList(args))
		if len(args) < 2 || len(args) > 3 || args[0].Kind != types.List {
			return nil, form
		}
		if err := CanCast(*args[0].Elem, types.StringT); err != nil {
			return nil, fmt.Errorf("function %s: the elements of %s cannot be written as text: %v", name, args[0], err)
		}
		want := []types.Type{args[0]}
		for _, a := range args[1:] {
			t, ok := pText.coerce(a)
			if !ok {
				return nil, form
			}
			want = append(want, t)
		}
		return &Resolved{Args: want, Result: types.StringT, Kernel: func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
			l := vs[0].(*coldata.List)
			text, err := elemsAs(al, l, types.StringT)
			if err != nil {
				return nil, err
			}
			tb := text.(*coldata.Bytes)
			sep := vs[1].(*coldata.Bytes)
			var nullText *coldata.Bytes
			if len(vs) > 2 {
				nullText = vs[2].(*coldata.Bytes)
			}
			nulls := orWords(words(l), words(sep))
			return buildBytes(al, types.StringT, n, sel, nulls, len(tb.Data)+n, func(dst []byte, i int) []byte {
				first := true
				for e := l.Offsets[i]; e < l.Offsets[i+1]; e++ {
					var v []byte
					switch {
					case !tb.IsNull(int(e)):
						v = tb.Get(int(e))
					case nullText != nil && !nullText.IsNull(i):
						v = nullText.Get(i)
					default:
						continue
					}
					if !first {
						dst = append(dst, sep.Get(i)...)
					}
					first = false
					dst = append(dst, v...)
				}
				return dst
			}), nil
		}}, nil
	}
}

func init() {
	register(&Func{Name: "make_array", Description: "an array of the arguments", Resolve: makeArrayResolve})
	registerAll([]string{"array_length", "list_length"}, "the number of elements (dimension 1 only)",
		func(name string) func([]types.Type) (*Resolved, error) {
			return func(args []types.Type) (*Resolved, error) {
				if len(args) < 1 || len(args) > 2 || args[0].Kind != types.List ||
					len(args) == 2 && !(args[1].Kind.IsInteger() || args[1].Kind == types.Null) {
					return nil, fmt.Errorf("function %s expects (<type>[][, BIGINT]), got %s", name, typeList(args))
				}
				want := []types.Type{args[0]}
				if len(args) == 2 {
					want = append(want, types.Int64T)
				}
				return &Resolved{Args: want, Result: types.UInt64T, Kernel: lengthKernel}, nil
			}
		})
	register(&Func{Name: "cardinality", Description: "the number of elements",
		Resolve: func(args []types.Type) (*Resolved, error) {
			if len(args) != 1 || args[0].Kind != types.List {
				return nil, fmt.Errorf("function cardinality expects (<type>[]), got %s", typeList(args))
			}
			return &Resolved{Args: args, Result: types.UInt64T, Kernel: lengthKernel}, nil
		}})
	registerAll([]string{"array_has", "array_contains", "list_has", "list_contains"}, "whether the array has the element",
		func(name string) func([]types.Type) (*Resolved, error) { return findResolve(name, false) })
	registerAll([]string{"array_position", "array_indexof", "list_position", "list_indexof"},
		"the 1-based position of the element's first occurrence (from a start position), NULL if absent",
		func(name string) func([]types.Type) (*Resolved, error) { return findResolve(name, true) })
	registerAll([]string{"array_has_all", "list_has_all"}, "whether the first array has every element of the second",
		func(name string) func([]types.Type) (*Resolved, error) { return setResolve(name, true) })
	registerAll([]string{"array_has_any", "list_has_any"}, "whether the first array has any element of the second",
		func(name string) func([]types.Type) (*Resolved, error) { return setResolve(name, false) })
	registerAll([]string{"array_append", "list_append", "array_push_back", "list_push_back"}, "the array with an element added at the end",
		func(name string) func([]types.Type) (*Resolved, error) { return appendResolve(name, false) })
	registerAll([]string{"array_prepend", "list_prepend", "array_push_front", "list_push_front"}, "the array with an element added at the start",
		func(name string) func([]types.Type) (*Resolved, error) { return appendResolve(name, true) })
	registerAll([]string{"array_concat", "array_cat", "list_concat", "list_cat"}, "the arrays one after another (NULL arrays skipped)",
		concatResolveArrays)
	registerAll([]string{"array_remove", "list_remove"}, "the array without the element's first occurrence",
		func(name string) func([]types.Type) (*Resolved, error) { return removeResolve(name, false) })
	registerAll([]string{"array_remove_all", "list_remove_all"}, "the array without any occurrence of the element",
		func(name string) func([]types.Type) (*Resolved, error) { return removeResolve(name, true) })
	registerAll([]string{"array_to_string", "array_join", "list_to_string", "list_join"}, "the elements as text joined by a separator",
		arrayToStringResolve)
	registerAll([]string{"array_distinct", "list_distinct"}, "the distinct elements, sorted",
		func(string) func([]types.Type) (*Resolved, error) { return arrayDistinctResolve })
}
