// Package controller plans pipelines and drives their jobs through Arroyo's
// job state machine, placing each job's workers with a Scheduler.
//
// The same controller serves `arroyo run` (embedded scheduler, one process)
// and, later, `arroyo cluster` behind the REST API.
//
// It must not import connectors, udf or cmd.
package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/engine/checkpoint"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/sqlplan"
)

// State is a job's state, as in Arroyo's state machine.
type State string

const (
	Created            State = "Created"
	Compiling          State = "Compiling"
	Scheduling         State = "Scheduling"
	Running            State = "Running"
	CheckpointStopping State = "CheckpointStopping"
	Stopping           State = "Stopping"
	Stopped            State = "Stopped"
	Finishing          State = "Finishing"
	Finished           State = "Finished"
	Recovering         State = "Recovering"
	Rescaling          State = "Rescaling"
	Restarting         State = "Restarting"
	Failing            State = "Failing"
	Failed             State = "Failed"
)

// Pipeline is what a user submits.
type Pipeline struct {
	Name string
	// File names the query's origin in error messages.
	File        string
	Query       string
	Parallelism int
	// DefaultSink receives bare SELECTs (e.g. "stdout").
	DefaultSink string
	// Functions resolves the query's function names: the pipeline's UDF
	// scope over the built-ins (nil: the built-ins). The scheduler must run
	// the program with the same registry (dataflow.Options.Functions).
	Functions *expr.Registry
	// JobID names the job (default Name): state, checkpoints and
	// transactional ids are keyed by it, so a resumed job keeps it.
	JobID string
	// PlannedAt, if set, is the planning time (the clock of plan-time
	// defaults such as a generator's base time): a resumed job is planned
	// with its first run's, so it replays the same events.
	PlannedAt time.Time
	// Checkpoints, if set, makes the job's checkpoints durable there.
	Checkpoints *checkpoint.Dir
	// Resume starts the job from the latest checkpoint in Checkpoints.
	Resume bool
	// CheckpointInterval overrides pipeline.checkpoint_interval.
	CheckpointInterval time.Duration
	// OnState, OnFailure and OnCheckpoint, if set, are told of every state
	// change, failed attempt and checkpoint written or failed (the
	// metadata store records them); AfterDurable is a test hook run after
	// a checkpoint is durable, before its commit.
	OnState      func(State)
	OnFailure    func(Failure)
	OnCheckpoint func(epoch uint64, m *checkpoint.Metadata, err error)
	AfterDurable func(*checkpoint.Metadata)
}

// RunOptions say how a Scheduler runs one attempt of a job.
type RunOptions struct {
	JobID string
	// Checkpoints, if set, is where the attempt writes its checkpoints,
	// every CheckpointInterval.
	Checkpoints        *checkpoint.Dir
	CheckpointInterval time.Duration
	// Restore, if set, is the checkpoint (in Checkpoints) to start from.
	Restore      *checkpoint.Metadata
	OnCheckpoint func(epoch uint64, m *checkpoint.Metadata, err error)
	AfterDurable func(*checkpoint.Metadata)
}

// Scheduler places a job's workers and runs them.
type Scheduler interface {
	// Start begins running prog as opts say; the returned Worker reports
	// when it ends.
	// ctx bounds the placement only: once Start has returned, cancelling
	// ctx must not affect the program, which runs until it ends, Stop or
	// Cancel (the caller may be a REST handler that returns at once).
	Start(ctx context.Context, prog *program.Program, opts RunOptions) (Worker, error)
}

// Worker is a running program, wherever it runs.
type Worker interface {
	// Stop stops the program at a final checkpoint: sources emit nothing
	// after it, data before it drains, operators snapshot and exit without
	// finishing (sinks are flushed and closed, not finished). Wait then
	// returns nil unless something failed.
	Stop()
	// Cancel ends the program at once, without draining or
	// checkpointing: sinks are closed without committing.
	Cancel()
	// Wait blocks until the program has ended and returns its error.
	Wait() error
	// Counters reports the program's metrics, one value per operator
	// subtask and name.
	Counters() map[MetricKey]int64
}

// MetricKey identifies one metric of one operator subtask. Node and
// Operator name the operator (its node id in the program and its
// description; Operator becomes the program's stable operator id once it
// has one), so two operators with the same description stay apart.
type MetricKey struct {
	Node       int
	OperatorID string // Node.OperatorID: stable across re-plans
	Operator   string // the node's description, for people
	Subtask    int
	Name       string
}

// Controller plans and runs pipelines.
type Controller struct {
	sched Scheduler
	cfg   config.Config
}

// New returns a controller that places workers with sched, configured by
// cfg (config.Default() unless the caller loaded one).
func New(sched Scheduler, cfg config.Config) *Controller {
	return &Controller{sched: sched, cfg: cfg}
}

// ErrParallelism is what errors.Is finds in the error for a parallelism
// out of range.
var ErrParallelism = errors.New("bad parallelism")

// parallelismError says what is wrong in its own words; it is
// ErrParallelism for errors.Is.
type parallelismError struct{ msg string }

func (e *parallelismError) Error() string        { return e.msg }
func (e *parallelismError) Is(target error) bool { return target == ErrParallelism }

// CheckParallelism checks a requested parallelism (0 means 1) against
// the configured maximum. Submit calls it, so every way of submitting a
// pipeline gets the check; the CLI also calls it before reading a query.
func CheckParallelism(p int, cfg config.Config) error {
	maxP := cfg.Pipeline.MaxParallelism
	switch {
	case p < 0:
		return &parallelismError{fmt.Sprintf("parallelism must be at least 1, got %d", p)}
	case p > maxP:
		return &parallelismError{fmt.Sprintf("parallelism %d exceeds the maximum of %d (set pipeline.max_parallelism in the config file or %sPIPELINE__MAX_PARALLELISM to allow more)", p, maxP, config.EnvPrefix)}
	}
	return nil
}

// Job is one run of a pipeline: its attempts (a failed attempt is
// restarted from the last checkpoint, up to pipeline.allowed_restarts)
// and its state.
type Job struct {
	Program *program.Program
	// ID is the job's id (Pipeline.JobID, or the pipeline's name).
	ID string

	ctl    *Controller
	p      Pipeline
	cancel chan struct{} // closed by Cancel: no restart may follow

	mu        sync.Mutex
	state     State
	history   []State
	worker    Worker
	stopping  bool
	cancelled bool
	failures  []Failure
	restarts  int
	done      chan struct{}
	err       error
}

// Failure is one failed attempt of a job.
type Failure struct {
	Time     time.Time
	Operator string // the failing operator's description ("" if unknown)
	Subtask  int
	Message  string
	// Restarted says whether the job was restarted after it.
	Restarted bool
	retriable bool
}

// State returns the job's current state.
func (j *Job) State() State {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.state
}

// History returns every state the job has been in, in order.
func (j *Job) History() []State {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]State(nil), j.history...)
}

// Failures returns the job's failed attempts, oldest first.
func (j *Job) Failures() []Failure {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Failure(nil), j.failures...)
}

func (j *Job) setState(s State) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.setStateLocked(s)
}

func (j *Job) setStateLocked(s State) {
	j.state = s
	j.history = append(j.history, s)
	if f := j.p.OnState; f != nil {
		f(s)
	}
}

// PlanError is an error found while compiling a pipeline's SQL: the
// user's query is wrong and retrying cannot help. Its message is the
// planner's (file, line, column and what is wrong).
type PlanError struct{ Err error }

func (e *PlanError) Error() string { return e.Err.Error() }
func (e *PlanError) Unwrap() error { return e.Err }

// Submit compiles the pipeline and starts it. A compile error is a
// *PlanError and the job never runs. ctx bounds the submission (planning
// and scheduling) only: the job's lifetime is its own, ended by the job
// finishing, Stop or Cancel, not by ctx (a request handler that returns
// must not cancel the job it started).
//
// With p.Checkpoints set the job checkpoints there every
// pipeline.checkpoint_interval (p.CheckpointInterval if set), and, with
// p.Resume, starts from the latest complete checkpoint found there (a
// restore at another parallelism is fine; another query is refused).
// A failed attempt is then restarted from the latest checkpoint with
// backoff, up to pipeline.allowed_restarts times (the count resets after
// pipeline.healthy_duration of running without failure).
func (c *Controller) Submit(ctx context.Context, p Pipeline) (*Job, error) {
	if err := CheckParallelism(p.Parallelism, c.cfg); err != nil {
		return nil, err
	}
	id := p.JobID
	if id == "" {
		id = p.Name
	}
	j := &Job{ID: id, ctl: c, p: p, done: make(chan struct{}), cancel: make(chan struct{})}
	j.setState(Created)
	j.setState(Compiling)
	prog, err := sqlplan.Plan(p.File, p.Query, planOptions(p, c.cfg))
	if err != nil {
		j.setState(Failed)
		return nil, &PlanError{Err: err}
	}
	j.Program = prog
	var restore *checkpoint.Metadata
	if p.Checkpoints != nil && p.Resume {
		if restore, err = c.latest(ctx, p.Checkpoints, prog); err != nil {
			j.setState(Failed)
			return nil, err
		}
	}
	j.setState(Scheduling)
	if err := ctx.Err(); err != nil {
		j.setState(Failed)
		return nil, fmt.Errorf("submit: %w", err)
	}
	w, err := c.sched.Start(ctx, prog, j.runOptions(restore))
	if err != nil {
		j.setState(Failed)
		return nil, err
	}
	j.mu.Lock()
	j.worker = w
	j.setStateLocked(Running)
	j.mu.Unlock()
	go j.supervise(w, time.Now())
	return j, nil
}

// Validate plans the pipeline without running it; a compile error is a
// *PlanError.
func Validate(p Pipeline, cfg config.Config) error {
	if err := CheckParallelism(p.Parallelism, cfg); err != nil {
		return err
	}
	if _, err := sqlplan.Plan(p.File, p.Query, planOptions(p, cfg)); err != nil {
		return &PlanError{Err: err}
	}
	return nil
}

func planOptions(p Pipeline, cfg config.Config) sqlplan.Options {
	opts := sqlplan.Options{
		Name:                p.Name,
		Parallelism:         p.Parallelism,
		DefaultSink:         p.DefaultSink,
		UpdateFlushInterval: cfg.Pipeline.UpdateAggregateFlushInterval,
		Functions:           p.Functions,
	}
	if !p.PlannedAt.IsZero() {
		opts.Now = func() time.Time { return p.PlannedAt }
	}
	return opts
}

// latest returns the latest complete checkpoint in d that prog can be
// restored from (nil if there is none).
func (c *Controller) latest(ctx context.Context, d *checkpoint.Dir, prog *program.Program) (*checkpoint.Metadata, error) {
	m, err := d.Latest(ctx)
	if err != nil || m == nil {
		return nil, err
	}
	if err := checkpoint.Check(m, prog); err != nil {
		return nil, fmt.Errorf("cannot resume from %s/%s: %w", d.Storage, m.Dir, err)
	}
	return m, nil
}

func (j *Job) runOptions(restore *checkpoint.Metadata) RunOptions {
	iv := j.p.CheckpointInterval
	if iv == 0 {
		iv = j.ctl.cfg.Pipeline.CheckpointInterval
	}
	o := RunOptions{JobID: j.ID, Restore: restore, OnCheckpoint: j.p.OnCheckpoint, AfterDurable: j.p.AfterDurable}
	if j.p.Checkpoints != nil {
		o.Checkpoints, o.CheckpointInterval = j.p.Checkpoints, iv
	}
	return o
}

// supervise waits for the attempt w (started at began) and ends the job
// or restarts it.
func (j *Job) supervise(w Worker, began time.Time) {
	for {
		err := w.Wait()
		j.mu.Lock()
		stopping, cancelled := j.stopping, j.cancelled
		j.mu.Unlock()
		if err == nil {
			if stopping {
				j.setState(Stopped)
			} else {
				j.setState(Finishing)
				j.setState(Finished)
			}
			j.end(nil)
			return
		}
		f := failureOf(err)
		cfg := j.ctl.cfg.Pipeline
		if time.Since(began) >= cfg.HealthyDuration {
			j.mu.Lock()
			j.restarts = 0
			j.mu.Unlock()
		}
		j.mu.Lock()
		retry := !stopping && !cancelled && j.p.Checkpoints != nil && f.retriable && j.restarts < cfg.AllowedRestarts
		f.Restarted = retry
		j.failures = append(j.failures, f)
		if retry {
			j.restarts++
			j.setStateLocked(Recovering)
		}
		n := j.restarts
		j.mu.Unlock()
		if f := j.p.OnFailure; f != nil {
			f(j.Failures()[len(j.Failures())-1])
		}
		if !retry {
			j.setState(Failing)
			j.setState(Failed)
			j.end(err)
			return
		}
		next, err := j.restart(n)
		if err != nil {
			j.setState(Failing)
			j.setState(Failed)
			j.end(err)
			return
		}
		w, began = next, time.Now()
	}
}

// restartBackoff is the wait before restart n (1, 2, ...): 100ms doubling
// up to 10s.
func restartBackoff(n int) time.Duration {
	d := 100 * time.Millisecond
	for i := 1; i < n && d < 10*time.Second; i++ {
		d *= 2
	}
	return min(d, 10*time.Second)
}

// restart starts attempt n+1 from the latest checkpoint after the backoff;
// Cancel during the wait ends the job instead.
func (j *Job) restart(n int) (Worker, error) {
	t := time.NewTimer(restartBackoff(n))
	defer t.Stop()
	select {
	case <-t.C:
	case <-j.cancel:
		return nil, context.Canceled
	}
	ctx := context.Background()
	restore, err := j.ctl.latest(ctx, j.p.Checkpoints, j.Program)
	if err != nil {
		return nil, fmt.Errorf("restart: %w", err)
	}
	w, err := j.ctl.sched.Start(ctx, j.Program, j.runOptions(restore))
	if err != nil {
		return nil, fmt.Errorf("restart: %w", err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.worker = w
	if j.cancelled {
		w.Cancel()
	} else if j.stopping {
		w.Stop()
	}
	j.setStateLocked(Running)
	return w, nil
}

func (j *Job) end(err error) {
	j.mu.Lock()
	j.err = err
	j.mu.Unlock()
	close(j.done)
}

// taskFailure is what a worker's error says of itself (the runtime's
// TaskError implements it): only such an error can be retried.
type taskFailure interface {
	TaskFailure() (operator string, subtask int, message string, retriable bool)
}

// failureOf describes a failed attempt's error.
func failureOf(err error) Failure {
	f := Failure{Time: time.Now().UTC(), Subtask: -1, Message: err.Error()}
	var tf taskFailure
	if errors.As(err, &tf) {
		f.Operator, f.Subtask, f.Message, f.retriable = tf.TaskFailure()
	}
	return f
}

// Stop asks the job to stop gracefully: a final checkpoint (with
// checkpoints configured, the one a resume starts from), then the end.
func (j *Job) Stop() {
	j.mu.Lock()
	if !j.stopping && (j.state == Running || j.state == Recovering) {
		j.stopping = true
		if j.p.Checkpoints != nil {
			j.setStateLocked(CheckpointStopping)
		} else {
			j.setStateLocked(Stopping)
		}
	}
	w := j.worker
	j.mu.Unlock()
	w.Stop()
}

// Cancel ends the job at once, without draining or checkpointing: nothing
// more is committed, and it is not restarted. The job ends Failed, with
// the cancellation as its error (what Wait returns).
func (j *Job) Cancel() {
	j.mu.Lock()
	if !j.cancelled {
		j.cancelled = true
		close(j.cancel)
	}
	w := j.worker
	j.mu.Unlock()
	w.Cancel()
}

// Done is closed when the job has ended.
func (j *Job) Done() <-chan struct{} { return j.done }

// Wait blocks until the job ends and returns its error.
func (j *Job) Wait() error {
	<-j.done
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// Counters reports the metrics of the job's current (or last) attempt.
func (j *Job) Counters() map[MetricKey]int64 {
	j.mu.Lock()
	w := j.worker
	j.mu.Unlock()
	return w.Counters()
}

// Sum adds up the metric name of an operator (node) over its subtasks.
func Sum(m map[MetricKey]int64, node int, name string) int64 {
	var n int64
	for k, v := range m {
		if k.Node == node && k.Name == name {
			n += v
		}
	}
	return n
}
