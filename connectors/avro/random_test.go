package avro

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// nested is a schema with nullable structs inside structs and lists, so
// pending NULL rows, rollback and flushes interleave.
const nested = `{"type":"record","name":"N","fields":[
  {"name":"a","type":["null",{"type":"record","name":"A","fields":[
     {"name":"x","type":"long"},
     {"name":"b","type":["null",{"type":"record","name":"B","fields":[{"name":"s","type":"string"},{"name":"y","type":["null","int"]}]}]},
     {"name":"l","type":{"type":"array","items":["null","B"]}}]}]},
  {"name":"k","type":"int"},
  {"name":"c","type":["null","A"]}]}`

func randNested(r *rand.Rand) map[string]any {
	b := func() any {
		if r.IntN(3) == 0 {
			return nil
		}
		var y any
		if r.IntN(2) == 0 {
			y = r.IntN(100)
		}
		return map[string]any{"B": map[string]any{"s": strings.Repeat("z", r.IntN(4)), "y": y}}
	}
	a := func() any {
		if r.IntN(3) == 0 {
			return nil
		}
		var l []any
		for range r.IntN(4) {
			l = append(l, b())
		}
		return map[string]any{"A": map[string]any{"x": r.Int64N(1000), "b": b(), "l": l}}
	}
	return map[string]any{"a": a(), "k": r.IntN(1000), "c": a()}
}

// checkShape verifies coldata's layout: every struct field and list
// offset agrees with the vector's length.
func checkShape(t *testing.T, v coldata.Vector, n int, path string) {
	t.Helper()
	if v.Len() != n {
		t.Fatalf("%s: %d rows, want %d", path, v.Len(), n)
	}
	switch v := v.(type) {
	case *coldata.Struct:
		for i, f := range v.Fields {
			checkShape(t, f, n, path+"."+v.T.Fields[i].Name)
		}
	case *coldata.List:
		checkShape(t, v.Elems, int(v.Offsets[len(v.Offsets)-1]), path+"[]")
	}
}

// TestRandomizedRollback decodes random records, corrupting some, with
// random flush points; the rows must equal decoding only the good records.
func TestRandomizedRollback(t *testing.T) {
	w := mustParse(t, nested)
	sql, err := ToSQL(w)
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		d, _ := NewDecoder(sql, rawOpts(nested))
		oracle, _ := NewDecoder(sql, rawOpts(nested))
		var got, want []string
		flush := func() {
			vs := d.Flush()
			for i, v := range vs {
				checkShape(t, v, vs[0].Len(), sql.Fields[i].Name)
			}
			got = append(got, rows(vs)...)
		}
		for range 300 {
			rec, err := avro.Marshal(w, randNested(r))
			if err != nil {
				t.Fatal(err)
			}
			if r.IntN(4) == 0 && len(rec) > 1 {
				bad := rec[:r.IntN(len(rec))]
				if err := d.Decode(bad); err == nil {
					// A prefix may happen to be a valid datum; then the
					// oracle must see it too.
					if err := oracle.Decode(bad); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := d.Decode(rec); err != nil {
				t.Fatal(err)
			}
			if err := oracle.Decode(rec); err != nil {
				t.Fatal(err)
			}
			if r.IntN(40) == 0 {
				flush()
			}
		}
		flush()
		want = rows(oracle.Flush())
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("seed %d: rows differ\n got %q\nwant %q", seed, got[:3], want[:3])
		}
	}
}

func TestToSQLMapping(t *testing.T) {
	s := mustParse(t, `{"type":"record","name":"R","fields":[
		{"name":"m","type":{"type":"map","values":"int"}},
		{"name":"u","type":["int","string"]},
		{"name":"n","type":"null"},
		{"name":"f","type":{"type":"fixed","name":"F","size":4}},
		{"name":"fd","type":{"type":"fixed","name":"G","size":8,"logicalType":"decimal","precision":18,"scale":4}},
		{"name":"tm","type":{"type":"int","logicalType":"time-millis"}},
		{"name":"tu","type":{"type":"long","logicalType":"timestamp-micros"}},
		{"name":"uu","type":{"type":"string","logicalType":"uuid"}},
		{"name":"self","type":["null",{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}]}]}`)
	sql, err := ToSQL(s)
	if err != nil {
		t.Fatal(err)
	}
	want := "(m JSON, u JSON, n JSON, f BYTEA, fd DECIMAL(18, 4), tm TIME, tu TIMESTAMP, uu TEXT, self STRUCT<next JSON>)"
	if sql.String() != want {
		t.Fatalf("got  %s\nwant %s", sql, want)
	}
	if _, err := ToSQL(mustParse(t, `"long"`)); err == nil {
		t.Fatal("a non-record schema converted")
	}
	// FromSQL then ToSQL is the identity on the types FromSQL writes
	// natively.
	orig := types.NewSchema(fld("a", types.Int64T, false), fld("b", types.StringT, true),
		fld("c", types.TimestampT, false), fld("d", types.DecimalOf(20, 5), true),
		fld("e", types.ListOf(types.Float64T), false), fld("f", types.StructOf(fld("g", types.DateT, true)), true))
	w, err := FromSQL(orig)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := ToSQL(w)
	if back.String() != orig.String() {
		t.Fatalf("round trip: %s", back)
	}
	for i := range orig.Fields {
		if back.Fields[i].Nullable != orig.Fields[i].Nullable {
			t.Fatalf("field %s nullability", orig.Fields[i].Name)
		}
	}
}
