package avro

import (
	"math/rand/v2"
	"testing"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// TestCompiledSkip: decoders that read one column of the nested schema
// step over the others with compiled skips (records, unions, arrays,
// strings) and read the same values as the decoder of every column; a
// recursive type is skipped by its schema.
func TestCompiledSkip(t *testing.T) {
	w := mustParse(t, nested)
	full, _ := ToSQL(w)
	all, err := NewDecoder(full, rawOpts(nested))
	if err != nil {
		t.Fatal(err)
	}
	var one []*Decoder
	for _, f := range full.Fields {
		d, err := NewDecoder(types.NewSchema(f), rawOpts(nested))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range d.fixed.root.fields {
			if o.dst == nil && o.code != opSkipC {
				t.Fatalf("%s: skipped field %s is op %d, not compiled", f.Name, o.path, o.code)
			}
		}
		one = append(one, d)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		rec := marshal(t, w, randNested(r))
		for _, d := range append(one, all) {
			if err := d.Decode(rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := rows(all.Flush())
	for k, d := range one {
		got := rows(d.Flush())
		for i := range want {
			if cell := cellOf(want[i], k); got[i] != cell {
				t.Fatalf("column %s row %d: got %s, want %s", full.Fields[k].Name, i, got[i], cell)
			}
		}
	}
	// A recursive record is stepped over by its schema beneath one
	// compiled level.
	const self = `{"type":"record","name":"S","fields":[{"name":"k","type":"int"},{"name":"s","type":["null","S"]}]}`
	d, err := NewDecoder(types.NewSchema(fld("k", types.Int64T, false)), rawOpts(self))
	if err != nil {
		t.Fatal(err)
	}
	// k = 1, s = {k = 2, s = {k = 3, s = null}}.
	if err := d.Decode([]byte{2, 2, 4, 2, 6, 0}); err != nil {
		t.Fatal(err)
	}
	if err := d.Decode([]byte{2, 2, 4, 2, 6, 4}); err == nil {
		t.Fatal("a bad union branch two levels down was skipped")
	}
	equalRows(t, rows(d.Flush()), []string{"1"})
}

// cellOf returns the k-th " | "-separated cell of a rendered row.
func cellOf(row string, k int) string {
	for range k {
		i := indexTop(row)
		row = row[i+3:]
	}
	if i := indexTop(row); i >= 0 {
		return row[:i]
	}
	return row
}

// indexTop finds the first " | " outside braces and brackets.
func indexTop(s string) int {
	depth := 0
	for i := 0; i+3 <= len(s); i++ {
		switch s[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
		if depth == 0 && s[i:i+3] == " | " {
			return i
		}
	}
	return -1
}

// TestProjectsRawDatum: a decoder of bare datums without 'avro.schema'
// reads them with the schema derived from its columns, so it cannot be
// given a subset of the table's (the planner must not project it).
func TestProjectsRawDatum(t *testing.T) {
	for _, c := range []struct {
		opts connector.Options
		want bool
	}{
		{nil, true},
		{connector.Options{OptRawDatum: "true"}, false},
		{connector.Options{OptRawDatum: "true", OptSchema: nested}, true},
		{connector.Options{OptRawDatum: "true", OptConfluentSchemaRegistry: "true"}, true},
		{connector.Options{OptIntoUnstructuredJSON: "true"}, false},
	} {
		if got := projects(c.opts); got != c.want {
			t.Errorf("projects(%v) = %v, want %v", c.opts, got, c.want)
		}
	}
}
