// Package scheduler holds the schedulers that place a job's workers. The
// embedded scheduler runs the whole program inside this process, on the
// engine's runtime: it is what `arroyo run` uses.
//
// It must not import connectors, udf or cmd.
package scheduler

import (
	"context"

	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/runtime"
)

// Embedded runs programs in this process.
type Embedded struct {
	Options runtime.Options
}

var _ controller.Scheduler = (*Embedded)(nil)

// Start implements controller.Scheduler.
func (e *Embedded) Start(ctx context.Context, prog *program.Program) (controller.Worker, error) {
	j, err := runtime.Start(ctx, prog, e.Options)
	if err != nil {
		return nil, err
	}
	return j, nil
}
