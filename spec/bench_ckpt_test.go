//go:build unix

package spec

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/checkpoint"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/sqlplan"
)

// nexmarkQuery returns the SQL of the nexmarkQueries entry called name.
func nexmarkQuery(b testing.TB, name string) string {
	for _, q := range nexmarkQueries {
		if q.name == name {
			return q.query
		}
	}
	b.Fatalf("no nexmark query %q", name)
	return ""
}

// planNexmark plans query over an unthrottled nexmark source of n events
// into a blackhole sink, at parallelism 1, as BenchmarkNexmark does.
func planNexmark(b *testing.B, name, query string, n int) *program.Program {
	sql := fmt.Sprintf(`CREATE TABLE nexmark WITH (connector = 'nexmark', event_rate = '1e12', event_count = '%d');
CREATE TABLE sink WITH (connector = 'blackhole');
INSERT INTO sink %s;`, n, query)
	prog, err := sqlplan.Plan("bench.sql", sql, sqlplan.Options{Name: name, Parallelism: 1})
	if err != nil {
		b.Fatal(err)
	}
	return prog
}

// BenchmarkNexmarkCheckpoint measures what checkpoints cost end to end:
// Nexmark q1, q5 and q7 (BenchmarkNexmark's) through the dataflow with no
// checkpoint, an in-memory one every 100ms (the barriers alone), and a
// durable one every second written to a local directory (Options.Durable,
// the path of `arroyo run`). Compare the modes of one query in the same
// run; the target is under 5%:
//
//	go test ./spec -run '^$' -bench NexmarkCheckpoint -cpu 1 -benchtime 4000000x -count 3
//
// b.N is the number of events. cpu-ns/event is the process's CPU time
// (user + system) per event: on a shared machine it says more about the
// work done than the elapsed time does. checkpoints/op is the number of complete
// checkpoints of the run (the sink's acknowledgements: at parallelism 1
// the sink acknowledges last), so a run that took none is visible.
// durable=1M takes a durable checkpoint each time the source has emitted
// another million events (about a second's worth on a quiet machine), so
// that on a loaded one the number of checkpoints, and so what they cost
// per event, does not follow the wall clock;
// gc-%busy is the collector's share of the CPU the process used
// (runtime/metrics), and written-MB/op what the durable checkpoints wrote
// (their files' sizes; references to earlier files are not counted).
func BenchmarkNexmarkCheckpoint(b *testing.B) {
	for _, q := range []string{"q1", "q5", "q7"} {
		query := nexmarkQuery(b, q)
		for _, mode := range []struct {
			name    string
			iv      time.Duration
			durable bool
			events  int64 // a checkpoint each time the source emitted this many more
		}{{"never", 0, false, 0}, {"every=100ms", 100 * time.Millisecond, false, 0}, {"durable=1s", time.Second, true, 0}, {"durable=1M", 0, true, 1_000_000}} {
			b.Run(q+"/"+mode.name, func(b *testing.B) {
				// 10M events per second of event time (BenchmarkNexmark's
				// 1e12 puts every event in one window). The source's
				// default lateness (1 s of event time) keeps every bid
				// of the run in q7's GROUP BY state; checkpoints are
				// incremental (a pane is written by the first checkpoint
				// after it changed, later ones refer to it), so what the
				// durable mode costs here is encoding and writing each
				// group once.
				sql := fmt.Sprintf(`CREATE TABLE nexmark WITH (connector = 'nexmark', event_rate = '1e7', event_count = '%d');
CREATE TABLE sink WITH (connector = 'blackhole');
INSERT INTO sink %s;`, b.N, query)
				prog, err := sqlplan.Plan("bench.sql", sql, sqlplan.Options{Name: q, Parallelism: 1})
				if err != nil {
					b.Fatal(err)
				}
				sink := -1
				for _, n := range prog.Nodes {
					if n.Op == program.OpSink {
						sink = n.ID
					}
				}
				var ckpts atomic.Int64
				opts := dataflow.Options{CheckpointInterval: mode.iv, OnEvent: func(ev dataflow.Event) {
					if ev.Kind == dataflow.EventAck && ev.Node == sink {
						ckpts.Add(1)
					}
				}}
				var written atomic.Int64
				if mode.durable {
					opts.Durable = &checkpoint.Writer{Dir: &checkpoint.Dir{Storage: checkpoint.Local{Root: b.TempDir()}, Root: "cp"}, Program: prog,
						Written: func(_ uint64, m *checkpoint.Metadata, err error) {
							if err == nil {
								written.Add(m.Bytes())
							}
						}}
				}
				b.ResetTimer()
				before := readCPUClasses()
				cpu0, start := cpuTime(b), time.Now()
				job, err := dataflow.Start(context.Background(), prog, opts)
				if err != nil {
					b.Fatal(err)
				}
				polled := make(chan struct{})
				if mode.events > 0 {
					// Checkpoints by input, not by the clock: their number
					// does not depend on how fast a loaded machine runs.
					stop := make(chan struct{})
					defer close(stop)
					go func() {
						defer close(polled)
						next := mode.events
						for int(next) < b.N {
							select {
							case <-stop:
								return
							case <-time.After(5 * time.Millisecond): // polling the counters, not a synchronisation
							}
							if sourceRows(job) >= next {
								if _, err := job.Checkpoint(context.Background()); err != nil {
									return // the source finished
								}
								next += mode.events
							}
						}
					}()
				} else {
					close(polled)
				}
				if err := job.Wait(); err != nil {
					b.Fatal(err)
				}
				<-polled
				elapsed := time.Since(start)
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
				b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/event")
				b.ReportMetric(float64(ckpts.Load()), "checkpoints/op")
				if d := readCPUClasses().sub(before); d.total > d.idle {
					b.ReportMetric(100*d.gc/(d.total-d.idle), "gc-%busy")
				}
				if mode.durable {
					b.ReportMetric(float64(written.Load())/1e6, "written-MB/op")
				}
				if mode.iv > 0 && elapsed > 5*mode.iv && ckpts.Load() == 0 {
					b.Fatalf("%v run took no checkpoint", elapsed)
				}
			})
		}
	}
}

// BenchmarkCheckpointCost measures one checkpoint directly, which the
// end-to-end comparison above cannot resolve on a shared machine (its runs
// vary by more than the 5% it looks for): a pipeline over an unbounded
// nexmark source paced at 100K events/s, each op one Job.Checkpoint, from
// the trigger through the sources' snapshots, the barriers' way through
// every operator (aligned behind a shuffle), every acknowledgement and the
// completion notices. q1 is BenchmarkNexmark's at parallelism 1; q5agg at
// parallelism 2 adds a keyed shuffle (alignment over two senders) and
// window state to snapshot, which grows until the first windows close, so
// its timer starts once the sources have emitted 12s of events (10s of
// window, the 1s lateness and a margin; event time follows the pace):
//
//	go test ./spec -run '^$' -bench CheckpointCost -cpu 2
//
// cpu-ns/op is the process's CPU time per checkpoint, the generator's
// included (it runs meanwhile), so it is an upper bound; %cpu@100ms is
// that cost as a share of one core at a checkpoint every 100ms, the
// barrier overhead of BenchmarkNexmarkCheckpoint's every=100ms case.
func BenchmarkCheckpointCost(b *testing.B) {
	const rate = 100_000
	for _, c := range []struct {
		query string
		p     int
		warm  time.Duration // event time to generate before measuring
	}{{"q1", 1, 0}, {"q5agg", 2, 12 * time.Second}} {
		b.Run(fmt.Sprintf("%s/P=%d", c.query, c.p), func(b *testing.B) {
			sql := `CREATE TABLE nexmark WITH (connector = 'nexmark', event_rate = '` + fmt.Sprint(rate) + `');
CREATE TABLE sink WITH (connector = 'blackhole');
INSERT INTO sink ` + nexmarkQuery(b, c.query) + `;`
			prog, err := sqlplan.Plan("bench.sql", sql, sqlplan.Options{Name: c.query, Parallelism: c.p})
			if err != nil {
				b.Fatal(err)
			}
			job, err := dataflow.Start(context.Background(), prog, dataflow.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				job.Cancel()
				job.Wait()
			}()
			ctx := context.Background()
			if _, err := job.Checkpoint(ctx); err != nil { // everything started
				b.Fatal(err)
			}
			for sourceRows(job) < int64(c.warm.Seconds()*rate) {
				time.Sleep(100 * time.Millisecond) // a warm-up, not a synchronisation
			}
			b.ResetTimer()
			cpu0 := cpuTime(b)
			for b.Loop() {
				if _, err := job.Checkpoint(ctx); err != nil {
					b.Fatal(err)
				}
			}
			cpu := float64(cpuTime(b)-cpu0) / float64(b.N)
			b.ReportMetric(cpu, "cpu-ns/op")
			b.ReportMetric(100*cpu/float64(100*time.Millisecond), "%cpu@100ms")
		})
	}
}

// sourceRows is the number of rows job's sources have emitted.
func sourceRows(job *dataflow.Job) int64 {
	var n int64
	for k, v := range job.Counters() {
		if k.Name == "rows_out" && strings.HasPrefix(k.Operator, "source ") {
			n += v
		}
	}
	return n
}

// BenchmarkNexmarkGC measures the garbage collector's share of the CPU on
// Nexmark q1 at GOGC=400 (worker.gc_percent's default) and at Go's 100,
// from runtime/metrics around the run:
//
//	go test ./spec -run '^$' -bench NexmarkGC -cpu 1 -benchtime 3s -count 3
//
// gc-%total is /cpu/classes/gc/total over /cpu/classes/total (GOMAXPROCS
// times the wall clock: the share of the CPU available to Go); gc-%busy is
// over the time not idle (the share of the CPU Go actually used).
// gc-cycles/op counts the collections of one run. The setting is made
// with debug.SetGCPercent, as cmd/arroyo applies the configuration, and
// restored afterwards; GOMEMLIMIT is left as it is.
func BenchmarkNexmarkGC(b *testing.B) {
	q1 := nexmarkQuery(b, "q1")
	for _, gogc := range []int{400, 100} {
		b.Run(fmt.Sprintf("q1/GOGC=%d", gogc), func(b *testing.B) {
			defer debug.SetGCPercent(debug.SetGCPercent(gogc))
			prog := planNexmark(b, "q1", q1, b.N)
			runtime.GC() // both settings start from the same heap
			before := readCPUClasses()
			b.ResetTimer()
			cpu0, start := cpuTime(b), time.Now()
			job, err := dataflow.Start(context.Background(), prog, dataflow.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := job.Wait(); err != nil {
				b.Fatal(err)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			d := readCPUClasses().sub(before)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/event")
			if d.total > 0 {
				b.ReportMetric(100*d.gc/d.total, "gc-%total")
			}
			if busy := d.total - d.idle; busy > 0 {
				b.ReportMetric(100*d.gc/busy, "gc-%busy")
			}
			b.ReportMetric(d.cycles, "gc-cycles/op")
		})
	}
}

// cpuClasses is a reading of the runtime/metrics CPU classes this file
// reports, in seconds, and the number of completed GC cycles.
type cpuClasses struct{ gc, idle, total, cycles float64 }

var cpuClassNames = []string{
	"/cpu/classes/gc/total:cpu-seconds",
	"/cpu/classes/idle:cpu-seconds",
	"/cpu/classes/total:cpu-seconds",
	"/gc/cycles/total:gc-cycles",
}

func readCPUClasses() cpuClasses {
	s := make([]metrics.Sample, len(cpuClassNames))
	for i, n := range cpuClassNames {
		s[i].Name = n
	}
	metrics.Read(s)
	v := func(i int) float64 {
		switch s[i].Value.Kind() {
		case metrics.KindFloat64:
			return s[i].Value.Float64()
		case metrics.KindUint64:
			return float64(s[i].Value.Uint64())
		}
		panic("runtime/metrics has no " + cpuClassNames[i])
	}
	return cpuClasses{gc: v(0), idle: v(1), total: v(2), cycles: v(3)}
}

func (c cpuClasses) sub(o cpuClasses) cpuClasses {
	return cpuClasses{gc: c.gc - o.gc, idle: c.idle - o.idle, total: c.total - o.total, cycles: c.cycles - o.cycles}
}

// cpuTime is the process's user + system CPU time so far, in nanoseconds.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
