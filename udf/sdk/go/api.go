package sdk

import "unsafe"

// newArg returns the column of an argument of Go type A.
func newArg[A any](fn, what string) *column { return &column{k: kindOf[A](fn, what)} }

// newRes returns the result column of Go type R.
func newRes[R any](fn string) *result { return &result{k: kindOf[R](fn, "result")} }

// Scalar1 registers a scalar function of one argument.
func Scalar1[A, R any](name string, f func(A) R) {
	a, r := newArg[A](name, "argument 1"), newRes[R](name)
	register(name, false, []kind{a.k}, r.decl(false), func(in *input) *output {
		if len(in.args) != 1 {
			return fail(name + ": wrong argument count")
		}
		if fs, ok := any(f).(func(string) string); ok && a.k.base == kString {
			// TEXT to TEXT: each row's string is made as f is called,
			// not stored in a []string first.
			r.begin(in.n)
			r.data = textToText(fs, in.args[0], in.n, r.data, r.offs)
			return r.finish(in.n)
		}
		xs := args[A](a, in.args[0], in.n)
		if o := out[R](r, in.n); o != nil {
			apply1(f, xs, o)
		} else {
			for i, x := range xs {
				v := f(x)
				r.put(i, unsafe.Pointer(&v))
			}
		}
		return r.finish(in.n)
	})
}

// Scalar1Ok registers a scalar function of one argument whose result is
// NULL where f returns false.
func Scalar1Ok[A, R any](name string, f func(A) (R, bool)) {
	a, r := newArg[A](name, "argument 1"), newRes[R](name)
	register(name, false, []kind{a.k}, r.decl(true), func(in *input) *output {
		if len(in.args) != 1 {
			return fail(name + ": wrong argument count")
		}
		xs := args[A](a, in.args[0], in.n)
		o := out[R](r, in.n)
		for i, x := range xs {
			v, ok := f(x)
			store(r, o, i, v, ok)
		}
		return r.finish(in.n)
	})
}

// Scalar2 registers a scalar function of two arguments.
func Scalar2[A, B, R any](name string, f func(A, B) R) {
	a, b, r := newArg[A](name, "argument 1"), newArg[B](name, "argument 2"), newRes[R](name)
	register(name, false, []kind{a.k, b.k}, r.decl(false), func(in *input) *output {
		if len(in.args) != 2 {
			return fail(name + ": wrong argument count")
		}
		xs, ys := args[A](a, in.args[0], in.n), args[B](b, in.args[1], in.n)
		if o := out[R](r, in.n); o != nil {
			apply2(f, xs, ys, o)
		} else {
			for i := range xs {
				v := f(xs[i], ys[i])
				r.put(i, unsafe.Pointer(&v))
			}
		}
		return r.finish(in.n)
	})
}

// Scalar2Ok registers a scalar function of two arguments whose result is
// NULL where f returns false.
func Scalar2Ok[A, B, R any](name string, f func(A, B) (R, bool)) {
	a, b, r := newArg[A](name, "argument 1"), newArg[B](name, "argument 2"), newRes[R](name)
	register(name, false, []kind{a.k, b.k}, r.decl(true), func(in *input) *output {
		if len(in.args) != 2 {
			return fail(name + ": wrong argument count")
		}
		xs, ys := args[A](a, in.args[0], in.n), args[B](b, in.args[1], in.n)
		o := out[R](r, in.n)
		for i := range xs {
			v, ok := f(xs[i], ys[i])
			store(r, o, i, v, ok)
		}
		return r.finish(in.n)
	})
}

// Scalar3 registers a scalar function of three arguments.
func Scalar3[A, B, C, R any](name string, f func(A, B, C) R) {
	a, b, c, r := newArg[A](name, "argument 1"), newArg[B](name, "argument 2"), newArg[C](name, "argument 3"), newRes[R](name)
	register(name, false, []kind{a.k, b.k, c.k}, r.decl(false), func(in *input) *output {
		if len(in.args) != 3 {
			return fail(name + ": wrong argument count")
		}
		xs, ys, zs := args[A](a, in.args[0], in.n), args[B](b, in.args[1], in.n), args[C](c, in.args[2], in.n)
		o := out[R](r, in.n)
		for i := range xs {
			store(r, o, i, f(xs[i], ys[i], zs[i]), true)
		}
		return r.finish(in.n)
	})
}

// Aggregate1 registers an aggregate of one argument: f receives the
// group's values (a NULL value is left out unless A is a pointer type).
func Aggregate1[A, R any](name string, f func([]A) R) {
	a, r := newArg[A](name, "argument 1"), newRes[R](name)
	register(name, true, []kind{a.k}, r.decl(false), func(in *input) *output {
		if len(in.args) != 1 {
			return fail(name + ": wrong argument count")
		}
		ls := lists(in.args[0], in.n)
		xs := args[A](a, in.args[0], int(ls[in.n]))
		o := out[R](r, in.n)
		for g := range in.n {
			store(r, o, g, f(xs[ls[g]:ls[g+1]:ls[g+1]]), true)
		}
		return r.finish(in.n)
	})
}

// Aggregate1Ok registers an aggregate of one argument whose result is NULL
// where f returns false.
func Aggregate1Ok[A, R any](name string, f func([]A) (R, bool)) {
	a, r := newArg[A](name, "argument 1"), newRes[R](name)
	register(name, true, []kind{a.k}, r.decl(true), func(in *input) *output {
		if len(in.args) != 1 {
			return fail(name + ": wrong argument count")
		}
		ls := lists(in.args[0], in.n)
		xs := args[A](a, in.args[0], int(ls[in.n]))
		o := out[R](r, in.n)
		for g := range in.n {
			v, ok := f(xs[ls[g]:ls[g+1]:ls[g+1]])
			store(r, o, g, v, ok)
		}
		return r.finish(in.n)
	})
}

// Aggregate2 registers an aggregate of two arguments: f receives the
// group's rows as two slices of equal length.
func Aggregate2[A, B, R any](name string, f func([]A, []B) R) {
	a, b, r := newArg[A](name, "argument 1"), newArg[B](name, "argument 2"), newRes[R](name)
	register(name, true, []kind{a.k, b.k}, r.decl(false), func(in *input) *output {
		if len(in.args) != 2 {
			return fail(name + ": wrong argument count")
		}
		la, lb := lists(in.args[0], in.n), lists(in.args[1], in.n)
		xs, ys := args[A](a, in.args[0], int(la[in.n])), args[B](b, in.args[1], int(lb[in.n]))
		o := out[R](r, in.n)
		for g := range in.n {
			store(r, o, g, f(xs[la[g]:la[g+1]:la[g+1]], ys[lb[g]:lb[g+1]:lb[g+1]]), true)
		}
		return r.finish(in.n)
	})
}

// Aggregate2Ok registers an aggregate of two arguments whose result is
// NULL where f returns false.
func Aggregate2Ok[A, B, R any](name string, f func([]A, []B) (R, bool)) {
	a, b, r := newArg[A](name, "argument 1"), newArg[B](name, "argument 2"), newRes[R](name)
	register(name, true, []kind{a.k, b.k}, r.decl(true), func(in *input) *output {
		if len(in.args) != 2 {
			return fail(name + ": wrong argument count")
		}
		la, lb := lists(in.args[0], in.n), lists(in.args[1], in.n)
		xs, ys := args[A](a, in.args[0], int(la[in.n])), args[B](b, in.args[1], int(lb[in.n]))
		o := out[R](r, in.n)
		for g := range in.n {
			v, ok := f(xs[la[g]:la[g+1]:la[g+1]], ys[lb[g]:lb[g+1]:lb[g+1]])
			store(r, o, g, v, ok)
		}
		return r.finish(in.n)
	})
}

// Vector1 registers a scalar function of one argument that computes a whole
// batch at once: f fills out[i] from xs[i] for every i (len(out) ==
// len(xs)). It saves the per-row function call of Scalar1, which in a Go
// wasm module costs more than a simple function's work. A and R must not
// be pointer types: rows with a NULL argument are not passed, and the
// results are not NULL.
func Vector1[A, R any](name string, f func(xs []A, out []R)) {
	a, r := newArg[A](name, "argument 1"), newRes[R](name)
	if a.k.nullable || r.k.nullable || r.bytesLike() {
		panic("arroyo udf sdk: " + name + ": Vector1 takes plain fixed-width types (bool, integers, floats, sdk.Timestamp); use Scalar1")
	}
	register(name, false, []kind{a.k}, r.decl(false), func(in *input) *output {
		if len(in.args) != 1 {
			return fail(name + ": wrong argument count")
		}
		f(args[A](a, in.args[0], in.n), out[R](r, in.n))
		return r.finish(in.n)
	})
}

// Vector2 is Vector1 for functions of two arguments.
func Vector2[A, B, R any](name string, f func(xs []A, ys []B, out []R)) {
	a, b, r := newArg[A](name, "argument 1"), newArg[B](name, "argument 2"), newRes[R](name)
	if a.k.nullable || b.k.nullable || r.k.nullable || r.bytesLike() {
		panic("arroyo udf sdk: " + name + ": Vector2 takes plain fixed-width types (bool, integers, floats, sdk.Timestamp); use Scalar2")
	}
	register(name, false, []kind{a.k, b.k}, r.decl(false), func(in *input) *output {
		if len(in.args) != 2 {
			return fail(name + ": wrong argument count")
		}
		f(args[A](a, in.args[0], in.n), args[B](b, in.args[1], in.n), out[R](r, in.n))
		return r.finish(in.n)
	})
}

// apply1 sets out[i] = f(xs[i]), eight rows per loop iteration: Go's
// WebAssembly code takes every loop back-edge through the function's
// block dispatch (a br_table), so unrolling saves seven of eight.
func apply1[A, R any](f func(A) R, xs []A, out []R) {
	n := len(xs)
	out = out[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x, o := xs[i:i+8:i+8], out[i:i+8:i+8]
		o[0] = f(x[0])
		o[1] = f(x[1])
		o[2] = f(x[2])
		o[3] = f(x[3])
		o[4] = f(x[4])
		o[5] = f(x[5])
		o[6] = f(x[6])
		o[7] = f(x[7])
	}
	for ; i < n; i++ {
		out[i] = f(xs[i])
	}
}

// apply2 is apply1 for functions of two arguments.
func apply2[A, B, R any](f func(A, B) R, xs []A, ys []B, out []R) {
	n := len(xs)
	ys, out = ys[:n], out[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		out[i] = f(xs[i], ys[i])
		out[i+1] = f(xs[i+1], ys[i+1])
		out[i+2] = f(xs[i+2], ys[i+2])
		out[i+3] = f(xs[i+3], ys[i+3])
	}
	for ; i < n; i++ {
		out[i] = f(xs[i], ys[i])
	}
}

// textToText is Scalar1's loop for a function from TEXT to TEXT.
func textToText(f func(string) string, d argDesc, n int, data []byte, offs []uint32) []byte {
	t := texts(d, n)
	ends := offs[1 : n+1]
	for i := range ends {
		data = append(data, f(t.At(i))...)
		ends[i] = uint32(len(data))
	}
	return data
}

// AppendText1 registers a scalar function of one argument whose result is
// TEXT, in the append form of strconv.AppendInt and utf8.AppendRune: f
// appends the result for x to dst and returns the extended slice. dst is
// the result column itself, so no row allocates or copies its result; f
// must only append (not change dst's existing bytes). A must not be a
// pointer type: rows with a NULL argument are not passed, and the results
// are not NULL.
func AppendText1[A any](name string, f func(dst []byte, x A) []byte) {
	a, r := newArg[A](name, "argument 1"), newRes[string](name)
	if a.k.nullable {
		panic("arroyo udf sdk: " + name + ": AppendText1 takes a plain argument type; use Scalar1 with a pointer type for NULL")
	}
	register(name, false, []kind{a.k}, r.decl(false), func(in *input) *output {
		if len(in.args) != 1 {
			return fail(name + ": wrong argument count")
		}
		r.begin(in.n)
		if fs, ok := any(f).(func([]byte, string) []byte); ok && a.k.base == kString {
			r.data = appendTextToText(fs, in.args[0], in.n, r.data, r.offs)
			return r.finish(in.n)
		}
		xs := args[A](a, in.args[0], in.n)
		offs := r.offs[:len(xs)+1]
		data := r.data
		for i, x := range xs {
			data = f(data, x)
			offs[i+1] = uint32(len(data))
		}
		r.data = data
		return r.finish(in.n)
	})
}

// appendTextToText is AppendText1's loop for a TEXT argument: each row's
// string views the input buffer, each result is appended in place.
func appendTextToText(f func([]byte, string) []byte, d argDesc, n int, data []byte, offs []uint32) []byte {
	t := texts(d, n)
	if need := t.Size(); cap(data) < need {
		// Most functions' results are about as long as their arguments.
		data = make([]byte, 0, need+need/4)
	}
	ends := offs[1 : n+1]
	for i := range ends {
		data = f(data, t.At(i))
		ends[i] = uint32(len(data))
	}
	return data
}

// texts returns the n TEXT values of the column d.
func texts(d argDesc, n int) Texts {
	if n == 0 { // the addresses may be 0
		return Texts{offs: noOffsets[:]}
	}
	return Texts{values: ptr(d.values), offs: unsafe.Slice((*uint32)(ptr(d.offsets)), n+1)}
}

var noOffsets = [1]uint32{0}

// Texts is a batch's column of TEXT values, viewing the input buffer:
// valid during the call only.
type Texts struct {
	values unsafe.Pointer
	offs   []uint32 // Len()+1 offsets into values
}

// Len returns the number of values.
func (t Texts) Len() int { return len(t.offs) - 1 }

// At returns value i (0 <= i < Len()).
func (t Texts) At(i int) string {
	o := t.offs[i : i+2 : i+2]
	return unsafe.String((*byte)(unsafe.Add(t.values, o[0])), o[1]-o[0])
}

// Size returns the total length of the values in bytes.
func (t Texts) Size() int { return int(t.offs[len(t.offs)-1] - t.offs[0]) }

// VectorText1 registers a scalar function from TEXT to TEXT that computes
// a whole batch at once, the loop being the author's: f appends the result
// of every value of in to dst, in order, sets ends[i] to len(dst) after
// value i's result, and returns dst. It saves the function call per row of
// AppendText1, which in a Go WebAssembly module costs more than a short
// string's work. dst has room for in.Size() bytes and more (append
// grows it as usual); the results must be UTF-8. Rows with a NULL argument
// are not passed, and the results are not NULL.
func VectorText1(name string, f func(in Texts, dst []byte, ends []uint32) []byte) {
	r := &result{k: kind{kString, false}}
	register(name, false, []kind{{kString, false}}, r.decl(false), func(in *input) *output {
		if len(in.args) != 1 {
			return fail(name + ": wrong argument count")
		}
		r.begin(in.n)
		d := in.args[0]
		t := texts(d, in.n)
		if need := t.Size(); cap(r.data) < need {
			r.data = make([]byte, 0, need+need/4)
		}
		r.data = f(t, r.data[:0], r.offs[1:in.n+1])
		if in.n > 0 && r.offs[in.n] != uint32(len(r.data)) {
			return fail(name + ": the last of ends is not the length of the results (VectorText1 sets ends[i] = len(dst) after each value)")
		}
		return r.finish(in.n)
	})
}
