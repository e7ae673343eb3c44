package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/sqlplan"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
)

type (
	pipelinePostIn  struct{ Body PipelinePost }
	pipelineOut     struct{ Body Pipeline }
	pipelinesIn     struct{ PageQuery }
	pipelinesOut    struct{ Body PipelineCollection }
	pipelinePatchIn struct {
		ID   string `path:"id"`
		Body PipelinePatch
	}
	pipelineRestartIn struct {
		ID   string `path:"id"`
		Body *PipelineRestart
	}
	validateQueryIn  struct{ Body ValidateQueryPost }
	validateQueryOut struct{ Body QueryValidationResult }
	jobsOut          struct{ Body JobCollection }
	// JobPath is a job's path parameters (exported: embedded below).
	JobPath struct {
		ID    string `path:"id"`
		JobID string `path:"job_id"`
	}
	checkpointsOut struct{ Body CheckpointCollection }
	checkpointPath struct {
		ID    string `path:"id"`
		JobID string `path:"job_id"`
		Epoch uint64 `path:"epoch"`
	}
	operatorCheckpointsOut struct {
		Body OperatorCheckpointGroupCollection
	}
	jobErrorsIn struct {
		JobPath
		PageQuery
	}
	jobErrorsOut struct{ Body JobLogMessageCollection }
)

// queryFile names the query in diagnostics.
const queryFile = ""

func (s *Server) pipelineRoutes() {
	tags := []string{"pipelines"}
	op(s, huma.Operation{OperationID: "create_pipeline", Method: http.MethodPost, Path: Prefix + "/pipelines", Summary: "Create a pipeline: plan its query, store it and start a job", Tags: tags},
		func(ctx context.Context, in *pipelinePostIn) (*pipelineOut, error) {
			p, err := s.createPipeline(ctx, &in.Body, false)
			if err != nil {
				return nil, err
			}
			v, err := s.pipelineView(ctx, p)
			return &pipelineOut{Body: v}, err
		})
	op(s, huma.Operation{OperationID: "create_preview_pipeline", Method: http.MethodPost, Path: Prefix + "/pipelines/preview", Summary: "Create a preview pipeline: its bare SELECTs go to the preview sink, streamed by GET .../jobs/{job_id}/output", Tags: tags},
		func(ctx context.Context, in *pipelinePostIn) (*pipelineOut, error) {
			p, err := s.createPipeline(ctx, &in.Body, true)
			if err != nil {
				return nil, err
			}
			v, err := s.pipelineView(ctx, p)
			return &pipelineOut{Body: v}, err
		})
	op(s, huma.Operation{OperationID: "get_pipelines", Method: http.MethodGet, Path: Prefix + "/pipelines", Summary: "List pipelines, newest first (paginated)", Tags: tags},
		func(ctx context.Context, in *pipelinesIn) (*pipelinesOut, error) {
			ps, more, err := s.opts.Store.ListPipelines(ctx, in.page())
			if err != nil {
				return nil, s.fieldErr("starting_after", err)
			}
			out := &pipelinesOut{Body: PipelineCollection{Data: make([]Pipeline, 0, len(ps)), HasMore: more}}
			for i := range ps {
				out.Body.Data = append(out.Body.Data, pipelineBase(&ps[i]))
			}
			return out, nil
		})
	op(s, huma.Operation{OperationID: "get_pipeline", Method: http.MethodGet, Path: Prefix + "/pipelines/{id}", Summary: "Get a pipeline", Tags: tags},
		func(ctx context.Context, in *idPath) (*pipelineOut, error) {
			p, err := s.opts.Store.GetPipeline(ctx, in.ID)
			if err != nil {
				return nil, s.storeErr(err)
			}
			v, err := s.pipelineView(ctx, p)
			return &pipelineOut{Body: v}, err
		})
	op(s, huma.Operation{OperationID: "patch_pipeline", Method: http.MethodPatch, Path: Prefix + "/pipelines/{id}", Summary: "Stop (stop = checkpoint|graceful|immediate|force), resume (stop = none) or rescale (parallelism) a pipeline", Tags: tags, Errors: []int{http.StatusConflict}},
		func(ctx context.Context, in *pipelinePatchIn) (*pipelineOut, error) {
			p, err := s.patchPipeline(ctx, in.ID, &in.Body)
			if err != nil {
				return nil, err
			}
			v, err := s.pipelineView(ctx, p)
			return &pipelineOut{Body: v}, err
		})
	op(s, huma.Operation{OperationID: "restart_pipeline", Method: http.MethodPost, Path: Prefix + "/pipelines/{id}/restart", Summary: "Restart a pipeline's job (from its last checkpoint unless ignore_state)", Tags: tags, Errors: []int{http.StatusConflict}},
		func(ctx context.Context, in *pipelineRestartIn) (*pipelineOut, error) {
			var opts RestartOptions
			if in.Body != nil {
				opts.Force = in.Body.Force != nil && *in.Body.Force
				opts.IgnoreState = in.Body.IgnoreState != nil && *in.Body.IgnoreState
			}
			p, err := s.restartPipeline(ctx, in.ID, opts)
			if err != nil {
				return nil, err
			}
			v, err := s.pipelineView(ctx, p)
			return &pipelineOut{Body: v}, err
		})
	op(s, huma.Operation{OperationID: "delete_pipeline", Method: http.MethodDelete, Path: Prefix + "/pipelines/{id}", Summary: "Delete a stopped pipeline (409 while its job runs)", Tags: tags, Errors: []int{http.StatusConflict}},
		func(ctx context.Context, in *idPath) (*struct{}, error) {
			if _, err := s.opts.Store.GetPipeline(ctx, in.ID); err != nil {
				return nil, s.storeErr(err)
			}
			if j, err := s.currentJob(ctx, in.ID); err != nil {
				return nil, err
			} else if j != nil && !store.Terminal(j.State) {
				return nil, conflict("pipeline '%s' has a job in state %s: stop it first (PATCH stop = checkpoint)", in.ID, j.State)
			}
			return nil, s.storeErr(s.opts.Store.DeletePipeline(ctx, in.ID))
		})
	op(s, huma.Operation{OperationID: "validate_query", Method: http.MethodPost, Path: Prefix + "/pipelines/validate_query", Summary: "Plan a query: its graph, or its errors with line and column", Tags: tags},
		func(ctx context.Context, in *validateQueryIn) (*validateQueryOut, error) {
			out := &validateQueryOut{Body: QueryValidationResult{Errors: []string{}, Diagnostics: []Diagnostic{}}}
			names, err := udfNames(in.Body.Udfs)
			if err == nil {
				names, err = s.calledUDFs(ctx, in.Body.Query, names)
			}
			if err != nil {
				return nil, err
			}
			prog, err := s.plan(ctx, "validate", in.Body.Query, 1, names)
			if err != nil {
				var ae *Error
				if errors.As(err, &ae) && ae.status != http.StatusBadRequest {
					return nil, err
				}
				d := diagnose(err)
				out.Body.Errors = append(out.Body.Errors, d.Message)
				out.Body.Diagnostics = append(out.Body.Diagnostics, d)
				return out, nil
			}
			g := graphOf(prog)
			out.Body.Graph = &g
			return out, nil
		})

	tags = []string{"jobs"}
	op(s, huma.Operation{OperationID: "get_pipeline_jobs", Method: http.MethodGet, Path: Prefix + "/pipelines/{id}/jobs", Summary: "List a pipeline's jobs, newest first", Tags: tags},
		func(ctx context.Context, in *idPath) (*jobsOut, error) {
			if _, err := s.opts.Store.GetPipeline(ctx, in.ID); err != nil {
				return nil, s.storeErr(err)
			}
			js, err := s.opts.Store.ListJobs(ctx, in.ID)
			if err != nil {
				return nil, s.storeErr(err)
			}
			return &jobsOut{Body: JobCollection{Data: jobViews(js)}}, nil
		})
	op(s, huma.Operation{OperationID: "get_jobs", Method: http.MethodGet, Path: Prefix + "/jobs", Summary: "List every job", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*jobsOut, error) {
			js, err := s.opts.Store.ListAllJobs(ctx)
			if err != nil {
				return nil, s.storeErr(err)
			}
			return &jobsOut{Body: JobCollection{Data: jobViews(js)}}, nil
		})
	op(s, huma.Operation{OperationID: "get_job_checkpoints", Method: http.MethodGet, Path: Prefix + "/pipelines/{id}/jobs/{job_id}/checkpoints", Summary: "List a job's checkpoints with their phases and timings", Tags: tags},
		func(ctx context.Context, in *JobPath) (*checkpointsOut, error) {
			if err := s.checkJob(ctx, in.ID, in.JobID); err != nil {
				return nil, err
			}
			cs, err := s.opts.Store.ListCheckpoints(ctx, in.JobID)
			if err != nil {
				return nil, s.storeErr(err)
			}
			out := &checkpointsOut{Body: CheckpointCollection{Data: []Checkpoint{}}}
			for i := range cs {
				out.Body.Data = append(out.Body.Data, checkpointView(&cs[i]))
			}
			return out, nil
		})
	op(s, huma.Operation{OperationID: "get_checkpoint_details", Method: http.MethodGet, Path: Prefix + "/pipelines/{id}/jobs/{job_id}/checkpoints/{epoch}/operator_checkpoint_groups", Summary: "A checkpoint's operators and subtasks", Tags: tags},
		func(ctx context.Context, in *checkpointPath) (*operatorCheckpointsOut, error) {
			if err := s.checkJob(ctx, in.ID, in.JobID); err != nil {
				return nil, err
			}
			c, err := s.opts.Store.GetCheckpoint(ctx, in.JobID, in.Epoch)
			if err != nil {
				return nil, s.storeErr(err)
			}
			return &operatorCheckpointsOut{Body: OperatorCheckpointGroupCollection{Data: checkpointView(c).Operators}}, nil
		})
	op(s, huma.Operation{OperationID: "get_job_errors", Method: http.MethodGet, Path: Prefix + "/pipelines/{id}/jobs/{job_id}/errors", Summary: "A job's log messages (failures with operator and subtask), newest first (paginated)", Tags: tags},
		func(ctx context.Context, in *jobErrorsIn) (*jobErrorsOut, error) {
			if err := s.checkJob(ctx, in.ID, in.JobID); err != nil {
				return nil, err
			}
			ls, more, err := s.opts.Store.ListJobLogs(ctx, in.JobID, in.page())
			if err != nil {
				return nil, s.fieldErr("starting_after", err)
			}
			out := &jobErrorsOut{Body: JobLogMessageCollection{Data: []JobLogMessage{}, HasMore: more}}
			for _, l := range ls {
				m := JobLogMessage{ID: l.ID, CreatedAt: micros(l.CreatedAt), Level: l.Level, Message: l.Message, Details: l.Details}
				if l.OperatorID != "" {
					op := l.OperatorID
					m.OperatorID = &op
				}
				if l.Subtask != nil {
					n := int64(*l.Subtask)
					m.TaskIndex = &n
				}
				out.Body.Data = append(out.Body.Data, m)
			}
			return out, nil
		})
}

func udfNames(us []Udf) ([]string, error) {
	var names []string
	for i, u := range us {
		if len(u.Definition) > 0 {
			return nil, badRequest("udfs[%d].definition: inline UDFs are not supported: store the module with POST /udfs and name it here", i)
		}
		if u.Name == "" {
			return nil, badRequest("udfs[%d].name: required (the name of a UDF stored with POST /udfs)", i)
		}
		names = append(names, u.Name)
	}
	return names, nil
}

// plan plans a pipeline's query with its UDFs.
func (s *Server) plan(ctx context.Context, name, query string, parallelism int, udfs []string) (*program.Program, error) {
	return s.planWith(ctx, name, query, parallelism, udfs, s.opts.DefaultSink)
}

// planStored re-plans a stored pipeline (a restart, a rescale), a
// preview's bare SELECTs into the preview sink again.
func (s *Server) planStored(ctx context.Context, p *store.Pipeline) (*program.Program, error) {
	sink := s.opts.DefaultSink
	if p.Preview {
		sink = s.opts.PreviewSink
	}
	return s.planWith(ctx, p.Name, p.Query, p.Parallelism, p.UDFs, sink)
}

func (s *Server) planWith(ctx context.Context, name, query string, parallelism int, udfs []string, sink string) (*program.Program, error) {
	opts := sqlplan.Options{Name: name, Parallelism: parallelism, DefaultSink: sink, Functions: s.opts.Functions}
	if len(udfs) > 0 {
		if s.opts.UDFs == nil {
			return nil, badRequest("udfs: this server has no wasm host: pipelines cannot call UDFs")
		}
		var mods []*store.UDF
		for i, n := range udfs {
			u, err := s.opts.Store.GetUDFByName(ctx, n)
			if err != nil {
				return nil, s.fieldErr(fmt.Sprintf("udfs[%d].name", i), err)
			}
			mods = append(mods, u)
		}
		reg, err := s.opts.UDFs.Functions(ctx, mods)
		if err != nil {
			return nil, badRequest("udfs: %s", err)
		}
		opts.Functions = reg
	}
	prog, err := sqlplan.Plan(queryFile, query, opts)
	if err != nil {
		return nil, &Error{status: http.StatusBadRequest, Msg: "query: " + err.Error(), cause: err}
	}
	return prog, nil
}

// diagnose turns a planning error into a diagnostic with its position.
func diagnose(err error) Diagnostic {
	d := Diagnostic{Message: err.Error()}
	var de *dialect.Error
	var ee *expr.Error
	switch {
	case errors.As(err, &de):
		d.Line, d.Column = de.Pos.Line, de.Pos.Col
		d.Message = fmt.Sprintf("%d:%d: %s", de.Pos.Line, de.Pos.Col, de.Msg)
	case errors.As(err, &ee) && ee.Pos != nil:
		d.Line, d.Column = ee.Pos.Line, ee.Pos.Col
		d.Message = ee.Error()
	default:
		var ae *Error
		if errors.As(err, &ae) {
			d.Message = ae.Msg
		}
	}
	return d
}

func (s *Server) createPipeline(ctx context.Context, b *PipelinePost, preview bool) (*store.Pipeline, error) {
	sink := s.opts.DefaultSink
	if preview {
		sink = s.opts.PreviewSink
		if _, ok := connector.Lookup(sink); !ok {
			return nil, badRequest("preview: this server has no preview sink ('%s' is not a registered connector)", sink)
		}
	}
	if b.Parallelism == 0 {
		b.Parallelism = 1
	}
	if s.opts.MaxParallelism > 0 && b.Parallelism > s.opts.MaxParallelism {
		return nil, badRequest("parallelism: %d is over the limit of %d (pipeline.max_parallelism)", b.Parallelism, s.opts.MaxParallelism)
	}
	names, err := udfNames(b.Udfs)
	if err == nil {
		names, err = s.calledUDFs(ctx, b.Query, names)
	}
	if err != nil {
		return nil, err
	}
	prog, err := s.planWith(ctx, b.Name, b.Query, b.Parallelism, names, sink)
	if err != nil {
		return nil, err
	}
	// Plan-time checks without side effects (a source topic or registry
	// subject missing, brokers unreachable): 400 before anything is stored.
	if err := connector.PreflightProgram(ctx, prog); err != nil {
		return nil, badRequest("%s", err)
	}
	graph, _ := json.Marshal(graphOf(prog))
	p := &store.Pipeline{Name: b.Name, Query: b.Query, Parallelism: b.Parallelism, UDFs: names, Graph: graph, Preview: preview}
	if b.CheckpointIntervalMicros != nil {
		p.CheckpointInterval = time.Duration(*b.CheckpointIntervalMicros) * time.Microsecond
	}
	if err := s.opts.Store.CreatePipeline(ctx, p); err != nil {
		return nil, s.storeErr(err)
	}
	if s.opts.Runner != nil {
		if _, err := s.opts.Runner.Start(ctx, p, prog); err != nil {
			// Nothing runs it: do not keep it.
			if derr := s.opts.Store.DeletePipeline(context.WithoutCancel(ctx), p.ID); derr != nil {
				s.log.Error("delete pipeline after failed start", "pipeline", p.ID, "error", derr)
			}
			return nil, s.runnerErr("start pipeline", err)
		}
	}
	return p, nil
}

// runnerErr maps a runner error: ErrConflict 409, ErrNotFound 404, others
// 500 with the runner's message (it names no secret).
func (s *Server) runnerErr(what string, err error) error {
	switch {
	case errors.Is(err, store.ErrConflict):
		return conflict("%s: %s", what, err)
	case errors.Is(err, store.ErrNotFound):
		return &Error{status: http.StatusNotFound, Msg: fmt.Sprintf("%s: %s", what, err)}
	}
	s.log.Error(what, "error", err)
	return &Error{status: http.StatusInternalServerError, Msg: fmt.Sprintf("%s: %s", what, err)}
}

// currentJob is the pipeline's newest job, or nil.
func (s *Server) currentJob(ctx context.Context, pipelineID string) (*store.Job, error) {
	js, err := s.opts.Store.ListJobs(ctx, pipelineID)
	if err != nil {
		return nil, s.storeErr(err)
	}
	if len(js) == 0 {
		return nil, nil
	}
	return &js[0], nil
}

func (s *Server) checkJob(ctx context.Context, pipelineID, jobID string) error {
	j, err := s.opts.Store.GetJob(ctx, jobID)
	if err != nil {
		return s.storeErr(err)
	}
	if j.PipelineID != pipelineID {
		return &Error{status: http.StatusNotFound, Msg: fmt.Sprintf("job '%s' not found in pipeline '%s'", jobID, pipelineID)}
	}
	return nil
}

func (s *Server) patchPipeline(ctx context.Context, id string, b *PipelinePatch) (*store.Pipeline, error) {
	p, err := s.opts.Store.GetPipeline(ctx, id)
	if err != nil {
		return nil, s.storeErr(err)
	}
	if b.CheckpointIntervalMicros != nil {
		p.CheckpointInterval = time.Duration(*b.CheckpointIntervalMicros) * time.Microsecond
	}
	rescale := false
	if b.Parallelism != nil && *b.Parallelism != p.Parallelism {
		if s.opts.MaxParallelism > 0 && *b.Parallelism > s.opts.MaxParallelism {
			return nil, badRequest("parallelism: %d is over the limit of %d (pipeline.max_parallelism)", *b.Parallelism, s.opts.MaxParallelism)
		}
		p.Parallelism, rescale = *b.Parallelism, true
	}
	prevStop := p.Stop
	if b.Stop != nil {
		p.Stop = *b.Stop
	}
	job, err := s.currentJob(ctx, id)
	if err != nil {
		return nil, err
	}
	running := job != nil && !store.Terminal(job.State)
	var prog *program.Program
	if rescale || (p.Stop == store.StopNone && prevStop != store.StopNone && !running) {
		if prog, err = s.planStored(ctx, p); err != nil {
			return nil, err
		}
		g, _ := json.Marshal(graphOf(prog))
		p.Graph = g
	}
	if s.opts.Runner == nil && (b.Stop != nil || rescale) && job != nil {
		return nil, conflict("this server runs no pipelines (no controller): cannot stop, resume or rescale '%s'", id)
	}
	if err := s.opts.Store.UpdatePipeline(ctx, p); err != nil {
		return nil, s.storeErr(err)
	}
	if s.opts.Runner == nil || job == nil {
		return p, nil
	}
	switch {
	case p.Stop != store.StopNone && running:
		if err := s.opts.Runner.Stop(ctx, job.ID, p.Stop); err != nil {
			return nil, s.runnerErr("stop pipeline", err)
		}
	case p.Stop == store.StopNone && (rescale || !running) && prog != nil:
		// A rescale is a restart at the new parallelism from the last
		// checkpoint; resuming a stopped pipeline is a restart too.
		if _, err := s.opts.Runner.Restart(ctx, p, prog, RestartOptions{}); err != nil {
			return nil, s.runnerErr("restart pipeline", err)
		}
	}
	return p, nil
}

func (s *Server) restartPipeline(ctx context.Context, id string, opts RestartOptions) (*store.Pipeline, error) {
	p, err := s.opts.Store.GetPipeline(ctx, id)
	if err != nil {
		return nil, s.storeErr(err)
	}
	if s.opts.Runner == nil {
		return nil, conflict("this server runs no pipelines (no controller): cannot restart '%s'", id)
	}
	job, err := s.currentJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if job != nil && !store.Terminal(job.State) && !opts.Force {
		return nil, conflict("pipeline '%s' has a job in state %s: stop it first, or restart with force = true", id, job.State)
	}
	prog, err := s.planStored(ctx, p)
	if err != nil {
		return nil, err
	}
	p.Stop = store.StopNone
	if err := s.opts.Store.UpdatePipeline(ctx, p); err != nil {
		return nil, s.storeErr(err)
	}
	if _, err := s.opts.Runner.Restart(ctx, p, prog, opts); err != nil {
		return nil, s.runnerErr("restart pipeline", err)
	}
	return p, nil
}

// pipelineBase is the view of a stored pipeline without its job.
func pipelineBase(p *store.Pipeline) Pipeline {
	v := Pipeline{
		ID: p.ID, Name: p.Name, Query: p.Query, Udfs: []Udf{}, CheckpointIntervalMicros: uint64(p.CheckpointInterval.Microseconds()),
		Stop: p.Stop, CreatedAt: micros(p.CreatedAt), Preview: p.Preview, Parallelism: p.Parallelism,
	}
	for _, n := range p.UDFs {
		v.Udfs = append(v.Udfs, Udf{Name: n, Language: "wasm"})
	}
	if len(p.Graph) > 0 { // valid JSON: the store checks it on write
		v.Graph = &PipelineGraph{raw: p.Graph}
	}
	return v
}

// pipelineView adds what the current job says (the action in progress).
func (s *Server) pipelineView(ctx context.Context, p *store.Pipeline) (Pipeline, error) {
	v := pipelineBase(p)
	job, err := s.currentJob(ctx, p.ID)
	if err != nil {
		return v, err
	}
	if job != nil {
		v.ActionText, v.ActionInProgress = actionOf(p.Stop, job.State)
	}
	return v, nil
}

// actionOf is what a console offers for a pipeline, as Arroyo's: the
// button text and whether a transition is under way.
func actionOf(stop, state string) (string, bool) {
	switch state {
	case store.JobCreated, store.JobCompiling, store.JobScheduling:
		return "Starting", true
	case store.JobRunning:
		if stop != store.StopNone {
			return "Stopping", true
		}
		return "Stop", false
	case store.JobCheckpointStopping, store.JobStopping, store.JobFinishing:
		return "Stopping", true
	case store.JobRecovering, store.JobRestarting, store.JobRescaling:
		return "Restarting", true
	case store.JobFailing:
		return "Failing", true
	}
	return "Start", false
}

func jobViews(js []store.Job) []Job {
	out := make([]Job, 0, len(js))
	for _, j := range js {
		v := Job{
			ID: j.ID, State: j.State, RunID: j.RunID, StartTime: microsPtr(j.StartedAt), FinishTime: microsPtr(j.FinishedAt),
			CreatedAt: micros(j.CreatedAt), PipelineID: j.PipelineID, Restarts: j.Restarts,
			RunningDesired: !store.Terminal(j.State),
		}
		if j.FailureMessage != "" {
			m := j.FailureMessage
			v.FailureMessage = &m
		}
		out = append(out, v)
	}
	return out
}

func checkpointView(c *store.Checkpoint) Checkpoint {
	v := Checkpoint{Epoch: c.Epoch, Backend: "file", State: c.State, StartTime: micros(c.StartedAt), FinishTime: microsPtr(c.FinishedAt),
		Bytes: c.Bytes, Path: c.Path, Events: []CheckpointSpan{}, Operators: []OperatorCheckpoint{}}
	for _, o := range c.Operators {
		ov := OperatorCheckpoint{OperatorID: o.OperatorID, Bytes: o.Bytes, StartTime: micros(o.StartedAt), FinishTime: micros(o.FinishedAt),
			Events: spans(o.Phases), Subtasks: []SubtaskCheckpoint{}}
		for _, st := range o.Subtasks {
			ov.Subtasks = append(ov.Subtasks, SubtaskCheckpoint{Index: st.Index, Bytes: st.Bytes, StartTime: micros(st.StartedAt), FinishTime: micros(st.FinishedAt), Events: spans(st.Phases)})
		}
		v.Operators = append(v.Operators, ov)
		v.Events = append(v.Events, ov.Events...)
	}
	return v
}

func spans(ps []store.CheckpointPhaseSet) []CheckpointSpan {
	out := []CheckpointSpan{}
	for _, p := range ps {
		out = append(out, CheckpointSpan{Event: p.Name, StartTime: micros(p.StartedAt), EndTime: micros(p.FinishedAt)})
	}
	return out
}

// graphOf is a program's dataflow as the API shows it.
func graphOf(prog *program.Program) PipelineGraph {
	g := PipelineGraph{Nodes: []PipelineNode{}, Edges: []PipelineEdge{}}
	ids := map[int]string{}
	for _, n := range prog.Nodes {
		id := n.OperatorID
		if id == "" {
			id = strconv.Itoa(n.ID)
		}
		ids[n.ID] = id
		g.Nodes = append(g.Nodes, PipelineNode{NodeID: id, Operator: string(n.Op), Description: n.Description, Parallelism: n.Parallelism})
	}
	for _, e := range prog.Edges {
		ge := PipelineEdge{SrcID: ids[e.From], DestID: ids[e.To], EdgeType: string(e.Kind)}
		for _, n := range prog.Nodes {
			if n.ID == e.From && n.Schema != nil {
				ge.ValueType = n.Schema.String()
			}
		}
		g.Edges = append(g.Edges, ge)
	}
	return g
}
