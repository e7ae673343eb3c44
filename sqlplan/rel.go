package sqlplan

import (
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// column is one output column of a relation, as name resolution sees it.
type column struct {
	name     string
	qual     string // table name or alias that qualifies it ("" if none)
	typ      types.Type
	nullable bool
	hidden   bool // the event-time column: not part of SELECT *
}

type relKind int

const (
	relScan       relKind = iota // read a connector source table
	relMemory                    // read a memory table (the union of its inserts)
	relCalc                      // filter then project the input
	relAggregate                 // group the input (agg)
	relUnion                     // UNION ALL of inputs (same schemas)
	relJoin                      // join inputs[0] and inputs[1] (join)
	relWindowFunc                // window functions over the input (winfunc)
)

// rel is a logical relation (a stream). Rels form trees: each query builds
// its own, so a calc is never shared and can always be fused with the calc
// below it. Scans and memory tables are shared when lowered (one source node
// per table, however many queries read it).
//
// Invariant: the last column is the hidden event-time column; an updating
// relation's hidden change column is just before it.
type rel struct {
	kind    relKind
	cols    []column
	table   *table
	input   *rel
	filters []*program.Expr
	project []*program.Expr
	agg     *program.Aggregate
	inputs  []*rel // relUnion, relJoin
	join    *program.Join
	winfunc *program.WindowFunc
	// unnest, for a calc, is program.Calc.Unnest: 1 + the column that
	// UNNEST expands (0: none).
	unnest int
}

// updating reports whether r is a changelog: its hidden columns include
// program.ChangeKindField.
func (r *rel) updating() bool {
	for i := len(r.cols) - 1; i >= 0 && r.cols[i].hidden; i-- {
		if r.cols[i].name == program.ChangeKindField {
			return true
		}
	}
	return false
}

func scanRel(t *table, qual string) *rel {
	r := &rel{kind: relScan, table: t}
	if t.kind == tableMemory {
		r.kind = relMemory
	}
	for _, f := range t.schema.Fields {
		r.cols = append(r.cols, column{name: f.Name, qual: qual, typ: f.Type, nullable: f.Nullable})
	}
	if t.changelog {
		r.cols = append(r.cols, changeColumn(qual))
	}
	r.cols = append(r.cols, column{name: types.TimestampField, qual: qual, typ: types.TimestampT, hidden: true})
	return r
}

// calcRel returns input filtered by filters and projected by project, with
// the hidden event-time column carried along, fused with input if it is a
// calc itself.
func calcRel(input *rel, filters []*program.Expr, project []*program.Expr, cols []column) *rel {
	// The hidden columns (the change kind of a changelog, the event time)
	// are the input's last ones and go along in order.
	h := len(input.cols)
	for h > 0 && input.cols[h-1].hidden {
		h--
	}
	for i := h; i < len(input.cols); i++ {
		c := input.cols[i]
		project = append(project, &program.Expr{Op: program.ExprCol, Col: i, Type: c.typ})
		cols = append(cols, column{name: c.name, typ: c.typ, hidden: true})
	}
	if input.kind != relCalc || input.unnest > 0 {
		// (A calc over an UNNEST reads its elements, not the list the
		// UNNEST's projection computes: it cannot be fused into it.)
		return &rel{kind: relCalc, input: input, filters: filters, project: project, cols: cols}
	}
	fused := &rel{kind: relCalc, input: input.input, cols: cols}
	fused.filters = append(fused.filters, input.filters...)
	for _, f := range filters {
		fused.filters = append(fused.filters, subst(f, input.project))
	}
	for _, e := range project {
		fused.project = append(fused.project, subst(e, input.project))
	}
	return fused
}

// subst replaces column references in e by the expressions that compute
// them.
func subst(e *program.Expr, proj []*program.Expr) *program.Expr {
	if e.Op == program.ExprCol {
		return proj[e.Col]
	}
	if len(e.Args) == 0 {
		return e
	}
	c := *e
	c.Args = make([]*program.Expr, len(e.Args))
	for i, a := range e.Args {
		c.Args[i] = subst(a, proj)
	}
	return &c
}

// visible returns the columns a user sees (all but the hidden one).
func (r *rel) visible() []column {
	var out []column
	for _, c := range r.cols {
		if !c.hidden {
			out = append(out, c)
		}
	}
	return out
}

func outputSchema(r *rel) *types.Schema {
	var fs []types.Field
	for _, c := range r.visible() {
		fs = append(fs, types.Field{Name: c.name, Type: c.typ, Nullable: c.nullable})
	}
	return types.NewSchema(fs...)
}

func streamSchema(s *types.Schema) *types.Schema {
	fs := append([]types.Field(nil), s.Fields...)
	fs = append(fs, types.Field{Name: types.TimestampField, Type: types.TimestampT})
	return types.NewSchema(fs...)
}

func relSchema(r *rel) *types.Schema {
	var fs []types.Field
	for _, c := range r.cols {
		fs = append(fs, types.Field{Name: c.name, Type: c.typ, Nullable: c.nullable})
	}
	return types.NewSchema(fs...)
}
