package connector

import (
	"fmt"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
)

const (
	// MaxGeneratorBatch is the most rows a generator puts in one batch.
	MaxGeneratorBatch = 4096
	// generatorBatchSpan is the most time one batch covers at low rates,
	// so rows appear at least this often.
	generatorBatchSpan = 100 * time.Millisecond
)

// GeneratorBatchRows is the number of rows per batch for a subtask
// producing rate/parallelism events per second.
func GeneratorBatchRows(rate float64, parallelism int) int {
	n := rate / float64(parallelism) * generatorBatchSpan.Seconds()
	return int(max(1, min(MaxGeneratorBatch, n)))
}

// Generator is a deterministic, paced source of numbered events: event n
// is a pure function of n, and subtask s of P produces events s, s+P, ...,
// so every parallelism yields the same rows. Nexmark and impulse are
// generators; RunGenerator is their Run loop.
type Generator struct {
	Name string
	// Rate is events per second across all subtasks.
	Rate float64
	// Total bounds the number of events (all subtasks); < 0 is unbounded.
	Total int64
	// Due is when event n may be emitted, measured from the start of Run.
	Due func(n int64) time.Duration
	// Batch builds events first, first+stride, ... (rows of them).
	Batch func(first, stride int64, rows int, subtask int64) *coldata.Batch
	// Limit, if positive, is the first event number the generator cannot
	// produce because its timestamps would not fit int64 nanoseconds. A
	// run that reaches it emits the events before it and then fails with
	// LimitErr, rather than wrap around to dates centuries away. (A
	// generator that cannot produce even event 0 refuses its options
	// instead.)
	Limit    int64
	LimitErr error
}

// RunGenerator emits this subtask's events, each batch when its last event
// is due, until Total is reached (nil), Limit is reached (LimitErr) or the
// context is cancelled (its error).
func RunGenerator(ctx SourceContext, g Generator) error {
	c := ctx.Context()
	p, sub := int64(ctx.Parallelism()), int64(ctx.Subtask())
	if p <= 0 || sub < 0 || sub >= p {
		return fmt.Errorf("%s: bad subtask %d of %d", g.Name, sub, p)
	}
	rows := int64(GeneratorBatchRows(g.Rate, int(p)))
	pace := NewPacer(c)
	defer pace.Stop()
	end, endErr := g.Total, error(nil)
	if g.Limit > 0 && (end < 0 || g.Limit < end) {
		end, endErr = g.Limit, g.LimitErr
		if endErr == nil {
			endErr = fmt.Errorf("%s: event %d: timestamp out of range", g.Name, g.Limit)
		}
	}
	start := time.Now()
	for n := sub; end < 0 || n < end; {
		if err := c.Err(); err != nil {
			return err
		}
		k := rows
		if end >= 0 {
			// ceil((end-n)/p), without overflow for end near MaxInt64.
			k = min(k, (end-n-1)/p+1)
		}
		last := n + (k-1)*p
		if err := pace.Until(start.Add(g.Due(last))); err != nil {
			return err
		}
		if err := ctx.Emit(g.Batch(n, p, int(k), sub)); err != nil {
			return fmt.Errorf("%s: emit: %w", g.Name, err)
		}
		n = last + p
	}
	return endErr
}
