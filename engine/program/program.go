// Package program defines the dataflow program: the serializable contract
// between the planner (which produces it), the controller (which schedules
// it) and the workers (which run it). A program is a DAG of nodes, each an
// operator with a parallelism, joined by forward or shuffle edges.
//
// It must not import the runtime or operators: a program is data.
package program

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// Program is a dataflow graph. Node IDs are indexes into Nodes.
type Program struct {
	Name string `json:"name"`
	// MaxKeyGroups is the number of key groups keyed shuffles and keyed
	// state partition keys into (engine/state). It bounds the useful
	// parallelism of a keyed operator and cannot change across a restore,
	// so it is fixed when the program is planned; 0 means the default,
	// state.MaxKeyGroups (128).
	MaxKeyGroups int     `json:"max_key_groups,omitempty"`
	Nodes        []*Node `json:"nodes"`
	Edges        []*Edge `json:"edges"`
}

// maxKeyGroupsLimit mirrors state.MaxKeyGroupsLimit; program is data and
// imports no engine package but types.
const maxKeyGroupsLimit = 1 << 15

// OpKind names an operator.
type OpKind string

const (
	OpSource OpKind = "source" // a connector source; Source is set
	OpCalc   OpKind = "calc"   // filter then project; Calc is set
	OpSink   OpKind = "sink"   // a connector sink; Sink is set
)

// Node is one operator of the program. Exactly one of the op-specific
// fields is set, matching Op.
type Node struct {
	ID          int    `json:"id"`
	Op          OpKind `json:"op"`
	Description string `json:"description"`
	Parallelism int    `json:"parallelism"`
	// Schema is the schema of the node's output batches. Its last field is
	// always types.TimestampField (sinks: the schema they receive).
	Schema *types.Schema `json:"schema"`

	Source *connector.Table `json:"source,omitempty"`
	// Watermark, for a source, says how its watermark is generated; nil:
	// from the hidden event-time column with DefaultLateness.
	Watermark *Watermark       `json:"watermark,omitempty"`
	Calc      *Calc            `json:"calc,omitempty"`
	Sink      *connector.Table `json:"sink,omitempty"`
}

// Calc filters its input, then computes its output columns. Filter and
// projection are fused into one operator so a row that fails the filter is
// never projected.
type Calc struct {
	// Filters are BOOLEAN expressions applied in order, each to the rows
	// the previous ones kept; rows where one is not TRUE are dropped. They
	// are separate (not one AND) so that fusing a view's filter with a
	// query's never evaluates the query's on rows the view dropped.
	Filters []*Expr `json:"filters,omitempty"`
	// Project computes the output columns, in order, over the input schema.
	Project []*Expr `json:"project"`
}

// EdgeKind says how batches move from the subtasks of one node to those of
// the next.
type EdgeKind string

const (
	// Forward connects subtask i to subtask i; both nodes must have the
	// same parallelism.
	Forward EdgeKind = "forward"
	// Shuffle hash-partitions rows by Keys across all downstream subtasks
	// (round-robin by batch when Keys is empty).
	Shuffle EdgeKind = "shuffle"
)

// Edge connects two nodes.
type Edge struct {
	From int      `json:"from"`
	To   int      `json:"to"`
	Kind EdgeKind `json:"kind"`
	Keys []int    `json:"keys,omitempty"`
}

// Inputs returns the edges into node id.
func (p *Program) Inputs(id int) []*Edge {
	var out []*Edge
	for _, e := range p.Edges {
		if e.To == id {
			out = append(out, e)
		}
	}
	return out
}

// Outputs returns the edges out of node id.
func (p *Program) Outputs(id int) []*Edge {
	var out []*Edge
	for _, e := range p.Edges {
		if e.From == id {
			out = append(out, e)
		}
	}
	return out
}

// Validate checks the structural invariants the runtime relies on.
func (p *Program) Validate() error {
	if p.MaxKeyGroups < 0 || p.MaxKeyGroups > maxKeyGroupsLimit {
		return fmt.Errorf("max key groups %d: want 1..%d (0: the default)", p.MaxKeyGroups, maxKeyGroupsLimit)
	}
	for i, n := range p.Nodes {
		if n.ID != i {
			return fmt.Errorf("node %d has id %d", i, n.ID)
		}
		if n.Parallelism < 1 {
			return fmt.Errorf("node %d (%s): parallelism %d", i, n.Description, n.Parallelism)
		}
		set := 0
		for _, b := range []bool{n.Source != nil, n.Calc != nil, n.Sink != nil} {
			if b {
				set++
			}
		}
		if set != 1 {
			return fmt.Errorf("node %d (%s): expected exactly one operator config", i, n.Description)
		}
		if n.Schema == nil || n.Schema.Len() == 0 || n.Schema.TimestampIndex() != n.Schema.Len()-1 {
			return fmt.Errorf("node %d (%s): schema must end with %s", i, n.Description, types.TimestampField)
		}
		if w := n.Watermark; w != nil {
			if n.Op != OpSource {
				return fmt.Errorf("node %d (%s): only a source has a watermark", i, n.Description)
			}
			if w.Column < 0 || w.Column >= n.Schema.Len() || n.Schema.Fields[w.Column].Type.Kind != types.Timestamp {
				return fmt.Errorf("node %d (%s): watermark column %d is not a TIMESTAMP column", i, n.Description, w.Column)
			}
			if w.Lateness < 0 {
				return fmt.Errorf("node %d (%s): negative watermark lateness %s", i, n.Description, w.Lateness)
			}
		}
		ins := len(p.Inputs(i))
		switch n.Op {
		case OpSource:
			if ins != 0 {
				return fmt.Errorf("node %d (%s): a source has no inputs", i, n.Description)
			}
		default:
			if ins == 0 {
				return fmt.Errorf("node %d (%s): no inputs", i, n.Description)
			}
		}
	}
	for _, e := range p.Edges {
		if e.From < 0 || e.From >= len(p.Nodes) || e.To < 0 || e.To >= len(p.Nodes) {
			return fmt.Errorf("edge %d->%d: no such node", e.From, e.To)
		}
		switch e.Kind {
		case Forward:
			if p.Nodes[e.From].Parallelism != p.Nodes[e.To].Parallelism {
				return fmt.Errorf("forward edge %d->%d joins different parallelisms", e.From, e.To)
			}
		case Shuffle:
			for _, k := range e.Keys {
				if k < 0 || k >= p.Nodes[e.From].Schema.Len() {
					return fmt.Errorf("shuffle edge %d->%d: key column %d out of range", e.From, e.To, k)
				}
			}
		default:
			return fmt.Errorf("edge %d->%d: unknown kind %q", e.From, e.To, e.Kind)
		}
	}
	return p.checkAcyclic()
}

// checkAcyclic rejects cycles, which would never see end of stream.
func (p *Program) checkAcyclic() error {
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(p.Nodes))
	var visit func(id int) error
	visit = func(id int) error {
		switch state[id] {
		case visiting:
			return fmt.Errorf("node %d (%s) is part of a cycle", id, p.Nodes[id].Description)
		case done:
			return nil
		}
		state[id] = visiting
		for _, e := range p.Outputs(id) {
			if err := visit(e.To); err != nil {
				return err
			}
		}
		state[id] = done
		return nil
	}
	for id := range p.Nodes {
		if err := visit(id); err != nil {
			return err
		}
	}
	return nil
}

// Marshal encodes the program as JSON.
func (p *Program) Marshal() ([]byte, error) { return json.MarshalIndent(p, "", "  ") }

// Unmarshal decodes a program encoded by Marshal and validates it.
func Unmarshal(data []byte) (*Program, error) {
	var p Program
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decode program: %w", err)
	}
	return &p, p.Validate()
}

// DefaultLateness is the lateness of a source that declares no watermark
// expression: its watermark is the largest event time seen minus one second
// (Arroyo's default).
const DefaultLateness = time.Second

// Watermark says how a source's watermark is generated: periodically, the
// largest value of column Column seen so far minus Lateness.
type Watermark struct {
	// Column is the index, in the source's output schema, of the event-time
	// column (a TIMESTAMP).
	Column int `json:"column"`
	// Lateness is how far the watermark trails the largest event time.
	Lateness time.Duration `json:"lateness"`
}
