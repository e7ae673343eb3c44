package coldata

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/types"
)

// Shared test types: scalars of every kind and the nestings the planner
// produces (lists of structs, structs of lists, lists of lists).
var (
	pairT          = types.StructOf(types.Field{Name: "a", Type: types.Int64T, Nullable: true}, types.Field{Name: "s", Type: types.StringT, Nullable: true})
	listOfPairsT   = types.ListOf(pairT)
	structOfListsT = types.StructOf(types.Field{Name: "xs", Type: types.ListOf(types.StringT), Nullable: true}, types.Field{Name: "n", Type: types.Int32T, Nullable: true})
	listOfListsT   = types.ListOf(types.ListOf(types.StringT))
	nestedStructT  = types.StructOf(types.Field{Name: "p", Type: pairT, Nullable: true}, types.Field{Name: "f", Type: types.Float64T, Nullable: true})
)

// testTypes is one type per physical layout and nesting, used by the
// randomized Gather, AppendValue and hash tests.
var testTypes = []types.Type{
	types.NullT, types.BoolT, types.Int8T, types.Int16T, types.Int32T, types.Int64T,
	types.UInt8T, types.UInt16T, types.UInt32T, types.UInt64T,
	types.Float32T, types.Float64T, types.StringT, types.BytesT, types.JSONT,
	types.TimestampT, types.IntervalT,
	pairT, types.ListOf(types.Int64T), listOfPairsT, structOfListsT, listOfListsT, nestedStructT,
	// New kinds go last: the vectors above stay the ones their random
	// streams have always produced.
	types.DateT, types.TimeT, types.DecimalOf(38, 2), types.DecimalOf(5, 0),
}

func TestNulls(t *testing.T) {
	for _, tc := range []struct {
		name  string
		set   []int
		words int // bitmap words after setting
	}{
		{"none", nil, 0},
		{"row 0", []int{0}, 1},
		{"last bit of word 0", []int{63}, 1},
		{"first bit of word 1", []int{64}, 2},
		{"both sides of the boundary", []int{0, 63, 64, 127}, 2},
		{"far row grows the bitmap", []int{1000}, 16},
		{"set twice", []int{5, 5}, 1},
		{"descending", []int{1000, 127, 64, 63, 0}, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n Nulls
			want := map[int]bool{}
			for _, i := range tc.set {
				n.SetNull(i)
				want[i] = true
			}
			for i := 0; i < 1100; i++ {
				if got := n.IsNull(i); got != want[i] {
					t.Fatalf("IsNull(%d) = %v, want %v", i, got, want[i])
				}
			}
			// Rows past the bitmap are not null.
			if n.IsNull(1 << 20) {
				t.Fatal("IsNull past the bitmap = true")
			}
			if got := len(n.Words()); got != tc.words {
				t.Fatalf("len(Words()) = %d, want %d", got, tc.words)
			}
			if n.Any() != (len(want) > 0) || n.Count() != len(want) {
				t.Fatalf("Any() = %v, Count() = %d; want %v, %d", n.Any(), n.Count(), len(want) > 0, len(want))
			}
			n.Reset()
			if n.Any() || n.Count() != 0 {
				t.Fatalf("after Reset: Any() = %v, Count() = %d", n.Any(), n.Count())
			}
			for _, i := range tc.set {
				if n.IsNull(i) {
					t.Fatalf("after Reset: IsNull(%d) = true", i)
				}
			}
			// The bitmap is usable after Reset.
			n.SetNull(65)
			if !n.IsNull(65) || n.IsNull(64) || n.Count() != 1 {
				t.Fatal("SetNull after Reset did not take")
			}
		})
	}
}

func TestNullsShortBitmapAndWords(t *testing.T) {
	var zero Nulls
	if zero.IsNull(0) || zero.Any() || zero.Count() != 0 {
		t.Fatal("the zero Nulls has nulls")
	}
	// A bitmap shorter than the vector: the missing words are not null.
	var n Nulls
	n.SetWords([]uint64{1<<3 | 1<<63, 1})
	for i, want := range map[int]bool{0: false, 3: true, 62: false, 63: true, 64: true, 65: false, 128: false, 5000: false} {
		if n.IsNull(i) != want {
			t.Errorf("IsNull(%d) = %v, want %v", i, !want, want)
		}
	}
	if n.Count() != 3 {
		t.Errorf("Count() = %d, want 3", n.Count())
	}
	// All-zero words are not nulls.
	n.SetWords([]uint64{0, 0, 0})
	if n.Any() || n.Count() != 0 {
		t.Error("zero words report nulls")
	}
}

func TestNewEveryKind(t *testing.T) {
	want := map[types.Kind]reflect.Type{
		types.Null:      reflect.TypeFor[*Vec[bool]](),
		types.Bool:      reflect.TypeFor[*Vec[bool]](),
		types.Int8:      reflect.TypeFor[*Vec[int8]](),
		types.Int16:     reflect.TypeFor[*Vec[int16]](),
		types.Int32:     reflect.TypeFor[*Vec[int32]](),
		types.Int64:     reflect.TypeFor[*Vec[int64]](),
		types.UInt8:     reflect.TypeFor[*Vec[uint8]](),
		types.UInt16:    reflect.TypeFor[*Vec[uint16]](),
		types.UInt32:    reflect.TypeFor[*Vec[uint32]](),
		types.UInt64:    reflect.TypeFor[*Vec[uint64]](),
		types.Float32:   reflect.TypeFor[*Vec[float32]](),
		types.Float64:   reflect.TypeFor[*Vec[float64]](),
		types.String:    reflect.TypeFor[*Bytes](),
		types.Bytes:     reflect.TypeFor[*Bytes](),
		types.Timestamp: reflect.TypeFor[*Vec[int64]](),
		types.Interval:  reflect.TypeFor[*Vec[int64]](),
		types.Date:      reflect.TypeFor[*Vec[int32]](),
		types.Time:      reflect.TypeFor[*Vec[int64]](),
		types.Decimal:   reflect.TypeFor[*Vec[Int128]](),
		types.JSON:      reflect.TypeFor[*Bytes](),
		types.List:      reflect.TypeFor[*List](),
		types.Struct:    reflect.TypeFor[*Struct](),
	}
	typeOf := func(k types.Kind) types.Type {
		switch k {
		case types.List:
			return types.ListOf(types.StringT)
		case types.Struct:
			return pairT
		}
		return types.Type{Kind: k}
	}
	// Every valid kind must have a layout: a new kind fails here until the
	// table (and New) know it.
	for k := types.Null; !strings.HasPrefix(k.String(), "Kind("); k++ {
		t.Run(k.String(), func(t *testing.T) {
			wt, ok := want[k]
			if !ok {
				t.Fatalf("kind %v has no expected layout in this test", k)
			}
			typ := typeOf(k)
			v := New(typ, 8)
			if reflect.TypeOf(v) != wt {
				t.Fatalf("New(%v) = %T, want %v", typ, v, wt)
			}
			if !v.Type().Equal(typ) || v.Len() != 0 || v.Nulls().Any() {
				t.Fatalf("New(%v): type %v, len %d, nulls %v", typ, v.Type(), v.Len(), v.Nulls().Any())
			}
			switch v := v.(type) {
			case *Struct:
				if len(v.Fields) != len(typ.Fields) {
					t.Fatalf("struct has %d field vectors, want %d", len(v.Fields), len(typ.Fields))
				}
				for i, f := range v.Fields {
					if !f.Type().Equal(typ.Fields[i].Type) || f.Len() != 0 {
						t.Fatalf("field %d: type %v len %d", i, f.Type(), f.Len())
					}
				}
			case *List:
				if !v.Elems.Type().Equal(*typ.Elem) || v.Elems.Len() != 0 {
					t.Fatalf("list elems: type %v len %d", v.Elems.Type(), v.Elems.Len())
				}
			}

			const n = 70 // crosses a bitmap word
			nv := NewNulls(typ, n)
			if reflect.TypeOf(nv) != wt || nv.Len() != n || nv.Nulls().Count() != n {
				t.Fatalf("NewNulls(%v, %d) = %T len %d nulls %d", typ, n, nv, nv.Len(), nv.Nulls().Count())
			}
			for i := range n {
				if !nv.IsNull(i) || Value(nv, i) != nil {
					t.Fatalf("NewNulls row %d: IsNull %v, Value %v", i, nv.IsNull(i), Value(nv, i))
				}
			}
			checkInvariants(t, nv)
		})
	}
	t.Run("invalid panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Fatal("New(Invalid) did not panic")
			}
		}()
		New(types.Type{Kind: types.Invalid}, 1)
	})
}

func TestBuildAndValue(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func() Vector
		want  []any
	}{
		{"bool", func() Vector {
			v := New(types.BoolT, 0).(*Vec[bool])
			v.Append(true)
			v.AppendNull()
			v.Append(false)
			return v
		}, []any{true, nil, false}},
		{"int8", func() Vector {
			v := New(types.Int8T, 0).(*Vec[int8])
			v.Append(math.MinInt8)
			v.AppendNull()
			v.Append(math.MaxInt8)
			return v
		}, []any{int8(math.MinInt8), nil, int8(math.MaxInt8)}},
		{"int16", func() Vector {
			v := New(types.Int16T, 0).(*Vec[int16])
			v.Append(math.MinInt16)
			v.AppendNull()
			v.Append(math.MaxInt16)
			return v
		}, []any{int16(math.MinInt16), nil, int16(math.MaxInt16)}},
		{"uint8", func() Vector {
			v := New(types.UInt8T, 0).(*Vec[uint8])
			v.Append(math.MaxUint8)
			v.AppendNull()
			return v
		}, []any{uint8(math.MaxUint8), nil}},
		{"uint16", func() Vector {
			v := New(types.UInt16T, 0).(*Vec[uint16])
			v.AppendNull()
			v.Append(math.MaxUint16)
			return v
		}, []any{nil, uint16(math.MaxUint16)}},
		{"int32", func() Vector {
			v := New(types.Int32T, 0).(*Vec[int32])
			v.Append(math.MinInt32)
			v.AppendNull()
			v.Append(7)
			return v
		}, []any{int32(math.MinInt32), nil, int32(7)}},
		{"int64", func() Vector {
			v := New(types.Int64T, 0).(*Vec[int64])
			v.AppendNull()
			v.Append(math.MaxInt64)
			v.Append(-1)
			return v
		}, []any{nil, int64(math.MaxInt64), int64(-1)}},
		{"timestamp is int64 nanoseconds", func() Vector {
			v := New(types.TimestampT, 0).(*Vec[int64])
			v.Append(1_700_000_000_123_456_789)
			v.AppendNull()
			return v
		}, []any{int64(1_700_000_000_123_456_789), nil}},
		{"interval is int64 nanoseconds", func() Vector {
			v := New(types.IntervalT, 0).(*Vec[int64])
			v.Append(-5)
			return v
		}, []any{int64(-5)}},
		{"uint32", func() Vector {
			v := New(types.UInt32T, 0).(*Vec[uint32])
			v.Append(math.MaxUint32)
			v.AppendNull()
			return v
		}, []any{uint32(math.MaxUint32), nil}},
		{"uint64", func() Vector {
			v := New(types.UInt64T, 0).(*Vec[uint64])
			v.AppendNull()
			v.Append(math.MaxUint64)
			return v
		}, []any{nil, uint64(math.MaxUint64)}},
		{"float32", func() Vector {
			v := New(types.Float32T, 0).(*Vec[float32])
			v.Append(1.5)
			v.AppendNull()
			return v
		}, []any{float32(1.5), nil}},
		{"float64", func() Vector {
			v := New(types.Float64T, 0).(*Vec[float64])
			v.Append(math.Inf(-1))
			v.AppendNull()
			v.Append(0.25)
			return v
		}, []any{math.Inf(-1), nil, 0.25}},
		{"null type", func() Vector {
			v := New(types.NullT, 0)
			v.AppendNull()
			v.AppendNull()
			return v
		}, []any{nil, nil}},
		{"text", func() Vector {
			v := New(types.StringT, 0).(*Bytes)
			v.AppendString("héllo")
			v.AppendNull()
			v.AppendString("")
			v.Append([]byte("raw"))
			return v
		}, []any{"héllo", nil, "", "raw"}},
		{"json is text", func() Vector {
			v := New(types.JSONT, 0).(*Bytes)
			v.AppendString(`{"a":1}`)
			v.AppendNull()
			return v
		}, []any{`{"a":1}`, nil}},
		{"bytea", func() Vector {
			v := New(types.BytesT, 0).(*Bytes)
			v.Append([]byte{0, 1, 255})
			v.AppendNull()
			v.Append(nil)
			return v
		}, []any{[]byte{0, 1, 255}, nil, []byte(nil)}}, // Value gives nil for an empty BYTEA
		{"struct", func() Vector {
			v := New(pairT, 0).(*Struct)
			v.Fields[0].(*Vec[int64]).Append(1)
			v.Fields[1].(*Bytes).AppendString("x")
			v.AppendRow()
			v.AppendNull()
			v.Fields[0].AppendNull()
			v.Fields[1].(*Bytes).AppendString("y")
			v.AppendRow()
			return v
		}, []any{[]any{int64(1), "x"}, nil, []any{nil, "y"}}},
		{"list", func() Vector {
			v := New(types.ListOf(types.Int64T), 0).(*List)
			e := v.Elems.(*Vec[int64])
			e.Append(1)
			e.Append(2)
			v.CloseRow()
			v.AppendNull()
			v.CloseRow()
			e.AppendNull()
			e.Append(3)
			v.CloseRow()
			return v
		}, []any{[]any{int64(1), int64(2)}, nil, []any(nil), []any{nil, int64(3)}}}, // Value gives nil for an empty list
		{"list of structs", func() Vector {
			v := New(listOfPairsT, 0).(*List)
			s := v.Elems.(*Struct)
			s.Fields[0].(*Vec[int64]).Append(1)
			s.Fields[1].(*Bytes).AppendString("a")
			s.AppendRow()
			s.AppendNull()
			v.CloseRow()
			v.CloseRow()
			v.AppendNull()
			s.Fields[0].(*Vec[int64]).Append(2)
			s.Fields[1].AppendNull()
			s.AppendRow()
			v.CloseRow()
			return v
		}, []any{[]any{[]any{int64(1), "a"}, nil}, []any(nil), nil, []any{[]any{int64(2), nil}}}},
		{"struct of lists", func() Vector {
			v := New(structOfListsT, 0).(*Struct)
			xs, n := v.Fields[0].(*List), v.Fields[1].(*Vec[int32])
			xs.Elems.(*Bytes).AppendString("a")
			xs.Elems.(*Bytes).AppendString("b")
			xs.CloseRow()
			n.Append(1)
			v.AppendRow()
			v.AppendNull()
			xs.AppendNull()
			n.AppendNull()
			v.AppendRow()
			xs.CloseRow()
			n.Append(2)
			v.AppendRow()
			return v
		}, []any{[]any{[]any{"a", "b"}, int32(1)}, nil, []any{nil, nil}, []any{[]any(nil), int32(2)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.build()
			checkInvariants(t, v)
			if v.Len() != len(tc.want) {
				t.Fatalf("Len() = %d, want %d", v.Len(), len(tc.want))
			}
			nulls := 0
			for i, w := range tc.want {
				if got := Value(v, i); !reflect.DeepEqual(got, w) {
					t.Errorf("Value(%d) = %#v, want %#v", i, got, w)
				}
				if v.IsNull(i) != (w == nil) {
					t.Errorf("IsNull(%d) = %v", i, v.IsNull(i))
				}
				if w == nil {
					nulls++
				}
			}
			if v.Nulls().Count() != nulls {
				t.Errorf("Nulls().Count() = %d, want %d", v.Nulls().Count(), nulls)
			}
		})
	}
}

// TestValueCopiesBytes: Value of a BYTEA row is a copy, so a caller that
// modifies it cannot corrupt an (immutable) vector.
func TestValueCopiesBytes(t *testing.T) {
	v := New(types.BytesT, 0).(*Bytes)
	v.Append([]byte("abc"))
	b := Value(v, 0).([]byte)
	b[0] = 'X'
	if got := v.GetString(0); got != "abc" {
		t.Fatalf("vector changed to %q through Value's result", got)
	}
	if got := string(v.Get(0)); got != "abc" {
		t.Fatalf("Get(0) = %q", got)
	}
}

// TestStructAppendNullFillsFields: a NULL struct row has a (NULL) row in
// every field, so field vectors stay aligned with the struct.
func TestStructAppendNullFillsFields(t *testing.T) {
	v := New(nestedStructT, 0).(*Struct)
	v.AppendNull()
	v.AppendNull()
	checkInvariants(t, v)
	inner := v.Fields[0].(*Struct)
	if inner.Len() != 2 || inner.Fields[0].Len() != 2 || inner.Fields[1].Len() != 2 || v.Fields[1].Len() != 2 {
		t.Fatalf("field lengths after 2 NULL rows: %d %d %d %d", inner.Len(), inner.Fields[0].Len(), inner.Fields[1].Len(), v.Fields[1].Len())
	}
}

// checkInvariants checks the physical layout of v: offsets start at 0, are
// non-decreasing and end at the data/child length; struct fields have the
// struct's length; no null bit is set past the end.
func checkInvariants(t *testing.T, v Vector) {
	t.Helper()
	n := v.Len()
	for i := n; i < len(v.Nulls().Words())*64; i++ {
		if v.Nulls().IsNull(i) {
			t.Fatalf("%v: null bit %d set past length %d", v.Type(), i, n)
		}
	}
	checkOffsets := func(off []int32, end int) {
		t.Helper()
		if len(off) != n+1 || off[0] != 0 || int(off[n]) != end {
			t.Fatalf("%v: offsets %v for %d rows ending at %d", v.Type(), off, n, end)
		}
		for i := 1; i < len(off); i++ {
			if off[i] < off[i-1] {
				t.Fatalf("%v: offsets decrease: %v", v.Type(), off)
			}
		}
	}
	switch v := v.(type) {
	case *Bytes:
		checkOffsets(v.Offsets, len(v.Data))
	case *Struct:
		if len(v.Fields) != len(v.T.Fields) {
			t.Fatalf("%v: %d field vectors", v.T, len(v.Fields))
		}
		for i, f := range v.Fields {
			if f.Len() != n || !f.Type().Equal(v.T.Fields[i].Type) {
				t.Fatalf("%v: field %d has %d rows of %v, want %d", v.T, i, f.Len(), f.Type(), n)
			}
			checkInvariants(t, f)
		}
	case *List:
		checkOffsets(v.Offsets, v.Elems.Len())
		if !v.Elems.Type().Equal(*v.T.Elem) {
			t.Fatalf("%v: elems of type %v", v.T, v.Elems.Type())
		}
		checkInvariants(t, v.Elems)
	}
}

// appendRandom appends one random row to v (NULL with probability
// nullPct%) and returns the Go value Value should give for it. Values come
// from small domains so that equal values recur at different positions.
func appendRandom(r *rand.Rand, v Vector, nullPct int) any {
	if v.Type().Kind == types.Null || r.IntN(100) < nullPct {
		v.AppendNull()
		return nil
	}
	switch v := v.(type) {
	case *Vec[bool]:
		x := r.IntN(2) == 1
		v.Append(x)
		return x
	case *Vec[int8]:
		x := []int8{math.MinInt8, -1, 0, 1, math.MaxInt8}[r.IntN(5)]
		v.Append(x)
		return x
	case *Vec[int16]:
		x := []int16{math.MinInt16, -1, 0, 1, math.MaxInt16}[r.IntN(5)]
		v.Append(x)
		return x
	case *Vec[uint8]:
		x := []uint8{0, 1, 7, math.MaxUint8}[r.IntN(4)]
		v.Append(x)
		return x
	case *Vec[uint16]:
		x := []uint16{0, 1, 7, math.MaxUint16}[r.IntN(4)]
		v.Append(x)
		return x
	case *Vec[int32]:
		x := []int32{math.MinInt32, -1, 0, 1, 42}[r.IntN(5)]
		v.Append(x)
		return x
	case *Vec[int64]:
		x := []int64{math.MinInt64, -1, 0, 1, 1 << 40}[r.IntN(5)]
		v.Append(x)
		return x
	case *Vec[uint32]:
		x := []uint32{0, 1, 7, math.MaxUint32}[r.IntN(4)]
		v.Append(x)
		return x
	case *Vec[uint64]:
		x := []uint64{0, 1, 7, math.MaxUint64}[r.IntN(4)]
		v.Append(x)
		return x
	case *Vec[float32]:
		x := []float32{0, float32(math.Copysign(0, -1)), 1.5, -2.25, float32(math.Inf(1))}[r.IntN(5)]
		v.Append(x)
		return x
	case *Vec[float64]:
		x := []float64{0, math.Copysign(0, -1), 1.5, -2.25, math.Inf(1)}[r.IntN(5)]
		v.Append(x)
		return x
	case *Vec[Int128]:
		x := []Int128{{}, Int128Of(-1), Int128Of(math.MaxInt64), {Lo: 0, Hi: 1}, {Lo: 5, Hi: math.MinInt64}}[r.IntN(5)]
		v.Append(x)
		return x
	case *Bytes:
		s := []string{"", "a", "abcdefgh", "abcdefghijklmnopq", "héllo"}[r.IntN(5)]
		v.AppendString(s)
		if v.T.Kind == types.Bytes {
			return append([]byte(nil), s...)
		}
		return s
	case *Struct:
		out := make([]any, len(v.Fields))
		for i, f := range v.Fields {
			out[i] = appendRandom(r, f, nullPct)
		}
		v.AppendRow()
		return out
	case *List:
		var out []any
		for range r.IntN(4) {
			out = append(out, appendRandom(r, v.Elems, nullPct))
		}
		v.CloseRow()
		return out
	}
	panic("appendRandom: unsupported vector")
}

// randVector returns a vector of n random rows of type t and their values.
func randVector(r *rand.Rand, t types.Type, n, nullPct int) (Vector, []any) {
	v := New(t, n)
	vals := make([]any, n)
	for i := range vals {
		vals[i] = appendRandom(r, v, nullPct)
	}
	return v, vals
}

func TestRandomVectorsRoundTripValue(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, typ := range testTypes {
		for _, nullPct := range []int{0, 30} {
			v, want := randVector(r, typ, 130, nullPct)
			checkInvariants(t, v)
			if v.Len() != len(want) {
				t.Fatalf("%v: Len() = %d, want %d", typ, v.Len(), len(want))
			}
			for i, w := range want {
				if got := Value(v, i); !reflect.DeepEqual(got, w) {
					t.Fatalf("%v nulls %d%%: Value(%d) = %#v, want %#v", typ, nullPct, i, got, w)
				}
			}
		}
	}
}

func TestBatch(t *testing.T) {
	ints := New(types.Int64T, 5).(*Vec[int64])
	strs := New(types.StringT, 5).(*Bytes)
	for i := range 5 {
		ints.Append(int64(i * 10))
		if i == 3 {
			strs.AppendNull()
		} else {
			strs.AppendString(string(rune('a' + i)))
		}
	}
	rowsOf := func(b *Batch) [][]any {
		var out [][]any
		b.ForEach(func(i int) {
			row := make([]any, len(b.Cols))
			for c, v := range b.Cols {
				row[c] = Value(v, i)
			}
			out = append(out, row)
		})
		return out
	}
	for _, tc := range []struct {
		name  string
		sel   []int32
		order []int
		rows  [][]any
	}{
		{"no selection", nil, []int{0, 1, 2, 3, 4}, [][]any{{int64(0), "a"}, {int64(10), "b"}, {int64(20), "c"}, {int64(30), nil}, {int64(40), "e"}}},
		{"selection", []int32{1, 3, 4}, []int{1, 3, 4}, [][]any{{int64(10), "b"}, {int64(30), nil}, {int64(40), "e"}}},
		{"single row", []int32{0}, []int{0}, [][]any{{int64(0), "a"}}},
		// An empty, non-nil selection is a batch with no rows, not "all rows".
		{"empty selection", []int32{}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBatch([]Vector{ints, strs}, 5)
			b.Sel = tc.sel
			if b.Rows() != len(tc.order) {
				t.Fatalf("Rows() = %d, want %d", b.Rows(), len(tc.order))
			}
			var order []int
			b.ForEach(func(i int) { order = append(order, i) })
			if !slices.Equal(order, tc.order) {
				t.Fatalf("ForEach order %v, want %v", order, tc.order)
			}
			if got := rowsOf(b); !reflect.DeepEqual(got, tc.rows) {
				t.Fatalf("rows %v, want %v", got, tc.rows)
			}

			c := b.Compact()
			if tc.sel == nil {
				if c != b {
					t.Fatal("Compact without Sel did not return b itself")
				}
			} else {
				if c == b || c.Sel != nil || c.Len != len(tc.sel) || c.Rows() != len(tc.sel) {
					t.Fatalf("Compact: same %v, Sel %v, Len %d", c == b, c.Sel, c.Len)
				}
				for _, col := range c.Cols {
					if col.Len() != c.Len {
						t.Fatalf("compacted column has %d rows, batch %d", col.Len(), c.Len)
					}
				}
				if got := rowsOf(c); !reflect.DeepEqual(got, tc.rows) {
					t.Fatalf("compacted rows %v, want %v", got, tc.rows)
				}
				// The input batch is untouched.
				if b.Len != 5 || !slices.Equal(b.Sel, tc.sel) || b.Cols[0] != Vector(ints) || ints.Len() != 5 {
					t.Fatal("Compact modified its input")
				}
			}

			p := b.Project([]int{1, 0, 1})
			if len(p.Cols) != 3 || p.Cols[0] != Vector(strs) || p.Cols[1] != Vector(ints) || p.Cols[2] != Vector(strs) {
				t.Fatal("Project did not reorder the shared columns")
			}
			if p.Len != b.Len || !slices.Equal(p.Sel, b.Sel) || (p.Sel == nil) != (b.Sel == nil) || p.Rows() != b.Rows() {
				t.Fatalf("Project: Len %d Sel %v, want %d %v", p.Len, p.Sel, b.Len, b.Sel)
			}
		})
	}
}
