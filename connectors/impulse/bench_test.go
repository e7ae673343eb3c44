package impulse

import (
	"context"
	"strconv"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
)

type discard struct {
	ctx  context.Context
	rows int
}

func (d *discard) Counter(string, int64)       {}
func (d *discard) Emit(b *coldata.Batch) error { d.rows += b.Rows(); return nil }

// BenchmarkImpulse runs an unthrottled source for b.N messages.
//
//	go test -run '^$' -bench Impulse -benchmem -cpu 1 ./connectors/impulse/
func BenchmarkImpulse(b *testing.B) {
	for _, interval := range []string{"", "1ms"} {
		name := "wallclock"
		opts := map[string]string{"event_rate": "1e9", "message_count": strconv.Itoa(b.N)}
		if interval != "" {
			name = "interval"
			opts[OptEventTimeInterval] = interval
		}
		b.Run(name, func(b *testing.B) {
			opts[OptMessageCount] = strconv.Itoa(b.N)
			src, err := NewSource(opts)
			if err != nil {
				b.Fatal(err)
			}
			d := &discard{ctx: b.Context()}
			b.ReportAllocs()
			if err := connector.Drain(d.ctx, mustSplits(b, src, "0/1"), d); err != nil {
				b.Fatal(err)
			}
			if d.rows != b.N {
				b.Fatalf("%d rows, want %d", d.rows, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
