package avro

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

const ordersV1 = `{"type":"record","name":"Order","namespace":"shop","fields":[
  {"name":"id","type":"long"},
  {"name":"customer","type":["null","string"],"default":null},
  {"name":"qty","type":"int"},
  {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID","SHIPPED"]}},
  {"name":"placed","type":{"type":"long","logicalType":"timestamp-millis"}},
  {"name":"day","type":{"type":"int","logicalType":"date"}},
  {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
  {"name":"tags","type":{"type":"array","items":"string"}},
  {"name":"attrs","type":{"type":"map","values":"long"}},
  {"name":"ship","type":["null",{"type":"record","name":"Addr","fields":[
      {"name":"city","type":"string"},{"name":"zip","type":["null","int"]}]}]},
  {"name":"blob","type":"bytes"},
  {"name":"score","type":"float"},
  {"name":"ratio","type":"double"},
  {"name":"ok","type":"boolean"},
  {"name":"any","type":["null","long","string"]}
]}`

func order(id int64, customer any, ship any) map[string]any {
	return map[string]any{
		"id": id, "customer": customer, "qty": 3, "status": "PAID",
		"placed": time.UnixMilli(1_700_000_000_123).UTC(),
		"day":    time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		"price":  big.NewRat(12345, 100),
		"tags":   []any{"a", "b"},
		"attrs":  map[string]any{"x": int64(1)},
		"ship":   ship, "blob": []byte{1, 2, 255}, "score": float32(1.5), "ratio": 0.25, "ok": true,
		"any": map[string]any{"string": "s"},
	}
}

func TestDecodeHambaWritten(t *testing.T) {
	w := mustParse(t, ordersV1)
	sql, err := ToSQL(w)
	if err != nil {
		t.Fatal(err)
	}
	wantSchema := "(id BIGINT, customer TEXT, qty INT, status TEXT, placed TIMESTAMP, day DATE, price DECIMAL(10, 2), " +
		"tags TEXT[], attrs JSON, ship STRUCT<city TEXT, zip INT>, blob BYTEA, score FLOAT, ratio DOUBLE, ok BOOLEAN, any JSON)"
	if sql.String() != wantSchema {
		t.Fatalf("ToSQL:\n got %s\nwant %s", sql, wantSchema)
	}
	if !sql.Fields[1].Nullable || sql.Fields[0].Nullable || !sql.Fields[9].Nullable {
		t.Fatalf("nullability wrong: %+v", sql.Fields)
	}
	d, err := NewDecoder(sql, rawOpts(ordersV1))
	if err != nil {
		t.Fatal(err)
	}
	recs := [][]byte{
		marshal(t, w, order(1, "ann", map[string]any{"shop.Addr": map[string]any{"city": "Oslo", "zip": 123}})),
		marshal(t, w, order(2, nil, nil)),
	}
	for _, r := range recs {
		if err := d.Decode(r); err != nil {
			t.Fatal(err)
		}
	}
	if d.Rows() != 2 {
		t.Fatalf("rows %d", d.Rows())
	}
	got := rows(d.Flush())
	common := " | 3 | 'PAID' | 1700000000123000000 | 19782 | 123.45 | ['a', 'b'] | {\"x\":1}"
	equalRows(t, got, []string{
		"1 | 'ann'" + common + " | {city: 'Oslo', zip: 123} | 0x0102ff | 1.5 | 0.25 | true | \"s\"",
		"2 | NULL" + common + " | NULL | 0x0102ff | 1.5 | 0.25 | true | \"s\"",
	})
	if d.Rows() != 0 {
		t.Fatal("Flush did not reset")
	}
}

func TestResolveEvolution(t *testing.T) {
	// The table was created from v2; messages written with v1 lack 'email'
	// and carry 'legacy', and 'n' was an int then.
	v1 := mustParse(t, `{"type":"record","name":"U","fields":[
		{"name":"legacy","type":{"type":"array","items":{"type":"map","values":"string"}}},
		{"name":"id","type":"long"},
		{"name":"n","type":"int"},
		{"name":"f","type":"float"}]}`)
	v2 := mustParse(t, `{"type":"record","name":"U","fields":[
		{"name":"id","type":"long"},
		{"name":"n","type":"long"},
		{"name":"f","type":"double"},
		{"name":"email","type":["null","string"],"default":null}]}`)
	sql, err := ToSQL(v2)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecoder(sql, nil)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := d.Plan(v1)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := d.Plan(v2)
	if err != nil {
		t.Fatal(err)
	}
	old := marshal(t, v1, map[string]any{"legacy": []any{map[string]any{"k": "v"}}, "id": int64(7), "n": 5, "f": float32(0.5)})
	cur := marshal(t, v2, map[string]any{"id": int64(8), "n": int64(1) << 40, "f": 0.75, "email": "e@x"})
	if err := d.DecodeWith(p1, old); err != nil {
		t.Fatal(err)
	}
	if err := d.DecodeWith(p2, cur); err != nil {
		t.Fatal(err)
	}
	equalRows(t, rows(d.Flush()), []string{"7 | 5 | 0.5 | NULL", "8 | 1099511627776 | 0.75 | 'e@x'"})

	// Decoding old bytes with the new schema would be garbage: the plan of
	// v2 on v1's bytes must fail, not invent values.
	if err := d.DecodeWith(p2, old); err == nil {
		t.Fatalf("v1 bytes decoded with v2 plan without error: %q", rows(d.Flush()))
	}
	if d.Rows() != 0 {
		t.Fatal("failed decode appended rows")
	}

	// A NOT NULL column the writer lacks cannot be resolved.
	strict := types.NewSchema(fld("id", types.Int64T, false), fld("email", types.StringT, false))
	d2, err := NewDecoder(strict, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d2.Plan(v1)
	var re *ResolveError
	if !errors.As(err, &re) || re.Column != "email" || !strings.Contains(err.Error(), "NOT NULL") {
		t.Fatalf("got %v", err)
	}
	// A writer type the column cannot hold names both.
	bad := types.NewSchema(fld("id", types.StringT, false))
	d3, _ := NewDecoder(bad, nil)
	if _, err := d3.Plan(v1); err == nil || err.Error() != "avro: column 'id': writer type long cannot be read into TEXT" {
		t.Fatalf("got %v", err)
	}
}

func TestDecodeErrorsRollBack(t *testing.T) {
	w := mustParse(t, ordersV1)
	sql, _ := ToSQL(w)
	d, err := NewDecoder(sql, rawOpts(ordersV1))
	if err != nil {
		t.Fatal(err)
	}
	good := marshal(t, w, order(1, "ann", map[string]any{"shop.Addr": map[string]any{"city": "Oslo", "zip": nil}}))
	if err := d.Decode(good); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		rec  []byte
		want string
	}{
		{"truncated", good[:len(good)-3], "truncated datum"},
		{"trailing", append(append([]byte{}, good...), 0), "1 unexpected bytes after the datum"},
		{"empty", nil, "field 'id': truncated datum (expected long) at byte 0"},
		{"bad union", func() []byte { b := append([]byte{}, good...); b[1] = 8; return b }(), "field 'customer': union branch 4 out of range (the union has 2) at byte 1"},
	}
	for _, c := range cases {
		err := d.Decode(c.rec)
		var de *DecodeError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
		if d.Rows() != 1 {
			t.Fatalf("%s: rows %d after a failed record", c.name, d.Rows())
		}
	}
	if err := d.Decode(good); err != nil {
		t.Fatal(err)
	}
	got := rows(d.Flush())
	if len(got) != 2 || got[0] != got[1] {
		t.Fatalf("after failures, rows are %q", got)
	}
}

func TestDecodeRangeChecks(t *testing.T) {
	w := mustParse(t, `{"type":"record","name":"R","fields":[{"name":"v","type":"long"}]}`)
	d, err := NewDecoder(types.NewSchema(fld("v", types.Int8T, false)), rawOpts(w.String()))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Decode(marshal(t, w, map[string]any{"v": int64(127)})); err != nil {
		t.Fatal(err)
	}
	err = d.Decode(marshal(t, w, map[string]any{"v": int64(300)}))
	if err == nil || err.Error() != "avro: field 'v': value 300 out of range for TINYINT (-128 to 127) at byte 0" {
		t.Fatalf("got %v", err)
	}
	equalRows(t, rows(d.Flush()), []string{"127"})
}

func TestUnstructured(t *testing.T) {
	w := mustParse(t, ordersV1)
	opts := rawOpts(ordersV1)
	opts[OptIntoUnstructuredJSON] = "true"
	sql, err := TableSchema(opts)
	if err != nil || sql.String() != "(value JSON)" {
		t.Fatalf("%v %v", sql, err)
	}
	d, err := NewDecoder(sql, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Decode(marshal(t, w, order(5, nil, nil))); err != nil {
		t.Fatal(err)
	}
	want := `{"id":5,"customer":null,"qty":3,"status":"PAID","placed":1700000000123,"day":19782,"price":123.45,` +
		`"tags":["a","b"],"attrs":{"x":1},"ship":null,"blob":"AQL/","score":1.5,"ratio":0.25,"ok":true,"any":"s"}`
	equalRows(t, rows(d.Flush()), []string{want})
}

func TestProjectedSubset(t *testing.T) {
	w := mustParse(t, ordersV1)
	sub := types.NewSchema(fld("ok", types.BoolT, false), fld("ID", types.Int64T, false))
	d, err := NewDecoder(sub, rawOpts(ordersV1))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Decode(marshal(t, w, order(9, "x", nil))); err != nil {
		t.Fatal(err)
	}
	equalRows(t, rows(d.Flush()), []string{"true | 9"})
}

// TestContainerWithReaderSchema: without avro.raw_datum, avro.schema is the
// reader's schema (the writer's is in each container): its defaults fill
// what an older writer lacks, including records.
func TestContainerWithReaderSchema(t *testing.T) {
	v1 := `{"type":"record","name":"E","fields":[{"name":"id","type":"long"}]}`
	v2 := `{"type":"record","name":"E","fields":[{"name":"id","type":"long"},
		{"name":"level","type":"int","default":3},
		{"name":"pt","type":{"type":"record","name":"P","fields":[{"name":"x","type":"double"}]},"default":{"x":1.5}},
		{"name":"tags","type":{"type":"array","items":"string"},"default":["a"]}]}`
	opts := connector.Options{OptSchema: v2}
	cols, err := TableSchema(opts)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecoder(cols, opts)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEncoder(types.NewSchema(fld("id", types.Int64T, false)), connector.Options{OptSchema: v1})
	if err != nil {
		t.Fatal(err)
	}
	ids := &coldata.Vec[int64]{T: types.Int64T, Vals: []int64{7}}
	if err := e.Encode(coldata.NewBatch([]coldata.Vector{ids}, 1), d.Decode); err != nil {
		t.Fatal(err)
	}
	equalRows(t, rows(d.Flush()), []string{"7 | 3 | {x: 1.5} | ['a']"})
}

// TestRenamedFieldByReaderAlias: v2 renamed 'name' to 'full_name' with an
// alias; v1 data fills the renamed column.
func TestRenamedFieldByReaderAlias(t *testing.T) {
	v1 := `{"type":"record","name":"P","fields":[{"name":"name","type":"string"}]}`
	v2 := `{"type":"record","name":"P","fields":[{"name":"full_name","type":"string","aliases":["name"]}]}`
	opts := connector.Options{OptSchema: v2}
	cols, _ := TableSchema(opts)
	d, err := NewDecoder(cols, opts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.Plan(mustParse(t, v1))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.DecodeWith(p, marshal(t, mustParse(t, v1), map[string]any{"name": "Ann"})); err != nil {
		t.Fatal(err)
	}
	equalRows(t, rows(d.Flush()), []string{"'Ann'"})
}
