package controller_test

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"

	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/controlplane/controller"
	"github.com/arroyogo/arroyo/controlplane/scheduler"
	"github.com/arroyogo/arroyo/engine/checkpoint"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// flakyFailures is how many more attempts of a flaky_test source fail.
var flakyFailures atomic.Int64

// brokerDown is a failure that says a retry can help.
type brokerDown struct{}

func (brokerDown) Error() string   { return "broker unreachable" }
func (brokerDown) Retriable() bool { return true }

type flakySource struct{ polls int }

func (s *flakySource) Poll(_ context.Context, out connector.SourceOutput) error {
	s.polls++
	if s.polls == 2 && flakyFailures.Add(-1) >= 0 {
		return brokerDown{}
	}
	if s.polls > 3 {
		return io.EOF
	}
	v := coldata.New(types.Int64T, 0).(*coldata.Vec[int64])
	v.Append(int64(s.polls))
	ts := coldata.New(types.TimestampT, 0).(*coldata.Vec[int64])
	ts.Append(0)
	return out.Emit(coldata.NewBatch([]coldata.Vector{v, ts}, 1))
}

func (s *flakySource) Snapshot(uint64) ([]connector.SplitState, error) {
	return []connector.SplitState{{}}, nil
}

func init() {
	connector.Register(&connector.Connector{
		Name: "flaky_test",
		Schema: func(connector.Options) (*types.Schema, error) {
			return types.NewSchema(types.Field{Name: "n", Type: types.Int64T}), nil
		},
		NewSource: func(*connector.Table, connector.SourceTask, []connector.SplitState) (connector.Source, error) {
			return &flakySource{}, nil
		},
	})
}

const flakyQuery = "CREATE TABLE f WITH (connector = 'flaky_test');\nCREATE TABLE out WITH (connector = 'blackhole');\nINSERT INTO out SELECT n FROM f;"

// TestRestartFromCheckpoint: a retriable failure restarts the job from its
// last checkpoint (Recovering, then Running again) up to
// pipeline.allowed_restarts; the failure is recorded with its operator and
// subtask; past the limit, or with nothing to restart from, the job fails.
func TestRestartFromCheckpoint(t *testing.T) {
	run := func(t *testing.T, allowed int, failures int64, durable bool) (*controller.Job, error) {
		cfg := config.Default()
		cfg.Pipeline.AllowedRestarts = allowed
		flakyFailures.Store(failures)
		p := controller.Pipeline{Name: "t", File: "t.sql", Query: flakyQuery, Parallelism: 1, JobID: "job_t"}
		if durable {
			p.Checkpoints = &checkpoint.Dir{Storage: checkpoint.Local{Root: t.TempDir()}, Root: "checkpoints/job_t"}
			p.Resume = true
		}
		j, err := controller.New(&scheduler.Embedded{}, cfg).Submit(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		return j, j.Wait()
	}
	t.Run("restarted", func(t *testing.T) {
		j, err := run(t, 3, 2, true)
		if err != nil {
			t.Fatalf("job failed after restarts: %v", err)
		}
		h := j.History()
		if n := countState(h, controller.Recovering); n != 2 || h[len(h)-1] != controller.Finished {
			t.Fatalf("history %v: want two recoveries, then Finished", h)
		}
		fs := j.Failures()
		if len(fs) != 2 || !fs[0].Restarted || fs[0].Operator != "source 'f'" || fs[0].Subtask != 0 || fs[0].Message != "broker unreachable" {
			t.Fatalf("failures %+v", fs)
		}
	})
	t.Run("limit", func(t *testing.T) {
		j, err := run(t, 1, 5, true)
		if !errors.As(err, new(brokerDown)) {
			t.Fatalf("Wait = %v, want the broker failure", err)
		}
		if h := j.History(); countState(h, controller.Recovering) != 1 || h[len(h)-1] != controller.Failed {
			t.Fatalf("history %v: want one recovery, then Failed", h)
		}
		if fs := j.Failures(); len(fs) != 2 || !fs[0].Restarted || fs[1].Restarted {
			t.Fatalf("failures %+v", fs)
		}
	})
	t.Run("no checkpoints", func(t *testing.T) {
		j, err := run(t, 3, 1, false)
		if err == nil || countState(j.History(), controller.Recovering) != 0 {
			t.Fatalf("without durable checkpoints a restart would replay committed output: %v, %v", err, j.History())
		}
	})
}

func countState(h []controller.State, s controller.State) int {
	n := 0
	for _, x := range h {
		if x == s {
			n++
		}
	}
	return n
}
