package coldata

import (
	"math"
	"math/bits"
	"strconv"
)

// Int128 is a signed 128-bit integer in two's complement: Hi holds the high
// 64 bits (and the sign), Lo the low 64. It is the unscaled value of a
// DECIMAL(p, s): the number is Int128 / 10^s. It holds no pointers, so a
// *Vec[Int128] is one flat allocation like every fixed-width vector.
//
// The methods report overflow of 128 bits instead of wrapping; precision
// (at most 38 digits, which 128 bits always hold) is the caller's check
// (FitsDigits).
type Int128 struct {
	Lo uint64
	Hi int64
}

// MaxDecimalDigits is the largest DECIMAL precision: 10^38 < 2^127.
const MaxDecimalDigits = 38

// Int128Of returns v as an Int128.
func Int128Of(v int64) Int128 { return Int128{Lo: uint64(v), Hi: v >> 63} }

// Int128OfUint returns v as an Int128.
func Int128OfUint(v uint64) Int128 { return Int128{Lo: v} }

// pow10 holds 10^0 .. 10^38.
var pow10 = func() (p [MaxDecimalDigits + 1]Int128) {
	p[0] = Int128{Lo: 1}
	for i := 1; i < len(p); i++ {
		p[i], _ = p[i-1].Mul(Int128{Lo: 10})
	}
	return p
}()

// Pow10 returns 10^k for 0 <= k <= 38.
func Pow10(k int) Int128 { return pow10[k] }

// IsInt64 reports whether x fits an int64.
func (x Int128) IsInt64() bool { return x.Hi == int64(x.Lo)>>63 }

// Sign returns -1, 0 or 1.
func (x Int128) Sign() int {
	switch {
	case x.Hi < 0:
		return -1
	case x.Hi == 0 && x.Lo == 0:
		return 0
	}
	return 1
}

// Cmp returns -1, 0 or 1 as x is less than, equal to or greater than y.
func (x Int128) Cmp(y Int128) int {
	switch {
	case x.Hi < y.Hi:
		return -1
	case x.Hi > y.Hi:
		return 1
	case x.Lo < y.Lo:
		return -1
	case x.Lo > y.Lo:
		return 1
	}
	return 0
}

// Add returns x+y and whether it overflowed 128 bits.
func (x Int128) Add(y Int128) (Int128, bool) {
	lo, c := bits.Add64(x.Lo, y.Lo, 0)
	hi := x.Hi + y.Hi + int64(c)
	// Signed overflow: the operands have one sign and the result the other.
	ovf := (x.Hi^hi)&(y.Hi^hi) < 0
	return Int128{Lo: lo, Hi: hi}, ovf
}

// Sub returns x-y and whether it overflowed 128 bits.
func (x Int128) Sub(y Int128) (Int128, bool) {
	lo, b := bits.Sub64(x.Lo, y.Lo, 0)
	hi := x.Hi - y.Hi - int64(b)
	ovf := (x.Hi^y.Hi)&(x.Hi^hi) < 0
	return Int128{Lo: lo, Hi: hi}, ovf
}

// Neg returns -x and whether it overflowed (x is the smallest Int128).
func (x Int128) Neg() (Int128, bool) { return Int128{}.Sub(x) }

// abs returns the magnitude of x as an unsigned 128-bit number.
func (x Int128) abs() (hi, lo uint64) {
	if x.Hi >= 0 {
		return uint64(x.Hi), x.Lo
	}
	lo, b := bits.Sub64(0, x.Lo, 0)
	hi, _ = bits.Sub64(0, uint64(x.Hi), b)
	return hi, lo
}

// fromAbs returns the Int128 of magnitude (hi, lo) and sign neg, and
// whether it does not fit.
func fromAbs(hi, lo uint64, neg bool) (Int128, bool) {
	if neg {
		if hi > 1<<63 || hi == 1<<63 && lo != 0 {
			return Int128{}, true
		}
		l, b := bits.Sub64(0, lo, 0)
		h, _ := bits.Sub64(0, hi, b)
		return Int128{Lo: l, Hi: int64(h)}, false
	}
	if hi >= 1<<63 {
		return Int128{}, true
	}
	return Int128{Lo: lo, Hi: int64(hi)}, false
}

// Mul returns x*y and whether it overflowed 128 bits.
func (x Int128) Mul(y Int128) (Int128, bool) {
	if x.IsInt64() && y.IsInt64() {
		// The exact product of two int64 always fits 128 bits.
		a, b := int64(x.Lo), int64(y.Lo)
		hi, lo := bits.Mul64(uint64(a), uint64(b))
		shi := int64(hi) - (a>>63)&b - (b>>63)&a
		return Int128{Lo: lo, Hi: shi}, false
	}
	ah, al := x.abs()
	bh, bl := y.abs()
	if ah != 0 && bh != 0 {
		return Int128{}, true
	}
	hi, lo := bits.Mul64(al, bl)
	c1h, c1 := bits.Mul64(ah, bl)
	c2h, c2 := bits.Mul64(al, bh)
	if c1h != 0 || c2h != 0 {
		return Int128{}, true
	}
	var carry uint64
	hi, carry = bits.Add64(hi, c1, 0)
	if carry != 0 {
		return Int128{}, true
	}
	hi, carry = bits.Add64(hi, c2, 0)
	if carry != 0 {
		return Int128{}, true
	}
	return fromAbs(hi, lo, (x.Hi < 0) != (y.Hi < 0))
}

// divU64 divides the magnitude (hi, lo) by d.
func divU64(hi, lo, d uint64) (qhi, qlo, r uint64) {
	qhi, r = hi/d, hi%d
	qlo, r = bits.Div64(r, lo, d)
	return qhi, qlo, r
}

// QuoPow10 returns x / 10^k truncated toward zero, and the remainder's
// first digit (the digit of 10^(k-1), 0 when k is 0), for rounding.
func (x Int128) QuoPow10(k int) (q Int128, firstDropped uint64) {
	if k == 0 {
		return x, 0
	}
	hi, lo := x.abs()
	// Divide by 10^(k-1) in steps of at most 10^19, then by 10.
	for rest := k - 1; rest > 0; {
		step := min(rest, 19)
		hi, lo, _ = divU64(hi, lo, uint64(pow10[step].Lo))
		rest -= step
	}
	hi, lo, firstDropped = divU64(hi, lo, 10)
	q, _ = fromAbs(hi, lo, x.Hi < 0)
	return q, firstDropped
}

// RoundPow10 returns x / 10^k rounded half away from zero.
func (x Int128) RoundPow10(k int) Int128 {
	q, d := x.QuoPow10(k)
	if d >= 5 {
		if x.Hi < 0 {
			q, _ = q.Sub(Int128{Lo: 1})
		} else {
			q, _ = q.Add(Int128{Lo: 1})
		}
	}
	return q
}

// MulPow10 returns x * 10^k and whether it overflowed 128 bits.
func (x Int128) MulPow10(k int) (Int128, bool) {
	if k > MaxDecimalDigits {
		return Int128{}, x.Sign() != 0
	}
	return x.Mul(pow10[k])
}

// FitsDigits reports whether x has at most p decimal digits (|x| < 10^p).
func (x Int128) FitsDigits(p int) bool {
	if p >= MaxDecimalDigits+1 {
		return true
	}
	hi, lo := x.abs()
	m := pow10[p]
	h := uint64(m.Hi)
	return hi < h || hi == h && lo < m.Lo
}

// Float64 returns x / 10^scale as the nearest float64 (exactly rounded
// when x fits 53 bits, within an ulp or two otherwise).
func (x Int128) Float64(scale int) float64 {
	var f float64
	if x.IsInt64() {
		f = float64(int64(x.Lo))
	} else {
		hi, lo := x.abs()
		f = float64(hi)*(1<<64) + float64(lo)
		if x.Hi < 0 {
			f = -f
		}
	}
	if scale <= 22 {
		return f / float64pow10[scale] // 10^22 is the largest exact power
	}
	return f / math.Pow(10, float64(scale))
}

var float64pow10 = [23]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// AppendDecimal appends x / 10^scale in plain decimal notation with exactly
// scale fractional digits: 1230 at scale 2 is "12.30", -5 at scale 3
// "-0.005".
func AppendDecimal(dst []byte, x Int128, scale int) []byte {
	hi, lo := x.abs()
	if x.Hi < 0 {
		dst = append(dst, '-')
	}
	var buf [40]byte
	var digits []byte
	if hi == 0 {
		// Most values: one 64-bit magnitude.
		digits = strconv.AppendUint(buf[:0], lo, 10)
	} else {
		// The digits, least significant first, in chunks of 19.
		i := len(buf)
		for {
			var r uint64
			hi, lo, r = divU64(hi, lo, 1e19)
			last := hi == 0 && lo == 0
			for k := 0; k < 19 && (!last || r != 0 || k == 0); k++ {
				i--
				buf[i] = byte('0' + r%10)
				r /= 10
			}
			if last {
				break
			}
		}
		digits = buf[i:]
	}
	if scale <= 0 {
		return append(dst, digits...)
	}
	if len(digits) <= scale {
		dst = append(dst, '0', '.')
		for k := len(digits); k < scale; k++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-scale]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-scale:]...)
}

// Problems ParseDecimal reports.
const (
	ErrDecimalSyntax = "invalid decimal number"
	ErrDecimalRange  = "too many digits"
)

// ParseDecimal reads a decimal number (an optional sign, digits with an
// optional '.', an optional exponent e±N, as JSON and SQL write numbers)
// exactly as an Int128 scaled by 10^scale; digits beyond scale are rounded
// half away from zero. It returns "" or one of the Err constants; the
// caller checks the precision (FitsDigits).
func ParseDecimal(s []byte, scale int) (Int128, string) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	mStart := i
	total, fracDigits := 0, 0
	point := false
	for ; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			total++
			if point {
				fracDigits++
			}
			continue
		}
		if c == '.' && !point {
			point = true
			continue
		}
		break
	}
	mEnd := i
	if total == 0 {
		return Int128{}, ErrDecimalSyntax
	}
	exp := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return Int128{}, ErrDecimalSyntax
		}
		e, err := strconv.Atoi(string(s[i+1:]))
		if err != nil || e > 1000 || e < -1000 || i+1 == len(s) || s[i+1] != '-' && s[i+1] != '+' && (s[i+1] < '0' || s[i+1] > '9') {
			return Int128{}, ErrDecimalSyntax
		}
		exp = e
	}
	// The number is D * 10^(exp - fracDigits) where D is all the digits,
	// so the result is D * 10^k: the first keep digits of D, rounded by
	// the next one, then scaled up if k > 0.
	k := exp - fracDigits + scale
	keep := total
	if k < 0 {
		keep = total + k
	}
	var v Int128
	sig, n := 0, 0
	var round byte
	for j := mStart; j < mEnd; j++ {
		c := s[j]
		if c == '.' {
			continue
		}
		d := c - '0'
		switch {
		case n < keep:
			if sig > 0 || d != 0 {
				var o1, o2 bool
				v, o1 = v.Mul(Int128{Lo: 10})
				v, o2 = v.Add(Int128{Lo: uint64(d)})
				if o1 || o2 {
					return Int128{}, ErrDecimalRange
				}
				sig++
			}
		case n == keep:
			round = d
		}
		n++
	}
	if k > 0 {
		var ovf bool
		if v, ovf = v.MulPow10(k); ovf {
			return Int128{}, ErrDecimalRange
		}
	}
	if round >= 5 {
		var ovf bool
		if v, ovf = v.Add(Int128{Lo: 1}); ovf {
			return Int128{}, ErrDecimalRange
		}
	}
	if neg {
		v, _ = v.Neg()
	}
	return v, ""
}
