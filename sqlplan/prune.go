package sqlplan

import (
	"fmt"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// Column pushdown: a source table whose format can decode a subset of its
// columns (connector.Format.Projects) is read with only the columns some
// query uses - the union over every reader, as a table has one source
// node - plus its event-time column. The others are never decoded, so a
// bad or missing value in them does not make the record bad data
// (docs/RATIONALE.md, "Column pushdown into sources").

// projection is the pruned view of one source table.
type projection struct {
	keep  []int // the table's column indexes that are read, in order
	remap []int // table column index -> source output index, -1 if dropped; the hidden column last
}

// prune computes the projections of every source table that the outputs
// read, keyed by table; tables it cannot or need not prune are absent.
func (l *lowerer) prune() {
	used := map[*table][]bool{}
	seen := map[*table]bool{}
	mark := func(t *table, all bool, exprs ...[]*program.Expr) {
		u := used[t]
		if u == nil {
			u = make([]bool, len(t.schema.Fields)+2) // with the hidden columns of an updating table
			used[t] = u
		}
		if all {
			for i := range u {
				u[i] = true
			}
		}
		for _, es := range exprs {
			for _, e := range es {
				markCols(e, u)
			}
		}
	}
	var walk func(r *rel)
	walk = func(r *rel) {
		switch r.kind {
		case relScan:
			mark(r.table, true) // read as a whole (no calc above it)
		case relMemory:
			if !seen[r.table] {
				seen[r.table] = true
				for _, q := range r.table.inserts {
					walk(q)
				}
			}
		case relCalc:
			if r.input.kind == relScan {
				mark(r.input.table, false, r.filters, r.project)
			} else {
				walk(r.input)
			}
		case relAggregate, relWindowFunc:
			walk(r.input)
		case relUnion, relJoin:
			for _, b := range r.inputs {
				walk(b)
			}
		default:
			panic(fmt.Sprintf("prune: relation kind %d", r.kind))
		}
	}
	for _, o := range l.p.outputs {
		walk(o.query)
	}
	for t, u := range used {
		if !canProject(t) || t.changelog { // its key columns are always read
			continue
		}
		if t.eventTime != nil {
			markCols(t.eventTime, u)
		}
		if t.watermark != nil {
			u[t.watermark.Column] = true
		}
		n := len(t.schema.Fields)
		pr := &projection{remap: make([]int, n+1)}
		for i := 0; i < n; i++ {
			pr.remap[i] = -1
			if u[i] {
				pr.remap[i] = len(pr.keep)
				pr.keep = append(pr.keep, i)
			}
		}
		if len(pr.keep) == n {
			continue
		}
		if len(pr.keep) == 0 {
			// No column is read (SELECT 1 FROM t): keep the first, so
			// every record still has a row to count.
			pr.keep, pr.remap[0] = []int{0}, 0
		}
		pr.remap[n] = len(pr.keep)
		l.proj[t] = pr
	}
}

// canProject says whether t's source decodes any subset of its columns.
func canProject(t *table) bool {
	if t.kind != tableConnector || t.desc == nil || t.desc.Format == nil || len(t.schema.Fields) == 0 {
		return false
	}
	f, ok := connector.LookupFormat(t.desc.Format.Name)
	return ok && f.Projects != nil && f.Projects(t.desc.Format.Options)
}

// markCols sets u[i] for every column i that e reads.
func markCols(e *program.Expr, u []bool) {
	if e.Op == program.ExprCol {
		u[e.Col] = true
		return
	}
	for _, a := range e.Args {
		markCols(a, u)
	}
}

// schema returns the pruned columns of t.
func (pr *projection) schema(t *table) *types.Schema {
	fs := make([]types.Field, len(pr.keep))
	for i, c := range pr.keep {
		fs[i] = t.schema.Fields[c]
	}
	return types.NewSchema(fs...)
}

// exprs returns es with column references renumbered for the pruned
// source; es are shared between relations, so they are copied, not edited.
func (pr *projection) exprs(es []*program.Expr) []*program.Expr {
	out := make([]*program.Expr, len(es))
	for i, e := range es {
		out[i] = pr.expr(e)
	}
	return out
}

func (pr *projection) expr(e *program.Expr) *program.Expr {
	if e.Op == program.ExprCol {
		c := *e
		c.Col = pr.remap[e.Col]
		return &c
	}
	if len(e.Args) == 0 {
		return e
	}
	c := *e
	c.Args = pr.exprs(e.Args)
	return &c
}
