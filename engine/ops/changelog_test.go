package ops_test

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// Changelog batches here have columns (k BIGINT, v BIGINT, _op INT8,
// _timestamp TIMESTAMP).

type change struct {
	K, V int64
	Op   int8
}

const (
	cI  = program.ChangeInsert
	cUB = program.ChangeUpdateBefore
	cUA = program.ChangeUpdateAfter
	cD  = program.ChangeDelete
)

// changeBatch builds a changelog batch; with sel, only those physical rows
// are its logical rows.
func changeBatch(chs []change, sel []int32) *coldata.Batch {
	k := coldata.New(types.Int64T, len(chs)).(*coldata.Vec[int64])
	v := coldata.New(types.Int64T, len(chs)).(*coldata.Vec[int64])
	op := coldata.New(program.ChangeKindType, len(chs)).(*coldata.Vec[int8])
	ts := coldata.New(types.TimestampT, len(chs)).(*coldata.Vec[int64])
	for _, c := range chs {
		k.Append(c.K)
		v.Append(c.V)
		op.Append(c.Op)
		ts.Append(0)
	}
	return &coldata.Batch{Cols: []coldata.Vector{k, v, op, ts}, Len: len(chs), Sel: sel}
}

func readChanges(bs []*coldata.Batch) []change {
	var out []change
	for _, b := range bs {
		k, v, op := b.Cols[0].(*coldata.Vec[int64]), b.Cols[1].(*coldata.Vec[int64]), b.Cols[2].(*coldata.Vec[int8])
		b.ForEach(func(i int) { out = append(out, change{k.Vals[i], v.Vals[i], op.Vals[i]}) })
	}
	return out
}

// changelogCalc is WHERE v > 10 over a changelog, built as the runtime
// builds it (ops.New of an updating calc node).
func changelogCalc(t *testing.T) ops.Operator {
	t.Helper()
	c := func(i int, typ types.Type) *program.Expr {
		return &program.Expr{Op: program.ExprCol, Col: i, Type: typ}
	}
	n := &program.Node{Op: program.OpCalc, Updating: true, Calc: &program.Calc{
		Filters: []*program.Expr{call(">", types.BoolT, c(1, types.Int64T), lit(10))},
		Project: []*program.Expr{c(0, types.Int64T), c(1, types.Int64T), c(2, program.ChangeKindType), c(3, types.TimestampT)},
	}}
	op, err := ops.New(context.Background(), n, ops.TaskInfo{})
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func TestCalcFilterSplitsUpdatePairs(t *testing.T) {
	in := []change{
		{1, 5, cI}, {2, 20, cI}, // an insert that fails, one that passes
		{2, 20, cUB}, {2, 5, cUA}, // before passes, after fails: delete of before
		{3, 5, cUB}, {3, 20, cUA}, // before fails, after passes: insert of after
		{4, 20, cUB}, {4, 30, cUA}, // both pass: the pair
		{5, 5, cUB}, {5, 6, cUA}, // neither: nothing
		{6, 20, cD}, {7, 5, cD}, // deletes: the passing one stays
		{8, 20, cUB}, // a retraction (no after): kept as it is
	}
	want := []change{
		{2, 20, cI},
		{2, 20, cD},
		{3, 20, cI},
		{4, 20, cUB}, {4, 30, cUA},
		{6, 20, cD},
		{8, 20, cUB},
	}
	for _, withSel := range []bool{false, true} {
		t.Run(fmt.Sprintf("selection=%v", withSel), func(t *testing.T) {
			chs, sel := in, []int32(nil)
			if withSel {
				// Interleave rows outside the selection that would pair up
				// with the real ones if the selection were ignored.
				chs = nil
				sel = []int32{}
				for _, c := range in {
					chs = append(chs, change{99, 99, cUA})
					sel = append(sel, int32(len(chs)))
					chs = append(chs, c)
				}
			}
			b := changeBatch(chs, sel)
			before := readChanges([]*coldata.Batch{b})
			op := changelogCalc(t)
			var out collector
			if err := op.Process(context.Background(), 0, b, &out); err != nil {
				t.Fatal(err)
			}
			if got := readChanges(out.batches); !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %v\nwant %v", got, want)
			}
			if after := readChanges([]*coldata.Batch{b}); !reflect.DeepEqual(after, before) {
				t.Fatal("the input batch was modified")
			}
		})
	}
}

// TestCalcFilterChangelogReplays checks the rule end to end on random
// changelogs: replaying the filtered changelog must give exactly the rows
// of the final state that pass the filter, and every change in it must
// apply (no update or delete of a row that is not there).
func TestCalcFilterChangelogReplays(t *testing.T) {
	rnd := newRand(t)
	for iter := 0; iter < 200; iter++ {
		state := map[int64]int64{}
		var batches []*coldata.Batch
		for nb := rnd.IntN(5) + 1; nb > 0; nb-- {
			var chs []change
			for n := rnd.IntN(12); n > 0; n-- {
				k, v := int64(rnd.IntN(4)), int64(rnd.IntN(21))
				old, ok := state[k]
				switch {
				case !ok:
					chs = append(chs, change{k, v, cI})
					state[k] = v
				case rnd.IntN(3) == 0:
					chs = append(chs, change{k, old, cD})
					delete(state, k)
				default:
					chs = append(chs, change{k, old, cUB}, change{k, v, cUA})
					state[k] = v
				}
			}
			batches = append(batches, changeBatch(chs, nil))
		}
		op := changelogCalc(t)
		var out collector
		for _, b := range batches {
			if err := op.Process(context.Background(), 0, b, &out); err != nil {
				t.Fatal(err)
			}
		}
		got := map[int64]int64{}
		for _, c := range readChanges(out.batches) {
			if c.V <= 10 {
				t.Fatalf("iteration %d: %v fails the filter but was emitted", iter, c)
			}
			old, ok := got[c.K]
			switch c.Op {
			case cI, cUA:
				if c.Op == cI && ok {
					t.Fatalf("iteration %d: insert %v of a key that exists", iter, c)
				}
				got[c.K] = c.V
			case cUB, cD:
				if !ok || old != c.V {
					t.Fatalf("iteration %d: %v retracts a row that is not there (have %v, %v)", iter, c, old, ok)
				}
				delete(got, c.K)
			}
		}
		want := maps.Clone(state)
		maps.DeleteFunc(want, func(_, v int64) bool { return v <= 10 })
		if !maps.Equal(got, want) {
			t.Fatalf("iteration %d: replay gives %v, want %v", iter, got, want)
		}
	}
}
