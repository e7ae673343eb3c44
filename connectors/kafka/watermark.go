package kafka

import (
	"time"

	"github.com/arroyogo/arroyo/engine/connector"
)

// Per-partition watermarks. A subtask reads several partitions; left to
// itself the runtime's watermark would follow the largest event time of
// all of them, so a partition that is behind (a slow producer, a backlog)
// would see its rows arrive after the windows they belong to had closed.
// The source therefore emits each partition's rows as a split of its own
// (connector.SplitOutput): the runtime's watermark is then the least over
// the partitions of each one's largest event time, less the table's
// lateness (WATERMARK FOR, or the default over the records' timestamps).
//
// A partition that has had no record for source.idle_timeout no longer
// holds the watermark back (it is declared done to the runtime); when it
// has records again the splits are declared anew, and the watermark waits
// until every partition that is not idle has emitted again. The runtime
// never moves a watermark back, so a re-declaration only pauses it.
type partitionTimes struct {
	idleAfter time.Duration // 0: partitions never go idle
	index     map[int32]int // partition -> split index
	last      []time.Time   // of the partition's last record (or its start)
	idle      []bool
	declared  bool // the runtime knows the current splits and idleness
}

func newPartitionTimes(idleAfter time.Duration) *partitionTimes {
	return &partitionTimes{idleAfter: idleAfter, index: map[int32]int{}}
}

// add starts tracking partition p (a no-op if it is tracked).
func (w *partitionTimes) add(p int32, now time.Time) {
	if _, ok := w.index[p]; ok {
		return
	}
	w.index[p] = len(w.last)
	w.last = append(w.last, now)
	w.idle = append(w.idle, false)
	w.declared = false
}

// split returns the split index of p, which has records at now, declaring
// the splits to out first if they changed.
func (w *partitionTimes) split(out connector.SplitOutput, p int32, now time.Time) int {
	w.add(p, now)
	i := w.index[p]
	w.last[i] = now
	if w.idle[i] {
		w.idle[i], w.declared = false, false
	}
	if !w.declared {
		out.DeclareSplits(len(w.last))
		for k, idle := range w.idle {
			if idle {
				out.SplitDone(k)
			}
		}
		w.declared = true
	}
	return i
}

// expire declares done the partitions without a record for idleAfter.
func (w *partitionTimes) expire(out connector.SplitOutput, now time.Time) {
	if w.idleAfter <= 0 {
		return
	}
	for i, t := range w.last {
		if !w.idle[i] && now.Sub(t) >= w.idleAfter {
			w.idle[i] = true
			if w.declared {
				out.SplitDone(i)
			}
		}
	}
}
