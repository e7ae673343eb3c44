package program

import (
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/types"
)

func TestValidate(t *testing.T) {
	schema := types.NewSchema(types.Field{Name: "a", Type: types.Int64T}, types.Field{Name: types.TimestampField, Type: types.TimestampT})
	calc := func(id, p int) *Node {
		return &Node{ID: id, Op: OpCalc, Description: "calc", Parallelism: p, Schema: schema, Calc: &Calc{}}
	}
	cases := []struct {
		name string
		prog *Program
		want string
	}{
		{"cycle", &Program{Nodes: []*Node{calc(0, 1), calc(1, 1)}, Edges: []*Edge{{From: 0, To: 1, Kind: Forward}, {From: 1, To: 0, Kind: Forward}}}, "cycle"},
		{"unknown edge kind", &Program{Nodes: []*Node{calc(0, 1), calc(1, 1)}, Edges: []*Edge{{From: 0, To: 1, Kind: "fwd"}, {From: 1, To: 0, Kind: Forward}}}, `unknown kind "fwd"`},
		{"forward across parallelism", &Program{Nodes: []*Node{calc(0, 1), calc(1, 2)}, Edges: []*Edge{{From: 0, To: 1, Kind: Forward}, {From: 1, To: 0, Kind: Shuffle}}}, "different parallelisms"},
		{"key out of range", &Program{Nodes: []*Node{calc(0, 1), calc(1, 2)}, Edges: []*Edge{{From: 0, To: 1, Kind: Shuffle, Keys: []int{5}}, {From: 1, To: 0, Kind: Shuffle}}}, "key column 5 out of range"},
		{"no inputs", &Program{Nodes: []*Node{calc(0, 1)}}, "no inputs"},
		{"negative key groups", &Program{MaxKeyGroups: -1, Nodes: []*Node{calc(0, 1)}}, "max key groups -1: want 1..32768"},
		{"too many key groups", &Program{MaxKeyGroups: 1<<15 + 1, Nodes: []*Node{calc(0, 1)}}, "max key groups 32769"},
		{"schema without event time", &Program{Nodes: []*Node{{ID: 0, Op: OpCalc, Parallelism: 1, Schema: types.NewSchema(), Calc: &Calc{}}}}, "schema must end with _timestamp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.prog.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, c.want)
			}
		})
	}
}
