package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/controlplane/scheduler"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
)

// Scheduler is the embedded scheduler of a cluster running pipelines that
// call UDFs: each job runs with its own pipeline's function registry (the
// one it was planned with), which the Runner binds to the engine's job id
// before submitting it and unbinds when the job has ended. A restart after
// a failure (the controller's, same job id) finds the same registry.
type Scheduler struct {
	// Options are every job's runtime options but Functions.
	Options dataflow.Options

	mu    sync.Mutex
	funcs map[string]*expr.Registry // by job id
}

var _ controller.Scheduler = (*Scheduler)(nil)

// Start implements controller.Scheduler.
func (s *Scheduler) Start(ctx context.Context, prog *program.Program, opts controller.RunOptions) (controller.Worker, error) {
	e := &scheduler.Embedded{Options: s.Options}
	s.mu.Lock()
	e.Options.Functions = s.funcs[opts.JobID]
	s.mu.Unlock()
	return e.Start(ctx, prog, opts)
}

func (s *Scheduler) bind(jobID string, reg *expr.Registry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.funcs == nil {
		s.funcs = map[string]*expr.Registry{}
	}
	s.funcs[jobID] = reg
}

// unbind drops jobID's registry if it is still reg: the engine job id is
// the pipeline's, so the next job of the pipeline (a restart, a rescale)
// may have bound its own before the previous job's end is handled.
func (s *Scheduler) unbind(jobID string, reg *expr.Registry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.funcs[jobID] == reg {
		delete(s.funcs, jobID)
	}
}

// errNoUDFs: the runner cannot run a pipeline that calls UDFs.
var errNoUDFs = errors.New("this controller has no wasm host (or no cluster.Scheduler): pipelines calling UDFs cannot run here")

// functions returns the function registry of p's job jobID (the engine's
// job id; nil for a
// pipeline calling no UDFs: the built-ins), bound in the scheduler, and
// the function that unbinds it once the job has ended. The UDFs are
// read from the store by name, as the API planned them.
func (r *Runner) functions(ctx context.Context, p *store.Pipeline, jobID string) (*expr.Registry, func(), error) {
	if len(p.UDFs) == 0 {
		return nil, func() {}, nil
	}
	if r.UDFs == nil || r.Scheduler == nil {
		return nil, nil, errNoUDFs
	}
	us := make([]*store.UDF, 0, len(p.UDFs))
	for _, n := range p.UDFs {
		u, err := r.Store.GetUDFByName(ctx, n)
		if err != nil {
			return nil, nil, fmt.Errorf("pipeline %s calls udf '%s': %w", p.ID, n, err)
		}
		us = append(us, u)
	}
	reg, err := r.UDFs.Functions(ctx, us)
	if err != nil {
		return nil, nil, fmt.Errorf("pipeline %s: udfs: %w", p.ID, err)
	}
	r.Scheduler.bind(jobID, reg)
	return reg, func() { r.Scheduler.unbind(jobID, reg) }, nil
}
