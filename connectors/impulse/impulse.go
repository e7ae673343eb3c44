// Package impulse is the "impulse" source connector, compatible with
// Arroyo's: it emits a counter at a fixed rate, for testing pipelines and
// for timers.
//
// Every table has the fixed schema
//
//	timestamp TIMESTAMP, counter BIGINT UNSIGNED, subtask_index BIGINT UNSIGNED
//
// (none nullable), plus the hidden _timestamp column, equal to timestamp.
// Subtask s of P emits counters s, s+P, s+2P, ... (below message_count if
// set), so the counters of all subtasks together are 0, 1, 2, ... whatever
// the parallelism. Counter c is due c/event_rate seconds after the source
// starts; its timestamp is the wall clock when its batch is generated, or,
// with event_time_interval, start + c*event_time_interval.
//
// It registers itself from init; import it for effect. It must not import
// sqlplan, controlplane, udf, cmd, engine/runtime, engine/ops or other
// connectors.
package impulse

import (
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
)

// Options are the declared options of the impulse connector.
var Options = []connector.Option{
	{
		Name:        OptEventRate,
		Type:        connector.TypeFloat,
		Description: "Messages per second across all subtasks; must be greater than 0 (a very large rate such as 1e9 is effectively unthrottled).",
		Required:    true,
		Min:         0,
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
		Description: "Event time between consecutive messages (seconds or a duration such as '100ms'): message c gets timestamp start + c*interval. If absent, timestamps are the wall clock when the message is generated.",
		Example:     "1s",
	},
}

func init() {
	connector.Register(&connector.Connector{
		Name:        "impulse",
		Description: "Emits an increasing counter at a fixed rate.",
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
}

func parseConfig(opts connector.Options) (config, error) {
	c := config{rate: opts.Float(OptEventRate), total: -1}
	if !opts.Has(OptEventRate) {
		return c, &connector.OptionError{Owner: "impulse", Option: OptEventRate, Problem: "is required (for example '100')"}
	}
	if !(c.rate > 0) || math.IsInf(c.rate, 0) {
		return c, &connector.OptionError{Owner: "impulse", Option: OptEventRate, Value: opts.String(OptEventRate), Problem: "must be a finite number greater than 0"}
	}
	if opts.Has(OptMessageCount) {
		c.total = opts.Int(OptMessageCount)
		if c.total < 0 {
			return c, &connector.OptionError{Owner: "impulse", Option: OptMessageCount, Value: opts.String(OptMessageCount), Problem: "must be at least 0"}
		}
	}
	c.interval = int64(opts.Duration(OptEventTimeInterval))
	return c, nil
}

// Source emits counters. It is safe for concurrent use: Run keeps its
// state on its own stack.
type Source struct {
	cfg config
	// start is the event time of counter 0 with event_time_interval.
	start int64
	// due maps a counter to its wall-clock offset from the start of Run.
	due func(c int64) time.Duration
}

var _ connector.Source = (*Source)(nil)

// NewSource returns a source for validated options. The event-time start
// (for event_time_interval) is the wall clock now, rounded down to the
// second, like nexmark's base time; the runtime creates every subtask's
// Source at about the same moment, so they agree on it.
func NewSource(opts connector.Options) (*Source, error) {
	cfg, err := parseConfig(opts)
	if err != nil {
		return nil, err
	}
	s := &Source{cfg: cfg, start: time.Now().Truncate(time.Second).UnixNano()}
	d := 1e9 / cfg.rate
	if d >= 1 && d < 1<<53 && d == math.Trunc(d) {
		step := time.Duration(d)
		s.due = func(c int64) time.Duration { return time.Duration(c) * step }
	} else {
		s.due = func(c int64) time.Duration { return time.Duration(float64(c) * d) }
	}
	return s, nil
}

// StartTime is the event time of counter 0 when event_time_interval is set.
func (s *Source) StartTime() time.Time { return time.Unix(0, s.start).UTC() }

// Run emits this subtask's counters, each batch when its last counter is
// due.
func (s *Source) Run(ctx connector.SourceContext) error {
	return connector.RunGenerator(ctx, connector.Generator{
		Name: "impulse", Rate: s.cfg.rate, Total: s.cfg.total, Due: s.due, Batch: s.batch,
	})
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
