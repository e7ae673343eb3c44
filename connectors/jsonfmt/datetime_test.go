package jsonfmt

import (
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

func TestDecodeDateTime(t *testing.T) {
	for _, c := range []struct {
		typ  types.Type
		rec  string
		want any
		err  string
	}{
		{types.DateT, `{"v": "2024-01-31"}`, int32(19753), ""},
		{types.DateT, `{"v": "1969-12-31"}`, int32(-1), ""},
		{types.DateT, `{"v": 19753}`, int32(19753), ""},
		{types.DateT, `{"v": -3}`, int32(-3), ""},
		{types.DateT, `{"v": null}`, nil, ""},
		{types.DateT, `{"v": "2024-\u00301-31"}`, int32(19753), ""}, // escaped: unescaped first
		{types.DateT, `{"v": "2023-02-29"}`, nil, "field 'v': invalid date (field out of range): '2023-02-29' at byte 6"},
		{types.DateT, `{"v": "31.01.2024"}`, nil, "invalid date (expected YYYY-MM-DD, e.g. 2024-01-31): '31.01.2024'"},
		{types.DateT, `{"v": 3000000000}`, nil, "date 3000000000 out of range (an integer of days since 1970-01-01 that fits INT)"},
		{types.DateT, `{"v": 1.5}`, nil, "date 1.5 out of range"},
		{types.DateT, `{"v": true}`, nil, "expected date (string YYYY-MM-DD or integer of days since 1970-01-01), found boolean"},
		{types.TimeT, `{"v": "13:45:00.5"}`, int64(49500500000000), ""},
		{types.TimeT, `{"v": "00:00"}`, int64(0), ""},
		{types.TimeT, `{"v": 1000}`, int64(1000), ""},
		{types.TimeT, `{"v": "25:00:00"}`, nil, "invalid time (field out of range): '25:00:00'"},
		{types.TimeT, `{"v": "noon"}`, nil, "invalid time (expected HH:MM[:SS[.fraction]]"},
		{types.TimeT, `{"v": 86400000000000}`, nil, "time 86400000000000 out of range"},
		{types.TimeT, `{"v": -1}`, nil, "time -1 out of range"},
		{types.TimeT, `{"v": 1.5}`, nil, "time 1.5 out of range"},
	} {
		got, err := decodeOne(t, c.typ, nil, c.rec)
		if c.err != "" {
			if !strings.Contains(err, c.err) {
				t.Errorf("%s %s: error %q, want %q", c.typ, c.rec, err, c.err)
			}
			continue
		}
		if err != "" || got != c.want {
			t.Errorf("%s %s: got %#v (%s), want %#v", c.typ, c.rec, got, err, c.want)
		}
	}
}

// TestDateTimeRoundTrip: what the encoder writes, the decoder reads back
// as the same values, NULLs included, across batches with nulls in the
// middle (the builders' lazy null paths).
func TestDateTimeRoundTrip(t *testing.T) {
	fields := []types.Field{field("d", types.DateT), field("t", types.TimeT)}
	d := column(types.DateT, int32(19753), nil, int32(-719162), int32(0))
	tm := column(types.TimeT, int64(49500500000000), int64(1), nil, int64(86399999999999))
	e := newEncoder(t, nil, fields...)
	recs := encodeAll(t, e, coldata.NewBatch([]coldata.Vector{d, tm}, 4))
	want := []string{
		`{"d":"2024-01-31","t":"13:45:00.500"}`,
		`{"d":null,"t":"00:00:00.000000001"}`,
		`{"d":"0001-01-01","t":null}`,
		`{"d":"1970-01-01","t":"23:59:59.999999999"}`,
	}
	if strings.Join(recs, "\n") != strings.Join(want, "\n") {
		t.Fatalf("encoded\n%s\nwant\n%s", strings.Join(recs, "\n"), strings.Join(want, "\n"))
	}
	dec := newDecoder(t, nil, fields...)
	for _, r := range recs {
		if err := dec.Decode([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	vs := dec.Flush()
	for i := 0; i < 4; i++ {
		for c, v := range []coldata.Vector{d, tm} {
			if a, b := coldata.Value(v, i), coldata.Value(vs[c], i); a != b {
				t.Errorf("row %d col %d: %v decoded as %v", i, c, a, b)
			}
		}
	}
	// A missing field is NULL (appendNulls), and a failed record leaves
	// nothing behind (truncate).
	if err := dec.Decode([]byte(`{"t": "01:00"}`)); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode([]byte(`{"d": "2024-01-01", "t": "bad"}`)); err == nil {
		t.Fatal("bad time decoded")
	}
	vs = dec.Flush()
	checkVector(t, "d", vs[0], 1)
	checkVector(t, "t", vs[1], 1)
	if !vs[0].IsNull(0) || coldata.Value(vs[1], 0) != int64(3600e9) {
		t.Errorf("got %v %v", coldata.Value(vs[0], 0), coldata.Value(vs[1], 0))
	}
}
