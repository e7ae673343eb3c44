package program_test

import (
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
	"github.com/arroyogo/arroyo/engine/types"
)

// TestKeyGroupsLimit keeps program's limit on MaxKeyGroups (program imports
// no engine package but types and connector) equal to engine/state's.
func TestKeyGroupsLimit(t *testing.T) {
	schema := types.NewSchema(types.Field{Name: types.TimestampField, Type: types.TimestampT})
	p := &program.Program{Version: program.Version, Nodes: []*program.Node{{ID: 0, OperatorID: "c", Op: program.OpCalc, Parallelism: 1, Schema: schema, Calc: &program.Calc{}}}}
	for _, k := range []int{0, 1, state.MaxKeyGroups, state.MaxKeyGroupsLimit} {
		p.MaxKeyGroups = k
		if err := p.Validate(); err != nil && strings.Contains(err.Error(), "max key groups") {
			t.Errorf("%d key groups: %v", k, err)
		}
	}
	p.MaxKeyGroups = state.MaxKeyGroupsLimit + 1
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "max key groups") {
		t.Errorf("%d key groups: %v", p.MaxKeyGroups, err)
	}
	// What Validate accepts, a state store accepts.
	if _, err := state.New(state.Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: state.MaxKeyGroupsLimit}, nil); err != nil {
		t.Errorf("state.New at the limit: %v", err)
	}
}
