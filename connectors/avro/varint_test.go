package avro

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/arroyogo/arroyo/engine/types"
)

// TestLongAllLengths checks the varint reader (one byte inlined, up to 8
// bytes with one load, longer and near the end byte by byte) against
// encoding/binary, for values of every length, at the end of the datum and
// followed by other bytes, and that truncated varints fail.
func TestLongAllLengths(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vals := []int64{0, -1, 1, 63, -64, 64, -65, math.MaxInt64, math.MinInt64}
	for bitsN := 1; bitsN <= 63; bitsN++ {
		for range 20 {
			v := int64(r.Uint64() >> (64 - bitsN))
			vals = append(vals, v, -v)
		}
	}
	d := &Decoder{}
	for _, v := range vals {
		enc := binary.AppendVarint(nil, v)
		for tail := 0; tail <= 10; tail++ {
			buf := append(append([]byte(nil), enc...), make([]byte, tail)...)
			d.buf, d.pos = buf, 0
			got, err := d.long("f")
			if err != nil || got != v || d.pos != len(enc) {
				t.Fatalf("long(%x) with %d bytes after = %d, pos %d, %v; want %d, pos %d", enc, tail, got, d.pos, err, v, len(enc))
			}
		}
		for cut := 1; cut < len(enc); cut++ {
			d.buf, d.pos = enc[:cut], 0
			if _, err := d.long("f"); err == nil {
				t.Fatalf("long(%x) truncated to %d bytes: no error", enc, cut)
			}
		}
	}
	// Eleven continuation bytes: too long, whatever follows.
	d.buf, d.pos = []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0}, 0
	if _, err := d.long("f"); err == nil {
		t.Fatal("an 11-byte varint decoded")
	}
}

// TestOptionalUnions: unions of null and a long or string, in either
// order, are read by one fused step (opOptLong, opOptBytes); a branch
// index other than 0 and 1 fails naming the field, and the record appends
// nothing.
func TestOptionalUnions(t *testing.T) {
	const text = `{"type":"record","name":"R","fields":[
		{"name":"a","type":["null","long"]},{"name":"b","type":["long","null"]},
		{"name":"s","type":["null","string"]},{"name":"t","type":["bytes","null"]}]}`
	schema := types.NewSchema(fld("a", types.Int64T, true), fld("b", types.Int64T, true),
		fld("s", types.StringT, true), fld("t", types.BytesT, true))
	d, err := NewDecoder(schema, rawOpts(text))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range d.fixed.root.fields {
		if f.code != opOptLong && f.code != opOptBytes {
			t.Fatalf("field %s: op %d, not fused", f.path, f.code)
		}
	}
	// a = 300 (branch 1), b = NULL (branch 1), s = "hi" (branch 1), t = "x" (branch 0).
	ok := []byte{2, 0xd8, 0x04, 2, 2, 4, 'h', 'i', 0, 2, 'x'}
	// a = NULL, b = -1, s = NULL, t = NULL.
	ok2 := []byte{0, 0, 1, 0, 2}
	for _, rec := range [][]byte{ok, ok2} {
		if err := d.Decode(rec); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		rec  []byte
		want string
	}{
		{[]byte{4, 2}, "avro: field 'a': union branch 2 out of range (the union has 2) at byte 0"},
		{[]byte{0, 1}, "avro: field 'b': union branch -1 out of range (the union has 2) at byte 1"},
		{[]byte{0, 2, 2, 20, 'h'}, "avro: field 's': length 10 past the end of the datum (1 bytes left) at byte 3"},
		{[]byte{0, 2, 0, 6}, "avro: field 't': union branch 3 out of range (the union has 2) at byte 3"},
	} {
		err := d.Decode(c.rec)
		if err == nil || err.Error() != c.want {
			t.Errorf("decode %x:\n got %v\nwant %s", c.rec, err, c.want)
		}
	}
	equalRows(t, rows(d.Flush()), []string{"300 | NULL | 'hi' | 0x78", "NULL | -1 | NULL | NULL"})
}
