package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/client"
)

// TestPreviewOutputThroughTheAPI: a preview pipeline's bare SELECT writes
// to the preview sink, and GET .../jobs/{job}/output streams its rows over
// SSE (each once, with the index of its first row) until the job ends.
func TestPreviewOutputThroughTheAPI(t *testing.T) {
	ctx, c := testCluster(t)
	p, err := c.CreatePreview(ctx, api.PipelinePost{Name: "peek", Parallelism: 1,
		Query: "CREATE TABLE i WITH (connector = 'impulse', event_rate = '2000', message_count = '300');\nSELECT counter * 2 AS twice FROM i;"})
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.WaitForJob(ctx, p.ID, 5*time.Millisecond, func(j api.Job) bool { return j.State != "Created" && j.State != "Scheduling" })
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	next := int64(0)
	if err := c.JobOutput(ctx, p.ID, j.ID, func(d api.OutputData) error {
		if d.StartID != next {
			t.Errorf("a batch starts at row %d, want %d", d.StartID, next)
		}
		for _, l := range strings.Split(strings.TrimSuffix(d.Batch, "\n"), "\n") {
			var row struct{ Twice int64 }
			if err := json.Unmarshal([]byte(l), &row); err != nil {
				t.Fatalf("output line %q: %v", l, err)
			}
			got = append(got, row.Twice)
			next++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := make([]int64, 300)
	for i := range want {
		want[i] = int64(2 * i)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("streamed %d rows %v..., want 0, 2, ..., 598", len(got), got[:min(len(got), 5)])
	}
}

// TestOperatorMetricsThroughTheAPI: a running job's operators report the
// rows they received and sent, per subtask, at
// GET .../jobs/{job}/operator_metric_groups.
func TestOperatorMetricsThroughTheAPI(t *testing.T) {
	ctx, c := testCluster(t)
	p, err := c.CreatePipeline(ctx, api.PipelinePost{Name: "counts", Parallelism: 2,
		Query: "CREATE TABLE i WITH (connector = 'impulse', event_rate = '500');\nCREATE TABLE out WITH (connector = 'blackhole');\nINSERT INTO out SELECT counter FROM i WHERE counter >= 0;"})
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.WaitForJob(ctx, p.ID, 5*time.Millisecond, func(j api.Job) bool { return j.State == "Running" })
	if err != nil {
		t.Fatal(err)
	}
	for {
		groups, err := c.OperatorMetrics(ctx, p.ID, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The source and the filter each have two subtasks that sent rows
		// (the sink sends none).
		busy := map[string]int{}
		for _, g := range groups {
			for _, mg := range g.MetricGroups {
				for _, s := range mg.Subtasks {
					if mg.Name == "messages_sent" && s.Metrics[0].Value > 0 {
						busy[g.NodeID]++
					}
				}
			}
		}
		two := 0
		for _, n := range busy {
			if n == 2 {
				two++
			}
		}
		if two >= 2 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("operator metrics never showed rows sent: %+v", groups)
		}
		time.Sleep(10 * time.Millisecond) // polling the API
	}
}

// testCluster starts `arroyo cluster` on a fresh database for one test and
// returns a client of its API and a context that ends with a minute's
// deadline or the test.
func testCluster(t *testing.T) (context.Context, *client.Client) {
	t.Helper()
	dir := t.TempDir()
	env := []string{"ARROYO__DATABASE__SQLITE__PATH=" + filepath.Join(dir, "cluster.sqlite"), "ARROYO__CHECKPOINT_URL=" + filepath.Join(dir, "checkpoints")}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	url, stop := startCluster(t, env)
	t.Cleanup(func() { stop() })
	return ctx, client.New(url, "")
}
