package cluster_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/client"
	"github.com/arroyogo/arroyo/controlplane/cluster"
	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/controlplane/scheduler"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/checkpoint"
)

// TestReconcileStepByStep drives an API that records desired state
// (cluster.Desired) and calls the controller's Reconcile by hand: a
// pipeline created is only a Created job until a reconcile starts it; a
// stop requested before the controller ran it ends it Stopped without
// running; a resume is a new Created job the next reconcile runs; a
// preview is refused (409) without a controller in the API.
func TestReconcileStepByStep(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "config.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runner := &cluster.Runner{Store: st, Ctl: controller.New(&scheduler.Embedded{}, config.Default()),
		Checkpoints: checkpoint.Local{Root: dir}, DefaultSink: "blackhole"}
	defer runner.Shutdown(context.Background())
	srv, err := api.New(api.Options{Store: st, Runner: &cluster.Desired{Store: st}, DefaultSink: "blackhole"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := client.New(hs.URL, "")
	current := func(pid string) api.Job {
		t.Helper()
		jobs, err := c.PipelineJobs(ctx, pid)
		if err != nil || len(jobs) == 0 {
			t.Fatalf("jobs of %s: %v %v", pid, jobs, err)
		}
		return jobs[0]
	}
	post := api.PipelinePost{Name: "ticks", Parallelism: 1,
		Query: "CREATE TABLE i WITH (connector = 'impulse', event_rate = '100');\nCREATE TABLE o WITH (connector = 'blackhole');\nINSERT INTO o SELECT counter FROM i;"}
	p, err := c.CreatePipeline(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	j := current(p.ID)
	if j.State != store.JobCreated || runner.Job(j.ID) != nil {
		t.Fatalf("before a reconcile: job %s %s, running here: %v", j.ID, j.State, runner.Job(j.ID) != nil)
	}
	if _, err := c.PatchPipeline(ctx, p.ID, api.PipelinePatch{Stop: ptr(store.StopCheckpoint)}); err != nil {
		t.Fatal(err)
	}
	if err := runner.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if j := current(p.ID); j.State != store.JobStopped || runner.Job(j.ID) != nil {
		t.Fatalf("stopped before it ran: job %s %s, running here: %v", j.ID, j.State, runner.Job(j.ID) != nil)
	}
	if _, err := c.PatchPipeline(ctx, p.ID, api.PipelinePatch{Stop: ptr(store.StopNone)}); err != nil {
		t.Fatal(err)
	}
	resumed := current(p.ID)
	if resumed.ID == j.ID || resumed.State != store.JobCreated {
		t.Fatalf("resume: job %s %s, want a new Created job", resumed.ID, resumed.State)
	}
	if err := runner.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if j := current(p.ID); j.ID != resumed.ID || j.State != store.JobRunning || runner.Job(j.ID) == nil {
		t.Fatalf("after a reconcile: job %s %s, running here: %v", j.ID, j.State, runner.Job(j.ID) != nil)
	}
	// A second reconcile changes nothing.
	if err := runner.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := c.PipelineJobs(ctx, p.ID); len(jobs) != 2 {
		t.Fatalf("%d jobs after two reconciles, want 2", len(jobs))
	}
	if _, err := c.CreatePreview(ctx, post); !client.IsConflict(err) {
		t.Fatalf("preview without a controller in the API: %v, want 409", err)
	}
}
