package cluster

import (
	"context"
	"fmt"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/store"
)

var _ api.OutputStreamer = (*Runner)(nil)

// ended is a closed channel: the done of a job that is not running.
var ended = func() <-chan struct{} { c := make(chan struct{}); close(c); return c }()

// sinkOf is the sink p's bare SELECTs write to.
func (r *Runner) sinkOf(p *store.Pipeline) string {
	if !p.Preview {
		return r.DefaultSink
	}
	if r.PreviewSink != "" {
		return r.PreviewSink
	}
	return "preview"
}

// Output implements api.OutputStreamer: the rows job's preview sink
// writes, until the job ends (then what is left, and nil) or ctx ends.
func (r *Runner) Output(ctx context.Context, jobID string, emit func(api.OutputData) error) error {
	if r.Preview == nil {
		return fmt.Errorf("this cluster does not stream preview output: %w", store.ErrConflict)
	}
	done := ended
	if job := r.Job(jobID); job != nil {
		done = job.Done()
	}
	// (A job that ended, or ran before this process started, streams
	// what its preview sink still keeps, if anything.)
	return r.Preview(ctx, jobID, done, emit)
}
