package impulse

import (
	"context"
	"time"
)

// pacer sleeps until wall-clock deadlines, waking early on cancellation.
// It uses the time package directly, so tests control it with
// testing/synctest.
type pacer struct {
	ctx   context.Context
	timer *time.Timer
}

func newPacer(ctx context.Context) *pacer { return &pacer{ctx: ctx} }

// until returns when the wall clock reaches t, or the context's error if it
// is cancelled first.
func (p *pacer) until(t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return p.ctx.Err()
	}
	if p.timer == nil {
		p.timer = time.NewTimer(d)
	} else {
		p.timer.Reset(d)
	}
	select {
	case <-p.timer.C:
		return nil
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

func (p *pacer) stop() {
	if p.timer != nil {
		p.timer.Stop()
	}
}
