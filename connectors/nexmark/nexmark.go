// Package nexmark is the "nexmark" source connector: a generator of the
// Nexmark benchmark's auction events (persons, auctions, bids), compatible
// with Arroyo's connector of the same name.
//
// Every table has the fixed schema
//
//	person  STRUCT<id, name, email_address, credit_card, city, state, datetime, extra>  (nullable)
//	auction STRUCT<id, item_name, description, initial_bid, reserve, datetime, expires, seller, category, extra>  (nullable)
//	bid     STRUCT<auction, bidder, price, channel, url, datetime, extra>  (nullable)
//
// with exactly one non-NULL column per row, plus the hidden _timestamp
// column, which is the event's datetime.
//
// Determinism: event n (0, 1, 2, ...) is a pure function of n and the
// options. Its kind is n % 50, its values come from a PRNG seeded with n,
// and its event time is base_time + n / event_rate. Subtask s of P
// generates events s, s+P, s+2P, ..., so any parallelism produces the same
// multiset of rows, and so does a restart from any event number.
// base_time defaults to the time the pipeline was planned, rounded down to
// the second, and the planner writes it into the table's options (see
// PlanDefaults), so every subtask and every restore agrees on it.
//
// Range: timestamps are int64 nanoseconds (1677 to 2262) and never wrap.
// A base_time outside that range, or an event_count (or runtime) whose
// last event's timestamps would pass 2262-04-11T23:47:16Z, is refused when
// the table is created; an unbounded source fails at the first such event
// (Limit). An auction's expiry counts: it is up to 2*numEventsForAuctions
// events after its start, which also bounds event_rate from below.
//
// Pacing: a subtask emits a batch when the wall clock, measured from the
// start of Run, reaches the due time (n / event_rate) of the batch's last
// event. Batches hold up to 4096 rows, fewer at low rates so that a batch
// covers at most 100ms. A huge event_rate (1e9) is effectively unthrottled;
// event time then runs as fast as the generator.
//
// Generation allocates per batch, never per row: the values are written
// straight into fresh column vectors (batches are immutable once emitted),
// and strings are slices of random text pools built once per process.
//
// It registers itself from init; import it for effect. It must not import
// sqlplan, controlplane, udf, cmd, engine/dataflow, engine/ops or other
// connectors.
package nexmark

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// Option names.
const (
	OptEventRate  = "event_rate"
	OptRuntime    = "runtime"
	OptEventCount = "event_count"
	OptBaseTime   = "base_time"
)

// Options are the declared options of the nexmark connector.
var Options = []connector.Option{
	{
		Name:        OptEventRate,
		Type:        connector.TypeFloat,
		Description: "Events per second generated across all subtasks; at least 1e-9 (the interval is held in int64 nanoseconds), and in practice above about 1e-6 so that auctions, which expire up to 3332 events after they start, expire before 2262. Event time advances by 1/event_rate per event; a very large rate (1e9) is effectively unthrottled.",
		Required:    true,
		Min:         connector.MinEventRate,
		MinSet:      true,
		Example:     "1000",
	},
	{
		Name:        OptRuntime,
		Type:        connector.TypeDuration,
		Description: "Stop after generating this much event time (seconds or a duration such as '10m'); the source is unbounded when neither runtime nor event_count is set.",
		Example:     "60",
	},
	{
		Name:        OptEventCount,
		Type:        connector.TypeInt,
		Description: "Stop after this many events in total across all subtasks (with runtime, whichever comes first).",
		Min:         0,
		MinSet:      true,
		Example:     "1000000",
	},
	{
		Name:        OptBaseTime,
		Type:        connector.TypeString,
		Description: "Event time of the first event, as an RFC 3339 timestamp between 1677-09-21T00:12:44Z and 2262-04-11T23:47:16Z (int64 nanoseconds); default: the time the pipeline is planned, rounded down to the second (fixed in the plan, so a restore replays the same events). Set it for reproducible output across runs. With event_count or runtime, the last event's timestamps are checked when the table is created; an unbounded source fails at the first event whose timestamps would pass 2262-04-11T23:47:16Z.",
		Example:     "2024-01-01T00:00:00Z",
	},
}

func init() {
	connector.Register(&connector.Connector{
		Name:        "nexmark",
		Description: "Generates the Nexmark benchmark's stream of persons, auctions and bids.",
		Options:     Options,
		Schema: func(opts connector.Options) (*types.Schema, error) {
			if _, err := parseConfig(opts, time.Now().Truncate(time.Second).UnixNano()); err != nil {
				return nil, err
			}
			return Schema(), nil
		},
		PlanDefaults: PlanDefaults,
		Splits: func(_ context.Context, _ *connector.Table, p int) ([]string, error) {
			return connector.GeneratorSplits(p), nil
		},
		NewSource: func(t *connector.Table, _ connector.SourceTask, splits []connector.SplitState) (connector.Source, error) {
			s, err := NewSource(t.Options)
			if err != nil {
				return nil, err
			}
			return s.Splits(splits)
		},
	})
}

// PlanDefaults fixes base_time at planning time when it is absent (the
// planning time rounded down to the second), so every subtask and every
// restore generates the same events.
func PlanDefaults(opts connector.Options, now time.Time) connector.Options {
	if opts.Has(OptBaseTime) {
		return opts
	}
	out := maps.Clone(opts)
	out[OptBaseTime] = now.UTC().Truncate(time.Second).Format(time.RFC3339Nano)
	return out
}

// config is the parsed options.
type config struct {
	rate float64
	// total is the number of events to generate; -1 is unbounded.
	total int64
	// base is base_time in nanoseconds (if hasBase), else the wall clock
	// given to parseConfig.
	base    int64
	hasBase bool
	// limit is the first event whose timestamps would not fit int64
	// nanoseconds (clock.limit), and limitErr the error a run stops with
	// there.
	limit    int64
	limitErr error
}

func optionError(name, value, problem string) error {
	return &connector.OptionError{Owner: "nexmark", Option: name, Value: value, Problem: problem}
}

// parseConfig checks what the option declarations cannot express. now is
// the event time of event 0 when base_time is absent (at planning a close
// guess at it).
func parseConfig(opts connector.Options, now int64) (config, error) {
	c := config{rate: opts.Float(OptEventRate), total: -1, base: now}
	if !opts.Has(OptEventRate) {
		return c, &connector.OptionError{Owner: "nexmark", Option: OptEventRate, Problem: "is required (for example '1000')"}
	}
	if !(c.rate >= connector.MinEventRate) || math.IsInf(c.rate, 0) {
		return c, optionError(OptEventRate, opts.String(OptEventRate), fmt.Sprintf("must be a finite number of at least %v", connector.MinEventRate))
	}
	totalFrom := ""
	if opts.Has(OptEventCount) {
		c.total = opts.Int(OptEventCount)
		if c.total < 0 {
			return c, optionError(OptEventCount, opts.String(OptEventCount), "must be at least 0")
		}
		totalFrom = OptEventCount
	}
	if opts.Has(OptRuntime) {
		n := eventsWithin(newClock(0, c.rate), opts.Duration(OptRuntime))
		if c.total < 0 || n < c.total {
			c.total, totalFrom = n, OptRuntime
		}
	}
	if v := opts.String(OptBaseTime); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return c, optionError(OptBaseTime, v, "expected an RFC 3339 timestamp such as '2024-01-01T00:00:00Z'")
		}
		// UnixNano of a time outside this range wraps around silently.
		if t.Before(connector.MinTimestamp) || t.After(connector.MaxTimestamp) {
			return c, optionError(OptBaseTime, v, fmt.Sprintf("must be between %s and %s, the range of a TIMESTAMP (int64 nanoseconds)",
				connector.MinTimestamp.Format(time.RFC3339Nano), connector.MaxTimestamp.Format(time.RFC3339Nano)))
		}
		c.base, c.hasBase = t.UnixNano(), true
	}
	clk := newClock(c.base, c.rate)
	c.limit = clk.limit()
	maxTS := connector.MaxTimestamp.Format(time.RFC3339Nano)
	if c.limit == 0 {
		name, value := OptBaseTime, opts.String(OptBaseTime)
		if fromNow := newClock(min(now, c.base), c.rate); !c.hasBase || fromNow.limit() == 0 {
			name, value = OptEventRate, opts.String(OptEventRate)
		}
		return c, optionError(name, value, fmt.Sprintf("the first events' timestamps would be after %s, the latest a TIMESTAMP holds (int64 nanoseconds): an auction expires up to %d events after it starts, which is %v at event_rate %v; use a higher event_rate or an earlier base_time",
			maxTS, 2*numEventsForAuctions, time.Duration(min(2*numEventsForAuctions*clk.sp.Interval(), math.MaxInt64)), c.rate))
	}
	if c.total > c.limit {
		return c, optionError(totalFrom, opts.String(totalFrom), fmt.Sprintf("event %d would have timestamps after %s, the latest a TIMESTAMP holds (int64 nanoseconds); at most %d events fit after base_time %s at event_rate %v",
			c.limit, maxTS, c.limit, time.Unix(0, c.base).UTC().Format(time.RFC3339Nano), c.rate))
	}
	c.limitErr = fmt.Errorf("nexmark: event %d would have timestamps after %s, the latest a TIMESTAMP holds (int64 nanoseconds); at most %d events fit after base_time %s at event_rate %v: set event_count or an earlier base_time",
		c.limit, maxTS, c.limit, time.Unix(0, c.base).UTC().Format(time.RFC3339Nano), c.rate)
	return c, nil
}

// eventsWithin returns how many events have an event time less than d
// after the first: the first event at d or later, or math.MaxInt64 if
// there is none.
func eventsWithin(c clock, d time.Duration) int64 {
	n := c.sp.First(int64(d) - 1)
	if n < 0 {
		return math.MaxInt64
	}
	return n
}

// Source generates nexmark events from parsed options; Splits makes the
// connector.Source of a subtask.
type Source struct {
	cfg config
	gen *gen
}

// NewSource returns a source for validated options. The planner fills in
// base_time (PlanDefaults), so every subtask and every restore agrees on
// it; a table built without the planner and without base_time starts at
// the wall clock now, rounded down to the second.
func NewSource(opts connector.Options) (*Source, error) {
	cfg, err := parseConfig(opts, time.Now().Truncate(time.Second).UnixNano())
	if err != nil {
		return nil, err
	}
	return &Source{cfg: cfg, gen: newGen(newClock(cfg.base, cfg.rate))}, nil
}

// Splits returns the source of one subtask owning splits (residue classes,
// see connector.Generator), paced so that event n is not emitted before the
// wall clock has advanced n/event_rate since it started.
func (s *Source) Splits(splits []connector.SplitState) (*connector.GeneratorSource, error) {
	return connector.NewGeneratorSource(connector.Generator{
		Name: "nexmark", Rate: s.cfg.rate, Total: s.cfg.total,
		Limit: s.cfg.limit, LimitErr: s.cfg.limitErr,
		Due: func(n int64) time.Duration { return time.Duration(s.gen.clock.offset(n)) },
		Batch: func(first, stride int64, rows int, _ int64) *coldata.Batch {
			return s.gen.batch(first, stride, rows)
		},
	}, splits)
}

// Batch returns events first, first+stride, ... (rows of them) as one
// batch, exactly as Run would emit them. It is for tests and tools that
// want events without running a source; the events must be below Limit.
func (s *Source) Batch(first, stride int64, rows int) *coldata.Batch {
	if first < 0 || stride <= 0 || rows <= 0 || first >= s.cfg.limit || (s.cfg.limit-1-first)/stride < int64(rows-1) {
		panic(errors.New("nexmark: Batch needs first >= 0, stride > 0, rows > 0 and events below Limit"))
	}
	return s.gen.batch(first, stride, rows)
}

// Limit is the first event whose timestamps would not fit int64
// nanoseconds (2262-04-11): Run stops there with an error.
func (s *Source) Limit() int64 { return s.cfg.limit }

// BaseTime is the event time of event 0.
func (s *Source) BaseTime() time.Time { return time.Unix(0, s.cfg.base).UTC() }
