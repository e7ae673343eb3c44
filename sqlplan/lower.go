package sqlplan

import (
	"fmt"

	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
)

// lowerer turns relations into program nodes. Sources, memory tables and
// sinks are shared: one node per table however many queries use it.
type lowerer struct {
	p      *planner
	prog   *program.Program
	tables map[*table]int
	// lowering holds the memory tables whose inserts are being lowered, to
	// reject a table that reads itself (a cycle would never end).
	lowering map[*table]bool
	// proj holds the source tables read with fewer columns (prune.go).
	proj map[*table]*projection
	// keys holds the key columns of the edges out of updating sources
	// (updating.go).
	keys map[int][]int
}

func (p *planner) lower() (*program.Program, error) {
	// The key-group count is recorded in the program: state checkpointed
	// under it can only be restored under the same count.
	l := &lowerer{p: p, prog: &program.Program{Version: program.Version, Name: p.opts.Name, MaxKeyGroups: state.MaxKeyGroups}, tables: map[*table]int{}, lowering: map[*table]bool{}, proj: map[*table]*projection{}}
	if err := l.checkUpdatingSources(); err != nil {
		return nil, err
	}
	l.prune()
	for _, o := range p.outputs {
		in, err := l.node(o.query)
		if err != nil {
			return nil, err
		}
		sink, ok := l.tables[o.sink]
		if !ok {
			n := &program.Node{
				Op:          program.OpSink,
				Description: fmt.Sprintf("sink '%s'", o.sink.name),
				Parallelism: l.parallelism(o.sink, true),
				Schema:      streamSchema(o.sink.schema),
				Sink:        o.sink.desc,
			}
			if err := l.changelogSink(o.sink, n); err != nil {
				return nil, err
			}
			sink = l.add(n)
			l.tables[o.sink] = sink
		}
		if err := l.mixedSink(o.sink, in, sink); err != nil {
			return nil, err
		}
		l.connect(in, sink)
	}
	skipRebalance(l.prog)
	// Operator ids last: a calc's depends on its inputs' (program/ids.go).
	if err := l.prog.AssignOperatorIDs(); err != nil {
		return nil, fmt.Errorf("internal planner error: %w", err)
	}
	return l.prog, nil
}

// parallelism is the configured one, capped by t's connector for its role.
func (l *lowerer) parallelism(t *table, sink bool) int {
	p := l.p.opts.Parallelism
	if t == nil || t.conn == nil {
		return p
	}
	if m := t.conn.MaxParallelism; m > 0 && m < p {
		p = m
	}
	if m := t.conn.MaxSinkParallelism; sink && m > 0 && m < p {
		p = m
	}
	return p
}

func (l *lowerer) add(n *program.Node) int {
	n.ID = len(l.prog.Nodes)
	l.prog.Nodes = append(l.prog.Nodes, n)
	return n.ID
}

// connect adds an edge: forward when parallelisms match, else a
// round-robin shuffle (keyed out of an updating source).
func (l *lowerer) connect(from, to int) {
	if l.prog.Nodes[from].Parallelism == l.prog.Nodes[to].Parallelism {
		l.prog.Connect(from, to, program.Forward)
		return
	}
	l.prog.Connect(from, to, program.Shuffle, l.keyedShuffle(from)...)
}

func (l *lowerer) node(r *rel) (int, error) {
	switch r.kind {
	case relScan:
		return l.source(r.table), nil
	case relMemory:
		return l.memory(r.table)
	case relCalc:
		in, err := l.node(r.input)
		if err != nil {
			return 0, err
		}
		calc := &program.Calc{Filters: r.filters, Project: r.project, Unnest: r.unnest}
		if pr := l.proj[r.input.table]; pr != nil && r.input.kind == relScan {
			calc = &program.Calc{Filters: pr.exprs(r.filters), Project: pr.exprs(r.project), Unnest: r.unnest}
		}
		id := l.add(&program.Node{
			Op:          program.OpCalc,
			Description: "calc",
			Parallelism: l.p.opts.Parallelism,
			Schema:      relSchema(r),
			Updating:    r.updating(),
			Calc:        calc,
		})
		l.connect(in, id)
		return id, nil
	case relUnion:
		var project []*program.Expr
		for i, c := range r.cols {
			project = append(project, &program.Expr{Op: program.ExprCol, Col: i, Type: c.typ, Nullable: c.nullable})
		}
		id := l.add(&program.Node{
			Op:          program.OpCalc,
			Description: "union",
			Parallelism: l.p.opts.Parallelism,
			Schema:      relSchema(r),
			Updating:    r.updating(),
			Calc:        &program.Calc{Project: project},
		})
		for _, b := range r.inputs {
			in, err := l.node(b)
			if err != nil {
				return 0, err
			}
			l.connect(in, id)
		}
		return id, nil
	case relWindowFunc:
		in, err := l.node(r.input)
		if err != nil {
			return 0, err
		}
		id := l.add(&program.Node{
			Op:          program.OpWindowFunc,
			Description: "window functions",
			Parallelism: l.p.opts.Parallelism,
			Schema:      relSchema(r),
			WindowFunc:  r.winfunc,
		})
		keys := make([]int, r.winfunc.Keys)
		for k := range keys {
			keys[k] = k
		}
		l.prog.Connect(in, id, program.Shuffle, keys...)
		return id, nil
	case relJoin:
		var ins [2]int
		for i, b := range r.inputs {
			in, err := l.node(b)
			if err != nil {
				return 0, err
			}
			ins[i] = in
		}
		desc := string(r.join.Kind) + " join"
		if r.join.Windowed {
			desc = "windowed " + desc
		} else {
			desc = "updating " + desc
		}
		id := l.add(&program.Node{
			Op:          program.OpJoin,
			Description: desc,
			Parallelism: l.p.opts.Parallelism,
			Schema:      relSchema(r),
			Updating:    !r.join.Windowed,
			Join:        r.join,
		})
		keys := make([]int, r.join.Keys)
		for k := range keys {
			keys[k] = k
		}
		for _, in := range ins {
			l.prog.Connect(in, id, program.Shuffle, keys...)
		}
		return id, nil
	case relAggregate:
		in, err := l.node(r.input)
		if err != nil {
			return 0, err
		}
		par := l.p.opts.Parallelism
		desc := "aggregate"
		if w := r.agg.Window; w != nil {
			desc = string(w.Kind) + " aggregate"
		} else {
			desc = "updating aggregate"
		}
		if r.agg.Keys == 0 {
			// One group (or one per window): one subtask holds it.
			par = 1
		}
		id := l.add(&program.Node{
			Op:          program.OpAggregate,
			Description: desc,
			Parallelism: par,
			Schema:      relSchema(r),
			Updating:    r.agg.Window == nil,
			Aggregate:   r.agg,
		})
		if r.agg.Keys > 0 {
			keys := make([]int, r.agg.Keys)
			for k := range keys {
				keys[k] = k
			}
			l.prog.Connect(in, id, program.Shuffle, keys...)
		} else {
			l.connect(in, id)
		}
		return id, nil
	}
	return 0, fmt.Errorf("internal planner error: relation kind %d", r.kind)
}

func (l *lowerer) source(t *table) int {
	if id, ok := l.tables[t]; ok {
		return id
	}
	schema, desc, wm, eventTime := t.schema, t.desc, t.watermark, t.eventTime
	if pr := l.proj[t]; pr != nil {
		// Decode only the columns some query reads.
		schema = pr.schema(t)
		d := *t.desc
		d.Schema = schema
		desc = &d
		if wm != nil {
			w := *wm
			w.Column = pr.remap[w.Column]
			wm = &w
		}
		if eventTime != nil {
			eventTime = pr.expr(eventTime)
		}
	}
	stream, par := streamSchema(schema), l.parallelism(t, false)
	if t.changelog {
		// One reader keeps each key's changes in order (updating.go).
		stream, par = changelogSchema(schema), 1
	}
	id := l.add(&program.Node{
		Op:          program.OpSource,
		Description: fmt.Sprintf("source '%s'", t.name),
		Parallelism: par,
		Schema:      stream,
		Updating:    t.changelog,
		Source:      desc,
		Watermark:   wm,
	})
	if eventTime != nil {
		// Replace the source's timestamps with the declared event time.
		var project []*program.Expr
		for i, f := range stream.Fields[:stream.Len()-1] {
			project = append(project, &program.Expr{Op: program.ExprCol, Col: i, Type: f.Type, Nullable: f.Nullable})
		}
		project = append(project, eventTime)
		calc := l.add(&program.Node{
			Op:          program.OpCalc,
			Description: fmt.Sprintf("event time '%s'", t.name),
			OperatorID:  program.TableOperatorID("event_time", t.name),
			Parallelism: l.prog.Nodes[id].Parallelism,
			Schema:      stream,
			Updating:    t.changelog,
			Calc:        &program.Calc{Project: project},
		})
		l.connect(id, calc)
		id = calc
	}
	if t.changelog && len(t.pk) > 0 {
		if l.keys == nil {
			l.keys = map[int][]int{}
		}
		l.keys[id] = t.pk
	}
	l.tables[t] = id
	return id
}

// memory lowers a memory table to an identity calc fed by every INSERT
// into it.
func (l *lowerer) memory(t *table) (int, error) {
	if l.lowering[t] {
		return 0, tableError(t, fmt.Sprintf("memory table '%s' reads from itself (directly or through another memory table); a pipeline cannot feed back into itself", t.name))
	}
	if id, ok := l.tables[t]; ok {
		return id, nil
	}
	if len(t.inserts) == 0 {
		return 0, tableError(t, fmt.Sprintf("memory table '%s' is read but nothing is inserted into it (add INSERT INTO %s SELECT ...)", t.name, t.name))
	}
	var project []*program.Expr
	for i, f := range t.schema.Fields {
		project = append(project, &program.Expr{Op: program.ExprCol, Col: i, Type: f.Type, Nullable: f.Nullable})
	}
	project = append(project, &program.Expr{Op: program.ExprCol, Col: len(t.schema.Fields), Type: types.TimestampT})
	id := l.add(&program.Node{
		Op:          program.OpCalc,
		Description: fmt.Sprintf("memory table '%s'", t.name),
		OperatorID:  program.TableOperatorID("memory", t.name),
		Parallelism: l.p.opts.Parallelism,
		Schema:      streamSchema(t.schema),
		Calc:        &program.Calc{Project: project},
	})
	l.lowering[t] = true
	for _, q := range t.inserts {
		in, err := l.node(q)
		if err != nil {
			return 0, err
		}
		if q.updating() {
			return 0, updatingMemory(t)
		}
		l.connect(in, id)
	}
	delete(l.lowering, t)
	l.tables[t] = id
	return id, nil
}

// tableError reports a problem with a table at its CREATE TABLE.
func tableError(t *table, msg string) error {
	return &dialect.Error{File: t.def.Stmt.File(), Pos: t.def.NamePos, Msg: msg}
}
