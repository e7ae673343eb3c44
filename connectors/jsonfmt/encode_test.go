package jsonfmt

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// encodeAll encodes b and returns the records.
func encodeAll(t *testing.T, e *Encoder, b *coldata.Batch) []string {
	t.Helper()
	var out []string
	if err := e.Encode(b, func(rec []byte) error {
		out = append(out, string(rec))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func newEncoder(t testing.TB, opts connector.Options, fields ...types.Field) *Encoder {
	t.Helper()
	e, err := NewEncoder(types.NewSchema(fields...), opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// column builds a one-row-per-value vector; nil is NULL.
func column(typ types.Type, vals ...any) coldata.Vector {
	v := coldata.New(typ, len(vals))
	for _, x := range vals {
		if x == nil {
			v.AppendNull()
			continue
		}
		switch v := v.(type) {
		case *coldata.Vec[bool]:
			v.Append(x.(bool))
		case *coldata.Vec[int8]:
			v.Append(x.(int8))
		case *coldata.Vec[int16]:
			v.Append(x.(int16))
		case *coldata.Vec[int32]:
			v.Append(x.(int32))
		case *coldata.Vec[int64]:
			v.Append(x.(int64))
		case *coldata.Vec[uint8]:
			v.Append(x.(uint8))
		case *coldata.Vec[uint16]:
			v.Append(x.(uint16))
		case *coldata.Vec[uint32]:
			v.Append(x.(uint32))
		case *coldata.Vec[uint64]:
			v.Append(x.(uint64))
		case *coldata.Vec[float32]:
			v.Append(x.(float32))
		case *coldata.Vec[float64]:
			v.Append(x.(float64))
		case *coldata.Bytes:
			switch x := x.(type) {
			case string:
				v.AppendString(x)
			case []byte:
				v.Append(x)
			}
		default:
			panic("column: use the decoder for nested types")
		}
	}
	return v
}

func TestEncodeScalars(t *testing.T) {
	millis := connector.Options{OptTimestampFormat: TimestampUnixMillis}
	cases := []struct {
		typ  types.Type
		opts connector.Options
		val  any
		want string
	}{
		{typ: types.BoolT, val: true, want: `true`},
		{typ: types.BoolT, val: nil, want: `null`},
		{typ: types.Int8T, val: int8(math.MinInt8), want: `-128`},
		{typ: types.Int8T, val: int8(math.MaxInt8), want: `127`},
		{typ: types.Int16T, val: int16(math.MinInt16), want: `-32768`},
		{typ: types.UInt8T, val: uint8(math.MaxUint8), want: `255`},
		{typ: types.UInt16T, val: uint16(math.MaxUint16), want: `65535`},
		{typ: types.UInt16T, val: nil, want: `null`},
		{typ: types.Int32T, val: int32(math.MinInt32), want: `-2147483648`},
		{typ: types.Int64T, val: int64(math.MaxInt64), want: `9223372036854775807`},
		{typ: types.UInt32T, val: uint32(math.MaxUint32), want: `4294967295`},
		{typ: types.UInt64T, val: uint64(math.MaxUint64), want: `18446744073709551615`},
		{typ: types.Float64T, val: 1.0, want: `1.0`},
		{typ: types.Float64T, val: -2.0, want: `-2.0`},
		{typ: types.Float64T, val: math.Copysign(0, -1), want: `-0.0`},
		{typ: types.Float64T, val: 0.1, want: `0.1`},
		{typ: types.Float64T, val: 1234.5678, want: `1234.5678`},
		{typ: types.Float64T, val: 1e20, want: `100000000000000000000.0`},
		{typ: types.Float64T, val: 1e21, want: `1e21`},
		{typ: types.Float64T, val: 1.5e300, want: `1.5e300`},
		{typ: types.Float64T, val: 0.000001, want: `0.000001`},
		{typ: types.Float64T, val: 1e-7, want: `1e-7`},
		{typ: types.Float64T, val: -1.25e-10, want: `-1.25e-10`},
		{typ: types.Float64T, val: math.NaN(), want: `null`},
		{typ: types.Float64T, val: math.Inf(-1), want: `null`},
		{typ: types.Float32T, val: float32(0.1), want: `0.1`},
		{typ: types.Float32T, val: float32(16777216), want: `16777216.0`},
		{typ: types.StringT, val: "plain", want: `"plain"`},
		{typ: types.StringT, val: "q\"b\\s/\n\r\t\b\f\x00\x1f\x7f", want: `"q\"b\\s/\n\r\t\b\f\u0000\u001f` + "\x7f\""},
		{typ: types.StringT, val: "héllo 世界 😀", want: `"héllo 世界 😀"`},
		{typ: types.StringT, val: "a\xffb\xc3", want: "\"a\uFFFDb\uFFFD\""},
		{typ: types.StringT, val: "<&>\u2028", want: "\"<&>\u2028\""},
		{typ: types.BytesT, val: []byte("hello"), want: `"aGVsbG8="`},
		{typ: types.BytesT, val: []byte{}, want: `""`},
		{typ: types.JSONT, val: `{"a":[1,2]}`, want: `{"a":[1,2]}`},
		{typ: types.JSONT, val: `  [1, 2] `, want: `[1, 2]`},
		{typ: types.JSONT, val: "{\n  \"a\": \"x y\\\"\",\r\n  \"b\" : [1, 2]\n}", want: `{"a":"x y\"","b":[1,2]}`},
		{typ: types.JSONT, val: `not json`, want: `"not json"`},
		{typ: types.JSONT, val: ``, want: `""`},
		{typ: types.TimestampT, val: ts("2023-01-02T03:04:05Z"), want: `"2023-01-02T03:04:05Z"`},
		{typ: types.TimestampT, val: ts("2023-01-02T03:04:05.12Z"), want: `"2023-01-02T03:04:05.120Z"`},
		{typ: types.TimestampT, val: ts("2023-01-02T03:04:05.000001Z"), want: `"2023-01-02T03:04:05.000001Z"`},
		{typ: types.TimestampT, val: ts("2023-01-02T03:04:05.000000001Z"), want: `"2023-01-02T03:04:05.000000001Z"`},
		{typ: types.TimestampT, val: int64(-1), want: `"1969-12-31T23:59:59.999999999Z"`},
		{typ: types.TimestampT, val: int64(math.MinInt64), want: `"1677-09-21T00:12:43.145224192Z"`},
		{typ: types.TimestampT, val: int64(math.MaxInt64), want: `"2262-04-11T23:47:16.854775807Z"`},
		{typ: types.TimestampT, opts: millis, val: ts("2023-01-02T03:04:05.123999Z"), want: `1672628645123`},
		{typ: types.TimestampT, opts: millis, val: int64(-1), want: `-1`},
		{typ: types.IntervalT, val: int64(90 * time.Second), want: `"PT90S"`},
		{typ: types.IntervalT, val: int64(-1500 * time.Millisecond), want: `"-PT1.5S"`},
		{typ: types.NullT, val: nil, want: `null`},
	}
	for _, c := range cases {
		e := newEncoder(t, c.opts, field("v", c.typ))
		b := coldata.NewBatch([]coldata.Vector{column(c.typ, c.val)}, 1)
		got := encodeAll(t, e, b)
		if want := `{"v":` + c.want + `}`; len(got) != 1 || got[0] != want {
			t.Errorf("%s %v: got %q, want %q", c.typ, c.val, got, want)
		}
		if !json.Valid([]byte(got[0])) {
			t.Errorf("%s %v: invalid JSON %q", c.typ, c.val, got[0])
		}
	}
}

func TestEncodeFloatsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var buf []byte
	for range 100_000 {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		buf = appendFloat(buf[:0], f, 64)
		var back float64
		if err := json.Unmarshal(buf, &back); err != nil || back != f {
			t.Fatalf("%v encoded as %s, read back as %v (%v)", f, buf, back, err)
		}
		f32 := math.Float32frombits(r.Uint32())
		if math.IsNaN(float64(f32)) || math.IsInf(float64(f32), 0) {
			continue
		}
		buf = appendFloat(buf[:0], float64(f32), 32)
		var back32 float32
		if err := json.Unmarshal(buf, &back32); err != nil || back32 != f32 {
			t.Fatalf("%v encoded as %s, read back as %v (%v)", f32, buf, back32, err)
		}
	}
}

// nestedBatch decodes records into a batch with nested columns.
func nestedBatch(t *testing.T, fields []types.Field, recs ...string) *coldata.Batch {
	t.Helper()
	d := newDecoder(t, nil, fields...)
	for _, r := range recs {
		if err := d.Decode([]byte(r)); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
	}
	n := d.Rows()
	return coldata.NewBatch(d.Flush(), n)
}

var nestedFields = []types.Field{
	notNull("id", types.Int64T),
	field("s", types.StructOf(field("a", types.Int64T), field("b", types.ListOf(types.StringT)))),
	field("l", types.ListOf(types.StructOf(field("x", types.Float64T)))),
}

func TestEncodeNestedAndSelection(t *testing.T) {
	recs := []string{
		`{"id":0,"s":{"a":1,"b":["x","y"]},"l":[{"x":1.5},null,{}]}`,
		`{"id":1,"s":null,"l":null}`,
		`{"id":2,"s":{"a":null,"b":[]},"l":[]}`,
		`{"id":3,"s":{"b":[null]}}`,
	}
	want := []string{
		`{"id":0,"s":{"a":1,"b":["x","y"]},"l":[{"x":1.5},null,{"x":null}]}`,
		`{"id":1,"s":null,"l":null}`,
		`{"id":2,"s":{"a":null,"b":[]},"l":[]}`,
		`{"id":3,"s":{"a":null,"b":[null]},"l":null}`,
	}
	b := nestedBatch(t, nestedFields, recs...)
	e := newEncoder(t, nil, nestedFields...)
	if got := encodeAll(t, e, b); !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	b.Sel = []int32{1, 3}
	if got := encodeAll(t, e, b); !reflect.DeepEqual(got, []string{want[1], want[3]}) {
		t.Fatalf("with selection got %q", got)
	}
	b.Sel = []int32{}
	if got := encodeAll(t, e, b); len(got) != 0 {
		t.Fatalf("empty selection gave %q", got)
	}
}

func TestEncodeTimestampColumn(t *testing.T) {
	// The schema may or may not list the hidden column; the batch has it.
	vals := column(types.Int64T, int64(7))
	tsc := column(types.TimestampT, int64(0))
	b := coldata.NewBatch([]coldata.Vector{vals, tsc}, 1)
	for _, fields := range [][]types.Field{
		{field("v", types.Int64T)},
		{field("v", types.Int64T), notNull(types.TimestampField, types.TimestampT)},
	} {
		e := newEncoder(t, nil, fields...)
		if got := encodeAll(t, e, b); len(got) != 1 || got[0] != `{"v":7}` {
			t.Fatalf("got %q", got)
		}
	}
}

func TestEncodeIncludeSchema(t *testing.T) {
	fields := []types.Field{
		notNull("id", types.Int64T),
		field("t", types.TimestampT),
		field("s", types.StructOf(field("a", types.StringT))),
		field("l", types.ListOf(types.Float32T)),
	}
	b := nestedBatch(t, fields, `{"id":1,"t":1000,"s":{"a":"x"},"l":[1.5]}`)
	e := newEncoder(t, connector.Options{OptIncludeSchema: "true", OptTimestampFormat: TimestampUnixMillis}, fields...)
	got := encodeAll(t, e, b)
	want := `{"schema":{"type":"struct","name":"ArroyoJson","optional":false,"fields":[` +
		`{"type":"int64","optional":false,"field":"id"},` +
		`{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp","version":1,"optional":true,"field":"t"},` +
		`{"type":"struct","fields":[{"type":"string","optional":true,"field":"a"}],"optional":true,"field":"s"},` +
		`{"type":"array","items":{"type":"float","optional":true},"optional":true,"field":"l"}]},` +
		`"payload":{"id":1,"t":1000,"s":{"a":"x"},"l":[1.5]}}`
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if !json.Valid([]byte(got[0])) {
		t.Fatal("invalid JSON")
	}
}

func TestEncodeUnstructured(t *testing.T) {
	e := newEncoder(t, connector.Options{OptUnstructured: "true"}, field("value", types.JSONT))
	b := coldata.NewBatch([]coldata.Vector{column(types.JSONT, `{"a": 1}`, nil, `[2]`)}, 3)
	if got := encodeAll(t, e, b); !reflect.DeepEqual(got, []string{`{"a": 1}`, `null`, `[2]`}) {
		t.Fatalf("got %q", got)
	}
	if _, err := NewEncoder(types.NewSchema(field("a", types.Int64T)), connector.Options{OptUnstructured: "true"}); err == nil {
		t.Fatal("unstructured encoder accepted a BIGINT column")
	}
}

func TestEncodeErrors(t *testing.T) {
	e := newEncoder(t, nil, field("a", types.Int64T), field("b", types.StringT))
	err := e.Encode(coldata.NewBatch([]coldata.Vector{column(types.Int64T, int64(1))}, 1), nil)
	if err == nil || err.Error() != "json: batch has 1 columns, the schema 2" {
		t.Fatalf("got %v", err)
	}
	err = e.Encode(coldata.NewBatch([]coldata.Vector{column(types.Int64T, int64(1)), column(types.Int64T, int64(1))}, 1), nil)
	if err == nil || !strings.Contains(err.Error(), "column 'b'") {
		t.Fatalf("got %v", err)
	}
	boom := errors.New("boom")
	b := coldata.NewBatch([]coldata.Vector{column(types.Int64T, int64(1), int64(2)), column(types.StringT, "x", "y")}, 2)
	calls := 0
	err = e.Encode(b, func([]byte) error { calls++; return boom })
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("got %v after %d calls", err, calls)
	}
}

// TestRoundTrip decodes records, encodes the rows and decodes the output:
// the values must be the same.
func TestRoundTrip(t *testing.T) {
	fields := []types.Field{
		notNull("id", types.Int64T),
		field("b", types.BoolT), field("i", types.Int32T), field("u", types.UInt32T), field("ul", types.UInt64T),
		field("i8", types.Int8T), field("i16", types.Int16T), field("u8", types.UInt8T), field("u16", types.UInt16T),
		field("f", types.Float32T), field("d", types.Float64T), field("s", types.StringT), field("y", types.BytesT),
		field("j", types.JSONT), field("t", types.TimestampT),
		field("st", types.StructOf(field("a", types.StringT), field("l", types.ListOf(types.TimestampT)))),
		field("l", types.ListOf(types.ListOf(types.Float64T))),
	}
	recs := []string{
		`{"id":1,"b":true,"i":-5,"u":7,"i8":-128,"i16":32767,"u8":255,"u16":65535,"ul":18446744073709551615,"f":0.3,"d":-1e-9,"s":"a\"\\\u0001\ud83d\ude00","y":"AAEC","j":{"k":[1,"x",null]},"t":"2020-02-29T12:00:00.123+05:30","st":{"a":"x","l":["2023-01-01 00:00:00",1]},"l":[[1.5,null],[]]}`,
		`{"id":2}`,
		`{"id":3,"i8":127,"i16":-32768,"u8":0,"u16":1,"d":1e300,"f":3.4e38,"t":-5000000000001,"j":"str","st":{"l":null},"l":[null]}`,
		`{"id":4,"d":-0.0,"j":-0,"s":"","y":""}`,
	}
	for _, millis := range []bool{false, true} {
		opts := connector.Options{}
		if millis {
			opts[OptTimestampFormat] = TimestampUnixMillis
		}
		b := nestedBatch(t, fields, recs...)
		want := rowsOf(b.Cols)
		e := newEncoder(t, opts, fields...)
		d := newDecoder(t, opts, fields...)
		err := e.Encode(b, func(rec []byte) error {
			if !json.Valid(rec) {
				t.Errorf("invalid JSON: %s", rec)
			}
			return d.Decode(rec)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := rowsOf(d.Flush()); !reflect.DeepEqual(got, want) {
			t.Fatalf("millis=%v\ngot  %v\nwant %v", millis, got, want)
		}
	}
}

func TestEncodeAllocs(t *testing.T) {
	batches := nexmarkBatches(t, nexmarkCorpus(3000))
	e, err := NewEncoder(nexmarkSchema(), nil)
	if err != nil {
		t.Fatal(err)
	}
	emit := func([]byte) error { return nil }
	_ = e.Encode(batches[0], emit) // grow the buffer
	k := 0
	allocs := testing.AllocsPerRun(10, func() {
		if err := e.Encode(batches[k%len(batches)], emit); err != nil {
			t.Fatal(err)
		}
		k++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per batch", allocs)
	}
}

func TestNexmarkCorpusRoundTrip(t *testing.T) {
	corpus := nexmarkCorpus(2000)
	batches := nexmarkBatches(t, corpus)
	e, err := NewEncoder(nexmarkSchema(), nil)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for _, b := range batches {
		err := e.Encode(b, func(rec []byte) error {
			if string(rec) != string(corpus[k]) {
				t.Fatalf("event %d:\ngot  %s\nwant %s", k, rec, corpus[k])
			}
			k++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if k != len(corpus) {
		t.Fatalf("%d records, want %d", k, len(corpus))
	}
}

func ExampleAppendTimestampRFC3339() {
	for _, ns := range []int64{0, 1_500_000_000, 1_000, -1} {
		fmt.Println(string(AppendTimestampRFC3339(nil, ns)))
	}
	// Output:
	// 1970-01-01T00:00:00Z
	// 1970-01-01T00:00:01.500Z
	// 1970-01-01T00:00:00.000001Z
	// 1969-12-31T23:59:59.999999999Z
}

// TestEncodeIncludeSchemaSmallInts: the narrow integers get Kafka Connect's
// int8 and int16; the unsigned ones the next wider signed type, which holds
// every value.
func TestEncodeIncludeSchemaSmallInts(t *testing.T) {
	fields := []types.Field{
		notNull("a", types.Int8T), notNull("b", types.Int16T),
		notNull("c", types.UInt8T), notNull("d", types.UInt16T),
	}
	b := nestedBatch(t, fields, `{"a":-128,"b":-32768,"c":255,"d":65535}`)
	e := newEncoder(t, connector.Options{OptIncludeSchema: "true"}, fields...)
	got := encodeAll(t, e, b)
	want := `{"schema":{"type":"struct","name":"ArroyoJson","optional":false,"fields":[` +
		`{"type":"int8","optional":false,"field":"a"},` +
		`{"type":"int16","optional":false,"field":"b"},` +
		`{"type":"int16","optional":false,"field":"c"},` +
		`{"type":"int32","optional":false,"field":"d"}]},` +
		`"payload":{"a":-128,"b":-32768,"c":255,"d":65535}}`
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// TestAppendStringWords checks the word-at-a-time path of appendString:
// strings of every length up to 40 with one special byte (quote,
// backslash, control, non-ASCII valid and invalid) at every position must
// encode to JSON that encoding/json reads back as the input (invalid UTF-8
// as U+FFFD).
func TestAppendStringWords(t *testing.T) {
	specials := []string{`"`, `\`, "\n", "\x01", "\x1f", "é", "\u2028", "😀", "\xff", "\xe2\x82"}
	for n := 0; n <= 40; n++ {
		for pos := 0; pos <= n; pos++ {
			for _, sp := range specials {
				in := strings.Repeat("a", pos) + sp + strings.Repeat("b", n-pos)
				out := appendString(nil, []byte(in))
				var got string
				if err := json.Unmarshal(out, &got); err != nil {
					t.Fatalf("%q encoded to invalid JSON %q: %v", in, out, err)
				}
				if want := strings.ToValidUTF8(in, "\uFFFD"); got != want && !(sp == "\xe2\x82" && got == strings.Repeat("a", pos)+"\uFFFD\uFFFD"+strings.Repeat("b", n-pos)) {
					t.Fatalf("%q encoded to %q, read back %q", in, out, got)
				}
			}
		}
	}
}

// treeLines encodes b's rows through the general path alone (the
// encoder's tree of nodes, no flat plan), each followed by a newline.
func treeLines(t *testing.T, e *Encoder, dst []byte, b *coldata.Batch) []byte {
	t.Helper()
	if err := e.bind(b); err != nil {
		t.Fatal(err)
	}
	defer e.unbind()
	e.ops = nil
	b.ForEach(func(i int) { dst = append(append(dst, e.row(i)...), '\n') })
	return dst
}

// TestAppendLinesMatchesEncode holds the flat plan (Encode's and
// AppendLines') to the general path: the same bytes for every type, NULLs
// or none, with and without a selection, for each option that changes the
// encoding.
func TestAppendLinesMatchesEncode(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	scalars := []types.Field{
		notNull("id", types.Int64T),
		field("n", types.Int64T),
		field("t", types.TimestampT),
		notNull("t2", types.TimestampT),
		field("s", types.StringT),
		field("f", types.Float64T),
		field("b", types.BoolT),
		field("i", types.Int32T),
		field("d", types.DecimalOf(10, 2)),
		field("j", types.JSONT),
		field("st", types.StructOf(field("a", types.Int64T), field("b", types.ListOf(types.StringT)))),
	}
	value := func(f types.Field) string {
		if f.Nullable && r.IntN(4) == 0 {
			return "null"
		}
		switch f.Type.Kind {
		case types.Int64, types.Int32:
			return fmt.Sprint(r.Int32N(1<<30) - 1<<29)
		case types.Timestamp:
			return fmt.Sprintf(`"2023-11-14T22:%02d:%02d.%03dZ"`, r.IntN(60), r.IntN(60), r.IntN(1000))
		case types.String:
			return [...]string{`""`, `"plain"`, `"quote \" and \\ back"`, `"tab\tnewline\n"`, `"héllo ✓"`, `"a longer string of plain words"`}[r.IntN(6)]
		case types.Float64:
			return [...]string{`1.5`, `-0.25`, `1e300`, `3`}[r.IntN(4)]
		case types.Bool:
			return [...]string{`true`, `false`}[r.IntN(2)]
		case types.Decimal:
			return fmt.Sprintf("%d.%02d", r.IntN(1000), r.IntN(100))
		case types.JSON:
			return [...]string{`{"a":[1,2]}`, `"x"`, `7`}[r.IntN(3)]
		case types.Struct:
			return `{"a":5,"b":["x",null]}`
		}
		panic(f.Type.String())
	}
	recs := make([]string, 300)
	for k := range recs {
		var sb strings.Builder
		sb.WriteByte('{')
		for i, f := range scalars {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "%q:%s", f.Name, value(f))
		}
		sb.WriteByte('}')
		recs[k] = sb.String()
	}
	plain := []types.Field{notNull("id", types.Int64T), notNull("t", types.TimestampT)}
	plainRecs := []string{`{"id":1,"t":"2023-11-14T22:13:20.001Z"}`, `{"id":-20,"t":"1969-12-31T23:59:59Z"}`}
	for _, tc := range []struct {
		name   string
		fields []types.Field
		opts   connector.Options
		recs   []string
	}{
		{"scalars", scalars, nil, recs},
		{"millis", scalars, connector.Options{OptTimestampFormat: TimestampUnixMillis}, recs},
		{"include_schema", scalars, connector.Options{OptIncludeSchema: "true"}, recs},
		{"nested", nestedFields, nil, []string{`{"id":0,"s":{"a":1,"b":["x","y"]},"l":[{"x":1.5},null,{}]}`, `{"id":1,"s":null,"l":null}`}},
		{"not null", plain, nil, plainRecs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := nestedBatch(t, tc.fields, tc.recs...)
			e := newEncoder(t, tc.opts, tc.fields...)
			for _, sel := range [][]int32{nil, {}, {0}, {1, 2, 7, 100, 299}} {
				if len(sel) > 0 && int(sel[len(sel)-1]) >= b.Len {
					sel = sel[:1]
				}
				b.Sel = sel
				want := treeLines(t, e, []byte("before\n"), b)
				got, err := e.AppendLines([]byte("before\n"), b)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					t.Fatalf("sel %v: AppendLines gave\n%s\nwant\n%s", sel, got, want)
				}
				recs := "before\n"
				for _, rec := range encodeAll(t, e, b) {
					recs += rec + "\n"
				}
				if recs != string(want) {
					t.Fatalf("sel %v: Encode gave\n%s\nwant\n%s", sel, recs, want)
				}
			}
		})
	}
	e := newEncoder(t, connector.Options{OptUnstructured: "true"}, field("value", types.JSONT))
	b := coldata.NewBatch([]coldata.Vector{column(types.JSONT, `{"a": 1}`, nil, `[2]`)}, 3)
	if got, err := e.AppendLines(nil, b); err != nil || string(got) != "{\"a\": 1}\nnull\n[2]\n" {
		t.Fatalf("unstructured: got %q, %v", got, err)
	}
	if _, err := e.AppendLines(nil, coldata.NewBatch(nil, 0)); err == nil {
		t.Fatal("a batch without the schema's columns was encoded")
	}
}

// TestAppendLinesAllocs: a batch is appended to a buffer with room without
// allocating.
func TestAppendLinesAllocs(t *testing.T) {
	fields := []types.Field{notNull("id", types.Int64T), field("t", types.TimestampT), field("s", types.StringT)}
	b := nestedBatch(t, fields, `{"id":1,"t":"2023-11-14T22:13:20.001Z","s":"x"}`, `{"id":2,"t":null,"s":null}`)
	e := newEncoder(t, nil, fields...)
	buf := make([]byte, 0, 1<<10)
	if n := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = e.AppendLines(buf[:0], b); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per batch", n)
	}
}
