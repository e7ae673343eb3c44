package avro

import (
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/types"
)

// TestConversions reads one writer type into one column type.
func TestConversions(t *testing.T) {
	cases := []struct {
		wtype string
		col   types.Type
		val   any
		want  string // rendered row, or "error: substring"
	}{
		{`"int"`, types.Int64T, 5, "5"},
		{`"int"`, types.Float64T, -5, "-5"},
		{`"long"`, types.Float32T, int64(3), "3"},
		{`"int"`, types.DecimalOf(6, 2), 42, "42.00"},
		{`"long"`, types.DecimalOf(3, 2), int64(42), "error: value 42 does not fit DECIMAL(3, 2)"},
		{`"long"`, types.UInt32T, int64(4_000_000_000), "4000000000"},
		{`"long"`, types.UInt8T, int64(-1), "error: value -1 out of range for TINYINT UNSIGNED (0 to 255)"},
		{`"long"`, types.Int16T, int64(-32768), "-32768"},
		{`"float"`, types.Float64T, float32(0.5), "0.5"},
		{`"double"`, types.Float32T, 0.25, "0.25"},
		{`"bytes"`, types.StringT, []byte("héllo"), "'héllo'"},
		{`"bytes"`, types.StringT, []byte{0xff}, "error: not valid UTF-8"},
		{`"string"`, types.BytesT, "ab", "0x6162"},
		{`{"type":"int","logicalType":"time-millis"}`, types.TimeT, time.Duration(1500) * time.Millisecond, "1500000000"},
		{`{"type":"long","logicalType":"time-micros"}`, types.TimeT, time.Duration(1500) * time.Microsecond, "1500000"},
		{`{"type":"long","logicalType":"local-timestamp-millis"}`, types.TimestampT, time.UnixMilli(1000).UTC(), "1000000000"},
		{`{"type":"long","logicalType":"timestamp-nanos"}`, types.TimestampT, int64(1234), "1234"},
		{`{"type":"long","logicalType":"timestamp-millis"}`, types.Int64T, time.UnixMilli(1000).UTC(), "1000"},
		{`{"type":"int","logicalType":"date"}`, types.DateT, time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), "-1"},
		{`{"type":"enum","name":"E","symbols":["A","B"]}`, types.StringT, "B", "'B'"},
		{`{"type":"enum","name":"E","symbols":["A","B"]}`, types.JSONT, "A", `"A"`},
		{`{"type":"map","values":["null","double"]}`, types.JSONT, map[string]any{"k": nil}, `{"k":null}`},
		{`["null","long","string"]`, types.StringT, map[string]any{"string": "s"}, "'s'"},
		{`["null","long","string"]`, types.StringT, map[string]any{"long": int64(1)}, "error: union branch long cannot be read into TEXT"},
		{`{"type":"array","items":"int"}`, types.ListOf(types.Int64T), []any{1, 2}, "[1, 2]"},
		{`{"type":"fixed","name":"F","size":2}`, types.BytesT, [2]byte{1, 2}, "0x0102"},
	}
	for _, c := range cases {
		schema := `{"type":"record","name":"R","fields":[{"name":"v","type":` + c.wtype + `}]}`
		w := mustParse(t, schema)
		d, err := NewDecoder(types.NewSchema(fld("v", c.col, true)), rawOpts(schema))
		if err != nil {
			t.Errorf("%s -> %s: %v", c.wtype, c.col, err)
			continue
		}
		err = d.Decode(marshal(t, w, map[string]any{"v": c.val}))
		if want, ok := strings.CutPrefix(c.want, "error: "); ok {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s -> %s: got %v, want error %q", c.wtype, c.col, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s -> %s: %v", c.wtype, c.col, err)
			continue
		}
		if got := rows(d.Flush()); len(got) != 1 || got[0] != c.want {
			t.Errorf("%s -> %s: got %q, want %q", c.wtype, c.col, got, c.want)
		}
	}
	// Pairs that cannot resolve at all fail when the plan is compiled.
	for _, c := range []struct {
		wtype string
		col   types.Type
	}{
		{`"string"`, types.Int64T}, {`"double"`, types.Int64T}, {`"boolean"`, types.StringT},
		{`{"type":"map","values":"int"}`, types.StringT}, {`"long"`, types.DateT},
		{`"int"`, types.TimestampT}, {`{"type":"array","items":"int"}`, types.StructOf(fld("a", types.Int32T, true))},
	} {
		schema := `{"type":"record","name":"R","fields":[{"name":"v","type":` + c.wtype + `}]}`
		if _, err := NewDecoder(types.NewSchema(fld("v", c.col, true)), rawOpts(schema)); err == nil || !strings.Contains(err.Error(), "cannot be read into") {
			t.Errorf("%s -> %s: got %v", c.wtype, c.col, err)
		}
	}
}

// TestEncodeIntoUserSchema writes columns as the Avro types of a given
// schema (union branch order, units, enums), read back by hamba/avro.
func TestEncodeIntoUserSchema(t *testing.T) {
	schema := `{"type":"record","name":"R","fields":[
		{"name":"i","type":"long"},
		{"name":"f","type":"double"},
		{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
		{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
		{"name":"n","type":["string","null"]},
		{"name":"extra","type":["null","int"],"default":null}]}`
	cols := types.NewSchema(fld("i", types.Int32T, false), fld("f", types.Float32T, false),
		fld("e", types.StringT, false), fld("ts", types.TimestampT, false), fld("n", types.StringT, true))
	src, err := NewDecoder(cols, rawOpts(`{"type":"record","name":"S","fields":[
		{"name":"i","type":"int"},{"name":"f","type":"float"},{"name":"e","type":"string"},
		{"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}},{"name":"n","type":["null","string"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	w0 := mustParse(t, `{"type":"record","name":"S","fields":[
		{"name":"i","type":"int"},{"name":"f","type":"float"},{"name":"e","type":"string"},
		{"name":"ts","type":"long"},{"name":"n","type":["null","string"]}]}`)
	for _, r := range []map[string]any{
		{"i": 1, "f": float32(0.5), "e": "B", "ts": int64(-1_500), "n": "x"},
		{"i": 2, "f": float32(1), "e": "A", "ts": int64(2_000), "n": nil},
	} {
		if err := src.Decode(marshal(t, w0, r)); err != nil {
			t.Fatal(err)
		}
	}
	vs := src.Flush()
	e, err := NewEncoder(cols, rawOpts(schema))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := e.Encode(newBatchOf(vs), func(rec []byte) error {
		var m map[string]any
		if err := avroUnmarshal(e, rec, &m); err != nil {
			return err
		}
		got = append(got, fmtMap(m))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"e=B extra=<nil> f=0.5 i=1 n=x ts=1969-12-31T23:59:59.998Z",
		"e=A extra=<nil> f=1 i=2 n=<nil> ts=1970-01-01T00:00:00.002Z",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
