package sdk

import "unsafe"

// Batch is what Inline passes to its function: which registration is
// wanted and its batch's columns. Its fields are the SDK's.
type Batch struct {
	target, idx, n int
	in, out        unsafe.Pointer
	name           string
	ta, tr         any // (*A)(nil), (*R)(nil) of the target
}

// Inline registers the functions fns declares with InlineScalar1, whose
// row loops Go compiles with the function's body inlined: no call per
// row, the speed of Vector1 with Scalar1's form.
//
//	func init() { sdk.Inline(udfs) }
//
//	func udfs(b *sdk.Batch) {
//		sdk.InlineScalar1(b, "double_it", func(x uint64) int64 { return int64(2 * x) })
//		sdk.InlineScalar1(b, "celsius", func(f float64) float64 { return (f - 32) / 1.8 })
//	}
//
// fns runs once per batch of any of its functions (each InlineScalar1
// but the wanted one returns at once), so it must do nothing but call
// InlineScalar1, the same calls in the same order every time. The body
// is inlined when the function is written at the call (or is a small
// named function) and is small enough for Go's inliner; otherwise it is
// called per row, as with Scalar1.
func Inline(fns func(b *Batch)) {
	for t := 0; ; t++ {
		b := Batch{target: t}
		fns(&b) // n is 0: only the target's name and types are set
		if b.name == "" {
			return
		}
		name := b.name
		a, okA := fixedKind(b.ta)
		r, okR := fixedKind(b.tr)
		if !okA || !okR {
			panic("arroyo udf sdk: " + name + ": InlineScalar1 takes plain fixed-width types (bool, integers, floats); use Scalar1")
		}
		var buf []uint64
		// One Batch per function, reused: fns is a func value, so a
		// Batch it is passed escapes, and a new one would be an
		// allocation per batch.
		bt := new(Batch)
		register(name, false, []kind{a}, r, func(in *input) *output {
			if len(in.args) != 1 {
				return fail(name + ": wrong argument count")
			}
			outDesc = output{}
			outDesc[1] = uint32(in.n)
			if in.n == 0 {
				return &outDesc
			}
			buf = grow(buf, (in.n*r.width()+7)/8)
			*bt = Batch{target: t, n: in.n, in: ptr(in.args[0].values), out: unsafe.Pointer(&buf[0])}
			fns(bt)
			outDesc[3] = addrOf(&buf[0])
			return &outDesc
		})
	}
}

// InlineScalar1 declares, within Inline's function, a scalar function of
// one argument; A and R are plain fixed-width types (no NULL: rows with
// a NULL argument are not passed, the results are not NULL). Kept within
// Go's inlining budget: it is inlined into the caller, and f into the
// loop.
func InlineScalar1[A, R any](b *Batch, name string, f func(A) R) {
	i := b.idx
	b.idx++
	if i != b.target {
		return
	}
	b.name, b.ta, b.tr = name, (*A)(nil), (*R)(nil)
	xs := unsafe.Slice((*A)(b.in), b.n)
	out := unsafe.Slice((*R)(b.out), len(xs))
	for k, x := range xs {
		out[k] = f(x)
	}
}

// fixedKind is the kind of a (*T)(nil) of a plain fixed-width type T.
func fixedKind(p any) (kind, bool) {
	switch p.(type) {
	case *bool:
		return kind{kBool, false}, true
	case *int8:
		return kind{kInt8, false}, true
	case *int16:
		return kind{kInt16, false}, true
	case *int32:
		return kind{kInt32, false}, true
	case *int64:
		return kind{kInt64, false}, true
	case *uint8:
		return kind{kUint8, false}, true
	case *uint16:
		return kind{kUint16, false}, true
	case *uint32:
		return kind{kUint32, false}, true
	case *uint64:
		return kind{kUint64, false}, true
	case *float32:
		return kind{kFloat32, false}, true
	case *float64:
		return kind{kFloat64, false}, true
	}
	return kind{}, false
}
