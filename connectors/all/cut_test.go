package all_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	_ "github.com/arroyogo/arroyo/connectors/all"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
)

// cutSink is the default sink of these tests: a two-phase-commit sink that
// keeps each subtask's rows by the epoch whose barrier followed them, so a
// test knows exactly what a checkpoint covers. A run's first Write waits
// for run.gate, so the sources fill their queues and are caught mid-stream
// by the checkpoint.
const cutSink = "test_cut_sink"

// cutRun is what one job's sinks saw.
type cutRun struct {
	gate     chan struct{}
	entered  chan struct{}
	once     sync.Once
	mu       sync.Mutex
	epochs   map[uint64][]string // rows pre-committed at each epoch
	tail     []string            // rows after the last pre-commit (Finish)
	commits  []uint64
	restored [][]byte
}

var (
	runsMu sync.Mutex
	runs   = map[string]*cutRun{} // job id -> run
)

func init() {
	connector.Register(&connector.Connector{
		Name: cutSink,
		NewSink: func(_ *connector.Table, task connector.SinkTask) (connector.Sink, error) {
			runsMu.Lock()
			r := runs[task.JobID]
			runsMu.Unlock()
			if r == nil {
				return nil, fmt.Errorf("no run %q", task.JobID)
			}
			return &cutSub{run: r}, nil
		},
	})
}

type cutSub struct {
	run *cutRun
	cur []string
}

var _ connector.TwoPhaseSink = (*cutSub)(nil)

func (s *cutSub) Write(ctx context.Context, b *coldata.Batch) error {
	r := s.run
	if r.gate != nil {
		r.once.Do(func() { close(r.entered) })
		select {
		case <-r.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	b.ForEach(func(i int) {
		var sb strings.Builder
		for c := 0; c < len(b.Cols)-1; c++ { // not the hidden event time
			if c > 0 {
				sb.WriteByte('|')
			}
			switch v := b.Cols[c].(type) {
			case *coldata.Vec[int64]:
				if v.IsNull(i) {
					sb.WriteString("null")
				} else {
					sb.WriteString(strconv.FormatInt(v.Vals[i], 10))
				}
			case *coldata.Vec[uint64]:
				sb.WriteString(strconv.FormatUint(v.Vals[i], 10))
			case *coldata.Bytes:
				if v.IsNull(i) {
					sb.WriteString("null")
				} else {
					sb.WriteString(v.GetString(i))
				}
			default:
				panic(fmt.Sprintf("cutSub: column %d is a %T", c, v))
			}
		}
		s.cur = append(s.cur, sb.String())
	})
	return nil
}

func (s *cutSub) PreCommit(_ context.Context, epoch uint64) ([]byte, error) {
	s.run.mu.Lock()
	defer s.run.mu.Unlock()
	s.run.epochs[epoch] = append(s.run.epochs[epoch], s.cur...)
	s.cur = nil
	return []byte(strconv.FormatUint(epoch, 10)), nil
}

func (s *cutSub) Commit(_ context.Context, epoch uint64, prepared [][]byte) error {
	s.run.mu.Lock()
	defer s.run.mu.Unlock()
	if len(prepared) == 0 || string(prepared[len(prepared)-1]) != strconv.FormatUint(epoch, 10) {
		return fmt.Errorf("commit %d with %q", epoch, prepared)
	}
	s.run.commits = append(s.run.commits, epoch)
	return nil
}

func (s *cutSub) Recover(_ context.Context, restored [][]byte) error {
	s.run.mu.Lock()
	defer s.run.mu.Unlock()
	s.run.restored = append(s.run.restored, restored...)
	return nil
}

func (s *cutSub) Finish(context.Context) error {
	s.run.mu.Lock()
	defer s.run.mu.Unlock()
	s.run.tail = append(s.run.tail, s.cur...)
	s.cur = nil
	return nil
}
