package expr

import (
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// DECIMAL(p, s) is a *coldata.Vec[coldata.Int128] of the values times
// 10^s. The rules for result types are Arrow's (arrow-arith, which
// DataFusion uses); see docs/sql/types.md:
//
//	a + b, a - b   DECIMAL(min(38, max(p1-s1, p2-s2) + max(s1, s2) + 1), max(s1, s2))
//	a * b          DECIMAL(min(38, p1 + p2 + 1), s1 + s2)
//	a / b          DECIMAL(min(38, p1 - s1 + s2 + s), s) with s = min(38, s1 + 4), truncated
//	a % b          DECIMAL(min(38, min(p1-s1, p2-s2) + max(s1, s2)), max(s1, s2))
//
// An integer operand is the DECIMAL that holds its type (TINYINT is
// DECIMAL(3, 0), SMALLINT (5, 0), INT (10, 0), BIGINT (20, 0)); a
// floating-point operand makes the operation DOUBLE. A result that does not
// fit its precision, and division by zero, are errors naming the row.

type dec = coldata.Int128

// decimalOfInt is the DECIMAL type that holds every value of integer kind k.
func decimalOfInt(k types.Kind) types.Type {
	switch k {
	case types.Int8, types.UInt8:
		return types.DecimalOf(3, 0)
	case types.Int16, types.UInt16:
		return types.DecimalOf(5, 0)
	case types.Int32, types.UInt32:
		return types.DecimalOf(10, 0)
	}
	return types.DecimalOf(20, 0)
}

// asDecimal returns t as a DECIMAL type: t itself, or the one holding an
// integer type; ok is false for other types.
func asDecimal(t types.Type) (types.Type, bool) {
	switch {
	case t.Kind == types.Decimal:
		return t, true
	case t.Kind.IsInteger():
		return decimalOfInt(t.Kind), true
	}
	return types.Type{}, false
}

// commonDecimal is CommonType when a DECIMAL meets a number: with a float
// DOUBLE; with an integer or another DECIMAL the narrowest DECIMAL holding
// both (the larger scale and the larger number of integer digits, at most
// 38 digits in all, as DataFusion widens decimals). ok is false when
// neither is a DECIMAL.
func commonDecimal(a, b types.Type) (t types.Type, ok bool, err error) {
	if a.Kind != types.Decimal && b.Kind != types.Decimal {
		return types.Type{}, false, nil
	}
	if a.Kind.IsFloat() || b.Kind.IsFloat() {
		return types.Float64T, true, nil
	}
	da, ok1 := asDecimal(a)
	db, ok2 := asDecimal(b)
	if !ok1 || !ok2 {
		return types.Type{}, true, fmt.Errorf("cannot combine %s and %s", a, b)
	}
	s := max(da.Scale, db.Scale)
	whole := max(da.Precision-da.Scale, db.Precision-db.Scale)
	return types.DecimalOf(min(types.MaxDecimalPrecision, int(whole)+int(s)), int(s)), true, nil
}

// canCastDecimal is CanCast from or to DECIMAL: to and from other
// DECIMALs, integers, floats and TEXT.
func canCastDecimal(f, t types.Kind) bool {
	other := f
	if f == types.Decimal {
		other = t
	}
	return other == types.Decimal || other.IsInteger() || other.IsFloat() || other == types.String
}

func outOfRange(x dec, scale int, to types.Type) *CastError {
	return &CastError{Value: string(coldata.AppendDecimal(nil, x, scale)), To: to, OutOfRange: true}
}

// castDecimal is castVec from or to DECIMAL.
func castDecimal(al *coldata.Allocator, v coldata.Vector, to types.Type, n int, sel []int32) (coldata.Vector, error) {
	w := words(v)
	if x, ok := v.(*coldata.Vec[dec]); ok {
		s := int(x.T.Scale)
		switch {
		case to.Kind == types.Decimal:
			return rescale(al, x, to, n, sel)
		case to.Kind == types.String:
			return buildBytes(al, to, n, sel, w, n*8, func(dst []byte, i int) []byte {
				return coldata.AppendDecimal(dst, x.Vals[i], s)
			}), nil
		case to.Kind.IsFloat():
			f := coldata.AllocVec[float64](al, types.Float64T, n)
			for i, d := range x.Vals[:n] {
				f.Vals[i] = d.Float64(s)
			}
			f.N.SetWords(w)
			return castVec(al, f, to, n, sel)
		case to.Kind.IsInteger():
			// Truncated toward zero, as Arrow casts; then the integer
			// cast checks the range.
			if to.Kind == types.UInt64 {
				out := coldata.AllocVec[uint64](al, to, n)
				err := forLive(n, sel, w, func(i int) error {
					q, _ := x.Vals[i].QuoPow10(s)
					if q.Hi != 0 {
						return outOfRange(x.Vals[i], s, to)
					}
					out.Vals[i] = q.Lo
					return nil
				})
				out.N.SetWords(w)
				return out, err
			}
			out := coldata.AllocVec[int64](al, types.Int64T, n)
			err := forLive(n, sel, w, func(i int) error {
				q, _ := x.Vals[i].QuoPow10(s)
				if !q.IsInt64() {
					return outOfRange(x.Vals[i], s, to)
				}
				out.Vals[i] = int64(q.Lo)
				return nil
			})
			if err != nil {
				return nil, err
			}
			out.N.SetWords(w)
			return castVec(al, out, to, n, sel)
		}
		return nil, fmt.Errorf("cannot cast %s to %s", x.T, to)
	}
	s, p := int(to.Scale), int(to.Precision)
	out := coldata.AllocVec[dec](al, to, n)
	var err error
	switch x := v.(type) {
	case *coldata.Vec[int8]:
		err = intsToDecimal(x, out, n, sel)
	case *coldata.Vec[int16]:
		err = intsToDecimal(x, out, n, sel)
	case *coldata.Vec[int32]:
		err = intsToDecimal(x, out, n, sel)
	case *coldata.Vec[int64]:
		err = intsToDecimal(x, out, n, sel)
	case *coldata.Vec[uint8]:
		err = intsToDecimal(x, out, n, sel)
	case *coldata.Vec[uint16]:
		err = intsToDecimal(x, out, n, sel)
	case *coldata.Vec[uint32]:
		err = intsToDecimal(x, out, n, sel)
	case *coldata.Vec[uint64]:
		err = intsToDecimal(x, out, n, sel)
	case *coldata.Vec[float32], *coldata.Vec[float64]:
		fv, cerr := castVec(al, v, types.Float64T, n, sel)
		if cerr != nil {
			return nil, cerr
		}
		f := fv.(*coldata.Vec[float64])
		var buf []byte
		err = forLive(n, sel, w, func(i int) error {
			// The double's exact value rounded half away from zero, as
			// Arrow rounds (ties like 0.125 go up, 2.675 is below its
			// tie): 20 more digits than the scale, correctly rounded, and
			// ParseDecimal rounds on the first dropped one.
			if math.IsNaN(f.Vals[i]) || math.IsInf(f.Vals[i], 0) {
				return &CastError{Value: strconv.FormatFloat(f.Vals[i], 'g', -1, 64), To: to}
			}
			buf = strconv.AppendFloat(buf[:0], f.Vals[i], 'f', s+20, 64)
			d, msg := coldata.ParseDecimal(buf, s)
			if msg != "" || !d.FitsDigits(p) {
				return &CastError{Value: strconv.FormatFloat(f.Vals[i], 'g', -1, 64), To: to, OutOfRange: true}
			}
			out.Vals[i] = d
			return nil
		})
	case *coldata.Bytes:
		err = forLive(n, sel, w, func(i int) error {
			t := trimSpace(x.Get(i))
			d, msg := coldata.ParseDecimal(t, s)
			switch {
			case msg == coldata.ErrDecimalSyntax:
				return &CastError{Value: x.GetString(i), To: to}
			case msg != "" || !d.FitsDigits(p):
				return &CastError{Value: string(t), To: to, OutOfRange: true}
			}
			out.Vals[i] = d
			return nil
		})
	default:
		return nil, fmt.Errorf("cannot cast %s to %s", v.Type(), to)
	}
	if err != nil {
		return nil, err
	}
	out.N.SetWords(w)
	return out, nil
}

func intsToDecimal[T integer](x *coldata.Vec[T], out *coldata.Vec[dec], n int, sel []int32) error {
	s, p := int(out.T.Scale), int(out.T.Precision)
	suspect := false
	for i, v := range x.Vals[:n] {
		var d dec
		if ^T(0) < 0 {
			d = coldata.Int128Of(int64(v))
		} else {
			d = coldata.Int128OfUint(uint64(v))
		}
		d, o := d.MulPow10(s)
		suspect = suspect || o || !d.FitsDigits(p)
		out.Vals[i] = d
	}
	if !suspect {
		return nil
	}
	return forLive(n, sel, words(x), func(i int) error {
		d := coldata.Int128Of(int64(x.Vals[i]))
		if ^T(0) > 0 {
			d = coldata.Int128OfUint(uint64(x.Vals[i]))
		}
		if d, o := d.MulPow10(s); o || !d.FitsDigits(p) {
			return &CastError{Value: string(appendNum(nil, x.Vals[i])), To: out.T, OutOfRange: true}
		}
		return nil
	})
}

// rescale casts DECIMAL(p1, s1) to DECIMAL(p, s): more digits after the
// point multiply, fewer round half away from zero (as Arrow casts); a
// value with more than p digits then is an error naming it.
func rescale(al *coldata.Allocator, x *coldata.Vec[dec], to types.Type, n int, sel []int32) (coldata.Vector, error) {
	s1, s, p := int(x.T.Scale), int(to.Scale), int(to.Precision)
	out := coldata.AllocVec[dec](al, to, n)
	w := words(x)
	if s == s1 && p >= int(x.T.Precision) {
		// Only the type widens.
		return coldata.RetypeVec(x, to), nil
	}
	suspect := false
	for i, v := range x.Vals[:n] {
		var r dec
		o := false
		if s >= s1 {
			r, o = v.MulPow10(s - s1)
		} else {
			r = v.RoundPow10(s1 - s)
		}
		suspect = suspect || o || !r.FitsDigits(p)
		out.Vals[i] = r
	}
	if suspect {
		bad := firstBad(n, sel, w, func(i int) bool {
			if s >= s1 {
				r, o := x.Vals[i].MulPow10(s - s1)
				return o || !r.FitsDigits(p)
			}
			return !out.Vals[i].FitsDigits(p)
		})
		if bad >= 0 {
			return nil, &rowError{row: bad, err: outOfRange(x.Vals[bad], s1, to)}
		}
	}
	out.N.SetWords(w)
	return out, nil
}

// decArithType returns the result type of a op b for DECIMALs a and b (the
// rules above) and the types the operands are cast to first.
func decArithType(op arithOp, a, b types.Type) (res types.Type, args [2]types.Type, err error) {
	p1, s1, p2, s2 := int(a.Precision), int(a.Scale), int(b.Precision), int(b.Scale)
	const maxP = types.MaxDecimalPrecision
	args = [2]types.Type{a, b}
	switch op {
	case opAdd, opSub, opMod:
		s := max(s1, s2)
		p := min(maxP, max(p1-s1, p2-s2)+s+1)
		if op == opMod {
			p = min(maxP, min(p1-s1, p2-s2)+s)
		}
		// Both operands at the result's scale.
		args[0] = types.DecimalOf(min(maxP, p1-s1+s), s)
		args[1] = types.DecimalOf(min(maxP, p2-s2+s), s)
		return types.DecimalOf(max(p, 1), s), args, nil
	case opMul:
		if s1+s2 > maxP {
			return types.Type{}, args, fmt.Errorf("operator * on %s and %s: the product's scale %d exceeds %d", a, b, s1+s2, maxP)
		}
		return types.DecimalOf(max(min(maxP, p1+p2+1), s1+s2), s1+s2), args, nil
	}
	s := min(maxP, s1+4)
	return types.DecimalOf(max(min(maxP, p1-s1+s2+s), s), s), args, nil
}

// decArith resolves arithmetic with a DECIMAL operand; ok is false when
// there is none.
func decArith(op arithOp, args []types.Type) (r *Resolved, ok bool, err error) {
	a, b := args[0], args[1]
	if a.Kind != types.Decimal && b.Kind != types.Decimal {
		return nil, false, nil
	}
	if a.Kind == types.Null {
		a = b
	}
	if b.Kind == types.Null {
		b = a
	}
	if a.Kind.IsFloat() || b.Kind.IsFloat() {
		return &Resolved{Args: []types.Type{types.Float64T, types.Float64T}, Result: types.Float64T,
			Kernel: func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
				return arith(al, op, types.Float64T, vs[0], vs[1], nil, n, sel)
			}}, true, nil
	}
	da, ok1 := asDecimal(a)
	db, ok2 := asDecimal(b)
	if !ok1 || !ok2 {
		return nil, true, fmt.Errorf("operator %s expects numeric operands, got %s and %s", arithNames[op], args[0], args[1])
	}
	rt, at, err := decArithType(op, da, db)
	if err != nil {
		return nil, true, err
	}
	k := func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		return decimalArith(al, op, rt, vs[0].(*coldata.Vec[dec]), vs[1].(*coldata.Vec[dec]), n, sel)
	}
	return &Resolved{Args: at[:], Result: rt, Kernel: k}, true, nil
}

// decimal arithmetic failures, per row
const (
	decOK uint8 = iota
	decOverflow
	decDivZero
)

// decDivider computes DECIMAL division and remainder; it keeps big.Int
// scratch for the values that do not fit 64 bits, reused across rows so a
// batch allocates a constant amount.
type decDivider struct {
	a, b, q, r, lo big.Int
	pow            big.Int
	powK           int // pow is 10^powK once set (pow is never 0 then)
	ten, k         big.Int
}

func (d *decDivider) setBig(z *big.Int, x dec) *big.Int {
	m := x
	if x.Hi < 0 {
		m, _ = x.Neg() // a DECIMAL is never the smallest Int128
	}
	z.SetUint64(uint64(m.Hi))
	z.Lsh(z, 64)
	d.lo.SetUint64(m.Lo)
	z.Or(z, &d.lo)
	if x.Hi < 0 {
		z.Neg(z)
	}
	return z
}

// bigToDec converts z back, reporting false when it needs more than 127
// bits.
func bigToDec(z *big.Int) (dec, bool) {
	if z.BitLen() > 127 {
		return dec{}, false
	}
	var lo, hi uint64
	words := z.Bits() // the magnitude, least significant word first
	if strconv.IntSize == 64 {
		if len(words) > 0 {
			lo = uint64(words[0])
		}
		if len(words) > 1 {
			hi = uint64(words[1])
		}
	} else {
		for k, w := range words {
			if k < 2 {
				lo |= uint64(w) << (32 * k)
			} else {
				hi |= uint64(w) << (32 * (k - 2))
			}
		}
	}
	v := dec{Lo: lo, Hi: int64(hi)}
	if z.Sign() < 0 {
		v, _ = v.Neg()
	}
	return v, true
}

// quo returns x * 10^k / y truncated toward zero (k >= 0).
func (d *decDivider) quo(x, y dec, k int) (dec, uint8) {
	if y.Sign() == 0 {
		return dec{}, decDivZero
	}
	if k <= 18 && x.IsInt64() && y.IsInt64() {
		// x * 10^k fits 128 bits; divide in 64 bits when it fits them.
		if m, _ := x.MulPow10(k); m.IsInt64() && !(int64(m.Lo) == math.MinInt64 && int64(y.Lo) == -1) {
			return coldata.Int128Of(int64(m.Lo) / int64(y.Lo)), decOK
		}
	}
	d.setBig(&d.a, x)
	d.setBig(&d.b, y)
	if d.powK != k || d.pow.Sign() == 0 {
		d.ten.SetInt64(10)
		d.k.SetInt64(int64(k))
		d.pow.Exp(&d.ten, &d.k, nil)
		d.powK = k
	}
	d.a.Mul(&d.a, &d.pow)
	d.q.QuoRem(&d.a, &d.b, &d.r)
	v, ok := bigToDec(&d.q)
	if !ok {
		return dec{}, decOverflow
	}
	return v, decOK
}

// rem returns x % y with the sign of x.
func (d *decDivider) rem(x, y dec) (dec, uint8) {
	if y.Sign() == 0 {
		return dec{}, decDivZero
	}
	if x.IsInt64() && y.IsInt64() {
		a, b := int64(x.Lo), int64(y.Lo)
		if b == -1 {
			return dec{}, decOK
		}
		return coldata.Int128Of(a % b), decOK
	}
	d.setBig(&d.a, x)
	d.setBig(&d.b, y)
	d.q.QuoRem(&d.a, &d.b, &d.r)
	v, _ := bigToDec(&d.r)
	return v, decOK
}

func decimalArith(al *coldata.Allocator, op arithOp, rt types.Type, a, b *coldata.Vec[dec], n int, sel []int32) (coldata.Vector, error) {
	out := coldata.AllocVec[dec](al, rt, n)
	nulls := orWords(words(a), words(b))
	p := int(rt.Precision)
	divPow := int(rt.Scale) - int(a.T.Scale) + int(b.T.Scale)
	var dv *decDivider
	if op == opDiv || op == opMod {
		dv = &decDivider{}
	}
	one := func(x, y dec) (dec, uint8) {
		var r dec
		var o bool
		switch op {
		case opAdd:
			r, o = x.Add(y)
		case opSub:
			r, o = x.Sub(y)
		case opMul:
			r, o = x.Mul(y)
		case opDiv:
			var c uint8
			if r, c = dv.quo(x, y, divPow); c != decOK {
				return r, c
			}
		case opMod:
			var c uint8
			if r, c = dv.rem(x, y); c != decOK {
				return r, c
			}
		}
		if o || !r.FitsDigits(p) {
			return r, decOverflow
		}
		return r, decOK
	}
	av, bv := a.Vals[:n], b.Vals[:n]
	if op == opDiv || op == opMod {
		// Division computes only the live rows: garbage rows could make
		// it slow (big numbers) or fail.
		var failed uint8
		bad := firstBad(n, sel, nulls, func(i int) bool {
			out.Vals[i], failed = one(av[i], bv[i])
			return failed != decOK
		})
		if bad >= 0 {
			return nil, decRowError(op, a, b, bad, failed)
		}
		out.N.SetWords(nulls)
		return out, nil
	}
	// +, - and * run a loop each, checking the precision against bounds
	// (two comparisons) rather than per-row calls.
	hi, _ := coldata.Pow10(p).Sub(coldata.Int128Of(1))
	lo, _ := hi.Neg()
	suspect := false
	ov := out.Vals[:len(av)]
	bv = bv[:len(av)]
	switch op {
	case opAdd:
		for i, x := range av {
			r, o := x.Add(bv[i])
			ov[i] = r
			suspect = suspect || o || r.Cmp(hi) > 0 || r.Cmp(lo) < 0
		}
	case opSub:
		for i, x := range av {
			r, o := x.Sub(bv[i])
			ov[i] = r
			suspect = suspect || o || r.Cmp(hi) > 0 || r.Cmp(lo) < 0
		}
	default:
		for i, x := range av {
			r, o := x.Mul(bv[i])
			ov[i] = r
			suspect = suspect || o || r.Cmp(hi) > 0 || r.Cmp(lo) < 0
		}
	}
	if suspect {
		var failed uint8
		bad := firstBad(n, sel, nulls, func(i int) bool {
			_, failed = one(av[i], bv[i])
			return failed != decOK
		})
		if bad >= 0 {
			return nil, decRowError(op, a, b, bad, failed)
		}
	}
	out.N.SetWords(nulls)
	return out, nil
}

func decRowError(op arithOp, a, b *coldata.Vec[dec], i int, failed uint8) error {
	vals := coldata.AppendDecimal(nil, a.Vals[i], int(a.T.Scale))
	vals = append(vals, ' ')
	vals = append(vals, arithNames[op]...)
	vals = append(vals, ' ')
	vals = coldata.AppendDecimal(vals, b.Vals[i], int(b.T.Scale))
	var err error = ErrDivisionByZero
	if failed == decOverflow {
		err = ErrDecimalOverflow
	}
	return &rowError{row: i, values: string(vals), err: err}
}

// ErrDecimalOverflow is returned when a DECIMAL result has more digits
// than its type's precision.
var ErrDecimalOverflow = fmt.Errorf("decimal overflow: the result does not fit its precision")

// cmpDecimal compares DECIMALs of one scale (the planner casts both
// operands to their common type).
func cmpDecimal(op cmpOp, a *coldata.Vec[dec], b coldata.Vector, s dec, out []bool) error {
	bv, err := operand[dec](b)
	if err != nil {
		return err
	}
	x := a.Vals[:len(out)]
	for i, v := range x {
		y := s
		if bv != nil {
			y = bv.Vals[i]
		}
		out[i] = ordHolds(op, v.Cmp(y))
	}
	return nil
}

// negDecimal is unary minus on a DECIMAL (which cannot overflow: the
// precision keeps values far from the 128-bit limit).
func negDecimal(al *coldata.Allocator, v *coldata.Vec[dec], n int) coldata.Vector {
	out := coldata.AllocVec[dec](al, v.T, n)
	for i, x := range v.Vals[:n] {
		out.Vals[i], _ = x.Neg()
	}
	out.N.SetWords(words(v))
	return out
}

// keepDecimal resolves a one-argument function on a DECIMAL to kernel k,
// which keeps the type (abs, as DataFusion's), and other arguments with
// other.
func keepDecimal(k Kernel, other func([]types.Type) (*Resolved, error)) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		if len(args) == 1 && args[0].Kind == types.Decimal {
			return &Resolved{Args: args, Result: args[0], Kernel: k}, nil
		}
		return other(args)
	}
}

// absDecimal is abs on a DECIMAL.
func absDecimal(al *coldata.Allocator, vs []coldata.Vector, n int, _ []int32) (coldata.Vector, error) {
	v := vs[0].(*coldata.Vec[dec])
	out := coldata.AllocVec[dec](al, v.T, n)
	for i, x := range v.Vals[:n] {
		if x.Hi < 0 {
			x, _ = x.Neg()
		}
		out.Vals[i] = x
	}
	out.N.SetWords(words(v))
	return out, nil
}
