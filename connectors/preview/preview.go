// Package preview registers the "preview" sink: the bare SELECTs of a
// preview pipeline (POST /api/v1/pipelines/preview) write their rows here,
// and GET /pipelines/{id}/jobs/{job}/output streams them (Stream).
//
// Each job has a feed: the sink appends every batch, encoded as JSON lines
// (Debezium JSON for an updating query, as the planner chooses for a bare
// SELECT), with the index of its first row in the job's output. A feed
// keeps its newest batches within a byte budget (maxFeedBytes): a preview
// is for looking at, and a slow or absent reader must never hold back or
// fail the pipeline, so a reader that falls behind the budget skips to
// the oldest batch still kept. A reader that connects late sees the kept
// batches first. The feeds of the maxFeeds (16) most recently used jobs
// are kept, so finished previews hold at most 128 MiB.
//
// It must not import other connectors, sqlplan, controlplane, udf, cmd,
// engine/ops or engine/dataflow.
package preview

import (
	"context"
	"sync"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
)

const (
	maxFeedBytes = 8 << 20
	maxFeeds     = 16
)

func init() {
	connector.Register(&connector.Connector{
		Name:          "preview",
		Description:   "The sink of a preview pipeline's bare SELECTs: rows streamed by the API (GET /pipelines/{id}/jobs/{job_id}/output).",
		NeedsFormat:   true,
		DefaultFormat: "json",
		NewSink: func(t *connector.Table, task connector.SinkTask) (connector.Sink, error) {
			enc, err := connector.NewEncoder(t, t.Schema)
			if err != nil {
				return nil, err
			}
			return &sink{enc: enc, task: task, f: hub.feed(task.JobID)}, nil
		},
	})
}

// Batch is one batch of a job's output.
type Batch struct {
	OperatorID string
	Subtask    int
	// StartID is the index of the batch's first row in the job's output.
	StartID int64
	Time    time.Time
	Lines   []byte // one JSON record per line
	rows    int64
}

type feed struct {
	mu      sync.Mutex
	batches []Batch // oldest first
	bytes   int
	rows    int64         // rows appended so far
	first   int64         // sequence number of batches[0]
	wake    chan struct{} // closed and replaced at each append
	used    time.Time
}

func (f *feed) append(b Batch) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b.StartID, b.Time = f.rows, time.Now()
	f.rows += b.rows
	f.batches = append(f.batches, b)
	f.bytes += len(b.Lines)
	for len(f.batches) > 1 && f.bytes > maxFeedBytes {
		f.bytes -= len(f.batches[0].Lines)
		f.batches[0] = Batch{}
		f.batches = f.batches[1:]
		f.first++
	}
	f.used = b.Time
	close(f.wake)
	f.wake = make(chan struct{})
}

// since returns the batches from sequence number seq on (or from the
// oldest kept one), the next sequence number and the channel closed at
// the next append.
func (f *feed) since(seq int64) ([]Batch, int64, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.used = time.Now()
	seq = max(seq, f.first)
	out := append([]Batch(nil), f.batches[seq-f.first:]...)
	return out, f.first + int64(len(f.batches)), f.wake
}

type feeds struct {
	mu    sync.Mutex
	byJob map[string]*feed
}

var hub feeds

func (h *feeds) feed(jobID string) *feed {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f := h.byJob[jobID]; f != nil {
		return f
	}
	if h.byJob == nil {
		h.byJob = map[string]*feed{}
	}
	if len(h.byJob) >= maxFeeds {
		var oldest string
		var at time.Time
		for id, f := range h.byJob {
			f.mu.Lock()
			u := f.used
			f.mu.Unlock()
			if oldest == "" || u.Before(at) {
				oldest, at = id, u
			}
		}
		delete(h.byJob, oldest)
	}
	f := &feed{wake: make(chan struct{}), used: time.Now()}
	h.byJob[jobID] = f
	return f
}

// Stream calls emit with the job's output batches, the kept ones first,
// then each new one as the sink writes it, until ctx ends (it returns
// nil) or emit fails (it returns emit's error). When done is closed (the
// job ended) it emits what is left and returns nil.
func Stream(ctx context.Context, jobID string, done <-chan struct{}, emit func(Batch) error) error {
	f := hub.feed(jobID)
	var seq int64
	for {
		bs, next, wake := f.since(seq)
		for _, b := range bs {
			if err := emit(b); err != nil {
				return err
			}
		}
		seq = next
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-done:
			bs, _, _ := f.since(seq)
			for _, b := range bs {
				if err := emit(b); err != nil {
					return err
				}
			}
			return nil
		}
	}
}

type sink struct {
	enc  connector.Encoder
	task connector.SinkTask
	f    *feed
	buf  []byte
}

// Write encodes b's rows as lines and appends them to the job's feed.
func (s *sink) Write(_ context.Context, b *coldata.Batch) error {
	s.buf = s.buf[:0]
	n := int64(0)
	err := s.enc.Encode(b, func(rec []byte) error {
		s.buf = append(s.buf, rec...)
		s.buf = append(s.buf, '\n')
		n++
		return nil
	})
	if err != nil || n == 0 {
		return err
	}
	s.f.append(Batch{OperatorID: s.task.OperatorID, Subtask: s.task.Subtask, Lines: append([]byte(nil), s.buf...), rows: n})
	return nil
}

// Finish implements connector.Sink: every Write appended its rows.
func (s *sink) Finish(context.Context) error { return nil }
