package jsonfmt

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/timefmt"
	"github.com/arroyogo/arroyo/engine/types"
)

// TestKeyMatchingWords drives the word-at-a-time key matching (keyWord)
// with names around the 8-byte boundary and keys that are their prefixes,
// extensions and near misses, in random orders and spacings, one decoder
// for all records (so the shape cache sees ever different layouts), the
// last keys close to the end of the record. The oracle is a map of the
// last value of each exact name.
func TestKeyMatchingWords(t *testing.T) {
	names := []string{"a", "abcdef", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghijklmnopq"}
	var fs []types.Field
	for _, n := range names {
		fs = append(fs, field(n, types.Int64T))
	}
	keys := append([]string{}, names...)
	for _, n := range names {
		keys = append(keys, n[:len(n)-1]+"x", n+"b", "b"+n[1:])
		if len(n) > 1 {
			keys = append(keys, n[:len(n)-1])
		}
	}
	d := newDecoder(t, nil, fs...)
	r := rand.New(rand.NewPCG(7, 8))
	var want [][]any
	for rec := range 3000 {
		last := map[string]int64{}
		var b strings.Builder
		b.WriteByte('{')
		for k := range r.IntN(9) {
			if k > 0 {
				b.WriteString([]string{",", " , ", ",\n"}[r.IntN(3)])
			}
			key := keys[r.IntN(len(keys))]
			v := int64(rec*100 + k)
			b.WriteString(`"` + key + `"` + []string{":", " : "}[r.IntN(2)] + strconv.FormatInt(v, 10))
			last[key] = v
		}
		b.WriteString([]string{"}", " }"}[r.IntN(2)])
		if err := d.Decode([]byte(b.String())); err != nil {
			t.Fatalf("record %q: %v", b.String(), err)
		}
		row := make([]any, len(names))
		for i, n := range names {
			if v, ok := last[n]; ok {
				row[i] = v
			}
		}
		want = append(want, row)
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

// TestBigintFastPath covers the boundaries of integer's BIGINT fast path
// (1-17 digits ended by a delimiter) and what must leave it.
func TestBigintFastPath(t *testing.T) {
	cases := []struct {
		rec  string
		want any // int64, or nil for an error
	}{
		{`{"v":7}`, int64(7)},
		{`{"v":12345678901234567}`, int64(12345678901234567)},
		{`{"v":123456789012345678}`, int64(123456789012345678)},
		{`{"v":9223372036854775807}`, int64(9223372036854775807)},
		{`{"v":9223372036854775808}`, nil},
		{`{"v":99999999999999999999}`, nil},
		{`{"v":-5}`, int64(-5)},
		{`{"v":0}`, int64(0)},
		{`{"v":01}`, nil},
		{`{"v":1.5}`, nil},
		{`{"v":15e2}`, nil},
		{`{"v":15E2}`, nil},
		{`{"v":12 }`, int64(12)},
		{`{"v":12a}`, nil},
		{`{"v":12,"w":3}`, int64(12)},
	}
	for _, c := range cases {
		d := newDecoder(t, nil, field("v", types.Int64T))
		err := d.Decode([]byte(c.rec))
		if c.want == nil {
			if err == nil {
				t.Errorf("%s: decoded, want an error", c.rec)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.rec, err)
			continue
		}
		if got := rowsOf(d.Flush())[0][0]; got != c.want {
			t.Errorf("%s: got %v, want %v", c.rec, got, c.want)
		}
	}
}

// TestTimestampCache checks the encoder's minute cache against
// timefmt.AppendRFC3339: runs of nearby timestamps (cache hits, minute and
// day changes), random ones over the whole range, negative ones and both
// ends of the range.
func TestTimestampCache(t *testing.T) {
	var c tsCache
	r := rand.New(rand.NewPCG(9, 10))
	check := func(ns int64) {
		t.Helper()
		got := string(c.appendRFC3339(nil, ns))
		if want := string(timefmt.AppendRFC3339(nil, ns)); got != want {
			t.Fatalf("%d: got %s, want %s", ns, got, want)
		}
	}
	for _, ns := range []int64{0, -1, 1, math.MinInt64, math.MinInt64 + 1, math.MaxInt64, math.MaxInt64 - 1,
		-60_000_000_000, -59_999_999_999, 59_999_999_999, 60_000_000_000, 1_700_000_000_123_000_000} {
		check(ns)
	}
	ns := int64(1_699_999_990_000_000_000)
	for range 100_000 {
		ns += r.Int64N(3_000_000_000) // up to 3 s: many hits, some misses
		check(ns)
	}
	ns = -86_400_000_000_000
	for range 10_000 {
		ns += r.Int64N(20_000_000_000)
		check(ns)
	}
	for range 100_000 {
		check(int64(r.Uint64()))
	}
}
