package spec

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/sqlplan"
)

// BenchmarkTumbleKeys counts rows per key in one-second tumbling windows
// over an impulse stream (one event per microsecond of event time, so a
// window holds a million events), with 1K and 1M distinct keys: events/s
// and the peak Go heap in use (sampled every 5 ms):
//
//	go test ./spec -run '^$' -bench TumbleKeys -cpu 1 -benchtime 10000000x
func BenchmarkTumbleKeys(b *testing.B) {
	for _, keys := range []int{1000, 1000000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			sql := fmt.Sprintf(`CREATE TABLE impulse WITH (connector = 'impulse', event_rate = '1e12', message_count = '%d', event_time_interval = '1us', start_time = '2024-01-01T00:00:00Z');
CREATE TABLE sink WITH (connector = 'blackhole');
INSERT INTO sink SELECT counter %% %d AS k, tumble(interval '1 second') AS w, count(*) AS c FROM impulse GROUP BY 1, 2;`, b.N, keys)
			prog, err := sqlplan.Plan("bench.sql", sql, sqlplan.Options{Name: "tumble", Parallelism: 1})
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			var peak atomic.Uint64
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				var ms runtime.MemStats
				t := time.NewTicker(5 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						runtime.ReadMemStats(&ms)
						if ms.HeapInuse > peak.Load() {
							peak.Store(ms.HeapInuse)
						}
					}
				}
			}()
			b.ResetTimer()
			start := time.Now()
			job, err := dataflow.Start(context.Background(), prog, dataflow.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := job.Wait(); err != nil {
				b.Fatal(err)
			}
			elapsed := time.Since(start)
			close(stop)
			<-done
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		})
	}
}

// BenchmarkHopRatio counts rows per key (1K keys) in HOP(1 s, 1 h) windows
// beside TUMBLE(1 h) over the same impulse stream (one event per 10 ms of
// event time, so a run of a few million events covers hours and emits a
// window every second): the slide-to-width ratio (3600) should not show as
// a factor in events/s.
//
//	go test ./spec -run '^$' -bench HopRatio -cpu 1 -benchtime 2000000x
func BenchmarkHopRatio(b *testing.B) {
	for _, w := range []struct{ name, window string }{
		{"tumble_1h", "tumble(interval '1 hour')"},
		{"hop_1s_1h", "hop(interval '1 second', interval '1 hour')"},
	} {
		b.Run(w.name, func(b *testing.B) {
			sql := fmt.Sprintf(`CREATE TABLE impulse WITH (connector = 'impulse', event_rate = '1e12', message_count = '%d', event_time_interval = '10ms', start_time = '2024-01-01T00:00:00Z');
CREATE TABLE sink WITH (connector = 'blackhole');
INSERT INTO sink SELECT counter %% 1000 AS k, %s AS w, count(*) AS c FROM impulse GROUP BY 1, 2;`, b.N, w.window)
			prog, err := sqlplan.Plan("bench.sql", sql, sqlplan.Options{Name: "hop", Parallelism: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			job, err := dataflow.Start(context.Background(), prog, dataflow.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := job.Wait(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}
