package avro

import (
	"testing"

	"github.com/arroyogo/arroyo/engine/types"
)

// FuzzDecode feeds arbitrary bytes to decoders of a wide and a nested
// schema, in full and projected, as datums and as containers: no panic,
// and a failed record appends nothing.
//
//	go test ./connectors/avro -run '^$' -fuzz FuzzDecode -fuzztime 30s
func FuzzDecode(f *testing.F) {
	w := mustParse(f, ordersV1)
	f.Add(marshal(f, w, order(1, "ann", nil)))
	f.Add([]byte{0, 0, 0})
	f.Add([]byte("Obj\x01\x02"))
	wide, _ := ToSQL(w)
	nw := mustParse(f, nested)
	deep, _ := ToSQL(nw)
	self := `{"type":"record","name":"S","fields":[{"name":"k","type":"int"},{"name":"s","type":["null","S"]},{"name":"m","type":{"type":"map","values":"S"}}]}`
	type dec struct {
		d    *Decoder
		name string
	}
	var decs []dec
	for _, c := range []struct {
		schema *types.Schema
		text   string
	}{
		{wide, ordersV1},
		{types.NewSchema(wide.Fields[8], wide.Fields[3]), ordersV1},
		{deep, nested},
		{types.NewSchema(fld("k", types.Int16T, false), fld("s", types.JSONT, true)), self},
		{types.NewSchema(fld("k", types.Int64T, false)), self},
	} {
		d, err := NewDecoder(c.schema, rawOpts(c.text))
		if err != nil {
			f.Fatal(err)
		}
		decs = append(decs, dec{d, c.schema.String()})
		cd, err := NewDecoder(c.schema, nil)
		if err != nil {
			f.Fatal(err)
		}
		decs = append(decs, dec{cd, "container " + c.schema.String()})
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		for _, d := range decs {
			before := d.d.Rows()
			if err := d.d.Decode(rec); err != nil && d.d.Rows() != before {
				t.Fatalf("%s: failed record appended rows", d.name)
			}
			if d.d.Rows() >= 64 {
				vs := d.d.Flush()
				for _, v := range vs {
					checkShape(t, v, vs[0].Len(), d.name)
				}
			}
		}
	})
}
