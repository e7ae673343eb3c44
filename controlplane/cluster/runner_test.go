package cluster_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/arroyogo/arroyo/connectors/all"
	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/client"
	"github.com/arroyogo/arroyo/controlplane/cluster"
	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/controlplane/scheduler"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/checkpoint"
)

func ptr[T any](v T) *T { return &v }

// TestPipelineLifecycleThroughTheAPI drives pipelines through the REST API
// onto the controller: create (a job runs and checkpoints), stop at a
// checkpoint, resume (a new job continuing from the last checkpoint),
// rescale (stop, restore at the new parallelism), restart ignoring state
// (epochs start over), and a failing pipeline whose failure is recorded.
// It runs with the runner in the API (arroyo cluster) and with the API
// recording the desired state (cluster.Desired) for a controller that
// reconciles every 5 ms (arroyo api + arroyo controller).
func TestPipelineLifecycleThroughTheAPI(t *testing.T) {
	t.Run("in-process", func(t *testing.T) { lifecycle(t, false) })
	t.Run("api+controller", func(t *testing.T) { lifecycle(t, true) })
}

func lifecycle(t *testing.T, split bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "config.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runner := &cluster.Runner{Store: st, Ctl: controller.New(&scheduler.Embedded{}, config.Default()),
		Checkpoints: checkpoint.Local{Root: dir}, DefaultSink: "blackhole"}
	var apiRunner api.Runner = runner
	if split {
		apiRunner = &cluster.Desired{Store: st}
		cctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- runner.Control(cctx, 5*time.Millisecond, time.Minute, func(err error) { t.Errorf("controller: %v", err) })
		}()
		defer func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("controller shutdown: %v", err)
			}
		}()
	} else {
		defer runner.Shutdown(context.Background())
	}
	srv, err := api.New(api.Options{Store: st, Runner: apiRunner, DefaultSink: "blackhole"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := client.New(hs.URL, "")

	p, err := c.CreatePipeline(ctx, api.PipelinePost{Name: "ticks", Parallelism: 1, CheckpointIntervalMicros: ptr(uint64(20_000)),
		Query: "CREATE TABLE i WITH (connector = 'impulse', event_rate = '500');\nSELECT counter % 5 AS k, count(*) AS c FROM i GROUP BY 1;"})
	if err != nil {
		t.Fatal(err)
	}
	state := func(s string) func(api.Job) bool { return func(j api.Job) bool { return j.State == s } }
	wait := func(what string, done func(api.Job) bool) api.Job {
		t.Helper()
		j, err := c.WaitForJob(ctx, p.ID, 5*time.Millisecond, done)
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		return *j
	}
	// lastEpoch waits until job has a ready checkpoint beyond after and
	// returns the newest epoch.
	lastEpoch := func(jobID string, after uint64) uint64 {
		t.Helper()
		for {
			cps, err := c.Checkpoints(ctx, p.ID, jobID)
			if err != nil {
				t.Fatal(err)
			}
			var last uint64
			for _, cp := range cps {
				if cp.State == store.CheckpointReady {
					last = max(last, cp.Epoch)
				}
			}
			if last > after {
				return last
			}
			select {
			case <-ctx.Done():
				t.Fatalf("job %s took no checkpoint after epoch %d", jobID, after)
			case <-time.After(5 * time.Millisecond): // polling the API: there is no event to wait on
			}
		}
	}

	first := wait("Running", state("Running"))
	e1 := lastEpoch(first.ID, 0)
	if _, err := c.PatchPipeline(ctx, p.ID, api.PipelinePatch{Stop: ptr(store.StopCheckpoint)}); err != nil {
		t.Fatal(err)
	}
	wait("Stopped", state("Stopped"))
	stopped := lastEpoch(first.ID, e1-1)

	// Resume: a new job, whose checkpoints continue the old epochs.
	if _, err := c.PatchPipeline(ctx, p.ID, api.PipelinePatch{Stop: ptr(store.StopNone)}); err != nil {
		t.Fatal(err)
	}
	second := wait("a resumed job", func(j api.Job) bool { return j.ID != first.ID && j.State == "Running" })
	if e := lastEpoch(second.ID, 0); e <= stopped {
		t.Fatalf("the resumed job's first checkpoint is epoch %d, not after the stop checkpoint %d", e, stopped)
	}

	// Rescale to 2 while running.
	if _, err := c.PatchPipeline(ctx, p.ID, api.PipelinePatch{Parallelism: ptr(2)}); err != nil {
		t.Fatal(err)
	}
	third := wait("the rescaled job", func(j api.Job) bool { return j.ID != second.ID && j.State == "Running" })
	if j := runner.Job(third.ID); j == nil || j.Program.Nodes[len(j.Program.Nodes)-2].Parallelism != 2 {
		t.Fatalf("rescaled job %s does not run at parallelism 2", third.ID)
	}
	e3 := lastEpoch(third.ID, 0)

	// Restart from scratch: epochs start over.
	if _, err := c.RestartPipeline(ctx, p.ID, api.PipelineRestart{Force: ptr(true), IgnoreState: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	fourth := wait("the restarted job", func(j api.Job) bool { return j.ID != third.ID && j.State == "Running" })
	if e := lastEpoch(fourth.ID, 0); e >= e3 && e > 3 {
		t.Fatalf("restart ignoring state continued at epoch %d (the previous job reached %d)", e, e3)
	}
	if _, err := c.PatchPipeline(ctx, p.ID, api.PipelinePatch{Stop: ptr(store.StopImmediate)}); err != nil {
		t.Fatal(err)
	}
	wait("the cancelled job", func(j api.Job) bool { return store.Terminal(j.State) })

	// A failing pipeline: the job ends Failed with its failure recorded.
	bad, err := c.CreatePipeline(ctx, api.PipelinePost{Name: "bad", Parallelism: 1,
		Query: "CREATE TABLE i WITH (connector = 'impulse', event_rate = '1000', message_count = '10');\nSELECT 10 / (counter - 3) AS x FROM i;"})
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.WaitForJob(ctx, bad.ID, 5*time.Millisecond, func(j api.Job) bool { return store.Terminal(j.State) })
	if err != nil {
		t.Fatal(err)
	}
	if j.State != "Failed" || j.FailureMessage == nil || *j.FailureMessage == "" {
		t.Fatalf("failing pipeline: state %s, failure %v", j.State, j.FailureMessage)
	}
}
