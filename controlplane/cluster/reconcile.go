package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/program"
)

// The API and the controller as two processes on one store (`arroyo api`
// and `arroyo controller`): the API's runner is a Desired, which only
// records what should happen (a job record in state Created for a start,
// restart, resume or rescale; the pipeline's stop mode for a stop), and
// the controller's Runner reconciles the store with what it runs
// (Reconcile, every poll interval), writing job states, checkpoints and
// failures back.
//
// One controller per store: a controller takes every job record that says
// it runs but that it does not run for one a crashed controller left
// behind (Recover). Two controllers on one store would each start the
// other's pipelines.

// IgnoreStateDetails marks the job log message a Desired writes on a job
// that must start without its pipeline's checkpoints (a restart with
// ignore_state); the controller discards them before it starts the job.
const IgnoreStateDetails = "ignore_state"

// Desired is the api.Runner of an API that runs no pipelines itself: it
// records the desired state in the store for a controller to reconcile.
type Desired struct {
	Store *store.Store
}

var _ api.Runner = (*Desired)(nil)

// Start implements api.Runner: a job record in state Created, which the
// controller starts.
func (d *Desired) Start(ctx context.Context, p *store.Pipeline, _ *program.Program) (string, error) {
	if p.Preview {
		// A preview's rows stream from the process that runs it.
		return "", fmt.Errorf("previews run in arroyo cluster or arroyo run, not on a separate controller: %w", store.ErrConflict)
	}
	return d.newJob(ctx, p, false)
}

// Stop implements api.Runner: the API has recorded the pipeline's stop
// mode, which the controller acts on.
func (d *Desired) Stop(context.Context, string, string) error { return nil }

// Restart implements api.Runner: a new job record in state Created; the
// controller stops the pipeline's running job at a checkpoint (cancels it
// for ignore_state) and starts this one.
func (d *Desired) Restart(ctx context.Context, p *store.Pipeline, _ *program.Program, opts api.RestartOptions) (string, error) {
	return d.newJob(ctx, p, opts.IgnoreState)
}

func (d *Desired) newJob(ctx context.Context, p *store.Pipeline, ignoreState bool) (string, error) {
	j := &store.Job{PipelineID: p.ID, State: store.JobCreated}
	if err := d.Store.CreateJob(ctx, j); err != nil {
		return "", err
	}
	if ignoreState {
		l := &store.JobLog{JobID: j.ID, Level: store.LogInfo, Message: "restarted with ignore_state: the job starts without the pipeline's checkpoints", Details: IgnoreStateDetails}
		if err := d.Store.AddJobLog(ctx, l); err != nil {
			return "", err
		}
	}
	return j.ID, nil
}

// ignoresState reports whether the job record was created to start
// without its pipeline's checkpoints.
func (r *Runner) ignoresState(ctx context.Context, jobID string) (bool, error) {
	ls, _, err := r.Store.ListJobLogs(ctx, jobID, store.Page{Limit: 20})
	if err != nil {
		return false, err
	}
	for _, l := range ls {
		if l.Details == IgnoreStateDetails {
			return true, nil
		}
	}
	return false, nil
}

// startCreated starts the job record j (state Created) of p: after
// stopping any other job of p this runner runs (at a checkpoint, or
// cancelled when j ignores the state), from p's last checkpoint unless j
// ignores the state.
func (r *Runner) startCreated(ctx context.Context, p *store.Pipeline, j *store.Job) error {
	ignore, err := r.ignoresState(ctx, j.ID)
	if err != nil {
		return err
	}
	for _, rn := range r.live(p.ID) {
		if ignore {
			rn.job.Cancel()
		} else {
			rn.job.Stop()
		}
		select {
		case <-rn.job.Done():
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Minute):
			return fmt.Errorf("a job of pipeline %s did not stop within a minute", p.ID)
		}
	}
	if ignore {
		if err := r.Checkpoints.RemoveAll(ctx, "checkpoints/"+p.ID); err != nil {
			return fmt.Errorf("discard the checkpoints of %s: %w", p.ID, err)
		}
	}
	return r.run(ctx, p, j.ID, !ignore)
}

// live returns the runs of a pipeline that have not ended.
func (r *Runner) live(pipelineID string) []*run {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*run
	for _, rn := range r.runs {
		if rn.pipeline != pipelineID {
			continue
		}
		select {
		case <-rn.job.Done():
		default:
			out = append(out, rn)
		}
	}
	return out
}

// Reconcile makes what this runner runs match the store once: a
// pipeline's newest job record in state Created is started (the API's
// Desired asked for a start, restart, resume or rescale), and the running
// jobs of a pipeline whose stop mode is not none are stopped in that mode.
// A Created job of a pipeline asked to stop is recorded Stopped without
// running.
func (r *Runner) Reconcile(ctx context.Context) error {
	// One scan of the job records (newest first: a pipeline's first is
	// its current job), then only the pipelines this runner runs or must
	// start are read.
	jobs, err := r.Store.ListAllJobs(ctx)
	if err != nil {
		return err
	}
	current := map[string]*store.Job{}
	for i := range jobs {
		if _, ok := current[jobs[i].PipelineID]; !ok {
			current[jobs[i].PipelineID] = &jobs[i]
		}
	}
	r.mu.Lock()
	running := map[string]bool{}
	for _, rn := range r.runs {
		select {
		case <-rn.job.Done():
		default:
			running[rn.pipeline] = true
		}
	}
	r.mu.Unlock()
	var errs []error
	for id, j := range current {
		created := j.State == store.JobCreated && r.Job(j.ID) == nil
		if !created && !running[id] {
			continue
		}
		p, err := r.Store.GetPipeline(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		} else if err != nil {
			return err
		}
		if p.Preview {
			continue
		}
		if p.Stop != store.StopNone {
			for _, rn := range r.live(p.ID) {
				r.stopRun(rn, p.Stop)
			}
		}
		if !created {
			continue
		}
		if p.Stop != store.StopNone {
			if err := r.Store.UpdateJobState(ctx, j.ID, store.JobStopped, ""); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := r.startCreated(ctx, p, j); err != nil {
			errs = append(errs, fmt.Errorf("start job %s of pipeline %s: %w", j.ID, p.ID, err))
		}
	}
	return errors.Join(errs...)
}

// stopRun asks a run to stop in mode, once per mode.
func (r *Runner) stopRun(rn *run, mode string) {
	r.mu.Lock()
	asked := rn.stopAsked == mode || (rn.stopAsked != "" && mode != store.StopImmediate && mode != store.StopForce)
	if !asked {
		rn.stopAsked = mode
	}
	r.mu.Unlock()
	if asked {
		return
	}
	switch mode {
	case store.StopImmediate, store.StopForce:
		rn.job.Cancel()
	default:
		rn.job.Stop()
	}
}

// Control runs the controller of `arroyo controller` until ctx ends:
// Recover first (resuming what a previous controller left running), then
// Reconcile every interval, reporting errors to warn. On return every job
// it runs has been stopped at a final checkpoint (Shutdown, bounded by
// shutdown).
func (r *Runner) Control(ctx context.Context, interval time.Duration, shutdown time.Duration, warn func(error)) error {
	if _, err := r.Recover(ctx); err != nil {
		warn(err)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := r.Reconcile(ctx); err != nil && ctx.Err() == nil {
			warn(err)
		}
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdown)
			defer cancel()
			return r.Shutdown(sctx)
		case <-t.C:
		}
	}
}
