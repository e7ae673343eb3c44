package jsonfmt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

func field(name string, t types.Type) types.Field {
	return types.Field{Name: name, Type: t, Nullable: true}
}

func notNull(name string, t types.Type) types.Field {
	return types.Field{Name: name, Type: t}
}

func newDecoder(t testing.TB, opts connector.Options, fields ...types.Field) *Decoder {
	t.Helper()
	d, err := NewDecoder(types.NewSchema(fields...), opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rowsOf converts decoded vectors to rows of Go values (coldata.Value).
func rowsOf(vs []coldata.Vector) [][]any {
	if len(vs) == 0 {
		return nil
	}
	out := make([][]any, vs[0].Len())
	for i := range out {
		out[i] = make([]any, len(vs))
		for c, v := range vs {
			out[i][c] = coldata.Value(v, i)
		}
	}
	return out
}

// checkVector verifies the builder invariants of v holding n rows.
func checkVector(t testing.TB, path string, v coldata.Vector, n int) {
	t.Helper()
	if v.Len() != n {
		t.Fatalf("%s: %d rows, want %d", path, v.Len(), n)
	}
	w := v.Nulls().Words()
	if len(w) > (n+63)/64 || (len(w) == (n+63)/64 && n&63 != 0 && w[len(w)-1]>>(n&63) != 0) {
		t.Fatalf("%s: null bits set beyond row %d", path, n)
	}
	switch v := v.(type) {
	case *coldata.Bytes:
		if int(v.Offsets[n]) != len(v.Data) {
			t.Fatalf("%s: data has %d bytes, last offset %d", path, len(v.Data), v.Offsets[n])
		}
		for i := 0; i < n; i++ {
			if v.Offsets[i] > v.Offsets[i+1] {
				t.Fatalf("%s: offsets decrease at %d", path, i)
			}
		}
	case *coldata.Struct:
		if len(v.Fields) != len(v.T.Fields) {
			t.Fatalf("%s: %d field vectors for %d fields", path, len(v.Fields), len(v.T.Fields))
		}
		for i, f := range v.Fields {
			checkVector(t, path+"."+v.T.Fields[i].Name, f, n)
		}
	case *coldata.List:
		for i := 0; i < n; i++ {
			if v.Offsets[i] > v.Offsets[i+1] {
				t.Fatalf("%s: offsets decrease at %d", path, i)
			}
		}
		checkVector(t, path+"[]", v.Elems, int(v.Offsets[n]))
	}
}

// decodeOne decodes rec into a one-column schema and returns the value or
// the error text.
func decodeOne(t *testing.T, typ types.Type, opts connector.Options, rec string) (any, string) {
	t.Helper()
	d := newDecoder(t, opts, field("v", typ))
	if err := d.Decode([]byte(rec)); err != nil {
		if d.Rows() != 0 {
			t.Fatalf("%s: failed record left %d rows", rec, d.Rows())
		}
		vs := d.Flush()
		checkVector(t, "v", vs[0], 0)
		return nil, err.Error()
	}
	vs := d.Flush()
	checkVector(t, "v", vs[0], 1)
	return coldata.Value(vs[0], 0), ""
}

func ts(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

func TestDecodeScalars(t *testing.T) {
	millis := connector.Options{OptTimestampFormat: TimestampUnixMillis}
	cases := []struct {
		typ  types.Type
		opts connector.Options
		rec  string
		want any
		err  string
	}{
		// BOOLEAN
		{typ: types.BoolT, rec: `{"v":true}`, want: true},
		{typ: types.BoolT, rec: `{"v":false}`, want: false},
		{typ: types.BoolT, rec: `{"v":null}`, want: nil},
		{typ: types.BoolT, rec: `{}`, want: nil},
		{typ: types.BoolT, rec: `{"v":1}`, err: "field 'v': expected boolean, found number at byte 5"},
		{typ: types.BoolT, rec: `{"v":"true"}`, err: "field 'v': expected boolean, found string at byte 5"},
		{typ: types.BoolT, rec: `{"v":tru}`, err: "invalid JSON at byte 5: invalid literal"},
		{typ: types.BoolT, rec: `{"v":nul}`, err: "invalid JSON at byte 5: invalid literal"},
		// TINYINT and SMALLINT, signed and unsigned: the narrow types hold
		// only their range, and the message gives it.
		{typ: types.Int8T, rec: `{"v":127}`, want: int8(math.MaxInt8)},
		{typ: types.Int8T, rec: `{"v":-128}`, want: int8(math.MinInt8)},
		{typ: types.Int8T, rec: `{"v":128}`, err: "field 'v': integer 128 out of range for TINYINT (-128 to 127) at byte 5"},
		{typ: types.Int8T, rec: `{"v":-129}`, err: "field 'v': integer -129 out of range for TINYINT (-128 to 127) at byte 5"},
		{typ: types.Int8T, rec: `{"v":300}`, err: "field 'v': integer 300 out of range for TINYINT (-128 to 127) at byte 5"},
		{typ: types.Int8T, rec: `{"v":1.5}`, err: "field 'v': expected integer, found number 1.5 at byte 5"},
		{typ: types.Int16T, rec: `{"v":32767}`, want: int16(math.MaxInt16)},
		{typ: types.Int16T, rec: `{"v":-32768}`, want: int16(math.MinInt16)},
		{typ: types.Int16T, rec: `{"v":40000}`, err: "field 'v': integer 40000 out of range for SMALLINT (-32768 to 32767) at byte 5"},
		{typ: types.Int16T, rec: `{"v":-32769}`, err: "field 'v': integer -32769 out of range for SMALLINT (-32768 to 32767) at byte 5"},
		{typ: types.Int16T, rec: `{"v":99999999999999999999999}`, err: "field 'v': integer 99999999999999999999999 out of range for SMALLINT (-32768 to 32767) at byte 5"},
		{typ: types.UInt8T, rec: `{"v":255}`, want: uint8(math.MaxUint8)},
		{typ: types.UInt8T, rec: `{"v":-0}`, want: uint8(0)},
		{typ: types.UInt8T, rec: `{"v":256}`, err: "field 'v': integer 256 out of range for TINYINT UNSIGNED (0 to 255) at byte 5"},
		{typ: types.UInt8T, rec: `{"v":-1}`, err: "field 'v': integer -1 out of range for TINYINT UNSIGNED (0 to 255) at byte 5"},
		{typ: types.UInt16T, rec: `{"v":65535}`, want: uint16(math.MaxUint16)},
		{typ: types.UInt16T, rec: `{"v":65536}`, err: "field 'v': integer 65536 out of range for SMALLINT UNSIGNED (0 to 65535) at byte 5"},
		{typ: types.UInt16T, rec: `{"v":"1"}`, err: "field 'v': expected integer, found string at byte 5"},
		// INT
		{typ: types.Int32T, rec: `{"v":2147483647}`, want: int32(math.MaxInt32)},
		{typ: types.Int32T, rec: `{"v":-2147483648}`, want: int32(math.MinInt32)},
		{typ: types.Int32T, rec: `{"v":2147483648}`, err: "field 'v': integer 2147483648 out of range for INT (-2147483648 to 2147483647) at byte 5"},
		{typ: types.Int32T, rec: `{"v":-2147483649}`, err: "field 'v': integer -2147483649 out of range for INT (-2147483648 to 2147483647) at byte 5"},
		// BIGINT
		{typ: types.Int64T, rec: `{"v":0}`, want: int64(0)},
		{typ: types.Int64T, rec: `{"v":-0}`, want: int64(0)},
		{typ: types.Int64T, rec: `{"v": 42 }`, want: int64(42)},
		{typ: types.Int64T, rec: `{"v":9223372036854775807}`, want: int64(math.MaxInt64)},
		{typ: types.Int64T, rec: `{"v":-9223372036854775808}`, want: int64(math.MinInt64)},
		{typ: types.Int64T, rec: `{"v":9223372036854775808}`, err: "field 'v': integer 9223372036854775808 out of range for BIGINT (-9223372036854775808 to 9223372036854775807) at byte 5"},
		{typ: types.Int64T, rec: `{"v":-9223372036854775809}`, err: "field 'v': integer -9223372036854775809 out of range for BIGINT (-9223372036854775808 to 9223372036854775807) at byte 5"},
		{typ: types.Int64T, rec: `{"v":99999999999999999999999}`, err: "field 'v': integer 99999999999999999999999 out of range for BIGINT (-9223372036854775808 to 9223372036854775807) at byte 5"},
		{typ: types.Int64T, rec: `{"v":1.5}`, err: "field 'v': expected integer, found number 1.5 at byte 5"},
		{typ: types.Int64T, rec: `{"v":1e3}`, err: "field 'v': expected integer, found number 1e3 at byte 5"},
		{typ: types.Int64T, rec: `{"v":1.0}`, err: "field 'v': expected integer, found number 1.0 at byte 5"},
		{typ: types.Int64T, rec: `{"v":"12"}`, err: "field 'v': expected integer, found string at byte 5"},
		{typ: types.Int64T, rec: `{"v":012}`, err: "invalid JSON at byte 5: invalid number (leading zero)"},
		{typ: types.Int64T, rec: `{"v":-}`, err: "invalid JSON at byte 5: invalid number"},
		{typ: types.Int64T, rec: `{"v":1.}`, err: "invalid JSON at byte 5: invalid number"},
		{typ: types.Int64T, rec: `{"v":12x}`, err: "invalid JSON at byte 7: expected ',' or '}'"},
		{typ: types.Int64T, rec: `{"v":+1}`, err: "invalid JSON at byte 5: expected value"},
		// unsigned
		{typ: types.UInt32T, rec: `{"v":4294967295}`, want: uint32(math.MaxUint32)},
		{typ: types.UInt32T, rec: `{"v":4294967296}`, err: "field 'v': integer 4294967296 out of range for INT UNSIGNED (0 to 4294967295) at byte 5"},
		{typ: types.UInt32T, rec: `{"v":-1}`, err: "field 'v': integer -1 out of range for INT UNSIGNED (0 to 4294967295) at byte 5"},
		{typ: types.UInt64T, rec: `{"v":18446744073709551615}`, want: uint64(math.MaxUint64)},
		{typ: types.UInt64T, rec: `{"v":18446744073709551616}`, err: "field 'v': integer 18446744073709551616 out of range for BIGINT UNSIGNED (0 to 18446744073709551615) at byte 5"},
		{typ: types.UInt64T, rec: `{"v":-0}`, want: uint64(0)},
		// DOUBLE / FLOAT
		{typ: types.Float64T, rec: `{"v":1e3}`, want: 1000.0},
		{typ: types.Float64T, rec: `{"v":1.5}`, want: 1.5},
		{typ: types.Float64T, rec: `{"v":-0}`, want: math.Copysign(0, -1)},
		{typ: types.Float64T, rec: `{"v":-0.0}`, want: math.Copysign(0, -1)},
		{typ: types.Float64T, rec: `{"v":12345678901234567890}`, want: 12345678901234567890.0},
		{typ: types.Float64T, rec: `{"v":0.1}`, want: 0.1},
		{typ: types.Float64T, rec: `{"v":2.5E-3}`, want: 0.0025},
		{typ: types.Float64T, rec: `{"v":1e400}`, err: "field 'v': number 1e400 out of range for DOUBLE at byte 5"},
		{typ: types.Float64T, rec: `{"v":"1.5"}`, err: "field 'v': expected number, found string at byte 5"},
		{typ: types.Float64T, rec: `{"v":.5}`, err: "invalid JSON at byte 5: expected value"},
		{typ: types.Float64T, rec: `{"v":1e}`, err: "invalid JSON at byte 5: invalid number"},
		{typ: types.Float32T, rec: `{"v":0.1}`, want: float32(0.1)},
		{typ: types.Float32T, rec: `{"v":1e39}`, err: "field 'v': number 1e39 out of range for FLOAT at byte 5"},
		// TEXT
		{typ: types.StringT, rec: `{"v":"hello"}`, want: "hello"},
		{typ: types.StringT, rec: `{"v":""}`, want: ""},
		{typ: types.StringT, rec: `{"v":"a\"b\\c\/d\b\f\n\r\t"}`, want: "a\"b\\c/d\b\f\n\r\t"},
		{typ: types.StringT, rec: `{"v":"\u0041\u00e9\u4e16"}`, want: "Aé世"},
		{typ: types.StringT, rec: `{"v":"\ud83d\ude00!"}`, want: "😀!"},
		{typ: types.StringT, rec: `{"v":"héllo wörld 😀 and a long tail to cross words"}`, want: "héllo wörld 😀 and a long tail to cross words"},
		{typ: types.StringT, rec: `{"v":"\ud83d"}`, err: `invalid JSON at byte 6: lone surrogate in \u escape`},
		{typ: types.StringT, rec: `{"v":"\ude00"}`, err: `invalid JSON at byte 6: lone surrogate in \u escape`},
		{typ: types.StringT, rec: `{"v":"\ud83d\u0041"}`, err: `invalid JSON at byte 6: lone surrogate in \u escape`},
		{typ: types.StringT, rec: `{"v":"\u12G4"}`, err: `invalid JSON at byte 6: invalid \u escape`},
		{typ: types.StringT, rec: `{"v":"\x"}`, err: "invalid JSON at byte 6: invalid escape in string"},
		{typ: types.StringT, rec: "{\"v\":\"a\tb\"}", err: "invalid JSON at byte 7: control character in string (must be escaped)"},
		{typ: types.StringT, rec: "{\"v\":\"ab\xffcd\"}", err: "invalid JSON at byte 8: invalid UTF-8 in string"},
		{typ: types.StringT, rec: "{\"v\":\"0123456789\xc3\"}", err: "invalid JSON at byte 16: invalid UTF-8 in string"},
		{typ: types.StringT, rec: `{"v":"abc`, err: "invalid JSON at byte 9: unterminated string"},
		{typ: types.StringT, rec: `{"v":"abc\`, err: "invalid JSON at byte 10: unterminated string"},
		{typ: types.StringT, rec: `{"v":12}`, err: "field 'v': expected string, found number at byte 5"},
		{typ: types.StringT, rec: `{"v":{"a":1}}`, err: "field 'v': expected string, found object at byte 5"},
		// BYTEA
		{typ: types.BytesT, rec: `{"v":"aGVsbG8="}`, want: []byte("hello")},
		{typ: types.BytesT, rec: `{"v":"aGVsbG8"}`, want: []byte("hello")},
		{typ: types.BytesT, rec: `{"v":"\/w=="}`, want: []byte{0xff}},
		{typ: types.BytesT, rec: `{"v":""}`, want: []byte(nil)}, // coldata.Value gives nil for empty
		{typ: types.BytesT, rec: `{"v":"!!!!"}`, err: "field 'v': invalid base64 string at byte 5"},
		// JSON
		{typ: types.JSONT, rec: `{"v": {"a" : [1, 2, {"b":null}]} }`, want: `{"a" : [1, 2, {"b":null}]}`},
		{typ: types.JSONT, rec: `{"v":"x\n"}`, want: `"x\n"`},
		{typ: types.JSONT, rec: `{"v":-1.5e3}`, want: `-1.5e3`},
		{typ: types.JSONT, rec: `{"v":true}`, want: `true`},
		{typ: types.JSONT, rec: `{"v":null}`, want: nil},
		{typ: types.JSONT, rec: `{"v":[1,]}`, err: "invalid JSON at byte 8: expected value"},
		{typ: types.JSONT, rec: `{"v":{"a" 1}}`, err: "invalid JSON at byte 10: expected ':'"},
		// TIMESTAMP
		{typ: types.TimestampT, rec: `{"v":"2023-01-02T03:04:05Z"}`, want: ts("2023-01-02T03:04:05Z")},
		{typ: types.TimestampT, rec: `{"v":"2023-01-02T03:04:05.123456789Z"}`, want: ts("2023-01-02T03:04:05.123456789Z")},
		{typ: types.TimestampT, rec: `{"v":"2023-01-02T03:04:05.1234567891Z"}`, want: ts("2023-01-02T03:04:05.123456789Z")},
		{typ: types.TimestampT, rec: `{"v":"2023-01-02t03:04:05.5z"}`, want: ts("2023-01-02T03:04:05.5Z")},
		{typ: types.TimestampT, rec: `{"v":"2023-01-02T03:04:05+02:00"}`, want: ts("2023-01-02T01:04:05Z")},
		{typ: types.TimestampT, rec: `{"v":"2023-01-02T03:04:05-0130"}`, want: ts("2023-01-02T04:34:05Z")},
		{typ: types.TimestampT, rec: `{"v":"2023-01-02 03:04:05"}`, want: ts("2023-01-02T03:04:05Z")},
		{typ: types.TimestampT, rec: `{"v":"2023-01-02 03:04:05.25"}`, want: ts("2023-01-02T03:04:05.25Z")},
		{typ: types.TimestampT, rec: `{"v":"1969-12-31T23:59:59.999Z"}`, want: int64(-1_000_000)},
		{typ: types.TimestampT, rec: `{"v":"2024-02-29T00:00:00Z"}`, want: ts("2024-02-29T00:00:00Z")},
		{typ: types.TimestampT, rec: `{"v":1672628645123}`, want: ts("2023-01-02T03:04:05.123Z")},
		{typ: types.TimestampT, rec: `{"v":-1}`, want: int64(-1_000_000)},
		{typ: types.TimestampT, opts: millis, rec: `{"v":1672628645123}`, want: ts("2023-01-02T03:04:05.123Z")},
		{typ: types.TimestampT, opts: millis, rec: `{"v":"2023-01-02T03:04:05Z"}`, want: ts("2023-01-02T03:04:05Z")},
		{typ: types.TimestampT, rec: `{"v":1.5}`, err: "field 'v': expected integer of Unix milliseconds, found number 1.5 at byte 5"},
		{typ: types.TimestampT, rec: `{"v":9223372036855}`, err: "field 'v': timestamp 9223372036855 out of range (1677-09-21 to 2262-04-11) at byte 5"},
		{typ: types.TimestampT, rec: `{"v":"2023-02-29T00:00:00Z"}`, err: "field 'v': invalid timestamp (field out of range): '2023-02-29T00:00:00Z' at byte 5"},
		// The forms CAST accepts (one parser: engine/timefmt).
		{typ: types.TimestampT, rec: `{"v":"2023-01-02"}`, want: ts("2023-01-02T00:00:00Z")},
		{typ: types.TimestampT, rec: `{"v":"2023-01-02 10:00"}`, want: ts("2023-01-02T10:00:00Z")},
		{typ: types.TimestampT, rec: `{"v":"2023-01-02 10:00:00 +02:00"}`, want: ts("2023-01-02T08:00:00Z")},
		{typ: types.TimestampT, rec: `{"v":"2023-01-0"}`, err: "field 'v': invalid timestamp (expected RFC 3339, e.g. 2023-01-02T03:04:05.123Z, or 2023-01-02 03:04:05): '2023-01-0' at byte 5"},
		{typ: types.TimestampT, rec: `{"v":"2023-01-02T03:04:05.Z"}`, err: "field 'v': invalid timestamp (expected RFC 3339, e.g. 2023-01-02T03:04:05.123Z, or 2023-01-02 03:04:05): '2023-01-02T03:04:05.Z' at byte 5"},
		{typ: types.TimestampT, rec: `{"v":"2023-01-02T03:04:05Zjunk"}`, err: "field 'v': invalid timestamp (expected RFC 3339, e.g. 2023-01-02T03:04:05.123Z, or 2023-01-02 03:04:05): '2023-01-02T03:04:05Zjunk' at byte 5"},
		{typ: types.TimestampT, rec: `{"v":"3000-01-01T00:00:00Z"}`, err: "field 'v': timestamp out of range (1677-09-21 to 2262-04-11): '3000-01-01T00:00:00Z' at byte 5"},
		{typ: types.TimestampT, rec: `{"v":true}`, err: "field 'v': expected timestamp (RFC 3339 string or integer of Unix milliseconds), found boolean at byte 5"},
		// LIST
		{typ: types.ListOf(types.Int64T), rec: `{"v":[1, 2 ,3]}`, want: []any{int64(1), int64(2), int64(3)}},
		{typ: types.ListOf(types.Int64T), rec: `{"v":[]}`, want: []any(nil)},
		{typ: types.ListOf(types.Int64T), rec: `{"v":[1,null]}`, want: []any{int64(1), nil}},
		{typ: types.ListOf(types.Int64T), rec: `{"v":[1,"x"]}`, err: "field 'v[]': expected integer, found string at byte 8"},
		{typ: types.ListOf(types.Int64T), rec: `{"v":[1 2]}`, err: "invalid JSON at byte 8: expected ',' or ']'"},
		{typ: types.ListOf(types.Int64T), rec: `{"v":{}}`, err: "field 'v': expected array, found object at byte 5"},
		{typ: types.ListOf(types.ListOf(types.StringT)), rec: `{"v":[["a"],[],["b","c"]]}`, want: []any{[]any{"a"}, []any(nil), []any{"b", "c"}}},
	}
	for _, c := range cases {
		t.Run(c.typ.String()+" "+c.rec, func(t *testing.T) {
			got, err := decodeOne(t, c.typ, c.opts, c.rec)
			if err != c.err {
				t.Fatalf("error %q, want %q", err, c.err)
			}
			if c.err == "" && !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %#v, want %#v", got, c.want)
			}
			if f, ok := c.want.(float64); ok && math.Signbit(f) != math.Signbit(got.(float64)) {
				t.Fatalf("got %v, want %v (sign)", got, c.want)
			}
		})
	}
}

func TestDecodeRecordShape(t *testing.T) {
	inner := types.StructOf(notNull("x", types.Int64T), field("y", types.StringT))
	fields := []types.Field{
		field("a", types.Int64T),
		field("s", inner),
		field("l", types.ListOf(inner)),
	}
	cases := []struct {
		rec  string
		want []any
		err  string
	}{
		{rec: `{"a":1,"s":{"x":2,"y":"q"},"l":[{"x":3},{"y":"r","x":4}]}`,
			want: []any{int64(1), []any{int64(2), "q"}, []any{[]any{int64(3), nil}, []any{int64(4), "r"}}}},
		{rec: " \t{ } \r\n", want: []any{nil, nil, nil}},
		{rec: `{"s":null,"l":null}`, want: []any{nil, nil, nil}},
		// unknown keys, including nested and escaped ones, are skipped
		{rec: `{"zz":{"a":[1,{"b":"\"}"}],"c":null},"a":5,"q\u0041":[[[]]]}`, want: []any{int64(5), nil, nil}},
		// case-insensitive match; exact match wins
		{rec: `{"A":7}`, want: []any{int64(7), nil, nil}},
		{rec: `{"\u0061":8}`, want: []any{int64(8), nil, nil}},
		// duplicate keys: the last one wins, at any depth
		{rec: `{"a":1,"a":2}`, want: []any{int64(2), nil, nil}},
		{rec: `{"a":1,"a":null}`, want: []any{nil, nil, nil}},
		{rec: `{"s":{"x":1,"y":"a"},"s":{"x":2}}`, want: []any{nil, []any{int64(2), nil}, nil}},
		{rec: `{"l":[{"x":1}],"l":[{"x":2},{"x":3,"x":4}]}`, want: []any{nil, nil, []any{[]any{int64(2), nil}, []any{int64(4), nil}}}},
		// errors
		{rec: `{"s":{"y":"q"}}`, err: "missing field 's.x'"},
		{rec: `{"l":[{"x":1},{}]}`, err: "missing field 'l[].x'"},
		{rec: `{"s":{"x":null}}`, err: "field 's.x': unexpected null (the field is NOT NULL) at byte 10"},
		{rec: `{"s":{"x":"1"}}`, err: "field 's.x': expected integer, found string at byte 10"},
		{rec: `{"a":1,}`, err: "invalid JSON at byte 7: expected string key"},
		{rec: `{"a":1 "s":2}`, err: "invalid JSON at byte 7: expected ',' or '}'"},
		{rec: `{"a":1`, err: "invalid JSON at byte 6: expected ',' or '}', found end of input"},
		{rec: `{"a"}`, err: "invalid JSON at byte 4: expected ':'"},
		{rec: `{a:1}`, err: "invalid JSON at byte 1: expected string key"},
		{rec: `{"a":}`, err: "invalid JSON at byte 5: expected value"},
		{rec: `{"a":1}x`, err: "invalid JSON at byte 7: unexpected data after the object"},
		{rec: `{"a":1}{}`, err: "invalid JSON at byte 7: unexpected data after the object"},
		{rec: `[1]`, err: "expected a JSON object, found array at byte 0"},
		{rec: `"a"`, err: "expected a JSON object, found string at byte 0"},
		{rec: ``, err: "invalid JSON at byte 0: empty record"},
		{rec: `   `, err: "invalid JSON at byte 3: empty record"},
		{rec: `{"zz":[1,2,}`, err: "invalid JSON at byte 11: expected value"},
		{rec: `{"zz":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`, err: "invalid JSON at byte 1005: nesting too deep"},
	}
	for _, c := range cases {
		name := c.rec
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			d := newDecoder(t, nil, fields...)
			err := d.Decode([]byte(c.rec))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.err {
				t.Fatalf("error %q, want %q", got, c.err)
			}
			vs := d.Flush()
			n := 1
			if c.err != "" {
				n = 0
			}
			for i, v := range vs {
				checkVector(t, fields[i].Name, v, n)
			}
			if c.err == "" {
				if rows := rowsOf(vs); !reflect.DeepEqual(rows[0], c.want) {
					t.Fatalf("got %#v\nwant %#v", rows[0], c.want)
				}
			}
		})
	}
}

func TestDecodeNullStructMarksFields(t *testing.T) {
	d := newDecoder(t, nil, field("s", types.StructOf(notNull("x", types.Int64T))))
	for _, rec := range []string{`{"s":{"x":1}}`, `{"s":null}`, `{}`} {
		if err := d.Decode([]byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	s := d.Flush()[0].(*coldata.Struct)
	checkVector(t, "s", s, 3)
	for i, want := range []bool{false, true, true} {
		if s.IsNull(i) != want || s.Fields[0].IsNull(i) != want {
			t.Fatalf("row %d: struct null %v, field null %v, want %v", i, s.IsNull(i), s.Fields[0].IsNull(i), want)
		}
	}
}

func TestDecodeMissingNotNull(t *testing.T) {
	d := newDecoder(t, nil, notNull("id", types.Int64T), field("name", types.StringT))
	err := d.Decode([]byte(`{"name":"x"}`))
	if err == nil || err.Error() != "missing field 'id'" {
		t.Fatalf("got %v", err)
	}
	de, ok := err.(*DecodeError)
	if !ok || de.Field != "id" || de.Offset != -1 || de.Syntax {
		t.Fatalf("got %#v", err)
	}
}

// TestDecodeRollback interleaves good and bad records and checks that the
// bad ones leave no trace in any builder, however deep they failed.
func TestDecodeRollback(t *testing.T) {
	item := types.StructOf(notNull("id", types.Int64T), field("tags", types.ListOf(types.StringT)), field("b", types.BytesT))
	fields := []types.Field{
		notNull("id", types.Int64T),
		field("name", types.StringT),
		field("j", types.JSONT),
		field("items", types.ListOf(item)),
		field("s", types.StructOf(field("t", types.TimestampT), field("f", types.Float64T), field("in", item))),
		field("ok", types.BoolT),
	}
	good := []string{
		`{"id":1,"name":"a","j":[1],"items":[{"id":1,"tags":["x","y"],"b":"AA=="}],"s":{"t":"2023-01-01T00:00:00Z","f":1.5,"in":{"id":9,"tags":["q"]}},"ok":true}`,
		`{"id":2,"name":null,"items":null,"s":null,"ok":null}`,
		`{"id":3,"name":"\u00e9","j":{"k":"v"},"items":[],"s":{"in":null}}`,
	}
	bad := []string{
		// fail at every depth, after earlier fields have been appended
		`{"id":4,"name":"bad","j":[2],"items":[{"id":1,"tags":["x"]},{"id":2,"tags":["y",3]}]}`,
		`{"id":4,"name":"bad","items":[{"id":1,"tags":["x"],"b":"AA=="},{"tags":[]}]}`,
		`{"id":4,"name":"bad","s":{"t":"2023-01-01T00:00:00Z","f":2,"in":{"id":1,"tags":["a","b"],"b":"!"}}}`,
		`{"id":4,"name":"bad","s":{"t":"2023-01-01T00:00:00Z","f":2,"in":{"id":1,"tags":["a","b"]}},"ok":1}`,
		`{"id":4,"name":"bad","s":{"t":"2023-01-01T00:00:00Z","f":2,"in":{"id":1,"tags":["a","b"]}},"ok":true,"x":[}`,
		`{"name":"bad","ok":false,"s":{"f":null}}`,
		`{"id":4,"name":"bad","ok":false} trailing`,
		`{"id":4,"ok":null,"s":null,"items":[null,{"id":5}],"items":[{"id":6,"tags":["z"]}],"name":"x","name":"\ud800"}`,
	}
	d := newDecoder(t, nil, fields...)
	var want [][]any
	ref := newDecoder(t, nil, fields...)
	for round := 0; round < 3; round++ {
		for i, g := range good {
			if err := d.Decode([]byte(g)); err != nil {
				t.Fatalf("good %d: %v", i, err)
			}
			if err := ref.Decode([]byte(g)); err != nil {
				t.Fatal(err)
			}
			b := bad[(round*len(good)+i)%len(bad)]
			rows := d.Rows()
			if err := d.Decode([]byte(b)); err == nil {
				t.Fatalf("bad record decoded: %s", b)
			}
			if d.Rows() != rows {
				t.Fatalf("bad record changed Rows from %d to %d", rows, d.Rows())
			}
		}
	}
	for _, b := range bad {
		if err := d.Decode([]byte(b)); err == nil {
			t.Fatalf("bad record decoded: %s", b)
		}
	}
	vs := d.Flush()
	for i, v := range vs {
		checkVector(t, fields[i].Name, v, 3*len(good))
	}
	want = rowsOf(ref.Flush())
	if got := rowsOf(vs); !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
	// The decoder keeps working after a flush.
	if err := d.Decode([]byte(good[0])); err != nil || d.Rows() != 1 {
		t.Fatalf("after flush: %v, %d rows", err, d.Rows())
	}
}

func TestDecodeUnstructured(t *testing.T) {
	for _, typ := range []types.Type{types.JSONT, types.StringT} {
		d := newDecoder(t, connector.Options{OptUnstructured: "true"}, field("value", typ))
		for _, rec := range []string{` {"a": [1, "x"]} `, `[1,2]`, `"s"`, `3`} {
			if err := d.Decode([]byte(rec)); err != nil {
				t.Fatalf("%s: %v", rec, err)
			}
		}
		for rec, want := range map[string]string{
			`{"a":}`:   "invalid JSON at byte 5: expected value",
			`{"a":1}x`: "invalid JSON at byte 7: unexpected data after the value",
			``:         "invalid JSON at byte 0: empty record",
		} {
			if err := d.Decode([]byte(rec)); err == nil || err.Error() != want {
				t.Fatalf("%s: got %v, want %s", rec, err, want)
			}
		}
		got := rowsOf(d.Flush())
		want := [][]any{{`{"a": [1, "x"]}`}, {`[1,2]`}, {`"s"`}, {`3`}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestNewDecoderErrors(t *testing.T) {
	cases := []struct {
		opts   connector.Options
		fields []types.Field
		err    string
	}{
		{opts: connector.Options{OptUnstructured: "true"}, fields: []types.Field{field("a", types.Int64T)},
			err: "json: with 'json.unstructured' = 'true' the table must have exactly one column, of type JSON or TEXT (got (a BIGINT))"},
		{opts: connector.Options{OptUnstructured: "true"}, fields: []types.Field{field("a", types.JSONT), field("b", types.JSONT)},
			err: "json: with 'json.unstructured' = 'true' the table must have exactly one column, of type JSON or TEXT (got (a JSON, b JSON))"},
		{fields: []types.Field{field("a", types.Int64T), notNull(types.TimestampField, types.TimestampT)},
			err: "json: decoder schema must not contain the hidden column '_timestamp'"},
		{fields: []types.Field{field("s", types.StructOf(field("i", types.IntervalT)))},
			err: "json: field 's.i': type INTERVAL cannot be read from JSON"},
		{opts: connector.Options{OptTimestampFormat: "iso"}, fields: []types.Field{field("a", types.Int64T)},
			err: "json: invalid value 'iso' for option 'json.timestamp_format': allowed values are 'rfc3339', 'unix_millis'"},
	}
	for _, c := range cases {
		_, err := NewDecoder(types.NewSchema(c.fields...), c.opts)
		if err == nil || err.Error() != c.err {
			t.Errorf("got %v\nwant %s", err, c.err)
		}
	}
}

func TestRegistered(t *testing.T) {
	f, ok := connector.LookupFormat("json")
	if !ok {
		t.Fatal("json format not registered")
	}
	opts, err := connector.Validate(f.Name, f.Options, map[string]string{OptTimestampFormat: "unix_millis"})
	if err != nil {
		t.Fatal(err)
	}
	if opts[OptUnstructured] != "false" || opts[OptIncludeSchema] != "false" {
		t.Fatalf("defaults not filled: %v", opts)
	}
	for _, o := range f.Options {
		if o.Description == "" {
			t.Errorf("option %s has no description", o.Name)
		}
	}
	if _, err := connector.Validate(f.Name, f.Options, map[string]string{OptTimestampFormat: "iso"}); err == nil {
		t.Fatal("bad enum value accepted")
	}
	schema := types.NewSchema(field("a", types.Int64T))
	dec, err := f.NewDecoder(schema, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode([]byte(`{"a":1}`)); err != nil || dec.Rows() != 1 {
		t.Fatal(err)
	}
	if _, err := f.NewEncoder(schema, opts); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeAllocs(t *testing.T) {
	schema := nexmarkSchema()
	d, err := NewDecoder(schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	corpus := nexmarkCorpus(1000)
	for _, rec := range corpus {
		if err := d.Decode(rec); err != nil {
			t.Fatal(err)
		}
	}
	d.Flush() // the next builders are sized for 1000 rows
	k := 0
	allocs := testing.AllocsPerRun(len(corpus)-1, func() {
		if err := d.Decode(corpus[k]); err != nil {
			t.Fatal(err)
		}
		k++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per record", allocs)
	}
	// Escaped strings and keys, unknown keys, case-insensitive keys.
	d = newDecoder(t, nil, field("Name", types.StringT), field("t", types.TimestampT), field("l", types.ListOf(types.Int64T)))
	rec := []byte(`{"name":"a\nb","\u0074":"2023-01-02T03:04:05\u005a","x":{"y":[1,2]},"l":[1,2,3]}`)
	allocs = testing.AllocsPerRun(1000, func() {
		if err := d.Decode(rec); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per record", allocs)
	}
}

func ExampleDecoder() {
	schema := types.NewSchema(
		types.Field{Name: "id", Type: types.Int64T},
		types.Field{Name: "bid", Type: types.StructOf(types.Field{Name: "price", Type: types.Int64T}), Nullable: true},
	)
	d, _ := NewDecoder(schema, nil)
	fmt.Println(d.Decode([]byte(`{"id": 1, "bid": {"price": 100}}`)))
	fmt.Println(d.Decode([]byte(`{"id": 2, "bid": {"price": "100"}}`)))
	fmt.Println(d.Decode([]byte(`{"id": 3, "bid": null, "extra": [1, 2]}`)))
	fmt.Println(d.Rows(), rowsOf(d.Flush()))
	// Output:
	// <nil>
	// field 'bid.price': expected integer, found string at byte 27
	// <nil>
	// 2 [[1 [100]] [3 <nil>]]
}

func TestDecodeKeyNames(t *testing.T) {
	fields := []types.Field{field(`a"b`, types.Int64T), field(`c\d`, types.Int64T), field("é", types.Int64T), field("tab\t", types.Int64T)}
	d := newDecoder(t, nil, fields...)
	for _, rec := range []string{
		`{"a\"b":1,"c\\d":2,"é":3,"tab\t":4}`,
		`{"tab\u0009":4,"\u00e9":3,"c\u005cd":2,"a\u0022b":1}`,
		`{"A\"B":1,"C\\D":2,"É":3,"TAB\t":4}`,
	} {
		if err := d.Decode([]byte(rec)); err != nil {
			t.Fatalf("%s: %v", rec, err)
		}
	}
	// `c\d` raw in a record is an invalid escape, not the key c\d.
	if err := d.Decode([]byte(`{"c\d":2}`)); err == nil {
		t.Fatal(`accepted "c\d"`)
	}
	want := []any{int64(1), int64(2), int64(3), int64(4)}
	for i, row := range rowsOf(d.Flush()) {
		if !reflect.DeepEqual(row, want) {
			t.Fatalf("record %d: got %v", i, row)
		}
	}
}

// TestDecodeLazyNulls decodes runs of NULL and present structs (the fields
// of NULL structs are filled lazily) across bitmap words and flushes.
func TestDecodeLazyNulls(t *testing.T) {
	inner := types.StructOf(field("x", types.Int64T), field("l", types.ListOf(types.StringT)), field("s", types.StringT))
	fields := []types.Field{field("a", types.StructOf(field("in", inner), field("v", types.BoolT))), field("b", types.Int64T)}
	d := newDecoder(t, nil, fields...)
	r := rand.New(rand.NewPCG(7, 8))
	var want [][]any
	check := func() {
		t.Helper()
		vs := d.Flush()
		for i, v := range vs {
			checkVector(t, fields[i].Name, v, len(want))
		}
		a := vs[0].(*coldata.Struct)
		in := a.Fields[0].(*coldata.Struct)
		for i := range want {
			// Fields of NULL structs are NULL too, at every depth.
			if a.IsNull(i) && !(in.IsNull(i) && in.Fields[0].IsNull(i) && in.Fields[1].IsNull(i) && a.Fields[1].IsNull(i)) {
				t.Fatalf("row %d: fields of a NULL struct are not NULL", i)
			}
		}
		if got := rowsOf(vs); !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %v\nwant %v", got, want)
		}
		want = nil
	}
	for batch := 0; batch < 4; batch++ {
		for range 150 + r.IntN(100) {
			var rec string
			var row []any
			switch run := r.IntN(6); {
			case run < 2:
				rec, row = `{"a":null,"b":1}`, []any{nil, int64(1)}
			case run < 3:
				rec, row = `{"b":2}`, []any{nil, int64(2)}
			case run < 4:
				rec, row = `{"a":{"in":null}}`, []any{[]any{nil, nil}, nil}
			case run < 5:
				rec, row = `{"a":{"in":{"x":5,"l":["p"]},"v":true}}`, []any{[]any{[]any{int64(5), []any{"p"}, nil}, true}, nil}
			default:
				// A failing record must not disturb pending NULLs.
				rec = `{"a":{"in":{"x":5,"l":["p",1]}}}`
			}
			err := d.Decode([]byte(rec))
			if (err != nil) != (row == nil) {
				t.Fatalf("%s: %v", rec, err)
			}
			if row != nil {
				want = append(want, row)
			}
		}
		check()
	}
}

func TestSetNulls(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 2000 {
		var got, want coldata.Nulls
		for range 3 {
			from := r.IntN(300)
			to := from + r.IntN(200)
			setNulls(&got, from, to)
			for i := from; i < to; i++ {
				want.SetNull(i)
			}
		}
		for i := 0; i < 600; i++ {
			if got.IsNull(i) != want.IsNull(i) {
				t.Fatalf("row %d: %v, want %v", i, got.IsNull(i), want.IsNull(i))
			}
		}
	}
}

// TestKeyCache checks that the key cache only remembers resolutions: keys in
// another case, unknown keys, escaped keys and a field that only an exact
// match picks decode the same in every record, also once the cache is full
// and keys are scanned again.
func TestKeyCache(t *testing.T) {
	d := newDecoder(t, nil, field("id", types.Int64T), field("Name", types.StringT), field("name", types.StringT))
	var want [][]any
	for r := 0; r < 3*maxCachedKeys; r++ {
		rec := `{"nam_x":5,"unknown_` + strconv.Itoa(r) + `":1,"zz":[1],"ID":` + strconv.Itoa(r) + `,"NAME":"x","n\u0061me":"y","Name":"z"}`
		switch r % 3 {
		case 1:
			rec = `{"name":"y","Name":"z","zz":2,"iD":` + strconv.Itoa(r) + `}`
		case 2: // keys that extend or shorten the previous records' keys
			rec = `{"nam":"q","name":"y","Names":"w","Name":"z","z":2,"i":1,"id":` + strconv.Itoa(r) + `}`
		}
		if err := d.Decode([]byte(rec)); err != nil {
			t.Fatalf("record %d: %v", r, err)
		}
		want = append(want, []any{int64(r), "z", "y"})
	}
	if len(d.root.keys) > maxCachedKeys {
		t.Errorf("key cache holds %d keys, more than %d", len(d.root.keys), maxCachedKeys)
	}
	if got := rowsOf(d.Flush()); !reflect.DeepEqual(got, want) {
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("row %d: got %v, want %v", i, got[i], want[i])
			}
		}
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
}
