package jsonfmt

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

var fuzzFields = []types.Field{
	notNull("id", types.Int64T),
	field("b", types.BoolT), field("i", types.Int32T), field("u", types.UInt32T), field("ul", types.UInt64T),
	field("i8", types.Int8T), field("i16", types.Int16T), field("u8", types.UInt8T), field("u16", types.UInt16T),
	field("f", types.Float32T), field("d", types.Float64T), field("s", types.StringT), field("y", types.BytesT),
	field("j", types.JSONT), field("t", types.TimestampT),
	field("st", types.StructOf(notNull("a", types.StringT), field("l", types.ListOf(types.TimestampT)),
		field("n", types.StructOf(field("x", types.Int64T))))),
	field("l", types.ListOf(types.StructOf(notNull("k", types.Int32T), field("v", types.ListOf(types.Float64T))))),
	field(`we"ird\key`, types.Int64T),
}

// FuzzDecode checks, for any input: no panic; a record either adds one row
// or nothing, and every builder stays consistent (rollback); only valid
// JSON decodes; and a decoded row encodes to JSON that decodes to the same
// row. Run with
//
//	go test ./connectors/jsonfmt -run '^$' -fuzz FuzzDecode -fuzztime 30s
func FuzzDecode(f *testing.F) {
	seeds := []string{
		`{"id":1,"b":true,"i":-5,"u":7,"ul":1,"f":0.3,"d":-1e-9,"s":"a\"\\\u0001\ud83d\ude00","y":"AAEC","j":{"k":[1,"x",null]},"t":"2020-02-29T12:00:00.000001+05:30","st":{"a":"x","l":["2023-01-01 00:00:00",1],"n":{"x":1}},"l":[{"k":1,"v":[1.5,null]},{"k":2}]}`,
		`{"id":2,"st":null,"l":null,"we\"ird\\key":3}`,
		`{"id":3,"st":{"a":"y"},"st":{"a":"z","n":null},"l":[],"l":[{"k":1},{"k":2,"k":3}]}`,
		`{"id":4,"ID":5,"zz":[{"a":[[]]},"\u00e9"],"s":"é"}`,
		`{"id":5,"l":[{"k":1},{"v":[]}]}`,
		`{"id":6,"st":{"l":[1]}}`,
		`{"id":7,"t":"2023-02-29T00:00:00Z"}`,
		`{"id":1e3}`,
		`[1,2]`,
		``,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	// The decoders and the encoder are reused (and flushed) across inputs:
	// creating them costs more than decoding a record.
	d := newDecoder(f, nil, fuzzFields...)
	ref := newDecoder(f, nil, fuzzFields...)
	d2 := newDecoder(f, nil, fuzzFields...)
	e := newEncoder(f, nil, fuzzFields...)
	good := []byte(`{"id":0,"st":{"a":"g","l":[0],"n":{"x":0}},"l":[{"k":0,"v":[0]}],"j":[0],"s":"g"}`)
	f.Fuzz(func(t *testing.T, rec []byte) {
		// good, rec, good: 2 or 3 rows.
		for k, r := range [][]byte{good, rec, good} {
			before := d.Rows()
			err := d.Decode(r)
			switch {
			case err == nil && d.Rows() != before+1:
				t.Fatalf("record %d: success added %d rows", k, d.Rows()-before)
			case err != nil && d.Rows() != before:
				t.Fatalf("record %d: error %v added %d rows", k, err, d.Rows()-before)
			case err != nil && k != 1:
				t.Fatalf("good record failed: %v", err)
			case err == nil && !json.Valid(r):
				t.Fatalf("invalid JSON decoded: %q", r)
			case err == nil:
				if err := ref.Decode(r); err != nil {
					t.Fatalf("decoded once, not twice: %v", err)
				}
			}
			if _, ok := err.(*DecodeError); err != nil && !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
		}
		n := d.Rows()
		vs := d.Flush()
		for i, v := range vs {
			checkVector(t, fuzzFields[i].Name, v, n)
		}
		want := rowsOf(vs)
		if got := rowsOf(ref.Flush()); !reflect.DeepEqual(got, want) {
			t.Fatalf("rows differ from a decoder that never saw an error:\n%v\n%v", got, want)
		}
		if n != 3 {
			return
		}
		// Round trip the fuzzed row (selected from the three).
		b := coldata.NewBatch(vs, n)
		b.Sel = []int32{1}
		if err := e.Encode(b, func(out []byte) error {
			if !json.Valid(out) {
				t.Fatalf("encoded invalid JSON %q", out)
			}
			return d2.Decode(out)
		}); err != nil {
			t.Fatalf("re-decoding the encoded row: %v", err)
		}
		if got := rowsOf(d2.Flush()); !reflect.DeepEqual(got, want[1:2]) {
			t.Fatalf("round trip:\ngot  %v\nwant %v", got, want[1:2])
		}
	})
}

// FuzzUnstructured checks that the validator agrees with encoding/json on
// what is JSON (except that it also rejects invalid UTF-8 and lone
// surrogates, which encoding/json lets through).
func FuzzUnstructured(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,"x\u00e9"]}`, `[`, `"\ud800"`, "\"\xff\"", `-01`, ` 1 `, `{"a" 1}`} {
		f.Add([]byte(s))
	}
	d := newDecoder(f, connector.Options{OptUnstructured: "true"}, field("value", types.JSONT))
	f.Fuzz(func(t *testing.T, rec []byte) {
		err := d.Decode(rec)
		if err == nil && !json.Valid(rec) {
			t.Fatalf("accepted invalid JSON %q", rec)
		}
		// Valid UTF-8 JSON without \uD... escapes (possible lone
		// surrogates) must be accepted.
		if err != nil && json.Valid(rec) && utf8.Valid(rec) && !bytes.Contains(bytes.ToLower(rec), []byte(`\ud`)) {
			t.Fatalf("rejected %q: %v", rec, err)
		}
		if _, ok := err.(*DecodeError); err != nil && !ok {
			t.Fatalf("error of type %T", err)
		}
		checkVector(t, "value", d.Flush()[0], map[bool]int{true: 1, false: 0}[err == nil])
	})
}

// FuzzDecodeLines checks that the block path takes a line only as Decode
// would: for a block of a good record, any bytes, and a good record, the
// lines DecodeLines consumes decode one by one to the same rows, and the
// line it stops at (if any) is one Decode refuses or one a line source
// must trim or size-check first. Run with
//
//	go test ./connectors/jsonfmt -run '^$' -fuzz FuzzDecodeLines -fuzztime 30s
func FuzzDecodeLines(f *testing.F) {
	for _, s := range []string{`{"id":1,"s":"x"}`, `{"id":1}` + "\r", ` {"id":2}`, `{"id":3}` + "\n" + `{"id":`, `{"id":4,"id":5}`, ``, `[1]`} {
		f.Add([]byte(s))
	}
	d := newDecoder(f, nil, fuzzFields...)
	ref := newDecoder(f, nil, fuzzFields...)
	probe := newDecoder(f, nil, fuzzFields...)
	good := []byte(`{"id":0,"st":{"a":"g","l":[0],"n":{"x":0}},"l":[{"k":0,"v":[0]}],"j":[0],"s":"g"}`)
	f.Fuzz(func(t *testing.T, rec []byte) {
		block := append(append(append(append(append([]byte(nil), good...), '\n'), rec...), '\n'), good...)
		block = append(block, '\n')
		const maxLen = 200
		n, lines := d.DecodeLines(block, 1<<20, maxLen)
		all := bytes.Split(block[:len(block)-1], []byte{'\n'})
		if lines > len(all) || n != len(bytes.Join(all[:lines], []byte{'\n'}))+min(lines, 1) {
			t.Fatalf("consumed %d bytes, %d lines of %q", n, lines, block)
		}
		for _, line := range all[:lines] {
			if err := ref.Decode(bytes.TrimSuffix(line, []byte{'\r'})); err != nil || len(line) > maxLen {
				t.Fatalf("the block path took %q, which Decode refuses (%v) or is too long", line, err)
			}
		}
		if lines < len(all) {
			line := all[lines]
			trimmed := bytes.TrimSuffix(line, []byte{'\r'})
			plain := len(line) <= maxLen && len(trimmed) >= 2 && trimmed[0] == '{' && trimmed[len(trimmed)-1] == '}'
			if err := probe.Decode(trimmed); plain && err == nil {
				t.Fatalf("the block path stopped at %q, which Decode takes", line)
			}
			probe.Flush()
		}
		if got, want := rowsOf(d.Flush()), rowsOf(ref.Flush()); !reflect.DeepEqual(got, want) {
			t.Fatalf("rows %v, one by one %v", got, want)
		}
	})
}
