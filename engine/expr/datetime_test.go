package expr

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

func TestDateTrunc(t *testing.T) {
	at := ts("2023-03-15T10:45:30.123456789Z") // a Wednesday
	for _, c := range []struct {
		unit string
		in   int64
		want int64
	}{
		{"microsecond", at, ts("2023-03-15T10:45:30.123456Z")},
		{"millisecond", at, ts("2023-03-15T10:45:30.123Z")},
		{"second", at, ts("2023-03-15T10:45:30Z")},
		{"minute", at, ts("2023-03-15T10:45:00Z")},
		{"HOUR", at, ts("2023-03-15T10:00:00Z")},
		{"day", at, ts("2023-03-15T00:00:00Z")},
		{"week", at, ts("2023-03-13T00:00:00Z")},
		{"month", at, ts("2023-03-01T00:00:00Z")},
		{"quarter", at, ts("2023-01-01T00:00:00Z")},
		{"quarter", ts("2023-08-20T05:00:00Z"), ts("2023-07-01T00:00:00Z")},
		{"quarter", ts("2023-12-31T23:59:59Z"), ts("2023-10-01T00:00:00Z")},
		{"year", at, ts("2023-01-01T00:00:00Z")},
		// Weeks start on Monday: a Monday stays, a Sunday goes back six days.
		{"week", ts("2024-01-01T08:00:00Z"), ts("2024-01-01T00:00:00Z")},
		{"week", ts("2024-01-07T23:00:00Z"), ts("2024-01-01T00:00:00Z")},
		{"month", ts("2024-02-29T23:00:00Z"), ts("2024-02-01T00:00:00Z")},
		// Before the epoch, truncation goes down, not toward zero.
		{"second", ts("1969-12-31T23:59:59.5Z"), ts("1969-12-31T23:59:59Z")},
		{"day", ts("1969-12-31T23:59:59.5Z"), ts("1969-12-31T00:00:00Z")},
		{"week", ts("1969-12-31T12:00:00Z"), ts("1969-12-29T00:00:00Z")},
		{"year", ts("1969-06-30T12:00:00Z"), ts("1969-01-01T00:00:00Z")},
	} {
		// The unit as a constant (specialized) and as a column.
		e := call("date_trunc", tTS, lit(tStr, c.unit), col(0, tTS))
		want(t, e, cols(vec(tTS, c.in, nil)), c.want, nil)
		runFn(t, fnCase{fn: "date_trunc", rt: tTS, ts: []types.Type{tStr, tTS},
			args: [][]any{{c.unit, nil, c.unit}, {c.in, c.in, nil}}, want: []any{c.want, nil, nil}})
	}
	// A bad constant unit is found at compile time, a bad row's at run time.
	_, err := Compile(call("date_trunc", tTS, lit(tStr, "fortnight"), col(0, tTS)), nil)
	if !errContains(err, "date_trunc does not support the unit 'fortnight' (units: microsecond,") {
		t.Fatalf("compile error %v", err)
	}
	runFn(t, fnCase{fn: "date_trunc", rt: tTS, ts: []types.Type{tStr, tTS},
		args: [][]any{{"day", "days"}, {int64(0), int64(0)}}, err: "does not support the unit 'days'"})
	// The start of year 1677 is before the smallest timestamp.
	runFn(t, fnCase{fn: "date_trunc", rt: tTS, ts: []types.Type{tStr, tTS},
		args: [][]any{{"year"}, {int64(math.MinInt64)}}, err: "timestamp out of range"})
}

func TestDatePart(t *testing.T) {
	leap := ts("2024-02-29T13:45:30.25Z") // a Thursday, ISO week 9
	pre := ts("1969-12-31T23:59:59.5Z")   // a Wednesday
	for _, c := range []struct {
		unit      string
		leap, pre float64
	}{
		{"year", 2024, 1969},
		{"quarter", 1, 4},
		{"month", 2, 12},
		{"week", 9, 1}, // 1969-12-31 is in ISO week 1 of 1970
		{"day", 29, 31},
		{"hour", 13, 23},
		{"minute", 45, 59},
		{"second", 30.25, 59.5},
		{"millisecond", 30250, 59500},
		{"microsecond", 30250000, 59500000},
		{"nanosecond", 30250000000, 59500000000},
		{"dow", 4, 3},
		{"doy", 60, 365},
		{"epoch", 1709214330.25, -0.5},
		{"Year", 2024, 1969},
	} {
		for _, fn := range []string{"date_part", "datepart"} {
			want(t, call(fn, tF64, lit(tStr, c.unit), col(0, tTS)), cols(vec(tTS, leap, pre, nil)), c.leap, c.pre, nil)
		}
		runFn(t, fnCase{fn: "date_part", rt: tF64, ts: []types.Type{tStr, tTS},
			args: [][]any{{c.unit, c.unit, nil}, {leap, pre, leap}}, want: []any{c.leap, c.pre, nil}})
	}
	_, err := Compile(call("date_part", tF64, lit(tStr, "isodow"), col(0, tTS)), nil)
	if !errContains(err, "date_part does not support the unit 'isodow'") {
		t.Fatalf("compile error %v", err)
	}
	// TEXT is cast to TIMESTAMP by the planner: Resolve asks for it.
	r, err := Builtins().funcs["date_part"].Resolve([]types.Type{tStr, tStr})
	if err != nil || !r.Args[1].Equal(tTS) || !r.Result.Equal(tF64) {
		t.Fatalf("date_part(TEXT, TEXT) resolved %+v, %v", r, err)
	}
	if _, err := Builtins().funcs["date_part"].Resolve([]types.Type{tStr, tI64}); !errContains(err, "function date_part expects (TEXT, TIMESTAMP), got (TEXT, BIGINT)") {
		t.Fatalf("date_part(TEXT, BIGINT): %v", err)
	}
}

func TestDateBin(t *testing.T) {
	min := int64(time.Minute)
	hour := int64(time.Hour)
	runFn(t, fnCase{fn: "date_bin", rt: tTS, ts: []types.Type{tIV, tTS},
		args: [][]any{{15 * min, hour, 24 * hour, nil, 15 * min}, {
			ts("2023-03-15T10:47:00Z"), ts("2023-03-15T10:00:00Z"), ts("1969-12-31T12:00:00Z"), int64(0), nil}},
		want: []any{ts("2023-03-15T10:45:00Z"), ts("2023-03-15T10:00:00Z"), ts("1969-12-31T00:00:00Z"), nil, nil}})
	origin := ts("2023-03-15T10:05:00Z")
	runFn(t, fnCase{fn: "date_bin", rt: tTS, ts: []types.Type{tIV, tTS, tTS},
		args: [][]any{{hour, hour, hour}, {ts("2023-03-15T10:47:00Z"), ts("2023-03-15T09:00:00Z"), ts("2023-03-15T10:05:00Z")}, {origin, origin, origin}},
		want: []any{ts("2023-03-15T10:05:00Z"), ts("2023-03-15T08:05:00Z"), ts("2023-03-15T10:05:00Z")}})
	runFn(t, fnCase{fn: "date_bin", rt: tTS, ts: []types.Type{tIV, tTS},
		args: [][]any{{int64(0)}, {int64(5)}}, err: "date_bin stride must be a positive interval, got"})
	runFn(t, fnCase{fn: "date_bin", rt: tTS, ts: []types.Type{tIV, tTS, tTS},
		args: [][]any{{hour}, {int64(math.MaxInt64)}, {int64(math.MinInt64)}}, err: "timestamp out of range"})
}

func TestToTimestamp(t *testing.T) {
	text := "2023-01-02T03:04:05.123456789Z"
	full := ts(text)
	for _, c := range []struct {
		fn   string
		t    types.Type
		in   []any
		want []any
		err  string
	}{
		{"to_timestamp", tStr, []any{text, " 2023-01-02 03:04:05 ", nil}, []any{full, ts("2023-01-02T03:04:05Z"), nil}, ""},
		{"to_timestamp_seconds", tStr, []any{text}, []any{ts("2023-01-02T03:04:05Z")}, ""},
		{"to_timestamp_millis", tStr, []any{text}, []any{ts("2023-01-02T03:04:05.123Z")}, ""},
		{"to_timestamp_micros", tStr, []any{text}, []any{ts("2023-01-02T03:04:05.123456Z")}, ""},
		{"to_timestamp_nanos", tStr, []any{text}, []any{full}, ""},
		{"to_timestamp", tI64, []any{1700000000, 0, -1, nil}, []any{ts("2023-11-14T22:13:20Z"), 0, -int64(time.Second), nil}, ""},
		{"to_timestamp_seconds", tI64, []any{1700000000}, []any{ts("2023-11-14T22:13:20Z")}, ""},
		{"to_timestamp_millis", tI64, []any{1700000000123, -1}, []any{ts("2023-11-14T22:13:20.123Z"), -int64(time.Millisecond)}, ""},
		{"to_timestamp_micros", tI64, []any{1700000000123456}, []any{ts("2023-11-14T22:13:20.123456Z")}, ""},
		{"to_timestamp_nanos", tI64, []any{1700000000123456789}, []any{ts("2023-11-14T22:13:20.123456789Z")}, ""},
		{"from_unixtime", tI64, []any{1700000000, nil}, []any{ts("2023-11-14T22:13:20Z"), nil}, ""},
		{"to_timestamp", tF64, []any{1.5, -1.5}, []any{ts("1970-01-01T00:00:01.5Z"), ts("1969-12-31T23:59:58.5Z")}, ""},
		{"to_timestamp_seconds", tF64, []any{1.5}, []any{ts("1970-01-01T00:00:01Z")}, ""},
		// Timestamps truncate toward zero, as DataFusion's casts divide.
		{"to_timestamp_seconds", tTS, []any{ts("2023-01-02T03:04:05.9Z"), -int64(500 * time.Millisecond)}, []any{ts("2023-01-02T03:04:05Z"), 0}, ""},
		{"to_timestamp", tI64, []any{int64(10_000_000_000_000)}, nil, "timestamp out of range (1677-09-21 to 2262-04-11): 10000000000000 seconds"},
		{"to_timestamp", tF64, []any{math.NaN()}, nil, "timestamp out of range"},
		{"to_timestamp", tStr, []any{"yesterday"}, nil, "invalid timestamp (expected RFC 3339"},
	} {
		runFn(t, fnCase{fn: c.fn, rt: tTS, ts: []types.Type{c.t}, args: [][]any{c.in}, want: c.want, err: c.err})
	}
	for _, bad := range [][]types.Type{{tBool}, {tIV}, {}} {
		if _, err := Builtins().funcs["to_timestamp"].Resolve(bad); !errContains(err, "function to_timestamp expects") {
			t.Errorf("to_timestamp%s: %v", typeList(bad), err)
		}
	}
	if _, err := Builtins().funcs["to_timestamp_millis"].Resolve([]types.Type{tF64}); !errContains(err, "expects TEXT, BIGINT or TIMESTAMP, got DOUBLE") {
		t.Errorf("to_timestamp_millis(DOUBLE): %v", err)
	}
}

func TestToChar(t *testing.T) {
	at := ts("2023-03-05T07:08:09.5Z")
	for _, fn := range []string{"to_char", "date_format"} {
		want(t, call(fn, tStr, col(0, tTS), lit(tStr, "%Y-%m-%d %H:%M:%S%.3f %a")), cols(vec(tTS, at, nil, int64(0))),
			"2023-03-05 07:08:09.500 Sun", nil, "1970-01-01 00:00:00.000 Thu")
	}
	// Per-row formats.
	runFn(t, fnCase{fn: "to_char", rt: tStr, ts: []types.Type{tTS, tStr},
		args: [][]any{{at, at, at, at}, {"%Y", "%d/%m", nil, "%Y"}}, want: []any{"2023", "05/03", nil, "2023"}})
	_, err := Compile(call("to_char", tStr, col(0, tTS), lit(tStr, "%Y-%Q")), nil)
	if !errContains(err, "to_char: invalid format specifier '%Q' in '%Y-%Q'") {
		t.Fatalf("compile error %v", err)
	}
	runFn(t, fnCase{fn: "to_char", rt: tStr, ts: []types.Type{tTS, tStr},
		args: [][]any{{at, at}, {"%Y", "%"}}, err: "ends with a lone '%'"})
}

func TestNowIsNotFolded(t *testing.T) {
	for _, fn := range []string{"now", "current_timestamp"} {
		e := call(fn, tTS)
		ev, err := Compile(e, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, folded := inner(ev).(*litEval); folded {
			t.Fatalf("%s() was folded into a constant", fn)
		}
		before := time.Now().UnixNano()
		v, err := ev.Eval(tctx, &coldata.Batch{Len: 3})
		after := time.Now().UnixNano()
		if err != nil {
			t.Fatal(err)
		}
		got := v.(*coldata.Vec[int64]).Vals
		if got[0] < before || got[0] > after || got[1] != got[0] || got[2] != got[0] {
			t.Fatalf("%s() = %v, want one value in [%d, %d]", fn, got, before, after)
		}
	}
	// A deterministic call over constants is still folded.
	ev, err := Compile(call("date_part", tF64, lit(tStr, "year"), lit(tTS, 0)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, folded := inner(ev).(*litEval); !folded {
		t.Fatal("date_part('year', constant) was not folded")
	}
}

// TestPrepareGuarded: a bad constant unit is an error even in a CASE
// branch no row takes (it is wrong whatever the data; see "Constant
// arguments are prepared per call site" in docs/RATIONALE.md).
func TestPrepareGuarded(t *testing.T) {
	bad := call("date_trunc", tTS, lit(tStr, "fortnight"), col(0, tTS))
	e := &program.Expr{Op: program.ExprCase, Type: tTS, HasElse: true,
		Args: []*program.Expr{lit(tBool, false), bad, col(0, tTS)}}
	if _, err := Compile(e, nil); !errContains(err, "does not support the unit 'fortnight'") {
		t.Fatalf("compile: %v", err)
	}
}

func TestToTimestampFormats(t *testing.T) {
	S := tStr
	runFn(t, fnCase{fn: "to_timestamp", rt: tTS, ts: []types.Type{S, S, S},
		args: [][]any{{"31/01/2023 09:26", "2023-01-31T09:26:56.5Z", nil, "5 Mar 2024"}, {"%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M", "%Y", "%d/%m/%Y"}, {"%+", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y", "%d %b %Y"}},
		want: []any{ts("2023-01-31T09:26:00Z"), ts("2023-01-31T09:26:56.5Z"), nil, ts("2024-03-05T00:00:00Z")}})
	runFn(t, fnCase{fn: "to_timestamp_millis", rt: tTS, ts: []types.Type{S, S},
		args: [][]any{{"2023-01-31 09:26:56.123456"}, {"%Y-%m-%d %H:%M:%S%.f"}}, want: []any{ts("2023-01-31T09:26:56.123Z")}})
	// Constant formats, compiled at compile time.
	want(t, call("to_timestamp", tTS, col(0, S), lit(S, "%Y%m%d"), lit(S, "%d.%m.%Y")), cols(vec(S, "20240229", "01.02.2003")),
		ts("2024-02-29T00:00:00Z"), ts("2003-02-01T00:00:00Z"))
	_, err := Compile(call("to_timestamp", tTS, col(0, S), lit(S, "%Y"), lit(S, "%Q")), nil)
	if !errContains(err, "to_timestamp: invalid format specifier '%Q'") {
		t.Fatalf("compile: %v", err)
	}
	runFn(t, fnCase{fn: "to_timestamp", rt: tTS, ts: []types.Type{S, S},
		args: [][]any{{"2023-01-31"}, {"%d/%m/%Y"}}, err: "'2023-01-31' does not match the format '%d/%m/%Y': text does not match the format"})
	runFn(t, fnCase{fn: "to_timestamp", rt: tTS, ts: []types.Type{S, S, S},
		args: [][]any{{"2023-02-30"}, {"%d/%m/%Y"}, {"%Y-%m-%d"}}, err: "'2023-02-30' does not match any of the 2 formats"})
	if _, err := Builtins().funcs["to_timestamp"].Resolve([]types.Type{tI64, S}); !errContains(err, "expects (TEXT, TEXT format, ...), got (BIGINT, TEXT)") {
		t.Fatalf("to_timestamp(BIGINT, TEXT): %v", err)
	}
}

func TestToUnixtimeAndAliases(t *testing.T) {
	runFn(t, fnCase{fn: "to_unixtime", rt: tI64, ts: []types.Type{tTS},
		args: [][]any{{ts("2023-11-14T22:13:20.9Z"), -int64(1500 * time.Millisecond), nil}}, want: []any{1700000000, -1, nil}})
	runFn(t, fnCase{fn: "to_unixtime", rt: tI64, ts: []types.Type{tStr},
		args: [][]any{{"1970-01-02T00:00:00Z"}}, want: []any{86400}})
	want(t, call("to_unixtime", tI64, col(0, tStr), lit(tStr, "%d/%m/%Y")), cols(vec(tStr, "02/01/1970")), 86400)
	if _, err := Builtins().funcs["to_unixtime"].Resolve([]types.Type{tI64}); !errContains(err, "function to_unixtime expects (TIMESTAMP) or (TEXT") {
		t.Fatalf("to_unixtime(BIGINT): %v", err)
	}
	want(t, call("datetrunc", tTS, lit(tStr, "day"), col(0, tTS)), cols(vec(tTS, ts("2023-03-15T10:45:30Z"))), ts("2023-03-15T00:00:00Z"))
	_, err := Compile(call("datetrunc", tTS, lit(tStr, "eon"), col(0, tTS)), nil)
	if !errContains(err, "datetrunc does not support the unit 'eon'") {
		t.Fatalf("datetrunc: %v", err)
	}
}

// TestTruncAndPartAgreeWithPackageTime checks date_trunc and date_part
// against package time over random instants of the TIMESTAMP range.
func TestTruncAndPartAgreeWithPackageTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for k := 0; k < 50000; k++ {
		ns := int64(rng.Uint64())
		tm := time.Unix(0, ns).UTC()
		y, mo, d := tm.Date()
		day := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
		trunc := map[tsUnit]time.Time{
			uSecond:  tm.Truncate(time.Second),
			uMinute:  tm.Truncate(time.Minute),
			uHour:    tm.Truncate(time.Hour),
			uDay:     day,
			uWeek:    day.AddDate(0, 0, -((int(tm.Weekday()) + 6) % 7)),
			uMonth:   time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC),
			uQuarter: time.Date(y, (mo-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC),
			uYear:    time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC),
		}
		for u, w := range trunc {
			got, err := truncTs(u, ns)
			// Go's Truncate works on absolute time (since year 1), which
			// for seconds to hours is the same as from the epoch.
			lo, hi := time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)
			if w.Before(lo) || w.After(hi) {
				if err == nil {
					t.Fatalf("truncTs(%d, %s) = %d, want out of range", u, tm, got)
				}
				continue
			}
			if err != nil || got != w.UnixNano() {
				t.Fatalf("truncTs(%d, %s) = %s (%v), want %s", u, tm, time.Unix(0, got).UTC(), err, w)
			}
		}
		_, isoW := tm.ISOWeek()
		for u, w := range map[tsUnit]float64{
			uYear: float64(y), uMonth: float64(mo), uDay: float64(d), uHour: float64(tm.Hour()),
			uMinute: float64(tm.Minute()), uDow: float64(tm.Weekday()), uDoy: float64(tm.YearDay()),
			uWeek: float64(isoW), uQuarter: float64((mo-1)/3 + 1),
			uSecond: float64(tm.Second()) + float64(tm.Nanosecond())/1e9,
		} {
			if got := datePart(u, ns); got != w {
				t.Fatalf("datePart(%d, %s) = %v, want %v", u, tm, got, w)
			}
		}
	}
}

func TestDatePartOfInterval(t *testing.T) {
	sec := int64(time.Second)
	runFn(t, fnCase{fn: "date_part", rt: tF64, ts: []types.Type{tStr, tIV},
		args: [][]any{{"epoch", "EPOCH", "epoch", "epoch"}, {90 * sec, -sec / 2, nil, 3*sec + 250*int64(time.Millisecond)}},
		want: []any{90.0, -0.5, nil, 3.25}})
	_, err := Compile(call("date_part", tF64, lit(tStr, "hour"), col(0, tIV)), nil)
	if !errContains(err, "date_part of an INTERVAL does not support the unit 'hour' (units: epoch)") {
		t.Fatalf("compile: %v", err)
	}
	r, err := Builtins().funcs["date_part"].Resolve([]types.Type{tStr, tIV})
	if err != nil || !r.Args[1].Equal(tIV) {
		t.Fatalf("date_part(TEXT, INTERVAL) resolved %+v, %v", r, err)
	}
}
