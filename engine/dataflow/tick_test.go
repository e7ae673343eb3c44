package dataflow_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
)

// ticker passes data through and counts its ticks; each tick emits
// nothing.
type ticker struct {
	ticks *atomic.Int64
}

func (o *ticker) Process(ctx context.Context, _ int, b *coldata.Batch, out ops.Collector) error {
	return out.Collect(b)
}
func (o *ticker) TickInterval() time.Duration { return time.Second }
func (o *ticker) Tick(context.Context, ops.Collector) error {
	o.ticks.Add(1)
	return nil
}

// TestTicks delivers ops.Ticker ticks every TickInterval of processing
// time while the source is blocked (no data, no watermark), and none after
// the job ends.
func TestTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ticks atomic.Int64
		src := &testSource{next: unboundedRows(2), gate: make(chan struct{})}
		b := newBuilder(t)
		s := b.source("source 'endless'", 1, src)
		c := b.calc("calc 'ticker'", 1, &program.Calc{Project: identity()})
		o := b.sink("sink 'out'", 1, &testSink{})
		b.forward(s, c)
		b.forward(c, o)
		newOp := func(ctx context.Context, n *program.Node, task ops.TaskInfo) (ops.Operator, error) {
			if n.Op == program.OpCalc {
				return &ticker{ticks: &ticks}, nil
			}
			return ops.New(ctx, n, task)
		}
		j, err := dataflow.StartWith(context.Background(), &b.p, dataflow.Options{}, newOp)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3500 * time.Millisecond)
		synctest.Wait()
		if n := ticks.Load(); n != 3 {
			t.Errorf("%d ticks in 3.5 s, want 3", n)
		}
		j.Cancel()
		_ = j.Wait()
		after := ticks.Load()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if n := ticks.Load(); n != after {
			t.Errorf("%d ticks after the job ended", n-after)
		}
	})
}
