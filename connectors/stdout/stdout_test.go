package stdout

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// recEncoder encodes row i of a batch as a record of the given length
// ("r<i>xxx..."), so records are easy to tell apart.
type recEncoder struct{ size int }

func (e recEncoder) Encode(b *coldata.Batch, emit func([]byte) error) error {
	var err error
	b.ForEach(func(i int) {
		if err == nil {
			rec := fmt.Appendf(nil, "r%d", i)
			rec = append(rec, bytes.Repeat([]byte{'x'}, e.size-len(rec))...)
			err = emit(rec)
		}
	})
	return err
}

// writes records every Write call separately.
type writes struct {
	calls [][]byte
	// cancel, if set, is called after the first write (an abort arriving
	// while a batch is being written).
	cancel func()
}

func (w *writes) Write(p []byte) (int, error) {
	w.calls = append(w.calls, append([]byte(nil), p...))
	if w.cancel != nil {
		w.cancel()
	}
	return len(p), nil
}

func rows(n int) *coldata.Batch {
	ts := coldata.New(types.TimestampT, n).(*coldata.Vec[int64])
	for range n {
		ts.Append(0)
	}
	return coldata.NewBatch([]coldata.Vector{ts}, n)
}

// Every write holds whole records, even when a batch is bigger than the
// buffer, and nothing is left buffered after Write.
func TestWritesWholeRecords(t *testing.T) {
	w := &writes{}
	s := &sink{enc: recEncoder{size: 30}, w: w, limit: 100}
	ctx := context.Background()
	if err := s.Write(ctx, rows(10)); err != nil {
		t.Fatal(err)
	}
	if len(s.buf) != 0 {
		t.Fatalf("%d bytes left buffered after Write", len(s.buf))
	}
	var all []byte
	for _, c := range w.calls {
		if len(c)%31 != 0 || c[len(c)-1] != '\n' || len(c) > 100 {
			t.Fatalf("write of %d bytes is not whole records within the limit: %q", len(c), c)
		}
		all = append(all, c...)
	}
	if len(w.calls) < 4 || len(all) != 10*31 {
		t.Fatalf("%d writes, %d bytes", len(w.calls), len(all))
	}
	// A record larger than the buffer is written whole, by itself.
	w.calls = nil
	s.enc = recEncoder{size: 500}
	if err := s.Write(ctx, rows(2)); err != nil {
		t.Fatal(err)
	}
	if len(w.calls) != 2 || len(w.calls[0]) != 501 || len(w.calls[1]) != 501 {
		t.Fatalf("writes %d", len(w.calls))
	}
}

// An abort while a batch is being written stops at a record boundary.
func TestAbortStopsAtRecordBoundary(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w := &writes{cancel: cancel}
	s := &sink{enc: recEncoder{size: 30}, w: w, limit: 100}
	if err := s.Write(ctx, rows(10)); err == nil {
		t.Fatal("Write after cancel succeeded")
	}
	if len(w.calls) != 1 || len(w.calls[0]) != 93 {
		t.Fatalf("writes after the abort: %d", len(w.calls))
	}
	if len(s.buf) != 0 {
		t.Fatalf("%d bytes left buffered", len(s.buf))
	}
}
