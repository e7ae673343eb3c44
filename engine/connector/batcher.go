package connector

import (
	"fmt"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// BadData values.
const (
	BadDataFail = "fail"
	BadDataDrop = "drop"
)

// CounterBadData is the SourceOutput counter of records dropped because
// they could not be decoded (bad_data = 'drop').
const CounterBadData = "bad_records_dropped"

// NewDecoder returns a decoder for the table's format and schema.
func NewDecoder(t *Table) (Decoder, error) {
	if t.Format == nil {
		return nil, fmt.Errorf("table '%s' has no format", t.Name)
	}
	f, ok := LookupFormat(t.Format.Name)
	if !ok || f.NewDecoder == nil {
		return nil, fmt.Errorf("format '%s' cannot be read", t.Format.Name)
	}
	return f.NewDecoder(t.Schema, t.Format.Options)
}

// NewEncoder returns an encoder for the table's format and schema.
func NewEncoder(t *Table, schema *types.Schema) (Encoder, error) {
	if t.Format == nil {
		return nil, fmt.Errorf("table '%s' has no format", t.Name)
	}
	f, ok := LookupFormat(t.Format.Name)
	if !ok || f.NewEncoder == nil {
		return nil, fmt.Errorf("format '%s' cannot be written", t.Format.Name)
	}
	return f.NewEncoder(schema, t.Format.Options)
}

// Batcher turns records of a byte-oriented source into batches: it decodes
// each record with the table's format, applies the bad_data policy and
// appends the event-time column. Sources call Add per record, or AddLines
// per block of newline-delimited records where the format decodes blocks
// (Add then takes the lines AddLines leaves), and emit Flush when Full or
// when they pause.
type Batcher struct {
	dec     Decoder
	lines   LinesDecoder // dec, if it decodes blocks of lines
	badData string
	max     int
	// runs is the event-time column to come, run-length encoded: a
	// source's records mostly share the time they were read at.
	runs    []tsRun
	dropped int64
}

// tsRun is rows consecutive rows of event time ts.
type tsRun struct {
	ts   int64
	rows int
}

// NewBatcher returns a batcher for t producing batches of at most maxRows.
func NewBatcher(t *Table, maxRows int) (*Batcher, error) {
	dec, err := NewDecoder(t)
	if err != nil {
		return nil, err
	}
	b := &Batcher{dec: dec, badData: t.BadData, max: maxRows}
	b.lines, _ = dec.(LinesDecoder)
	return b, nil
}

// addTS gives the next n rows event time ts.
func (b *Batcher) addTS(ts int64, n int) {
	if n <= 0 {
		return
	}
	if k := len(b.runs); k > 0 && b.runs[k-1].ts == ts {
		b.runs[k-1].rows += n
		return
	}
	b.runs = append(b.runs, tsRun{ts: ts, rows: n})
}

// Add decodes one record with event time ts (nanoseconds). With bad_data =
// 'drop' an undecodable record is counted and skipped; otherwise the decode
// error is returned (the caller adds where the record came from).
func (b *Batcher) Add(rec []byte, ts int64) error {
	before := b.dec.Rows()
	if err := b.dec.Decode(rec); err != nil {
		if b.badData == BadDataDrop {
			b.dropped++
			return nil
		}
		return err
	}
	b.addTS(ts, b.dec.Rows()-before)
	return nil
}

// AddLines decodes the records of the whole lines at the start of block,
// all with event time ts, until the batch is full, through the decoder's
// connector.LinesDecoder: no call per record. It returns the bytes and
// lines consumed, which end before the first line it leaves to Add (see
// LinesDecoder; a line longer than maxLen bytes is one), and 0, 0 if the
// decoder cannot decode blocks.
func (b *Batcher) AddLines(block []byte, ts int64, maxLen int) (n, lines int) {
	if b.lines == nil {
		return 0, 0
	}
	before := b.dec.Rows()
	n, lines = b.lines.DecodeLines(block, b.max, maxLen)
	b.addTS(ts, b.dec.Rows()-before)
	return n, lines
}

// Reject applies the bad_data policy to a record the source itself could
// not accept (e.g. one longer than the source's size limit): with
// bad_data = 'drop' it is counted like an undecodable record and Reject
// returns nil; otherwise it returns err, which should say where the record
// is and why it was refused.
func (b *Batcher) Reject(err error) error {
	if b.badData == BadDataDrop {
		b.dropped++
		return nil
	}
	return err
}

// Full reports whether the batch has reached its size limit.
func (b *Batcher) Full() bool { return b.dec.Rows() >= b.max }

// Rows returns the number of rows waiting to be flushed.
func (b *Batcher) Rows() int { return b.dec.Rows() }

// TakeDropped returns the number of records dropped since the last call.
func (b *Batcher) TakeDropped() int64 {
	n := b.dropped
	b.dropped = 0
	return n
}

// Flush returns the rows decoded so far as a batch (nil if none).
func (b *Batcher) Flush() *coldata.Batch {
	n := b.dec.Rows()
	if n == 0 {
		return nil
	}
	ts := coldata.AllocVec[int64](nil, types.TimestampT, n)
	vals := ts.Vals
	for _, r := range b.runs {
		run := vals[:r.rows]
		for j := range run {
			run[j] = r.ts
		}
		vals = vals[r.rows:]
	}
	b.runs = b.runs[:0]
	return coldata.NewBatch(append(b.dec.Flush(), ts), n)
}
