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
// base_time defaults to the wall clock when the source is created, rounded
// down to the second; set the option for reproducible event times.
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
// sqlplan, controlplane, udf, cmd, engine/runtime, engine/ops or other
// connectors.
package nexmark

import (
	"errors"
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
		Description: "Events per second generated across all subtasks; must be greater than 0. Event time advances by 1/event_rate per event; a very large rate (1e9) is effectively unthrottled.",
		Required:    true,
		Min:         0,
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
		Description: "Event time of the first event, as an RFC 3339 timestamp; default: the wall clock when the source is created, rounded down to the second. Set it for reproducible output.",
		Example:     "2024-01-01T00:00:00Z",
	},
}

func init() {
	connector.Register(&connector.Connector{
		Name:        "nexmark",
		Description: "Generates the Nexmark benchmark's stream of persons, auctions and bids.",
		Options:     Options,
		Schema: func(opts connector.Options) (*types.Schema, error) {
			if _, err := parseConfig(opts); err != nil {
				return nil, err
			}
			return Schema(), nil
		},
		NewSource: func(t *connector.Table) (connector.Source, error) {
			return NewSource(t.Options)
		},
	})
}

// config is the parsed options.
type config struct {
	rate float64
	// total is the number of events to generate; -1 is unbounded.
	total int64
	// base is base_time in nanoseconds, if hasBase.
	base    int64
	hasBase bool
}

func optionError(name, value, problem string) error {
	return &connector.OptionError{Owner: "nexmark", Option: name, Value: value, Problem: problem}
}

// parseConfig checks what the option declarations cannot express.
func parseConfig(opts connector.Options) (config, error) {
	c := config{rate: opts.Float(OptEventRate), total: -1}
	if !opts.Has(OptEventRate) {
		return c, &connector.OptionError{Owner: "nexmark", Option: OptEventRate, Problem: "is required (for example '1000')"}
	}
	if !(c.rate > 0) || math.IsInf(c.rate, 0) {
		return c, optionError(OptEventRate, opts.String(OptEventRate), "must be a finite number greater than 0")
	}
	if opts.Has(OptEventCount) {
		c.total = opts.Int(OptEventCount)
		if c.total < 0 {
			return c, optionError(OptEventCount, opts.String(OptEventCount), "must be at least 0")
		}
	}
	if opts.Has(OptRuntime) {
		n := eventsWithin(newClock(0, c.rate), opts.Duration(OptRuntime))
		if c.total < 0 || n < c.total {
			c.total = n
		}
	}
	if v := opts.String(OptBaseTime); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return c, optionError(OptBaseTime, v, "expected an RFC 3339 timestamp such as '2024-01-01T00:00:00Z'")
		}
		c.base, c.hasBase = t.UnixNano(), true
	}
	return c, nil
}

// eventsWithin returns how many events have an event time less than d
// after the first.
func eventsWithin(c clock, d time.Duration) int64 {
	n := int64(math.Ceil(float64(d) / c.delay))
	for n > 0 && c.offset(n-1) >= int64(d) {
		n--
	}
	for c.offset(n) < int64(d) {
		n++
	}
	return n
}

// Source generates nexmark events. It is safe for concurrent use: Run
// keeps its state on its own stack.
type Source struct {
	cfg config
	gen *gen
}

var _ connector.Source = (*Source)(nil)

// NewSource returns a source for validated options. Without base_time, the
// event time of event 0 is the wall clock now, rounded down to the second.
// (The runtime creates one Source per subtask in a tight loop, so the
// subtasks of a job agree on it unless they straddle a second boundary; set
// base_time where that matters.)
func NewSource(opts connector.Options) (*Source, error) {
	cfg, err := parseConfig(opts)
	if err != nil {
		return nil, err
	}
	if !cfg.hasBase {
		cfg.base = time.Now().Truncate(time.Second).UnixNano()
	}
	return &Source{cfg: cfg, gen: newGen(newClock(cfg.base, cfg.rate))}, nil
}

// Run generates this subtask's events, paced so that event n is not
// emitted before the wall clock has advanced n/event_rate since Run started.
func (s *Source) Run(ctx connector.SourceContext) error {
	return connector.RunGenerator(ctx, connector.Generator{
		Name: "nexmark", Rate: s.cfg.rate, Total: s.cfg.total,
		Due: func(n int64) time.Duration { return time.Duration(s.gen.clock.offset(n)) },
		Batch: func(first, stride int64, rows int, _ int64) *coldata.Batch {
			return s.gen.batch(first, stride, rows)
		},
	})
}

// Batch returns events first, first+stride, ... (rows of them) as one
// batch, exactly as Run would emit them. It is for tests and tools that
// want events without running a source.
func (s *Source) Batch(first, stride int64, rows int) *coldata.Batch {
	if first < 0 || stride <= 0 || rows <= 0 {
		panic(errors.New("nexmark: Batch needs first >= 0, stride > 0, rows > 0"))
	}
	return s.gen.batch(first, stride, rows)
}

// BaseTime is the event time of event 0.
func (s *Source) BaseTime() time.Time { return time.Unix(0, s.cfg.base).UTC() }
