package nexmark

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
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

func (c *collector) rows() int {
	n := 0
	for _, b := range c.batches {
		n += b.Rows()
	}
	return n
}

const testBase = "2024-01-01T00:00:00Z"

var testBaseNs = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()

// validated runs the options through the declarations, as the planner does.
func validated(t *testing.T, given map[string]string) connector.Options {
	t.Helper()
	c, ok := connector.Lookup("nexmark")
	if !ok {
		t.Fatal("nexmark is not registered")
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

// run runs a source with parallelism p to completion, one Source per
// subtask as the runtime does, and returns each subtask's collector.
func run(t *testing.T, given map[string]string, p int) []*collector {
	t.Helper()
	opts := validated(t, given)
	cs := make([]*collector, p)
	errs := make([]error, p)
	var wg sync.WaitGroup
	for i := range p {
		src, err := NewSource(opts)
		if err != nil {
			t.Fatal(err)
		}
		cs[i] = &collector{ctx: t.Context(), sub: i, par: p}
		wg.Go(func() { errs[i] = runSub(src, cs[i]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return cs
}

func TestSchema(t *testing.T) {
	c, ok := connector.Lookup("nexmark")
	if !ok {
		t.Fatal("nexmark is not registered")
	}
	if c.NewSink != nil || c.NewSource == nil || c.NeedsFormat {
		t.Fatal("nexmark must be a source only, without format")
	}
	s, err := c.Schema(validated(t, map[string]string{"event_rate": "10"}))
	if err != nil {
		t.Fatal(err)
	}
	want := "(person STRUCT<id BIGINT, name TEXT, email_address TEXT, credit_card TEXT, city TEXT, state TEXT, datetime TIMESTAMP, extra TEXT>, " +
		"auction STRUCT<id BIGINT, item_name TEXT, description TEXT, initial_bid BIGINT, reserve BIGINT, datetime TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra TEXT>, " +
		"bid STRUCT<auction BIGINT, bidder BIGINT, price BIGINT, channel TEXT, url TEXT, datetime TIMESTAMP, extra TEXT>)"
	if got := s.String(); got != want {
		t.Fatalf("schema\n got %s\nwant %s", got, want)
	}
	for _, f := range s.Fields {
		if !f.Nullable {
			t.Errorf("column %s must be nullable", f.Name)
		}
		for _, sf := range f.Type.Fields {
			if sf.Nullable {
				t.Errorf("field %s.%s must not be nullable", f.Name, sf.Name)
			}
		}
	}
}

func TestOptionValidation(t *testing.T) {
	c, _ := connector.Lookup("nexmark")
	for _, tc := range []struct {
		name   string
		given  map[string]string
		option string // the option the error must name; "" = valid
	}{
		{"valid", map[string]string{"event_rate": "100", "runtime": "10s", "event_count": "5", "base_time": testBase}, ""},
		{"runtime in seconds", map[string]string{"event_rate": "0.5", "runtime": "2.5"}, ""},
		{"missing event_rate", map[string]string{"runtime": "10"}, "event_rate"},
		{"negative event_rate", map[string]string{"event_rate": "-1"}, "event_rate"},
		{"zero event_rate", map[string]string{"event_rate": "0"}, "event_rate"},
		{"non-numeric event_rate", map[string]string{"event_rate": "fast"}, "event_rate"},
		{"infinite event_rate", map[string]string{"event_rate": "+Inf"}, "event_rate"},
		{"NaN event_rate", map[string]string{"event_rate": "NaN"}, "event_rate"},
		{"bad runtime", map[string]string{"event_rate": "1", "runtime": "forever"}, "runtime"},
		{"negative runtime", map[string]string{"event_rate": "1", "runtime": "-3"}, "runtime"},
		{"negative event_count", map[string]string{"event_rate": "1", "event_count": "-3"}, "event_count"},
		{"fractional event_count", map[string]string{"event_rate": "1", "event_count": "1.5"}, "event_count"},
		{"bad base_time", map[string]string{"event_rate": "1", "base_time": "yesterday"}, "base_time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := connector.Validate(c.Name, c.Options, tc.given)
			if err == nil {
				// What the declarations cannot say, Schema checks.
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
	_, err := connector.Validate(c.Name, c.Options, map[string]string{"event_rate": "1", "first_event_id": "3"})
	if !errors.Is(err, connector.ErrUnknownOption) {
		t.Fatalf("unknown option: got %v", err)
	}
}

// event is one decoded row, for checks.
type event struct {
	kind   int
	fields []any
	ts     int64
}

func decode(t *testing.T, b *coldata.Batch) []event {
	t.Helper()
	if len(b.Cols) != 4 || b.Sel != nil {
		t.Fatalf("batch has %d columns, sel %v", len(b.Cols), b.Sel)
	}
	schema := Schema()
	for i, f := range schema.Fields {
		if !b.Cols[i].Type().Equal(f.Type) {
			t.Fatalf("column %d has type %v, want %v", i, b.Cols[i].Type(), f.Type)
		}
	}
	if !b.Cols[3].Type().Equal(types.TimestampT) {
		t.Fatalf("_timestamp has type %v", b.Cols[3].Type())
	}
	var out []event
	for c, col := range b.Cols {
		if col.Len() != b.Len {
			t.Fatalf("column %d has %d rows, batch %d", c, col.Len(), b.Len)
		}
		if s, ok := col.(*coldata.Struct); ok {
			for f, fc := range s.Fields {
				if fc.Len() != b.Len {
					t.Fatalf("column %d field %d has %d rows, batch %d", c, f, fc.Len(), b.Len)
				}
				for i := range b.Len {
					if fc.IsNull(i) != s.IsNull(i) {
						t.Fatalf("row %d: column %d field %d null=%v, struct null=%v", i, c, f, fc.IsNull(i), s.IsNull(i))
					}
				}
			}
		}
	}
	for i := range b.Len {
		e := event{kind: -1, ts: coldata.Value(b.Cols[3], i).(int64)}
		for k := range 3 {
			if b.Cols[k].IsNull(i) {
				continue
			}
			if e.kind >= 0 {
				t.Fatalf("row %d has two non-null structs", i)
			}
			e.kind = k
			e.fields = coldata.Value(b.Cols[k], i).([]any)
		}
		if e.kind < 0 {
			t.Fatalf("row %d has no non-null struct", i)
		}
		out = append(out, e)
	}
	return out
}

func TestEvents(t *testing.T) {
	const total = 10_000
	cs := run(t, map[string]string{"event_rate": "1e9", "event_count": "10000", "base_time": testBase}, 1)
	var events []event
	for _, b := range cs[0].batches {
		if b.Len > connector.MaxGeneratorBatch {
			t.Fatalf("batch of %d rows", b.Len)
		}
		events = append(events, decode(t, b)...)
	}
	if len(events) != total {
		t.Fatalf("got %d events, want %d", len(events), total)
	}
	var kinds [3]int
	var hotAuction, hotBidder, hotSeller int
	var extraLen [3]int
	for n, e := range events {
		kinds[e.kind]++
		if e.kind != eventKind(int64(n)) {
			t.Fatalf("event %d: kind %d, want %d", n, e.kind, eventKind(int64(n)))
		}
		wantTime := testBaseNs + int64(n) // 1e9 events/s: 1ns apart
		if e.ts != wantTime {
			t.Fatalf("event %d: _timestamp %d, want %d", n, e.ts, wantTime)
		}
		f := e.fields
		lastPerson := int64(n/50) + firstPersonID
		lastAuction := lastBase0AuctionID(int64(n)) + firstAuctionID
		switch e.kind {
		case kindPerson:
			if f[0].(int64) != lastPerson {
				t.Fatalf("person %d: id %v, want %d", n, f[0], lastPerson)
			}
			if f[6].(int64) != e.ts {
				t.Fatalf("person %d: datetime %v != _timestamp %d", n, f[6], e.ts)
			}
			if cc := f[3].(string); len(cc) != 19 || cc[4] != ' ' {
				t.Fatalf("person %d: credit card %q", n, cc)
			}
			if !slices.Contains(usCities, f[4].(string)) || !slices.Contains(usStates, f[5].(string)) {
				t.Fatalf("person %d: city/state %v %v", n, f[4], f[5])
			}
			extraLen[0] += len(f[7].(string))
		case kindAuction:
			id, initial, reserve := f[0].(int64), f[3].(int64), f[4].(int64)
			dt, expires, seller, cat := f[5].(int64), f[6].(int64), f[7].(int64), f[8].(int64)
			if id != lastAuction {
				t.Fatalf("auction %d: id %d, want %d", n, id, lastAuction)
			}
			if initial < 100 || initial > 1e8 || reserve <= initial || reserve > 2e8 {
				t.Fatalf("auction %d: initial bid %d, reserve %d", n, initial, reserve)
			}
			if dt != e.ts || expires < dt+1e6 {
				t.Fatalf("auction %d: datetime %d, expires %d, _timestamp %d", n, dt, expires, e.ts)
			}
			if cat < 10 || cat > 14 {
				t.Fatalf("auction %d: category %d", n, cat)
			}
			if seller < firstPersonID || seller > lastPerson+personIDLead {
				t.Fatalf("auction %d: seller %d", n, seller)
			}
			if seller == (lastPerson-firstPersonID)/100*100+firstPersonID {
				hotSeller++
			}
			if len(f[1].(string)) > 19 || len(f[2].(string)) > 99 {
				t.Fatalf("auction %d: item name %q, description %q", n, f[1], f[2])
			}
			extraLen[1] += len(f[9].(string))
		case kindBid:
			auction, bidder, price := f[0].(int64), f[1].(int64), f[2].(int64)
			if auction < firstAuctionID || auction > lastAuction+auctionIDLead {
				t.Fatalf("bid %d: auction %d (last %d)", n, auction, lastAuction)
			}
			if bidder < firstPersonID || bidder > lastPerson+personIDLead {
				t.Fatalf("bid %d: bidder %d", n, bidder)
			}
			if price < 100 || price > 1e8 {
				t.Fatalf("bid %d: price %d", n, price)
			}
			if f[5].(int64) != e.ts {
				t.Fatalf("bid %d: datetime %v != _timestamp %d", n, f[5], e.ts)
			}
			if auction == (lastAuction-firstAuctionID)/100*100+firstAuctionID {
				hotAuction++
			}
			if bidder == (lastPerson-firstPersonID)/100*100+1+firstPersonID {
				hotBidder++
			}
			l := len(f[6].(string))
			if l < 54 || l >= 82 {
				t.Fatalf("bid %d: extra of %d bytes, want [54, 82)", n, l)
			}
			extraLen[2] += l
		}
	}
	if kinds != [3]int{200, 600, 9200} {
		t.Fatalf("kinds (person, auction, bid) = %v, want [200 600 9200]", kinds)
	}
	// The draws are deterministic, so these bounds cannot flake; they are
	// loose enough to survive a change of PRNG.
	ratio := func(name string, got, of int, lo, hi float64) {
		if r := float64(got) / float64(of); r < lo || r > hi {
			t.Errorf("%s: %.3f, want [%v, %v]", name, r, lo, hi)
		}
	}
	ratio("hot auctions", hotAuction, kinds[2], 0.47, 0.56)
	ratio("hot bidders", hotBidder, kinds[2], 0.72, 0.79)
	ratio("hot sellers", hotSeller, kinds[1], 0.68, 0.82)
	ratio("person extra", extraLen[0], kinds[0], 120, 160)
	ratio("auction extra", extraLen[1], kinds[1], 360, 420)
	ratio("bid extra", extraLen[2], kinds[2], 66, 70)
}

func TestPrices(t *testing.T) {
	r := eventRNG(7)
	lo, hi := int64(math.MaxInt64), int64(0)
	var small, large int
	for range 100_000 {
		p := nextPrice(&r)
		lo, hi = min(lo, p), max(hi, p)
		if p < 1000 {
			small++
		}
		if p >= 1e7 {
			large++
		}
	}
	if lo < 100 || hi > 1e8 {
		t.Fatalf("prices in [%d, %d], want [100, 1e8]", lo, hi)
	}
	// The table method against the formula, at the same 30-bit U.
	for i := range 10_000 {
		r := eventRNG(int64(i))
		x := r
		got := nextPrice(&r)
		u := float64(x.next()>>34) / (1 << 30)
		if want := int64(math.Round(math.Pow(10, 6*u) * 100)); got != want {
			t.Fatalf("nextPrice for U=%v: %d, want %d", u, got, want)
		}
	}
	// Log-uniform: each decade holds a sixth of the prices.
	for _, c := range []int{small, large} {
		if c < 15_000 || c > 18_500 {
			t.Fatalf("decades hold %d and %d of 100000 prices, want about 16667", small, large)
		}
	}
}

func rowKeys(cs []*collector) []string {
	var keys []string
	for _, c := range cs {
		for _, b := range c.batches {
			for i := range b.Len {
				keys = append(keys, fmt.Sprint(coldata.Value(b.Cols[0], i), coldata.Value(b.Cols[1], i), coldata.Value(b.Cols[2], i), coldata.Value(b.Cols[3], i)))
			}
		}
	}
	slices.Sort(keys)
	return keys
}

func TestParallelismDeterminism(t *testing.T) {
	opts := map[string]string{"event_rate": "1e9", "event_count": "5003", "base_time": testBase}
	one := rowKeys(run(t, opts, 1))
	for _, p := range []int{3, 7} {
		got := rowKeys(run(t, opts, p))
		if !slices.Equal(one, got) {
			t.Fatalf("parallelism %d gives different rows than parallelism 1 (%d vs %d rows)", p, len(got), len(one))
		}
	}
	if len(one) != 5003 {
		t.Fatalf("got %d rows", len(one))
	}
	// And from run to run.
	if again := rowKeys(run(t, opts, 1)); !slices.Equal(one, again) {
		t.Fatal("two runs differ")
	}
}

func TestBounds(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]string
		p    int
		want int
	}{
		{map[string]string{"event_count": "1234"}, 1, 1234},
		{map[string]string{"event_count": "1234"}, 4, 1234},
		{map[string]string{"event_count": "2"}, 4, 2},
		{map[string]string{"event_count": "0"}, 2, 0},
		{map[string]string{"runtime": "0.000002"}, 1, 2000},
		{map[string]string{"runtime": "2us"}, 3, 2000},
		{map[string]string{"runtime": "2us", "event_count": "1500"}, 2, 1500},
		{map[string]string{"runtime": "2us", "event_count": "2500"}, 2, 2000},
	} {
		tc.opts["event_rate"] = "1e9"
		cs := run(t, tc.opts, tc.p)
		got := 0
		for _, c := range cs {
			got += c.rows()
		}
		if got != tc.want {
			t.Errorf("%v at parallelism %d: %d rows, want %d", tc.opts, tc.p, got, tc.want)
		}
	}
}

func TestEventsWithin(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		d    time.Duration
		want int64
	}{
		{10, time.Second, 10},
		{3, time.Second, 3},
		{3, 1001 * time.Millisecond, 4},
		{0.5, 10 * time.Second, 5},
		{1e9, time.Second, 1e9},
		{2e9, time.Second, 2e9},
		{7, 0, 0},
	} {
		if got := eventsWithin(newClock(0, tc.rate), tc.d); got != tc.want {
			t.Errorf("eventsWithin(rate %v, %v) = %d, want %d", tc.rate, tc.d, got, tc.want)
		}
	}
}

func TestPacing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		cs := run(t, map[string]string{"event_rate": "1000", "event_count": "3000", "base_time": testBase}, 2)
		for _, c := range cs {
			if c.rows() != 1500 {
				t.Fatalf("subtask %d: %d rows", c.sub, c.rows())
			}
			for i, b := range c.batches {
				if b.Len != 50 {
					t.Fatalf("batch of %d rows, want 50 (100ms at 500 events/s)", b.Len)
				}
				// Event n is due n ms after the start.
				lastTs := coldata.Value(b.Cols[3], b.Len-1).(int64)
				due := start.Add(time.Duration(lastTs - testBaseNs))
				if c.times[i].Before(due) {
					t.Fatalf("batch emitted at %v, before its last event is due at %v", c.times[i].Sub(start), due.Sub(start))
				}
				if c.times[i].After(due) {
					t.Fatalf("batch emitted at %v, after its last event was due at %v", c.times[i].Sub(start), due.Sub(start))
				}
			}
		}
		if d := time.Since(start); d != 2999*time.Millisecond {
			t.Fatalf("3000 events at 1000/s took %v", d)
		}
	})
}

func TestCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		src, err := NewSource(validated(t, map[string]string{"event_rate": "10"}))
		if err != nil {
			t.Fatal(err)
		}
		c := &collector{ctx: ctx, par: 1, limit: 1000}
		done := make(chan error)
		start := time.Now()
		go func() { done <- runSub(src, c) }()
		time.Sleep(1050 * time.Millisecond)
		cancel()
		err = <-done
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v, want context.Canceled", err)
		}
		if d := time.Since(start); d != 1050*time.Millisecond {
			t.Fatalf("Run returned %v after cancellation", d-1050*time.Millisecond)
		}
		// Events 0..10 are due by 1.0s; one row per batch at 10 events/s.
		if c.rows() != 11 || len(c.batches) != 11 {
			t.Fatalf("%d rows in %d batches before cancellation, want 11 in 11", c.rows(), len(c.batches))
		}
	})
}

func TestDefaultBaseTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(1500 * time.Millisecond)
		src, err := NewSource(validated(t, map[string]string{"event_rate": "10"}))
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Now().Truncate(time.Second); !src.BaseTime().Equal(want) {
			t.Fatalf("base time %v, want %v", src.BaseTime(), want)
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
		{1e9, 64, 4096},
		{10, 1, 1},
		{0.01, 1, 1},
		{1000, 2, 50},
		{100_000, 4, 2500},
	} {
		if got := connector.GeneratorBatchRows(tc.rate, tc.p); got != tc.want {
			t.Errorf("GeneratorBatchRows(%v, %d) = %d, want %d", tc.rate, tc.p, got, tc.want)
		}
	}
}

// TestAllocsPerBatch checks that generation allocates per batch, never per
// row.
func TestAllocsPerBatch(t *testing.T) {
	src, err := NewSource(validated(t, map[string]string{"event_rate": "1e9", "base_time": testBase}))
	if err != nil {
		t.Fatal(err)
	}
	// A bytes buffer sized too small would grow, costing more allocations
	// in larger batches.
	small := testing.AllocsPerRun(20, func() { src.Batch(0, 1, 100) })
	for _, first := range []int64{0, 1, 49, 1 << 40} {
		large := testing.AllocsPerRun(20, func() { src.Batch(first, 1, 4096) })
		if small != large {
			t.Fatalf("a 100-row batch costs %v allocations, a 4096-row batch from event %d %v", small, first, large)
		}
	}
	t.Logf("%v allocations per batch", small)
}

// planErr runs options through the declarations and Schema, as the
// planner does, and returns the first error.
func planErr(given map[string]string) error {
	c, _ := connector.Lookup("nexmark")
	opts, err := connector.Validate(c.Name, c.Options, given)
	if err != nil {
		return err
	}
	_, err = c.Schema(opts)
	return err
}

// Timestamps that do not fit int64 nanoseconds used to wrap around
// (base_time 9999-01-01 gave dates in 1815). What a bounded source will
// generate is checked when the table is created.
func TestTimestampRangeAtPlanning(t *testing.T) {
	const nearMax = "2262-04-11T23:47:00Z" // 16.85s before the last nanosecond
	for _, tc := range []struct {
		given  map[string]string
		option string // "" = valid
		msg    string
	}{
		{map[string]string{"event_rate": "10", "base_time": "9999-01-01T00:00:00Z"}, "base_time",
			"nexmark: invalid value '9999-01-01T00:00:00Z' for option 'base_time': must be between 1677-09-21T00:12:43.145224192Z and 2262-04-11T23:47:16.854775807Z, the range of a TIMESTAMP (int64 nanoseconds)"},
		{map[string]string{"event_rate": "10", "base_time": "1600-01-01T00:00:00Z"}, "base_time", "must be between"},
		{map[string]string{"event_rate": "10", "base_time": "1677-09-21T00:12:44Z", "event_count": "100"}, "", ""},
		// At 1000/s, with auctions expiring up to 3.332s after they
		// start, events 0..13522 fit.
		{map[string]string{"event_rate": "1000", "base_time": nearMax, "event_count": "13523"}, "", ""},
		{map[string]string{"event_rate": "1000", "base_time": nearMax, "event_count": "13524"}, "event_count",
			"nexmark: invalid value '13524' for option 'event_count': event 13523 would have timestamps after 2262-04-11T23:47:16.854775807Z, the latest a TIMESTAMP holds (int64 nanoseconds); at most 13523 events fit after base_time 2262-04-11T23:47:00Z at event_rate 1000"},
		{map[string]string{"event_rate": "1000", "base_time": nearMax, "runtime": "20s"}, "runtime", "event 13523 would have timestamps after"},
		{map[string]string{"event_rate": "1000", "base_time": nearMax, "runtime": "20s", "event_count": "100"}, "", ""},
		{map[string]string{"event_rate": "1000", "base_time": "2262-04-11T23:47:15Z"}, "base_time", "the first events' timestamps would be after"},
		// An auction 3332 events of 10^7s after its start is in 3026.
		{map[string]string{"event_rate": "1e-7", "event_count": "10"}, "event_rate", "an auction expires up to 3332 events after it starts"},
		{map[string]string{"event_rate": "1e-6", "event_count": "10"}, "", ""},
		{map[string]string{"event_rate": "1e-10"}, "event_rate", "nexmark: invalid value '1e-10' for option 'event_rate': must be at least 1e-09"},
	} {
		err := planErr(tc.given)
		if tc.option == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.given, err)
			}
			continue
		}
		var oe *connector.OptionError
		if !errors.As(err, &oe) || oe.Option != tc.option || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v: %v; want an error for option %s containing %q", tc.given, err, tc.option, tc.msg)
		}
	}
}

// An unbounded source whose event time reaches 2262 emits every event
// that fits, with timestamps that never wrap, and then fails naming the
// options. base_time near the end makes the point reachable.
func TestTimestampRangeAtRuntime(t *testing.T) {
	for _, p := range []int{1, 3} {
		synctest.Test(t, func(t *testing.T) {
			opts := validated(t, map[string]string{"event_rate": "1000", "base_time": "2262-04-11T23:47:00Z"})
			base := time.Date(2262, 4, 11, 23, 47, 0, 0, time.UTC).UnixNano()
			n := 0
			for i := range p {
				src, err := NewSource(opts)
				if err != nil {
					t.Fatal(err)
				}
				if src.Limit() != 13523 {
					t.Fatalf("Limit() = %d, want 13523", src.Limit())
				}
				c := &collector{ctx: t.Context(), sub: i, par: p}
				err = runSub(src, c)
				if err == nil || err.Error() != "nexmark: event 13523 would have timestamps after 2262-04-11T23:47:16.854775807Z, the latest a TIMESTAMP holds (int64 nanoseconds); at most 13523 events fit after base_time 2262-04-11T23:47:00Z at event_rate 1000: set event_count or an earlier base_time" {
					t.Fatalf("subtask %d: Run = %v", i, err)
				}
				for _, b := range c.batches {
					auction := b.Cols[1].(*coldata.Struct)
					expires := auction.Fields[6].(*coldata.Vec[int64])
					for r, ts := range b.Cols[3].(*coldata.Vec[int64]).Vals {
						if ts < base || (!auction.IsNull(r) && expires.Vals[r] < ts) {
							t.Fatalf("row %d: timestamp %v, auction expires %v: wrapped", r, time.Unix(0, ts).UTC(), time.Unix(0, expires.Vals[r]).UTC())
						}
					}
					n += b.Rows()
				}
			}
			if n != 13523 {
				t.Fatalf("p=%d: %d events before the limit, want 13523", p, n)
			}
		})
	}
}
