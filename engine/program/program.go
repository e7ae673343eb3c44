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

	"github.com/arroyogo/arroyo/engine/types"
)

// ChangeKindField is the hidden column of an updating stream, just before
// types.TimestampField: what the row is a change of. Its values
// (ChangeKindType, not null) are ChangeInsert, ChangeUpdateBefore (the old
// row of an update, or a retraction), ChangeUpdateAfter (the new row of an
// update) and ChangeDelete; an update is the pair before, after, adjacent
// in one batch. A sink encodes it (debezium_json: c/u/d with before and
// after); no other operator reads it by name. Append-only streams have no
// such column.
const ChangeKindField = "_op"

// ChangeKindType is the type of ChangeKindField.
var ChangeKindType = types.Int8T

// The values of ChangeKindField.
const (
	ChangeInsert       int8 = 0
	ChangeUpdateBefore int8 = 1
	ChangeUpdateAfter  int8 = 2
	ChangeDelete       int8 = 3
)

// Version is the version of the program format this build writes and runs.
// A worker refuses a program of any other version (Validate): a program is
// a wire contract between the planner and workers that may be of different
// builds, and a field it does not know could change what a node computes.
// Bump it whenever a change to these types changes the meaning of a
// program an older worker would accept.
const Version = 1

// Program is a dataflow graph. Node IDs are indexes into Nodes.
type Program struct {
	// Version is the format version (the constant Version when planned).
	Version int    `json:"version"`
	Name    string `json:"name"`
	// MaxKeyGroups is the number of key groups keyed shuffles and keyed
	// state partition keys into (engine/state). It bounds the useful
	// parallelism of a keyed operator and cannot change across a restore,
	// so it is fixed when the program is planned; 0 means the default,
	// state.MaxKeyGroups (128).
	MaxKeyGroups int     `json:"max_key_groups,omitempty"`
	Nodes        []*Node `json:"nodes"`
	Edges        []*Edge `json:"edges"`
	// UDFs is the manifest of the user-defined functions the program's
	// expressions may call: a worker loads exactly these modules and checks
	// their hashes. Empty until the UDF issue.
	UDFs []UDF `json:"udfs,omitempty"`
}

// UDF is one entry of the UDF manifest.
type UDF struct {
	// Name is the function's SQL name, unique in the program.
	Name string `json:"name"`
	// ModuleHash identifies the wasm module that implements it (a hex
	// SHA-256 of its bytes), so a worker never runs a different module
	// under the same name.
	ModuleHash string `json:"module_hash"`
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

// OpKinds lists every operator kind, for tests that must cover each (every
// kind must have a checkpoint/restore case: spec TestEveryOperatorCheckpointed).
var OpKinds = []OpKind{OpSource, OpCalc, OpSink, OpAggregate, OpJoin, OpWindowFunc}

// Node is one operator of the program. Exactly one of the op-specific
// fields is set, matching Op.
type Node struct {
	ID int `json:"id"`
	// OperatorID is the node's stable identity: state and metrics are keyed
	// by it, so re-planning the same SQL gives the same ids, and an edit
	// elsewhere in the file leaves it alone (see AssignOperatorIDs for the
	// rule). Unique in the program.
	OperatorID  string `json:"operator_id"`
	Op          OpKind `json:"op"`
	Description string `json:"description"`
	Parallelism int    `json:"parallelism"`
	// Schema is the schema of the node's output batches. Its last field is
	// always types.TimestampField (sinks: the schema they receive). An
	// updating node's field before it is ChangeKindField.
	Schema *types.Schema `json:"schema"`
	// Updating marks a changelog stream: every row is a change (see
	// ChangeKindField) to a row identified by the stream's key, as emitted
	// by a non-windowed aggregate or an updating join. Only a sink whose
	// format encodes changes (debezium_json) may receive one.
	Updating bool `json:"updating,omitempty"`

	Source *Table `json:"source,omitempty"`
	// Watermark, for a source, says how its watermark is generated; nil:
	// from the hidden event-time column with DefaultLateness.
	Watermark *Watermark `json:"watermark,omitempty"`
	Calc      *Calc      `json:"calc,omitempty"`
	Aggregate *Aggregate `json:"aggregate,omitempty"`
	Join      *Join      `json:"join,omitempty"`
	// WindowFunc is set for OpWindowFunc.
	WindowFunc *WindowFunc `json:"window_func,omitempty"`
	Sink       *Table      `json:"sink,omitempty"`
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
	// Unnest, when > 0, makes column Unnest-1 an UNNEST: its projected
	// value is a list, and each row becomes one row per element (the
	// column holding the element, the others repeated); a NULL or empty
	// list gives no row.
	Unnest int `json:"unnest,omitempty"`
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
	From int `json:"from"`
	To   int `json:"to"`
	// Input is the input slot of To this edge feeds: the inputs of a node
	// are numbered 0..k-1, and an operator is told the slot of every batch
	// (a join's left is 0, right 1). It is explicit, not the order of
	// Edges, so reordering edges on the wire cannot swap a join's sides.
	Input int      `json:"input"`
	Kind  EdgeKind `json:"kind"`
	Keys  []int    `json:"keys,omitempty"`
}

// Connect adds an edge from -> to on the next free input slot of to.
func (p *Program) Connect(from, to int, kind EdgeKind, keys ...int) *Edge {
	e := &Edge{From: from, To: to, Input: len(p.Inputs(to)), Kind: kind, Keys: keys}
	p.Edges = append(p.Edges, e)
	return e
}

// Inputs returns the edges into node id, in the order of Edges (not
// necessarily of their Input slots).
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

// Validate checks the structural invariants the runtime relies on. A
// worker validates every program before building anything from it, so any
// program that passes can be started without a panic; one that fails is an
// error naming the node or edge.
func (p *Program) Validate() error {
	if p.Version != Version {
		return fmt.Errorf("program version %d: this worker runs version %d (plan the pipeline again with this release)", p.Version, Version)
	}
	if p.MaxKeyGroups < 0 || p.MaxKeyGroups > maxKeyGroupsLimit {
		return fmt.Errorf("max key groups %d: want 1..%d (0: the default)", p.MaxKeyGroups, maxKeyGroupsLimit)
	}
	udfs := map[string]bool{}
	for _, u := range p.UDFs {
		if u.Name == "" || u.ModuleHash == "" {
			return fmt.Errorf("udf manifest: entry %q needs a name and a module hash", u.Name)
		}
		if udfs[u.Name] {
			return fmt.Errorf("udf manifest: function %q listed twice", u.Name)
		}
		udfs[u.Name] = true
	}
	for _, e := range p.Edges {
		if e == nil {
			return fmt.Errorf("null edge")
		}
		if e.From < 0 || e.From >= len(p.Nodes) || e.To < 0 || e.To >= len(p.Nodes) {
			return fmt.Errorf("edge %d->%d: no such node", e.From, e.To)
		}
	}
	ids := map[string]int{}
	for i, n := range p.Nodes {
		if n == nil {
			return fmt.Errorf("node %d: null", i)
		}
		if n.ID != i {
			return fmt.Errorf("node %d has id %d", i, n.ID)
		}
		if n.OperatorID == "" {
			return fmt.Errorf("node %d (%s): no operator id", i, n.Description)
		}
		if prev, ok := ids[n.OperatorID]; ok {
			return fmt.Errorf("node %d (%s): operator id %q is also node %d's", i, n.Description, n.OperatorID, prev)
		}
		ids[n.OperatorID] = i
		if n.Parallelism < 1 {
			return fmt.Errorf("node %d (%s): parallelism %d", i, n.Description, n.Parallelism)
		}
		if err := p.checkNode(n); err != nil {
			return fmt.Errorf("node %d (%s): %w", i, n.Description, err)
		}
	}
	for _, e := range p.Edges {
		from := p.Nodes[e.From]
		switch e.Kind {
		case Forward:
			if from.Parallelism != p.Nodes[e.To].Parallelism {
				return fmt.Errorf("forward edge %d->%d joins different parallelisms", e.From, e.To)
			}
			if len(e.Keys) > 0 {
				return fmt.Errorf("forward edge %d->%d has keys; only a shuffle partitions by key", e.From, e.To)
			}
		case Shuffle:
			for _, k := range e.Keys {
				if k < 0 || k >= from.Schema.Len() {
					return fmt.Errorf("shuffle edge %d->%d: key column %d out of range", e.From, e.To, k)
				}
			}
		default:
			return fmt.Errorf("edge %d->%d: unknown kind %q", e.From, e.To, e.Kind)
		}
	}
	return p.checkAcyclic()
}

// checkNode checks one node's config against its op, its schema and its
// inputs.
func (p *Program) checkNode(n *Node) error {
	s := n.Schema
	if s == nil || s.Len() == 0 || s.TimestampIndex() != s.Len()-1 {
		return fmt.Errorf("schema must end with %s", types.TimestampField)
	}
	for _, f := range s.Fields {
		if err := checkType(f.Type); err != nil {
			return fmt.Errorf("column %s: %w", f.Name, err)
		}
	}
	hidden := 1
	if n.Updating {
		hidden = 2
		if s.Len() < 2 || s.Fields[s.Len()-2].Name != ChangeKindField || s.Fields[s.Len()-2].Type.Kind != ChangeKindType.Kind {
			return fmt.Errorf("an updating stream's schema must end with %s %s, %s", ChangeKindField, ChangeKindType, types.TimestampField)
		}
	}
	var configs []string
	if n.Source != nil {
		configs = append(configs, "source")
	}
	if n.Calc != nil {
		configs = append(configs, "calc")
	}
	if n.Sink != nil {
		configs = append(configs, "sink")
	}
	if n.Aggregate != nil {
		configs = append(configs, "aggregate")
	}
	if n.Join != nil {
		configs = append(configs, "join")
	}
	if n.WindowFunc != nil {
		configs = append(configs, "window_func")
	}
	if len(configs) != 1 || configs[0] != string(n.Op) {
		switch n.Op {
		case OpSource, OpCalc, OpSink, OpAggregate, OpJoin, OpWindowFunc:
		default:
			return fmt.Errorf("unknown operator %q", n.Op)
		}
		return fmt.Errorf("a %s node has exactly one config, its %s; it has %v", n.Op, n.Op, configs)
	}
	if w := n.Watermark; w != nil {
		if n.Op != OpSource {
			return fmt.Errorf("only a source has a watermark")
		}
		if w.Column < 0 || w.Column >= s.Len() || s.Fields[w.Column].Type.Kind != types.Timestamp {
			return fmt.Errorf("watermark column %d is not a TIMESTAMP column", w.Column)
		}
		if w.Lateness < 0 {
			return fmt.Errorf("negative watermark lateness %s", w.Lateness)
		}
	}
	ins := p.Inputs(n.ID)
	// Input slots are 0..k-1, each fed by exactly one edge.
	slots := make([]bool, len(ins))
	for _, e := range ins {
		if e.Input < 0 || e.Input >= len(ins) || slots[e.Input] {
			return fmt.Errorf("input slots must be 0..%d, one edge each; edge %d->%d has slot %d", len(ins)-1, e.From, e.To, e.Input)
		}
		slots[e.Input] = true
		// A calc passes a changelog through; a sink takes one only if it
		// is updating itself (its schema carries the change column: the
		// planner decides which formats encode changes).
		switch in := p.Nodes[e.From]; {
		case n.Op == OpSink && in.Updating && !n.Updating:
			return fmt.Errorf("%s emits an updating stream (a changelog), which append-only sink connector '%s' cannot write", in.Description, n.Sink.Connector)
		case n.Op == OpSink && !in.Updating && n.Updating:
			return fmt.Errorf("an updating sink, but %s emits an append-only stream", in.Description)
		case n.Op == OpCalc && in.Updating != n.Updating:
			return fmt.Errorf("a calc is updating exactly when its input is; %s has updating = %t", in.Description, in.Updating)
		}
	}
	switch n.Op {
	case OpSource:
		if len(ins) != 0 {
			return fmt.Errorf("a source has no inputs")
		}
		if err := checkTable(n.Source, s, hidden); err != nil {
			return err
		}
	case OpSink:
		if len(ins) == 0 {
			return fmt.Errorf("no inputs")
		}
		if err := checkTable(n.Sink, s, hidden); err != nil {
			return err
		}
	case OpWindowFunc:
		if len(ins) != 1 {
			return fmt.Errorf("a window function node has one input, not %d", len(ins))
		}
		in := p.Nodes[ins[0].From]
		if in.Updating || n.Updating {
			return fmt.Errorf("window functions neither read nor emit an updating stream")
		}
		if err := checkWindowFunc(n.WindowFunc, in.Schema, s); err != nil {
			return err
		}
	case OpJoin:
		if len(ins) != 2 {
			return fmt.Errorf("a join has two inputs, not %d", len(ins))
		}
		var sides [2]*Node
		for _, e := range ins {
			sides[e.Input] = p.Nodes[e.From]
		}
		if err := checkJoin(n.Join, sides[0], sides[1], n, n.Updating); err != nil {
			return err
		}
	case OpAggregate:
		if len(ins) != 1 {
			return fmt.Errorf("an aggregate has one input, not %d", len(ins))
		}
		if err := checkAggregate(n.Aggregate, p.Nodes[ins[0].From].Schema, s, n.Updating, p.Nodes[ins[0].From].Updating); err != nil {
			return err
		}
	case OpCalc:
		if len(ins) == 0 {
			return fmt.Errorf("no inputs")
		}
		c := n.Calc
		// The planner appends the hidden columns to every projection, so
		// a calc computes every column of its schema.
		if len(c.Project) != s.Len() {
			return fmt.Errorf("calc projects %d columns, its schema has %d (%d visible + %d hidden)", len(c.Project), s.Len(), s.Len()-hidden, hidden)
		}
		in := p.Nodes[ins[0].From].Schema
		for _, e := range ins[1:] {
			if !sameTypes(p.Nodes[e.From].Schema, in) {
				return fmt.Errorf("inputs %d and %d have different schemas %s and %s", ins[0].From, e.From, in, p.Nodes[e.From].Schema)
			}
		}
		for _, f := range c.Filters {
			if err := checkExpr(f, in); err != nil {
				return fmt.Errorf("filter: %w", err)
			}
			if f.Type.Kind != types.Bool {
				return fmt.Errorf("filter %s is %s, not BOOLEAN", f, f.Type)
			}
		}
		if c.Unnest < 0 || c.Unnest > len(c.Project) || (c.Unnest > 0 && (c.Project[c.Unnest-1].Type.Kind != types.List || c.Project[c.Unnest-1].Type.Elem == nil || n.Updating)) {
			return fmt.Errorf("unnest column %d is not a list column of an append-only calc", c.Unnest)
		}
		for i, e := range c.Project {
			if err := checkExpr(e, in); err != nil {
				return fmt.Errorf("column %d: %w", i, err)
			}
			if i == c.Unnest-1 {
				if !e.Type.Elem.Equal(s.Fields[i].Type) {
					return fmt.Errorf("unnest column %d (%s) is %s but its elements are %s", i, s.Fields[i].Name, s.Fields[i].Type, *e.Type.Elem)
				}
				continue
			}
			if !e.Type.Equal(s.Fields[i].Type) {
				return fmt.Errorf("column %d (%s) is %s but computed as %s", i, s.Fields[i].Name, s.Fields[i].Type, e.Type)
			}
		}
	}
	return nil
}

// checkTable checks a source's or sink's table against the node's schema:
// the table's columns followed by the hidden ones.
func checkTable(t *Table, s *types.Schema, hidden int) error {
	if t.Connector == "" {
		return fmt.Errorf("table '%s' names no connector", t.Name)
	}
	if t.Schema == nil {
		return fmt.Errorf("table '%s' has no schema", t.Name)
	}
	for _, f := range t.Schema.Fields {
		if err := checkType(f.Type); err != nil {
			return fmt.Errorf("table '%s' column %s: %w", t.Name, f.Name, err)
		}
	}
	if t.Schema.Len() != s.Len()-hidden {
		return fmt.Errorf("table '%s' has %d columns, the stream %d visible ones", t.Name, t.Schema.Len(), s.Len()-hidden)
	}
	for i, f := range t.Schema.Fields {
		if !f.Type.Equal(s.Fields[i].Type) {
			return fmt.Errorf("table '%s' column %s is %s, the stream's is %s", t.Name, f.Name, f.Type, s.Fields[i].Type)
		}
	}
	return nil
}

func sameTypes(a, b *types.Schema) bool {
	if a.Len() != b.Len() {
		return false
	}
	for i := range a.Fields {
		if !a.Fields[i].Type.Equal(b.Fields[i].Type) {
			return false
		}
	}
	return true
}

// checkType rejects what no kernel or vector constructor handles: an
// unknown kind, a list without element type, a DECIMAL whose precision or
// scale is out of range, and those nested in lists and structs.
func checkType(t types.Type) error {
	switch {
	case t.Kind == types.Invalid || t.Kind > types.LastKind: // TestCheckTypeKnowsEveryKind
		return fmt.Errorf("invalid type %s", t.Kind)
	case t.Kind == types.List:
		if t.Elem == nil {
			return fmt.Errorf("a LIST type needs an element type")
		}
		return checkType(*t.Elem)
	case t.Kind == types.Decimal:
		if t.Precision < 1 || t.Precision > types.MaxDecimalPrecision || t.Scale > t.Precision {
			return fmt.Errorf("invalid type %s (precision 1 to %d, scale 0 to the precision)", t, types.MaxDecimalPrecision)
		}
	case t.Kind == types.Struct:
		for _, f := range t.Fields {
			if err := checkType(f.Type); err != nil {
				return fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
	}
	return nil
}

// checkExpr checks what the expression compiler trusts: no missing
// arguments and every column read exists in the input with the type the
// expression says. Function signatures are engine/expr's to check.
func checkExpr(e *Expr, in *types.Schema) error {
	if e == nil {
		return fmt.Errorf("missing expression")
	}
	// Before anything prints or compares the type (Type.Equal and String
	// trust a list's element type).
	if err := checkType(e.Type); err != nil {
		return fmt.Errorf("%s expression: %w", e.Op, err)
	}
	for _, a := range e.Args {
		if err := checkExpr(a, in); err != nil {
			return err
		}
	}
	switch e.Op {
	case ExprCol:
		if e.Col < 0 || e.Col >= in.Len() {
			return fmt.Errorf("column #%d: the input has %d columns", e.Col, in.Len())
		}
		if !e.Type.Equal(in.Fields[e.Col].Type) {
			return fmt.Errorf("column #%d is %s, read as %s", e.Col, in.Fields[e.Col].Type, e.Type)
		}
	case ExprField:
		if len(e.Args) != 1 || e.Args[0].Type.Kind != types.Struct || e.Field < 0 || e.Field >= len(e.Args[0].Type.Fields) {
			if len(e.Args) == 1 && e.Args[0].Type.Kind == types.Struct {
				return fmt.Errorf("field %d of a struct of %d fields", e.Field, len(e.Args[0].Type.Fields))
			}
			return fmt.Errorf("field %d: the argument is not one struct", e.Field)
		}
	case ExprCast, ExprNot, ExprIsNull, ExprIsNotNull:
		if len(e.Args) != 1 {
			return fmt.Errorf("%s takes one argument, has %d", e.Op, len(e.Args))
		}
	}
	return nil
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
