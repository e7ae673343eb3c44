package expr

import (
	"bytes"
	"fmt"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Comparison kernels. Like arithmetic they compute densely; they never
// fail. Floats compare like PostgreSQL: NaN equals NaN and sorts above
// every other value, so that comparisons are a total order.

type cmpOp uint8

const (
	cmpEQ cmpOp = iota
	cmpNE
	cmpLT
	cmpLE
	cmpGT
	cmpGE
)

var cmpNames = [...]string{cmpEQ: "=", cmpNE: "<>", cmpLT: "<", cmpLE: "<=", cmpGT: ">", cmpGE: ">="}

// flip returns the operator with its operands swapped (a < b == b > a).
func (op cmpOp) flip() cmpOp {
	switch op {
	case cmpLT:
		return cmpGT
	case cmpLE:
		return cmpGE
	case cmpGT:
		return cmpLT
	case cmpGE:
		return cmpLE
	}
	return op
}

// The NaN terms fold away for integer types.
func eqT[T num](x, y T) bool { return x == y || (x != x && y != y) }
func ltT[T num](x, y T) bool { return x < y || (y != y && x == x) }
func leT[T num](x, y T) bool { return x <= y || y != y }

// cmpDense sets out[i] = x[i] op y[i] (or x[i] op s) for every row.
func cmpDense[T num](op cmpOp, x, y []T, s T, scalar bool, out []bool) {
	x = x[:len(out)]
	if scalar {
		switch op {
		case cmpEQ:
			for i, a := range x {
				out[i] = eqT(a, s)
			}
		case cmpNE:
			for i, a := range x {
				out[i] = !eqT(a, s)
			}
		case cmpLT:
			for i, a := range x {
				out[i] = ltT(a, s)
			}
		case cmpLE:
			for i, a := range x {
				out[i] = leT(a, s)
			}
		case cmpGT:
			for i, a := range x {
				out[i] = ltT(s, a)
			}
		case cmpGE:
			for i, a := range x {
				out[i] = leT(s, a)
			}
		}
		return
	}
	y = y[:len(x)]
	switch op {
	case cmpEQ:
		for i, a := range x {
			out[i] = eqT(a, y[i])
		}
	case cmpNE:
		for i, a := range x {
			out[i] = !eqT(a, y[i])
		}
	case cmpLT:
		for i, a := range x {
			out[i] = ltT(a, y[i])
		}
	case cmpLE:
		for i, a := range x {
			out[i] = leT(a, y[i])
		}
	case cmpGT:
		for i, a := range x {
			out[i] = ltT(y[i], a)
		}
	case cmpGE:
		for i, a := range x {
			out[i] = leT(y[i], a)
		}
	}
}

func cmpBoolDense(op cmpOp, x, y []bool, s bool, scalar bool, out []bool) {
	x = x[:len(out)]
	if !scalar {
		y = y[:len(out)]
	}
	for i, a := range x {
		b := s
		if !scalar {
			b = y[i]
		}
		var r bool
		switch op {
		case cmpEQ:
			r = a == b
		case cmpNE:
			r = a != b
		case cmpLT:
			r = !a && b
		case cmpLE:
			r = !a || b
		case cmpGT:
			r = a && !b
		case cmpGE:
			r = a || !b
		}
		out[i] = r
	}
}

// ordHolds reports whether a three-way comparison result c satisfies op.
func ordHolds(op cmpOp, c int) bool {
	switch op {
	case cmpEQ:
		return c == 0
	case cmpNE:
		return c != 0
	case cmpLT:
		return c < 0
	case cmpLE:
		return c <= 0
	case cmpGT:
		return c > 0
	}
	return c >= 0
}

// cmpBytes compares the live rows of a with b (or s).
func cmpBytes(op cmpOp, a, b *coldata.Bytes, s []byte, n int, sel []int32, out []bool) {
	one := func(i int) {
		x := a.Data[a.Offsets[i]:a.Offsets[i+1]]
		y := s
		if b != nil {
			y = b.Data[b.Offsets[i]:b.Offsets[i+1]]
		}
		switch op {
		case cmpEQ:
			out[i] = string(x) == string(y)
		case cmpNE:
			out[i] = string(x) != string(y)
		default:
			out[i] = ordHolds(op, bytes.Compare(x, y))
		}
	}
	if sel != nil {
		for _, i := range sel {
			one(int(i))
		}
		return
	}
	for i := 0; i < n; i++ {
		one(i)
	}
}

// compareInto sets out[i] = a op b (or a op sc) for the live rows of (n,
// sel) — fixed-width types for all rows — ignoring NULLs, which the caller
// combines from the operands' bitmaps.
func compareInto(op cmpOp, a, b coldata.Vector, sc *scalar, out []bool, n int, sel []int32) error {
	if sc == nil {
		sc = &scalar{}
	}
	switch av := a.(type) {
	case *coldata.Vec[int8]:
		return cmpVec(op, av, b, int8(sc.i), out)
	case *coldata.Vec[int16]:
		return cmpVec(op, av, b, int16(sc.i), out)
	case *coldata.Vec[int32]:
		return cmpVec(op, av, b, int32(sc.i), out)
	case *coldata.Vec[int64]:
		return cmpVec(op, av, b, sc.i, out)
	case *coldata.Vec[uint8]:
		return cmpVec(op, av, b, uint8(sc.u), out)
	case *coldata.Vec[uint16]:
		return cmpVec(op, av, b, uint16(sc.u), out)
	case *coldata.Vec[uint32]:
		return cmpVec(op, av, b, uint32(sc.u), out)
	case *coldata.Vec[uint64]:
		return cmpVec(op, av, b, sc.u, out)
	case *coldata.Vec[float32]:
		return cmpVec(op, av, b, float32(sc.f), out)
	case *coldata.Vec[float64]:
		return cmpVec(op, av, b, sc.f, out)
	case *coldata.Vec[coldata.Int128]:
		return cmpDecimal(op, av, b, sc.d, out)
	case *coldata.Vec[bool]:
		bv, err := operand[bool](b)
		if err != nil {
			return err
		}
		if bv == nil {
			cmpBoolDense(op, av.Vals, nil, sc.b, true, out)
		} else {
			cmpBoolDense(op, av.Vals, bv.Vals, false, false, out)
		}
		return nil
	case *coldata.Bytes:
		var bv *coldata.Bytes
		if b != nil {
			var ok bool
			if bv, ok = b.(*coldata.Bytes); !ok {
				return fmt.Errorf("operand is %T, want *coldata.Bytes", b)
			}
		}
		cmpBytes(op, av, bv, sc.s, n, sel, out)
		return nil
	}
	return fmt.Errorf("operator %s: unsupported operand %T", cmpNames[op], a)
}

func cmpVec[T num](op cmpOp, a *coldata.Vec[T], b coldata.Vector, s T, out []bool) error {
	bv, err := operand[T](b)
	if err != nil {
		return err
	}
	if bv == nil {
		cmpDense(op, a.Vals, nil, s, true, out)
	} else {
		cmpDense(op, a.Vals, bv.Vals, s, false, out)
	}
	return nil
}

// compare returns the BOOLEAN vector a op b (or a op sc).
func compare(al *coldata.Allocator, op cmpOp, a, b coldata.Vector, sc *scalar, n int, sel []int32) (coldata.Vector, error) {
	out := coldata.AllocVec[bool](al, types.BoolT, n)
	if err := compareInto(op, a, b, sc, out.Vals, n, sel); err != nil {
		return nil, err
	}
	nulls := words(a)
	if b != nil {
		nulls = orWords(nulls, words(b))
	}
	out.N.SetWords(nulls)
	return out, nil
}

// isComparable reports whether values of kind k can be compared with the
// comparison operators.
func isComparable(k types.Kind) bool {
	switch k {
	case types.Bool, types.String, types.Bytes, types.Timestamp, types.Interval, types.Date, types.Time, types.Decimal:
		return true
	}
	return k.IsNumeric()
}

func cmpResolve(op cmpOp) func(args []types.Type) (*Resolved, error) {
	name := cmpNames[op]
	kernel := func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		return compare(al, op, args[0], args[1], nil, n, sel)
	}
	return func(args []types.Type) (*Resolved, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("operator %s expects 2 operands, got %d", name, len(args))
		}
		ct, err := CommonType(args[0], args[1])
		if err != nil {
			return nil, fmt.Errorf("operator %s cannot compare %s and %s", name, args[0], args[1])
		}
		if ct.Kind == types.Null {
			ct = types.BoolT
		}
		if (ct.Kind == types.Struct || ct.Kind == types.List) && (op == cmpEQ || op == cmpNE) {
			return &Resolved{Args: []types.Type{ct, ct}, Result: types.BoolT, Kernel: nestedEqual(op == cmpNE)}, nil
		}
		if !isComparable(ct.Kind) {
			return nil, fmt.Errorf("operator %s cannot compare values of type %s", name, ct)
		}
		return &Resolved{Args: []types.Type{ct, ct}, Result: types.BoolT, Kernel: kernel}, nil
	}
}

func init() {
	for op, name := range cmpNames {
		register(&Func{Name: name, Description: "comparison", Resolve: cmpResolve(cmpOp(op))})
	}
}
