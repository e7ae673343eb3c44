package connector

import (
	"context"
	"time"
)

// Pacer sleeps until wall-clock deadlines, waking early on cancellation.
// Generator sources (nexmark, impulse) use it to hold an event rate. It
// uses the time package directly, so tests control it with
// testing/synctest.
type Pacer struct {
	ctx   context.Context
	timer *time.Timer
}

// NewPacer returns a pacer that gives up when ctx is done.
func NewPacer(ctx context.Context) *Pacer { return &Pacer{ctx: ctx} }

// Until returns when the wall clock reaches t, or the context's error if it
// is cancelled first.
func (p *Pacer) Until(t time.Time) error {
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

// Stop releases the timer.
func (p *Pacer) Stop() {
	if p.timer != nil {
		p.timer.Stop()
	}
}
