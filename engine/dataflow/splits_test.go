package dataflow_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
)

const splitConnector = "test_runtime_split_source"

func init() {
	connector.Register(&connector.Connector{
		Name: splitConnector,
		NewSource: func(t *connector.Table, _ connector.SourceTask, _ []connector.SplitState) (connector.Source, error) {
			f, ok := fixtures.Load(t.Name)
			if !ok {
				return nil, fmt.Errorf("no test source %q", t.Name)
			}
			return &splitSource{script: f.([]splitStep)}, nil
		},
	})
}

// splitStep is one Poll of a splitSource: a batch of one row with event
// time ts emitted on split (ts >= 0), then the splits in done declared
// done.
type splitStep struct {
	split int
	ts    int64
	done  []int
}

// splitSource declares two splits and plays its script, one step a Poll
// (then waits for its context: it is unbounded).
type splitSource struct {
	script   []splitStep
	k        int
	declared bool
}

func (s *splitSource) Poll(ctx context.Context, out connector.SourceOutput) error {
	so := out.(connector.SplitOutput)
	if !s.declared {
		so.DeclareSplits(2)
		s.declared = true
	}
	if s.k == len(s.script) {
		<-ctx.Done()
		return nil
	}
	st := s.script[s.k]
	s.k++
	if st.ts >= 0 {
		if err := so.EmitSplit(st.split, makeBatch(nil, []row{{K: st.ts, V: st.ts, S: "x", TS: st.ts}}, false)); err != nil {
			return err
		}
	}
	for _, d := range st.done {
		so.SplitDone(d)
	}
	return nil
}

func (s *splitSource) Snapshot(uint64) ([]connector.SplitState, error) { return nil, nil }

// TestAllSplitsDoneReleaseWatermark: the watermark of a source that emits
// per split is the least over its splits that are not done; once every
// split is done (a Kafka subtask whose partitions all went idle) it is the
// largest event time the source saw, whichever order the splits were
// declared done in, and also when they were declared done together (before
// this, the watermark then stayed where it was: a window of the split that
// had data never closed).
func TestAllSplitsDoneReleaseWatermark(t *testing.T) {
	cases := []struct {
		name   string
		script []splitStep
	}{
		// split 1 never had data: it holds the watermark back until done.
		{"together", []splitStep{{split: 0, ts: 15}, {ts: -1, done: []int{0, 1}}}},
		{"data split first", []splitStep{{split: 0, ts: 15}, {ts: -1, done: []int{0}}, {ts: -1, done: []int{1}}}},
		{"empty split first", []splitStep{{split: 0, ts: 15}, {ts: -1, done: []int{1}}, {ts: -1, done: []int{0}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ps := newProbes()
				b := newBuilder(t)
				src := b.add(&program.Node{Op: program.OpSource, Description: "source 's'", Parallelism: 1, Source: b.table(splitConnector, c.script),
					Watermark: &program.Watermark{Column: colTS, Lateness: 0}})
				p := b.probe("probe 'p'", 1)
				b.forward(src, p)
				j, err := dataflow.StartWith(context.Background(), &b.p, dataflow.Options{WatermarkInterval: 10 * time.Millisecond}, ps.newOp)
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Second)
				synctest.Wait()
				var wms []string
				for _, l := range ps.get("probe 'p'", 0).lines() {
					if w, ok := strings.CutPrefix(l, "wm "); ok {
						wms = append(wms, w)
					}
				}
				if !slices.Equal(wms, []string{"15"}) {
					t.Errorf("watermarks %v, want [15]", wms)
				}
				j.Cancel()
				_ = j.Wait()
			})
		})
	}
}
