package connector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

func TestGeneratorBatchRows(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		par  int
		want int
	}{
		{0, 1, 1},    // never below one row
		{-5, 1, 1},   // nor for a nonsense rate
		{5, 1, 1},    // 0.5 rows per 100ms is clamped to 1
		{10, 1, 1},   // exactly one row per 100ms
		{30, 1, 3},   // 3.0000000000000004 truncates to 3
		{100, 1, 10}, // 100ms of events
		{100, 3, 3},  // 3.33 rows per subtask truncate to 3
		{1000, 4, 25},
		{40960, 1, 4096},
		{40970, 1, MaxGeneratorBatch},
		{1e9, 1, MaxGeneratorBatch},
		{1e9, 64, MaxGeneratorBatch},
	} {
		if got := GeneratorBatchRows(tc.rate, tc.par); got != tc.want {
			t.Errorf("GeneratorBatchRows(%v, %d) = %d, want %d", tc.rate, tc.par, got, tc.want)
		}
	}
}

// fakeSource is a SourceContext that records every batch and when it was
// emitted.
type fakeSource struct {
	ctx      context.Context
	sub, par int
	emitErr  error
	// limit, if set, is the most rows Emit accepts, so that a generator
	// that overruns (or loops on empty batches) fails instead of hanging.
	limit int

	mu      sync.Mutex
	batches []*coldata.Batch
	times   []time.Time
}

func (f *fakeSource) Context() context.Context { return f.ctx }
func (f *fakeSource) Subtask() int             { return f.sub }
func (f *fakeSource) Parallelism() int         { return f.par }
func (f *fakeSource) Counter(string, int64)    {}
func (f *fakeSource) Emit(b *coldata.Batch) error {
	if f.emitErr != nil {
		return f.emitErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rows := b.Rows()
	for _, prev := range f.batches {
		rows += prev.Rows()
	}
	if b.Rows() == 0 || (f.limit > 0 && rows > f.limit) {
		return fmt.Errorf("fakeSource: batch of %d rows makes %d, limit %d", b.Rows(), rows, f.limit)
	}
	f.batches = append(f.batches, b)
	f.times = append(f.times, time.Now())
	return nil
}

// testGenerator numbers events: its batches have one BIGINT column of event
// numbers (plus _timestamp), built from Batch's arguments alone, so a wrong
// first/stride/rows shows up as wrong events. Event n is due n/rate seconds
// after the start.
func testGenerator(rate float64, total int64) Generator {
	return Generator{
		Name:  "gen",
		Rate:  rate,
		Total: total,
		Due:   func(n int64) time.Duration { return time.Duration(float64(n) / rate * float64(time.Second)) },
		Batch: func(first, stride int64, rows int, subtask int64) *coldata.Batch {
			ev := coldata.New(types.Int64T, rows).(*coldata.Vec[int64])
			ts := coldata.New(types.TimestampT, rows).(*coldata.Vec[int64])
			for i := range int64(rows) {
				ev.Append(first + i*stride)
				ts.Append(0)
			}
			return coldata.NewBatch([]coldata.Vector{ev, ts}, rows)
		},
	}
}

func TestRunGenerator(t *testing.T) {
	for _, tc := range []struct {
		rate  float64
		total int64
		par   int
	}{
		{100, 47, 1},
		{100, 47, 3},
		{1, 5, 1},        // one row per batch, one batch per second
		{1e6, 10_000, 1}, // batches capped at MaxGeneratorBatch
		{1e6, 10_000, 3},
		{100, 2, 3}, // fewer events than subtasks: subtask 2 emits nothing
		{100, 0, 3}, // nothing to do
		{50, 30, 3}, // total divisible by parallelism
	} {
		t.Run(fmt.Sprintf("rate%v/total%d/p%d", tc.rate, tc.total, tc.par), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := testGenerator(tc.rate, tc.total)
				maxRows := GeneratorBatchRows(tc.rate, tc.par)
				start := time.Now()
				srcs := make([]*fakeSource, tc.par)
				errs := make([]error, tc.par)
				var wg sync.WaitGroup
				for s := range tc.par {
					srcs[s] = &fakeSource{ctx: t.Context(), sub: s, par: tc.par, limit: int(tc.total)}
					wg.Go(func() { errs[s] = RunGenerator(srcs[s], g) })
				}
				wg.Wait()

				seen := make([]int, tc.total)
				for s, src := range srcs {
					if errs[s] != nil {
						t.Fatalf("subtask %d: %v", s, errs[s])
					}
					for bi, b := range src.batches {
						if b.Rows() == 0 || b.Rows() > maxRows {
							t.Fatalf("subtask %d batch %d has %d rows; want 1..%d", s, bi, b.Rows(), maxRows)
						}
						evs := b.Cols[0].(*coldata.Vec[int64]).Vals
						for _, n := range evs {
							if n < 0 || n >= tc.total || n%int64(tc.par) != int64(s) {
								t.Fatalf("subtask %d emitted event %d", s, n)
							}
							seen[n]++
						}
						// A batch goes out when its last event is due, not
						// before, and (with a fake clock) not later either.
						last := evs[len(evs)-1]
						if want := start.Add(max(0, g.Due(last))); !src.times[bi].Equal(want) {
							t.Fatalf("subtask %d batch %d (last event %d) emitted at +%v, want +%v", s, bi, last, src.times[bi].Sub(start), want.Sub(start))
						}
						if bi > 0 && evs[0] != src.batches[bi-1].Cols[0].(*coldata.Vec[int64]).Vals[src.batches[bi-1].Len-1]+int64(tc.par) {
							t.Fatalf("subtask %d batch %d does not continue the previous batch", s, bi)
						}
					}
				}
				for n, c := range seen {
					if c != 1 {
						t.Fatalf("event %d emitted %d times", n, c)
					}
				}
				// The run takes as long as the last event's due time.
				if tc.total > 0 {
					if got, want := time.Since(start), max(0, g.Due(tc.total-1)); got != want {
						t.Fatalf("run took %v, want %v", got, want)
					}
				}
			})
		})
	}
}

func TestRunGeneratorCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		src := &fakeSource{ctx: ctx, par: 1}
		start := time.Now()
		var err error
		var took time.Duration
		done := make(chan struct{})
		go func() {
			defer close(done)
			// Unbounded, one event per second, one row per batch.
			err = RunGenerator(src, testGenerator(1, -1))
			took = time.Since(start)
		}()
		time.Sleep(2500 * time.Millisecond)
		cancel()
		<-done
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("RunGenerator returned %v, want context.Canceled", err)
		}
		if took != 2500*time.Millisecond {
			t.Fatalf("returned %v after start, want 2.5s (promptly on cancel)", took)
		}
		var evs []int64
		for _, b := range src.batches {
			evs = append(evs, b.Cols[0].(*coldata.Vec[int64]).Vals...)
		}
		if !slices.Equal(evs, []int64{0, 1, 2}) {
			t.Fatalf("events before the cancel: %v, want [0 1 2]", evs)
		}
	})
}

func TestRunGeneratorDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := RunGenerator(&fakeSource{ctx: ctx, par: 1}, testGenerator(1, -1))
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 1500*time.Millisecond {
			t.Fatalf("RunGenerator = %v after %v; want DeadlineExceeded after 1.5s", err, time.Since(start))
		}
	})
}

func TestRunGeneratorCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	src := &fakeSource{ctx: ctx, par: 1}
	// Every event is due at once: the generator must still not emit.
	g := testGenerator(1e6, -1)
	g.Due = func(int64) time.Duration { return 0 }
	if err := RunGenerator(src, g); !errors.Is(err, context.Canceled) {
		t.Fatalf("RunGenerator = %v, want context.Canceled", err)
	}
	if len(src.batches) != 0 {
		t.Fatalf("emitted %d batches after cancellation", len(src.batches))
	}
}

func TestRunGeneratorErrors(t *testing.T) {
	for _, tc := range []struct {
		sub, par int
		err      string
	}{
		{0, 0, "gen: bad subtask 0 of 0"},
		{3, 3, "gen: bad subtask 3 of 3"},
		{-1, 2, "gen: bad subtask -1 of 2"},
	} {
		err := RunGenerator(&fakeSource{ctx: t.Context(), sub: tc.sub, par: tc.par}, testGenerator(10, 5))
		if err == nil || err.Error() != tc.err {
			t.Errorf("subtask %d of %d: %v, want %q", tc.sub, tc.par, err, tc.err)
		}
	}
	boom := errors.New("downstream closed")
	err := RunGenerator(&fakeSource{ctx: t.Context(), par: 1, emitErr: boom}, testGenerator(1e6, 5))
	if !errors.Is(err, boom) || err.Error() != "gen: emit: downstream closed" {
		t.Fatalf("emit failure returned %v", err)
	}
}

func TestPacer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		p := NewPacer(t.Context())
		defer p.Stop()
		for _, step := range []struct {
			until, after time.Duration // deadline, and the clock when Until returns
		}{
			{-time.Second, 0}, // past: at once
			{0, 0},            // now: at once
			{time.Second, time.Second},
			{3 * time.Second, 3 * time.Second}, // the timer is reused
			{2 * time.Second, 3 * time.Second}, // already past
			{3500 * time.Millisecond, 3500 * time.Millisecond},
		} {
			if err := p.Until(start.Add(step.until)); err != nil {
				t.Fatalf("Until(+%v): %v", step.until, err)
			}
			if got := time.Since(start); got != step.after {
				t.Fatalf("Until(+%v) returned at +%v, want +%v", step.until, got, step.after)
			}
		}
	})
}

func TestPacerCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		p := NewPacer(ctx)
		defer p.Stop()
		start := time.Now()
		go func() {
			time.Sleep(time.Second)
			cancel()
		}()
		if err := p.Until(start.Add(time.Hour)); !errors.Is(err, context.Canceled) {
			t.Fatalf("Until = %v, want context.Canceled", err)
		}
		if got := time.Since(start); got != time.Second {
			t.Fatalf("Until returned at +%v, want +1s (promptly on cancel)", got)
		}
		// Once cancelled, every call fails at once, past deadlines included.
		for _, d := range []time.Duration{time.Hour, 0, -time.Hour} {
			if err := p.Until(time.Now().Add(d)); !errors.Is(err, context.Canceled) {
				t.Fatalf("Until(+%v) after cancel = %v", d, err)
			}
		}
		if got := time.Since(start); got != time.Second {
			t.Fatalf("calls after cancel took until +%v", got)
		}
	})
}
