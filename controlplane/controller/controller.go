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

	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/sqlplan"
)

// State is a job's state, as in Arroyo's state machine.
type State string

const (
	Created    State = "Created"
	Compiling  State = "Compiling"
	Scheduling State = "Scheduling"
	Running    State = "Running"
	Stopping   State = "Stopping"
	Stopped    State = "Stopped"
	Finishing  State = "Finishing"
	Finished   State = "Finished"
	Recovering State = "Recovering"
	Restarting State = "Restarting"
	Failing    State = "Failing"
	Failed     State = "Failed"
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
}

// Scheduler places a job's workers and runs them.
type Scheduler interface {
	// Start begins running prog; the returned Worker reports when it ends.
	// ctx bounds the placement only: once Start has returned, cancelling
	// ctx must not affect the program, which runs until it ends, Stop or
	// Cancel (the caller may be a REST handler that returns at once).
	Start(ctx context.Context, prog *program.Program) (Worker, error)
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

// Job is one run of a pipeline.
type Job struct {
	Program *program.Program

	mu      sync.Mutex
	state   State
	history []State
	worker  Worker
	done    chan struct{}
	err     error
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

func (j *Job) setState(s State) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.state = s
	j.history = append(j.history, s)
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
func (c *Controller) Submit(ctx context.Context, p Pipeline) (*Job, error) {
	if err := CheckParallelism(p.Parallelism, c.cfg); err != nil {
		return nil, err
	}
	j := &Job{done: make(chan struct{})}
	j.setState(Created)
	j.setState(Compiling)
	prog, err := sqlplan.Plan(p.File, p.Query, sqlplan.Options{
		Name:                p.Name,
		Parallelism:         p.Parallelism,
		DefaultSink:         p.DefaultSink,
		UpdateFlushInterval: c.cfg.Pipeline.UpdateAggregateFlushInterval,
	})
	if err != nil {
		j.setState(Failed)
		return nil, &PlanError{Err: err}
	}
	j.Program = prog
	j.setState(Scheduling)
	if err := ctx.Err(); err != nil {
		j.setState(Failed)
		return nil, fmt.Errorf("submit: %w", err)
	}
	w, err := c.sched.Start(ctx, prog)
	if err != nil {
		j.setState(Failed)
		return nil, err
	}
	j.worker = w
	j.setState(Running)
	go func() {
		err := w.Wait()
		j.mu.Lock()
		stopping := j.state == Stopping
		j.mu.Unlock()
		switch {
		case err != nil:
			j.setState(Failing)
			j.setState(Failed)
		case stopping:
			j.setState(Stopped)
		default:
			j.setState(Finishing)
			j.setState(Finished)
		}
		j.err = err
		close(j.done)
	}()
	return j, nil
}

// Stop asks the job to stop gracefully.
func (j *Job) Stop() {
	j.mu.Lock()
	if j.state == Running {
		j.state = Stopping
		j.history = append(j.history, Stopping)
	}
	j.mu.Unlock()
	j.worker.Stop()
}

// Cancel ends the job at once, without draining or checkpointing: nothing
// more is committed. The job ends Failed, with the cancellation as its
// error (what Wait returns).
func (j *Job) Cancel() { j.worker.Cancel() }

// Done is closed when the job has ended.
func (j *Job) Done() <-chan struct{} { return j.done }

// Wait blocks until the job ends and returns its error.
func (j *Job) Wait() error {
	<-j.done
	return j.err
}

// Counters reports the job's metrics.
func (j *Job) Counters() map[MetricKey]int64 { return j.worker.Counters() }

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
