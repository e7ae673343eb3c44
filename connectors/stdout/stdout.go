// Package stdout registers the "stdout" sink: one encoded record per line
// on the process's standard output (JSON by default). It is the default sink
// of `arroyo run` for a bare SELECT.
//
// Output is only ever written in whole records: rows are encoded into a
// buffer and written with one Write per flush, and a flush happens only at a
// record boundary (when the buffer passes flushBytes, and at the end of
// every batch). Nothing stays buffered between batches, so a job that is
// aborted (Close without Finish) has nothing half-written to lose, and a
// process that exits between Writes never leaves a torn last line.
//
// It must not import other connectors, sqlplan, controlplane, udf, cmd,
// engine/ops or engine/dataflow.
package stdout

import (
	"context"
	"io"
	"os"
	"sync"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
)

// flushBytes is the buffer size past which a batch's records are written
// before the batch is complete.
const flushBytes = 64 << 10

// mu serializes writes from parallel sink subtasks; each write holds whole
// records, so lines never interleave.
var mu sync.Mutex

func init() {
	connector.Register(&connector.Connector{
		Name:          "stdout",
		Description:   "Writes each row as one line to standard output.",
		NeedsFormat:   true,
		DefaultFormat: "json",
		NewSink: func(t *connector.Table, _ connector.SinkTask) (connector.Sink, error) {
			enc, err := connector.NewEncoder(t, t.Schema)
			if err != nil {
				return nil, err
			}
			return &sink{enc: enc, w: os.Stdout, limit: flushBytes}, nil
		},
	})
}

type sink struct {
	enc   connector.Encoder
	w     io.Writer
	limit int
	buf   []byte // whole records not yet written; reused
}

// Write encodes b's rows and writes them, flushing at record boundaries.
// Flushing per batch means a person watching a live pipeline sees rows as
// they are produced, not when a buffer fills. Between flushes it checks
// ctx, so an aborted job stops writing early, at a record boundary.
func (s *sink) Write(ctx context.Context, b *coldata.Batch) error {
	err := s.enc.Encode(b, func(rec []byte) error {
		if len(s.buf) > 0 && len(s.buf)+len(rec)+1 > s.limit {
			if err := s.flush(); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return context.Cause(ctx)
			}
		}
		s.buf = append(s.buf, rec...)
		s.buf = append(s.buf, '\n')
		return nil
	})
	if err != nil {
		s.buf = s.buf[:0] // the job fails: drop the unwritten (whole) records
		return err
	}
	return s.flush()
}

func (s *sink) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	mu.Lock()
	_, err := s.w.Write(s.buf)
	mu.Unlock()
	s.buf = s.buf[:0]
	return err
}

// Finish has nothing left to flush: Write never keeps records buffered.
func (s *sink) Finish(context.Context) error { return s.flush() }
