package dataflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
	"github.com/arroyogo/arroyo/engine/types"
)

// Test fixtures: one fake source connector and one fake sink connector are
// registered once; each test describes what a table does with a *testSource
// or *testSink, registered under a unique table name (see builder), which
// the connector constructors look up.

const (
	srcConnector  = "test_runtime_source"
	sinkConnector = "test_runtime_sink"
)

var fixtures sync.Map // connector.Table.Name -> *testSource | *testSink

func init() {
	connector.Register(&connector.Connector{
		Name: srcConnector,
		NewSource: func(t *connector.Table, task connector.SourceTask, _ []connector.SplitState) (connector.Source, error) {
			f, ok := fixtures.Load(t.Name)
			if !ok {
				return nil, fmt.Errorf("no test source %q", t.Name)
			}
			return f.(*testSource).build(task.Subtask)
		},
	})
	connector.Register(&connector.Connector{
		Name: sinkConnector,
		NewSink: func(t *connector.Table, _ connector.SinkTask) (connector.Sink, error) {
			f, ok := fixtures.Load(t.Name)
			if !ok {
				return nil, fmt.Errorf("no test sink %q", t.Name)
			}
			return f.(*testSink).build()
		},
	})
}

// schema is the schema of every stream in these tests.
var schema = types.NewSchema(
	types.Field{Name: "k", Type: types.Int64T},
	types.Field{Name: "v", Type: types.Int64T},
	types.Field{Name: "s", Type: types.StringT, Nullable: true},
	types.Field{Name: types.TimestampField, Type: types.TimestampT},
)

const (
	colK = iota
	colV
	colS
	colTS
)

// row is one logical row of schema; SNull marks a NULL s.
type row struct {
	K, V  int64
	S     string
	SNull bool
	TS    int64
}

func (r row) String() string {
	s := fmt.Sprintf("%q", r.S)
	if r.SNull {
		s = "NULL"
	}
	return fmt.Sprintf("(%d,%d,%s,%d)", r.K, r.V, s, r.TS)
}

func compareRows(a, b row) int {
	switch {
	case a.K != b.K:
		return cmpInt(a.K, b.K)
	case a.V != b.V:
		return cmpInt(a.V, b.V)
	case a.SNull != b.SNull:
		if a.SNull {
			return -1
		}
		return 1
	case a.S != b.S:
		return strings.Compare(a.S, b.S)
	}
	return cmpInt(a.TS, b.TS)
}

func cmpInt(a, b int64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// randRows returns n rows with few distinct keys (so shuffles group them)
// and occasional NULL strings; id makes rows distinguishable.
func randRows(rnd *rand.Rand, n int, id *int64) []row {
	out := make([]row, n)
	for i := range out {
		*id++
		out[i] = row{
			K:  rnd.Int64N(50),
			V:  *id,
			S:  fmt.Sprintf("s%d", rnd.IntN(20)),
			TS: *id * 1000,
		}
		if rnd.IntN(10) == 0 {
			out[i].S, out[i].SNull = "", true
		}
	}
	return out
}

// makeBatch builds a batch holding rows. With withSel, the rows are spread
// among garbage rows that a selection vector hides (garbage has v = 0, which
// a division would reject, and s = "garbage").
func makeBatch(rnd *rand.Rand, rows []row, withSel bool) *coldata.Batch {
	k := coldata.New(types.Int64T, len(rows)).(*coldata.Vec[int64])
	v := coldata.New(types.Int64T, len(rows)).(*coldata.Vec[int64])
	s := coldata.New(types.StringT, len(rows)).(*coldata.Bytes)
	ts := coldata.New(types.TimestampT, len(rows)).(*coldata.Vec[int64])
	var sel []int32
	if withSel {
		sel = make([]int32, 0, len(rows))
	}
	garbage := func() {
		k.Append(-1)
		v.Append(0)
		s.AppendString("garbage")
		ts.Append(-1)
	}
	for _, r := range rows {
		if withSel {
			for rnd.IntN(3) == 0 {
				garbage()
			}
			sel = append(sel, int32(len(k.Vals)))
		}
		k.Append(r.K)
		v.Append(r.V)
		if r.SNull {
			s.AppendNull()
		} else {
			s.AppendString(r.S)
		}
		ts.Append(r.TS)
	}
	if withSel && rnd.IntN(2) == 0 {
		garbage()
	}
	return &coldata.Batch{Cols: []coldata.Vector{k, v, s, ts}, Len: len(k.Vals), Sel: sel}
}

// readBatch returns the logical rows of b.
func readBatch(b *coldata.Batch) []row {
	k := b.Cols[colK].(*coldata.Vec[int64])
	v := b.Cols[colV].(*coldata.Vec[int64])
	s := b.Cols[colS].(*coldata.Bytes)
	ts := b.Cols[colTS].(*coldata.Vec[int64])
	var out []row
	b.ForEach(func(i int) {
		r := row{K: k.Vals[i], V: v.Vals[i], TS: ts.Vals[i]}
		if s.IsNull(i) {
			r.SNull = true
		} else {
			r.S = s.GetString(i)
		}
		out = append(out, r)
	})
	return out
}

// splitBatches cuts rows into batches of random sizes in [1, maxSize].
func splitBatches(rnd *rand.Rand, rows []row, maxSize int) []*coldata.Batch {
	var out []*coldata.Batch
	for len(rows) > 0 {
		n := min(1+rnd.IntN(maxSize), len(rows))
		out = append(out, makeBatch(rnd, rows[:n], rnd.IntN(3) == 0))
		rows = rows[n:]
	}
	return out
}

// testSource describes a source table. Bounded sources emit batches[subtask]
// and return; unbounded ones (next != nil) emit next(subtask, seq) until
// their context is cancelled.
type testSource struct {
	batches [][]*coldata.Batch
	next    func(subtask, seq int) *coldata.Batch

	gate chan struct{} // if set, Run waits for it (or cancellation) first
	// waits[k], if set, is waited for before batch k of every subtask;
	// waits[len(batches)] before Run returns.
	waits []chan struct{}
	// interval, if set, is waited between the batches of an unbounded
	// source (so that time moves under synctest).
	interval  time.Duration
	failAfter int // if failErr is set: fail after this many emits
	failErr   error
	closeErr  error
	newErr    error
	mayNotRun bool   // another part of the job fails: not every subtask polls
	counter   string // if set, Counter(counter, rows) after each emit
	discard   bool   // if set, rows sent are not recorded (benchmarks)

	built    atomic.Int32
	closed   atomic.Int32
	attempts atomic.Int64 // Emit calls started
	emitted  atomic.Int64 // Emit calls that returned nil
	pollers  atomic.Int32 // subtasks that have been polled at least once

	mu       sync.Mutex
	sent     []row   // rows of successful emits, all subtasks
	runErrs  []error // what Run returned, per call
	runCalls int
}

// sourceInstance is one subtask's source. Poll emits at most one batch per
// call; what it waits for (the gate, waits[k], the interval) it waits for
// until the deadline.
type sourceInstance struct {
	f       *testSource
	sub     int
	gated   bool // the gate was passed
	k       int  // next batch (bounded)
	emitted int
	nextAt  time.Time // unbounded: when the next batch may go
	polled  bool
	lastErr error
}

func (f *testSource) build(sub int) (connector.Source, error) {
	if f.newErr != nil {
		return nil, f.newErr
	}
	f.built.Add(1)
	return &sourceInstance{f: f, sub: sub}, nil
}

// Close records the end of a polled subtask (runCalls, runErrs).
func (s *sourceInstance) Close() error {
	f := s.f
	if s.polled {
		f.mu.Lock()
		f.runCalls++
		f.runErrs = append(f.runErrs, s.lastErr)
		f.mu.Unlock()
	}
	f.closed.Add(1)
	return f.closeErr
}

func (s *sourceInstance) Snapshot(uint64) ([]connector.SplitState, error) { return nil, nil }

// waitFor waits for c until ctx's deadline; false if it did not come.
func waitFor(ctx context.Context, c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *sourceInstance) Poll(ctx context.Context, out connector.SourceOutput) (err error) {
	f := s.f
	if !s.polled {
		s.polled = true
		f.pollers.Add(1)
	}
	defer func() {
		if errors.Is(err, io.EOF) {
			s.lastErr = nil
		} else {
			s.lastErr = err
		}
	}()
	if f.gate != nil && !s.gated {
		if !waitFor(ctx, f.gate) {
			return nil
		}
		s.gated = true
	}
	emit := func(b *coldata.Batch) error {
		if f.failErr != nil && s.emitted == f.failAfter {
			return f.failErr
		}
		var rows []row
		if !f.discard {
			rows = readBatch(b) // before Emit: b is immutable but read it while ours
		}
		f.attempts.Add(1)
		if err := out.Emit(b); err != nil {
			return err
		}
		s.emitted++
		f.emitted.Add(1)
		f.mu.Lock()
		f.sent = append(f.sent, rows...)
		f.mu.Unlock()
		if f.counter != "" {
			out.Counter(f.counter, int64(b.Rows()))
		}
		return nil
	}
	pause := func(k int) bool {
		return k >= len(f.waits) || f.waits[k] == nil || waitFor(ctx, f.waits[k])
	}
	if f.next == nil {
		var batches []*coldata.Batch
		if s.sub < len(f.batches) {
			batches = f.batches[s.sub]
		}
		if s.k < len(batches) {
			if !pause(s.k) {
				return nil
			}
			if err := emit(batches[s.k]); err != nil {
				return err
			}
			s.k++
			return nil
		}
		if s.sub < len(f.batches) && !pause(len(batches)) {
			return nil
		}
		if f.failErr != nil && s.emitted == f.failAfter {
			return f.failErr
		}
		return io.EOF
	}
	if f.interval > 0 && !s.nextAt.IsZero() {
		if d := time.Until(s.nextAt); d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return nil
			}
		}
	}
	if err := emit(f.next(s.sub, s.k)); err != nil {
		return err
	}
	s.k++
	s.nextAt = time.Now().Add(f.interval)
	return nil
}

func (f *testSource) sentRows() []row {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

// unboundedRows returns a generator of single-digit-sized batches whose rows
// are unique per (subtask, seq).
func unboundedRows(n int) func(subtask, seq int) *coldata.Batch {
	return func(subtask, seq int) *coldata.Batch {
		rows := make([]row, n)
		for i := range rows {
			id := int64(subtask)<<40 | int64(seq)<<8 | int64(i)
			rows[i] = row{K: int64(seq*n + i), V: id, S: "u", TS: int64(seq)}
		}
		return makeBatch(nil, rows, false)
	}
}

// testSink describes a sink table. Subtask i is the i-th sink built: Start
// builds the subtasks of a node in order, which is how the test knows which
// subtask received a row.
type testSink struct {
	gate       chan struct{} // if set, every Write waits for it
	panicWrite bool          // if set, Write panics
	ignoreCtx  bool          // Write waits for gate only, not for cancellation
	entered    chan struct{} // if set, receives (non-blocking) when a Write starts
	failWrite  int           // the failWrite-th Write (1-based, any subtask) fails with err
	writeErr   error
	finishErr  error
	flushErr   error
	closeErr   error
	newErr     error
	discard    bool // if set, Write counts rows instead of keeping them (benchmarks)

	mu   sync.Mutex
	subs []*sinkSubtask
	kept atomic.Int64 // rows written, if discard
	nw   int
}

type sinkSubtask struct {
	f                *testSink
	idx              int
	rows             []row
	physical         int // sum of the written batches' physical lengths
	writes           int
	finishes         int
	closes           int
	flushes          int
	writeAfterFinish bool
	writeAfterClose  bool
}

func (f *testSink) build() (connector.Sink, error) {
	if f.newErr != nil {
		return nil, f.newErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &sinkSubtask{f: f, idx: len(f.subs)}
	f.subs = append(f.subs, s)
	return s, nil
}

func (s *sinkSubtask) Write(ctx context.Context, b *coldata.Batch) error {
	f := s.f
	if f.panicWrite {
		panic("sink bug")
	}
	if f.entered != nil {
		select {
		case f.entered <- struct{}{}:
		default:
		}
	}
	if f.gate != nil {
		if f.ignoreCtx {
			<-f.gate
		} else {
			select {
			case <-f.gate:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if f.discard {
		f.kept.Add(int64(b.Rows()))
		return nil
	}
	rows := readBatch(b)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nw++
	if f.failWrite > 0 && f.nw == f.failWrite {
		return f.writeErr
	}
	s.writes++
	s.physical += b.Len
	s.writeAfterFinish = s.writeAfterFinish || s.finishes > 0
	s.writeAfterClose = s.writeAfterClose || s.closes > 0
	s.rows = append(s.rows, rows...)
	return nil
}

func (s *sinkSubtask) Finish(context.Context) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.finishes++
	return s.f.finishErr
}

func (s *sinkSubtask) Flush(context.Context) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.flushes++
	return s.f.flushErr
}

func (s *sinkSubtask) Close() error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.closes++
	return s.f.closeErr
}

// snapshot returns a copy of the per-subtask state.
func (f *testSink) snapshot() []sinkSubtask {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]sinkSubtask, len(f.subs))
	for i, s := range f.subs {
		out[i] = *s
		out[i].rows = slices.Clone(s.rows)
	}
	return out
}

func (f *testSink) allRows() []row {
	var out []row
	for _, s := range f.snapshot() {
		out = append(out, s.rows...)
	}
	return out
}

func (f *testSink) finishes() int {
	n := 0
	for _, s := range f.snapshot() {
		n += s.finishes
	}
	return n
}

// checkLifecycle checks that each of the par subtasks of a sink was closed
// exactly once, never written after Finish or Close, and finished once
// (finished) or never.
func (f *testSink) checkLifecycle(t *testing.T, name string, par int, finished bool) {
	t.Helper()
	subs := f.snapshot()
	if len(subs) != par {
		t.Errorf("sink %s: %d subtasks built, want %d", name, len(subs), par)
	}
	for _, s := range subs {
		want := 0
		if finished {
			want = 1
		}
		if s.finishes != want {
			t.Errorf("sink %s[%d]: Finish called %d times, want %d", name, s.idx, s.finishes, want)
		}
		if s.closes != 1 {
			t.Errorf("sink %s[%d]: Close called %d times, want 1", name, s.idx, s.closes)
		}
		if s.writeAfterFinish || s.writeAfterClose {
			t.Errorf("sink %s[%d]: Write after Finish or Close", name, s.idx)
		}
	}
}

// checkClosed checks the source was built once per subtask and each was
// closed once.
func (f *testSource) checkClosed(t *testing.T, name string, par int) {
	t.Helper()
	if b, c := f.built.Load(), f.closed.Load(); b != int32(par) || c != int32(par) {
		t.Errorf("source %s: built %d, closed %d times, want %d and %d", name, b, c, par, par)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// A failing job may cancel a subtask before its first Poll.
	if f.runCalls > par || (f.runCalls < par && f.newErr == nil && f.failErr == nil && !f.mayNotRun) {
		t.Errorf("source %s: polled by %d subtasks, want every subtask (%d)", name, f.runCalls, par)
	}
}

// builder assembles a program whose tables are registered test fixtures.
type builder struct {
	t testing.TB
	p program.Program
}

func newBuilder(t testing.TB) *builder {
	return &builder{t: t, p: program.Program{Version: program.Version, Name: t.Name()}}
}

func (b *builder) add(n *program.Node) int {
	n.ID = len(b.p.Nodes)
	if n.OperatorID == "" {
		n.OperatorID = fmt.Sprintf("op-%d", n.ID)
	}
	if n.Schema == nil {
		n.Schema = schema
	}
	b.p.Nodes = append(b.p.Nodes, n)
	return n.ID
}

// tableSeq makes table names unique across the programs of one test.
var tableSeq atomic.Int64

func (b *builder) table(conn string, fixture any) *connector.Table {
	name := fmt.Sprintf("%s/%d", b.t.Name(), tableSeq.Add(1))
	fixtures.Store(name, fixture)
	b.t.Cleanup(func() { fixtures.Delete(name) })
	return &connector.Table{Name: name, Connector: conn, Schema: types.NewSchema(schema.Fields[:colTS]...)}
}

func (b *builder) source(desc string, par int, f *testSource) int {
	return b.add(&program.Node{Op: program.OpSource, Description: desc, Parallelism: par, Source: b.table(srcConnector, f)})
}

func (b *builder) sink(desc string, par int, f *testSink) int {
	return b.add(&program.Node{Op: program.OpSink, Description: desc, Parallelism: par, Sink: b.table(sinkConnector, f)})
}

func (b *builder) calc(desc string, par int, c *program.Calc) int {
	return b.add(&program.Node{Op: program.OpCalc, Description: desc, Parallelism: par, Calc: c})
}

func (b *builder) forward(from, to int) {
	b.p.Connect(from, to, program.Forward)
}

func (b *builder) shuffle(from, to int, keys ...int) {
	b.p.Connect(from, to, program.Shuffle, keys...)
}

// Expressions over schema.

func col(i int) *program.Expr {
	return &program.Expr{Op: program.ExprCol, Col: i, Type: schema.Fields[i].Type, Nullable: schema.Fields[i].Nullable}
}

func lit(t types.Type, v string) *program.Expr {
	return &program.Expr{Op: program.ExprLit, Type: t, Value: json.RawMessage(v)}
}

func call(fn string, t types.Type, args ...*program.Expr) *program.Expr {
	return &program.Expr{Op: program.ExprCall, Func: fn, Type: t, Args: args}
}

func int64Lit(v int64) *program.Expr { return lit(types.Int64T, fmt.Sprint(v)) }

// identity projects every column unchanged.
func identity() []*program.Expr { return []*program.Expr{col(colK), col(colV), col(colS), col(colTS)} }

// start starts p and fails the test on error.
func start(t *testing.T, p *program.Program, opts dataflow.Options) *dataflow.Job {
	t.Helper()
	j, err := dataflow.Start(context.Background(), p, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return j
}

// wait returns j.Wait(), failing the test (with all goroutine stacks) if the
// job has not ended within a generous deadline: a hang is a runtime bug.
func wait(t *testing.T, j *dataflow.Job) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- j.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("job did not end; goroutines:\n%s", buf[:goruntime.Stack(buf, true)])
		return nil
	}
}

// eventually polls cond until it holds, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// checkNoLeaks records the number of goroutines and, when the test ends,
// checks that it went back to it: every subtask goroutine has exited.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	base := goruntime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for goruntime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("%d goroutines left, had %d before; goroutines:\n%s",
					goruntime.NumGoroutine(), base, buf[:goruntime.Stack(buf, true)])
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
}

// sameRows reports, as an error message, how two row multisets differ.
func sameRows(got, want []row) string {
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortFunc(got, compareRows)
	slices.SortFunc(want, compareRows)
	if slices.Equal(got, want) {
		return ""
	}
	var missing, extra []row
	i, k := 0, 0
	for i < len(got) || k < len(want) {
		switch {
		case k == len(want) || (i < len(got) && compareRows(got[i], want[k]) < 0):
			extra = append(extra, got[i])
			i++
		case i == len(got) || compareRows(got[i], want[k]) > 0:
			missing = append(missing, want[k])
			k++
		default:
			i++
			k++
		}
	}
	return fmt.Sprintf("got %d rows, want %d; missing %d (e.g. %v), extra %d (e.g. %v)",
		len(got), len(want), len(missing), first(missing), len(extra), first(extra))
}

func first(rs []row) []row { return rs[:min(len(rs), 3)] }

// keySubtask is where the runtime must send a row keyed on keys among par
// subtasks with groups key groups (0: the default): the subtask whose
// state.KeyGroupRange holds the row's key group, where its keyed state is.
// It deliberately does not use state.SubtaskOf, which the runtime routes
// with: the point is to check routing against ownership.
func keySubtask(r row, keys []int, par, groups int) int {
	if groups == 0 {
		groups = state.MaxKeyGroups
	}
	g := keyGroup(r, keys, groups)
	for s := range par {
		if lo, hi := state.KeyGroupRange(s, par, groups); lo <= g && g < hi {
			return s
		}
	}
	panic(fmt.Sprintf("key group %d owned by no subtask of %d", g, par))
}

// keyGroup is the key group of a row keyed on keys, among groups.
func keyGroup(r row, keys []int, groups int) int {
	b := makeBatch(nil, []row{r}, false)
	h := []uint64{0}
	for _, k := range keys {
		coldata.HashInto(b.Cols[k], []int32{0}, h)
	}
	return state.KeyGroupOf(h[0], groups)
}

var seedFlag = flag.Uint64("seed", 0, "seed for the randomized tests (0: time-based)")

// newRand returns a random source, logging its seed so a failure can be
// replayed with -seed.
func newRand(t *testing.T) *rand.Rand {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, 0x5eed))
}
