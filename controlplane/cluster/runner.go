// Package cluster runs the pipelines of a metadata store: its Runner is the
// api.Runner of `arroyo cluster`, starting, stopping, restarting and
// rescaling jobs on a controller and recording their states, checkpoints
// and failures in the store, where the API reads them.
//
// It must not import connectors, udf or cmd.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/checkpoint"
	"github.com/arroyogo/arroyo/engine/program"
)

// Runner runs pipelines on a controller. Every job of a pipeline
// checkpoints into checkpoints/<pipeline id>/ of Checkpoints, so a restart,
// resume or rescale (a new job) continues from the previous job's last
// checkpoint.
type Runner struct {
	Store       *store.Store
	Ctl         *controller.Controller
	Checkpoints checkpoint.Storage
	// Keep is how many checkpoints each pipeline keeps
	// (pipeline.checkpoints_retained).
	Keep        int
	DefaultSink string
	// PreviewSink is the sink of a preview pipeline's bare SELECTs
	// (default "preview"); Preview, when set, streams what it wrote for
	// a job (connectors/preview.Stream, wired by cmd: this package may
	// not import connectors). See Output.
	PreviewSink string
	Preview     func(ctx context.Context, jobID string, done <-chan struct{}, emit func(api.OutputData) error) error
	Log         *slog.Logger
	// Customize, if set, adjusts every job's controller.Pipeline before
	// it is submitted: `arroyo run` sets the function registry of its
	// --udf modules (the controller's scheduler must run programs with
	// the same one).
	Customize func(*controller.Pipeline)
	// AfterDurable, if set, is the test hook run after a checkpoint is
	// durable, before its commit (controller.Pipeline.AfterDurable).
	AfterDurable func(*checkpoint.Metadata)
	// UDFs loads the stored UDFs a pipeline calls, and Scheduler (the
	// scheduler of Ctl) runs each job with them; nil: pipelines calling
	// UDFs fail to start.
	UDFs      api.UDFHost
	Scheduler *Scheduler
	// Metrics, if set, counts checkpoints, restarts and failures of the
	// jobs this runner starts (see NewMetrics).
	Metrics *Metrics

	mu   sync.Mutex
	runs map[string]*run // by job id
}

// run is one job this runner started.
type run struct {
	pipeline string
	job      *controller.Job
	// stopAsked is the stop mode Reconcile asked for ("" none yet).
	stopAsked string
}

var _ api.Runner = (*Runner)(nil)

func (r *Runner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

func (r *Runner) dir(pipelineID string) *checkpoint.Dir {
	return &checkpoint.Dir{Storage: r.Checkpoints, Root: "checkpoints/" + pipelineID, Keep: r.Keep}
}

// Start implements api.Runner: a new job for p, from the pipeline's last
// checkpoint if it has one.
func (r *Runner) Start(ctx context.Context, p *store.Pipeline, _ *program.Program) (string, error) {
	return r.start(ctx, p, true)
}

func (r *Runner) start(ctx context.Context, p *store.Pipeline, resume bool) (string, error) {
	j := &store.Job{PipelineID: p.ID}
	if err := r.Store.CreateJob(ctx, j); err != nil {
		return "", err
	}
	return j.ID, r.run(ctx, p, j.ID, resume)
}

// run runs the job record jobID of p on the controller. The engine's job
// id is the pipeline's: what operators key by it (a transactional sink's
// transactional ids and pending commits) stays the same across the
// pipeline's jobs, so a job resuming after a crash between a durable
// checkpoint and its commit finds what the previous one pre-committed.
func (r *Runner) run(ctx context.Context, p *store.Pipeline, jobID string, resume bool) error {
	bg := context.WithoutCancel(ctx)
	funcs, unbind, err := r.functions(ctx, p, engineJobID(p, jobID))
	if err != nil {
		_ = r.Store.UpdateJobState(bg, jobID, store.JobFailed, err.Error())
		return err
	}
	cp := controller.Pipeline{
		Name:               p.Name,
		File:               p.Name,
		Query:              p.Query,
		Parallelism:        p.Parallelism,
		DefaultSink:        r.sinkOf(p),
		AfterDurable:       r.AfterDurable,
		JobID:              engineJobID(p, jobID),
		Functions:          funcs,
		PlannedAt:          p.CreatedAt,
		Checkpoints:        r.dir(p.ID),
		Resume:             resume,
		CheckpointInterval: p.CheckpointInterval,
		OnState: func(s controller.State) {
			if s == controller.Failed {
				// Recorded with its failure message once Wait returns:
				// a reader must never see Failed without the reason.
				return
			}
			if err := r.Store.UpdateJobState(bg, jobID, string(s), ""); err != nil {
				r.log().Warn("record job state", "job", jobID, "state", s, "error", err)
			}
		},
		OnCheckpoint: func(epoch uint64, m *checkpoint.Metadata, cerr error) {
			r.Metrics.checkpoint(p.ID, jobID, m, cerr)
			r.recordCheckpoint(bg, jobID, epoch, m, cerr)
		},
		OnFailure: func(f controller.Failure) {
			r.Metrics.failure(p.ID, jobID, f)
			if err := r.Store.AddJobLog(bg, FailureLog(jobID, f)); err != nil {
				r.log().Warn("record job failure", "job", jobID, "error", err)
			}
		},
	}
	if r.Customize != nil {
		r.Customize(&cp)
	}
	job, err := r.Ctl.Submit(ctx, cp)
	if err != nil {
		unbind()
		_ = r.Store.UpdateJobState(bg, jobID, store.JobFailed, err.Error())
		return err
	}
	r.mu.Lock()
	if r.runs == nil {
		r.runs = map[string]*run{}
	}
	// The pipeline's earlier jobs that ended are forgotten: the runner
	// keeps one ended job per pipeline at most (its metrics and output
	// stay readable until the next job starts).
	for id, rn := range r.runs {
		if rn.pipeline == p.ID {
			select {
			case <-rn.job.Done():
				delete(r.runs, id)
			default:
			}
		}
	}
	r.runs[jobID] = &run{pipeline: p.ID, job: job}
	r.mu.Unlock()
	go func() {
		// A failed job's state is written here, with its error as the
		// message, in one update.
		defer unbind()
		if err := job.Wait(); err != nil {
			if uerr := r.Store.UpdateJobState(bg, jobID, string(job.State()), err.Error()); uerr != nil {
				r.log().Warn("record job failure", "job", jobID, "error", uerr)
			}
		}
	}()
	return nil
}

// engineJobID is the id a job of p runs under in the engine: the
// pipeline's, except for a preview, whose preview sink keeps a feed per
// job (the store's job id, the one GET .../jobs/{job}/output names).
func engineJobID(p *store.Pipeline, jobID string) string {
	if p.Preview {
		return jobID
	}
	return p.ID
}

// FailureLog is the job log message recording a failed attempt.
func FailureLog(jobID string, f controller.Failure) *store.JobLog {
	l := &store.JobLog{JobID: jobID, Level: store.LogError, OperatorID: f.Operator, Message: f.Message}
	if f.Subtask >= 0 {
		sub := f.Subtask
		l.Subtask = &sub
	}
	if f.Restarted {
		l.Details = "restarted from the last checkpoint"
	}
	return l
}

// CheckpointRecord is the store's record of checkpoint epoch of a job:
// ready with its files' sizes (m), or failed (m nil).
func CheckpointRecord(jobID string, epoch uint64, m *checkpoint.Metadata) *store.Checkpoint {
	c := &store.Checkpoint{JobID: jobID, Epoch: epoch, State: store.CheckpointFailed}
	if m == nil {
		return c
	}
	c.State, c.Path, c.Bytes, c.StartedAt, c.FinishedAt = store.CheckpointReady, m.Dir, m.Bytes(), m.Started, m.Finished
	for _, o := range m.Operators {
		oc := store.OperatorCheckpoint{OperatorID: o.ID, StartedAt: m.Started, FinishedAt: m.Finished}
		for _, s := range o.Subtasks {
			oc.Bytes += s.Size
			oc.Subtasks = append(oc.Subtasks, store.SubtaskCheckpoint{Index: s.Subtask, Bytes: s.Size, StartedAt: m.Started, FinishedAt: m.Finished})
		}
		c.Operators = append(c.Operators, oc)
	}
	return c
}

func (r *Runner) recordCheckpoint(ctx context.Context, jobID string, epoch uint64, m *checkpoint.Metadata, cerr error) {
	if err := r.Store.CreateCheckpoint(ctx, CheckpointRecord(jobID, epoch, m)); err != nil {
		r.log().Warn("record checkpoint", "job", jobID, "epoch", epoch, "error", err)
	}
	if cerr != nil {
		_ = r.Store.AddJobLog(ctx, &store.JobLog{JobID: jobID, Level: store.LogWarn, Message: cerr.Error()})
	}
}

// Stop implements api.Runner: checkpoint and graceful stop at a final
// checkpoint (the one a resume starts from); immediate and force cancel.
func (r *Runner) Stop(_ context.Context, jobID, mode string) error {
	r.mu.Lock()
	rn := r.runs[jobID]
	r.mu.Unlock()
	if rn == nil {
		return fmt.Errorf("job '%s' is not running on this controller: %w", jobID, store.ErrConflict)
	}
	switch mode {
	case store.StopCheckpoint, store.StopGraceful:
		rn.job.Stop()
	case store.StopImmediate, store.StopForce:
		rn.job.Cancel()
	default:
		return fmt.Errorf("stop mode %q: want checkpoint, graceful, immediate or force", mode)
	}
	return nil
}

// Restart implements api.Runner: a job of p that still runs is stopped at
// a checkpoint (a rescale or forced restart) and awaited; then a new job
// starts at p's parallelism, from the last checkpoint unless
// opts.IgnoreState (which deletes the pipeline's checkpoints).
func (r *Runner) Restart(ctx context.Context, p *store.Pipeline, _ *program.Program, opts api.RestartOptions) (string, error) {
	r.mu.Lock()
	var live []*run
	for id, rn := range r.runs {
		if rn.pipeline != p.ID {
			continue
		}
		select {
		case <-rn.job.Done():
			delete(r.runs, id)
		default:
			live = append(live, rn)
		}
	}
	r.mu.Unlock()
	for _, rn := range live {
		if opts.IgnoreState {
			rn.job.Cancel()
		} else {
			rn.job.Stop()
		}
		select {
		case <-rn.job.Done():
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for a job of pipeline %s to stop: %w", p.ID, ctx.Err())
		case <-time.After(time.Minute):
			return "", fmt.Errorf("a job of pipeline %s did not stop within a minute: %w", p.ID, store.ErrConflict)
		}
	}
	if opts.IgnoreState {
		if err := r.Checkpoints.RemoveAll(ctx, "checkpoints/"+p.ID); err != nil {
			return "", fmt.Errorf("discard the checkpoints of %s: %w", p.ID, err)
		}
	}
	return r.start(ctx, p, !opts.IgnoreState)
}

// Job returns a job this runner started (nil if it did not).
func (r *Runner) Job(jobID string) *controller.Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rn := r.runs[jobID]; rn != nil {
		return rn.job
	}
	return nil
}

// Shutdown stops every running job at a checkpoint and waits for them
// (until ctx ends).
func (r *Runner) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	var jobs []*controller.Job
	for _, rn := range r.runs {
		jobs = append(jobs, rn.job)
	}
	r.mu.Unlock()
	for _, j := range jobs {
		j.Stop()
	}
	var errs []error
	for _, j := range jobs {
		select {
		case <-j.Done():
		case <-ctx.Done():
			j.Cancel()
			errs = append(errs, fmt.Errorf("job %s: %w", j.ID, ctx.Err()))
		}
	}
	return errors.Join(errs...)
}

// Recover starts a new job, from its last checkpoint, for every stored
// pipeline that should be running (stop = none) and whose newest job did
// not finish or fail: the cluster was stopped (its jobs stopped at a final
// checkpoint) or it crashed (the job records say Running). It returns the
// pipelines it resumed.
func (r *Runner) Recover(ctx context.Context) ([]string, error) {
	ps, _, err := r.Store.ListPipelines(ctx, store.Page{})
	if err != nil {
		return nil, err
	}
	var resumed []string
	var errs []error
	for i := range ps {
		p := &ps[i]
		if p.Preview {
			continue
		}
		jobs, err := r.Store.ListJobs(ctx, p.ID)
		if err != nil {
			return resumed, err
		}
		if p.Stop != store.StopNone {
			// Asked to stop: nothing resumes, but a job record the
			// crashed controller left running has ended.
			if j := jobs; len(j) > 0 && !store.Terminal(j[0].State) && r.Job(j[0].ID) == nil {
				if j[0].State == store.JobCreated {
					_ = r.Store.UpdateJobState(ctx, j[0].ID, store.JobStopped, "") // it never ran
				} else {
					_ = r.Store.UpdateJobState(ctx, j[0].ID, store.JobFailed, "the controller stopped while it ran")
				}
			}
			continue
		}
		if len(jobs) > 0 && (jobs[0].State == store.JobFinished || jobs[0].State == store.JobFailed) {
			continue
		}
		if len(jobs) > 0 && jobs[0].State == store.JobCreated && r.Job(jobs[0].ID) == nil {
			// Asked for (an API's Desired) or created by a runner that
			// stopped before it ran it: run that record.
			if err := r.startCreated(ctx, p, &jobs[0]); err != nil {
				errs = append(errs, fmt.Errorf("start job %s of pipeline %s: %w", jobs[0].ID, p.ID, err))
				continue
			}
			resumed = append(resumed, p.ID)
			continue
		}
		if len(jobs) > 0 && !store.Terminal(jobs[0].State) && r.Job(jobs[0].ID) == nil {
			// A job this process never ran (the last one crashed).
			_ = r.Store.UpdateJobState(ctx, jobs[0].ID, store.JobFailed, OrphanMessage)
		}
		if _, err := r.start(ctx, p, true); err != nil {
			errs = append(errs, fmt.Errorf("resume pipeline %s: %w", p.ID, err))
			continue
		}
		resumed = append(resumed, p.ID)
	}
	return resumed, errors.Join(errs...)
}

// OrphanMessage is the failure message of a job record left running by a
// controller that stopped (crashed) while it ran.
const OrphanMessage = "the controller stopped while it ran; resumed in a new job"

// FailOrphans marks every job record that says it runs but that this
// runner does not run as Failed (OrphanMessage): what a controller that
// crashed left behind, before a new one resumes their pipelines. It is
// only right while no other controller runs jobs on the store (see
// docs/api.md, "arroyo controller").
func (r *Runner) FailOrphans(ctx context.Context) error {
	jobs, err := r.Store.ListAllJobs(ctx)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if store.Terminal(j.State) || r.Job(j.ID) != nil {
			continue
		}
		if err := r.Store.UpdateJobState(ctx, j.ID, store.JobFailed, OrphanMessage); err != nil {
			return err
		}
	}
	return nil
}
