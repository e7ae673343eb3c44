package expr

import (
	"context"
	"fmt"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// CASE, COALESCE and IN: the operators that evaluate their arguments on
// parts of the batch (batch views with a narrowed selection) and assemble
// the result from several vectors.

func (cc *compiler) compileCase(e *program.Expr, at src) (Evaluator, error) {
	nargs := len(e.Args)
	pairs := nargs / 2
	if pairs == 0 || (e.HasElse != (nargs%2 == 1)) {
		return nil, compileErr(at, fmt.Errorf("CASE has %d arguments (has_else=%v)", nargs, e.HasElse))
	}
	c := &caseEval{t: e.Type}
	for i := 0; i < pairs; i++ {
		cond := e.Args[2*i]
		if k := cond.Type.Kind; k != types.Bool && k != types.Null {
			return nil, compileErr(at, fmt.Errorf("CASE condition %d has type %s, want BOOLEAN", i+1, cond.Type))
		}
		// Only the first condition is evaluated for every row.
		sub := at
		if i > 0 {
			sub = at.guard()
		}
		f, err := cc.compileFilter(cond, sub)
		if err != nil {
			return nil, err
		}
		c.conds = append(c.conds, f)
	}
	vals := make([]*program.Expr, 0, pairs+1)
	for i := 0; i < pairs; i++ {
		vals = append(vals, e.Args[2*i+1])
	}
	if e.HasElse {
		vals = append(vals, e.Args[nargs-1])
	}
	evs, err := cc.compileArgs(vals, at.guard(), e.Type, false)
	if err != nil {
		return nil, err
	}
	c.vals = evs[:pairs]
	if e.HasElse {
		c.els = evs[pairs]
	}
	return c, nil
}

type caseEval struct {
	allocs

	conds []Filter
	vals  []Evaluator
	els   Evaluator
	t     types.Type
	parts []part
}

// part is a vector that supplies the result for rows.
type part struct {
	v    coldata.Vector
	rows []int32
}

func (c *caseEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	al := c.al

	n := b.Len
	defer func() { clear(c.parts); c.parts = c.parts[:0] }()
	rest := b.Sel
	for k, cond := range c.conds {
		if selLen(n, rest) == 0 {
			break
		}
		taken, err := cond.Select(ctx, view(b, rest))
		if err != nil {
			return nil, err
		}
		if len(taken) == 0 {
			continue
		}
		v, err := c.vals[k].Eval(ctx, view(b, taken))
		if err != nil {
			return nil, err
		}
		if len(c.parts) == 0 && len(taken) == selLen(n, b.Sel) {
			return v, nil // every row took this branch
		}
		c.parts = append(c.parts, part{v, taken})
		rest = diffSel(n, rest, taken)
	}
	if c.els != nil && selLen(n, rest) > 0 {
		v, err := c.els.Eval(ctx, view(b, rest))
		if err != nil {
			return nil, err
		}
		if len(c.parts) == 0 {
			return v, nil
		}
		c.parts = append(c.parts, part{v, rest})
	}
	return assemble(al, c.t, n, b.Sel, c.parts), nil
}

type coalesceEval struct {
	allocs

	args  []Evaluator
	t     types.Type
	parts []part
}

func (c *coalesceEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	al := c.al

	n := b.Len
	defer func() { clear(c.parts); c.parts = c.parts[:0] }()
	rest := b.Sel
	for _, a := range c.args {
		v, err := a.Eval(ctx, view(b, rest))
		if err != nil {
			return nil, err
		}
		w := words(v)
		if len(c.parts) == 0 && (w == nil || countBits(w, n, rest) == 0) {
			return v, nil
		}
		nulls := collectBits(w, n, rest, true)
		c.parts = append(c.parts, part{v, diffSel(n, rest, nulls)})
		rest = nulls
		if len(rest) == 0 {
			break
		}
	}
	return assemble(al, c.t, n, b.Sel, c.parts), nil
}

// assemble builds a vector of type t and length n whose row i is row i of
// the part listing i; live rows of (n, sel) in no part are NULL.
func assemble(al *coldata.Allocator, t types.Type, n int, sel []int32, parts []part) coldata.Vector {
	// which[i] is the part of row i, -1 for a live row in no part (NULL)
	// and -2 for a row outside the selection.
	which := make([]int32, n)
	if sel != nil {
		for i := range which {
			which[i] = -2
		}
		for _, i := range sel {
			which[i] = -1
		}
	} else {
		for i := range which {
			which[i] = -1
		}
	}
	for p, pt := range parts {
		for _, i := range pt.rows {
			which[i] = int32(p)
		}
	}
	pw := make([][]uint64, len(parts))
	for p, pt := range parts {
		pw[p] = words(pt.v)
	}
	var nw []uint64
	markNulls := func() {
		for i, w := range which {
			if w == -1 || (w >= 0 && nullAt(pw[w], i)) {
				if nw == nil {
					nw = make([]uint64, (n+63)>>6)
				}
				setBit(nw, i)
			}
		}
	}
	var out coldata.Vector
	switch t.Kind {
	case types.Null:
		return nullVector(al, t, n)
	case types.Bool:
		out = assembleFixed[bool](al, t, which, parts)
	case types.Int8:
		out = assembleFixed[int8](al, t, which, parts)
	case types.Int16:
		out = assembleFixed[int16](al, t, which, parts)
	case types.Int32, types.Date:
		out = assembleFixed[int32](al, t, which, parts)
	case types.Int64, types.Timestamp, types.Interval, types.Time:
		out = assembleFixed[int64](al, t, which, parts)
	case types.UInt8:
		out = assembleFixed[uint8](al, t, which, parts)
	case types.UInt16:
		out = assembleFixed[uint16](al, t, which, parts)
	case types.UInt32:
		out = assembleFixed[uint32](al, t, which, parts)
	case types.UInt64:
		out = assembleFixed[uint64](al, t, which, parts)
	case types.Float32:
		out = assembleFixed[float32](al, t, which, parts)
	case types.Float64:
		out = assembleFixed[float64](al, t, which, parts)
	case types.Decimal:
		out = assembleFixed[coldata.Int128](al, t, which, parts)
	case types.String, types.Bytes, types.JSON:
		srcs := make([]*coldata.Bytes, len(parts))
		size := 0
		for p, pt := range parts {
			srcs[p] = pt.v.(*coldata.Bytes)
			size += len(srcs[p].Data)
		}
		o := al.BytesRows(t, n, size)
		for i, w := range which {
			if w >= 0 {
				s := srcs[w]
				o.Data = append(o.Data, s.Data[s.Offsets[i]:s.Offsets[i+1]]...)
			}
			o.Offsets[i+1] = int32(len(o.Data))
		}
		out = o
	default:
		// Nested types: the general row-at-a-time path.
		o := al.New(t, n)
		for i, w := range which {
			if w >= 0 {
				coldata.AppendValue(o, parts[w].v, i)
			} else {
				o.AppendNull()
			}
		}
		return o
	}
	markNulls()
	out.Nulls().SetWords(nw)
	return out
}

func assembleFixed[T coldata.Fixed](al *coldata.Allocator, t types.Type, which []int32, parts []part) coldata.Vector {
	srcs := make([][]T, len(parts))
	for p, pt := range parts {
		srcs[p] = pt.v.(*coldata.Vec[T]).Vals
	}
	out := coldata.AllocVec[T](al, t, len(which))
	for i, w := range which {
		if w >= 0 {
			out.Vals[i] = srcs[w][i]
		}
	}
	return out
}

func (cc *compiler) compileIn(e *program.Expr, at src) (Evaluator, error) {
	if len(e.Args) < 2 {
		return nil, compileErr(at, fmt.Errorf("IN needs a probe and at least one list element, got %d arguments", len(e.Args)))
	}
	pt := e.Args[0].Type
	if pt.Kind == types.Null {
		// NULL IN (...) is NULL.
		return &litEval{sc: &scalar{t: types.BoolT, null: true}}, nil
	}
	if !isComparable(pt.Kind) {
		return nil, compileErr(at, fmt.Errorf("IN cannot compare values of type %s", pt))
	}
	args, err := cc.compileArgs(e.Args, at, pt, false)
	if err != nil {
		return nil, err
	}
	in := &inEval{probe: args[0], items: args[1:]}
	// A list of constants becomes a hash set (floats excepted: NaN).
	consts := make([]*scalar, 0, len(args)-1)
	for _, a := range args[1:] {
		l, ok := a.(*litEval)
		if !ok {
			consts = nil
			break
		}
		if l.sc.null {
			in.hasNull = true
			continue
		}
		consts = append(consts, l.sc)
	}
	if consts != nil && !pt.Kind.IsFloat() {
		in.set = newInSet(pt, consts)
	}
	return in, nil
}

// inSet is a constant IN list.
type inSet interface {
	// contains sets out[i] for the live rows whose value is in the set.
	contains(v coldata.Vector, out []bool, n int, sel []int32) error
}

func newInSet(t types.Type, consts []*scalar) inSet {
	switch t.Kind {
	case types.Bool:
		s := fixedSet[bool]{}
		for _, c := range consts {
			s[c.b] = struct{}{}
		}
		return s
	case types.Int8:
		return intSet[int8](consts)
	case types.Int16:
		return intSet[int16](consts)
	case types.Int32, types.Date:
		return intSet[int32](consts)
	case types.Int64, types.Timestamp, types.Interval, types.Time:
		s := fixedSet[int64]{}
		for _, c := range consts {
			s[c.i] = struct{}{}
		}
		return s
	case types.UInt8:
		return uintSet[uint8](consts)
	case types.UInt16:
		return uintSet[uint16](consts)
	case types.UInt32:
		return uintSet[uint32](consts)
	case types.UInt64:
		s := fixedSet[uint64]{}
		for _, c := range consts {
			s[c.u] = struct{}{}
		}
		return s
	case types.Decimal:
		s := fixedSet[coldata.Int128]{}
		for _, c := range consts {
			s[c.d] = struct{}{}
		}
		return s
	case types.String, types.Bytes:
		s := bytesSet{}
		for _, c := range consts {
			s[string(c.s)] = struct{}{}
		}
		return s
	}
	return nil
}

type fixedSet[T coldata.Fixed] map[T]struct{}

// intSet and uintSet build the set of the constants of a signed or unsigned
// integer type narrower than 64 bits (the planner has cast them to it).
func intSet[T ~int8 | ~int16 | ~int32](consts []*scalar) fixedSet[T] {
	s := fixedSet[T]{}
	for _, c := range consts {
		s[T(c.i)] = struct{}{}
	}
	return s
}

func uintSet[T ~uint8 | ~uint16 | ~uint32](consts []*scalar) fixedSet[T] {
	s := fixedSet[T]{}
	for _, c := range consts {
		s[T(c.u)] = struct{}{}
	}
	return s
}

func (s fixedSet[T]) contains(v coldata.Vector, out []bool, n int, sel []int32) error {
	vv, ok := v.(*coldata.Vec[T])
	if !ok {
		return fmt.Errorf("IN probe is %T", v)
	}
	if sel != nil {
		for _, i := range sel {
			_, out[i] = s[vv.Vals[i]]
		}
		return nil
	}
	for i, x := range vv.Vals[:n] {
		_, out[i] = s[x]
	}
	return nil
}

type bytesSet map[string]struct{}

func (s bytesSet) contains(v coldata.Vector, out []bool, n int, sel []int32) error {
	bv, ok := v.(*coldata.Bytes)
	if !ok {
		return fmt.Errorf("IN probe is %T", v)
	}
	if sel != nil {
		for _, i := range sel {
			_, out[i] = s[string(bv.Get(int(i)))]
		}
		return nil
	}
	for i := 0; i < n; i++ {
		_, out[i] = s[string(bv.Get(i))]
	}
	return nil
}

// inEval is probe IN (items...): TRUE if some item equals the probe, else
// NULL if the probe or some item is NULL, else FALSE.
type inEval struct {
	allocs

	probe   Evaluator
	items   []Evaluator
	set     inSet // non-nil when the items are literals
	hasNull bool  // some literal item is NULL
}

func (e *inEval) Eval(ctx context.Context, b *coldata.Batch) (coldata.Vector, error) {
	al := e.al

	p, err := e.probe.Eval(ctx, b)
	if err != nil {
		return nil, err
	}
	n := b.Len
	if e.set == nil {
		var acc *coldata.Vec[bool]
		for _, it := range e.items {
			v, err := it.Eval(ctx, b)
			if err != nil {
				return nil, err
			}
			eq, err := compare(al, cmpEQ, p, v, nil, n, b.Sel)
			if err != nil {
				return nil, err
			}
			if acc == nil {
				acc = eq.(*coldata.Vec[bool])
			} else {
				acc = combine3(al, true, acc, eq.(*coldata.Vec[bool]), n)
			}
		}
		return acc, nil
	}
	out := coldata.AllocVec[bool](al, types.BoolT, n)
	if err := e.set.contains(p, out.Vals, n, b.Sel); err != nil {
		return nil, err
	}
	w := words(p)
	if e.hasNull {
		// No match is NULL, not FALSE.
		w = copyWords(w, n)
		for i, in := range out.Vals {
			if !in {
				setBit(w, i)
			}
		}
	}
	out.N.SetWords(w)
	return out, nil
}
