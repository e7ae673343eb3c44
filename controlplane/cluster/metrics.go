package cluster

import (
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/engine/checkpoint"
)

// jobStates are the states arroyo_job_state reports, one series each.
var jobStates = []controller.State{
	controller.Created, controller.Compiling, controller.Scheduling, controller.Running,
	controller.CheckpointStopping, controller.Stopping, controller.Stopped, controller.Finishing,
	controller.Finished, controller.Recovering, controller.Rescaling, controller.Restarting,
	controller.Failing, controller.Failed,
}

// Metrics are the Prometheus collectors of a Runner's jobs, for the admin
// endpoint's /metrics. Job states and operator counters are read from the
// jobs at scrape time (nothing is copied while jobs run); checkpoints,
// restarts and failures are counted as the controller reports them. Every
// series is labelled by pipeline_id and job_id (not "job": Prometheus
// sets that label to the scrape job's name); operator series also by the
// operator's stable id and subtask.
//
//	arroyo_job_state{pipeline_id,job_id,state}            1 for the job's state, 0 for the others
//	arroyo_checkpoint_duration_seconds{pipeline_id,job_id} histogram of durable checkpoints
//	arroyo_checkpoint_bytes{pipeline_id,job_id}       size of the last durable checkpoint
//	arroyo_checkpoint_epoch{pipeline_id,job_id}       epoch of the last durable checkpoint
//	arroyo_checkpoints_failed_total{pipeline_id,job_id}
//	arroyo_job_failures_total{pipeline_id,job_id}          failed attempts
//	arroyo_job_restarts_total{pipeline_id,job_id}          of them, restarted from a checkpoint
//	arroyo_operator_rows_in_total{pipeline_id,job_id,operator_id,subtask}
//	arroyo_operator_rows_out_total{pipeline_id,job_id,operator_id,subtask}
//	arroyo_operator_counter{pipeline_id,job_id,operator_id,subtask,name} the operators' other counters
//
// The operator counters are those of the job's current attempt: they start
// over when the controller restarts it (a counter reset, as Prometheus
// expects from a restarted process).
type Metrics struct {
	r *Runner

	checkpointSeconds *prometheus.HistogramVec
	checkpointBytes   *prometheus.GaugeVec
	checkpointEpoch   *prometheus.GaugeVec
	checkpointsFailed *prometheus.CounterVec
	failures          *prometheus.CounterVec
	restarts          *prometheus.CounterVec

	state, rowsIn, rowsOut, counter *prometheus.Desc
}

var _ prometheus.Collector = (*Metrics)(nil)

// NewMetrics returns r's collectors; set r.Metrics to it before starting
// jobs, and register it on the admin endpoint's registry.
func NewMetrics(r *Runner) *Metrics {
	jobLabels := []string{"pipeline_id", "job_id"}
	opLabels := []string{"pipeline_id", "job_id", "operator_id", "subtask"}
	return &Metrics{
		r: r,
		checkpointSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "arroyo_checkpoint_duration_seconds", Help: "Time from a checkpoint's start to its files being durable.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14), // 5ms .. 41s
		}, jobLabels),
		checkpointBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "arroyo_checkpoint_bytes", Help: "Size of the job's last durable checkpoint (its files).",
		}, jobLabels),
		checkpointEpoch: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "arroyo_checkpoint_epoch", Help: "Epoch of the job's last durable checkpoint.",
		}, jobLabels),
		checkpointsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arroyo_checkpoints_failed_total", Help: "Checkpoints that could not be written.",
		}, jobLabels),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arroyo_job_failures_total", Help: "Failed attempts of a job (restarted or not).",
		}, jobLabels),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arroyo_job_restarts_total", Help: "Failed attempts the controller restarted from the last checkpoint.",
		}, jobLabels),
		state: prometheus.NewDesc("arroyo_job_state", "1 for the job's current state, 0 for the others.",
			[]string{"pipeline_id", "job_id", "state"}, nil),
		rowsIn: prometheus.NewDesc("arroyo_operator_rows_in_total", "Rows an operator subtask received (its current attempt).",
			opLabels, nil),
		rowsOut: prometheus.NewDesc("arroyo_operator_rows_out_total", "Rows an operator subtask emitted (its current attempt).",
			opLabels, nil),
		counter: prometheus.NewDesc("arroyo_operator_counter", "An operator subtask's other counters, by name (e.g. a source's records dropped as bad data).",
			append(opLabels, "name"), nil),
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.checkpointSeconds.Describe(ch)
	m.checkpointBytes.Describe(ch)
	m.checkpointEpoch.Describe(ch)
	m.checkpointsFailed.Describe(ch)
	m.failures.Describe(ch)
	m.restarts.Describe(ch)
	ch <- m.state
	ch <- m.rowsIn
	ch <- m.rowsOut
	ch <- m.counter
}

// Collect implements prometheus.Collector: the counted series, then each
// job's state and its operators' counters as they are now.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.checkpointSeconds.Collect(ch)
	m.checkpointBytes.Collect(ch)
	m.checkpointEpoch.Collect(ch)
	m.checkpointsFailed.Collect(ch)
	m.failures.Collect(ch)
	m.restarts.Collect(ch)
	m.r.mu.Lock()
	// Labelled by the store's job id (the runs' keys, the API's), not
	// the controller's (the engine's job id: the pipeline's).
	type live struct {
		id, pipeline string
		job          *controller.Job
	}
	jobs := make([]live, 0, len(m.r.runs))
	for id, rn := range m.r.runs {
		jobs = append(jobs, live{id, rn.pipeline, rn.job})
	}
	m.r.mu.Unlock()
	sort.Slice(jobs, func(i, k int) bool { return jobs[i].id < jobs[k].id })
	for _, l := range jobs {
		cur := l.job.State()
		for _, s := range jobStates {
			v := 0.0
			if s == cur {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(m.state, prometheus.GaugeValue, v, l.pipeline, l.id, string(s))
		}
		for k, v := range l.job.Counters() {
			op := k.OperatorID
			if op == "" {
				op = k.Operator
			}
			sub := strconv.Itoa(k.Subtask)
			switch k.Name {
			case "rows_in":
				ch <- prometheus.MustNewConstMetric(m.rowsIn, prometheus.CounterValue, float64(v), l.pipeline, l.id, op, sub)
			case "rows_out":
				ch <- prometheus.MustNewConstMetric(m.rowsOut, prometheus.CounterValue, float64(v), l.pipeline, l.id, op, sub)
			default:
				ch <- prometheus.MustNewConstMetric(m.counter, prometheus.UntypedValue, float64(v), l.pipeline, l.id, op, sub, k.Name)
			}
		}
	}
}

// checkpoint records a checkpoint of job: its duration once durable (md
// set; err may still report a later step, as the store's record does), or
// a failure (md nil). A nil m records nothing.
func (m *Metrics) checkpoint(pipeline, job string, md *checkpoint.Metadata, _ error) {
	if m == nil {
		return
	}
	if md == nil {
		m.checkpointsFailed.WithLabelValues(pipeline, job).Inc()
		return
	}
	d := md.Finished.Sub(md.Started)
	if md.Finished.IsZero() || d < 0 {
		d = time.Since(md.Started)
	}
	m.checkpointSeconds.WithLabelValues(pipeline, job).Observe(d.Seconds())
	m.checkpointBytes.WithLabelValues(pipeline, job).Set(float64(md.Bytes()))
	m.checkpointEpoch.WithLabelValues(pipeline, job).Set(float64(md.Epoch))
}

// failure records a failed attempt of job.
func (m *Metrics) failure(pipeline, job string, f controller.Failure) {
	if m == nil {
		return
	}
	m.failures.WithLabelValues(pipeline, job).Inc()
	if f.Restarted {
		m.restarts.WithLabelValues(pipeline, job).Inc()
	}
}
