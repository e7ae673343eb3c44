package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
)

// OutputStreamer is an optional interface of a Runner that can stream a
// job's output (a preview pipeline's rows): GET
// /pipelines/{id}/jobs/{job_id}/output. Output calls emit for each batch
// of rows until the job ends (then it returns nil) or ctx is cancelled
// (the client went away); emit's error ends it too.
type OutputStreamer interface {
	Output(ctx context.Context, jobID string, emit func(OutputData) error) error
}

// MetricsReporter is an optional interface of a Runner that reports a
// running job's operator metrics: GET
// /pipelines/{id}/jobs/{job_id}/operator_metric_groups.
type MetricsReporter interface {
	OperatorMetrics(ctx context.Context, jobID string) ([]OperatorMetricGroup, error)
}

// OutputData is one event of a job's output stream, as Arroyo's.
type OutputData struct {
	OperatorID string `json:"operatorId"`
	Subtask    int    `json:"subtask"`
	Timestamp  int64  `json:"timestamp" doc:"Microseconds since the Unix epoch."`
	StartID    int64  `json:"startId" doc:"The index of the batch's first row in the job's output."`
	Batch      string `json:"batch" doc:"The rows, as JSON lines."`
}

// OperatorMetricGroup is one operator's metrics.
type OperatorMetricGroup struct {
	NodeID       string        `json:"nodeId"`
	MetricGroups []MetricGroup `json:"metricGroups"`
}

// MetricGroup is one metric of an operator, per subtask.
type MetricGroup struct {
	Name     string           `json:"name" enum:"bytes_recv,bytes_sent,messages_recv,messages_sent,backpressure,tx_queue_size,tx_queue_rem"`
	Subtasks []SubtaskMetrics `json:"subtasks"`
}

// SubtaskMetrics is one subtask's recent values of a metric.
type SubtaskMetrics struct {
	Index   int      `json:"index"`
	Metrics []Metric `json:"metrics"`
}

// Metric is a value at a time.
type Metric struct {
	Time  int64   `json:"time" doc:"Microseconds since the Unix epoch."`
	Value float64 `json:"value"`
}

// OperatorMetricGroupCollection is GET .../operator_metric_groups.
type OperatorMetricGroupCollection struct {
	Data []OperatorMetricGroup `json:"data"`
}

type (
	metricsOut struct{ Body OperatorMetricGroupCollection }
)

func (s *Server) outputRoutes() {
	tags := []string{"jobs"}
	op(s, huma.Operation{OperationID: "get_operator_metric_groups", Method: http.MethodGet, Path: Prefix + "/pipelines/{id}/jobs/{job_id}/operator_metric_groups", Summary: "A running job's operator metrics (rows and bytes in and out, backpressure)", Tags: tags, Errors: []int{http.StatusConflict}},
		func(ctx context.Context, in *JobPath) (*metricsOut, error) {
			if err := s.checkJob(ctx, in.ID, in.JobID); err != nil {
				return nil, err
			}
			mr, ok := s.opts.Runner.(MetricsReporter)
			if !ok {
				return nil, conflict("this server has no operator metrics (no controller runs pipelines here)")
			}
			ms, err := mr.OperatorMetrics(ctx, in.JobID)
			if err != nil {
				return nil, s.runnerErr("operator metrics", err)
			}
			if ms == nil {
				ms = []OperatorMetricGroup{}
			}
			return &metricsOut{Body: OperatorMetricGroupCollection{Data: ms}}, nil
		})

	o := huma.Operation{OperationID: "get_job_output", Method: http.MethodGet, Path: Prefix + "/pipelines/{id}/jobs/{job_id}/output",
		Summary: "Stream a job's output (a preview's rows) as Server-Sent Events of OutputData", Tags: tags,
		Responses: map[string]*huma.Response{"200": {Description: "Server-Sent Events: each a data: line holding an OutputData",
			Content: map[string]*huma.MediaType{"text/event-stream": {Schema: s.api.OpenAPI().Components.Schemas.Schema(reflectType[OutputData](), true, "")}}}},
		Errors: []int{http.StatusConflict}}
	op(s, o, func(ctx context.Context, in *JobPath) (*huma.StreamResponse, error) {
		if err := s.checkJob(ctx, in.ID, in.JobID); err != nil {
			return nil, err
		}
		streamer, ok := s.opts.Runner.(OutputStreamer)
		if !ok {
			return nil, conflict("this server cannot stream job output (no controller runs pipelines here)")
		}
		return &huma.StreamResponse{Body: func(hctx huma.Context) {
			hctx.SetHeader("Content-Type", "text/event-stream")
			hctx.SetHeader("Cache-Control", "no-cache")
			hctx.SetStatus(http.StatusOK)
			w := hctx.BodyWriter()
			flush := func() {
				if f, ok := w.(http.Flusher); ok {
					f.Flush()
				}
			}
			flush()
			err := streamer.Output(hctx.Context(), in.JobID, func(d OutputData) error {
				b, err := json.Marshal(d)
				if err != nil {
					return err
				}
				if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
					return err
				}
				flush()
				return hctx.Context().Err()
			})
			if err != nil && !errors.Is(err, context.Canceled) {
				s.log.Warn("job output stream ended", "job", in.JobID, "error", err)
			}
		}}, nil
	})
}

func reflectType[T any]() reflect.Type { return reflect.TypeOf((*T)(nil)).Elem() }
