package dataflow_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// Fuzz fixtures: a source that emits nothing and a sink that discards, for
// any table, so a mutated program is bounded and needs no registry entry.
const (
	fuzzSrc  = "test_runtime_fuzz_source"
	fuzzSink = "test_runtime_fuzz_sink"
)

func init() {
	connector.Register(&connector.Connector{Name: fuzzSrc, NewSource: func(*connector.Table, connector.SourceTask, []connector.SplitState) (connector.Source, error) {
		return emptySource{}, nil
	}})
	connector.Register(&connector.Connector{Name: fuzzSink, NewSink: func(*connector.Table, connector.SinkTask) (connector.Sink, error) { return discardSink{}, nil }})
}

// fuzzSeeds are valid programs: source -> calc -> sink with a filter, a
// keyed shuffle, a watermark; two sources into one calc; a struct field.
func fuzzSeeds() []*program.Program {
	cols := schema.Fields[:colTS]
	table := func(conn, name string) *connector.Table {
		return &connector.Table{Name: name, Connector: conn, Schema: types.NewSchema(cols...), Options: connector.Options{"password": "{{HOME}}"}, Secret: []string{"password"}}
	}
	node := func(id int, op program.OpKind, par int) *program.Node {
		n := &program.Node{ID: id, OperatorID: string(op) + "_" + string(rune('a'+id)), Op: op, Description: string(op), Parallelism: par, Schema: schema}
		switch op {
		case program.OpSource:
			n.Source = table(fuzzSrc, "in")
		case program.OpSink:
			n.Sink = table(fuzzSink, "out")
		case program.OpCalc:
			n.Calc = &program.Calc{Project: identity()}
		}
		return n
	}
	var out []*program.Program
	{
		p := &program.Program{Version: program.Version, Name: "chain", MaxKeyGroups: 16}
		p.Nodes = []*program.Node{node(0, program.OpSource, 2), node(1, program.OpCalc, 3), node(2, program.OpSink, 3)}
		p.Nodes[0].Watermark = &program.Watermark{Column: colTS, Lateness: time.Second}
		p.Nodes[1].Calc.Filters = []*program.Expr{call(">", types.BoolT, col(colV), int64Lit(3))}
		p.Nodes[1].Calc.Project[0] = call("+", types.Int64T, col(colK), int64Lit(1))
		p.Connect(0, 1, program.Shuffle, colK)
		p.Connect(1, 2, program.Forward)
		out = append(out, p)
	}
	{
		p := &program.Program{Version: program.Version, Name: "union", UDFs: []program.UDF{{Name: "f", ModuleHash: "ab"}}}
		p.Nodes = []*program.Node{node(0, program.OpSource, 1), node(1, program.OpSource, 2), node(2, program.OpCalc, 2), node(3, program.OpSink, 1)}
		p.Nodes[1].Source.Name = "in2"
		p.Connect(0, 2, program.Shuffle)
		p.Connect(1, 2, program.Forward)
		p.Connect(2, 3, program.Shuffle, colS, colK)
		out = append(out, p)
	}
	{
		st := types.StructOf(types.Field{Name: "x", Type: types.Int64T})
		p := &program.Program{Version: program.Version, Name: "struct"}
		p.Nodes = []*program.Node{node(0, program.OpSource, 1), node(1, program.OpCalc, 1), node(2, program.OpCalc, 1), node(3, program.OpSink, 1)}
		p.Nodes[0].Schema = types.NewSchema(types.Field{Name: "s", Type: st}, schema.Fields[colTS])
		p.Nodes[0].Source.Schema = types.NewSchema(types.Field{Name: "s", Type: st})
		p.Nodes[1].Schema = p.Nodes[0].Schema
		p.Nodes[1].Calc.Project = []*program.Expr{{Op: program.ExprCol, Col: 0, Type: st}, {Op: program.ExprCol, Col: 1, Type: types.TimestampT}}
		p.Nodes[2].Calc.Project = []*program.Expr{{Op: program.ExprField, Type: types.Int64T, Args: []*program.Expr{{Op: program.ExprCol, Col: 0, Type: st}}}, int64Lit(0), {Op: program.ExprLit, Type: types.StringT, Value: json.RawMessage(`"x"`)}, {Op: program.ExprCol, Col: 1, Type: types.TimestampT}}
		p.Connect(0, 1, program.Forward)
		p.Connect(1, 2, program.Forward)
		p.Connect(2, 3, program.Forward)
		out = append(out, p)
	}
	return out
}

// FuzzValidateStart: whatever program a worker is given, Start either
// refuses it with an error or runs it to the end (the fixtures are empty,
// so a started job ends by itself); it never panics. Inputs are the JSON a
// worker receives, mutated by the fuzzer, then edited structurally by the
// second argument (see edit), which reaches far more of Validate than byte
// mutations of JSON alone.
func FuzzValidateStart(f *testing.F) {
	for i, p := range fuzzSeeds() {
		if err := p.Validate(); err != nil {
			f.Fatalf("seed %s: %v", p.Name, err)
		}
		data, err := p.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, []byte(nil))
		for op := range byte(editOps) {
			f.Add(data, []byte{op, byte(i), byte(i + 1), op, 1, 2})
		}
	}
	f.Fuzz(func(t *testing.T, data, edits []byte) {
		var p program.Program
		if json.Unmarshal(data, &p) != nil {
			return
		}
		for i := 0; i+2 < len(edits) && i < 30; i += 3 {
			edit(&p, edits[i], int(edits[i+1]), int(edits[i+2]))
		}
		// Bound the work, not the shapes: a mutation to a million subtasks
		// is a valid program the fuzzer cannot afford to run.
		subtasks := 0
		for _, n := range p.Nodes {
			if n != nil {
				subtasks += max(n.Parallelism, 0)
			}
		}
		if len(p.Nodes) > 32 || subtasks > 64 || len(p.Edges) > 64 {
			return
		}
		j, err := dataflow.Start(context.Background(), &p, dataflow.Options{QueueSize: 2})
		if err != nil {
			return
		}
		done := make(chan error, 1)
		go func() { done <- j.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			j.Cancel()
			t.Fatalf("a started job over empty sources did not end:\n%s", data)
		}
	})
}

const editOps = 12

// edit applies one structural mutation to p: what a buggy planner, an old
// or newer build, or a corrupted store could hand a worker.
func edit(p *program.Program, op byte, a, b int) {
	if len(p.Nodes) == 0 {
		return
	}
	n := p.Nodes[a%len(p.Nodes)]
	m := p.Nodes[b%len(p.Nodes)]
	if n == nil || m == nil {
		return
	}
	var e *program.Edge
	if len(p.Edges) > 0 {
		e = p.Edges[a%len(p.Edges)]
	}
	var ex *program.Expr
	if n.Calc != nil && len(n.Calc.Project) > 0 {
		ex = n.Calc.Project[b%len(n.Calc.Project)]
	}
	switch op % editOps {
	case 0:
		n.Op = []program.OpKind{program.OpSource, program.OpCalc, program.OpSink, "window"}[b%4]
	case 1:
		n.Source, n.Calc, n.Sink = m.Source, m.Calc, m.Sink
	case 2:
		switch b % 3 {
		case 0:
			n.Source = nil
		case 1:
			n.Calc = nil
		case 2:
			n.Sink = nil
		}
	case 3:
		if e != nil {
			e.Input = b%4 - 1
		}
	case 4:
		if e != nil {
			e.From, e.To = b%(len(p.Nodes)+1), a%(len(p.Nodes)+1)
		}
	case 5:
		n.Parallelism = b%5 - 1
	case 6:
		if ex != nil {
			ex.Op, ex.Col = program.ExprCol, a%6-1
		}
	case 7:
		if ex != nil {
			ex.Type = types.Type{Kind: types.Kind(a % 20)}
		}
	case 8:
		n.Updating = !n.Updating
	case 9:
		if e != nil {
			e.Kind = []program.EdgeKind{program.Forward, program.Shuffle, "broadcast"}[b%3]
			e.Keys = append(e.Keys, a%6-1)
		}
	case 10:
		if n.Schema != nil && n.Schema.Len() > 0 {
			n.Schema = types.NewSchema(n.Schema.Fields[1:]...)
		}
	case 11:
		if ex != nil {
			ex.Args = append(ex.Args, nil)
		} else {
			n.Watermark = &program.Watermark{Column: b%6 - 1, Lateness: time.Duration(a - 100)}
		}
	}
}

// TestFuzzSeedsRun: the seeds are programs a worker runs, so the fuzzer
// starts from the inside of Start, not from its first check.
func TestFuzzSeedsRun(t *testing.T) {
	t.Setenv("HOME", "/nonexistent")
	for _, p := range fuzzSeeds() {
		j, err := dataflow.Start(context.Background(), p, dataflow.Options{})
		if err != nil {
			t.Errorf("seed %s: %v", p.Name, err)
			continue
		}
		if err := wait(t, j); err != nil {
			t.Errorf("seed %s: %v", p.Name, err)
		}
	}
}
