package coldata

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/arroyogo/arroyo/engine/types"
)

// hashKey hashes row i of a composite key, one vector per key column, the
// way the runtime does: HashInto once per column from a zero hash.
func hashKey(i int, cols ...Vector) uint64 {
	h := []uint64{0}
	for _, c := range cols {
		HashInto(c, []int32{int32(i)}, h)
	}
	return h[0]
}

// hashAll hashes every row of v from zero hashes.
func hashAll(v Vector) []uint64 {
	rows := make([]int32, v.Len())
	for i := range rows {
		rows[i] = int32(i)
	}
	h := make([]uint64, len(rows))
	HashInto(v, rows, h)
	return h
}

func int64s(xs ...any) *Vec[int64] {
	v := New(types.Int64T, len(xs)).(*Vec[int64])
	for _, x := range xs {
		if x == nil {
			v.AppendNull()
		} else {
			v.Append(int64(x.(int)))
		}
	}
	return v
}

func strs(xs ...any) *Bytes {
	v := New(types.StringT, len(xs)).(*Bytes)
	for _, x := range xs {
		if x == nil {
			v.AppendNull()
		} else {
			v.AppendString(x.(string))
		}
	}
	return v
}

// TestHashGolden pins hash values. Hashes place keys into key groups and key
// groups into subtasks on every worker, and keyed state in checkpoints is
// stored by key group: CHANGING ANY OF THESE VALUES BREAKS RESTORING
// CHECKPOINTS (and mixed-version clusters). Do not "update" them; if the
// hash must change, that is a versioned migration. The constants were
// computed once from hash.go as of commit 9b0d1f3; they do not depend on the
// platform (explicit little-endian, uint64 arithmetic only).
func TestHashGolden(t *testing.T) {
	list := New(types.ListOf(types.Int64T), 1).(*List)
	for _, x := range []int64{1, 2, 3} {
		list.Elems.(*Vec[int64]).Append(x)
	}
	list.CloseRow()
	pair := New(pairT, 1).(*Struct)
	pair.Fields[0].(*Vec[int64]).Append(1)
	pair.Fields[1].(*Bytes).AppendString("x")
	pair.AppendRow()
	i32 := New(types.Int32T, 1).(*Vec[int32])
	i32.Append(-1)
	i8 := New(types.Int8T, 1).(*Vec[int8])
	i8.Append(-1)
	i16 := New(types.Int16T, 1).(*Vec[int16])
	i16.Append(-1)
	u8 := New(types.UInt8T, 1).(*Vec[uint8])
	u8.Append(1)
	u16 := New(types.UInt16T, 1).(*Vec[uint16])
	u16.Append(1)
	b := New(types.BoolT, 1).(*Vec[bool])
	b.Append(true)
	f := New(types.Float64T, 1).(*Vec[float64])
	f.Append(1.5)
	date := New(types.DateT, 1).(*Vec[int32])
	date.Append(-1)
	tm := New(types.TimeT, 1).(*Vec[int64])
	tm.Append(1)
	decSmall := New(types.DecimalOf(10, 2), 1).(*Vec[Int128])
	decSmall.Append(Int128Of(-1))
	decBig := New(types.DecimalOf(38, 0), 1).(*Vec[Int128])
	decBig.Append(Pow10(30))

	for _, tc := range []struct {
		name string
		key  []Vector
		want uint64
	}{
		{"int64 0", []Vector{int64s(0)}, 0x9ca066f1a4ab2eea},
		{"int64 1", []Vector{int64s(1)}, 0xe5fdc025e13eeed5},
		{"int64 -1", []Vector{int64s(-1)}, 0x25b775faeca8f520},
		{"int64 max", []Vector{int64s(math.MaxInt64)}, 0xc08bd8386a9ce924},
		// INT and BIGINT keys hash alike (sign-extended).
		{"int32 -1", []Vector{i32}, 0x25b775faeca8f520},
		// So do TINYINT and SMALLINT, and the unsigned widths by value.
		{"int8 -1", []Vector{i8}, 0x25b775faeca8f520},
		{"int16 -1", []Vector{i16}, 0x25b775faeca8f520},
		{"uint8 1", []Vector{u8}, 0xe5fdc025e13eeed5},
		{"uint16 1", []Vector{u16}, 0xe5fdc025e13eeed5},
		{"bool true", []Vector{b}, 0xe5fdc025e13eeed5},
		{"float64 1.5", []Vector{f}, 0x7849cfd64eb7a65d},
		// DATE and TIME hash as their integers; a DECIMAL that fits 64
		// bits as its unscaled integer.
		{"date -1", []Vector{date}, 0x25b775faeca8f520},
		{"time 1", []Vector{tm}, 0xe5fdc025e13eeed5},
		{"decimal unscaled -1", []Vector{decSmall}, 0x25b775faeca8f520},
		{"decimal 10^30", []Vector{decBig}, 0x409a64817ed98529},
		{"NULL bigint", []Vector{int64s(nil)}, 0x178259168ce456af},
		{"NULL text", []Vector{strs(nil)}, 0x178259168ce456af},
		{"empty string", []Vector{strs("")}, 0x79cfc3dbe5bbfcaf},
		{"short string", []Vector{strs("a")}, 0x2599fbb17027ec89},
		{"8-byte string", []Vector{strs("abcdefgh")}, 0xea308b8adacf518e},
		{"17-byte string", []Vector{strs("abcdefghijklmnopq")}, 0x4d7ba3f7c55222bc},
		{"(42, 'hello')", []Vector{int64s(42), strs("hello")}, 0x387abaa350442058},
		{"(1, NULL)", []Vector{int64s(1), strs(nil)}, 0x448aa09305101f77},
		{"list [1,2,3]", []Vector{list}, 0x971b9f3aadbb6016},
		{"struct {1, 'x'}", []Vector{pair}, 0x9083c6be73049f4e},
	} {
		if got := hashKey(0, tc.key...); got != tc.want {
			t.Errorf("%s: hash %#x, want %#x (a changed hash breaks restoring checkpoints)", tc.name, got, tc.want)
		}
	}
}

// TestHashEqualValuesEqualHashes: over random vectors of every kind, two rows
// hash alike exactly when their values are equal (reflect.DeepEqual, which
// counts -0.0 == +0.0), whatever their positions and whichever rows are
// hashed together.
func TestHashEqualValuesEqualHashes(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const n = 150
	for _, typ := range testTypes {
		for _, nullPct := range []int{0, 25} {
			t.Run(fmt.Sprintf("%v/nulls%d", typ, nullPct), func(t *testing.T) {
				v, vals := randVector(r, typ, n, nullPct)
				before := cloneVector(v)
				h := hashAll(v)
				for i := range n {
					for j := i + 1; j < n; j++ {
						eq := reflect.DeepEqual(vals[i], vals[j])
						if eq != (h[i] == h[j]) {
							t.Fatalf("rows %d %#v and %d %#v: equal %v but hashes %#x %#x", i, vals[i], j, vals[j], eq, h[i], h[j])
						}
					}
				}
				// A row hashes the same alone, among any other rows, and
				// after being gathered to another position.
				for name, idx := range indexCases(r, n) {
					hi := make([]uint64, len(idx))
					HashInto(v, idx, hi)
					hg := hashAll(Gather(v, idx))
					for k, i := range idx {
						if hi[k] != h[i] || hg[k] != h[i] || hashKey(int(i), v) != h[i] {
							t.Fatalf("%s: row %d hashes %#x via rows, %#x gathered, %#x alone; %#x in order", name, i, hi[k], hg[k], hashKey(int(i), v), h[i])
						}
					}
				}
				if !reflect.DeepEqual(v, before) {
					t.Fatal("HashInto modified the vector")
				}
			})
		}
	}
}

// zeroRow returns a one-row vector holding t's zero value: false, 0, ”,
// an empty list, a struct of zero fields.
func zeroRow(t types.Type) Vector {
	v := New(t, 1)
	switch v := v.(type) {
	case *Vec[bool]:
		v.Append(false)
	case *Vec[int8]:
		v.Append(0)
	case *Vec[int16]:
		v.Append(0)
	case *Vec[uint8]:
		v.Append(0)
	case *Vec[uint16]:
		v.Append(0)
	case *Vec[int32]:
		v.Append(0)
	case *Vec[int64]:
		v.Append(0)
	case *Vec[uint32]:
		v.Append(0)
	case *Vec[uint64]:
		v.Append(0)
	case *Vec[float32]:
		v.Append(0)
	case *Vec[float64]:
		v.Append(0)
	case *Vec[Int128]:
		v.Append(Int128{})
	case *Bytes:
		v.Append(nil)
	case *Struct:
		for i, f := range v.Fields {
			v.Fields[i] = zeroRow(f.Type())
		}
		v.AppendRow()
	case *List:
		v.CloseRow()
	}
	return v
}

func TestHashNullDiffersFromZero(t *testing.T) {
	for _, typ := range testTypes {
		if typ.Kind == types.Null {
			continue
		}
		z, null := zeroRow(typ), NewNulls(typ, 1)
		if Value(z, 0) == nil {
			t.Fatalf("%v: zero row is NULL", typ)
		}
		if hashKey(0, z) == hashKey(0, null) {
			t.Errorf("%v: NULL hashes like the zero value %#v", typ, Value(z, 0))
		}
		// Also as the second column of a key.
		if hashKey(0, int64s(5), z) == hashKey(0, int64s(5), null) {
			t.Errorf("%v: (5, NULL) hashes like (5, zero)", typ)
		}
	}
}

func TestHashCompositeOrder(t *testing.T) {
	a, s := int64s(1), strs("x")
	if hashKey(0, a, s) == hashKey(0, s, a) {
		t.Error("(1, 'x') and ('x', 1) hash alike")
	}
	x, y := int64s(1), int64s(2)
	if hashKey(0, x, y) == hashKey(0, y, x) {
		t.Error("(1, 2) and (2, 1) hash alike")
	}
	// A two-column key is not its first column alone.
	if hashKey(0, x, y) == hashKey(0, x) {
		t.Error("(1, 2) hashes like (1)")
	}
}

// TestHashNullKeepsPrefix: a NULL in a later key column folds into the hash
// so far; it must not reset it, or every (k, NULL) key would land on one
// subtask.
func TestHashNullKeepsPrefix(t *testing.T) {
	first := int64s(1, 2, 1)
	for _, typ := range testTypes {
		second := NewNulls(typ, 3)
		h := make([]uint64, 3)
		HashInto(first, []int32{0, 1, 2}, h)
		HashInto(second, []int32{0, 1, 2}, h)
		if h[0] == h[1] {
			t.Errorf("%v: (1, NULL) and (2, NULL) hash alike", typ)
		}
		if h[0] != h[2] {
			t.Errorf("%v: (1, NULL) hashes differently at rows 0 and 2", typ)
		}
		if h[0] == hashKey(0, first) {
			t.Errorf("%v: (1, NULL) hashes like (1)", typ)
		}
		// And NULL first: (NULL, 1) != (NULL, 2).
		if hashKey(0, second, first) == hashKey(1, second, first) {
			t.Errorf("%v: (NULL, 1) and (NULL, 2) hash alike", typ)
		}
	}
}

func TestHashSignedZero(t *testing.T) {
	negZero := math.Copysign(0, -1)
	f64 := New(types.Float64T, 2).(*Vec[float64])
	f64.Append(0)
	f64.Append(negZero)
	f32 := New(types.Float32T, 2).(*Vec[float32])
	f32.Append(0)
	f32.Append(float32(negZero))
	for _, v := range []Vector{f64, f32} {
		if h := hashAll(v); h[0] != h[1] {
			t.Errorf("%v: +0.0 hashes %#x, -0.0 %#x", v.Type(), h[0], h[1])
		}
	}
}

func TestHashNested(t *testing.T) {
	// Struct rows {1,'x'}, {2,'x'}, {1,'x'}, NULL, {NULL,NULL}.
	s := New(pairT, 5).(*Struct)
	for _, a := range []int{1, 2, 1} {
		s.Fields[0].(*Vec[int64]).Append(int64(a))
		s.Fields[1].(*Bytes).AppendString("x")
		s.AppendRow()
	}
	s.AppendNull()
	s.Fields[0].AppendNull()
	s.Fields[1].AppendNull()
	s.AppendRow()
	h := hashAll(s)
	if h[0] != h[2] || h[0] == h[1] || h[3] == h[4] {
		t.Errorf("struct hashes %#x", h)
	}

	// List rows [1,2], [2,1], [1,2], [], NULL, [NULL].
	l := New(types.ListOf(types.Int64T), 6).(*List)
	e := l.Elems.(*Vec[int64])
	for _, row := range [][]int64{{1, 2}, {2, 1}, {1, 2}, {}} {
		for _, x := range row {
			e.Append(x)
		}
		l.CloseRow()
	}
	l.AppendNull()
	e.AppendNull()
	l.CloseRow()
	h = hashAll(l)
	if h[0] != h[2] || h[0] == h[1] || h[3] == h[4] || h[3] == h[5] || h[4] == h[5] {
		t.Errorf("list hashes %#x", h)
	}
}

// TestHashIntoTouchesOnlyItsRows: hashes beyond len(rows) are left alone
// (the runtime reuses a longer buffer).
func TestHashIntoTouchesOnlyItsRows(t *testing.T) {
	v := int64s(1, nil, 3)
	h := []uint64{0, 0, 7, 7}
	HashInto(v, []int32{2, 1}, h)
	if h[2] != 7 || h[3] != 7 {
		t.Fatalf("HashInto wrote past its rows: %#x", h)
	}
	if h[0] != hashKey(2, v) || h[1] != hashKey(1, v) {
		t.Fatalf("hashes %#x", h[:2])
	}
}

// TestHashIntoNoAllocs: hashing fixed-width and bytes keys without NULLs,
// the runtime's per-batch shuffle path, does not allocate.
func TestHashIntoNoAllocs(t *testing.T) {
	ints := int64s(1, 2, 3, 4)
	ss := strs("a", "bb", "abcdefghijklmnopq", "")
	nullInts := int64s(1, nil, 3, nil)
	nullStrs := strs(nil, "bb", nil, "")
	rows := []int32{0, 1, 2, 3}
	h := make([]uint64, 4)
	if a := testing.AllocsPerRun(100, func() {
		clear(h)
		HashInto(ints, rows, h)
		HashInto(ss, rows, h)
		HashInto(nullInts, rows, h)
		HashInto(nullStrs, rows, h)
	}); a != 0 {
		t.Fatalf("HashInto allocates %v times per call", a)
	}
}
