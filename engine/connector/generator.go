package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
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
// is a pure function of n. Its splits are the residue classes modulo the
// parallelism P the job started with: split r/P holds events r, r+P, ...,
// and its state is the next event number, so every parallelism yields the
// same rows, and so does a restore at any other parallelism (a subtask then
// generates several classes, or none). Nexmark and impulse are generators;
// NewGeneratorSource is their Source.
type Generator struct {
	Name string
	// Rate is events per second across all subtasks.
	Rate float64
	// Total bounds the number of events (all subtasks); < 0 is unbounded.
	Total int64
	// Due is when event n may be emitted, measured from the start of the
	// run (a restored run starts where its earliest split is).
	Due func(n int64) time.Duration
	// Batch builds events first, first+stride, ... (rows of them); residue
	// is first mod stride, the split's class.
	Batch func(first, stride int64, rows int, residue int64) *coldata.Batch
	// Limit, if positive, is the first event number the generator cannot
	// produce because its timestamps would not fit int64 nanoseconds. A
	// run that reaches it emits the events before it and then fails with
	// LimitErr, rather than wrap around to dates centuries away. (A
	// generator that cannot produce even event 0 refuses its options
	// instead.)
	Limit    int64
	LimitErr error
}

// GeneratorSplits names the splits of a generator job started at
// parallelism p: "r/p" for every residue class r.
func GeneratorSplits(p int) []string {
	out := make([]string, p)
	for r := range p {
		out[r] = strconv.Itoa(r) + "/" + strconv.Itoa(p)
	}
	return out
}

// genSplit is one residue class of a generator.
type genSplit struct {
	name             string
	residue, modulus int64
	next             int64 // the next event to emit
	rows             int64 // events per batch
}

// GeneratorSource is the Source of a Generator for one subtask.
type GeneratorSource struct {
	g        Generator
	splits   []*genSplit
	end      int64 // first event not to produce (< 0: unbounded)
	endErr   error // what the source ends with at end (nil: io.EOF)
	start    time.Time
	timer    *time.Timer
	restored bool // some split started from a state
}

var _ Source = (*GeneratorSource)(nil)

// NewGeneratorSource returns the source of g owning splits (named as
// GeneratorSplits names them; a nil State starts at the class's first
// event).
func NewGeneratorSource(g Generator, splits []SplitState) (*GeneratorSource, error) {
	s := &GeneratorSource{g: g, end: g.Total}
	if g.Limit > 0 && (s.end < 0 || g.Limit < s.end) {
		s.end, s.endErr = g.Limit, g.LimitErr
		if s.endErr == nil {
			s.endErr = fmt.Errorf("%s: event %d: timestamp out of range", g.Name, g.Limit)
		}
	}
	for _, st := range splits {
		sp, err := parseGenSplit(st)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.Name, err)
		}
		sp.rows = int64(GeneratorBatchRows(g.Rate, int(sp.modulus)))
		s.restored = s.restored || len(st.State) > 0
		s.splits = append(s.splits, sp)
	}
	return s, nil
}

func parseGenSplit(st SplitState) (*genSplit, error) {
	r, m, ok := strings.Cut(st.Split, "/")
	residue, err1 := strconv.ParseInt(r, 10, 64)
	modulus, err2 := strconv.ParseInt(m, 10, 64)
	if !ok || err1 != nil || err2 != nil || modulus <= 0 || residue < 0 || residue >= modulus {
		return nil, fmt.Errorf("bad split %q: want residue/modulus such as \"0/4\"", st.Split)
	}
	sp := &genSplit{name: st.Split, residue: residue, modulus: modulus, next: residue}
	if len(st.State) > 0 {
		n, err := strconv.ParseInt(string(st.State), 10, 64)
		if err != nil || n < residue || (n-residue)%modulus != 0 {
			return nil, fmt.Errorf("split %q: bad state %q: want the next event number of the class", st.Split, st.State)
		}
		sp.next = n
	}
	return sp, nil
}

// done reports whether sp has no event left.
func (s *GeneratorSource) done(sp *genSplit) bool { return s.end >= 0 && sp.next >= s.end }

// batchEnd returns the number of events of sp's next batch and the last.
func (s *GeneratorSource) batchEnd(sp *genSplit) (k, last int64) {
	k = sp.rows
	if s.end >= 0 {
		// ceil((end-next)/modulus), without overflow for end near MaxInt64.
		k = min(k, (s.end-sp.next-1)/sp.modulus+1)
	}
	return k, sp.next + (k-1)*sp.modulus
}

// Poll emits every batch that is due, the earliest-due split first, and
// waits for the next one until ctx's deadline.
func (s *GeneratorSource) Poll(ctx context.Context, out SourceOutput) error {
	so, perSplit := out.(SplitOutput)
	if s.start.IsZero() {
		if perSplit {
			so.DeclareSplits(len(s.splits))
			for i, sp := range s.splits {
				if s.done(sp) {
					so.SplitDone(i)
				}
			}
		}
		// Event n is due at start + Due(n); a restored run starts where its
		// earliest split is rather than wait for the time already spent.
		first := int64(-1)
		for _, sp := range s.splits {
			if !s.done(sp) && (first < 0 || sp.next < first) {
				first = sp.next
			}
		}
		s.start = time.Now()
		if s.restored && first > 0 {
			s.start = s.start.Add(-s.g.Due(first))
		}
	}
	for {
		var sp *genSplit
		var k, last int64
		var due time.Time
		idx := -1
		for i, c := range s.splits {
			if s.done(c) {
				continue
			}
			ck, cl := s.batchEnd(c)
			if d := s.start.Add(s.g.Due(cl)); sp == nil || d.Before(due) {
				sp, k, last, due, idx = c, ck, cl, d, i
			}
		}
		if sp == nil {
			if s.endErr != nil {
				return s.endErr
			}
			return io.EOF
		}
		if wait := time.Until(due); wait > 0 {
			if s.timer == nil {
				s.timer = time.NewTimer(wait)
			} else {
				s.timer.Reset(wait)
			}
			select {
			case <-s.timer.C:
			case <-ctx.Done():
				s.timer.Stop()
				return nil
			}
		}
		b := s.g.Batch(sp.next, sp.modulus, int(k), sp.residue)
		var err error
		if perSplit {
			err = so.EmitSplit(idx, b)
		} else {
			err = out.Emit(b)
		}
		if err != nil {
			return fmt.Errorf("%s: emit: %w", s.g.Name, err)
		}
		sp.next = last + sp.modulus
		if perSplit && s.done(sp) {
			so.SplitDone(idx)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// Snapshot implements Source: each split's next event number.
func (s *GeneratorSource) Snapshot(uint64) ([]SplitState, error) {
	out := make([]SplitState, len(s.splits))
	for i, sp := range s.splits {
		out[i] = SplitState{Split: sp.name, State: strconv.AppendInt(nil, sp.next, 10)}
	}
	return out, nil
}

// Close implements Closer.
func (s *GeneratorSource) Close() error {
	if s.timer != nil {
		s.timer.Stop()
	}
	return nil
}

// Drain polls src until it ends (nil), fails, or ctx is done (ctx's
// error), with ctx itself as every Poll's context (no deadline, so a
// source waiting for its pace waits once): for tests and tools that read a
// source outside a job, without barriers or watermarks.
func Drain(ctx context.Context, src Source, out SourceOutput) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch err := src.Poll(ctx, out); {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
	}
}
