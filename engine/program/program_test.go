package program

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/types"
)

var (
	testCols   = []types.Field{{Name: "a", Type: types.Int64T}}
	testTS     = types.Field{Name: types.TimestampField, Type: types.TimestampT}
	testSchema = types.NewSchema(testCols[0], testTS)
)

func col(i int, t types.Type) *Expr { return &Expr{Op: ExprCol, Col: i, Type: t} }

// validProgram is source -> calc -> sink over (a BIGINT, _timestamp).
func validProgram() *Program {
	table := func(name string) *Table {
		return &Table{Name: name, Connector: "x", Schema: types.NewSchema(testCols...)}
	}
	p := &Program{Version: Version, Name: "t", Nodes: []*Node{
		{ID: 0, OperatorID: "src", Op: OpSource, Description: "source 'in'", Parallelism: 1, Schema: testSchema, Source: table("in")},
		{ID: 1, OperatorID: "calc", Op: OpCalc, Description: "calc", Parallelism: 2, Schema: testSchema,
			Calc: &Calc{Project: []*Expr{col(0, types.Int64T), col(1, types.TimestampT)}}},
		{ID: 2, OperatorID: "sink", Op: OpSink, Description: "sink 'out'", Parallelism: 2, Schema: testSchema, Sink: table("out")},
	}}
	p.Connect(0, 1, Shuffle, 0)
	p.Connect(1, 2, Forward)
	return p
}

func TestValidateAcceptsValid(t *testing.T) {
	if err := validProgram().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	calc := func(id, p int) *Node {
		return &Node{ID: id, OperatorID: string(rune('a' + id)), Op: OpCalc, Description: "calc", Parallelism: p, Schema: testSchema,
			Calc: &Calc{Project: []*Expr{col(0, types.Int64T), col(1, types.TimestampT)}}}
	}
	two := func(edges ...*Edge) *Program {
		return &Program{Version: Version, Nodes: []*Node{calc(0, 1), calc(1, 1)}, Edges: edges}
	}
	updating := types.NewSchema(testCols[0], types.Field{Name: ChangeKindField, Type: ChangeKindType}, testTS)
	cases := []struct {
		name string
		edit func(p *Program)
		want string
	}{
		{"unknown version", func(p *Program) { p.Version = Version + 1 }, "program version 2: this worker runs version 1"},
		{"no version", func(p *Program) { p.Version = 0 }, "program version 0"},
		{"calc with a sink config", func(p *Program) { p.Nodes[1].Calc, p.Nodes[1].Sink = nil, p.Nodes[2].Sink }, "a calc node has exactly one config, its calc; it has [sink]"},
		{"calc with two configs", func(p *Program) { p.Nodes[1].Sink = p.Nodes[2].Sink }, "it has [calc sink]"},
		{"source without config", func(p *Program) { p.Nodes[0].Source = nil }, "a source node has exactly one config"},
		{"unknown op", func(p *Program) { p.Nodes[1].Op = "window" }, `unknown operator "window"`},
		{"projection count", func(p *Program) { p.Nodes[1].Calc.Project = p.Nodes[1].Calc.Project[:1] }, "calc projects 1 columns, its schema has 2 (1 visible + 1 hidden)"},
		{"projected type", func(p *Program) { p.Nodes[1].Calc.Project[0] = col(1, types.TimestampT) }, "column 0 (a) is BIGINT but computed as TIMESTAMP"},
		{"column out of range", func(p *Program) { p.Nodes[1].Calc.Project[0] = col(7, types.Int64T) }, "column #7: the input has 2 columns"},
		{"column read as another type", func(p *Program) { p.Nodes[1].Calc.Project[0] = col(0, types.Int32T) }, "column #0 is BIGINT, read as INT"},
		{"missing argument", func(p *Program) {
			p.Nodes[1].Calc.Project[0] = &Expr{Op: ExprCall, Func: "+", Type: types.Int64T, Args: []*Expr{col(0, types.Int64T), nil}}
		}, "missing expression"},
		{"filter not boolean", func(p *Program) { p.Nodes[1].Calc.Filters = []*Expr{col(0, types.Int64T)} }, "filter #0 is BIGINT, not BOOLEAN"},
		{"source schema differs from its table", func(p *Program) { p.Nodes[0].Source.Schema = types.NewSchema() }, "table 'in' has 0 columns, the stream 1 visible ones"},
		{"no operator id", func(p *Program) { p.Nodes[1].OperatorID = "" }, "node 1 (calc): no operator id"},
		{"duplicate operator id", func(p *Program) { p.Nodes[2].OperatorID = "src" }, `operator id "src" is also node 0's`},
		{"input slot gap", func(p *Program) { p.Edges[1].Input = 1 }, "input slots must be 0..0, one edge each; edge 1->2 has slot 1"},
		{"input slot twice", func(p *Program) {
			p.Nodes[2].Parallelism = 1
			p.Nodes[1].Parallelism = 1
			p.Edges = append(p.Edges, &Edge{From: 0, To: 2, Input: 0, Kind: Forward})
		}, "edge 0->2 has slot 0"},
		{"forward edge with keys", func(p *Program) { p.Edges[1].Keys = []int{0} }, "forward edge 1->2 has keys"},
		{"updating without change kind", func(p *Program) { p.Nodes[1].Updating = true }, "an updating stream's schema must end with _op TINYINT, _timestamp"},
		{"updating into a sink", func(p *Program) {
			p.Nodes[0].Updating, p.Nodes[0].Schema = true, updating
			n := p.Nodes[1]
			n.Updating, n.Schema = true, updating
			n.Calc.Project = []*Expr{col(0, types.Int64T), col(1, ChangeKindType), col(2, types.TimestampT)}
		}, "node 2 (sink 'out'): calc emits an updating stream (a changelog), which append-only sink connector 'x' cannot write"},
		{"append-only into an updating sink", func(p *Program) {
			n := p.Nodes[2]
			n.Updating, n.Schema = true, updating
		}, "node 2 (sink 'out'): an updating sink, but calc emits an append-only stream"},
		{"updating calc over an append-only stream", func(p *Program) {
			n := p.Nodes[1]
			n.Updating, n.Schema = true, updating
			n.Calc.Project = []*Expr{col(0, types.Int64T), {Op: ExprLit, Type: ChangeKindType, Value: json.RawMessage("0")}, col(1, types.TimestampT)}
			p.Nodes[2].Updating, p.Nodes[2].Schema = true, updating
		}, "node 1 (calc): a calc is updating exactly when its input is; source 'in' has updating = false"},
		{"duplicate udf", func(p *Program) { p.UDFs = []UDF{{Name: "f", ModuleHash: "1"}, {Name: "f", ModuleHash: "2"}} }, `function "f" listed twice`},
		{"udf without hash", func(p *Program) { p.UDFs = []UDF{{Name: "f"}} }, `entry "f" needs a name and a module hash`},
		{"null node", func(p *Program) { p.Nodes[1] = nil }, "node 1: null"},
		{"null edge", func(p *Program) { p.Edges[0] = nil }, "null edge"},
		{"negative key groups", func(p *Program) { p.MaxKeyGroups = -1 }, "max key groups -1: want 1..32768"},
		{"too many key groups", func(p *Program) { p.MaxKeyGroups = 1<<15 + 1 }, "max key groups 32769"},
		{"schema without event time", func(p *Program) { p.Nodes[1].Schema = types.NewSchema() }, "schema must end with _timestamp"},
		{"calc without inputs", func(p *Program) { p.Edges = p.Edges[1:] }, "node 1 (calc): no inputs"},
		{"edge to no node", func(p *Program) { p.Edges[0].To = 9 }, "edge 0->9: no such node"},
		// Types come off the wire: a list without an element type must be
		// an error, not a nil dereference in Type.Equal or String.
		{"list without element type", func(p *Program) {
			bad := types.Type{Kind: types.List}
			p.Nodes[1].Schema = types.NewSchema(types.Field{Name: "a", Type: bad}, testTS)
			p.Nodes[1].Calc.Project[0] = &Expr{Op: ExprLit, Type: bad, Value: json.RawMessage("null")}
		}, "node 1 (calc): column a: a LIST type needs an element type"},
		{"expression of no type", func(p *Program) { p.Nodes[1].Calc.Project[0] = &Expr{Op: ExprLit, Value: json.RawMessage("1")} }, "column 0: lit expression: invalid type INVALID"},
		{"unknown kind", func(p *Program) {
			p.Nodes[0].Schema = types.NewSchema(types.Field{Name: "a", Type: types.Type{Kind: 99}}, testTS)
		}, "node 0 (source 'in'): column a: invalid type Kind(99)"},
		{"bad struct field", func(p *Program) {
			st := types.StructOf(types.Field{Name: "x", Type: types.Int64T})
			p.Nodes[1].Calc.Project[0] = &Expr{Op: ExprField, Field: 3, Type: types.Int64T, Args: []*Expr{{Op: ExprLit, Type: st, Value: json.RawMessage("null")}}}
		}, "column 0: field 3 of a struct of 1 fields"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := validProgram()
			c.edit(p)
			err := p.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, c.want)
			}
		})
	}
	graphs := []struct {
		name string
		prog *Program
		want string
	}{
		{"cycle", two(&Edge{From: 0, To: 1, Kind: Forward}, &Edge{From: 1, To: 0, Kind: Forward}), "cycle"},
		{"unknown edge kind", two(&Edge{From: 0, To: 1, Kind: "fwd"}, &Edge{From: 1, To: 0, Kind: Forward}), `unknown kind "fwd"`},
		{"forward across parallelism", &Program{Version: Version, Nodes: []*Node{calc(0, 1), calc(1, 2)}, Edges: []*Edge{{From: 0, To: 1, Kind: Forward}, {From: 1, To: 0, Kind: Shuffle}}}, "different parallelisms"},
		{"key out of range", two(&Edge{From: 0, To: 1, Kind: Shuffle, Keys: []int{5}}, &Edge{From: 1, To: 0, Kind: Shuffle}), "key column 5 out of range"},
	}
	for _, c := range graphs {
		t.Run(c.name, func(t *testing.T) {
			err := c.prog.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestInputSlotsSurviveReordering: the slot is a field of the edge, so a
// program whose edges arrive in another order means the same.
func TestInputSlotsSurviveReordering(t *testing.T) {
	p := validProgram()
	p.Nodes[1].Parallelism, p.Nodes[2].Parallelism = 1, 1
	p.Nodes = append(p.Nodes, &Node{ID: 3, OperatorID: "src2", Op: OpSource, Description: "source 'in2'", Parallelism: 1, Schema: testSchema,
		Source: &Table{Name: "in2", Connector: "x", Schema: types.NewSchema(testCols...)}})
	e := p.Connect(3, 1, Forward)
	if e.Input != 1 {
		t.Fatalf("second input of node 1 got slot %d", e.Input)
	}
	p.Edges[0], p.Edges[2] = p.Edges[2], p.Edges[0]
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := p.String(); !strings.Contains(got, "<- 0 shuffle[0], 3 forward") {
		t.Errorf("inputs not listed in slot order:\n%s", got)
	}
}

// TestCheckTypeKnowsEveryKind: Validate accepts every kind types names and
// rejects the first it does not, so a new kind cannot be refused (or an
// unknown one let through) unnoticed.
func TestCheckTypeKnowsEveryKind(t *testing.T) {
	k := types.Kind(1)
	for ; !strings.HasPrefix(k.String(), "Kind("); k++ {
		typ := types.Type{Kind: k}
		switch k {
		case types.List:
			typ = types.ListOf(types.Int64T)
		case types.Struct:
			typ = types.StructOf(types.Field{Name: "x", Type: types.Int64T})
		case types.Decimal:
			typ = types.DecimalOf(10, 2)
		}
		if err := checkType(typ); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	if err := checkType(types.Type{Kind: k}); err == nil {
		t.Errorf("unnamed kind %d accepted", k)
	}
	for _, bad := range []types.Type{{Kind: types.Decimal}, types.DecimalOf(39, 0), types.DecimalOf(5, 6), types.ListOf(types.DecimalOf(0, 0))} {
		if err := checkType(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if err := checkType(types.DecimalOf(38, 38)); err != nil {
		t.Error(err)
	}
}
