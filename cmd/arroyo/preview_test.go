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
	dir := t.TempDir()
	env := []string{"ARROYO__DATABASE__SQLITE__PATH=" + filepath.Join(dir, "cluster.sqlite"), "ARROYO__CHECKPOINT_URL=" + filepath.Join(dir, "checkpoints")}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, stop := startCluster(t, env)
	defer stop()
	c := client.New(url, "")
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
