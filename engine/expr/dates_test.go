package expr

import (
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

const day = int64(24 * time.Hour)

// days returns the DATE value of y-m-d, computed with package time.
func days(s string) int32 {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return int32(t.Unix() / 86400)
}

func TestDateTimeCasts(t *testing.T) {
	tD, tT := types.DateT, types.TimeT
	for _, c := range []struct {
		from, to types.Type
		in       []any
		want     []any
		err      string
	}{
		{from: tStr, to: tD, in: []any{"2024-01-31", " 1970-01-01 ", "1969-12-31", "2024-02-29", nil, "0001-01-01", "9999-12-31"},
			want: []any{days("2024-01-31"), 0, -1, days("2024-02-29"), nil, days("0001-01-01"), days("9999-12-31")}},
		{from: tStr, to: tD, in: []any{"2023-02-29"}, err: "cannot cast '2023-02-29' to DATE"},
		{from: tStr, to: tD, in: []any{"2024-1-31"}, err: "cannot cast '2024-1-31' to DATE"},
		{from: tStr, to: tD, in: []any{"2024-01-31T00:00:00"}, err: "cannot cast"},
		{from: tD, to: tStr, in: []any{days("2024-01-31"), nil, int32(-1), days("0001-01-01"), int32(-719529)}, want: []any{"2024-01-31", nil, "1969-12-31", "0001-01-01", "-0001-12-31"}},
		{from: tD, to: tTS, in: []any{days("2024-01-31"), int32(-1), nil}, want: []any{ts("2024-01-31T00:00:00Z"), ts("1969-12-31T00:00:00Z"), nil}},
		{from: tD, to: tTS, in: []any{days("2263-01-01")}, err: "value 2263-01-01 out of range for TIMESTAMP"},
		{from: tTS, to: tD, in: []any{ts("2024-01-31T23:59:59.999Z"), ts("1969-12-31T23:00:00Z"), ts("1970-01-01T00:00:00Z"), nil},
			want: []any{days("2024-01-31"), -1, 0, nil}},
		{from: tTS, to: tT, in: []any{ts("2024-01-31T13:45:00.5Z"), ts("1969-12-31T23:00:00Z"), nil},
			want: []any{13*int64(time.Hour) + 45*int64(time.Minute) + int64(time.Second/2), 23 * int64(time.Hour), nil}},
		{from: tD, to: tI64, in: []any{days("2024-01-31"), nil}, want: []any{int64(days("2024-01-31")), nil}},
		{from: tI64, to: tD, in: []any{19753, -1}, want: []any{19753, -1}},
		{from: tI64, to: tD, in: []any{1 << 40}, err: "out of range for INT"},
		{from: tStr, to: tT, in: []any{"13:45:00.5", "00:00", "23:59:59.123456789123", nil},
			want: []any{49500500000000, 0, 86399123456789, nil}},
		{from: tStr, to: tT, in: []any{"24:00:00"}, err: "cannot cast '24:00:00' to TIME"},
		{from: tStr, to: tT, in: []any{"1:00"}, err: "cannot cast '1:00' to TIME"},
		{from: tStr, to: tT, in: []any{"12:00:00."}, err: "cannot cast"},
		{from: tT, to: tStr, in: []any{49500500000000, 0, 86399123456789, 1000, nil}, want: []any{"13:45:00.500", "00:00:00", "23:59:59.123456789", "00:00:00.000001", nil}},
		{from: tT, to: tI64, in: []any{5}, want: []any{5}},
		{from: tI64, to: tT, in: []any{5, 86399999999999}, want: []any{5, 86399999999999}},
		{from: tI64, to: tT, in: []any{day}, err: "value 86400000000000 out of range for TIME"},
		{from: tI64, to: tT, in: []any{-1}, err: "out of range for TIME"},
		{from: tNull, to: tD, in: []any{nil}, want: []any{nil}},
	} {
		e := cast(col(0, c.from), c.to)
		in := vec(c.from, c.in...)
		got, err := evalRows(t, e, in)
		if c.err != "" {
			if !errContains(err, c.err) {
				t.Errorf("CAST(%s AS %s) %v: got %v, want %q", c.from, c.to, c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("CAST(%s AS %s) %v: %v", c.from, c.to, c.in, err)
			continue
		}
		if w := normalize(c.to, c.want); !equalValues(got, w) {
			t.Errorf("CAST(%s AS %s) %v: got %v, want %v", c.from, c.to, c.in, got, w)
		}
	}
}

func TestCanCastDateTime(t *testing.T) {
	for _, c := range []struct {
		from, to types.Type
		ok       bool
	}{
		{types.DateT, types.StringT, true}, {types.StringT, types.DateT, true},
		{types.DateT, types.TimestampT, true}, {types.TimestampT, types.DateT, true},
		{types.DateT, types.Int32T, true}, {types.Int64T, types.DateT, true},
		{types.TimeT, types.StringT, true}, {types.StringT, types.TimeT, true},
		{types.TimestampT, types.TimeT, true}, {types.TimeT, types.TimestampT, false},
		{types.DateT, types.TimeT, false}, {types.TimeT, types.DateT, false},
		{types.DateT, types.BoolT, false}, {types.Float64T, types.DateT, false},
		{types.DateT, types.IntervalT, false}, {types.NullT, types.TimeT, true},
	} {
		if err := CanCast(c.from, c.to); (err == nil) != c.ok {
			t.Errorf("CanCast(%s, %s) = %v, want ok %v", c.from, c.to, err, c.ok)
		}
	}
}

func TestDateArith(t *testing.T) {
	d := vec(types.DateT, days("2024-02-28"), days("2024-12-31"), nil, int32(0))
	iv := vec(types.IntervalT, day, 2*day, day, -day-1)
	for _, c := range []struct {
		name string
		fn   string
		args []coldata.Vector
		swap bool
		rt   types.Type
		want []any
	}{
		{"date + interval", "+", []coldata.Vector{d, iv}, false, types.DateT,
			[]any{days("2024-02-29"), days("2025-01-02"), nil, int32(-1)}},
		{"interval + date", "+", []coldata.Vector{iv, d}, false, types.DateT,
			[]any{days("2024-02-29"), days("2025-01-02"), nil, int32(-1)}},
		// -day-1 ns is one whole day and a bit: the bit is dropped.
		{"date - interval", "-", []coldata.Vector{d, iv}, false, types.DateT,
			[]any{days("2024-02-27"), days("2024-12-29"), nil, int32(1)}},
		{"date - date", "-", []coldata.Vector{d, vec(types.DateT, days("2024-01-01"), days("2024-01-01"), int32(0), days("2024-01-01"))}, false, types.IntervalT,
			[]any{58 * day, 365 * day, nil, -int64(days("2024-01-01")) * day}},
	} {
		ts := []types.Type{c.args[0].Type(), c.args[1].Type()}
		e := call(c.fn, c.rt, col(0, ts[0]), col(1, ts[1]))
		got, err := evalRows(t, e, c.args...)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if w := normalize(c.rt, c.want); !equalValues(got, w) {
			t.Errorf("%s: got %v, want %v", c.name, got, w)
		}
	}
	// A constant interval (the specialized path for plain arithmetic must
	// not take DATE).
	e := call("+", types.DateT, col(0, types.DateT), lit(types.IntervalT, 3*day))
	got, err := evalRows(t, e, d)
	if err != nil {
		t.Fatal(err)
	}
	if w := normalize(types.DateT, []any{days("2024-03-02"), days("2025-01-03"), nil, int32(3)}); !equalValues(got, w) {
		t.Errorf("date + constant interval: got %v, want %v", got, w)
	}
	_, err = evalRows(t, call("+", types.DateT, col(0, types.DateT), col(1, types.IntervalT)),
		vec(types.DateT, int32(2147483000)), vec(types.IntervalT, 1000*day))
	if !errContains(err, "date out of range") {
		t.Errorf("overflow: got %v", err)
	}
	for _, args := range [][]types.Type{{types.DateT, types.Int64T}, {types.IntervalT, types.DateT}, {types.DateT, types.TimestampT}} {
		for _, name := range []string{"-", "*"} {
			if _, err := resolveFn(name, args); err == nil {
				t.Errorf("%s %s %s resolved", args[0], name, args[1])
			}
		}
	}
}

func TestDateTimeCompare(t *testing.T) {
	d := vec(types.DateT, days("2024-01-31"), days("2023-12-31"), nil)
	e := call("<", types.BoolT, col(0, types.DateT), lit(types.DateT, days("2024-01-01")))
	got, err := evalRows(t, e, d)
	if err != nil {
		t.Fatal(err)
	}
	if w := []any{false, true, nil}; !equalValues(got, w) {
		t.Errorf("date < constant: got %v, want %v", got, w)
	}
	tm := vec(types.TimeT, 10, 20, nil)
	e = call("=", types.BoolT, col(0, types.TimeT), col(1, types.TimeT))
	got, err = evalRows(t, e, tm, vec(types.TimeT, 10, 21, 3))
	if err != nil {
		t.Fatal(err)
	}
	if w := []any{true, false, nil}; !equalValues(got, w) {
		t.Errorf("time = time: got %v, want %v", got, w)
	}
	for _, c := range []struct{ a, b, want types.Type }{
		{types.DateT, types.StringT, types.DateT},
		{types.StringT, types.TimeT, types.TimeT},
		{types.DateT, types.TimestampT, types.TimestampT},
		{types.TimestampT, types.DateT, types.TimestampT},
	} {
		ct, err := CommonType(c.a, c.b)
		if err != nil || !ct.Equal(c.want) {
			t.Errorf("CommonType(%s, %s) = %s, %v; want %s", c.a, c.b, ct, err, c.want)
		}
	}
	if _, err := CommonType(types.DateT, types.TimeT); err == nil {
		t.Error("CommonType(DATE, TIME) succeeded")
	}
	if _, err := CommonType(types.DateT, types.Int32T); err == nil {
		t.Error("CommonType(DATE, INT) succeeded")
	}
}

func TestMakeDate(t *testing.T) {
	e := call("make_date", types.DateT, col(0, tI32), col(1, tI32), col(2, tI32))
	got, err := evalRows(t, e, vec(tI32, 2024, 2023, nil, 1), vec(tI32, 2, 12, 1, 1), vec(tI32, 29, 31, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if w := normalize(types.DateT, []any{days("2024-02-29"), days("2023-12-31"), nil, days("0001-01-01")}); !equalValues(got, w) {
		t.Errorf("make_date: got %v, want %v", got, w)
	}
	for _, bad := range [][3]int{{2023, 2, 29}, {2024, 13, 1}, {2024, 0, 1}, {2024, 4, 31}} {
		_, err := evalRows(t, e, vec(tI32, bad[0]), vec(tI32, bad[1]), vec(tI32, bad[2]))
		if !errContains(err, "make_date: no date") {
			t.Errorf("make_date%v: got %v", bad, err)
		}
	}
	if _, err := resolveFn("make_date", []types.Type{tStr, tI32, tI32}); !errContains(err, "expects integers") {
		t.Errorf("make_date(TEXT, ...): %v", err)
	}
}

func TestCurrentDate(t *testing.T) {
	defer func(f func() time.Time) { nowFunc = f }(nowFunc)
	nowFunc = func() time.Time { return time.Date(2024, 2, 29, 23, 59, 0, 0, time.UTC) }
	got, err := evalRows(t, call("current_date", types.DateT), vec(tI64, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	want := normalize(types.DateT, []any{days("2024-02-29"), days("2024-02-29")})
	if !equalValues(got, want) {
		t.Errorf("current_date: got %v, want %v", got, want)
	}
}

func resolveFn(name string, args []types.Type) (*Resolved, error) {
	f, ok := Builtins().Lookup(name)
	if !ok {
		panic("no function " + name)
	}
	return f.Resolve(args)
}

// TestDateInTimestampFunctions: date_part, date_trunc and the other
// functions of a TIMESTAMP take a DATE as its midnight (the planner casts).
func TestDateInTimestampFunctions(t *testing.T) {
	r, err := resolveFn("date_part", []types.Type{tStr, types.DateT})
	if err != nil || !r.Args[1].Equal(tTS) || !r.Result.Equal(tF64) {
		t.Fatalf("date_part(TEXT, DATE): %v %v", r, err)
	}
	d := vec(types.DateT, days("2024-02-29"), nil)
	for unit, want := range map[string][]any{"year": {2024.0, nil}, "doy": {60.0, nil}, "dow": {4.0, nil}, "hour": {0.0, nil}} {
		e := call("date_part", tF64, lit(tStr, unit), cast(col(0, types.DateT), tTS))
		got, err := evalRows(t, e, d)
		if err != nil || !equalValues(got, want) {
			t.Errorf("date_part(%s, DATE): got %v %v, want %v", unit, got, err, want)
		}
	}
	e := call("date_trunc", tTS, lit(tStr, "month"), cast(col(0, types.DateT), tTS))
	got, err := evalRows(t, e, d)
	if want := []any{ts("2024-02-01T00:00:00Z"), nil}; err != nil || !equalValues(got, want) {
		t.Errorf("date_trunc('month', DATE): got %v %v", got, err)
	}
}
