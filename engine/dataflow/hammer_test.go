package dataflow_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// TestHammer runs random program shapes: 1-3 sources (a union when there
// are several) into a chain of 0-3 calcs into 1-2 sinks (a fan-out), each
// node with parallelism 1-4, joined by forward edges where parallelisms
// match (mostly) and keyed or round-robin shuffles otherwise, with random
// queue sizes. Some runs inject a failure. It is meant for -race.
func TestHammer(t *testing.T) {
	checkNoLeaks(t)
	rnd := newRand(t)
	budget := 3 * time.Second
	if testing.Short() {
		budget = 500 * time.Millisecond
	}
	began := time.Now()
	n := 0
	for ; n < 20 || time.Since(began) < budget; n++ {
		hammerOnce(t, rnd, n)
		if t.Failed() {
			return
		}
	}
	t.Logf("%d programs", n)
}

// hammerCalc is WHERE v % mod <> 0 (no filter when mod is 0) projecting
// v + add.
type hammerCalc struct{ mod, add int64 }

func (c hammerCalc) program() *program.Calc {
	pc := &program.Calc{Project: identity()}
	if c.mod != 0 {
		pc.Filters = []*program.Expr{call("<>", types.BoolT, call("%", types.Int64T, col(colV), int64Lit(c.mod)), int64Lit(0))}
	}
	if c.add != 0 {
		pc.Project[colV] = call("+", types.Int64T, col(colV), int64Lit(c.add))
	}
	return pc
}

func (c hammerCalc) apply(rows []row) []row {
	var out []row
	for _, r := range rows {
		if c.mod != 0 && r.V%c.mod == 0 {
			continue
		}
		r.V += c.add
		out = append(out, r)
	}
	return out
}

func hammerOnce(t *testing.T, rnd *rand.Rand, iter int) {
	type node struct{ id, par int }
	b := newBuilder(t)
	var shape []string          // for failure messages
	keysInto := map[int][]int{} // keys of the last shuffle into a node
	edgesInto := map[int]int{}
	connect := func(from, to node) {
		edgesInto[to.id]++
		if from.par == to.par && rnd.IntN(4) != 0 {
			b.forward(from.id, to.id)
			shape = append(shape, fmt.Sprintf("%d=>%d", from.id, to.id))
			return
		}
		keys := [][]int{nil, {colK}, {colS}, {colK, colS}}[rnd.IntN(4)]
		b.shuffle(from.id, to.id, keys...)
		keysInto[to.id] = keys
		shape = append(shape, fmt.Sprintf("%d-%v->%d", from.id, keys, to.id))
	}

	var id int64
	var want []row
	var sources []*testSource
	var ups []node
	for i := range 1 + rnd.IntN(3) {
		par := 1 + rnd.IntN(4)
		src := &testSource{batches: make([][]*coldata.Batch, par)}
		for s := range par {
			rows := randRows(rnd, rnd.IntN(1500), &id)
			src.batches[s] = splitBatches(rnd, rows, 1+rnd.IntN(300))
			want = append(want, rows...)
		}
		sources = append(sources, src)
		ups = append(ups, node{b.source(fmt.Sprintf("source 's%d'", i), par, src), par})
		shape = append(shape, fmt.Sprintf("s%d(%d)", i, par))
	}
	for i := range rnd.IntN(4) {
		c := hammerCalc{mod: int64(rnd.IntN(5)), add: int64(rnd.IntN(2))}
		if c.mod == 1 {
			c.mod = 0
		}
		par := 1 + rnd.IntN(4)
		n := node{b.calc(fmt.Sprintf("calc 'c%d'", i), par, c.program()), par}
		for _, up := range ups {
			connect(up, n)
		}
		ups = []node{n}
		want = c.apply(want)
		shape = append(shape, fmt.Sprintf("c%d(%d)", i, par))
	}
	type sinkInfo struct {
		f    *testSink
		node node
	}
	var sinks []sinkInfo
	for i := range 1 + rnd.IntN(2) {
		f := &testSink{}
		par := 1 + rnd.IntN(4)
		n := node{b.sink(fmt.Sprintf("sink 'o%d'", i), par, f), par}
		for _, up := range ups {
			connect(up, n)
		}
		sinks = append(sinks, sinkInfo{f, n})
		shape = append(shape, fmt.Sprintf("o%d(%d)", i, par))
	}

	// One run in six fails: a source mid-stream or a sink's Finish.
	wantErr := ""
	if rnd.IntN(6) == 0 {
		if rnd.IntN(2) == 0 {
			i := rnd.IntN(len(sources))
			// Fail after at most as many emits as some subtask makes, or
			// the failure would never happen.
			most := 0
			for _, bs := range sources[i].batches {
				most = max(most, len(bs))
			}
			sources[i].failAfter, sources[i].failErr = rnd.IntN(min(3, most+1)), errBoom
			wantErr = fmt.Sprintf("source 's%d': boom", i)
		} else {
			i := rnd.IntN(len(sinks))
			sinks[i].f.finishErr = errBoom
			wantErr = fmt.Sprintf("sink 'o%d': boom", i)
		}
	}

	// Key-group counts that do and do not divide the parallelisms, and
	// fewer groups than subtasks (idle subtasks); 0 is the default.
	b.p.MaxKeyGroups = []int{0, 0, 1, 5, 128, 300}[rnd.IntN(6)]
	j := start(t, &b.p, dataflow.Options{QueueSize: 1 + rnd.IntN(8)})
	err := wait(t, j)
	where := fmt.Sprintf("program %d %v (%d key groups)", iter, shape, b.p.MaxKeyGroups)
	if wantErr == "" && err != nil {
		t.Fatalf("%s: Wait: %v", where, err)
	}
	if wantErr != "" && (err == nil || err.Error() != wantErr || !errors.Is(err, errBoom)) {
		t.Fatalf("%s: Wait error %v, want %q", where, err, wantErr)
	}
	for i, src := range sources {
		src.mayNotRun = wantErr != ""
		src.checkClosed(t, fmt.Sprintf("%s s%d", where, i), len(src.batches))
	}
	for i, s := range sinks {
		name := fmt.Sprintf("%s o%d", where, i)
		if wantErr != "" {
			for _, sub := range s.f.snapshot() {
				if sub.closes != 1 || sub.finishes > 1 || sub.writeAfterFinish || sub.writeAfterClose {
					t.Errorf("%s[%d]: %d closes, %d finishes, write after finish or close: %v",
						name, sub.idx, sub.closes, sub.finishes, sub.writeAfterFinish || sub.writeAfterClose)
				}
			}
			continue
		}
		s.f.checkLifecycle(t, name, s.node.par, true)
		if d := sameRows(s.f.allRows(), want); d != "" {
			t.Errorf("%s: %s", name, d)
		}
		// Placement is checked when the sink's only input is a keyed shuffle.
		if keys := keysInto[s.node.id]; len(keys) > 0 && edgesInto[s.node.id] == 1 {
			for _, sub := range s.f.snapshot() {
				for _, r := range sub.rows {
					if k := keySubtask(r, keys, s.node.par, b.p.MaxKeyGroups); k != sub.idx {
						t.Fatalf("%s: row %v on subtask %d, its key group belongs to %d", name, r, sub.idx, k)
					}
				}
			}
		}
	}
}
