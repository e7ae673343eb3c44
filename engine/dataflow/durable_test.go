package dataflow_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/arroyogo/arroyo/engine/dataflow"
)

// fakeDurable records the checkpoints it is given and fails those in fail.
type fakeDurable struct {
	mu     sync.Mutex
	fail   map[uint64]bool
	epochs []uint64
	stops  []bool
}

func (d *fakeDurable) WriteCheckpoint(_ context.Context, c dataflow.CompletedCheckpoint) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.epochs = append(d.epochs, c.Epoch)
	d.stops = append(d.stops, c.Stop)
	if d.fail[c.Epoch] {
		return errors.New("no space left on device")
	}
	return nil
}

// TestDurableWriteFailureFailsTheCheckpointNotTheJob: a checkpoint whose
// durable write fails is not complete (Checkpoint returns the error, the
// sinks do not commit it); the job goes on, and the next checkpoint that
// is written commits both epochs' pre-commits at once. Epochs continue from
// RestoreEpoch.
func TestDurableWriteFailureFailsTheCheckpointNotTheJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &testSource{next: unboundedRows(1), interval: 10 * time.Millisecond}
		f := &tpcFixture{log: map[int][]string{}}
		b := newBuilder(t)
		s := b.source("source 'in'", 1, src)
		o := b.tpcSink("sink 'out'", 1, f)
		b.forward(s, o)
		d := &fakeDurable{fail: map[uint64]bool{8: true}}
		j := start(t, &b.p, dataflow.Options{JobID: "job1", Durable: d, RestoreEpoch: 7})
		if _, err := j.Checkpoint(t.Context()); err == nil || !strings.Contains(err.Error(), "checkpoint 8: no space left") {
			t.Fatalf("checkpoint on a full disk: %v", err)
		}
		if e, err := j.Checkpoint(t.Context()); err != nil || e != 9 {
			t.Fatalf("next checkpoint: %d, %v", e, err)
		}
		j.Stop()
		if err := wait(t, j); err != nil {
			t.Fatal(err)
		}
		want := []string{"pre 8", "pre 9", `commit 9 ["job1/0/e8" "job1/0/e9"]`, "pre 10", `commit 10 ["job1/0/e10"]`, "finish"}
		if got := f.log[0]; !slices.Equal(got, want) {
			t.Errorf("sink calls %q, want %q", got, want)
		}
		if !slices.Equal(d.epochs, []uint64{8, 9, 10}) || !slices.Equal(d.stops, []bool{false, false, true}) {
			t.Errorf("written epochs %v (stop %v)", d.epochs, d.stops)
		}
	})
}

// TestDurableStopWriteFailureFailsTheJob: the stop checkpoint that cannot
// be written fails the job, naming it; nothing is committed.
func TestDurableStopWriteFailureFailsTheJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &testSource{next: unboundedRows(1), interval: 10 * time.Millisecond}
		f := &tpcFixture{log: map[int][]string{}}
		b := newBuilder(t)
		s := b.source("source 'in'", 1, src)
		o := b.tpcSink("sink 'out'", 1, f)
		b.forward(s, o)
		j := start(t, &b.p, dataflow.Options{JobID: "job1", Durable: &fakeDurable{fail: map[uint64]bool{1: true}}})
		j.Stop()
		err := wait(t, j)
		if err == nil || !strings.Contains(err.Error(), "stop: checkpoint 1: no space left") {
			t.Fatalf("stop with a failing write: %v", err)
		}
		for _, c := range f.log[0] {
			if strings.HasPrefix(c, "commit") {
				t.Errorf("committed after a failed stop checkpoint: %q", f.log[0])
			}
		}
	})
}
