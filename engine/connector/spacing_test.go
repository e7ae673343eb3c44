package connector

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
)

func TestSpacing(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		n    int64
		off  int64
		ok   bool
	}{
		{1000, 3, 3_000_000, true},
		{1000, math.MaxInt64 / 1_000_000, math.MaxInt64 / 1_000_000 * 1_000_000, true},
		{1000, math.MaxInt64/1_000_000 + 1, 0, false}, // whole interval, n*d overflows
		{3, 1, 333_333_333, true},
		{MinEventRate, 9, 9e18, true},
		{MinEventRate, 10, 0, false},        // 1e19 ns: wrapped negative before
		{1e-10, 1, 0, false},                // the interval itself does not fit
		{5e-324, 1, 0, false},               // 1e9/rate is +Inf
		{2e9, math.MaxInt64, 1 << 62, true}, // float64(MaxInt64) rounds up to 2^63
	} {
		s := NewSpacing(tc.rate)
		off, ok := s.Offset(tc.n)
		if ok != tc.ok || (ok && off != tc.off) {
			t.Errorf("rate %v: Offset(%d) = %d, %v; want %d, %v", tc.rate, tc.n, off, ok, tc.off, tc.ok)
		}
		if ok && s.At(tc.n) != off {
			t.Errorf("rate %v: At(%d) = %d, Offset %d", tc.rate, tc.n, s.At(tc.n), off)
		}
		if due := s.Due(tc.n); (ok && due != time.Duration(off)) || (!ok && due != math.MaxInt64) {
			t.Errorf("rate %v: Due(%d) = %v; want the offset or, on overflow, the largest duration", tc.rate, tc.n, due)
		}
	}
}

func TestSpacingFirst(t *testing.T) {
	for _, tc := range []struct {
		rate  float64
		limit int64
		want  int64
	}{
		{1000, 0, 1},
		{1000, 2_999_999, 3},
		{1000, 3_000_000, 4},
		{1000, -1, 0},
		{1000, math.MaxInt64, math.MaxInt64/1_000_000 + 1},
		{3, 1_000_000_000, 4}, // 3.0, 3.33..: event 3 is at 999999999 ns
		{MinEventRate, math.MaxInt64, 10},
		{2e9, math.MaxInt64, -1}, // every int64 event fits
	} {
		s := NewSpacing(tc.rate)
		got := s.First(tc.limit)
		if got != tc.want {
			t.Errorf("rate %v: First(%d) = %d, want %d", tc.rate, tc.limit, got, tc.want)
		}
		// Definition: the first event past the limit.
		if got > 0 {
			if off, ok := s.Offset(got - 1); !ok || off > tc.limit {
				t.Errorf("rate %v: event %d before First is past %d", tc.rate, got-1, tc.limit)
			}
		}
	}
}

// A tiny rate paces events far apart instead of emitting them all at
// once (1e9/rate used to overflow to a negative due time).
func TestRunGeneratorTinyRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewSpacing(MinEventRate)
		g := testGenerator(MinEventRate, -1)
		g.Due = s.Due
		ctx, cancel := context.WithTimeout(t.Context(), 24*time.Hour)
		defer cancel()
		src := &fakeSource{ctx: ctx, par: 1}
		err := RunGenerator(src, g)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("RunGenerator = %v, want the deadline", err)
		}
		// Event 0 is due at once; event 1 is 31.7 years away.
		if len(src.batches) != 1 || src.batches[0].Rows() != 1 {
			t.Fatalf("emitted %d batches in a day, want one of one row", len(src.batches))
		}
	})
}

func TestRunGeneratorLimit(t *testing.T) {
	boom := errors.New("gen: event 10 would wrap")
	for _, tc := range []struct {
		total int64
		par   int
		err   error
	}{
		{-1, 1, boom}, // unbounded: stops at the limit
		{-1, 3, boom},
		{20, 3, boom}, // bounded past the limit
		{10, 3, nil},  // bounded at the limit: finishes
		{7, 2, nil},
	} {
		synctest.Test(t, func(t *testing.T) {
			g := testGenerator(1e6, tc.total)
			g.Limit, g.LimitErr = 10, boom
			want := min(tc.total, 10)
			if tc.total < 0 {
				want = 10
			}
			var evs []int64
			for s := range tc.par {
				src := &fakeSource{ctx: t.Context(), sub: s, par: tc.par}
				if err := RunGenerator(src, g); err != tc.err {
					t.Fatalf("total %d p %d subtask %d: %v, want %v", tc.total, tc.par, s, err, tc.err)
				}
				for _, b := range src.batches {
					evs = append(evs, b.Cols[0].(*coldata.Vec[int64]).Vals...)
				}
			}
			slices.Sort(evs)
			if int64(len(evs)) != want || (want > 0 && evs[len(evs)-1] != want-1) {
				t.Fatalf("total %d p %d: events %v, want 0..%d", tc.total, tc.par, evs, want-1)
			}
		})
	}
}
