package kafka

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
)

// splitLog records what the source tells the runtime about its splits.
type splitLog struct{ calls []string }

func (l *splitLog) Emit(*coldata.Batch) error { return nil }
func (l *splitLog) Counter(string, int64)     {}
func (l *splitLog) DeclareSplits(n int)       { l.calls = append(l.calls, fmt.Sprintf("declare %d", n)) }
func (l *splitLog) EmitSplit(int, *coldata.Batch) error {
	return nil
}
func (l *splitLog) SplitDone(i int) { l.calls = append(l.calls, fmt.Sprintf("done %d", i)) }

var _ connector.SplitOutput = (*splitLog)(nil)

// TestPartitionTimes: splits are declared before the first batch and
// again when a partition appears or comes back from idleness (with the
// idle ones declared done); a partition idle for idleAfter is declared
// done once.
func TestPartitionTimes(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	w := newPartitionTimes(100 * time.Millisecond)
	out := &splitLog{}
	step := func(what string, f func()) {
		out.calls = nil
		f()
		t.Logf("%s: %v", what, out.calls)
	}
	expect := func(want string) {
		t.Helper()
		if got := strings.Join(out.calls, ", "); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	step("two partitions known, nothing emitted", func() { w.add(0, at(0)); w.add(1, at(0)) })
	expect("")
	var i int
	step("partition 1 emits", func() { i = w.split(out, 1, at(10)) })
	expect("declare 2")
	if i != 1 {
		t.Errorf("partition 1 is split %d", i)
	}
	step("partition 1 again", func() { w.split(out, 1, at(20)) })
	expect("")
	step("partition 0 idle for 100ms", func() { w.expire(out, at(100)) })
	expect("done 0")
	step("and still (partition 1 emitted 90ms ago)", func() { w.expire(out, at(110)) })
	expect("")
	step("partition 7 appears and emits", func() { w.split(out, 7, at(160)) })
	expect("declare 3, done 0")
	step("partition 1 idle too", func() { w.expire(out, at(230)) })
	expect("done 1")
	step("partition 0 comes back", func() { w.split(out, 0, at(240)) })
	expect("declare 3, done 1")
	off := newPartitionTimes(0)
	step("idleAfter 0: never idle", func() { off.split(out, 0, at(0)); off.expire(out, at(1_000_000)) })
	expect("declare 1")
}
