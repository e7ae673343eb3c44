package cluster_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/controlplane/api"
)

// TestMetricsEndpoint scrapes the admin endpoint's /metrics while a
// pipeline runs on the in-process cluster: its operators' rows in and out
// counters (per operator id and subtask) are above zero, its job's state
// gauge says Running (and 0 for the other states), and once it has
// stopped at a checkpoint, the checkpoint durations histogram has counted
// its checkpoints and the state says Stopped; a failing pipeline's failed
// attempt is counted.
func TestMetricsEndpoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := newUDFCluster(t, ctx)
	iv := uint64(20_000)
	p, err := f.c.CreatePipeline(ctx, api.PipelinePost{Name: "ticks", Parallelism: 2, CheckpointIntervalMicros: &iv,
		Query: "CREATE TABLE i WITH (connector = 'impulse', event_rate = '500');\nSELECT counter % 5 AS k, count(*) AS c FROM i GROUP BY 1;"})
	if err != nil {
		t.Fatal(err)
	}
	j, err := f.c.WaitForJob(ctx, p.ID, 5*time.Millisecond, func(j api.Job) bool { return j.State == "Running" })
	if err != nil {
		t.Fatal(err)
	}
	if n := scrapeUntil(t, ctx, f.admin, "arroyo_operator_rows_out_total", p.ID, j.ID); n <= 0 {
		t.Errorf("rows out %v", n)
	}
	if n := scrapeUntil(t, ctx, f.admin, "arroyo_operator_rows_in_total", p.ID, j.ID); n <= 0 {
		t.Errorf("rows in %v", n)
	}
	body := scrape(t, ctx, f.admin)
	for _, want := range []string{
		fmt.Sprintf(`arroyo_job_state{job_id=%q,pipeline_id=%q,state="Running"} 1`, j.ID, p.ID),
		fmt.Sprintf(`arroyo_job_state{job_id=%q,pipeline_id=%q,state="Failed"} 0`, j.ID, p.ID),
		`subtask="1"`,
		"arroyo_api_requests_total",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	stop := "checkpoint"
	if _, err := f.c.PatchPipeline(ctx, p.ID, api.PipelinePatch{Stop: &stop}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.WaitForJob(ctx, p.ID, 5*time.Millisecond, func(j api.Job) bool { return j.State == "Stopped" }); err != nil {
		t.Fatal(err)
	}
	body = scrape(t, ctx, f.admin)
	for _, want := range []string{
		fmt.Sprintf(`arroyo_job_state{job_id=%q,pipeline_id=%q,state="Stopped"} 1`, j.ID, p.ID),
		fmt.Sprintf(`arroyo_checkpoint_duration_seconds_count{job_id=%q,pipeline_id=%q}`, j.ID, p.ID),
		fmt.Sprintf(`arroyo_checkpoint_bytes{job_id=%q,pipeline_id=%q}`, j.ID, p.ID),
		fmt.Sprintf(`arroyo_checkpoint_epoch{job_id=%q,pipeline_id=%q}`, j.ID, p.ID),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics after the stop lacks %s:\n%s", want, grep(body, "arroyo_"))
		}
	}

	// A failing pipeline: its failed attempt is counted, its state Failed.
	bad, err := f.c.CreatePipeline(ctx, api.PipelinePost{Name: "bad", Parallelism: 1,
		Query: "CREATE TABLE i WITH (connector = 'impulse', event_rate = '1000', message_count = '10');\nSELECT 10 / (counter - 3) AS x FROM i;"})
	if err != nil {
		t.Fatal(err)
	}
	bj, err := f.c.WaitForJob(ctx, bad.ID, 5*time.Millisecond, func(j api.Job) bool { return j.State == "Failed" })
	if err != nil {
		t.Fatal(err)
	}
	body = scrape(t, ctx, f.admin)
	for _, want := range []string{
		fmt.Sprintf(`arroyo_job_failures_total{job_id=%q,pipeline_id=%q} `, bj.ID, bad.ID),
		fmt.Sprintf(`arroyo_job_state{job_id=%q,pipeline_id=%q,state="Failed"} 1`, bj.ID, bad.ID),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics after a failure lacks %s:\n%s", want, grep(body, "arroyo_job"))
		}
	}
}
