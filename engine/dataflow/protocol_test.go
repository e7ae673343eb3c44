package dataflow_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
)

// Tests of the runtime protocol: per-sender queues and alignment, the
// control path, watermarks and idleness, stop versus end of input, the
// coordinator and the events up. They run probe operators (recording every
// call the runtime makes) in place of the calcs of a program.

// probe is a forwarding operator that logs what the runtime calls, in
// order: "data <input> <v>..." (the v of each row), "wm <ts>", "ckpt <n>",
// "done <n>", "finish".
type probe struct {
	task ops.TaskInfo
	// step, if set, is received from before every Process (a test releases
	// batches one by one, or closes it).
	step chan struct{}

	mu  sync.Mutex
	log []string
}

var (
	_ ops.WatermarkHandler   = (*probe)(nil)
	_ ops.Checkpointer       = (*probe)(nil)
	_ ops.CheckpointNotifier = (*probe)(nil)
	_ ops.Finisher           = (*probe)(nil)
)

func (p *probe) record(s string) {
	p.mu.Lock()
	p.log = append(p.log, s)
	p.mu.Unlock()
}

func (p *probe) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.log)
}

func (p *probe) Process(ctx context.Context, input int, b *coldata.Batch, out ops.Collector) error {
	if p.step != nil {
		select {
		case <-p.step:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "data %d", input)
	for _, r := range readBatch(b) {
		fmt.Fprintf(&sb, " %d", r.V)
	}
	p.record(sb.String())
	return out.Collect(b)
}

func (p *probe) OnWatermark(_ context.Context, wm int64, _ ops.Collector) error {
	if wm == math.MaxInt64 {
		p.record("wm max")
	} else {
		p.record(fmt.Sprintf("wm %d", wm))
	}
	return nil
}

func (p *probe) Checkpoint(_ context.Context, b ops.Barrier, _ ops.Collector) (any, error) {
	p.record(fmt.Sprintf("ckpt %d", b.Epoch))
	return fmt.Sprintf("%s/%d@%d", p.task.Description, p.task.Subtask, b.Epoch), nil
}

func (p *probe) CheckpointDone(_ context.Context, epoch uint64) error {
	p.record(fmt.Sprintf("done %d", epoch))
	return nil
}

func (p *probe) Finish(context.Context, ops.Collector) error {
	p.record("finish")
	return nil
}

// probes maps calc nodes whose description starts with "probe" to probe
// operators (one per subtask, in subtask order); other nodes get the real
// operators.
type probes struct {
	mu   sync.Mutex
	byID map[string][]*probe
	step map[string]chan struct{}
}

func newProbes() *probes {
	return &probes{byID: map[string][]*probe{}, step: map[string]chan struct{}{}}
}

func (ps *probes) newOp(ctx context.Context, n *program.Node, task ops.TaskInfo) (ops.Operator, error) {
	if !strings.HasPrefix(n.Description, "probe") {
		return ops.New(ctx, n, task)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := &probe{task: task, step: ps.step[n.Description]}
	ps.byID[n.Description] = append(ps.byID[n.Description], p)
	return p, nil
}

func (ps *probes) get(desc string, subtask int) *probe {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.byID[desc][subtask]
}

func (b *builder) probe(desc string, par int) int {
	return b.calc(desc, par, &program.Calc{Project: identity()})
}

// events records the events the coordinator receives.
type events struct {
	mu  sync.Mutex
	evs []dataflow.Event
}

func (e *events) add(ev dataflow.Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
}

func (e *events) all() []dataflow.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.evs)
}

// rowsWithV returns one batch per v, each one row with that v and ts.
func rowsWithV(vs ...int64) []*coldata.Batch {
	var out []*coldata.Batch
	for _, v := range vs {
		out = append(out, makeBatch(nil, []row{{K: v, V: v, S: "x", TS: v}}, false))
	}
	return out
}

func seq(from, to int64) []int64 {
	var out []int64
	for v := from; v < to; v++ {
		out = append(out, v)
	}
	return out
}

// dataVs returns the v values of the "data <input>" lines of log, split at
// the first line equal to mark.
func dataVs(log []string, input int, mark string) (before, after []string) {
	prefix := fmt.Sprintf("data %d ", input)
	seen := false
	for _, l := range log {
		if l == mark {
			seen = true
			continue
		}
		if v, ok := strings.CutPrefix(l, prefix); ok {
			if seen {
				after = append(after, v)
			} else {
				before = append(before, v)
			}
		}
	}
	return before, after
}

func vStrings(vs []int64) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprint(v)
	}
	return out
}

// TestAlignment: a fast sender and a slow one (stuck behind a busy operator)
// feed a two-input probe. At checkpoint 1 the fast sender's barrier arrives
// first: its queue is blocked, it fills (and no more: memory is bounded by
// the queue) and the fast source blocks; none of its data after the barrier
// is processed before the snapshot, all of it before the barrier is; the
// slow input's data before its barrier is processed before the snapshot.
func TestAlignment(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const queue = 3
		const pre, total = 5, 40
		resume := make(chan struct{})
		fast := &testSource{batches: [][]*coldata.Batch{rowsWithV(seq(0, total)...)}, waits: make([]chan struct{}, pre+1)}
		fast.waits[pre] = resume
		slow := &testSource{batches: [][]*coldata.Batch{rowsWithV(seq(1000, 1020)...)}}
		sink := &testSink{}
		ps := newProbes()
		ps.step["probe 'busy'"] = make(chan struct{})
		var evs events
		b := newBuilder(t)
		f := b.source("source 'fast'", 1, fast)
		pf := b.probe("probe 'pass'", 1)
		s := b.source("source 'slow'", 1, slow)
		busy := b.probe("probe 'busy'", 1)
		join := b.probe("probe 'join'", 1)
		o := b.sink("sink 'out'", 1, sink)
		b.forward(f, pf)
		b.forward(pf, join) // input 0
		b.forward(s, busy)
		b.forward(busy, join) // input 1
		b.forward(join, o)
		j, err := dataflow.StartWith(context.Background(), &b.p, dataflow.Options{QueueSize: queue, OnEvent: evs.add}, ps.newOp)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // fast paused after its first batches; busy holds slow's first
		done := make(chan error, 1)
		var epoch uint64
		go func() {
			var err error
			epoch, err = j.Checkpoint(context.Background())
			done <- err
		}()
		synctest.Wait() // the barriers are injected: fast's reached the join
		close(resume)
		synctest.Wait() // fast runs into the blocked queue

		jp := ps.get("probe 'join'", 0)
		before, _ := dataVs(jp.lines(), 0, "")
		if want := vStrings(seq(0, pre)); !slices.Equal(before, want) {
			t.Errorf("fast data processed while aligning: %v, want exactly the %d batches before the barrier", before, pre)
		}
		if n := j.Buffered(join, 0, 0, 0); n != queue {
			t.Errorf("fast queue holds %d messages while blocked, want its capacity %d", n, queue)
		}
		if a, e := fast.attempts.Load(), fast.emitted.Load(); a != e+1 {
			t.Errorf("fast source: %d Emit calls, %d returned: want it blocked in one", a, e)
		}
		select {
		case err := <-done:
			t.Fatalf("checkpoint completed before the slow input's barrier: %v", err)
		default:
		}

		close(ps.step["probe 'busy'"])
		if err := <-done; err != nil || epoch != 1 {
			t.Fatalf("Checkpoint: %d, %v; want 1", epoch, err)
		}
		if err := j.Wait(); err != nil {
			t.Fatal(err)
		}
		log := jp.lines()
		fastBefore, fastAfter := dataVs(log, 0, "ckpt 1")
		if want := vStrings(seq(0, pre)); !slices.Equal(fastBefore, want) {
			t.Errorf("fast data before the snapshot %v, want %v", fastBefore, want)
		}
		if want := vStrings(seq(pre, total)); !slices.Equal(fastAfter, want) {
			t.Errorf("fast data after the snapshot %v, want %v", fastAfter, want)
		}
		// The completion may come after the join has reached end of input
		// (it then has nothing left to commit); if it came before, it
		// follows the snapshot.
		if d := slices.Index(log, "done 1"); d >= 0 && d < slices.Index(log, "ckpt 1") {
			t.Errorf("join told checkpoint 1 is complete before its snapshot: %q", log)
		}
		if len(sink.allRows()) != total+20 {
			t.Errorf("sink got %d rows, want %d", len(sink.allRows()), total+20)
		}
		// Every subtask acknowledged epoch 1 exactly once; the probes with
		// their snapshot's handle.
		acks := map[string]any{}
		for _, ev := range evs.all() {
			if ev.Kind == dataflow.EventAck {
				key := fmt.Sprintf("%s/%d@%d", ev.Operator, ev.Subtask, ev.Epoch)
				if _, dup := acks[key]; dup {
					t.Errorf("duplicate ack %s", key)
				}
				acks[key] = ev.Snapshot
			}
		}
		for _, name := range []string{"source 'fast'", "source 'slow'", "probe 'pass'", "probe 'busy'", "probe 'join'", "sink 'out'"} {
			key := name + "/0@1"
			snap, ok := acks[key]
			if !ok {
				t.Errorf("no ack %s", key)
				continue
			}
			if strings.HasPrefix(name, "probe") && snap != key {
				t.Errorf("ack %s carries snapshot %v, want the probe's handle", key, snap)
			}
		}
	})
}

// TestWatermarks scripts three sources (lateness 0) into probe J (inputs A,
// B) and probe K (inputs J, C) and checks the watermarks each probe is
// given: the minimum over active senders, only when it advances; idle
// senders do not hold it back, and a probe whose senders are all idle is
// idle downstream; data makes a sender active again without the watermark
// going back; a finished sender counts as the end of time, and end of input
// delivers the end of time before Finish.
func TestWatermarks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gates := func(n int) []chan struct{} {
			out := make([]chan struct{}, n)
			for i := 1; i < n; i++ {
				out[i] = make(chan struct{})
			}
			return out
		}
		a := &testSource{batches: [][]*coldata.Batch{rowsWithV(10, 40)}, waits: gates(3)}
		bs := &testSource{batches: [][]*coldata.Batch{rowsWithV(5, 30, 50)}, waits: gates(4)}
		c := &testSource{batches: [][]*coldata.Batch{rowsWithV(100, 110, 200)}, waits: gates(4)}
		ps := newProbes()
		b := newBuilder(t)
		na := b.source("source 'a'", 1, a)
		nb := b.source("source 'b'", 1, bs)
		nc := b.source("source 'c'", 1, c)
		for _, id := range []int{na, nb, nc} {
			b.p.Nodes[id].Watermark = &program.Watermark{Column: colTS, Lateness: 0}
		}
		nj := b.probe("probe 'j'", 1)
		nk := b.probe("probe 'k'", 1)
		b.forward(na, nj)
		b.forward(nb, nj)
		b.forward(nj, nk)
		b.forward(nc, nk)
		opts := dataflow.Options{WatermarkInterval: 100 * time.Millisecond, IdleTimeout: time.Second}
		j, err := dataflow.StartWith(context.Background(), &b.p, opts, ps.newOp)
		if err != nil {
			t.Fatal(err)
		}
		wms := func(desc string) []string {
			var out []string
			for _, l := range ps.get(desc, 0).lines() {
				if w, ok := strings.CutPrefix(l, "wm "); ok {
					out = append(out, w)
				}
			}
			return out
		}
		check := func(step string, wantJ, wantK []string) {
			t.Helper()
			synctest.Wait()
			if got := wms("probe 'j'"); !slices.Equal(got, wantJ) {
				t.Errorf("%s: j's watermarks %v, want %v", step, got, wantJ)
			}
			if got := wms("probe 'k'"); !slices.Equal(got, wantK) {
				t.Errorf("%s: k's watermarks %v, want %v", step, got, wantK)
			}
		}
		// t=0: a 10, b 5, c 100.
		time.Sleep(150 * time.Millisecond)
		check("first tick", []string{"5"}, []string{"5"})
		// t=150: b 30.
		close(bs.waits[1])
		time.Sleep(100 * time.Millisecond)
		check("b advances", []string{"5", "10"}, []string{"5", "10"})
		// t=850: b 50 (its watermark at t=900); t=1000: c 110. a has been
		// silent since t=0: idle at t=1000, so j follows b alone. (Events of
		// different sources never fall on the same tick: their order would
		// be arbitrary.)
		time.Sleep(600 * time.Millisecond)
		close(bs.waits[2])
		time.Sleep(150 * time.Millisecond)
		close(c.waits[1])
		time.Sleep(200 * time.Millisecond)
		check("a idle", []string{"5", "10", "50"}, []string{"5", "10", "50"})
		// t=1900: b idle too, so j is idle downstream: k follows c alone
		// (110). t=2000: c idle. t=2200: c 200.
		time.Sleep(1000 * time.Millisecond)
		close(c.waits[2])
		time.Sleep(150 * time.Millisecond)
		check("j idle", []string{"5", "10", "50"}, []string{"5", "10", "50", "110", "200"})
		// a 40: active again, but the watermark does not go back.
		close(a.waits[1])
		time.Sleep(150 * time.Millisecond)
		check("a back", []string{"5", "10", "50"}, []string{"5", "10", "50", "110", "200"})
		// a ends: it counts as the end of time, and b is idle: j reaches
		// the end of time; k is held by c (200).
		close(a.waits[2])
		time.Sleep(150 * time.Millisecond)
		check("a ends", []string{"5", "10", "50", "max"}, []string{"5", "10", "50", "110", "200"})
		// Everything ends.
		close(bs.waits[3])
		close(c.waits[3])
		if err := j.Wait(); err != nil {
			t.Fatal(err)
		}
		check("end", []string{"5", "10", "50", "max"}, []string{"5", "10", "50", "110", "200", "max"})
		for _, p := range []string{"probe 'j'", "probe 'k'"} {
			log := ps.get(p, 0).lines()
			if n := len(log); n < 2 || log[n-2] != "wm max" || log[n-1] != "finish" {
				t.Errorf("%s does not end with the end of time then Finish: %q", p, log)
			}
		}
	})
}

// TestStopVersusEndOfInput: a bounded branch ends (final watermark, Finish,
// sink finished) while an unbounded branch runs; then Stop: the unbounded
// branch's probe snapshots at the stop barrier, is told the checkpoint is
// complete, and exits without Finish; its sink is flushed and closed, not
// finished; nothing the source emitted before the barrier is lost.
func TestStopVersusEndOfInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bounded := &testSource{batches: [][]*coldata.Batch{rowsWithV(1, 2, 3), rowsWithV(4)}}
		endless := &testSource{next: unboundedRows(2), interval: time.Millisecond}
		bsink, esink := &testSink{}, &testSink{}
		ps := newProbes()
		var evs events
		b := newBuilder(t)
		s1 := b.source("source 'bounded'", 2, bounded)
		p1 := b.probe("probe 'bounded'", 2)
		o1 := b.sink("sink 'bounded'", 1, bsink)
		s2 := b.source("source 'endless'", 2, endless)
		p2 := b.probe("probe 'endless'", 3)
		o2 := b.sink("sink 'endless'", 3, esink)
		b.forward(s1, p1)
		b.shuffle(p1, o1)
		b.shuffle(s2, p2, colK)
		b.forward(p2, o2)
		j, err := dataflow.StartWith(context.Background(), &b.p, dataflow.Options{QueueSize: 2, OnEvent: evs.add}, ps.newOp)
		if err != nil {
			t.Fatal(err)
		}
		for endless.emitted.Load() < 50 {
			time.Sleep(time.Millisecond)
		}
		synctest.Wait()
		for i := range 2 {
			log := ps.get("probe 'bounded'", i).lines()
			if n := len(log); n < 2 || log[n-2] != "wm max" || log[n-1] != "finish" {
				t.Errorf("bounded probe %d: %q, want the end of time then Finish", i, log)
			}
		}
		bsink.checkLifecycle(t, "bounded", 1, true)

		j.Stop()
		if err := j.Wait(); err != nil {
			t.Fatalf("Wait after Stop: %v", err)
		}
		for i := range 3 {
			log := ps.get("probe 'endless'", i).lines()
			n := len(log)
			if n < 2 || log[n-2] != "ckpt 1" || log[n-1] != "done 1" {
				t.Errorf("endless probe %d ends with %q, want the stop snapshot then its completion", i, log[max(0, n-3):])
			}
			if slices.Contains(log, "finish") {
				t.Errorf("endless probe %d finished on Stop", i)
			}
		}
		// Operators do not Finish on Stop; a sink does, once the stop
		// checkpoint is complete: its stream ended at a consistent cut.
		esink.checkLifecycle(t, "endless", 3, true)
		for _, sub := range esink.snapshot() {
			if sub.flushes != 1 {
				t.Errorf("endless sink %d flushed %d times, want 1", sub.idx, sub.flushes)
			}
		}
		if d := sameRows(esink.allRows(), endless.sentRows()); d != "" {
			t.Errorf("rows after Stop: %s", d)
		}
		for _, err := range endless.runErrs {
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("endless source Run returned %v", err)
			}
		}
		finished := map[string]int{}
		for _, ev := range evs.all() {
			if ev.Kind == dataflow.EventFinished {
				finished[ev.Operator]++
			}
		}
		want := map[string]int{"source 'bounded'": 2, "probe 'bounded'": 2, "sink 'bounded'": 1}
		if fmt.Sprint(finished) != fmt.Sprint(want) {
			t.Errorf("finished events %v, want %v (stopped subtasks do not finish)", finished, want)
		}
	})
}

// TestControlBeforeData: a checkpoint's completion reaches an operator
// whose queue is full of data ahead of it: the operator handles it before
// the next batch.
func TestControlBeforeData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const queue = 4
		resume := make(chan struct{})
		src := &testSource{batches: [][]*coldata.Batch{rowsWithV(seq(0, 30)...)}, waits: make([]chan struct{}, 2)}
		src.waits[1] = resume
		ps := newProbes()
		step := make(chan struct{})
		ps.step["probe 'p'"] = step
		b := newBuilder(t)
		s := b.source("source 'in'", 1, src)
		p := b.probe("probe 'p'", 1)
		// The sink holds its first batch until p holds its second, so the
		// checkpoint completes only then.
		sink := &testSink{gate: make(chan struct{})}
		o := b.sink("sink 'out'", 1, sink)
		b.forward(s, p)
		b.forward(p, o)
		j, err := dataflow.StartWith(context.Background(), &b.p, dataflow.Options{QueueSize: queue}, ps.newOp)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // p holds batch 0; the source waits before batch 1
		done := make(chan error, 1)
		go func() {
			_, err := j.Checkpoint(context.Background())
			done <- err
		}()
		synctest.Wait() // barrier after batch 0
		close(resume)
		synctest.Wait()    // the queue fills behind the barrier
		step <- struct{}{} // batch 0; then the barrier: snapshot, ack; then p holds batch 1
		synctest.Wait()
		close(sink.gate) // the sink acks: the checkpoint completes
		if err := <-done; err != nil {
			t.Fatalf("Checkpoint: %v", err)
		}
		synctest.Wait()
		if n := j.Buffered(p, 0, 0, 0); n != queue {
			t.Fatalf("%d batches queued ahead of the completion, want %d", n, queue)
		}
		step <- struct{}{} // batch 1; then the next message
		synctest.Wait()
		log := ps.get("probe 'p'", 0).lines()
		want := []string{"data 0 0", "ckpt 1", "data 0 1", "done 1"}
		if !slices.Equal(log, want) {
			t.Errorf("log %q, want %q: the completion must not wait behind queued data", log, want)
		}
		close(step)
		if err := j.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestOneCheckpointInFlight: while a checkpoint cannot complete (an
// operator is busy), a requested one fails with ErrCheckpointInProgress and
// the periodic trigger skips; epochs never overlap.
func TestOneCheckpointInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &testSource{next: unboundedRows(1), interval: 10 * time.Millisecond}
		ps := newProbes()
		step := make(chan struct{})
		ps.step["probe 'p'"] = step
		var evs events
		b := newBuilder(t)
		s := b.source("source 'in'", 2, src)
		p := b.probe("probe 'p'", 1)
		o := b.sink("sink 'out'", 1, &testSink{})
		b.shuffle(s, p)
		b.forward(p, o)
		opts := dataflow.Options{QueueSize: 2, CheckpointInterval: 100 * time.Millisecond, OnEvent: evs.add}
		j, err := dataflow.StartWith(context.Background(), &b.p, opts, ps.newOp)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // ten intervals; p is stuck on its first batch
		synctest.Wait()
		if _, err := j.Checkpoint(context.Background()); !errors.Is(err, dataflow.ErrCheckpointInProgress) {
			t.Errorf("Checkpoint while one is in flight: %v, want ErrCheckpointInProgress", err)
		}
		for _, ev := range evs.all() {
			if ev.Kind == dataflow.EventAck && ev.Epoch != 1 {
				t.Errorf("ack of epoch %d while epoch 1 is in flight", ev.Epoch)
			}
		}
		close(step)
		time.Sleep(time.Second)
		j.Stop()
		if err := j.Wait(); err != nil {
			t.Fatal(err)
		}
		// Acks per epoch: all 4 subtasks, and no ack of epoch e+1 before
		// the last of epoch e.
		count := map[uint64]int{}
		var last uint64
		for _, ev := range evs.all() {
			if ev.Kind != dataflow.EventAck {
				continue
			}
			if ev.Epoch < last {
				t.Fatalf("ack of epoch %d after one of epoch %d", ev.Epoch, last)
			}
			if ev.Epoch > last && last > 0 && count[last] != 4 {
				t.Fatalf("epoch %d started with %d of 4 acks of epoch %d", ev.Epoch, count[last], last)
			}
			last = ev.Epoch
			count[ev.Epoch]++
		}
		if last < 3 {
			t.Errorf("only %d checkpoints in 1s at a 100ms interval", last)
		}
	})
}

// TestFailureEvent: a failing subtask reports a typed failure up, and an
// awaited checkpoint fails with it.
func TestFailureEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &testSource{next: unboundedRows(1)}
		sink := &testSink{failWrite: 5, writeErr: errBoom}
		var evs events
		b := newBuilder(t)
		s := b.source("source 'in'", 1, src)
		o := b.sink("sink 'out'", 2, sink)
		b.shuffle(s, o)
		j := start(t, &b.p, dataflow.Options{OnEvent: evs.add})
		err := j.Wait()
		var te *dataflow.TaskError
		if !errors.As(err, &te) || te.Operator != "sink 'out'" || te.Node != o || !errors.Is(err, errBoom) || err.Error() != "sink 'out': boom" {
			t.Fatalf("Wait: %v, want the sink's TaskError", err)
		}
		var failed []dataflow.Event
		for _, ev := range evs.all() {
			if ev.Kind == dataflow.EventFailed {
				failed = append(failed, ev)
			}
		}
		if len(failed) != 1 || failed[0].Operator != "sink 'out'" || failed[0].Subtask != te.Subtask || !errors.Is(failed[0].Err, errBoom) {
			t.Errorf("failure events %+v, want one from the sink", failed)
		}
		if _, err := j.Checkpoint(context.Background()); !errors.Is(err, dataflow.ErrNoCheckpoint) {
			t.Errorf("Checkpoint after the end: %v", err)
		}
	})
}

// TestTaskInfo: operators are built with their task: job id, subtask,
// parallelism and the key groups a keyed shuffle routes to them.
func TestTaskInfo(t *testing.T) {
	var id int64
	rnd := newRand(t)
	rows := randRows(rnd, 3000, &id)
	src := &testSource{batches: [][]*coldata.Batch{splitBatches(rnd, rows, 200)}}
	ps := newProbes()
	b := newBuilder(t)
	// A key-group count other than the default: the task's range comes
	// from the program's count, the one routing uses.
	const groups = 20
	b.p.MaxKeyGroups = groups
	s := b.source("source 'in'", 1, src)
	p := b.probe("probe 'p'", 3)
	b.shuffle(s, p, colK)
	j, err := dataflow.StartWith(context.Background(), &b.p, dataflow.Options{JobID: "job-7"}, ps.newOp)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, j); err != nil {
		t.Fatal(err)
	}
	byV := map[string]row{}
	for _, r := range rows {
		byV[fmt.Sprint(r.V)] = r
	}
	next := 0
	for i := range 3 {
		task := ps.get("probe 'p'", i).task
		if task.JobID != "job-7" || task.Subtask != i || task.Parallelism != 3 || task.Node != p || task.KeyGroups[0] != next {
			t.Errorf("subtask %d: task %+v", i, task)
		}
		next = task.KeyGroups[1]
		for _, l := range ps.get("probe 'p'", i).lines() {
			vs, ok := strings.CutPrefix(l, "data 0 ")
			if !ok {
				continue
			}
			for _, v := range strings.Fields(vs) {
				r := byV[v]
				if g := keyGroup(r, []int{colK}, groups); g < task.KeyGroups[0] || g >= task.KeyGroups[1] {
					t.Fatalf("row %v (key group %d) on subtask %d, which owns %v", r, g, i, task.KeyGroups)
				}
			}
		}
	}
	if next != groups {
		t.Errorf("key group ranges end at %d, want %d", next, groups)
	}
}
