package nexmark

import (
	"context"
	"strconv"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
)

// discard is a SourceContext that drops every batch.
type discard struct {
	ctx  context.Context
	rows int
}

func (d *discard) Counter(string, int64)       {}
func (d *discard) Emit(b *coldata.Batch) error { d.rows += b.Rows(); return nil }

// BenchmarkGenerate runs an unthrottled source for b.N events on one
// goroutine. With -cpu 1 the garbage collector shares that core, which is
// the honest "events per second per core"; with more Ps it runs beside it
// but, with this benchmark's tiny live heap, collects several hundred times
// a second, so the number is noisier. events/cpu-s divides by the process's
// CPU time instead of wall time.
//
//	go test -run '^$' -bench Generate -benchmem -cpu 1,2 ./connectors/nexmark/
func BenchmarkGenerate(b *testing.B) {
	src, err := NewSource(map[string]string{"event_rate": "1e9", "event_count": strconv.Itoa(b.N), "base_time": testBase})
	if err != nil {
		b.Fatal(err)
	}
	d := &discard{ctx: b.Context()}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	if err := connector.Drain(d.ctx, mustSplits(b, src, "0/1"), d); err != nil {
		b.Fatal(err)
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if d.rows != b.N {
		b.Fatalf("generated %d events, want %d", d.rows, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		// Events per second of CPU time of the whole process (GC
		// included): stable when other processes share the machine.
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "events/cpu-s")
	}
}
