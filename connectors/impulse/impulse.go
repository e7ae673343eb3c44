// Package impulse is the "impulse" source connector, compatible with
// Arroyo's: it emits a counter at a fixed rate, for testing pipelines and
// for timers.
//
// Every table has the fixed schema
//
//	timestamp TIMESTAMP, counter BIGINT UNSIGNED, subtask_index BIGINT UNSIGNED
//
// (none nullable), plus the hidden _timestamp column, equal to timestamp.
// A job started at parallelism P has P splits, the residue classes modulo
// P: split r emits counters r, r+P, r+2P, ... (below message_count if
// set), so the counters of all subtasks together are 0, 1, 2, ... whatever
// the parallelism, and a restore at another parallelism continues every
// class. subtask_index is the residue class (the subtask that generates it
// in the run the job started as). Counter c is due c/event_rate seconds
// after the source starts; its timestamp is the wall clock when its batch
// is generated, or, with event_time_interval, start_time +
// c*event_time_interval (start_time is fixed when the pipeline is planned,
// see PlanDefaults). Timestamps
// never wrap: a message_count whose last timestamp would not fit int64
// nanoseconds is refused when the table is created, and an unbounded source
// fails at the first counter past 2262-04-11T23:47:16Z.
//
// It registers itself from init; import it for effect. It must not import
// sqlplan, controlplane, udf, cmd, engine/dataflow, engine/ops or other
// connectors.
package impulse

import (
	"context"
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
	OptEventRate         = "event_rate"
	OptMessageCount      = "message_count"
	OptEventTimeInterval = "event_time_interval"
	OptStartTime         = "start_time"
)

// Options are the declared options of the impulse connector.
var Options = []connector.Option{
	{
		Name:        OptEventRate,
		Type:        connector.TypeFloat,
		Description: "Messages per second across all subtasks; at least 1e-9 (one message every 31.7 years: the interval is held in int64 nanoseconds). A very large rate such as 1e9 is effectively unthrottled.",
		Required:    true,
		Min:         connector.MinEventRate,
		MinSet:      true,
		Example:     "100",
	},
	{
		Name:        OptMessageCount,
		Type:        connector.TypeInt,
		Description: "Stop after this many messages in total across all subtasks; unbounded if absent.",
		Min:         0,
		MinSet:      true,
		Example:     "1000",
	},
	{
		Name:        OptEventTimeInterval,
		Type:        connector.TypeDuration,
		Description: "Event time between consecutive messages (seconds or a duration such as '100ms'): message c gets timestamp start + c*interval. If absent, timestamps are the wall clock when the message is generated. Timestamps must stay before 2262-04-11T23:47:16Z (int64 nanoseconds): with message_count the last one is checked when the table is created, otherwise the source fails at the first message past it.",
		Example:     "1s",
	},
	{
		Name:        OptStartTime,
		Type:        connector.TypeString,
		Description: "Event time of counter 0 with event_time_interval, as an RFC 3339 timestamp; default: the time the pipeline is planned, rounded down to the second (fixed in the plan, so a restore continues the same timestamps).",
		Example:     "2024-01-01T00:00:00Z",
	},
}

func init() {
	connector.Register(&connector.Connector{
		Name:        "impulse",
		Description: "Emits an increasing counter at a fixed rate.",
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

// PlanDefaults fixes start_time at planning time when it is absent (the
// planning time rounded down to the second), so every subtask and every
// restore numbers event time the same.
func PlanDefaults(opts connector.Options, now time.Time) connector.Options {
	if opts.Has(OptStartTime) || !opts.Has(OptEventTimeInterval) {
		return opts // wall-clock timestamps need no start
	}
	out := maps.Clone(opts)
	out[OptStartTime] = now.UTC().Truncate(time.Second).Format(time.RFC3339Nano)
	return out
}

// Schema returns the table schema of every impulse table (without the
// hidden event-time column).
func Schema() *types.Schema {
	return types.NewSchema(
		types.Field{Name: "timestamp", Type: types.TimestampT},
		types.Field{Name: "counter", Type: types.UInt64T},
		types.Field{Name: "subtask_index", Type: types.UInt64T},
	)
}

type config struct {
	rate float64
	// total is message_count, or -1 when unbounded.
	total int64
	// interval is event_time_interval in nanoseconds; 0 means wall-clock
	// timestamps.
	interval int64
	// start is the event time of counter 0 (start_time, else the clock
	// given to parseConfig).
	start int64
}

// parseConfig checks what the option declarations cannot express. start
// is the event time of counter 0 (the wall clock, at planning a close
// guess at it).
func parseConfig(opts connector.Options, start int64) (config, error) {
	c := config{rate: opts.Float(OptEventRate), total: -1}
	if !opts.Has(OptEventRate) {
		return c, &connector.OptionError{Owner: "impulse", Option: OptEventRate, Problem: "is required (for example '100')"}
	}
	if !(c.rate >= connector.MinEventRate) || math.IsInf(c.rate, 0) {
		return c, &connector.OptionError{Owner: "impulse", Option: OptEventRate, Value: opts.String(OptEventRate), Problem: fmt.Sprintf("must be a finite number of at least %v", connector.MinEventRate)}
	}
	if opts.Has(OptMessageCount) {
		c.total = opts.Int(OptMessageCount)
		if c.total < 0 {
			return c, &connector.OptionError{Owner: "impulse", Option: OptMessageCount, Value: opts.String(OptMessageCount), Problem: "must be at least 0"}
		}
	}
	c.interval = int64(opts.Duration(OptEventTimeInterval))
	if v := opts.String(OptStartTime); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return c, &connector.OptionError{Owner: "impulse", Option: OptStartTime, Value: v, Problem: "expected an RFC 3339 timestamp such as '2024-01-01T00:00:00Z'"}
		}
		if t.Before(connector.MinTimestamp) || t.After(connector.MaxTimestamp) {
			return c, &connector.OptionError{Owner: "impulse", Option: OptStartTime, Value: v, Problem: fmt.Sprintf("must be between %s and %s, the range of a TIMESTAMP (int64 nanoseconds)",
				connector.MinTimestamp.Format(time.RFC3339Nano), connector.MaxTimestamp.Format(time.RFC3339Nano))}
		}
		start = t.UnixNano()
	}
	c.start = start
	if lim := c.limit(start); lim > 0 && c.total > lim {
		return c, &connector.OptionError{Owner: "impulse", Option: OptEventTimeInterval, Value: opts.String(OptEventTimeInterval),
			Problem: fmt.Sprintf("counter %d (of message_count %d) would have a timestamp after %s, the latest a TIMESTAMP holds (int64 nanoseconds); at most %d messages fit at this interval",
				lim, c.total, connector.MaxTimestamp.Format(time.RFC3339Nano), lim)}
	}
	return c, nil
}

// limit is the first counter whose timestamp start + c*interval does not
// fit int64 nanoseconds, or 0 if there is none (wall-clock timestamps).
// start is at most now, so counter 0 always fits.
func (c config) limit(start int64) int64 {
	if c.interval <= 0 || start < 0 {
		return 0
	}
	return (math.MaxInt64-start)/c.interval + 1
}

// Source emits counters from parsed options; Splits makes the
// connector.Source of a subtask.
type Source struct {
	cfg config
	// start is the event time of counter 0 with event_time_interval.
	start int64
	// due maps a counter to its wall-clock offset from the start of Run.
	due connector.Spacing
	// limit is the first counter whose timestamp does not fit (0: none),
	// limitErr the error the source stops with there.
	limit    int64
	limitErr error
}

// NewSource returns a source for validated options. The event-time start
// (for event_time_interval) is start_time, which the planner fills in; a
// table built without the planner and without start_time starts at the
// wall clock now, rounded down to the second.
func NewSource(opts connector.Options) (*Source, error) {
	cfg, err := parseConfig(opts, time.Now().Truncate(time.Second).UnixNano())
	if err != nil {
		return nil, err
	}
	start := cfg.start
	s := &Source{cfg: cfg, start: start, due: connector.NewSpacing(cfg.rate), limit: cfg.limit(start)}
	if s.limit > 0 {
		s.limitErr = fmt.Errorf("impulse: counter %d: timestamp start + %d * event_time_interval '%s' would be after %s, the latest a TIMESTAMP holds (int64 nanoseconds); set message_count to at most %d or use a smaller event_time_interval",
			s.limit, s.limit, opts.String(OptEventTimeInterval), connector.MaxTimestamp.Format(time.RFC3339Nano), s.limit)
	}
	return s, nil
}

// StartTime is the event time of counter 0 when event_time_interval is set.
func (s *Source) StartTime() time.Time { return time.Unix(0, s.start).UTC() }

// Splits returns the source of one subtask owning splits (residue classes,
// see connector.Generator): it emits their counters, each batch when its
// last counter is due.
func (s *Source) Splits(splits []connector.SplitState) (*connector.GeneratorSource, error) {
	return connector.NewGeneratorSource(connector.Generator{
		Name: "impulse", Rate: s.cfg.rate, Total: s.cfg.total, Due: s.due.Due, Batch: s.batch,
		Limit: s.limit, LimitErr: s.limitErr,
	}, splits)
}

// batch builds counters first, first+stride, ... (rows of them).
func (s *Source) batch(first, stride int64, rows int, subtask int64) *coldata.Batch {
	ts := &coldata.Vec[int64]{T: types.TimestampT, Vals: make([]int64, rows)}
	counter := &coldata.Vec[uint64]{T: types.UInt64T, Vals: make([]uint64, rows)}
	sub := &coldata.Vec[uint64]{T: types.UInt64T, Vals: make([]uint64, rows)}
	for i, n := 0, first; i < rows; i, n = i+1, n+stride {
		counter.Vals[i] = uint64(n)
		sub.Vals[i] = uint64(subtask)
	}
	if iv := s.cfg.interval; iv != 0 {
		t, step := s.start+first*iv, stride*iv
		for i := range ts.Vals {
			ts.Vals[i] = t
			t += step
		}
	} else {
		now := time.Now().UnixNano()
		for i := range ts.Vals {
			ts.Vals[i] = now
		}
	}
	// The hidden _timestamp column is the timestamp column itself: batches
	// are immutable, so sharing the vector is safe.
	return coldata.NewBatch([]coldata.Vector{ts, counter, sub, ts}, rows)
}
