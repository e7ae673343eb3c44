package impulse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
)

// collector is a SourceContext that keeps every batch and when it was
// emitted.
type collector struct {
	ctx      context.Context
	sub, par int
	// limit, if set, is the most rows Emit accepts, so that a source that
	// ignores its pacing fails a test instead of hanging it.
	limit int

	mu      sync.Mutex
	emitted int
	batches []*coldata.Batch
	times   []time.Time
}

func (c *collector) Counter(string, int64) {}

// runSub runs subtask c.sub of c.par of src as the runtime would: the
// source owning residue class sub/par, polled until it ends.
func runSub(src *Source, c *collector) error {
	gs, err := src.Splits([]connector.SplitState{{Split: fmt.Sprintf("%d/%d", c.sub, c.par)}})
	if err != nil {
		return err
	}
	defer gs.Close()
	return connector.Drain(c.ctx, gs, c)
}

func mustSplits(tb testing.TB, src *Source, split string) *connector.GeneratorSource {
	gs, err := src.Splits([]connector.SplitState{{Split: split}})
	if err != nil {
		tb.Fatal(err)
	}
	return gs
}
func (c *collector) Emit(b *coldata.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.limit > 0 && c.emitted+b.Rows() > c.limit {
		return errors.New("collector: more rows than expected")
	}
	c.emitted += b.Rows()
	c.batches = append(c.batches, b)
	c.times = append(c.times, time.Now())
	return nil
}

// row is one decoded row.
type row struct {
	ts, hidden    int64
	counter, sub  uint64
	emitted       time.Time
	batch, offset int
}

func (c *collector) rows(t *testing.T) []row {
	t.Helper()
	var out []row
	for bi, b := range c.batches {
		if len(b.Cols) != 4 || b.Sel != nil {
			t.Fatalf("batch has %d columns, sel %v", len(b.Cols), b.Sel)
		}
		for i, f := range Schema().Fields {
			if !b.Cols[i].Type().Equal(f.Type) {
				t.Fatalf("column %s has type %v, want %v", f.Name, b.Cols[i].Type(), f.Type)
			}
		}
		for ci, col := range b.Cols {
			if col.Len() != b.Len || col.Nulls().Any() {
				t.Fatalf("column %d: %d rows of %d, nulls %v", ci, col.Len(), b.Len, col.Nulls().Any())
			}
		}
		ts := b.Cols[0].(*coldata.Vec[int64]).Vals
		counter := b.Cols[1].(*coldata.Vec[uint64]).Vals
		sub := b.Cols[2].(*coldata.Vec[uint64]).Vals
		hidden := b.Cols[3].(*coldata.Vec[int64]).Vals
		for i := range b.Len {
			out = append(out, row{ts: ts[i], hidden: hidden[i], counter: counter[i], sub: sub[i], emitted: c.times[bi], batch: bi, offset: i})
		}
	}
	return out
}

func validated(t *testing.T, given map[string]string) connector.Options {
	t.Helper()
	c, ok := connector.Lookup("impulse")
	if !ok {
		t.Fatal("impulse is not registered")
	}
	opts, err := connector.Validate(c.Name, c.Options, given)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Schema(opts); err != nil {
		t.Fatal(err)
	}
	return opts
}

// start starts a source with parallelism p, one Source per subtask as the
// runtime does; wait returns each subtask's error once all have ended.
func start(t *testing.T, ctx context.Context, given map[string]string, p int) (cs []*collector, wait func() []error) {
	t.Helper()
	opts := validated(t, given)
	cs = make([]*collector, p)
	errs := make([]error, p)
	var wg sync.WaitGroup
	for i := range p {
		src, err := NewSource(opts)
		if err != nil {
			t.Fatal(err)
		}
		cs[i] = &collector{ctx: ctx, sub: i, par: p, limit: 1_000_000}
		wg.Go(func() { errs[i] = runSub(src, cs[i]) })
	}
	return cs, func() []error { wg.Wait(); return errs }
}

func runOK(t *testing.T, given map[string]string, p int) []*collector {
	t.Helper()
	cs, wait := start(t, t.Context(), given, p)
	for _, err := range wait() {
		if err != nil {
			t.Fatal(err)
		}
	}
	return cs
}

func TestSchema(t *testing.T) {
	c, ok := connector.Lookup("impulse")
	if !ok {
		t.Fatal("impulse is not registered")
	}
	if c.NewSink != nil || c.NewSource == nil || c.NeedsFormat {
		t.Fatal("impulse must be a source only, without format")
	}
	s, err := c.Schema(validated(t, map[string]string{"event_rate": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.String(), "(timestamp TIMESTAMP, counter BIGINT UNSIGNED, subtask_index BIGINT UNSIGNED)"; got != want {
		t.Fatalf("schema %s, want %s", got, want)
	}
	for _, f := range s.Fields {
		if f.Nullable {
			t.Errorf("%s must not be nullable", f.Name)
		}
	}
}

func TestOptionValidation(t *testing.T) {
	c, _ := connector.Lookup("impulse")
	for _, tc := range []struct {
		name   string
		given  map[string]string
		option string // the option the error must name; "" = valid
	}{
		{"valid", map[string]string{"event_rate": "10", "message_count": "5", "event_time_interval": "1s"}, ""},
		{"interval in seconds", map[string]string{"event_rate": "0.5", "event_time_interval": "0.25"}, ""},
		{"missing event_rate", map[string]string{"message_count": "10"}, "event_rate"},
		{"negative event_rate", map[string]string{"event_rate": "-5"}, "event_rate"},
		{"zero event_rate", map[string]string{"event_rate": "0"}, "event_rate"},
		{"non-numeric event_rate", map[string]string{"event_rate": "lots"}, "event_rate"},
		{"infinite event_rate", map[string]string{"event_rate": "Inf"}, "event_rate"},
		{"negative message_count", map[string]string{"event_rate": "1", "message_count": "-1"}, "message_count"},
		{"non-integer message_count", map[string]string{"event_rate": "1", "message_count": "ten"}, "message_count"},
		{"bad interval", map[string]string{"event_rate": "1", "event_time_interval": "often"}, "event_time_interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := connector.Validate(c.Name, c.Options, tc.given)
			if err == nil {
				_, err = c.Schema(opts)
				if err == nil {
					_, err = NewSource(opts)
				}
			}
			if tc.option == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var oe *connector.OptionError
			if !errors.As(err, &oe) {
				t.Fatalf("got %v, want an OptionError", err)
			}
			if oe.Option != tc.option {
				t.Fatalf("error names option %q, want %q: %v", oe.Option, tc.option, err)
			}
		})
	}
}

func TestCountersAcrossParallelism(t *testing.T) {
	for _, tc := range []struct {
		count string
		p     int
		want  int
	}{
		{"10", 1, 10},
		{"10", 3, 10},
		{"2", 4, 2},
		{"0", 2, 0},
		{"10000", 3, 10000},
	} {
		cs := runOK(t, map[string]string{"event_rate": "1e9", "message_count": tc.count}, tc.p)
		var all []uint64
		for _, c := range cs {
			prev := -1
			for _, r := range c.rows(t) {
				if r.sub != uint64(c.sub) {
					t.Fatalf("subtask %d emitted subtask_index %d", c.sub, r.sub)
				}
				if int(r.counter)%tc.p != c.sub || int(r.counter) <= prev {
					t.Fatalf("subtask %d of %d emitted counter %d after %d", c.sub, tc.p, r.counter, prev)
				}
				if r.ts != r.hidden {
					t.Fatalf("_timestamp %d != timestamp %d", r.hidden, r.ts)
				}
				prev = int(r.counter)
				all = append(all, r.counter)
			}
		}
		slices.Sort(all)
		if len(all) != tc.want {
			t.Fatalf("message_count %s at parallelism %d: %d rows", tc.count, tc.p, len(all))
		}
		for i, v := range all {
			if v != uint64(i) {
				t.Fatalf("message_count %s at parallelism %d: counters are not 0..%d (%d at %d)", tc.count, tc.p, tc.want-1, v, i)
			}
		}
	}
}

func TestEventTimeInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(2500 * time.Millisecond)
		start := time.Now().Truncate(time.Second).UnixNano()
		cs := runOK(t, map[string]string{"event_rate": "1e9", "message_count": "9000", "event_time_interval": "0.5"}, 2)
		n := 0
		for _, c := range cs {
			for _, r := range c.rows(t) {
				if want := start + int64(r.counter)*int64(500*time.Millisecond); r.ts != want || r.hidden != want {
					t.Fatalf("counter %d: timestamp %d, _timestamp %d, want %d", r.counter, r.ts, r.hidden, want)
				}
				n++
			}
		}
		if n != 9000 {
			t.Fatalf("%d rows", n)
		}
	})
}

// TestPacing runs in a synctest bubble, whose fake clock makes the timing
// exact.
func TestPacing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		cs := runOK(t, map[string]string{"event_rate": "100", "message_count": "1000"}, 2)
		for _, c := range cs {
			rs := c.rows(t)
			if len(rs) != 500 || len(c.batches) != 100 {
				t.Fatalf("subtask %d: %d rows in %d batches, want 500 in 100 (5 rows = 100ms at 50/s)", c.sub, len(rs), len(c.batches))
			}
			for _, r := range rs {
				// Counter c is due c*10ms after the start; its
				// batch is emitted when its last counter is due,
				// and the wall-clock timestamp is that moment.
				due := start.Add(time.Duration(r.counter) * 10 * time.Millisecond)
				if r.emitted.Before(due) {
					t.Fatalf("counter %d emitted at %v, before it is due at %v", r.counter, r.emitted.Sub(start), due.Sub(start))
				}
				if r.emitted.Sub(due) >= 100*time.Millisecond {
					t.Fatalf("counter %d emitted at %v, more than 100ms after it was due at %v", r.counter, r.emitted.Sub(start), due.Sub(start))
				}
				if r.ts != r.emitted.UnixNano() {
					t.Fatalf("counter %d: timestamp %v, emitted at %v", r.counter, time.Unix(0, r.ts), r.emitted)
				}
			}
		}
		if d := time.Since(start); d != 9990*time.Millisecond {
			t.Fatalf("1000 messages at 100/s took %v, want 9.99s", d)
		}
	})
}

func TestCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cs, wait := start(t, ctx, map[string]string{"event_rate": "20"}, 2)
		// Cancel between two due times, so no timer races the cancel.
		time.Sleep(3*time.Second + 25*time.Millisecond)
		cancel()
		for i, err := range wait() {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("subtask %d returned %v, want context.Canceled", i, err)
			}
		}
		// Counters 0..60 are due by 3.025s (one every 50ms), split
		// between the subtasks; each batch holds one counter at 10/s per
		// subtask.
		n := 0
		for _, c := range cs {
			n += len(c.rows(t))
		}
		if n != 61 {
			t.Fatalf("%d rows before cancellation, want 61", n)
		}
	})
}

// TestCancelIsPrompt checks that a throttled source does not finish its
// sleep after cancellation.
func TestCancelIsPrompt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		src, err := NewSource(validated(t, map[string]string{"event_rate": "0.01"}))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- runSub(src, &collector{ctx: ctx, par: 1, limit: 1000}) }()
		time.Sleep(time.Second) // the second message is due at 100s
		cancel()
		start := time.Now()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v", err)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("Run returned %v after cancellation", d)
		}
	})
}

func TestBatchRows(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		p    int
		want int
	}{
		{1e9, 1, 4096},
		{10, 1, 1},
		{100, 2, 5},
		{1e5, 4, 2500},
	} {
		if got := connector.GeneratorBatchRows(tc.rate, tc.p); got != tc.want {
			t.Errorf("GeneratorBatchRows(%v, %d) = %d, want %d", tc.rate, tc.p, got, tc.want)
		}
	}
}

// Timestamps past the int64 nanosecond range used to wrap around to the
// 1700s. With message_count the overflow is known when the table is
// created; the bubble's clock starts at 2000-01-01, so its start is known.
func TestIntervalOverflowAtPlanning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := connector.Lookup("impulse")
		for _, tc := range []struct {
			count, interval, err string
		}{
			// 2000-01-01 + 8e18 ns is 2253; + 9e18 ns is past 2262.
			{"9", "1000000000s", ""},
			{"10", "1000000000s", "impulse: invalid value '1000000000s' for option 'event_time_interval': counter 9 (of message_count 10) would have a timestamp after 2262-04-11T23:47:16.854775807Z, the latest a TIMESTAMP holds (int64 nanoseconds); at most 9 messages fit at this interval"},
			{"2", "2562047h", "counter 1 (of message_count 2)"},
			{"1", "2562047h", ""},
		} {
			opts, err := connector.Validate(c.Name, c.Options, map[string]string{"event_rate": "1e9", "message_count": tc.count, "event_time_interval": tc.interval})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Schema(opts)
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("%s x %s: %v", tc.count, tc.interval, err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("%s x %s: %v, want %q", tc.count, tc.interval, err, tc.err)
			}
		}
	})
}

// An unbounded source emits every counter whose timestamp fits and then
// fails, naming the option, instead of wrapping.
func TestIntervalOverflowAtRuntime(t *testing.T) {
	for _, tc := range []struct {
		interval string
		p        int
		fit      int
	}{
		{"2562047h", 1, 1},    // the repro: counter 1 was stamped in 1734
		{"1000000000s", 3, 9}, // counters 0..8 fit, 9 would not
	} {
		synctest.Test(t, func(t *testing.T) {
			begin := time.Now().Truncate(time.Second).UnixNano()
			cs, wait := start(t, t.Context(), map[string]string{"event_rate": "1e9", "event_time_interval": tc.interval}, tc.p)
			errs := wait()
			var counters []int
			for i, c := range cs {
				if errs[i] == nil || !strings.Contains(errs[i].Error(), "impulse: counter "+strconv.Itoa(tc.fit)+": timestamp start + "+strconv.Itoa(tc.fit)+" * event_time_interval '"+tc.interval+"' would be after 2262-04-11T23:47:16.854775807Z") {
					t.Fatalf("%s: subtask %d: %v", tc.interval, i, errs[i])
				}
				for _, r := range c.rows(t) {
					if r.ts < begin {
						t.Fatalf("%s: counter %d has timestamp %v, before the start", tc.interval, r.counter, time.Unix(0, r.ts).UTC())
					}
					counters = append(counters, int(r.counter))
				}
			}
			slices.Sort(counters)
			if len(counters) != tc.fit || counters[len(counters)-1] != tc.fit-1 {
				t.Fatalf("%s: counters %v, want 0..%d", tc.interval, counters, tc.fit-1)
			}
		})
	}
}

// A rate so small that 1e9/rate overflowed made every message due at once.
// The smallest accepted rate paces them 31.7 years apart; smaller ones are
// refused, saying the minimum.
func TestTinyEventRate(t *testing.T) {
	c, _ := connector.Lookup("impulse")
	for _, rate := range []string{"1e-10", "5e-324"} {
		_, err := connector.Validate(c.Name, c.Options, map[string]string{"event_rate": rate})
		if err == nil || err.Error() != "impulse: invalid value '"+rate+"' for option 'event_rate': must be at least 1e-09" {
			t.Errorf("event_rate %s: %v", rate, err)
		}
	}
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 365*24*time.Hour)
		defer cancel()
		cs, wait := start(t, ctx, map[string]string{"event_rate": "1e-9", "message_count": "100"}, 1)
		if err := wait()[0]; !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run = %v, want the deadline", err)
		}
		if rows := cs[0].rows(t); len(rows) != 1 {
			t.Fatalf("%d messages in a year at 1e-9 per second, want 1", len(rows))
		}
	})
}
