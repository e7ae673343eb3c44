package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
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

func (f *fakeSource) Counter(string, int64) {}

// RunGenerator polls the source of g owning split sub/par (of f) as the
// runtime would, with 100ms deadlines, until it ends or f.ctx is done.
func RunGenerator(f *fakeSource, g Generator) error {
	src, err := NewGeneratorSource(g, []SplitState{{Split: fmt.Sprintf("%d/%d", f.sub, f.par)}})
	if err != nil {
		return err
	}
	defer src.Close()
	for {
		if err := f.ctx.Err(); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(f.ctx, 100*time.Millisecond)
		err := src.Poll(ctx, f)
		cancel()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
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
		{0, 0, `gen: bad split "0/0": want residue/modulus such as "0/4"`},
		{3, 3, `gen: bad split "3/3": want residue/modulus such as "0/4"`},
		{-1, 2, `gen: bad split "-1/2": want residue/modulus such as "0/4"`},
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

// TestGeneratorRestoreElsewhere snapshots a generator started at P=3 after
// a few polls, restores the split states at P=2 and P=5, and checks that
// before + after is every event exactly once.
func TestGeneratorRestoreElsewhere(t *testing.T) {
	const total = 5000
	for _, p2 := range []int{1, 2, 5} {
		t.Run(fmt.Sprint(p2), func(t *testing.T) {
			g := testGenerator(1e12, total)
			seen := make([]int, total)
			record := func(f *fakeSource) {
				for _, b := range f.batches {
					for _, n := range b.Cols[0].(*coldata.Vec[int64]).Vals {
						seen[n]++
					}
				}
			}
			var states []SplitState
			for k, own := range AssignSplits(func() []SplitState {
				var out []SplitState
				for _, n := range GeneratorSplits(3) {
					out = append(out, SplitState{Split: n})
				}
				return out
			}(), 3) {
				src, err := NewGeneratorSource(g, own)
				if err != nil {
					t.Fatal(err)
				}
				f := &fakeSource{ctx: t.Context()}
				src.splits[0].rows = int64(100 + 37*k) // a few batches, uneven
				ctx, cancel := context.WithCancel(t.Context())
				lim := &limitOut{f: f, n: 3 + k, cancel: cancel}
				if err := src.Poll(ctx, lim); err != nil {
					t.Fatal(err)
				}
				cancel()
				record(f)
				ss, _ := src.Snapshot(1)
				states = append(states, ss...)
			}
			for _, own := range AssignSplits(states, p2) {
				src, err := NewGeneratorSource(g, own)
				if err != nil {
					t.Fatal(err)
				}
				f := &fakeSource{ctx: t.Context()}
				for {
					err := src.Poll(t.Context(), f)
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				record(f)
			}
			for n, c := range seen {
				if c != 1 {
					t.Fatalf("event %d emitted %d times", n, c)
				}
			}
		})
	}
}

// limitOut accepts n batches, then cancels the poll.
type limitOut struct {
	f      *fakeSource
	n      int
	cancel context.CancelFunc
}

func (l *limitOut) Counter(string, int64) {}
func (l *limitOut) Emit(b *coldata.Batch) error {
	if err := l.f.Emit(b); err != nil {
		return err
	}
	if l.n--; l.n == 0 {
		l.cancel()
	}
	return nil
}

// splitOut records what a source does through connector.SplitOutput.
type splitOut struct {
	declared int
	emits    []string // "split first-event"
	done     []int
}

func (o *splitOut) Emit(*coldata.Batch) error { return fmt.Errorf("Emit without a split") }
func (o *splitOut) Counter(string, int64)     {}
func (o *splitOut) DeclareSplits(n int)       { o.declared = n }
func (o *splitOut) SplitDone(i int)           { o.done = append(o.done, i) }
func (o *splitOut) EmitSplit(i int, b *coldata.Batch) error {
	o.emits = append(o.emits, fmt.Sprintf("%d %d", i, b.Cols[0].(*coldata.Vec[int64]).Vals[0]))
	return nil
}

// TestGeneratorEmitsPerSplit: a generator source reading several splits
// declares them, emits each batch under its split and says when each is
// exhausted (a split restored already finished at once), so the runtime's
// watermark can wait for the split that is behind.
func TestGeneratorEmitsPerSplit(t *testing.T) {
	g := testGenerator(1e12, 10)
	src, err := NewGeneratorSource(g, []SplitState{{Split: "0/2", State: []byte("10")}, {Split: "1/2", State: []byte("5")}})
	if err != nil {
		t.Fatal(err)
	}
	out := &splitOut{}
	if err := src.Poll(context.Background(), out); !errors.Is(err, io.EOF) {
		t.Fatalf("Poll: %v, want EOF", err)
	}
	if out.declared != 2 {
		t.Errorf("declared %d splits, want 2", out.declared)
	}
	if want := []int{0, 1}; !slices.Equal(out.done, want) {
		t.Errorf("done %v, want %v (split 0 restored at its end)", out.done, want)
	}
	if len(out.emits) == 0 || out.emits[0] != "1 5" {
		t.Errorf("emits %v, want split 1 from event 5", out.emits)
	}
}
