// Package singlefile registers the "single_file" connector: a bounded source
// that reads one record per line from a local file, and a sink that writes
// one record per line. It is what the spec tests read and write.
//
// A file is read and written by a single subtask (MaxParallelism 1).
// A row's event time is the time it was read unless the table declares
// one (WATERMARK FOR or event_time_field).
package singlefile

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
)

const batchRows = 4096

func init() {
	connector.Register(&connector.Connector{
		Name:        "single_file",
		Description: "Reads or writes newline-delimited records in one local file.",
		Options: []connector.Option{
			{Name: "path", Type: connector.TypeString, Required: true, Description: "Path of the file to read or write.", Example: "/data/input.json"},
			{Name: "type", Type: connector.TypeEnum, Enum: []string{"source", "sink"}, Description: "Whether the table is read (source) or written (sink); inferred from use when absent."},
		},
		NeedsFormat:    true,
		DefaultFormat:  "json",
		MaxParallelism: 1,
		NewSource:      newSource,
		NewSink:        newSink,
	})
}

type source struct {
	t *connector.Table
	f *os.File
}

func newSource(t *connector.Table) (connector.Source, error) {
	path := t.Options.String("path")
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open input file: %w", err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open input file: %s is a directory", path)
	}
	return &source{t: t, f: f}, nil
}

func (s *source) Close() error { return s.f.Close() }

func (s *source) Run(ctx connector.SourceContext) error {
	if ctx.Subtask() != 0 {
		return nil
	}
	b, err := connector.NewBatcher(s.t, batchRows)
	if err != nil {
		return err
	}
	r := bufio.NewReaderSize(s.f, 256<<10)
	var line []byte
	now := time.Now().UnixNano()
	flush := func() error {
		if n := b.TakeDropped(); n > 0 {
			ctx.Counter(connector.CounterBadData, n)
		}
		if batch := b.Flush(); batch != nil {
			if err := ctx.Emit(batch); err != nil {
				return err
			}
		}
		now = time.Now().UnixNano()
		return ctx.Context().Err()
	}
	for lineNo := 1; ; lineNo++ {
		chunk, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: assemble it.
			line = append(line[:0], chunk...)
			for errors.Is(err, bufio.ErrBufferFull) {
				chunk, err = r.ReadSlice('\n')
				line = append(line, chunk...)
			}
			chunk = line
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s: %w", s.f.Name(), err)
		}
		if rec := bytes.TrimSpace(chunk); len(rec) > 0 {
			if derr := b.Add(rec, now); derr != nil {
				return fmt.Errorf("%s:%d: bad record: %w", s.f.Name(), lineNo, derr)
			}
			if b.Full() {
				if ferr := flush(); ferr != nil {
					return ferr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return flush()
		}
	}
}

// sink creates its file when the first row arrives or at end of stream,
// never at construction: a pipeline that fails to start leaves an existing
// output file untouched.
type sink struct {
	path string
	f    *os.File
	w    *bufio.Writer
	enc  connector.Encoder
}

func newSink(t *connector.Table) (connector.Sink, error) {
	enc, err := connector.NewEncoder(t, t.Schema)
	if err != nil {
		return nil, err
	}
	return &sink{path: t.Options.String("path"), enc: enc}, nil
}

func (s *sink) open() error {
	if s.f != nil {
		return nil
	}
	f, err := os.Create(s.path)
	if err != nil {
		return fmt.Errorf("create output file: %w", err)
	}
	s.f, s.w = f, bufio.NewWriterSize(f, 256<<10)
	return nil
}

func (s *sink) Write(_ context.Context, b *coldata.Batch) error {
	if err := s.open(); err != nil {
		return err
	}
	return s.enc.Encode(b, func(rec []byte) error {
		s.w.Write(rec)
		return s.w.WriteByte('\n')
	})
}

func (s *sink) Finish(context.Context) error {
	if err := s.open(); err != nil {
		return err
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return s.f.Sync()
}

func (s *sink) Close() error {
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}
