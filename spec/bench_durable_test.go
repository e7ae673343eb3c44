//go:build unix

package spec

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/checkpoint"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/sqlplan"
)

// BenchmarkDurableCheckpoint measures durable checkpoints of window state:
// an hour-long tumbling window over `keys` distinct keys (one aggregate
// subtask), checkpointed to a local directory and restored from it:
//
//	go test ./spec -run '^$' -bench DurableCheckpoint -benchtime 3x
//
// ckpt-ms is from the trigger until the checkpoint is durable (barrier,
// the operator's snapshot, encoding, writing and fsyncing the files and
// the metadata); restore-ms is loading the files back and starting a job
// from them (every key back in the operator's table); bytes/key is the
// checkpoint's size over the keys. Targets: 1M keys < 1 s and < 5 s for
// 10M, both ways. restore-cpu-ms is the process's CPU time over the
// restore (nothing else runs then), which a shared machine disturbs less
// than the elapsed time.
func BenchmarkDurableCheckpoint(b *testing.B) {
	for _, keys := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("keys=%dM", keys/1_000_000), func(b *testing.B) {
			sql := fmt.Sprintf(`CREATE TABLE i WITH (connector = 'impulse', event_rate = '1e12', event_time_interval = '1ns');
CREATE TABLE sink WITH (connector = 'blackhole');
INSERT INTO sink SELECT counter %% %d AS k, count(*) AS c, sum(counter) AS s FROM i GROUP BY 1, tumble(interval '1 hour');`, keys)
			prog, err := sqlplan.Plan("bench.sql", sql, sqlplan.Options{Name: "durable", Parallelism: 1})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var ckpt, restore time.Duration
			var restoreCPU int64
			var bytes int64
			for b.Loop() {
				dir := &checkpoint.Dir{Storage: checkpoint.Local{Root: b.TempDir()}, Root: "checkpoints/job"}
				job, err := dataflow.Start(ctx, prog, dataflow.Options{Durable: &checkpoint.Writer{Dir: dir, Program: prog}})
				if err != nil {
					b.Fatal(err)
				}
				for sourceRows(job) < int64(keys) {
					time.Sleep(20 * time.Millisecond) // filling the state, not a synchronisation
				}
				t0 := time.Now()
				if _, err := job.Checkpoint(ctx); err != nil {
					b.Fatal(err)
				}
				ckpt += time.Since(t0)
				job.Cancel()
				job.Wait()
				m, err := dir.Latest(ctx)
				if err != nil {
					b.Fatal(err)
				}
				bytes = m.Bytes()
				t0, cpu0 := time.Now(), cpuTime(b)
				snap, err := dir.Load(ctx, m)
				if err != nil {
					b.Fatal(err)
				}
				j2, err := dataflow.Start(ctx, prog, dataflow.Options{Restore: snap, RestoreEpoch: m.Epoch})
				if err != nil {
					b.Fatal(err)
				}
				restore += time.Since(t0)
				restoreCPU += cpuTime(b) - cpu0
				j2.Cancel()
				j2.Wait()
			}
			b.ReportMetric(float64(ckpt.Milliseconds())/float64(b.N), "ckpt-ms")
			b.ReportMetric(float64(restore.Milliseconds())/float64(b.N), "restore-ms")
			b.ReportMetric(float64(restoreCPU/1e6)/float64(b.N), "restore-cpu-ms")
			b.ReportMetric(float64(bytes)/float64(keys), "bytes/key")
		})
	}
}
