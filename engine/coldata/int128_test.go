package coldata

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
)

func (x Int128) big() *big.Int {
	b := new(big.Int).SetInt64(x.Hi)
	b.Lsh(b, 64)
	return b.Add(b, new(big.Int).SetUint64(x.Lo))
}

var (
	minI128 = new(big.Int).Lsh(big.NewInt(-1), 127)
	maxI128 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 127), big.NewInt(1))
)

func fits128(b *big.Int) bool { return b.Cmp(minI128) >= 0 && b.Cmp(maxI128) <= 0 }

// randInt128 returns values of every size, with the edges often.
func randInt128(r *rand.Rand) Int128 {
	switch r.IntN(6) {
	case 0:
		return []Int128{{}, Int128Of(1), Int128Of(-1), {Lo: math.MaxUint64, Hi: math.MaxInt64}, {Hi: math.MinInt64}, Int128Of(math.MinInt64)}[r.IntN(6)]
	case 1:
		return Int128Of(r.Int64N(1000) - 500)
	case 2:
		return Int128Of(int64(r.Uint64()))
	case 3:
		return Int128{Lo: r.Uint64(), Hi: r.Int64N(1<<20) - 1<<19}
	}
	return Int128{Lo: r.Uint64(), Hi: int64(r.Uint64())}
}

func TestInt128ArithmeticAgainstBig(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 20000 {
		x, y := randInt128(r), randInt128(r)
		bx, by := x.big(), y.big()
		for _, c := range []struct {
			name string
			f    func(Int128, Int128) (Int128, bool)
			g    func(z, a, b *big.Int) *big.Int
		}{
			{"+", Int128.Add, (*big.Int).Add}, {"-", Int128.Sub, (*big.Int).Sub}, {"*", Int128.Mul, (*big.Int).Mul},
		} {
			got, ovf := c.f(x, y)
			want := c.g(new(big.Int), bx, by)
			if ovf != !fits128(want) {
				t.Fatalf("%v %s %v: overflow %v, want %v (%v)", bx, c.name, by, ovf, !fits128(want), want)
			}
			if !ovf && got.big().Cmp(want) != 0 {
				t.Fatalf("%v %s %v = %v, want %v", bx, c.name, by, got.big(), want)
			}
		}
		if got, want := x.Cmp(y), bx.Cmp(by); got != want {
			t.Fatalf("Cmp(%v, %v) = %d, want %d", bx, by, got, want)
		}
		if x.Sign() != bx.Sign() || x.IsInt64() != bx.IsInt64() {
			t.Fatalf("%v: sign %d int64 %v", bx, x.Sign(), x.IsInt64())
		}
		k := r.IntN(39)
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil)
		q, d := x.QuoPow10(k)
		wq, wr := new(big.Int).QuoRem(bx, p, new(big.Int))
		if q.big().Cmp(wq) != 0 {
			t.Fatalf("%v / 10^%d = %v, want %v", bx, k, q.big(), wq)
		}
		if k > 0 {
			wd := new(big.Int).Quo(new(big.Int).Abs(wr), new(big.Int).Quo(p, big.NewInt(10)))
			if d != wd.Uint64() {
				t.Fatalf("%v / 10^%d: first dropped digit %d, want %v", bx, k, d, wd)
			}
		}
		if got := string(AppendDecimal(nil, x, 0)); got != bx.String() {
			t.Fatalf("AppendDecimal(%v) = %s", bx, got)
		}
		if fits := x.FitsDigits(k); fits != (new(big.Int).Abs(bx).Cmp(p) < 0) {
			t.Fatalf("FitsDigits(%v, %d) = %v", bx, k, fits)
		}
		// The smallest Int128 has no positive counterpart to parse (and no
		// DECIMAL holds it).
		if back, msg := ParseDecimal([]byte(bx.String()), 0); x != (Int128{Hi: math.MinInt64}) && (msg != "" || back != x) {
			t.Fatalf("ParseDecimal(%v) = %v %q", bx, back.big(), msg)
		}
	}
}

func TestDecimalText(t *testing.T) {
	for _, c := range []struct {
		x     Int128
		scale int
		want  string
	}{
		{Int128Of(1230), 2, "12.30"}, {Int128Of(-5), 3, "-0.005"}, {Int128Of(0), 2, "0.00"}, {Int128Of(7), 0, "7"},
		{Int128Of(-12345), 2, "-123.45"}, {Int128Of(100), 2, "1.00"},
		{Pow10(38), 38, "1.00000000000000000000000000000000000000"},
		{Int128{Lo: math.MaxUint64, Hi: math.MaxInt64}, 0, "170141183460469231731687303715884105727"},
		{Int128{Hi: math.MinInt64}, 0, "-170141183460469231731687303715884105728"},
		{Int128Of(1e18), 19, "0.1000000000000000000"},
		{Int128{Lo: 0, Hi: 1}, 10, "1844674407.3709551616"},
	} {
		if got := string(AppendDecimal(nil, c.x, c.scale)); got != c.want {
			t.Errorf("AppendDecimal(%v, %d) = %s, want %s", c.x.big(), c.scale, got, c.want)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	for _, c := range []struct {
		in    string
		scale int
		want  string // the unscaled value, or an Err constant
	}{
		{"12.345", 3, "12345"}, {"12.345", 5, "1234500"}, {"-0.5", 1, "-5"}, {"+7", 2, "700"},
		{"12.345", 2, "1235"}, {"12.344", 2, "1234"}, {"-12.345", 2, "-1235"}, {"0.004", 2, "0"}, {"0.005", 2, "1"},
		{"0.0049", 2, "0"}, {"0.00000000000000000000000000000000000000000001", 2, "0"}, {"9.995", 2, "1000"},
		{"1.5e3", 0, "1500"}, {"1.5E-1", 2, "15"}, {"25e-2", 1, "3"}, {"1e+2", 0, "100"},
		{"00012.50", 1, "125"}, {".5", 1, "5"}, {"5.", 0, "5"},
		{"99999999999999999999999999999999999999", 0, "99999999999999999999999999999999999999"},
		{"170141183460469231731687303715884105727", 0, "170141183460469231731687303715884105727"},
		{"170141183460469231731687303715884105728", 0, ErrDecimalRange},
		{"1", 39, ErrDecimalRange}, {"1e50", 0, ErrDecimalRange}, {"0e50", 0, "0"},
		{"1.00000000000000000000000000000000000000000000000000000001", 2, "100"},
		{"", 0, ErrDecimalSyntax}, {"-", 0, ErrDecimalSyntax}, {".", 0, ErrDecimalSyntax}, {"1.2.3", 0, ErrDecimalSyntax},
		{"1e", 0, ErrDecimalSyntax}, {"e5", 0, ErrDecimalSyntax}, {"12a", 0, ErrDecimalSyntax}, {" 1", 0, ErrDecimalSyntax},
		{"1e5000", 0, ErrDecimalSyntax}, {"1e 5", 0, ErrDecimalSyntax},
	} {
		v, msg := ParseDecimal([]byte(c.in), c.scale)
		got := msg
		if msg == "" {
			got = v.big().String()
		}
		if got != c.want {
			t.Errorf("ParseDecimal(%q, %d) = %s, want %s", c.in, c.scale, got, c.want)
		}
	}
}

func TestDecimalRoundPow10AndFloat(t *testing.T) {
	for _, c := range []struct {
		x    int64
		k    int
		want int64
	}{{1234, 1, 123}, {1235, 1, 124}, {-1235, 1, -124}, {-1234, 1, -123}, {5, 1, 1}, {4, 1, 0}, {-5, 1, -1}, {99, 2, 1}, {49, 2, 0}, {7, 0, 7}} {
		if got := Int128Of(c.x).RoundPow10(c.k); got != Int128Of(c.want) {
			t.Errorf("RoundPow10(%d, %d) = %v, want %d", c.x, c.k, got.big(), c.want)
		}
	}
	for _, c := range []struct {
		x     Int128
		scale int
		want  float64
	}{{Int128Of(12345), 3, 12.345}, {Int128Of(-1), 2, -0.01}, {Int128{Hi: 1}, 0, 18446744073709551616}, {Pow10(38), 38, 1}, {Int128Of(3), 30, 3e-30}} {
		if got := c.x.Float64(c.scale); got != c.want {
			t.Errorf("Float64(%v, %d) = %v, want %v", c.x.big(), c.scale, got, c.want)
		}
	}
	if _, ovf := Int128Of(1).MulPow10(39); !ovf {
		t.Error("1 * 10^39 did not overflow")
	}
	if v, ovf := Int128Of(0).MulPow10(50); ovf || v.Sign() != 0 {
		t.Error("0 * 10^50")
	}
	if got := strconv.Itoa(int(Pow10(19).Lo / 1e18)); got != "10" {
		t.Errorf("Pow10(19) = %v", Pow10(19).big())
	}
}
