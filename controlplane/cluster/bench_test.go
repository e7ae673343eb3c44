package cluster_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"slices"
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

// BenchmarkPostToRunning measures the time from POST /pipelines to the
// job's state Running as a client polling GET /pipelines/{id}/jobs (every
// 200 µs) sees it, over b.N pipelines on an in-process cluster (SQLite
// store, httptest server): p50 and p99 in ms. Each pipeline is cancelled
// (PATCH stop = immediate) once running, so the next starts on a quiet
// process. "api+controller" is the split topology (cluster.Desired, a
// controller reconciling every 10 ms): its latency is dominated by the
// poll interval.
func BenchmarkPostToRunning(b *testing.B) {
	b.Run("in-process", func(b *testing.B) { benchPostToRunning(b, false) })
	b.Run("api+controller", func(b *testing.B) { benchPostToRunning(b, true) })
}

func benchPostToRunning(b *testing.B, split bool) {
	ctx := context.Background()
	dir := b.TempDir()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "config.sqlite")})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	runner := &cluster.Runner{Store: st, Ctl: controller.New(&scheduler.Embedded{}, config.Default()),
		Checkpoints: checkpoint.Local{Root: dir}, DefaultSink: "blackhole"}
	var apiRunner api.Runner = runner
	if split {
		apiRunner = &cluster.Desired{Store: st}
		cctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- runner.Control(cctx, 10*time.Millisecond, time.Minute, func(error) {}) }()
		defer func() { stop(); <-done }()
	} else {
		defer runner.Shutdown(ctx)
	}
	srv, err := api.New(api.Options{Store: st, Runner: apiRunner, DefaultSink: "blackhole"})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := client.New(hs.URL, "")
	post := api.PipelinePost{Name: "ticks", Parallelism: 1,
		Query: "CREATE TABLE i WITH (connector = 'impulse', event_rate = '100');\nCREATE TABLE o WITH (connector = 'blackhole');\nINSERT INTO o SELECT counter FROM i;"}
	immediate := store.StopImmediate
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		p, err := c.CreatePipeline(ctx, post)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.WaitForJob(ctx, p.ID, 200*time.Microsecond, func(j api.Job) bool { return j.State == store.JobRunning }); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		b.StopTimer()
		if _, err := c.PatchPipeline(ctx, p.ID, api.PipelinePatch{Stop: &immediate}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.WaitForJob(ctx, p.ID, time.Millisecond, func(j api.Job) bool { return store.Terminal(j.State) }); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
