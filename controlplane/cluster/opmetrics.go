package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/store"
)

var _ api.MetricsReporter = (*Runner)(nil)

// metricNames maps the runtime's counters to Arroyo's metric group names.
var metricNames = map[string]string{"rows_in": "messages_recv", "rows_out": "messages_sent", "bytes_in": "bytes_recv", "bytes_out": "bytes_sent"}

// OperatorMetrics implements api.MetricsReporter: each operator's
// messages received and sent so far, per subtask, as one value at the
// time of the call (the runtime keeps counters, not a history).
func (r *Runner) OperatorMetrics(_ context.Context, jobID string) ([]api.OperatorMetricGroup, error) {
	job := r.Job(jobID)
	if job == nil {
		return nil, fmt.Errorf("job '%s' is not running on this controller: %w", jobID, store.ErrConflict)
	}
	now := time.Now().UnixMicro()
	type key struct{ op, name string }
	values := map[key]map[int]int64{}
	for k, v := range job.Counters() {
		name, ok := metricNames[k.Name]
		if !ok {
			continue
		}
		id := k.OperatorID
		if id == "" {
			id = fmt.Sprint(k.Node)
		}
		kk := key{id, name}
		if values[kk] == nil {
			values[kk] = map[int]int64{}
		}
		values[kk][k.Subtask] += v
	}
	byOp := map[string]*api.OperatorMetricGroup{}
	var ops []string
	for k, subs := range values {
		g := byOp[k.op]
		if g == nil {
			g = &api.OperatorMetricGroup{NodeID: k.op}
			byOp[k.op] = g
			ops = append(ops, k.op)
		}
		mg := api.MetricGroup{Name: k.name}
		for sub, v := range subs {
			mg.Subtasks = append(mg.Subtasks, api.SubtaskMetrics{Index: sub, Metrics: []api.Metric{{Time: now, Value: float64(v)}}})
		}
		slices.SortFunc(mg.Subtasks, func(a, b api.SubtaskMetrics) int { return a.Index - b.Index })
		g.MetricGroups = append(g.MetricGroups, mg)
	}
	slices.Sort(ops)
	out := make([]api.OperatorMetricGroup, 0, len(ops))
	for _, op := range ops {
		g := byOp[op]
		slices.SortFunc(g.MetricGroups, func(a, b api.MetricGroup) int { return strings.Compare(a.Name, b.Name) })
		out = append(out, *g)
	}
	return out, nil
}
