package expr

import (
	"math"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

func ts(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

func TestCasts(t *testing.T) {
	for _, c := range []struct {
		from, to types.Type
		in       []any
		want     []any
		err      string
	}{
		// Numbers.
		{from: tI64, to: tI32, in: []any{1, -1, nil, math.MaxInt32}, want: []any{1, -1, nil, math.MaxInt32}},
		{from: tI64, to: tI32, in: []any{3_000_000_000}, err: "value 3000000000 out of range for INT"},
		{from: tI64, to: tU32, in: []any{-1}, err: "value -1 out of range for INT UNSIGNED"},
		{from: tU64, to: tI64, in: []any{uint64(math.MaxUint64)}, err: "value 18446744073709551615 out of range for BIGINT"},
		{from: tI32, to: tI64, in: []any{-5, nil}, want: []any{-5, nil}},
		{from: tI64, to: tF64, in: []any{3, nil}, want: []any{3.0, nil}},
		{from: tF64, to: tI64, in: []any{1.9, -1.9, -0.5, nil}, want: []any{1, -1, 0, nil}},
		{from: tF64, to: tI64, in: []any{3e20}, err: "value 3e+20 out of range for BIGINT"},
		{from: tF64, to: tI64, in: []any{math.NaN()}, err: "value NaN out of range for BIGINT"},
		{from: tF64, to: tU32, in: []any{-1.0}, err: "value -1 out of range for INT UNSIGNED"},
		{from: tF64, to: tU32, in: []any{-0.9, 4294967295.5}, want: []any{0, math.MaxUint32}},
		{from: tF64, to: tI32, in: []any{2147483648.0}, err: "out of range for INT"},
		{from: tF32, to: tF64, in: []any{1.5}, want: []any{1.5}},
		{from: tF64, to: tF32, in: []any{0.25}, want: []any{0.25}},
		{from: tBool, to: tI64, in: []any{true, false, nil}, want: []any{1, 0, nil}},
		{from: tI64, to: tBool, in: []any{2, 0, nil}, want: []any{true, false, nil}},
		// To TEXT.
		{from: tI64, to: tStr, in: []any{-12, nil, 0}, want: []any{"-12", nil, "0"}},
		{from: tU64, to: tStr, in: []any{uint64(math.MaxUint64)}, want: []any{"18446744073709551615"}},
		{from: tF64, to: tStr, in: []any{1.0, 0.1, -2.5, 1e21, 1e-7, 1e-8, 123456789.0, math.NaN(), math.Inf(1), math.Inf(-1), 0.0},
			want: []any{"1.0", "0.1", "-2.5", "1e+21", "0.0000001", "1e-08", "123456789.0", "NaN", "inf", "-inf", "0.0"}},
		{from: tF32, to: tStr, in: []any{0.1, 3.0}, want: []any{"0.1", "3.0"}},
		{from: tBool, to: tStr, in: []any{true, false, nil}, want: []any{"true", "false", nil}},
		{from: tTS, to: tStr, in: []any{ts("2023-01-02T03:04:05Z"), ts("2023-01-02T03:04:05.5Z"), ts("1969-12-31T23:59:59.000001Z"), ts("2023-01-02T03:04:05.123456789Z")},
			want: []any{"2023-01-02T03:04:05", "2023-01-02T03:04:05.500", "1969-12-31T23:59:59.000001", "2023-01-02T03:04:05.123456789"}},
		{from: tIV, to: tStr, in: []any{int64(90 * time.Minute), -int64(time.Second / 2), int64(26 * time.Hour), int64(49 * time.Hour)},
			want: []any{"01:30:00", "-00:00:00.500", "1 day 02:00:00", "2 days 01:00:00"}},
		{from: tJSON, to: tStr, in: []any{`{"a":1}`, nil}, want: []any{`{"a":1}`, nil}},
		{from: tByt, to: tStr, in: []any{[]byte("hi")}, want: []any{"hi"}},
		{from: tByt, to: tStr, in: []any{[]byte{0xff}}, err: "invalid UTF-8"},
		// From TEXT.
		{from: tStr, to: tI64, in: []any{" 42 ", "-7", nil}, want: []any{42, -7, nil}},
		{from: tStr, to: tI64, in: []any{"abc"}, err: "cannot cast 'abc' to BIGINT"},
		{from: tStr, to: tI64, in: []any{"1.5"}, err: "cannot cast '1.5' to BIGINT"},
		{from: tStr, to: tI32, in: []any{"3000000000"}, err: "value 3000000000 out of range for INT"},
		{from: tStr, to: tU64, in: []any{"18446744073709551615"}, want: []any{uint64(math.MaxUint64)}},
		{from: tStr, to: tF64, in: []any{"1.5", " -2e3", "NaN", "inf"}, want: []any{1.5, -2000.0, math.NaN(), math.Inf(1)}},
		{from: tStr, to: tF64, in: []any{"x1"}, err: "cannot cast 'x1' to DOUBLE"},
		{from: tStr, to: tBool, in: []any{"true", "FALSE", "t", "f", "Yes", "no", "1", "0", nil}, want: []any{true, false, true, false, true, false, true, false, nil}},
		{from: tStr, to: tBool, in: []any{"maybe"}, err: "cannot cast 'maybe' to BOOLEAN"},
		{from: tStr, to: tTS, in: []any{"2023-01-02T03:04:05Z", "2023-01-02 03:04:05", "2023-01-02T03:04:05.25", "2023-01-02", "2023-01-02T03:04:05+01:00", "2023-01-02 03:04:05.123456789-0130", "2024-02-29T00:00"},
			want: []any{ts("2023-01-02T03:04:05Z"), ts("2023-01-02T03:04:05Z"), ts("2023-01-02T03:04:05.25Z"), ts("2023-01-02T00:00:00Z"), ts("2023-01-02T02:04:05Z"), ts("2023-01-02T04:34:05.123456789Z"), ts("2024-02-29T00:00:00Z")}},
		{from: tStr, to: tTS, in: []any{"2023-02-29"}, err: "cannot cast '2023-02-29' to TIMESTAMP"},
		{from: tStr, to: tTS, in: []any{"2023-01-02T25:00:00"}, err: "cannot cast"},
		{from: tStr, to: tTS, in: []any{"yesterday"}, err: "cannot cast 'yesterday' to TIMESTAMP"},
		{from: tStr, to: tTS, in: []any{"3000-01-01"}, err: "cannot cast"},
		{from: tStr, to: tJSON, in: []any{`{"a": [1, 2]}`, nil}, want: []any{`{"a": [1, 2]}`, nil}},
		{from: tStr, to: tJSON, in: []any{`{"a":`}, err: `cannot cast '{"a":' to JSON`},
		{from: tStr, to: tByt, in: []any{"hi"}, want: []any{[]byte("hi")}},
		// Integers and timestamps.
		{from: tI64, to: tTS, in: []any{1_000_000_000}, want: []any{1_000_000_000}},
		{from: tI32, to: tTS, in: []any{-5}, want: []any{-5}},
		{from: tTS, to: tI64, in: []any{7}, want: []any{7}},
		{from: tTS, to: tI32, in: []any{ts("2023-01-01T00:00:00Z")}, err: "out of range for INT"},
		{from: tU64, to: tTS, in: []any{uint64(math.MaxUint64)}, err: "out of range for TIMESTAMP"},
		// NULL and identity.
		{from: tNull, to: tStr, in: []any{nil, nil}, want: []any{nil, nil}},
		{from: tNull, to: tTS, in: []any{nil}, want: []any{nil}},
		{from: tStr, to: tStr, in: []any{"x"}, want: []any{"x"}},
	} {
		e := cast(col(0, c.from), c.to)
		in := vec(c.from, c.in...)
		if c.err != "" {
			_, err := evalRows(t, e, in)
			if !errContains(err, c.err) {
				t.Errorf("CAST(%s AS %s) %v: got %v, want %q", c.from, c.to, c.in, err, c.err)
			}
			continue
		}
		got, err := evalRows(t, e, in)
		if err != nil {
			t.Errorf("CAST(%s AS %s) %v: %v", c.from, c.to, c.in, err)
			continue
		}
		if w := normalize(c.to, c.want); !equalValues(got, w) {
			t.Errorf("CAST(%s AS %s) %v: got %v, want %v", c.from, c.to, c.in, got, w)
		}
	}
}

func TestCastShares(t *testing.T) {
	// Casts that keep the physical layout share the input's buffers.
	in := vec(tI64, 1, 2)
	v, err := castVec(nil, in, tTS, 2, nil)
	if err != nil || &v.(*coldata.Vec[int64]).Vals[0] != &in.(*coldata.Vec[int64]).Vals[0] {
		t.Fatalf("BIGINT -> TIMESTAMP copied")
	}
	if v, _ := castVec(nil, in, tI64, 2, nil); v != in {
		t.Fatalf("identity cast copied")
	}
	s := vec(tStr, "a")
	if v, _ := castVec(nil, s, tByt, 1, nil); &v.(*coldata.Bytes).Data[0] != &s.(*coldata.Bytes).Data[0] {
		t.Fatalf("TEXT -> BYTEA copied")
	}
}

func TestCanCast(t *testing.T) {
	ok := [][2]types.Type{
		{tI32, tF64}, {tF64, tU64}, {tBool, tI32}, {tI64, tTS}, {tTS, tI64}, {tI32, tIV},
		{tStr, tTS}, {tTS, tStr}, {tIV, tStr}, {tStr, tJSON}, {tJSON, tStr}, {tStr, tByt}, {tByt, tStr},
		{tNull, tTS}, {tStr, tBool}, {tF32, tStr},
	}
	for _, c := range ok {
		if err := CanCast(c[0], c[1]); err != nil {
			t.Errorf("CanCast(%s, %s): %v", c[0], c[1], err)
		}
	}
	bad := [][2]types.Type{{tBool, tTS}, {tTS, tIV}, {tF64, tTS}, {tJSON, tByt}, {tStr, tIV}, {tStr, types.ListOf(tI64)}}
	for _, c := range bad {
		err := CanCast(c[0], c[1])
		if err == nil || err.Error() != "cannot cast "+c[0].String()+" to "+c[1].String() {
			t.Errorf("CanCast(%s, %s): %v", c[0], c[1], err)
		}
	}
}

func TestCommonType(t *testing.T) {
	for _, c := range []struct {
		a, b, want types.Type
		err        string
	}{
		{a: tI64, b: tI64, want: tI64},
		{a: tNull, b: tStr, want: tStr},
		{a: tTS, b: tNull, want: tTS},
		{a: tI32, b: tI64, want: tI64},
		{a: tU32, b: tU64, want: tU64},
		{a: tU32, b: tI32, want: tI64},
		{a: tU64, b: tI32, want: tI64},
		{a: tI64, b: tU64, want: tI64},
		{a: tI32, b: tF32, want: tF64},
		{a: tU64, b: tF64, want: tF64},
		{a: tF32, b: tF64, want: tF64},
		{a: tStr, b: tTS, want: tTS},
		{a: tTS, b: tStr, want: tTS},
		{a: tStr, b: tI64, err: "cannot combine TEXT and BIGINT"},
		{a: tBool, b: tI64, err: "cannot combine BOOLEAN and BIGINT"},
		{a: tTS, b: tIV, err: "cannot combine TIMESTAMP and INTERVAL"},
		{a: types.ListOf(tI64), b: types.ListOf(tI32), err: "cannot combine BIGINT[] and INT[]"},
	} {
		got, err := CommonType(c.a, c.b)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("CommonType(%s, %s): got %v, want %q", c.a, c.b, err, c.err)
			}
			continue
		}
		if err != nil || !got.Equal(c.want) {
			t.Errorf("CommonType(%s, %s) = %s, %v; want %s", c.a, c.b, got, err, c.want)
		}
	}
}
