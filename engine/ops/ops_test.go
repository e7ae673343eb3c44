package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// Batches here have columns (a BIGINT, b BIGINT, _timestamp TIMESTAMP).

type row struct{ A, B, TS int64 }

// batch builds a batch of rows; with garbage, hidden rows (b = 0, which a
// division rejects) are interleaved and a selection vector lists the real
// ones.
func batch(rnd *rand.Rand, rows []row, garbage bool) *coldata.Batch {
	cols := []*coldata.Vec[int64]{
		coldata.New(types.Int64T, len(rows)).(*coldata.Vec[int64]),
		coldata.New(types.Int64T, len(rows)).(*coldata.Vec[int64]),
		coldata.New(types.TimestampT, len(rows)).(*coldata.Vec[int64]),
	}
	appendRow := func(r row) {
		cols[0].Append(r.A)
		cols[1].Append(r.B)
		cols[2].Append(r.TS)
	}
	var sel []int32
	if garbage {
		sel = []int32{}
	}
	for _, r := range rows {
		if garbage {
			for rnd.IntN(2) == 0 {
				appendRow(row{A: -1, B: 0, TS: -1})
			}
			sel = append(sel, int32(len(cols[0].Vals)))
		}
		appendRow(r)
	}
	if garbage {
		appendRow(row{A: -1, B: 0, TS: -1})
	}
	return &coldata.Batch{Cols: []coldata.Vector{cols[0], cols[1], cols[2]}, Len: len(cols[0].Vals), Sel: sel}
}

func read(b *coldata.Batch) []row {
	a, bb, ts := b.Cols[0].(*coldata.Vec[int64]), b.Cols[1].(*coldata.Vec[int64]), b.Cols[2].(*coldata.Vec[int64])
	var out []row
	b.ForEach(func(i int) { out = append(out, row{a.Vals[i], bb.Vals[i], ts.Vals[i]}) })
	return out
}

var colTypes = []types.Type{types.Int64T, types.Int64T, types.TimestampT}

func col(i int) *program.Expr {
	return &program.Expr{Op: program.ExprCol, Col: i, Type: colTypes[i]}
}

func lit(v int64) *program.Expr {
	return &program.Expr{Op: program.ExprLit, Type: types.Int64T, Value: json.RawMessage(fmt.Sprint(v))}
}

func call(fn string, t types.Type, args ...*program.Expr) *program.Expr {
	return &program.Expr{Op: program.ExprCall, Func: fn, Type: t, Args: args}
}

// collector records what an operator emits.
type collector struct {
	batches []*coldata.Batch
	err     error
}

func (c *collector) Collect(b *coldata.Batch) error {
	c.batches = append(c.batches, b)
	return c.err
}

func (c *collector) rows() []row {
	var out []row
	for _, b := range c.batches {
		out = append(out, read(b)...)
	}
	return out
}

func newCalc(t *testing.T, c *program.Calc) *ops.Calc {
	t.Helper()
	op, err := ops.NewCalc(context.Background(), c, ops.TaskInfo{})
	if err != nil {
		t.Fatalf("NewCalc: %v", err)
	}
	return op
}

var (
	// bNonZero is b <> 0.
	bNonZero = call("<>", types.BoolT, col(1), lit(0))
	// quotientBig is 100 / b > 10: a division by zero where b = 0.
	quotientBig = call(">", types.BoolT, call("/", types.Int64T, lit(100), col(1)), lit(10))
	// projection is (a + b, 1000 / b, _timestamp): another division.
	projection = []*program.Expr{call("+", types.Int64T, col(0), col(1)), call("/", types.Int64T, lit(1000), col(1)), col(2)}
)

func applyProjection(rows []row) []row {
	var out []row
	for _, r := range rows {
		out = append(out, row{r.A + r.B, 1000 / r.B, r.TS})
	}
	return out
}

func newRand(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, 1))
}

// TestCalcFiltersInSequence checks that each filter sees only the rows the
// previous ones kept: 100 / b > 10 would fail on the rows b <> 0 removes.
func TestCalcFiltersInSequence(t *testing.T) {
	rnd := newRand(t)
	rows := []row{{1, 0, 1}, {2, 5, 2}, {3, 0, 3}, {4, 20, 4}, {5, -3, 5}, {6, 9, 6}, {7, 0, 7}}
	// 100 / b > 10 keeps b in 1..9.
	want := []row{{2 + 5, 1000 / 5, 2}, {6 + 9, 1000 / 9, 6}}

	op := newCalc(t, &program.Calc{Filters: []*program.Expr{bNonZero, quotientBig}, Project: projection})
	for _, garbage := range []bool{false, true} {
		var out collector
		if err := op.Process(context.Background(), 0, batch(rnd, rows, garbage), &out); err != nil {
			t.Fatalf("garbage=%v: Process: %v", garbage, err)
		}
		if got := out.rows(); !slices.Equal(got, want) {
			t.Errorf("garbage=%v: got %v, want %v", garbage, got, want)
		}
	}

	// The premise: in the other order, the division meets b = 0.
	op = newCalc(t, &program.Calc{Filters: []*program.Expr{quotientBig, bNonZero}, Project: projection})
	var out collector
	err := op.Process(context.Background(), 0, batch(rnd, rows, false), &out)
	if !errors.Is(err, expr.ErrDivisionByZero) {
		t.Fatalf("filters in the other order: err %v, want division by zero", err)
	}
	if len(out.batches) != 0 {
		t.Errorf("emitted %d batches despite the error", len(out.batches))
	}
}

// TestCalcSelection checks that a calc computes over the selected rows of
// its input only and passes the selection through: garbage rows hidden by
// the input's selection have b = 0 and must not make the projection fail.
func TestCalcSelection(t *testing.T) {
	rnd := newRand(t)
	rows := []row{{1, 2, 10}, {3, 4, 20}, {5, 6, 30}}
	in := batch(rnd, rows, true)
	inSel := slices.Clone(in.Sel)

	op := newCalc(t, &program.Calc{Project: projection})
	var out collector
	if err := op.Process(context.Background(), 0, in, &out); err != nil {
		t.Fatalf("Process: %v", err)
	}
	if len(out.batches) != 1 {
		t.Fatalf("%d batches emitted, want 1", len(out.batches))
	}
	got := out.batches[0]
	if got.Len != in.Len || !slices.Equal(got.Sel, in.Sel) {
		t.Errorf("output Len %d Sel %v, want the input's %d %v (no compaction without a filter)", got.Len, got.Sel, in.Len, in.Sel)
	}
	if r := out.rows(); !slices.Equal(r, applyProjection(rows)) {
		t.Errorf("got %v, want %v", r, applyProjection(rows))
	}
	if !slices.Equal(in.Sel, inSel) {
		t.Errorf("input selection modified")
	}

	// A filter over a selected batch narrows the input's selection.
	op = newCalc(t, &program.Calc{Filters: []*program.Expr{call(">", types.BoolT, col(0), lit(2))}, Project: projection})
	out = collector{}
	if err := op.Process(context.Background(), 0, in, &out); err != nil {
		t.Fatalf("Process with a filter: %v", err)
	}
	if r, w := out.rows(), applyProjection(rows[1:]); !slices.Equal(r, w) {
		t.Errorf("with a filter: got %v, want %v", r, w)
	}
	if !slices.Equal(in.Sel, inSel) {
		t.Errorf("input selection modified by the filter")
	}
}

// TestCalcEmpty checks that a calc emits nothing when no row is left, nor
// for an empty input.
func TestCalcEmpty(t *testing.T) {
	rnd := newRand(t)
	none := call("<", types.BoolT, col(0), lit(0)) // a < 0: no real row
	cases := []struct {
		name string
		calc *program.Calc
		in   *coldata.Batch
	}{
		{"filtered out", &program.Calc{Filters: []*program.Expr{none}, Project: projection}, batch(rnd, []row{{1, 1, 1}, {2, 2, 2}}, false)},
		{"filtered out with garbage", &program.Calc{Filters: []*program.Expr{none}, Project: projection}, batch(rnd, []row{{1, 1, 1}, {2, 2, 2}}, true)},
		{"second filter empties", &program.Calc{Filters: []*program.Expr{bNonZero, none}, Project: projection}, batch(rnd, []row{{1, 1, 1}}, true)},
		{"empty selection, no filter", &program.Calc{Project: projection}, batch(rnd, nil, true)},
		{"no rows, no filter", &program.Calc{Project: projection}, batch(rnd, nil, false)},
		{"no rows, filter", &program.Calc{Filters: []*program.Expr{bNonZero}, Project: projection}, batch(rnd, nil, false)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out collector
			if err := newCalc(t, tc.calc).Process(context.Background(), 0, tc.in, &out); err != nil {
				t.Fatalf("Process: %v", err)
			}
			if len(out.batches) != 0 {
				t.Errorf("emitted %d batches (%d rows)", len(out.batches), len(out.rows()))
			}
		})
	}
}

// TestCalcRandomBatches compares a calc with the same computation in Go
// over random batch sizes, with and without selections.
func TestCalcRandomBatches(t *testing.T) {
	rnd := newRand(t)
	op := newCalc(t, &program.Calc{
		Filters: []*program.Expr{bNonZero, call("<>", types.BoolT, call("%", types.Int64T, col(0), lit(3)), lit(0))},
		Project: projection,
	})
	for range 200 {
		rows := make([]row, rnd.IntN(3000))
		for i := range rows {
			rows[i] = row{A: rnd.Int64N(1000) - 500, B: rnd.Int64N(11) - 5, TS: int64(i)}
		}
		var want []row
		for _, r := range rows {
			if r.B != 0 && r.A%3 != 0 {
				want = append(want, row{r.A + r.B, 1000 / r.B, r.TS})
			}
		}
		var out collector
		if err := op.Process(context.Background(), 0, batch(rnd, rows, rnd.IntN(2) == 0), &out); err != nil {
			t.Fatalf("Process: %v", err)
		}
		if got := out.rows(); !slices.Equal(got, want) {
			t.Fatalf("%d rows: got %d rows, want %d", len(rows), len(got), len(want))
		}
		if len(want) == 0 && len(out.batches) != 0 {
			t.Fatalf("empty result emitted")
		}
	}
}

// TestCalcErrors checks that evaluation and collection errors are returned.
func TestCalcErrors(t *testing.T) {
	rnd := newRand(t)
	op := newCalc(t, &program.Calc{Project: projection})
	var out collector
	err := op.Process(context.Background(), 0, batch(rnd, []row{{1, 1, 1}, {2, 0, 2}}, false), &out)
	if !errors.Is(err, expr.ErrDivisionByZero) {
		t.Errorf("division by zero: err %v", err)
	}
	out = collector{err: errors.New("shutting down")}
	if err := op.Process(context.Background(), 0, batch(rnd, []row{{1, 1, 1}}, false), &out); err == nil || err.Error() != "shutting down" {
		t.Errorf("collector error: got %v", err)
	}
	if _, err := ops.NewCalc(context.Background(), &program.Calc{Filters: []*program.Expr{col(0)}, Project: projection}, ops.TaskInfo{}); err == nil {
		t.Errorf("NewCalc accepted a BIGINT filter")
	}
	if _, err := ops.NewCalc(context.Background(), &program.Calc{Project: []*program.Expr{call("no_such_function", types.Int64T)}}, ops.TaskInfo{}); err == nil ||
		!strings.Contains(err.Error(), "no_such_function") {
		t.Errorf("NewCalc with an unknown function: %v", err)
	}
}

// fakeSink records the calls of the sink adapter.
type fakeSink struct {
	writes   [][]row
	finishes int
	closes   int
	err      error
}

func (s *fakeSink) Write(_ context.Context, b *coldata.Batch) error {
	s.writes = append(s.writes, read(b))
	return s.err
}

func (s *fakeSink) Finish(context.Context) error { s.finishes++; return s.err }

type closingSink struct{ fakeSink }

type flushSink struct {
	fakeSink
	flushes int
}

func (s *flushSink) Flush(context.Context) error { s.flushes++; return s.err }

func (s *closingSink) Close() error { s.closes++; return s.err }

const sinkConnector = "test_ops_sink"

func init() {
	connector.Register(&connector.Connector{
		Name: sinkConnector,
		NewSink: func(t *connector.Table, _ connector.SinkTask) (connector.Sink, error) {
			if t.Name == "fail" {
				return nil, errors.New("cannot open")
			}
			return &closingSink{}, nil
		},
	})
}

func TestSink(t *testing.T) {
	rnd := newRand(t)
	fs := &closingSink{}
	s := &ops.Sink{Sink: fs}
	ctx := context.Background()
	if err := s.Process(ctx, 0, batch(rnd, nil, true), nil); err != nil || len(fs.writes) != 0 {
		t.Errorf("empty batch: err %v, %d writes; want no write", err, len(fs.writes))
	}
	rows := []row{{1, 2, 3}, {4, 5, 6}}
	if err := s.Process(ctx, 0, batch(rnd, rows, true), nil); err != nil || len(fs.writes) != 1 || !slices.Equal(fs.writes[0], rows) {
		t.Errorf("Process: err %v, writes %v", err, fs.writes)
	}
	if err := s.Finish(ctx, nil); err != nil || fs.finishes != 1 {
		t.Errorf("Finish: err %v, %d finishes", err, fs.finishes)
	}
	if err := s.Close(); err != nil || fs.closes != 1 {
		t.Errorf("Close: err %v, %d closes", err, fs.closes)
	}
	fs.err = errors.New("disk full")
	if err := s.Process(ctx, 0, batch(rnd, rows, false), nil); err != fs.err {
		t.Errorf("Write error: got %v", err)
	}
	if err := s.Close(); err != fs.err {
		t.Errorf("Close error: got %v", err)
	}
	// A sink without Flush: a checkpoint is a no-op.
	if snap, err := s.Checkpoint(ctx, ops.Barrier{Epoch: 1}, nil); snap != nil || err != nil {
		t.Errorf("Checkpoint of a sink without Flusher: %v, %v", snap, err)
	}
	// A sink with Flush is flushed at every checkpoint, and its error fails
	// the checkpoint.
	flushing := &flushSink{}
	fsink := &ops.Sink{Sink: flushing}
	if _, err := fsink.Checkpoint(ctx, ops.Barrier{Epoch: 1}, nil); err != nil || flushing.flushes != 1 {
		t.Errorf("Checkpoint: err %v, %d flushes; want 1", err, flushing.flushes)
	}
	flushing.err = errors.New("disk full")
	if _, err := fsink.Checkpoint(ctx, ops.Barrier{Epoch: 2}, nil); err != flushing.err {
		t.Errorf("Checkpoint with a failing Flush: %v", err)
	}
	// Stop: the sink commits (Finish) once the stop checkpoint is complete,
	// not at the barrier and not for an earlier epoch, and only once.
	stopping := &fakeSink{}
	ssink := &ops.Sink{Sink: stopping}
	if _, err := ssink.Checkpoint(ctx, ops.Barrier{Epoch: 3}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ssink.Checkpoint(ctx, ops.Barrier{Epoch: 4, Stop: true}, nil); err != nil || stopping.finishes != 0 {
		t.Fatalf("stop barrier: err %v, %d finishes before the checkpoint is complete", err, stopping.finishes)
	}
	if err := ssink.CheckpointDone(ctx, 3); err != nil || stopping.finishes != 0 {
		t.Fatalf("done 3: err %v, %d finishes", err, stopping.finishes)
	}
	for range 2 {
		if err := ssink.CheckpointDone(ctx, 4); err != nil || stopping.finishes != 1 {
			t.Fatalf("done 4: err %v, %d finishes, want 1", err, stopping.finishes)
		}
	}
	// A sink without Close.
	if err := (&ops.Sink{Sink: &fakeSink{}}).Close(); err != nil {
		t.Errorf("Close of a sink without Closer: %v", err)
	}
}

func TestNew(t *testing.T) {
	task := ops.TaskInfo{JobID: "j", OperatorID: "n0", Subtask: 1, Parallelism: 2, KeyGroups: [2]int{64, 128}}
	schema := types.NewSchema(types.Field{Name: types.TimestampField, Type: types.TimestampT})
	op, err := ops.New(context.Background(), &program.Node{Op: program.OpSink, Schema: schema, Sink: &connector.Table{Name: "ok", Connector: sinkConnector}}, task)
	if err != nil {
		t.Fatalf("New sink: %v", err)
	}
	if _, ok := op.(ops.Finisher); !ok {
		t.Errorf("a sink operator is not a Finisher")
	}
	if _, ok := op.(ops.Closer); !ok {
		t.Errorf("a sink operator is not a Closer")
	}
	if s, ok := op.(*ops.Sink); !ok || s.Task.JobID != task.JobID || s.Task.OperatorID != task.OperatorID || s.Task.Subtask != task.Subtask || s.Task.Parallelism != task.Parallelism || s.Task.KeyGroups != task.KeyGroups {
		t.Errorf("sink operator %T does not carry its task %+v", op, task)
	}
	if _, err := ops.New(context.Background(), &program.Node{Op: program.OpSink, Sink: &connector.Table{Name: "fail", Connector: sinkConnector}}, task); err == nil || err.Error() != "cannot open" {
		t.Errorf("failing constructor: %v", err)
	}
	if _, err := ops.New(context.Background(), &program.Node{Op: program.OpSink, Sink: &connector.Table{Connector: "test_ops_no_such_sink"}}, task); err == nil ||
		!strings.Contains(err.Error(), "test_ops_no_such_sink") {
		t.Errorf("unknown connector: %v", err)
	}
	if _, err := ops.New(context.Background(), &program.Node{ID: 3, Op: program.OpSource}, task); err == nil {
		t.Errorf("New built a source operator")
	}
	op, err = ops.New(context.Background(), &program.Node{Op: program.OpCalc, Calc: &program.Calc{Project: projection}}, task)
	if _, ok := op.(*ops.Calc); err != nil || !ok {
		t.Errorf("New calc: %T, %v", op, err)
	}
}

// TestCalcCompactsSparse: a calc whose filter leaves a sparse selection (fewer than 1/coldata.SparseBelow of the physical rows) emits
// the kept rows compacted; a dense selection passes through.
func TestCalcCompactsSparse(t *testing.T) {
	const n = 60
	var rows []row
	for i := range n {
		rows = append(rows, row{int64(i), int64(i%7 + 1), int64(i)})
	}
	for _, tc := range []struct {
		keep    int64 // rows with a < keep pass the filter
		compact bool
	}{
		{keep: n - 1, compact: false},
		{keep: n / 2, compact: false},
		{keep: n/coldata.SparseBelow + 1, compact: false},
		{keep: n/coldata.SparseBelow - 1, compact: true},
		{keep: 1, compact: true},
	} {
		op := newCalc(t, &program.Calc{Filters: []*program.Expr{call("<", types.BoolT, col(0), lit(tc.keep))}, Project: projection})
		var out collector
		if err := op.Process(context.Background(), 0, batch(nil, rows, false), &out); err != nil {
			t.Fatal(err)
		}
		got := out.batches[0]
		if compacted := got.Sel == nil && got.Len == int(tc.keep); compacted != tc.compact {
			t.Errorf("keep %d of %d: output Len %d, %d selected; want compacted %v", tc.keep, n, got.Len, got.Rows(), tc.compact)
		}
		if r, w := out.rows(), applyProjection(rows[:tc.keep]); !slices.Equal(r, w) {
			t.Errorf("keep %d: got %v, want %v", tc.keep, r, w)
		}
	}
}

// tpcSink is a fake two-phase-commit sink: it logs every call.
type tpcSink struct {
	fakeSink
	log     []string
	failPre error
}

var _ connector.TwoPhaseSink = (*tpcSink)(nil)

func (s *tpcSink) Flush(context.Context) error { s.log = append(s.log, "flush"); return nil }
func (s *tpcSink) PreCommit(_ context.Context, epoch uint64) ([]byte, error) {
	if s.failPre != nil {
		return nil, s.failPre
	}
	s.log = append(s.log, fmt.Sprintf("pre %d", epoch))
	return []byte(fmt.Sprintf("tx%d", epoch)), nil
}
func (s *tpcSink) Commit(_ context.Context, epoch uint64, prepared [][]byte) error {
	s.log = append(s.log, fmt.Sprintf("commit %d %s", epoch, bytes.Join(prepared, []byte(","))))
	return nil
}
func (s *tpcSink) Recover(_ context.Context, restored [][]byte) error {
	s.log = append(s.log, fmt.Sprintf("recover %s", bytes.Join(restored, []byte(","))))
	return nil
}
func (s *tpcSink) Finish(ctx context.Context) error {
	s.log = append(s.log, "finish")
	return s.fakeSink.Finish(ctx)
}

// TestTwoPhaseSink: ops.Sink pre-commits at each barrier (never Flush),
// hands every epoch not yet committed to the checkpoint, commits when a
// checkpoint is complete (all epochs up to it, once), recovers on restore
// with what the restored subtasks had pending, and at end of input commits
// what is pending before Finish; a stop commits at the stop checkpoint and
// never calls Finish.
func TestTwoPhaseSink(t *testing.T) {
	ctx := context.Background()
	fs := &tpcSink{}
	s := &ops.Sink{Sink: fs}
	if err := s.Restore(ctx, []any{
		ops.TwoPhaseState{Epochs: []uint64{6}, Prepared: [][]byte{[]byte("old6")}},
		ops.TwoPhaseState{Epochs: []uint64{5, 6}, Prepared: [][]byte{[]byte("b5"), []byte("b6")}},
	}); err != nil {
		t.Fatal(err)
	}
	snap1, err := s.Checkpoint(ctx, ops.Barrier{Epoch: 7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap2, err := s.Checkpoint(ctx, ops.Barrier{Epoch: 8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want1 := ops.TwoPhaseState{Epochs: []uint64{7}, Prepared: [][]byte{[]byte("tx7")}}
	want2 := ops.TwoPhaseState{Epochs: []uint64{7, 8}, Prepared: [][]byte{[]byte("tx7"), []byte("tx8")}}
	if !reflect.DeepEqual(snap1, want1) || !reflect.DeepEqual(snap2, want2) {
		t.Fatalf("snapshots %+v, %+v; want %+v, %+v", snap1, snap2, want1, want2)
	}
	for _, e := range []uint64{8, 8, 7} { // 8 covers 7; again: nothing left
		if err := s.CheckpointDone(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Checkpoint(ctx, ops.Barrier{Epoch: 9}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"recover old6,b5,b6", "pre 7", "pre 8", "commit 8 tx7,tx8", "pre 9", "commit 9 tx9", "finish"}
	if !slices.Equal(fs.log, want) {
		t.Fatalf("calls %q, want %q", fs.log, want)
	}
	// The first snapshot's handle is not changed by later commits.
	if !reflect.DeepEqual(snap1, want1) {
		t.Fatalf("snapshot changed to %+v", snap1)
	}

	stop := &tpcSink{}
	ss := &ops.Sink{Sink: stop}
	if _, err := ss.Checkpoint(ctx, ops.Barrier{Epoch: 1, Stop: true}, nil); err != nil {
		t.Fatal(err)
	}
	if err := ss.CheckpointDone(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if want := []string{"pre 1", "commit 1 tx1", "finish"}; !slices.Equal(stop.log, want) {
		t.Fatalf("stop: calls %q, want %q", stop.log, want)
	}

	bad := &tpcSink{failPre: errors.New("broker down")}
	if _, err := (&ops.Sink{Sink: bad}).Checkpoint(ctx, ops.Barrier{Epoch: 3}, nil); err == nil || err.Error() != "pre-commit epoch 3: broker down" {
		t.Fatalf("failing PreCommit: %v", err)
	}
	if err := (&ops.Sink{Sink: &tpcSink{}}).Restore(ctx, []any{"junk"}); err == nil {
		t.Fatal("Restore accepted a snapshot that is not a TwoPhaseState")
	}
}
