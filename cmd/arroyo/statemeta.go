package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/arroyogo/arroyo/controlplane/cluster"
	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/checkpoint"
)

// StateDBFile is the state directory's metadata database (seed 003).
const StateDBFile = "state.sqlite"

// sqliteMeta keeps a state directory's metadata in <dir>/state.sqlite,
// the control plane's store: one pipeline, its job, checkpoints and
// failures.
type sqliteMeta struct{ s *store.Store }

// openMeta opens (creating and migrating) the metadata store of a state
// directory.
func openMeta(ctx context.Context, dir string) (runMeta, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	path := filepath.Join(dir, StateDBFile)
	s, err := store.Open(ctx, store.Config{SQLitePath: path})
	if err != nil {
		return nil, fmt.Errorf("state directory metadata %s: %w", path, err)
	}
	return &sqliteMeta{s}, nil
}

func (m *sqliteMeta) Pipeline(ctx context.Context) (*pipelineRecord, error) {
	ps, _, err := m.s.ListPipelines(ctx, store.Page{Limit: 1})
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	p := ps[0]
	jobs, err := m.s.ListJobs(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	rec := &pipelineRecord{Name: p.Name, Query: p.Query, Parallelism: p.Parallelism, PlannedAt: p.CreatedAt}
	if len(jobs) > 0 {
		rec.JobID, rec.State = jobs[0].ID, controller.State(jobs[0].State)
	}
	return rec, nil
}

// SetPipeline replaces the directory's pipeline (and with it its jobs,
// checkpoints and logs); p gets the new job's id and the pipeline's
// creation time as its planning time.
func (m *sqliteMeta) SetPipeline(ctx context.Context, p *pipelineRecord) error {
	old, _, err := m.s.ListPipelines(ctx, store.Page{})
	if err != nil {
		return err
	}
	for _, o := range old {
		if err := m.s.DeletePipeline(ctx, o.ID); err != nil {
			return err
		}
	}
	sp := &store.Pipeline{Name: p.Name, Query: p.Query, Parallelism: p.Parallelism}
	if err := m.s.CreatePipeline(ctx, sp); err != nil {
		return err
	}
	j := &store.Job{PipelineID: sp.ID}
	if err := m.s.CreateJob(ctx, j); err != nil {
		return err
	}
	p.JobID, p.PlannedAt, p.State = j.ID, sp.CreatedAt, controller.State(j.State)
	return nil
}

func (m *sqliteMeta) SetState(ctx context.Context, jobID string, s controller.State) error {
	return m.s.UpdateJobState(ctx, jobID, string(s), "")
}

func (m *sqliteMeta) Checkpoint(ctx context.Context, jobID string, epoch uint64, md *checkpoint.Metadata, cerr error) error {
	if err := m.s.CreateCheckpoint(ctx, cluster.CheckpointRecord(jobID, epoch, md)); err != nil {
		return err
	}
	if cerr != nil {
		return m.s.AddJobLog(ctx, &store.JobLog{JobID: jobID, Level: store.LogWarn, Message: cerr.Error()})
	}
	return nil
}

func (m *sqliteMeta) Failure(ctx context.Context, jobID string, f controller.Failure) error {
	return m.s.AddJobLog(ctx, cluster.FailureLog(jobID, f))
}

func (m *sqliteMeta) Close() error { return m.s.Close() }
