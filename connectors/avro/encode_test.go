package avro

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

func allTypesSchema() *types.Schema {
	return types.NewSchema(
		fld("b", types.BoolT, false), fld("i8", types.Int8T, true), fld("i32", types.Int32T, false),
		fld("i64", types.Int64T, true), fld("u64", types.UInt64T, false), fld("f32", types.Float32T, false),
		fld("f64", types.Float64T, false), fld("s", types.StringT, true), fld("j", types.JSONT, true),
		fld("by", types.BytesT, false), fld("ts", types.TimestampT, false), fld("d", types.DateT, false),
		fld("tm", types.TimeT, false), fld("dec", types.DecimalOf(12, 3), true),
		fld("l", types.ListOf(types.Int64T), true),
		fld("st", types.StructOf(fld("x", types.Int32T, false), fld("y", types.StringT, true)), true),
	)
}

// batchOf decodes rows through the decoder built for schema: a way to build
// test batches from hamba-written datums.
func sampleBatch(t *testing.T) *coldata.Batch {
	s := allTypesSchema()
	w, err := FromSQL(s)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecoder(s, rawOpts(""))
	if err != nil {
		t.Fatal(err)
	}
	recs := []map[string]any{
		{"b": true, "i8": -5, "i32": 1 << 30, "i64": int64(-1) << 50, "u64": int64(1) << 62, "f32": float32(2.5),
			"f64": -1e300, "s": "héllo \"q\"\n", "j": `{"k":[1,2]}`, "by": []byte{0, 1}, "ts": int64(-1_500_000),
			"d": 19000, "tm": int64(3_600_000_000), "dec": []byte{0x30, 0x39}, "l": []any{int64(1), nil, int64(3)},
			"st": map[string]any{"ArroyoAvroRoot_st": map[string]any{"x": 4, "y": "why"}}},
		{"b": false, "i8": nil, "i32": 0, "i64": nil, "u64": int64(0), "f32": float32(0), "f64": 0.0, "s": nil, "j": nil,
			"by": []byte{}, "ts": int64(0), "d": -1, "tm": int64(0), "dec": nil, "l": nil, "st": nil},
	}
	for _, r := range recs {
		// hamba wants decimals as *big.Rat; write those with the logical
		// type stripped, as raw bytes, by encoding with a twin schema.
		twin := strings.ReplaceAll(w.String(), `"logicalType":"decimal","precision":12,"scale":3`, `"x":"y"`)
		tw := mustParse(t, twin)
		if err := d.Decode(marshal(t, tw, r)); err != nil {
			t.Fatal(err)
		}
	}
	vs := d.Flush()
	return coldata.NewBatch(vs, vs[0].Len())
}

func TestEncodeRoundTrip(t *testing.T) {
	b := sampleBatch(t)
	want := rows(b.Cols)
	for _, opts := range []connector.Options{rawOpts(""), nil} {
		e, err := NewEncoder(allTypesSchema(), opts)
		if err != nil {
			t.Fatal(err)
		}
		d, err := NewDecoder(allTypesSchema(), opts)
		if err != nil {
			t.Fatal(err)
		}
		var recs [][]byte
		if err := e.Encode(b, func(rec []byte) error {
			recs = append(recs, append([]byte(nil), rec...))
			return d.Decode(rec)
		}); err != nil {
			t.Fatal(err)
		}
		equalRows(t, rows(d.Flush()), want)

		// hamba reads what we write.
		for _, rec := range recs {
			var m map[string]any
			if opts == nil {
				dec, err := ocf.NewDecoder(bytes.NewReader(rec))
				if err != nil {
					t.Fatal(err)
				}
				if !dec.HasNext() {
					t.Fatal("container without datum")
				}
				if err := dec.Decode(&m); err != nil {
					t.Fatal(err)
				}
			} else if err := avro.Unmarshal(e.Writer(), rec, &m); err != nil {
				t.Fatalf("hamba cannot read our datum: %v", err)
			}
			if _, ok := m["st"]; !ok {
				t.Fatalf("hamba read %v", m)
			}
		}
	}
	if want[0] == "" || !strings.Contains(want[0], "-1500000 ") && !strings.Contains(want[0], "-1500000") {
		t.Fatalf("sample: %q", want)
	}
}

func TestEncodeSelection(t *testing.T) {
	b := sampleBatch(t)
	b.Sel = []int32{1}
	e, _ := NewEncoder(allTypesSchema(), rawOpts(""))
	d, _ := NewDecoder(allTypesSchema(), rawOpts(""))
	n := 0
	if err := e.Encode(b, func(rec []byte) error { n++; return d.Decode(rec) }); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d records", n)
	}
	equalRows(t, rows(d.Flush()), rows(sampleBatch(t).Cols)[1:])
}

func TestEncodeErrors(t *testing.T) {
	s := types.NewSchema(fld("u", types.UInt64T, false))
	e, err := NewEncoder(s, rawOpts(""))
	if err != nil {
		t.Fatal(err)
	}
	v := &coldata.Vec[uint64]{T: types.UInt64T, Vals: []uint64{1 << 63}}
	err = e.Encode(coldata.NewBatch([]coldata.Vector{v}, 1), func([]byte) error { return nil })
	if err == nil || err.Error() != "avro: column 'u': value 9223372036854775808 does not fit an Avro long" {
		t.Fatalf("got %v", err)
	}
	if _, err := NewEncoder(types.NewSchema(fld("a-b", types.Int32T, false)), nil); err == nil ||
		!strings.Contains(err.Error(), "'a-b' is not a valid Avro name") {
		t.Fatalf("got %v", err)
	}
	// A user schema whose enum lacks a value.
	enum := `{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}}]}`
	e, err = NewEncoder(types.NewSchema(fld("e", types.StringT, false)), rawOpts(enum))
	if err != nil {
		t.Fatal(err)
	}
	sv := coldata.NewBytes(types.StringT, 1, 1)
	sv.AppendString("B")
	err = e.Encode(coldata.NewBatch([]coldata.Vector{sv}, 1), func([]byte) error { return nil })
	if err == nil || err.Error() != "avro: column 'e': 'B' is not a symbol of the Avro enum" {
		t.Fatalf("got %v", err)
	}
}

func TestContainerFromHamba(t *testing.T) {
	w := mustParse(t, ordersV1)
	sql, _ := ToSQL(w)
	for _, codec := range []ocf.CodecName{ocf.Null, ocf.Deflate} {
		var buf bytes.Buffer
		enc, err := ocf.NewEncoder(ordersV1, &buf, ocf.WithCodec(codec))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := enc.Encode(order(int64(i), nil, nil)); err != nil {
				t.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		d, err := NewDecoder(sql, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Decode(buf.Bytes()); err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
		if d.Rows() != 3 {
			t.Fatalf("%s: %d rows", codec, d.Rows())
		}
		// A corrupt container appends nothing.
		bad := append([]byte(nil), buf.Bytes()...)
		bad[len(bad)-1] ^= 1
		if err := d.Decode(bad); err == nil || d.Rows() != 3 {
			t.Fatalf("%s: corrupt container: %v, %d rows", codec, err, d.Rows())
		}
		if err := d.Decode([]byte{0, 0, 0, 0, 1, 2}); err == nil || !strings.Contains(err.Error(), "Confluent-framed") {
			t.Fatalf("got %v", err)
		}
	}
}
