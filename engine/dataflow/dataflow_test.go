package dataflow_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

var errBoom = errors.New("boom")

// pipelineCalc is WHERE v % 3 <> 0 AND k < 40 (two filters, applied in
// order) projecting (k, v + k, s, _timestamp).
func pipelineCalc() *program.Calc {
	return &program.Calc{
		Filters: []*program.Expr{
			call("<>", types.BoolT, call("%", types.Int64T, col(colV), int64Lit(3)), int64Lit(0)),
			call("<", types.BoolT, col(colK), int64Lit(40)),
		},
		Project: []*program.Expr{col(colK), call("+", types.Int64T, col(colV), col(colK)), col(colS), col(colTS)},
	}
}

// applyPipelineCalc is pipelineCalc in Go.
func applyPipelineCalc(rows []row) []row {
	var out []row
	for _, r := range rows {
		if r.V%3 != 0 && r.K < 40 {
			r.V += r.K
			out = append(out, r)
		}
	}
	return out
}

// TestForwardPipeline runs source -> calc -> sink over forward edges with
// random batch sizes and counts: each sink subtask receives exactly its
// source subtask's rows, filtered and projected, in order; Finish follows the
// last Write once; every source and sink is closed once.
func TestForwardPipeline(t *testing.T) {
	checkNoLeaks(t)
	rnd := newRand(t)
	for iter := range 8 {
		t.Run(fmt.Sprint(iter), func(t *testing.T) {
			par := 1 + rnd.IntN(3)
			var id int64
			src := &testSource{batches: make([][]*coldata.Batch, par)}
			want := make([][]row, par)
			for i := range par {
				var rows []row
				for range rnd.IntN(10) {
					rs := randRows(rnd, 1+rnd.IntN(5000), &id)
					src.batches[i] = append(src.batches[i], makeBatch(rnd, rs, rnd.IntN(3) == 0))
					rows = append(rows, rs...)
				}
				want[i] = applyPipelineCalc(rows)
			}
			sink := &testSink{}
			b := newBuilder(t)
			s := b.source("source 'in'", par, src)
			c := b.calc("calc 'c'", par, pipelineCalc())
			o := b.sink("sink 'out'", par, sink)
			b.forward(s, c)
			b.forward(c, o)
			j := start(t, &b.p, dataflow.Options{QueueSize: 1 + rnd.IntN(4)})
			if err := wait(t, j); err != nil {
				t.Fatalf("Wait: %v", err)
			}
			for i, sub := range sink.snapshot() {
				if !slices.Equal(sub.rows, want[i]) {
					t.Errorf("sink subtask %d: %s", i, sameRows(sub.rows, want[i]))
				}
			}
			sink.checkLifecycle(t, "out", par, true)
			src.checkClosed(t, "in", par)
		})
	}
}

// TestShuffleKeyed checks keyed shuffles between different parallelisms:
// every row arrives once and lands on the subtask that owns its key group.
func TestShuffleKeyed(t *testing.T) {
	checkNoLeaks(t)
	rnd := newRand(t)
	cases := []struct {
		name              string
		srcP, midP, sinkP int // midP 0: no calc in between
		keys              []int
		groups            int // program.MaxKeyGroups; 0: the default
	}{
		{"1-3-2 by k", 1, 3, 2, []int{colK}, 0},
		{"3-1 by k", 3, 0, 1, []int{colK}, 0},
		{"1-3 by k,s", 1, 0, 3, []int{colK, colS}, 0},
		{"2-4 by s", 2, 0, 4, []int{colS}, 0},
		{"4-3-2 by s,k", 4, 3, 2, []int{colS, colK}, 0},
		{"2-2 by ts", 2, 0, 2, []int{colTS}, 0},
		// 3 does not divide 128: the documented range and the routing
		// used to disagree here.
		{"1-3 by k, 128 groups", 1, 0, 3, []int{colK}, 128},
		{"1-3 by k, 7 groups", 1, 0, 3, []int{colK}, 7},
		{"2-5 by k, 12 groups", 2, 0, 5, []int{colK}, 12},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var id int64
			src := &testSource{batches: make([][]*coldata.Batch, tc.srcP)}
			var want []row
			for i := range tc.srcP {
				rows := randRows(rnd, rnd.IntN(3000), &id)
				src.batches[i] = splitBatches(rnd, rows, 500)
				want = append(want, rows...)
			}
			sink := &testSink{}
			b := newBuilder(t)
			b.p.MaxKeyGroups = tc.groups
			s := b.source("source 'in'", tc.srcP, src)
			o := b.sink("sink 'out'", tc.sinkP, sink)
			if tc.midP > 0 {
				c := b.calc("calc 'mid'", tc.midP, &program.Calc{Project: identity()})
				b.shuffle(s, c, tc.keys...)
				b.shuffle(c, o, tc.keys...)
			} else {
				b.shuffle(s, o, tc.keys...)
			}
			j := start(t, &b.p, dataflow.Options{QueueSize: 1 + rnd.IntN(4)})
			if err := wait(t, j); err != nil {
				t.Fatalf("Wait: %v", err)
			}
			if d := sameRows(sink.allRows(), want); d != "" {
				t.Errorf("rows: %s", d)
			}
			owner := map[string]int{}
			for _, sub := range sink.snapshot() {
				for _, r := range sub.rows {
					key := keyString(r, tc.keys)
					if o, ok := owner[key]; ok && o != sub.idx {
						t.Fatalf("key %s on subtasks %d and %d", key, o, sub.idx)
					}
					owner[key] = sub.idx
					if want := keySubtask(r, tc.keys, tc.sinkP, tc.groups); want != sub.idx {
						t.Fatalf("row %v on subtask %d, its key group belongs to %d", r, sub.idx, want)
					}
				}
			}
			if tc.sinkP > 1 && len(want) > 100 && len(owner) > 0 {
				used := map[int]bool{}
				for _, o := range owner {
					used[o] = true
				}
				if len(used) < 2 {
					t.Errorf("all keys on one subtask: %v", used)
				}
			}
			sink.checkLifecycle(t, "out", tc.sinkP, true)
			src.checkClosed(t, "in", tc.srcP)
		})
	}
}

func keyString(r row, keys []int) string {
	var sb strings.Builder
	for _, k := range keys {
		switch k {
		case colK:
			fmt.Fprintf(&sb, "k=%d ", r.K)
		case colV:
			fmt.Fprintf(&sb, "v=%d ", r.V)
		case colS:
			if r.SNull {
				sb.WriteString("s=NULL ")
			} else {
				fmt.Fprintf(&sb, "s=%q ", r.S)
			}
		case colTS:
			fmt.Fprintf(&sb, "ts=%d ", r.TS)
		}
	}
	return sb.String()
}

// TestShuffleRoundRobin checks shuffles without keys: every row arrives
// once, and batches are spread over all receivers.
func TestShuffleRoundRobin(t *testing.T) {
	checkNoLeaks(t)
	rnd := newRand(t)
	for _, tc := range []struct{ srcP, midP, sinkP int }{{2, 0, 3}, {1, 0, 4}, {3, 2, 1}, {1, 3, 2}} {
		t.Run(fmt.Sprintf("%d-%d-%d", tc.srcP, tc.midP, tc.sinkP), func(t *testing.T) {
			var id int64
			src := &testSource{batches: make([][]*coldata.Batch, tc.srcP)}
			var want []row
			for i := range tc.srcP {
				// At least 4 batches per subtask so every receiver gets one.
				for range 4 + rnd.IntN(10) {
					rs := randRows(rnd, 1+rnd.IntN(300), &id)
					src.batches[i] = append(src.batches[i], makeBatch(rnd, rs, rnd.IntN(2) == 0))
					want = append(want, rs...)
				}
			}
			sink := &testSink{}
			b := newBuilder(t)
			s := b.source("source 'in'", tc.srcP, src)
			o := b.sink("sink 'out'", tc.sinkP, sink)
			if tc.midP > 0 {
				c := b.calc("calc 'mid'", tc.midP, &program.Calc{Project: identity()})
				b.shuffle(s, c)
				b.shuffle(c, o)
			} else {
				b.shuffle(s, o)
			}
			j := start(t, &b.p, dataflow.Options{QueueSize: 1 + rnd.IntN(4)})
			if err := wait(t, j); err != nil {
				t.Fatalf("Wait: %v", err)
			}
			if d := sameRows(sink.allRows(), want); d != "" {
				t.Errorf("rows: %s", d)
			}
			for _, sub := range sink.snapshot() {
				if len(sub.rows) == 0 {
					t.Errorf("sink subtask %d received nothing", sub.idx)
				}
			}
			sink.checkLifecycle(t, "out", tc.sinkP, true)
		})
	}
}

// TestUnion sends two sources (like two INSERTs into one table) into one
// sink: the sink must not finish while one of them is still running, and
// gets every row of both.
func TestUnion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rnd := newRand(t)
		var id int64
		var want []row
		fast := &testSource{batches: make([][]*coldata.Batch, 2)}
		slow := &testSource{batches: make([][]*coldata.Batch, 3), gate: make(chan struct{})}
		for i := range 2 {
			rows := randRows(rnd, 1+rnd.IntN(1000), &id)
			fast.batches[i] = splitBatches(rnd, rows, 100)
			want = append(want, rows...)
		}
		var slowRows []row
		for i := range 3 {
			rows := randRows(rnd, 1+rnd.IntN(1000), &id)
			slow.batches[i] = splitBatches(rnd, rows, 100)
			slowRows = append(slowRows, rows...)
		}
		sink := &testSink{}
		b := newBuilder(t)
		f := b.source("source 'fast'", 2, fast)
		s := b.source("source 'slow'", 3, slow)
		o := b.sink("sink 'out'", 2, sink)
		b.forward(f, o)
		b.shuffle(s, o, colK)
		j := start(t, &b.p, dataflow.Options{QueueSize: 2})

		// Everything but the gated source has run to completion.
		synctest.Wait()
		if n := fast.closed.Load(); n != 2 {
			t.Fatalf("fast source: closed %d times after both subtasks ended, want 2 (one source per subtask)", n)
		}
		if n := sink.finishes(); n != 0 {
			t.Fatalf("sink finished %d times while a sender was still running", n)
		}
		if d := sameRows(sink.allRows(), want); d != "" {
			t.Errorf("rows before the slow source ran: %s", d)
		}

		close(slow.gate)
		if err := j.Wait(); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		want = append(want, slowRows...)
		if d := sameRows(sink.allRows(), want); d != "" {
			t.Errorf("rows: %s", d)
		}
		sink.checkLifecycle(t, "out", 2, true)
		fast.checkClosed(t, "fast", 2)
		slow.checkClosed(t, "slow", 3)
	})
}

// TestTwoEdgesSameNodes joins one source to one sink by two edges (a
// self-union): every row arrives twice, end of stream is counted per edge.
func TestTwoEdgesSameNodes(t *testing.T) {
	checkNoLeaks(t)
	rnd := newRand(t)
	var id int64
	src := &testSource{batches: make([][]*coldata.Batch, 2)}
	var want []row
	for i := range 2 {
		rows := randRows(rnd, 1+rnd.IntN(2000), &id)
		src.batches[i] = splitBatches(rnd, rows, 300)
		want = append(want, rows...)
		want = append(want, rows...)
	}
	sink := &testSink{}
	b := newBuilder(t)
	s := b.source("source 'in'", 2, src)
	o := b.sink("sink 'out'", 2, sink)
	b.forward(s, o)
	b.shuffle(s, o, colK)
	j := start(t, &b.p, dataflow.Options{QueueSize: 3})
	if err := wait(t, j); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if d := sameRows(sink.allRows(), want); d != "" {
		t.Errorf("rows: %s", d)
	}
	sink.checkLifecycle(t, "out", 2, true)
}

// TestFanOut sends one calc's output to two sinks, each of which gets all
// of it.
func TestFanOut(t *testing.T) {
	checkNoLeaks(t)
	rnd := newRand(t)
	var id int64
	rows := randRows(rnd, 5000, &id)
	src := &testSource{batches: [][]*coldata.Batch{splitBatches(rnd, rows, 700)}}
	a, c := &testSink{}, &testSink{}
	b := newBuilder(t)
	s := b.source("source 'in'", 1, src)
	k := b.calc("calc 'c'", 1, pipelineCalc())
	oa := b.sink("sink 'a'", 1, a)
	oc := b.sink("sink 'c'", 3, c)
	b.forward(s, k)
	b.forward(k, oa)
	b.shuffle(k, oc, colS)
	j := start(t, &b.p, dataflow.Options{QueueSize: 1})
	if err := wait(t, j); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	want := applyPipelineCalc(rows)
	if got := a.allRows(); !slices.Equal(got, want) {
		t.Errorf("sink a: %s", sameRows(got, want))
	}
	if d := sameRows(c.allRows(), want); d != "" {
		t.Errorf("sink c: %s", d)
	}
	a.checkLifecycle(t, "a", 1, true)
	c.checkLifecycle(t, "c", 3, true)
}

// TestErrors fails one part of a job while another, independent branch has
// an unbounded source blocked on backpressure: the whole job stops, Wait
// returns the first error labelled with its operator, every source and sink
// is closed once and no goroutine is left.
func TestErrors(t *testing.T) {
	const queue = 2
	cases := []struct {
		name      string
		setup     func(bad *testSource, out *testSink)
		divByZero bool // a visible row has v = 0
		want      string
		wantErr   error
		// wantFinish says whether sink 'out' finished: 0 no subtask did,
		// 1 some did (the others may have been cancelled first), -1 either.
		wantFinish int
	}{
		{
			name:  "source run",
			setup: func(bad *testSource, _ *testSink) { bad.failAfter, bad.failErr = 2, errBoom },
			want:  "source 'bad': boom", wantErr: errBoom,
		},
		{
			name:      "calc",
			divByZero: true,
			want:      "q.sql:4:8: division by zero in '100 / v', computing 100 / 0", wantErr: expr.ErrDivisionByZero,
		},
		{
			name:  "sink write",
			setup: func(_ *testSource, out *testSink) { out.failWrite, out.writeErr = 2, errBoom },
			want:  "sink 'out': boom", wantErr: errBoom,
		},
		{
			name:  "sink finish",
			setup: func(_ *testSource, out *testSink) { out.finishErr = errBoom },
			want:  "sink 'out': boom", wantErr: errBoom, wantFinish: 1,
		},
		{
			name:  "sink close",
			setup: func(_ *testSource, out *testSink) { out.closeErr = errBoom },
			want:  "sink 'out': close: boom", wantErr: errBoom, wantFinish: 1,
		},
		{
			name:  "source close",
			setup: func(bad *testSource, _ *testSink) { bad.closeErr = errBoom },
			want:  "source 'bad': close: boom", wantErr: errBoom, wantFinish: -1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkNoLeaks(t)
			rnd := newRand(t)
			// Branch 1: an endless source into a sink that never accepts.
			endless := &testSource{next: unboundedRows(3)}
			stuck := &testSink{gate: make(chan struct{})}
			// Branch 2: a bounded source, a calc dividing by v, a sink.
			bad := &testSource{batches: make([][]*coldata.Batch, 2), gate: make(chan struct{})}
			var id int64
			for i := range 2 {
				rows := randRows(rnd, 50, &id) // v >= 1
				if tc.divByZero && i == 1 {
					rows[len(rows)/2].V = 0
				}
				// Garbage rows hidden by selections have v = 0: they must
				// never raise the division error.
				for len(rows) > 0 {
					n := min(1+rnd.IntN(10), len(rows))
					bad.batches[i] = append(bad.batches[i], makeBatch(rnd, rows[:n], true))
					rows = rows[n:]
				}
			}
			out := &testSink{}
			if tc.setup != nil {
				tc.setup(bad, out)
			}
			b := newBuilder(t)
			e := b.source("source 'endless'", 1, endless)
			st := b.sink("sink 'stuck'", 1, stuck)
			b.forward(e, st)
			s := b.source("source 'bad'", 2, bad)
			c := b.calc("calc 'div'", 2, &program.Calc{Project: []*program.Expr{
				col(colK),
				{Op: program.ExprCall, Func: "/", Type: types.Int64T, Args: []*program.Expr{int64Lit(100), col(colV)}, Text: "100 / v",
					Pos: &program.SourcePos{File: "q.sql", Line: 4, Col: 8}},
				col(colS), col(colTS),
			}})
			o := b.sink("sink 'out'", 3, out)
			b.forward(s, c)
			b.shuffle(c, o, colK)
			j := start(t, &b.p, dataflow.Options{QueueSize: queue})

			// One batch in the stuck sink's Write, queue in its channel, one
			// more Emit started: the endless source is blocked.
			eventually(t, "the endless source to block", func() bool { return endless.attempts.Load() == queue+2 })
			close(bad.gate)

			err := wait(t, j)
			if err == nil {
				t.Fatal("Wait returned nil")
			}
			if err.Error() != tc.want {
				t.Errorf("Wait error %q, want %q", err, tc.want)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Wait error %q does not wrap %v", err, tc.wantErr)
			}
			if n := endless.emitted.Load(); n != queue+1 {
				t.Errorf("endless source emitted %d batches into a stuck sink, want %d", n, queue+1)
			}
			endless.checkClosed(t, "endless", 1)
			bad.checkClosed(t, "bad", 2)
			stuck.checkLifecycle(t, "stuck", 1, false)
			if tc.wantFinish == 0 {
				out.checkLifecycle(t, "out", 3, false)
			} else {
				finished := 0
				for _, s := range out.snapshot() {
					if s.closes != 1 || s.finishes > 1 || s.writeAfterFinish || s.writeAfterClose {
						t.Errorf("sink out[%d]: %d closes, %d finishes, write after finish or close: %v",
							s.idx, s.closes, s.finishes, s.writeAfterFinish || s.writeAfterClose)
					}
					finished += s.finishes
				}
				if tc.wantFinish == 1 && finished == 0 {
					t.Errorf("sink 'out' never finished")
				}
			}
		})
	}
}

// TestStartErrors checks that configuration errors make Start fail, run
// nothing, and close whatever had already been built.
func TestStartErrors(t *testing.T) {
	errNope := errors.New("nope")
	cases := []struct {
		name  string
		build func(b *builder, ok *testSource, okSink *testSink)
		want  string
	}{
		{
			// The sink is built before the failing source (node order).
			name: "new source",
			build: func(b *builder, ok *testSource, okSink *testSink) {
				s := b.source("source 'ok'", 2, ok)
				o := b.sink("sink 'ok'", 2, okSink)
				bad := b.source("source 'bad'", 1, &testSource{newErr: errNope})
				b.forward(s, o)
				b.shuffle(bad, o)
			},
			want: "source 'bad': nope",
		},
		{
			name: "new sink",
			build: func(b *builder, ok *testSource, okSink *testSink) {
				s := b.source("source 'ok'", 2, ok)
				o := b.sink("sink 'ok'", 2, okSink)
				bad := b.sink("sink 'bad'", 2, &testSink{newErr: errNope})
				b.forward(s, o)
				b.forward(s, bad)
			},
			want: "sink 'bad': nope",
		},
		{
			name: "calc compile",
			build: func(b *builder, ok *testSource, okSink *testSink) {
				s := b.source("source 'ok'", 2, ok)
				o := b.sink("sink 'ok'", 2, okSink)
				c := b.calc("calc 'bad'", 2, &program.Calc{Project: []*program.Expr{call("no_such_function", types.Int64T), col(colV), col(colS), col(colTS)}})
				b.forward(s, o)
				b.forward(s, c)
				b.forward(c, o)
			},
			want: "calc 'bad': unknown function no_such_function",
		},
		{
			name: "unknown connector",
			build: func(b *builder, ok *testSource, okSink *testSink) {
				s := b.source("source 'ok'", 2, ok)
				o := b.sink("sink 'ok'", 2, okSink)
				b.forward(s, o)
				u := b.source("source 'unknown'", 1, &testSource{})
				b.p.Nodes[u].Source.Connector = "test_runtime_no_such_connector"
				b.shuffle(u, o)
			},
			want: `source 'unknown': no source connector "test_runtime_no_such_connector"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkNoLeaks(t)
			ok, okSink := &testSource{batches: [][]*coldata.Batch{nil, nil}}, &testSink{}
			b := newBuilder(t)
			tc.build(b, ok, okSink)
			j, err := dataflow.Start(context.Background(), &b.p, dataflow.Options{})
			if err == nil {
				j.Wait()
				t.Fatal("Start succeeded")
			}
			if err.Error() != tc.want {
				t.Errorf("Start error %q, want %q", err, tc.want)
			}
			if strings.Contains(tc.want, "nope") && !errors.Is(err, errNope) {
				t.Errorf("Start error %q does not wrap the constructor's", err)
			}
			if ok.runCalls != 0 {
				t.Errorf("a source ran")
			}
			// What was built must be closed: Close is called exactly once
			// whether the pipeline succeeded or not.
			if b, c := ok.built.Load(), ok.closed.Load(); b != c {
				t.Errorf("source 'ok': %d subtasks built, %d closed", b, c)
			}
			for _, s := range okSink.snapshot() {
				if s.closes != 1 || s.finishes != 0 || s.writes != 0 {
					t.Errorf("sink 'ok'[%d]: %d closes, %d finishes, %d writes; want 1, 0, 0", s.idx, s.closes, s.finishes, s.writes)
				}
			}
		})
	}
	t.Run("close error while aborting", func(t *testing.T) {
		checkNoLeaks(t)
		ok := &testSource{closeErr: errBoom}
		b := newBuilder(t)
		s := b.source("source 'ok'", 1, ok)
		o := b.sink("sink 'bad'", 1, &testSink{newErr: errNope})
		b.forward(s, o)
		_, err := dataflow.Start(context.Background(), &b.p, dataflow.Options{})
		if err == nil || !errors.Is(err, errNope) || !errors.Is(err, errBoom) ||
			err.Error() != "sink 'bad': nope\nsource 'ok': close: boom" {
			t.Errorf("Start error %q, want the constructor's and the close's", err)
		}
		if ok.closed.Load() != 1 {
			t.Errorf("source closed %d times", ok.closed.Load())
		}
	})
	t.Run("invalid program", func(t *testing.T) {
		b := newBuilder(t)
		b.source("source 'ok'", 2, &testSource{})
		b.sink("sink 'orphan'", 1, &testSink{}) // no input edge
		if _, err := dataflow.Start(context.Background(), &b.p, dataflow.Options{}); err == nil || !strings.HasPrefix(err.Error(), "invalid program: ") {
			t.Errorf("Start error %v, want an invalid program", err)
		}
	})
}

// TestStop stops an endless source feeding a shuffle, a calc and a sink:
// Wait returns nil, every row the source emitted reaches the sinks, which
// are flushed at the stop barrier and closed but not finished (Finish is for
// end of input only).
func TestStop(t *testing.T) {
	checkNoLeaks(t)
	src := &testSource{next: unboundedRows(7)}
	sink := &testSink{}
	b := newBuilder(t)
	s := b.source("source 'endless'", 2, src)
	c := b.calc("calc 'c'", 3, &program.Calc{Project: identity()})
	o := b.sink("sink 'out'", 3, sink)
	b.shuffle(s, c, colK)
	b.forward(c, o)
	j := start(t, &b.p, dataflow.Options{QueueSize: 2})
	eventually(t, "some output", func() bool { return src.emitted.Load() > 100 && len(sink.allRows()) > 0 && src.pollers.Load() == 2 })
	j.Stop()
	if err := wait(t, j); err != nil {
		t.Fatalf("Wait after Stop: %v", err)
	}
	if d := sameRows(sink.allRows(), src.sentRows()); d != "" {
		t.Errorf("rows: %s", d)
	}
	sink.checkLifecycle(t, "out", 3, true) // commits at the completed stop checkpoint
	for _, sub := range sink.snapshot() {
		if sub.flushes != 1 {
			t.Errorf("sink out[%d]: flushed %d times, want once (the stop barrier)", sub.idx, sub.flushes)
		}
	}
	src.checkClosed(t, "endless", 2)
	for _, err := range src.runErrs {
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("source Run returned %v", err)
		}
	}
}

// TestStopWhileBlocked stops a source that is blocked in Emit: the blocked
// batch is still delivered (the stop barrier goes at the next emit
// boundary), and nothing after it.
func TestStopWhileBlocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const queue = 3
		src := &testSource{next: unboundedRows(2)}
		sink := &testSink{gate: make(chan struct{})}
		b := newBuilder(t)
		s := b.source("source 'endless'", 1, src)
		o := b.sink("sink 'out'", 1, sink)
		b.forward(s, o)
		j := start(t, &b.p, dataflow.Options{QueueSize: queue})
		synctest.Wait()
		if n := src.attempts.Load(); n != queue+2 {
			t.Fatalf("%d Emit calls before blocking, want %d", n, queue+2)
		}
		j.Stop()
		synctest.Wait()
		close(sink.gate)
		if err := j.Wait(); err != nil {
			t.Fatalf("Wait after Stop: %v", err)
		}
		if n := src.emitted.Load(); n != queue+2 {
			t.Errorf("%d batches emitted, want %d", n, queue+2)
		}
		if d := sameRows(sink.allRows(), src.sentRows()); d != "" {
			t.Errorf("rows: %s", d)
		}
		sink.checkLifecycle(t, "out", 1, true)
	})
}

// TestCancel cancels a running job: Wait returns an error, no sink
// finishes, everything is closed.
func TestCancel(t *testing.T) {
	checkNoLeaks(t)
	src := &testSource{next: unboundedRows(5)}
	sink := &testSink{}
	b := newBuilder(t)
	s := b.source("source 'endless'", 2, src)
	o := b.sink("sink 'out'", 1, sink)
	b.shuffle(s, o)
	j := start(t, &b.p, dataflow.Options{})
	// Both subtasks must have started before the cancel, or the check
	// that every subtask was polled would race with it.
	eventually(t, "some output from both subtasks", func() bool {
		return len(sink.allRows()) > 0 && src.pollers.Load() == 2
	})
	j.Cancel()
	if err := wait(t, j); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after Cancel: %v, want context.Canceled", err)
	}
	sink.checkLifecycle(t, "out", 1, false)
	src.checkClosed(t, "endless", 2)
}

// TestCancelAfterSourcesEnded cancels a job whose sources have all ended
// while the sink is still busy: the end of stream waiting in the sink's
// queue must not make it finish (commit) a cancelled job.
func TestCancelAfterSourcesEnded(t *testing.T) {
	checkNoLeaks(t)
	// Without the check, the receive of end of stream races with the
	// cancellation in a select: 30 rounds make a miss vanishingly unlikely.
	for i := range 30 {
		src := &testSource{batches: [][]*coldata.Batch{{makeBatch(nil, []row{{K: 1, V: 1}}, false)}}}
		sink := &testSink{gate: make(chan struct{}), ignoreCtx: true, entered: make(chan struct{}, 1)}
		b := newBuilder(t)
		s := b.source("source 'in'", 1, src)
		o := b.sink("sink 'out'", 1, sink)
		b.forward(s, o)
		j := start(t, &b.p, dataflow.Options{})
		<-sink.entered
		// Close runs after the source subtask has sent end of stream.
		eventually(t, "the source to end", func() bool { return src.closed.Load() == 1 })
		j.Cancel()
		close(sink.gate)
		if err := wait(t, j); !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: Wait after Cancel: %v, want context.Canceled", i, err)
		}
		if n := sink.finishes(); n != 0 {
			t.Fatalf("round %d: cancelled sink finished", i)
		}
	}
}

// TestCancelAfterWait checks that a finished job's result is fixed: a Cancel
// racing with the end of the job (a signal handler, say) does not race with
// Wait, and once Wait has returned, a later Cancel changes nothing.
func TestCancelAfterWait(t *testing.T) {
	checkNoLeaks(t)
	run := func() (*dataflow.Job, *testSink) {
		src := &testSource{batches: [][]*coldata.Batch{{makeBatch(nil, []row{{K: 1, V: 1}}, false)}}}
		sink := &testSink{}
		b := newBuilder(t)
		s := b.source("source 'in'", 1, src)
		o := b.sink("sink 'out'", 1, sink)
		b.forward(s, o)
		return start(t, &b.p, dataflow.Options{}), sink
	}

	j, _ := run()
	if err := wait(t, j); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	j.Cancel()
	if err := j.Wait(); err != nil {
		t.Fatalf("Wait after a late Cancel: %v, want nil as before", err)
	}

	for i := range 20 {
		j, sink := run()
		done := make(chan error, 1)
		go func() { done <- j.Wait() }()
		eventually(t, "the sink to close", func() bool {
			subs := sink.snapshot()
			return len(subs) == 1 && subs[0].closes == 1
		})
		j.Cancel() // not synchronized with the Wait above
		first := <-done
		if first != nil && !errors.Is(first, context.Canceled) {
			t.Fatalf("round %d: Wait: %v", i, first)
		}
		j.Cancel()
		if err := j.Wait(); err != first {
			t.Fatalf("round %d: Wait returned %v, then %v", i, first, err)
		}
	}
}

// TestBackpressure blocks a sink and checks that the source's Emit blocks
// once every queue and every subtask in between holds a batch, then that
// everything drains when the sink resumes.
func TestBackpressure(t *testing.T) {
	const queue = 4
	cases := []struct {
		name  string
		build func(b *builder, src *testSource, sink *testSink)
		// held is how many batches the pipeline absorbs before the
		// source blocks.
		held int
	}{
		{
			name: "source-sink",
			build: func(b *builder, src *testSource, sink *testSink) {
				b.forward(b.source("source 'in'", 1, src), b.sink("sink 'out'", 1, sink))
			},
			// One in the sink's Write, a full queue.
			held: 1 + queue,
		},
		{
			name: "source-calc-sink",
			build: func(b *builder, src *testSource, sink *testSink) {
				s := b.source("source 'in'", 1, src)
				c := b.calc("calc 'c'", 1, &program.Calc{Project: identity()})
				o := b.sink("sink 'out'", 1, sink)
				b.forward(s, c)
				b.forward(c, o)
			},
			// The sink's as above, plus one in the calc's Collect and a full
			// queue in front of the calc.
			held: 2 * (1 + queue),
		},
		{
			name: "round robin to 3",
			build: func(b *builder, src *testSource, sink *testSink) {
				b.shuffle(b.source("source 'in'", 1, src), b.sink("sink 'out'", 3, sink))
			},
			held: 3 * (1 + queue),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const batches = 100
				rnd := rand.New(rand.NewPCG(1, 2))
				var id int64
				src := &testSource{batches: [][]*coldata.Batch{nil}}
				var want []row
				for range batches {
					rows := randRows(rnd, 3, &id)
					src.batches[0] = append(src.batches[0], makeBatch(nil, rows, false))
					want = append(want, rows...)
				}
				sink := &testSink{gate: make(chan struct{})}
				b := newBuilder(t)
				tc.build(b, src, sink)
				j := start(t, &b.p, dataflow.Options{QueueSize: queue})
				synctest.Wait()
				if n := src.emitted.Load(); n != int64(tc.held) {
					t.Errorf("%d batches emitted before blocking, want %d", n, tc.held)
				}
				if n := src.attempts.Load(); n != int64(tc.held)+1 {
					t.Errorf("%d Emit calls, want %d (the last one blocked)", n, tc.held+1)
				}
				close(sink.gate)
				if err := j.Wait(); err != nil {
					t.Fatalf("Wait: %v", err)
				}
				if d := sameRows(sink.allRows(), want); d != "" {
					t.Errorf("rows: %s", d)
				}
			})
		})
	}
}

// TestCounters checks the row counters of every operator and a source's
// own counter, per (node, subtask, name): two calcs with the same
// description are two metrics, and so are two subtasks of one operator.
func TestCounters(t *testing.T) {
	checkNoLeaks(t)
	rnd := newRand(t)
	var id int64
	src := &testSource{batches: make([][]*coldata.Batch, 2), counter: "bad_records_dropped"}
	var all []row
	perSubtask := make([]int64, 2)
	for i := range 2 {
		rows := randRows(rnd, 1+rnd.IntN(5000), &id)
		src.batches[i] = splitBatches(rnd, rows, 400)
		all = append(all, rows...)
		perSubtask[i] = int64(len(rows))
	}
	kept := int64(len(applyPipelineCalc(all)))
	total := int64(len(all))
	sink := &testSink{}
	b := newBuilder(t)
	s := b.source("source 'in'", 2, src)
	c1 := b.calc("calc", 2, pipelineCalc())
	c2 := b.calc("calc", 2, &program.Calc{Project: identity()})
	o := b.sink("sink 'out'", 1, sink)
	b.forward(s, c1)
	b.forward(c1, c2)
	b.shuffle(c2, o)
	j := start(t, &b.p, dataflow.Options{})
	if err := wait(t, j); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	got := j.Counters()
	type opName struct {
		node int
		name string
	}
	sums := map[opName]int64{}
	for k, v := range got {
		if want := b.p.Nodes[k.Node].Description; k.Operator != want {
			t.Errorf("%v: operator %q, want node %d's %q", k, k.Operator, k.Node, want)
		}
		if want := b.p.Nodes[k.Node].OperatorID; k.OperatorID != want {
			t.Errorf("%v: operator id %q, want node %d's %q", k, k.OperatorID, k.Node, want)
		}
		if k.Subtask < 0 || k.Subtask >= b.p.Nodes[k.Node].Parallelism {
			t.Errorf("%v: subtask out of range", k)
		}
		if v != 0 {
			sums[opName{k.Node, k.Name}] += v
		}
	}
	// Memory: the first calc computes vectors (the second passes its input
	// through); live bytes never exceed the bytes allocated.
	for _, node := range []int{s, c1, c2, o} {
		used, allocated := sums[opName{node, "memory_bytes"}], sums[opName{node, "allocated_bytes"}]
		if used > allocated || used < 0 {
			t.Errorf("node %d: memory_bytes %d, allocated_bytes %d", node, used, allocated)
		}
		delete(sums, opName{node, "memory_bytes"})
		delete(sums, opName{node, "allocated_bytes"})
	}
	// Bytes: what a sender sends, its receiver receives (forward edges,
	// the same batches); the first calc passes fewer rows but may send
	// the same vectors under a selection; backpressure is timing.
	for _, e := range [][2]int{{s, c1}, {c1, c2}, {c2, o}} {
		out, in := sums[opName{e[0], "bytes_out"}], sums[opName{e[1], "bytes_in"}]
		if out <= 0 || out != in {
			t.Errorf("node %d sent %d bytes, node %d received %d", e[0], out, e[1], in)
		}
	}
	for _, node := range []int{s, c1, c2, o} {
		delete(sums, opName{node, "bytes_out"})
		delete(sums, opName{node, "bytes_in"})
		delete(sums, opName{node, "backpressure_ns"})
	}
	if got[dataflow.MetricKey{Node: c1, OperatorID: b.p.Nodes[c1].OperatorID, Operator: "calc", Subtask: 0, Name: "allocated_bytes"}] <= 0 {
		t.Errorf("calc subtask 0 allocated nothing through its allocator")
	}
	want := map[opName]int64{
		{s, "rows_out"}:            total,
		{s, "bad_records_dropped"}: total,
		{c1, "rows_in"}:            total,
		{c1, "rows_out"}:           kept,
		{c2, "rows_in"}:            kept,
		{c2, "rows_out"}:           kept,
		{o, "rows_in"}:             kept,
	}
	for k, v := range want {
		if sums[k] != v {
			t.Errorf("counter %s of node %d = %d, want %d", k.name, k.node, sums[k], v)
		}
	}
	if len(sums) != len(want) {
		t.Errorf("nonzero counters %v, want the keys of %v", sums, want)
	}
	// Each source subtask read its own batches; forward edges keep the
	// first calc's subtask i on source subtask i's rows.
	for i, n := range perSubtask {
		for _, k := range []dataflow.MetricKey{
			{Node: s, OperatorID: b.p.Nodes[s].OperatorID, Operator: "source 'in'", Subtask: i, Name: "rows_out"},
			{Node: c1, OperatorID: b.p.Nodes[c1].OperatorID, Operator: "calc", Subtask: i, Name: "rows_in"},
		} {
			if got[k] != n {
				t.Errorf("%v = %d, want %d", k, got[k], n)
			}
		}
	}
}

// TestRetriable: timeouts and foreign cancellations may pass on a retry;
// expression errors, internal errors and plain errors do not; an error that
// says what it is decides.
func TestRetriable(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errBoom, false},
		{"deadline", fmt.Errorf("poll: %w", context.DeadlineExceeded), true},
		{"canceled", fmt.Errorf("poll: %w", context.Canceled), true},
		{"i/o deadline", fmt.Errorf("read: %w", os.ErrDeadlineExceeded), true},
		{"net timeout", &net.OpError{Op: "dial", Err: timeoutErr{}}, true},
		{"expression", fmt.Errorf("calc: %w", &expr.Error{Row: -1, Err: errors.New("division by zero")}), false},
		{"says retriable", fmt.Errorf("connect: %w", selfClassified(true)), true},
		{"says not, over a timeout", fmt.Errorf("auth: %w", errors.Join(selfClassified(false), context.DeadlineExceeded)), false},
	}
	for _, c := range cases {
		if got := dataflow.Retriable(c.err); got != c.want {
			t.Errorf("%s: Retriable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "i/o timeout" }
func (timeoutErr) Timeout() bool { return true }

type selfClassified bool

func (e selfClassified) Error() string   { return fmt.Sprintf("retriable=%v", bool(e)) }
func (e selfClassified) Retriable() bool { return bool(e) }

// TestTaskErrorRetriable: the error Wait returns for a failed subtask
// carries the classification.
func TestTaskErrorRetriable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{{errBoom, false}, {fmt.Errorf("fetch: %w", os.ErrDeadlineExceeded), true}} {
		checkNoLeaks(t)
		src := &testSource{next: unboundedRows(10), failAfter: 3, failErr: c.err}
		b := newBuilder(t)
		s := b.source("source 'in'", 1, src)
		o := b.sink("sink 'out'", 1, &testSink{})
		b.forward(s, o)
		err := wait(t, start(t, &b.p, dataflow.Options{}))
		var te *dataflow.TaskError
		if !errors.As(err, &te) {
			t.Fatalf("Wait: %v, want a *TaskError", err)
		}
		if te.Retriable != c.want || te.Node != s || te.Subtask != 0 {
			t.Errorf("Wait: %+v, want node %d subtask 0 retriable %v", te, s, c.want)
		}
	}
}

// TestPanicFailsTheJob: a panic in an operator (a bug) fails the job with a
// labelled error instead of killing the process, and the other subtasks stop.
func TestPanicFailsTheJob(t *testing.T) {
	checkNoLeaks(t)
	// The panic fails the job, which may cancel a source subtask before
	// its first Poll.
	src := &testSource{next: unboundedRows(10), mayNotRun: true}
	sink := &testSink{panicWrite: true}
	b := newBuilder(t)
	s := b.source("source 'in'", 2, src)
	o := b.sink("sink 'out'", 2, sink)
	b.forward(s, o)
	err := wait(t, start(t, &b.p, dataflow.Options{}))
	if err == nil || !strings.Contains(err.Error(), "sink 'out': internal error: panic: sink bug") {
		t.Fatalf("Wait: %v", err)
	}
	src.checkClosed(t, "in", 2)
}

// TestShuffleCompactsSparse: a keyed shuffle to 8 receivers gathers each
// receiver's eighth of a batch into vectors of its own, so the receivers
// hold (and their kernels compute) about one batch's worth of physical rows
// in total instead of 8; to 2 receivers, each half is dense enough to send
// as a selection over the shared batch.
func TestShuffleCompactsSparse(t *testing.T) {
	checkNoLeaks(t)
	rnd := newRand(t)
	var id int64
	rows := randRows(rnd, 20_000, &id)
	// withSel: half the batches come with a selection of their own (about
	// 2/3 of their physical rows), which a receiver's share is of.
	split := func(withSel bool) (batches []*coldata.Batch, physical int) {
		for rest := rows; len(rest) > 0; {
			n := min(4096, len(rest))
			bt := makeBatch(rnd, rest[:n], withSel && rnd.IntN(2) == 0)
			batches = append(batches, bt)
			physical += bt.Len
			rest = rest[n:]
		}
		return batches, physical
	}
	for _, tc := range []struct {
		name    string
		p       int
		withSel bool
		off     bool // compaction disabled
		compact bool
	}{
		{"P=8", 8, true, false, true},
		{"P=8 without compaction", 8, true, true, false},
		{"P=2", 2, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.off {
				defer dataflow.SetCompactBelow(dataflow.SetCompactBelow(0))
			}
			batches, physical := split(tc.withSel)
			src := &testSource{batches: [][]*coldata.Batch{batches}}
			sink := &testSink{}
			b := newBuilder(t)
			s := b.source("source 'in'", 1, src)
			o := b.sink("sink 'out'", tc.p, sink)
			b.shuffle(s, o, colK)
			if err := wait(t, start(t, &b.p, dataflow.Options{})); err != nil {
				t.Fatalf("Wait: %v", err)
			}
			if d := sameRows(sink.allRows(), rows); d != "" {
				t.Fatal(d)
			}
			got := 0
			for _, sub := range sink.snapshot() {
				got += sub.physical
			}
			want := tc.p * physical // every receiver sees whole batches
			if tc.compact {
				want = len(rows)
			}
			if got != want {
				t.Errorf("receivers got %d physical rows for %d rows (%d physical sent), want %d", got, len(rows), physical, want)
			}
		})
	}
}

// TestBackpressureCounted: a source blocked on its sink's full queue
// counts the time it waits (backpressure_ns), here a second of the bubble's
// clock while the sink is held.
func TestBackpressureCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &testSource{next: unboundedRows(2)}
		sink := &testSink{gate: make(chan struct{})}
		b := newBuilder(t)
		s := b.source("source 'endless'", 1, src)
		o := b.sink("sink 'out'", 1, sink)
		b.forward(s, o)
		j := start(t, &b.p, dataflow.Options{QueueSize: 2})
		synctest.Wait() // the source is blocked on the full queue
		time.Sleep(time.Second)
		close(sink.gate)
		j.Stop()
		if err := j.Wait(); err != nil {
			t.Fatal(err)
		}
		var wait, sent, recv int64
		for k, v := range j.Counters() {
			switch {
			case k.Node == s && k.Name == "backpressure_ns":
				wait += v
			case k.Node == s && k.Name == "bytes_out":
				sent += v
			case k.Node == o && k.Name == "bytes_in":
				recv += v
			}
		}
		if wait < int64(time.Second) {
			t.Errorf("backpressure_ns = %d, want at least a second", wait)
		}
		if sent <= 0 || sent != recv {
			t.Errorf("bytes_out %d, bytes_in %d", sent, recv)
		}
	})
}
