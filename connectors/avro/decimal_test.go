package avro

import (
	"math/big"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

func TestDecimals(t *testing.T) {
	w := mustParse(t, `{"type":"record","name":"D","fields":[
		{"name":"b","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
		{"name":"f","type":{"type":"fixed","name":"F","size":16,"logicalType":"decimal","precision":38,"scale":4}}]}`)
	cases := []struct {
		b, f *big.Rat
		cols *types.Schema
		want string
	}{
		{big.NewRat(-12345, 100), big.NewRat(-1, 10000),
			types.NewSchema(fld("b", types.DecimalOf(12, 4), false), fld("f", types.DecimalOf(38, 4), false)), "-123.4500 | -0.0001"},
		{big.NewRat(12355, 100), big.NewRat(5, 10000),
			types.NewSchema(fld("b", types.DecimalOf(5, 1), false), fld("f", types.DecimalOf(10, 3), false)), "123.6 | 0.001"},
		{big.NewRat(-12355, 100), new(big.Rat).SetFrac(new(big.Int).Exp(big.NewInt(10), big.NewInt(30), nil), big.NewInt(1)),
			types.NewSchema(fld("b", types.Float64T, false), fld("f", types.DecimalOf(38, 2), false)), "-123.55 | 1000000000000000000000000000000.00"},
	}
	for _, c := range cases {
		d, err := NewDecoder(c.cols, rawOpts(w.String()))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Decode(marshal(t, w, map[string]any{"b": c.b, "f": c.f})); err != nil {
			t.Fatal(err)
		}
		equalRows(t, rows(d.Flush()), []string{c.want})
	}
	// Too many digits for the column.
	d, _ := NewDecoder(types.NewSchema(fld("b", types.DecimalOf(3, 2), false), fld("f", types.DecimalOf(38, 4), false)), rawOpts(w.String()))
	err := d.Decode(marshal(t, w, map[string]any{"b": big.NewRat(12345, 100), "f": big.NewRat(1, 1)}))
	if err == nil || !strings.Contains(err.Error(), "field 'b': decimal does not fit DECIMAL(3, 2)") {
		t.Fatalf("got %v", err)
	}
}

func TestTwosComplementRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 127, 128, -128, -129, 255, 1 << 40, -(1 << 40), 1<<63 - 1, -1 << 63} {
		for _, size := range []int{0, 9, 16} {
			x := coldata.Int128Of(v)
			b := appendTwos(nil, x, size)
			if size > 0 && len(b) != size {
				t.Fatalf("%d: %d bytes for size %d", v, len(b), size)
			}
			got, ok := twosComplement(b)
			if !ok || got != x {
				t.Fatalf("%d (size %d): %x -> %v", v, size, b, got)
			}
		}
	}
	wide := append([]byte{0xff, 0xff, 0xff}, appendTwos(nil, coldata.Int128Of(-5), 16)...)
	if got, ok := twosComplement(wide); !ok || got != coldata.Int128Of(-5) {
		t.Fatalf("sign-extended 19 bytes: %v %v", got, ok)
	}
	if _, ok := twosComplement(append([]byte{1}, make([]byte, 16)...)); ok {
		t.Fatal("a 17-byte value past 128 bits accepted")
	}
}

func TestStringIntoJSONColumn(t *testing.T) {
	w := mustParse(t, `{"type":"record","name":"J","fields":[{"name":"j","type":"string"}]}`)
	d, _ := NewDecoder(types.NewSchema(fld("j", types.JSONT, false)), rawOpts(w.String()))
	if err := d.Decode(marshal(t, w, map[string]any{"j": `{"a": [1, "x"]}`})); err != nil {
		t.Fatal(err)
	}
	err := d.Decode(marshal(t, w, map[string]any{"j": `not json`}))
	if err == nil || !strings.Contains(err.Error(), "field 'j': string is not valid JSON for a JSON column") {
		t.Fatalf("got %v", err)
	}
	equalRows(t, rows(d.Flush()), []string{`{"a": [1, "x"]}`})
}

func TestEncodeDecimalRescale(t *testing.T) {
	schema := `{"type":"record","name":"D","fields":[{"name":"v","type":{"type":"fixed","name":"F","size":6,"logicalType":"decimal","precision":12,"scale":4}}]}`
	cols := types.NewSchema(fld("v", types.DecimalOf(10, 2), false))
	e, err := NewEncoder(cols, rawOpts(schema))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := NewDecoder(cols, rawOpts(schema))
	v := &coldata.Vec[coldata.Int128]{T: types.DecimalOf(10, 2), Vals: []coldata.Int128{coldata.Int128Of(-12345), coldata.Int128Of(99)}}
	if err := e.Encode(coldata.NewBatch([]coldata.Vector{v}, 2), d.Decode); err != nil {
		t.Fatal(err)
	}
	equalRows(t, rows(d.Flush()), []string{"-123.45", "0.99"})
}
