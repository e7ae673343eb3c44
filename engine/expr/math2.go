package expr

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// More math, as DataFusion: trigonometric and hyperbolic functions (FLOAT
// stays FLOAT, other numbers compute in DOUBLE; domain errors give NaN),
// degrees, radians, gcd, lcm, factorial, isnan, iszero, nanvl, random.

// unaryFloat applies f to every row of a FLOAT or DOUBLE vector.
func unaryFloat(f func(float64) float64) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		switch v := args[0].(type) {
		case *coldata.Vec[float64]:
			out := coldata.AllocVec[float64](al, v.T, n)
			for i, a := range v.Vals[:n] {
				out.Vals[i] = f(a)
			}
			out.N.SetWords(words(v))
			return out, nil
		case *coldata.Vec[float32]:
			out := coldata.AllocVec[float32](al, v.T, n)
			for i, a := range v.Vals[:n] {
				out.Vals[i] = float32(f(float64(a)))
			}
			out.N.SetWords(words(v))
			return out, nil
		}
		return nil, fmt.Errorf("unsupported operand %T", args[0])
	}
}

// floatPred is a BOOLEAN predicate over FLOAT or DOUBLE.
func floatPred(f func(float64) bool) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		out := coldata.AllocVec[bool](al, types.BoolT, n)
		switch v := args[0].(type) {
		case *coldata.Vec[float64]:
			for i, a := range v.Vals[:n] {
				out.Vals[i] = f(a)
			}
		case *coldata.Vec[float32]:
			for i, a := range v.Vals[:n] {
				out.Vals[i] = f(float64(a))
			}
		default:
			return nil, fmt.Errorf("unsupported operand %T", args[0])
		}
		out.N.SetWords(words(args[0]))
		return out, nil
	}
}

// predResolve accepts one number (FLOAT stays, others become DOUBLE) and
// returns BOOLEAN.
func predResolve(name string, kernel Kernel) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		r, err := floatResolve(name, kernel, false)(args)
		if err != nil {
			return nil, err
		}
		r.Result = types.BoolT
		return r, nil
	}
}

// int2 is a checked BIGINT kernel of two arguments.
func int2(f func(a, b int64) (int64, error)) Kernel {
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		x, y := args[0].(*coldata.Vec[int64]), args[1].(*coldata.Vec[int64])
		out := coldata.AllocVec[int64](al, types.Int64T, n)
		nulls := orWords(words(x), words(y))
		err := forLive(n, sel, nulls, func(i int) error {
			r, err := f(x.Vals[i], y.Vals[i])
			out.Vals[i] = r
			return err
		})
		if err != nil {
			return nil, err
		}
		out.N.SetWords(nulls)
		return out, nil
	}
}

func absU(a int64) uint64 {
	if a < 0 {
		return uint64(-(a + 1)) + 1
	}
	return uint64(a)
}

func gcdU(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// gcd is the greatest common divisor, non-negative; gcd(0, 0) = 0. Its
// only overflow is gcd(-2^63, 0) and gcd(-2^63, -2^63).
func gcd(a, b int64) (int64, error) {
	g := gcdU(absU(a), absU(b))
	if g > math.MaxInt64 {
		return 0, ErrOverflow
	}
	return int64(g), nil
}

// lcm is the least common multiple, non-negative; 0 when either is 0.
func lcm(a, b int64) (int64, error) {
	if a == 0 || b == 0 {
		return 0, nil
	}
	ua, ub := absU(a), absU(b)
	q := ua / gcdU(ua, ub)
	if ub != 0 && q > math.MaxInt64/ub {
		return 0, ErrOverflow
	}
	return int64(q * ub), nil
}

// factorial of n; 1 for n <= 0 as DataFusion, an overflow above 20.
func factorial(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	x := args[0].(*coldata.Vec[int64])
	out := coldata.AllocVec[int64](al, types.Int64T, n)
	w := words(x)
	err := forLive(n, sel, w, func(i int) error {
		k := x.Vals[i]
		if k > 20 {
			return ErrOverflow
		}
		r := int64(1)
		for j := int64(2); j <= k; j++ {
			r *= j
		}
		out.Vals[i] = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.N.SetWords(w)
	return out, nil
}

// random fills n values uniform in [0, 1).
func random(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	out := coldata.AllocVec[float64](al, types.Float64T, n)
	for i := range out.Vals {
		out.Vals[i] = rand.Float64()
	}
	return out, nil
}

func init() {
	unary := []struct {
		name string
		f    func(float64) float64
		desc string
	}{
		{"sin", math.Sin, "sine (radians)"},
		{"cos", math.Cos, "cosine (radians)"},
		{"tan", math.Tan, "tangent (radians)"},
		{"asin", math.Asin, "arc sine, in radians"},
		{"acos", math.Acos, "arc cosine, in radians"},
		{"atan", math.Atan, "arc tangent, in radians"},
		{"sinh", math.Sinh, "hyperbolic sine"},
		{"cosh", math.Cosh, "hyperbolic cosine"},
		{"tanh", math.Tanh, "hyperbolic tangent"},
		{"asinh", math.Asinh, "inverse hyperbolic sine"},
		{"acosh", math.Acosh, "inverse hyperbolic cosine"},
		{"atanh", math.Atanh, "inverse hyperbolic tangent"},
		{"cot", func(x float64) float64 { return 1 / math.Tan(x) }, "cotangent (radians)"},
		{"degrees", func(x float64) float64 { return x * (180 / math.Pi) }, "radians to degrees"},
		{"radians", func(x float64) float64 { return x * (math.Pi / 180) }, "degrees to radians"},
	}
	for _, u := range unary {
		register(&Func{Name: u.name, Description: u.desc, Resolve: floatResolve(u.name, unaryFloat(u.f), false)})
	}
	register(&Func{Name: "atan2", Description: "atan2(y, x): the angle of the point (x, y), in radians",
		Resolve: sigs("atan2", types.Float64T, binaryFloat(math.Atan2), sig{pDouble, pDouble})})
	register(&Func{Name: "nanvl", Description: "nanvl(x, y): y when x is NaN, else x",
		Resolve: sigs("nanvl", types.Float64T, binaryFloat(func(x, y float64) float64 {
			if math.IsNaN(x) {
				return y
			}
			return x
		}), sig{pDouble, pDouble})})
	register(&Func{Name: "isnan", Description: "whether the number is NaN",
		Resolve: predResolve("isnan", floatPred(math.IsNaN))})
	register(&Func{Name: "iszero", Description: "whether the number is zero (-0.0 included)",
		Resolve: predResolve("iszero", floatPred(func(x float64) bool { return x == 0 }))})
	register(&Func{Name: "gcd", Description: "greatest common divisor (non-negative; gcd(0, 0) = 0)",
		Resolve: sigs("gcd", types.Int64T, int2(gcd), sig{pInt, pInt})})
	register(&Func{Name: "lcm", Description: "least common multiple (non-negative; 0 when an argument is 0)",
		Resolve: sigs("lcm", types.Int64T, int2(lcm), sig{pInt, pInt})})
	register(&Func{Name: "factorial", Description: "n! (1 for n <= 0)",
		Resolve: sigs("factorial", types.Int64T, factorial, sig{pInt})})
	register(&Func{Name: "random", Description: "a random DOUBLE in [0, 1), different on every row",
		Volatile: true, Resolve: sigs("random", types.Float64T, random, sig{})})
	register(&Func{Name: "signum", Description: "-1, 0 or 1 by the sign of the argument (sign)",
		Resolve: floatResolve("signum", mathKernel(mSign), false)})
}
