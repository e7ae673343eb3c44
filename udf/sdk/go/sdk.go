// Package sdk writes Arroyo UDFs in Go: typed Go functions registered by
// name, compiled to one WebAssembly module that `arroyo run --udf` loads.
//
//	package main
//
//	import sdk "github.com/arroyogo/arroyo/udf/sdk/go"
//
//	func init() {
//		sdk.Scalar1("double", func(x int64) int64 { return 2 * x })
//		sdk.Aggregate1("mean", func(xs []float64) float64 { ... })
//	}
//
//	func main() {}
//
// built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o udfs.wasm .
//
// Register in init functions: a c-shared module runs its package
// initializers when the host instantiates it and never calls main.
//
// Types: bool, int8..int64, uint8..uint64, float32, float64, string
// (TEXT), []byte (BYTEA), Timestamp (TIMESTAMP: nanoseconds since 1970
// UTC) and JSON (JSON text).
// NULL: an argument of pointer type (*int64, *string ...) is nullable and
// receives nil for NULL; an argument of a plain type is not, and the host
// does not call the function for rows where it is NULL (their result is
// NULL). A result of pointer type, or the (R, bool) forms (false: NULL),
// may be NULL. Aggregates receive a slice per argument holding the group's
// values.
//
// Arguments of type string and []byte, and aggregates' slices, point into
// the module's input buffer: they are valid during the call only, and a
// function that keeps one must copy it.
//
// The SDK decodes each batch's columns once, without reflection; the
// function is called once per row (once per group for an aggregate), or,
// declared through Inline, has its body inlined into the row loop.
// AppendText1 appends TEXT results straight into the result column, and
// VectorText1 computes a TEXT function over a whole batch. It has no
// dependencies beyond the standard library, and imports only unsafe: a
// module links no more of Go's library than its own code uses (each load
// validates all of a module's code).
package sdk

import "unsafe"

// ABIVersion is the version of the host ABI this SDK speaks.
const ABIVersion = 1

// JSON is JSON text, a JSON column's value.
type JSON string

// Timestamp is a TIMESTAMP value: nanoseconds since 1970-01-01 00:00 UTC.
// It is not a time.Time so that a module need not link package time
// (about a tenth of a small module's code, which every load validates);
// convert with time.Unix(0, int64(ts)).UTC() and
// sdk.Timestamp(t.UnixNano()).
type Timestamp int64

type fn struct {
	line string
	call func(in *input) *output
}

var funcs []fn
var names = map[string]bool{}

func register(name string, agg bool, args []kind, res kind, call func(in *input) *output) {
	if names[name] {
		panic("arroyo udf sdk: function " + name + " registered twice")
	}
	names[name] = true
	var b []byte
	if agg {
		b = append(b, "aggregate "...)
	} else {
		b = append(b, "scalar "...)
	}
	b = append(b, name...)
	b = append(b, '(')
	for i, a := range args {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, a.sql()...)
	}
	b = append(b, ") -> "...)
	b = append(b, res.sql()...)
	funcs = append(funcs, fn{line: string(b), call: call})
}

var manifestText []byte

func manifest() []byte {
	if manifestText == nil {
		b := []byte("arroyo-udf 1\n")
		for _, f := range funcs {
			b = append(b, f.line...)
			b = append(b, '\n')
		}
		manifestText = b
	}
	return manifestText
}

// Manifest returns the signature manifest the module exports (for tests
// and tools).
func Manifest() string { return string(manifest()) }

// Base kinds (the type without NULL).
const (
	kBool uint8 = iota + 1
	kInt8
	kInt16
	kInt32
	kInt64
	kUint8
	kUint16
	kUint32
	kUint64
	kFloat32
	kFloat64
	kString
	kBytes
	kTime
	kJSON
)

var sqlNames = [...]string{
	kBool: "BOOLEAN", kInt8: "TINYINT", kInt16: "SMALLINT", kInt32: "INT", kInt64: "BIGINT",
	kUint8: "TINYINT UNSIGNED", kUint16: "SMALLINT UNSIGNED", kUint32: "INT UNSIGNED", kUint64: "BIGINT UNSIGNED",
	kFloat32: "FLOAT", kFloat64: "DOUBLE", kString: "TEXT", kBytes: "BYTEA", kTime: "TIMESTAMP", kJSON: "JSON",
}

var widths = [...]int{kBool: 1, kInt8: 1, kInt16: 2, kInt32: 4, kInt64: 8, kUint8: 1, kUint16: 2, kUint32: 4,
	kUint64: 8, kFloat32: 4, kFloat64: 8, kTime: 8}

// kind is a Go type's place in the ABI: its base kind and whether it is a
// pointer (nullable).
type kind struct {
	base     uint8
	nullable bool
}

func (k kind) sql() string {
	if k.nullable {
		return sqlNames[k.base] + " NULL"
	}
	return sqlNames[k.base]
}

func (k kind) width() int { return widths[k.base] }

// kindOf maps T to its kind, once per registration (a type switch, not
// reflection).
func kindOf[T any](fn, what string) kind {
	var zero T
	return kindOfValue(any(zero), fn, what)
}

// kindOfValue is kindOf of the type of zero (not generic: its code is in
// a module once).
func kindOfValue(zero any, fn, what string) kind {
	switch zero.(type) {
	case bool:
		return kind{kBool, false}
	case int8:
		return kind{kInt8, false}
	case int16:
		return kind{kInt16, false}
	case int32:
		return kind{kInt32, false}
	case int64:
		return kind{kInt64, false}
	case uint8:
		return kind{kUint8, false}
	case uint16:
		return kind{kUint16, false}
	case uint32:
		return kind{kUint32, false}
	case uint64:
		return kind{kUint64, false}
	case float32:
		return kind{kFloat32, false}
	case float64:
		return kind{kFloat64, false}
	case string:
		return kind{kString, false}
	case []byte:
		return kind{kBytes, false}
	case Timestamp:
		return kind{kTime, false}
	case JSON:
		return kind{kJSON, false}
	case *bool:
		return kind{kBool, true}
	case *int8:
		return kind{kInt8, true}
	case *int16:
		return kind{kInt16, true}
	case *int32:
		return kind{kInt32, true}
	case *int64:
		return kind{kInt64, true}
	case *uint8:
		return kind{kUint8, true}
	case *uint16:
		return kind{kUint16, true}
	case *uint32:
		return kind{kUint32, true}
	case *uint64:
		return kind{kUint64, true}
	case *float32:
		return kind{kFloat32, true}
	case *float64:
		return kind{kFloat64, true}
	case *string:
		return kind{kString, true}
	case *[]byte:
		return kind{kBytes, true}
	case *Timestamp:
		return kind{kTime, true}
	case *JSON:
		return kind{kJSON, true}
	}
	if _, ok := zero.(interface{ UnixNano() int64 }); ok {
		panic("arroyo udf sdk: " + fn + ": a TIMESTAMP " + what + " is an sdk.Timestamp (nanoseconds since 1970 UTC), not a time.Time: convert with time.Unix(0, int64(ts)).UTC() and sdk.Timestamp(t.UnixNano())")
	}
	panic("arroyo udf sdk: " + fn + ": unsupported " + what + " type (use bool, int8..int64, uint8..uint64, float32, float64, string, []byte, sdk.Timestamp, sdk.JSON, or a pointer to one for NULL)")
}

// ptr converts a guest address to a pointer. In a wasm module addresses
// are the linear memory's offsets, which is what the host passes.
func ptr(addr uint32) unsafe.Pointer { return unsafe.Pointer(uintptr(addr)) }

func addrOf[T any](p *T) uint32 { return uint32(uintptr(unsafe.Pointer(p))) }

// arena is the input buffer the host writes arguments into.
var arena []uint64

func alloc(size uint32) uint32 {
	words := (int(size) + 7) / 8
	if words == 0 {
		words = 1
	}
	if len(arena) < words {
		arena = make([]uint64, words+words/4)
	}
	return addrOf(&arena[0])
}

// argDesc is one argument in the input: guest addresses, 0 for none.
type argDesc struct {
	nulls, values, offsets, lists uint32
}

type input struct {
	n    int
	args []argDesc
}

var inBuf input

func readInput(addr uint32) *input {
	w := unsafe.Slice((*uint32)(ptr(addr)), 2)
	n, nargs := int(w[0]), int(w[1])
	all := unsafe.Slice((*uint32)(ptr(addr)), 2+4*nargs)
	inBuf.n = n
	inBuf.args = inBuf.args[:0]
	for i := 0; i < nargs; i++ {
		a := all[2+4*i:]
		inBuf.args = append(inBuf.args, argDesc{a[0], a[1], a[2], a[3]})
	}
	return &inBuf
}

// output is the result descriptor the host reads (eight u32).
type output [8]uint32

var outDesc output

func fail(msg string) *output {
	errMsg = []byte(msg)
	outDesc = output{1, 0, 0, 0, 0, addrOf(&errMsg[0]), uint32(len(errMsg)), 0}
	return &outDesc
}

var errMsg []byte

func call(f, in uint32) uint32 {
	if int(f) >= len(funcs) {
		return addrOf(fail("no function number " + itoa(int(f))))
	}
	return addrOf(funcs[f].call(readInput(in)))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// isNull reports whether row i of a bitmap at addr (0: none) is NULL.
func isNull(bits []byte, i int) bool {
	return bits != nil && bits[i>>3]&(1<<(uint(i)&7)) != 0
}
