package jsonfmt

import (
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

func TestDecodeDecimal(t *testing.T) {
	d52 := types.DecimalOf(5, 2)
	for _, c := range []struct {
		typ  types.Type
		rec  string
		want string // the value as text at the type's scale, or the error
		err  bool
	}{
		{d52, `{"v": 12.345}`, "12.35", false}, // rounded half away from zero
		{d52, `{"v": "12.345"}`, "12.35", false},
		{d52, `{"v": 0.1}`, "0.10", false},
		{d52, `{"v": -0.005}`, "-0.01", false},
		{d52, `{"v": 1e2}`, "100.00", false},
		{d52, `{"v": "-3"}`, "-3.00", false},
		{d52, `{"v": 999.99}`, "999.99", false},
		{d52, `{"v": null}`, "NULL", false},
		{types.DecimalOf(38, 0), `{"v": 12345678901234567890123456789012345678}`, "12345678901234567890123456789012345678", false},
		{types.DecimalOf(38, 10), `{"v": "0.1234567890123"}`, "0.1234567890", false},
		{d52, `{"v": 1000}`, "field 'v': decimal 1000 out of range for DECIMAL(5, 2) at byte 6", true},
		{d52, `{"v": "999.995"}`, "decimal 999.995 out of range for DECIMAL(5, 2)", true},
		{d52, `{"v": "abc"}`, "expected decimal number (a JSON number or a string of one), found string 'abc'", true},
		{d52, `{"v": true}`, "expected decimal number (a JSON number or a string of one), found boolean", true},
		{d52, `{"v": 01}`, "", true},
	} {
		got, err := decodeOne(t, c.typ, nil, c.rec)
		if c.err {
			if err == "" || !strings.Contains(err, c.want) {
				t.Errorf("%s: error %q, want %q", c.rec, err, c.want)
			}
			continue
		}
		text := "NULL"
		if got != nil {
			text = string(coldata.AppendDecimal(nil, got.(coldata.Int128), int(c.typ.Scale)))
		}
		if err != "" || text != c.want {
			t.Errorf("%s: got %s (%s), want %s", c.rec, text, err, c.want)
		}
	}
}

func TestEncodeDecimalRoundTrip(t *testing.T) {
	fields := []types.Field{field("a", types.DecimalOf(5, 2)), field("b", types.DecimalOf(38, 0)), field("c", types.DecimalOf(3, 3))}
	recs := []string{
		`{"a":12.30,"b":-99999999999999999999999999999999999999,"c":0.001}`,
		`{"a":null,"b":0,"c":-0.999}`,
		`{"a":-0.05,"b":null,"c":0.000}`,
	}
	dec := newDecoder(t, nil, fields...)
	for _, r := range recs {
		if err := dec.Decode([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	// A failed record leaves nothing; a missing field is NULL.
	if err := dec.Decode([]byte(`{"a": 1, "b": 1e40}`)); err == nil {
		t.Fatal("1e40 decoded as DECIMAL(38, 0)")
	}
	if err := dec.Decode([]byte(`{"c": 0.5}`)); err != nil {
		t.Fatal(err)
	}
	vs := dec.Flush()
	for i, v := range vs {
		checkVector(t, fields[i].Name, v, 4)
	}
	e := newEncoder(t, nil, fields...)
	got := encodeAll(t, e, coldata.NewBatch(vs, 4))
	want := append(recs, `{"a":null,"b":null,"c":0.500}`)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("encoded\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The encoder keeps the scale from batch to batch.
	if again := encodeAll(t, e, coldata.NewBatch(vs, 4)); strings.Join(again, "\n") != strings.Join(want, "\n") {
		t.Errorf("second batch encoded\n%s", strings.Join(again, "\n"))
	}
}
