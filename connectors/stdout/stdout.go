// Package stdout registers the "stdout" sink: one encoded record per line
// on the process's standard output (JSON by default). It is the default sink
// of `arroyo run` for a bare SELECT.
package stdout

import (
	"bufio"
	"context"
	"io"
	"os"
	"sync"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
)

// mu serializes whole batches from parallel sink subtasks so lines never
// interleave.
var mu sync.Mutex

func init() {
	connector.Register(&connector.Connector{
		Name:          "stdout",
		Description:   "Writes each row as one line to standard output.",
		NeedsFormat:   true,
		DefaultFormat: "json",
		NewSink: func(t *connector.Table) (connector.Sink, error) {
			enc, err := connector.NewEncoder(t, t.Schema)
			if err != nil {
				return nil, err
			}
			return &sink{enc: enc, w: bufio.NewWriterSize(os.Stdout, 64<<10)}, nil
		},
	})
}

type sink struct {
	enc connector.Encoder
	w   *bufio.Writer
}

func (s *sink) Write(_ context.Context, b *coldata.Batch) error {
	mu.Lock()
	defer mu.Unlock()
	if err := writeLines(s.w, s.enc, b); err != nil {
		return err
	}
	// Flush per batch: a person watching a live pipeline sees rows as
	// they are produced, not when a buffer fills.
	return s.w.Flush()
}

func (s *sink) Finish(context.Context) error {
	mu.Lock()
	defer mu.Unlock()
	return s.w.Flush()
}

func writeLines(w io.Writer, enc connector.Encoder, b *coldata.Batch) error {
	return enc.Encode(b, func(rec []byte) error {
		if _, err := w.Write(rec); err != nil {
			return err
		}
		_, err := w.Write([]byte{'\n'})
		return err
	})
}
