package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Stop modes of a pipeline (Arroyo's StopType): what its job should do.
const (
	StopNone       = "none"       // run
	StopCheckpoint = "checkpoint" // take a final checkpoint, then stop
	StopGraceful   = "graceful"   // stop the sources, drain, stop
	StopImmediate  = "immediate"  // stop now, without a checkpoint
	StopForce      = "force"      // kill the workers
)

// StopModes lists the stop modes in Arroyo's order.
var StopModes = []string{StopNone, StopCheckpoint, StopGraceful, StopImmediate, StopForce}

// Pipeline is a SQL query deployed as a streaming job.
type Pipeline struct {
	ID          string
	Name        string
	Query       string
	Parallelism int
	// UDFs are the names of the stored UDFs the query may call.
	UDFs []string
	// Stop is the requested stop mode (StopNone while it should run).
	Stop string
	// CheckpointInterval is how often its jobs checkpoint (0: the
	// configured default).
	CheckpointInterval time.Duration
	// Preview marks a pipeline created by POST /pipelines/preview.
	Preview bool
	// Graph is the planned dataflow graph as the API shows it (JSON;
	// empty when unknown).
	Graph     json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CreatePipeline stores p, setting its ID and times (and Stop to StopNone
// when empty).
func (s *Store) CreatePipeline(ctx context.Context, p *Pipeline) error {
	if p.Stop == "" {
		p.Stop = StopNone
	}
	if p.UDFs == nil {
		p.UDFs = []string{}
	}
	udfs, err := jsonText(p.UDFs)
	if err != nil {
		return err
	}
	graph, err := rawText(p.Graph, "")
	if err != nil {
		return fmt.Errorf("pipeline graph: %w", err)
	}
	id, now := NewID(PrefixPipeline), s.stamp()
	_, err = s.exec(ctx, `INSERT INTO pipelines (id, name, query, parallelism, udfs, stop, checkpoint_interval_micros, preview, graph, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, p.Name, p.Query, p.Parallelism, udfs, p.Stop, p.CheckpointInterval.Microseconds(),
		boolInt(p.Preview), graph, now.UnixMicro(), now.UnixMicro())
	if err = classify(err, "a pipeline with this id", "", ""); err != nil {
		return err
	}
	p.ID, p.CreatedAt, p.UpdatedAt = id, now, now
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const pipelineCols = "id, name, query, parallelism, udfs, stop, checkpoint_interval_micros, preview, graph, created_at, updated_at"

func scanPipeline(sc interface{ Scan(...any) error }) (Pipeline, error) {
	var p Pipeline
	var udfs string
	var interval int64
	var preview int
	var graph string
	var created, updated sql.NullInt64
	if err := sc.Scan(&p.ID, &p.Name, &p.Query, &p.Parallelism, &udfs, &p.Stop, &interval, &preview, &graph, &created, &updated); err != nil {
		return p, err
	}
	if graph != "" {
		p.Graph = json.RawMessage(graph)
	}
	if err := json.Unmarshal([]byte(udfs), &p.UDFs); err != nil {
		return p, fmt.Errorf("pipeline %s: stored udfs: %w", p.ID, err)
	}
	p.CheckpointInterval = time.Duration(interval) * time.Microsecond
	p.Preview = preview != 0
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return p, nil
}

// GetPipeline returns the pipeline with id.
func (s *Store) GetPipeline(ctx context.Context, id string) (*Pipeline, error) {
	p, err := scanPipeline(s.queryRow(ctx, "SELECT "+pipelineCols+" FROM pipelines WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("pipeline '%s'", id)
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// ListPipelines returns a page of pipelines, newest first, and whether
// more follow.
func (s *Store) ListPipelines(ctx context.Context, p Page) ([]Pipeline, bool, error) {
	q, args, err := s.page(ctx, "pipelines", "SELECT "+pipelineCols+" FROM pipelines WHERE 1=1", nil, p)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	items, err := collect(rows, scanPipeline)
	if err != nil {
		return nil, false, err
	}
	items, more := trim(items, p)
	return items, more, nil
}

// UpdatePipeline writes p's name, query, parallelism, UDFs, stop mode,
// checkpoint interval, preview flag and graph, and sets its UpdatedAt.
func (s *Store) UpdatePipeline(ctx context.Context, p *Pipeline) error {
	if p.UDFs == nil {
		p.UDFs = []string{}
	}
	udfs, err := jsonText(p.UDFs)
	if err != nil {
		return err
	}
	if p.Stop == "" {
		p.Stop = StopNone
	}
	graph, err := rawText(p.Graph, "")
	if err != nil {
		return fmt.Errorf("pipeline graph: %w", err)
	}
	now := s.stamp()
	res, err := s.exec(ctx, `UPDATE pipelines SET name = ?, query = ?, parallelism = ?, udfs = ?, stop = ?,
checkpoint_interval_micros = ?, preview = ?, graph = ?, updated_at = ? WHERE id = ?`,
		p.Name, p.Query, p.Parallelism, udfs, p.Stop, p.CheckpointInterval.Microseconds(), boolInt(p.Preview), graph, now.UnixMicro(), p.ID)
	if err := mustAffect(res, err, func() error { return notFound("pipeline '%s'", p.ID) }); err != nil {
		return err
	}
	p.UpdatedAt = now
	return nil
}

// DeletePipeline deletes the pipeline with id and its jobs, their
// checkpoints and log messages.
func (s *Store) DeletePipeline(ctx context.Context, id string) error {
	res, err := s.exec(ctx, "DELETE FROM pipelines WHERE id = ?", id)
	return mustAffect(res, err, func() error { return notFound("pipeline '%s'", id) })
}

// Job states, as Arroyo's state machine names them.
const (
	JobCreated            = "Created"
	JobCompiling          = "Compiling"
	JobScheduling         = "Scheduling"
	JobRunning            = "Running"
	JobCheckpointStopping = "CheckpointStopping"
	JobStopping           = "Stopping"
	JobStopped            = "Stopped"
	JobFinishing          = "Finishing"
	JobFinished           = "Finished"
	JobRecovering         = "Recovering"
	JobRescaling          = "Rescaling"
	JobRestarting         = "Restarting"
	JobFailing            = "Failing"
	JobFailed             = "Failed"
)

// Terminal reports whether a job in state has ended.
func Terminal(state string) bool {
	return state == JobStopped || state == JobFinished || state == JobFailed
}

// Job is one run of a pipeline.
type Job struct {
	ID         string
	PipelineID string
	State      string
	// RunID counts the job's (re)starts: each restart from a checkpoint
	// is a new run.
	RunID          int64
	StartedAt      time.Time // zero until it first runs
	FinishedAt     time.Time // zero until it ends
	FailureMessage string
	Restarts       int
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// CreateJob stores j for its pipeline, setting its ID and times (and State
// to JobCreated when empty). A PipelineID that names no pipeline is
// ErrNotFound.
func (s *Store) CreateJob(ctx context.Context, j *Job) error {
	if j.State == "" {
		j.State = JobCreated
	}
	id, now := NewID(PrefixJob), s.stamp()
	_, err := s.exec(ctx, `INSERT INTO jobs (id, pipeline_id, state, run_id, started_at, finished_at, failure_message, restarts, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, j.PipelineID, j.State, j.RunID, micros(j.StartedAt), micros(j.FinishedAt),
		j.FailureMessage, j.Restarts, now.UnixMicro(), now.UnixMicro())
	if err = classify(err, "a job with this id", fmt.Sprintf("pipeline '%s'", j.PipelineID), ""); err != nil {
		return err
	}
	j.ID, j.CreatedAt, j.UpdatedAt = id, now, now
	return nil
}

const jobCols = "id, pipeline_id, state, run_id, started_at, finished_at, failure_message, restarts, created_at, updated_at"

func scanJob(sc interface{ Scan(...any) error }) (Job, error) {
	var j Job
	var started, finished, created, updated sql.NullInt64
	err := sc.Scan(&j.ID, &j.PipelineID, &j.State, &j.RunID, &started, &finished, &j.FailureMessage, &j.Restarts, &created, &updated)
	j.StartedAt, j.FinishedAt = fromMicros(started), fromMicros(finished)
	j.CreatedAt, j.UpdatedAt = fromMicros(created), fromMicros(updated)
	return j, err
}

// GetJob returns the job with id.
func (s *Store) GetJob(ctx context.Context, id string) (*Job, error) {
	j, err := scanJob(s.queryRow(ctx, "SELECT "+jobCols+" FROM jobs WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("job '%s'", id)
	}
	if err != nil {
		return nil, err
	}
	return &j, nil
}

// ListJobs returns the jobs of a pipeline, newest first (the current job
// is the first).
func (s *Store) ListJobs(ctx context.Context, pipelineID string) ([]Job, error) {
	rows, err := s.query(ctx, "SELECT "+jobCols+" FROM jobs WHERE pipeline_id = ? ORDER BY seq DESC", pipelineID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanJob)
}

// ListAllJobs returns every job of every pipeline, newest first.
func (s *Store) ListAllJobs(ctx context.Context) ([]Job, error) {
	rows, err := s.query(ctx, "SELECT "+jobCols+" FROM jobs ORDER BY seq DESC")
	if err != nil {
		return nil, err
	}
	return collect(rows, scanJob)
}

// UpdateJobState sets a job's state and failure message (empty clears
// it). The first time the job becomes Running its StartedAt is set; when
// it reaches Stopped, Finished or Failed its FinishedAt is set (if not
// already), and cleared when it leaves them (a failed job that recovers
// is running again).
func (s *Store) UpdateJobState(ctx context.Context, id, state, failure string) error {
	now := s.stamp().UnixMicro()
	var started, finished any
	if state == JobRunning {
		started = now
	}
	if Terminal(state) {
		finished = now
	}
	res, err := s.exec(ctx, `UPDATE jobs SET state = ?, failure_message = ?, updated_at = ?,
started_at = COALESCE(started_at, ?), finished_at = CASE WHEN ? THEN COALESCE(finished_at, ?) ELSE NULL END WHERE id = ?`,
		state, failure, now, started, Terminal(state), finished, id)
	return mustAffect(res, err, func() error { return notFound("job '%s'", id) })
}

// UpdateJob writes every field of j but its IDs and CreatedAt, and sets
// its UpdatedAt.
func (s *Store) UpdateJob(ctx context.Context, j *Job) error {
	now := s.stamp()
	res, err := s.exec(ctx, `UPDATE jobs SET state = ?, run_id = ?, started_at = ?, finished_at = ?, failure_message = ?,
restarts = ?, updated_at = ? WHERE id = ?`, j.State, j.RunID, micros(j.StartedAt), micros(j.FinishedAt), j.FailureMessage,
		j.Restarts, now.UnixMicro(), j.ID)
	if err := mustAffect(res, err, func() error { return notFound("job '%s'", j.ID) }); err != nil {
		return err
	}
	j.UpdatedAt = now
	return nil
}

// Checkpoint states.
const (
	CheckpointInProgress = "inprogress"
	CheckpointReady      = "ready"
	CheckpointFailed     = "failed"
	CheckpointCompacted  = "compacted"
)

// Checkpoint is one epoch's checkpoint of a job.
type Checkpoint struct {
	ID         string
	JobID      string
	Epoch      uint64
	State      string // CheckpointInProgress, ...
	Path       string // where its files are
	Bytes      int64
	StartedAt  time.Time
	FinishedAt time.Time // zero while in progress
	// Operators are the per-operator phases and timings (stored as JSON).
	Operators []OperatorCheckpoint
}

// OperatorCheckpoint is one operator's part of a checkpoint.
type OperatorCheckpoint struct {
	OperatorID string               `json:"operatorId"`
	Bytes      int64                `json:"bytes"`
	StartedAt  time.Time            `json:"startedAt"`
	FinishedAt time.Time            `json:"finishedAt"`
	Subtasks   []SubtaskCheckpoint  `json:"subtasks,omitempty"`
	Phases     []CheckpointPhaseSet `json:"phases,omitempty"`
}

// SubtaskCheckpoint is one subtask's part of an operator's checkpoint.
type SubtaskCheckpoint struct {
	Index      int                  `json:"index"`
	Bytes      int64                `json:"bytes"`
	StartedAt  time.Time            `json:"startedAt"`
	FinishedAt time.Time            `json:"finishedAt"`
	Phases     []CheckpointPhaseSet `json:"phases,omitempty"`
}

// CheckpointPhaseSet is a named phase of a checkpoint (alignment, sync
// snapshot, async write, commit) and when it ran.
type CheckpointPhaseSet struct {
	Name       string    `json:"name"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
}

// CreateCheckpoint stores c, setting its ID (and State to
// CheckpointInProgress and StartedAt to now when unset). A second
// checkpoint of one job and epoch is ErrConflict.
func (s *Store) CreateCheckpoint(ctx context.Context, c *Checkpoint) error {
	if c.State == "" {
		c.State = CheckpointInProgress
	}
	if c.StartedAt.IsZero() {
		c.StartedAt = s.stamp()
	}
	ops, err := jsonText(nonNil(c.Operators))
	if err != nil {
		return err
	}
	id := NewID(PrefixCheckpoint)
	_, err = s.exec(ctx, `INSERT INTO checkpoints (id, job_id, epoch, state, path, bytes, started_at, finished_at, operators)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, c.JobID, int64(c.Epoch), c.State, c.Path, c.Bytes, c.StartedAt.UnixMicro(), micros(c.FinishedAt), ops)
	if err = classify(err, fmt.Sprintf("checkpoint %d of job '%s'", c.Epoch, c.JobID), fmt.Sprintf("job '%s'", c.JobID), ""); err != nil {
		return err
	}
	c.ID = id
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// UpdateCheckpoint writes c's state, path, bytes, finish time and
// operators.
func (s *Store) UpdateCheckpoint(ctx context.Context, c *Checkpoint) error {
	ops, err := jsonText(nonNil(c.Operators))
	if err != nil {
		return err
	}
	res, err := s.exec(ctx, `UPDATE checkpoints SET state = ?, path = ?, bytes = ?, finished_at = ?, operators = ? WHERE id = ?`,
		c.State, c.Path, c.Bytes, micros(c.FinishedAt), ops, c.ID)
	return mustAffect(res, err, func() error { return notFound("checkpoint '%s'", c.ID) })
}

const checkpointCols = "id, job_id, epoch, state, path, bytes, started_at, finished_at, operators"

func scanCheckpoint(sc interface{ Scan(...any) error }) (Checkpoint, error) {
	var c Checkpoint
	var epoch int64
	var started, finished sql.NullInt64
	var ops string
	if err := sc.Scan(&c.ID, &c.JobID, &epoch, &c.State, &c.Path, &c.Bytes, &started, &finished, &ops); err != nil {
		return c, err
	}
	c.Epoch = uint64(epoch)
	c.StartedAt, c.FinishedAt = fromMicros(started), fromMicros(finished)
	if err := json.Unmarshal([]byte(ops), &c.Operators); err != nil {
		return c, fmt.Errorf("checkpoint %s: stored operators: %w", c.ID, err)
	}
	return c, nil
}

// GetCheckpoint returns a job's checkpoint of epoch.
func (s *Store) GetCheckpoint(ctx context.Context, jobID string, epoch uint64) (*Checkpoint, error) {
	c, err := scanCheckpoint(s.queryRow(ctx, "SELECT "+checkpointCols+" FROM checkpoints WHERE job_id = ? AND epoch = ?", jobID, int64(epoch)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("checkpoint %d of job '%s'", epoch, jobID)
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// ListCheckpoints returns a job's checkpoints by epoch, oldest first.
func (s *Store) ListCheckpoints(ctx context.Context, jobID string) ([]Checkpoint, error) {
	rows, err := s.query(ctx, "SELECT "+checkpointCols+" FROM checkpoints WHERE job_id = ? ORDER BY epoch", jobID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanCheckpoint)
}

// Log levels of job log messages.
const (
	LogInfo  = "info"
	LogWarn  = "warn"
	LogError = "error"
)

// JobLog is a message about a job: a failure with its operator and
// subtask, a restart, a warning.
type JobLog struct {
	ID         string
	JobID      string
	Level      string // LogInfo, LogWarn, LogError
	OperatorID string // "" when not about one operator
	Subtask    *int   // nil when not about one subtask
	Message    string
	Details    string
	CreatedAt  time.Time
}

// AddJobLog stores l, setting its ID (and CreatedAt when zero, Level to
// LogInfo when empty).
func (s *Store) AddJobLog(ctx context.Context, l *JobLog) error {
	if l.Level == "" {
		l.Level = LogInfo
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = s.stamp()
	}
	var subtask any
	if l.Subtask != nil {
		subtask = *l.Subtask
	}
	id := NewID(PrefixJobLog)
	_, err := s.exec(ctx, `INSERT INTO job_log_messages (id, job_id, level, operator_id, subtask, message, details, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, l.JobID, l.Level, l.OperatorID, subtask, l.Message, l.Details, l.CreatedAt.UnixMicro())
	if err = classify(err, "a job log message with this id", fmt.Sprintf("job '%s'", l.JobID), ""); err != nil {
		return err
	}
	l.ID = id
	return nil
}

const jobLogCols = "id, job_id, level, operator_id, subtask, message, details, created_at"

func scanJobLog(sc interface{ Scan(...any) error }) (JobLog, error) {
	var l JobLog
	var subtask sql.NullInt64
	var created sql.NullInt64
	err := sc.Scan(&l.ID, &l.JobID, &l.Level, &l.OperatorID, &subtask, &l.Message, &l.Details, &created)
	if subtask.Valid {
		n := int(subtask.Int64)
		l.Subtask = &n
	}
	l.CreatedAt = fromMicros(created)
	return l, err
}

// ListJobLogs returns a page of a job's log messages, newest first, and
// whether more follow.
func (s *Store) ListJobLogs(ctx context.Context, jobID string, p Page) ([]JobLog, bool, error) {
	q, args, err := s.page(ctx, "job_log_messages", "SELECT "+jobLogCols+" FROM job_log_messages WHERE job_id = ?", []any{jobID}, p)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	items, err := collect(rows, scanJobLog)
	if err != nil {
		return nil, false, err
	}
	items, more := trim(items, p)
	return items, more, nil
}
