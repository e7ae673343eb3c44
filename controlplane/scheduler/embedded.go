// Package scheduler holds the schedulers that place a job's workers. The
// embedded scheduler runs the whole program inside this process, on the
// engine's runtime: it is what `arroyo run` uses.
//
// It must not import connectors, udf or cmd.
package scheduler

import (
	"context"

	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/engine/checkpoint"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
)

// Embedded runs programs in this process.
type Embedded struct {
	Options dataflow.Options
}

var _ controller.Scheduler = (*Embedded)(nil)

// Start implements controller.Scheduler. The job runs on a context of its
// own (ctx's values, not its cancellation): cancelling ctx after Start has
// returned does not cancel it; Cancel does. With opts.Restore it loads that
// checkpoint's files (as a worker in another process would) and starts from
// them; with opts.Checkpoints it writes its checkpoints there.
func (e *Embedded) Start(ctx context.Context, prog *program.Program, opts controller.RunOptions) (controller.Worker, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := e.Options
	if opts.JobID != "" {
		o.JobID = opts.JobID
	}
	if opts.Restore != nil {
		snap, err := opts.Checkpoints.Load(ctx, opts.Restore)
		if err != nil {
			return nil, err
		}
		o.Restore, o.RestoreEpoch = snap, opts.Restore.Epoch
	}
	if opts.Checkpoints != nil {
		o.Durable = &checkpoint.Writer{Dir: opts.Checkpoints, Program: prog, Written: opts.OnCheckpoint, AfterDurable: opts.AfterDurable}
		if opts.CheckpointInterval > 0 {
			o.CheckpointInterval = opts.CheckpointInterval
		}
	}
	j, err := dataflow.Start(context.WithoutCancel(ctx), prog, o)
	if err != nil {
		return nil, err
	}
	return worker{j}, nil
}

// worker adapts a runtime job to controller.Worker.
type worker struct{ *dataflow.Job }

// Counters implements controller.Worker.
func (w worker) Counters() map[controller.MetricKey]int64 {
	in := w.Job.Counters()
	out := make(map[controller.MetricKey]int64, len(in))
	for k, v := range in {
		out[controller.MetricKey{Node: k.Node, OperatorID: k.OperatorID, Operator: k.Operator, Subtask: k.Subtask, Name: k.Name}] = v
	}
	return out
}
