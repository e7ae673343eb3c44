// Package sqlplan turns a SQL file in Arroyo's dialect into a dataflow
// program: it parses (through sqlplan/dialect, the TiDB parser behind our
// own bridge), builds a catalog from CREATE TABLE / CREATE VIEW, resolves
// names and types, and lowers each INSERT and bare SELECT into program
// nodes, fusing filters and projections into single calc operators.
//
// Every error a person can cause names the file, line and column (or the
// option and its allowed values).
//
// It imports the engine (types, program, function and connector
// registries) and never operators or the runtime; it must not import
// connectors, controlplane, udf or cmd.
package sqlplan

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
	"github.com/pingcap/tidb/pkg/parser/ast"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// Options control planning.
type Options struct {
	// Name of the pipeline (the program's name).
	Name string
	// Parallelism of every operator, capped by connectors that can't
	// run in parallel (default 1).
	Parallelism int
	// DefaultSink is the connector (and its options) that bare SELECT
	// statements write to, e.g. "stdout"; empty means a bare SELECT is an
	// error.
	DefaultSink        string
	DefaultSinkOptions map[string]string
	// Functions resolves function names: the pipeline's UDF scope over
	// the built-ins (default expr.Builtins()). The worker must run the
	// program with the same registry (dataflow.Options.Functions).
	Functions *expr.Registry
	// Now is the planning time that connectors' per-process defaults are
	// fixed to (connector.Connector.PlanDefaults: a generator's base time);
	// default time.Now. Tests fix it for stable plans.
	Now func() time.Time
	// UpdateFlushInterval is how long an updating aggregate may hold a
	// change back, coalescing changes to one key (config
	// pipeline.update_aggregate_flush_interval); default 1s.
	UpdateFlushInterval time.Duration
}

// Plan parses and plans the SQL text of file.
func Plan(file, text string, opts Options) (*program.Program, error) {
	if opts.Parallelism <= 0 {
		opts.Parallelism = 1
	}
	if opts.Functions == nil {
		opts.Functions = expr.Builtins()
	}
	if opts.UpdateFlushInterval == 0 {
		opts.UpdateFlushInterval = time.Second
	}
	stmts, err := dialect.Parse(file, text)
	if err != nil {
		return nil, err
	}
	p := newPlanner(opts)
	for _, s := range stmts {
		if err := p.statement(s); err != nil {
			return nil, err
		}
	}
	if len(p.outputs) == 0 {
		return nil, &dialect.Error{File: file, Pos: dialect.Pos{Line: 1, Col: 1}, Msg: "no query: the file has no INSERT INTO or SELECT statement"}
	}
	prog, err := p.lower()
	if err != nil {
		return nil, err
	}
	if err := p.checkLocalPaths(file, prog); err != nil {
		return nil, err
	}
	if err := prog.Validate(); err != nil {
		return nil, fmt.Errorf("internal planner error: %w", err)
	}
	if err := compileExprs(prog, opts.Functions); err != nil {
		return nil, err
	}
	return prog, nil
}

// compileExprs compiles every expression of prog as the workers will, so
// that a constant that must fail (1 / 0, CAST('abc' AS BIGINT)) is reported
// now, at its position, rather than when the first row arrives.
func compileExprs(prog *program.Program, reg *expr.Registry) error {
	check := func(err error) error {
		var ee *expr.Error
		if err == nil || errors.As(err, &ee) {
			return err
		}
		return fmt.Errorf("internal planner error: %w", err)
	}
	for _, n := range prog.Nodes {
		if n.Calc == nil {
			continue
		}
		for _, f := range n.Calc.Filters {
			if _, err := expr.CompileFilter(f, reg); err != nil {
				return check(err)
			}
		}
		for _, e := range n.Calc.Project {
			if _, err := expr.Compile(e, reg); err != nil {
				return check(err)
			}
		}
	}
	return nil
}

type planner struct {
	opts    Options
	tables  map[string]*table // lower-cased name -> table
	views   map[string]*view
	outputs []*output // INSERTs and bare SELECTs, in order
	nSelect int
	// agg is set while a grouped SELECT's output is planned (aggregate.go).
	agg *aggScope
	// win is set while a SELECT with window functions is planned.
	win *winScope
	// updatingTTL is SET updating_ttl: how long an updating aggregate
	// keeps an idle group (0: forever).
	updatingTTL time.Duration
}

// output is one stream written into one sink table.
type output struct {
	sink  *table
	query *rel
}

func newPlanner(opts Options) *planner {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &planner{opts: opts, tables: map[string]*table{}, views: map[string]*view{}}
}

func (p *planner) statement(s *dialect.Statement) error {
	if s.CreateTable != nil {
		return p.createTable(s.CreateTable)
	}
	switch n := s.Node.(type) {
	case *ast.CreateViewStmt:
		return p.createView(s, n)
	case *ast.InsertStmt:
		return p.insert(s, n)
	case *ast.SetStmt:
		return p.set(s, n)
	case *ast.SelectStmt, *ast.SetOprStmt:
		return p.bareSelect(s, n.(ast.ResultSetNode))
	}
	verb := s.Verb()
	if verb == "" {
		verb = "this statement"
	}
	return s.Errorf(s.Node, "%s is not supported (a file holds CREATE TABLE, CREATE VIEW, INSERT INTO and SELECT statements)", verb)
}

func (p *planner) bareSelect(s *dialect.Statement, n ast.ResultSetNode) error {
	if p.opts.DefaultSink == "" {
		return s.Errorf(n, "a bare SELECT needs a sink: write INSERT INTO <sink table> SELECT ...")
	}
	q, err := p.query(s, n)
	if err != nil {
		return err
	}
	p.nSelect++
	name := "select"
	if p.nSelect > 1 {
		name = fmt.Sprintf("select_%d", p.nSelect)
	}
	c, ok := connector.Lookup(p.opts.DefaultSink)
	if !ok {
		return fmt.Errorf("default sink connector %q is not registered", p.opts.DefaultSink)
	}
	t := &table{name: name, kind: tableConnector, conn: c, role: roleSink, inferSchema: true}
	opts, err := connector.Validate(c.Name, c.Options, p.opts.DefaultSinkOptions)
	if err != nil {
		return err
	}
	t.desc = &connector.Table{Name: name, Connector: c.Name, Options: opts}
	if c.NeedsFormat {
		t.desc.Format = &connector.FormatConfig{Name: c.DefaultFormat, Options: connector.Options{}}
	}
	if err := uniqueNames(s, n, q); err != nil {
		return err
	}
	t.setSchema(outputSchema(q))
	p.outputs = append(p.outputs, &output{sink: t, query: q})
	return nil
}

// uniqueNames checks that a query whose output defines a sink's schema has
// no two columns of the same name (they would collide as JSON keys).
func uniqueNames(s *dialect.Statement, at ast.Node, q *rel) error {
	seen := map[string]bool{}
	for _, c := range q.visible() {
		key := strings.ToLower(c.name)
		if seen[key] {
			msg := fmt.Sprintf("the query has two columns named '%s'; give one an alias (AS ...)", c.name)
			if f := secondField(s, at, key); f != nil {
				return &dialect.Error{File: s.File(), Pos: s.AliasPos(f), Msg: msg}
			}
			return s.Errorf(at, "%s", msg)
		}
		seen[key] = true
	}
	return nil
}

// secondField returns the select field of the query at that gives the
// second column named key (lower case), when no wildcard or set operation
// makes the mapping from fields to columns unclear.
func secondField(s *dialect.Statement, at ast.Node, key string) *ast.SelectField {
	sel, ok := at.(*ast.SelectStmt)
	if !ok || sel.Fields == nil {
		return nil
	}
	n := 0
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			return nil
		}
		name := f.AsName.O
		if name == "" {
			name = fieldName(s, f.Expr)
		}
		if strings.ToLower(name) == key {
			if n++; n == 2 {
				return f
			}
		}
	}
	return nil
}

func (p *planner) createView(s *dialect.Statement, n *ast.CreateViewStmt) error {
	name := n.ViewName.Name.O
	key := strings.ToLower(name)
	if _, ok := p.tables[key]; ok {
		return s.Errorf(n.ViewName, "'%s' is already defined as a table", name)
	}
	if _, ok := p.views[key]; ok {
		return s.Errorf(n.ViewName, "view '%s' is already defined", name)
	}
	sel, ok := n.Select.(ast.ResultSetNode)
	if !ok {
		return s.Errorf(n, "CREATE VIEW needs a SELECT")
	}
	v := &view{name: name, stmt: s, sel: sel}
	for _, c := range n.Cols {
		v.cols = append(v.cols, c.O)
	}
	// Plan it now so errors in a view are reported at its definition,
	// even if nothing reads it.
	if _, err := p.planView(v); err != nil {
		return err
	}
	p.views[key] = v
	return nil
}

func (p *planner) insert(s *dialect.Statement, n *ast.InsertStmt) error {
	if n.IsReplace {
		return s.Errorf(n, "REPLACE is not supported; use INSERT INTO")
	}
	if n.Select == nil {
		return s.Errorf(n, "INSERT needs a query: INSERT INTO <table> SELECT ... (VALUES is not supported)")
	}
	ts, ok := n.Table.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return s.Errorf(n, "INSERT INTO needs a table name")
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return s.Errorf(n, "INSERT INTO needs a table name")
	}
	t, ok := p.tables[strings.ToLower(tn.Name.O)]
	if !ok {
		if _, isView := p.views[strings.ToLower(tn.Name.O)]; isView {
			return s.Errorf(tn, "cannot INSERT INTO view '%s'", tn.Name.O)
		}
		return s.Errorf(tn, "unknown table '%s'%s", tn.Name.O, p.tableHint())
	}
	if len(n.Columns) > 0 {
		return s.Errorf(n, "INSERT with a column list is not supported; select the sink's columns in order")
	}
	switch {
	case t.kind == tableConnector && t.role == roleSource:
		return s.Errorf(tn, "cannot INSERT INTO '%s': it is a source table (type = 'source')", t.name)
	case t.kind == tableConnector && t.conn.NewSink == nil:
		return s.Errorf(tn, "cannot INSERT INTO '%s': connector '%s' has no sink", t.name, t.conn.Name)
	}
	sel, ok := n.Select.(ast.ResultSetNode)
	if !ok {
		return s.Errorf(n, "INSERT needs a SELECT")
	}
	q, err := p.query(s, sel)
	if err != nil {
		return err
	}
	if t.inferSchema && t.schema == nil {
		if err := uniqueNames(s, n.Select, q); err != nil {
			return err
		}
		t.setSchema(outputSchema(q))
	}
	q, err = coerceToSink(s, n.Select, q, t)
	if err != nil {
		return err
	}
	t.role = roleSink
	if t.kind == tableMemory {
		t.inserts = append(t.inserts, q)
		return nil
	}
	p.outputs = append(p.outputs, &output{sink: t, query: q})
	return nil
}

func (p *planner) tableHint() string {
	if len(p.tables) == 0 {
		return " (no tables are defined: use CREATE TABLE)"
	}
	var names []string
	for _, t := range p.tables {
		names = append(names, t.name)
	}
	for _, v := range p.views {
		names = append(names, v.name)
	}
	return " (defined: " + strings.Join(sortStrings(names), ", ") + ")"
}

// set handles SET name = 'value': the one setting Arroyo has is
// updating_ttl, how long updating aggregates and joins keep a key that
// has not changed (in event time). It applies to the queries after it.
func (p *planner) set(s *dialect.Statement, n *ast.SetStmt) error {
	for _, v := range n.Variables {
		name := strings.ToLower(v.Name)
		if name != "updating_ttl" {
			return s.Errorf(n, "unknown setting '%s' (the one setting is updating_ttl, e.g. SET updating_ttl = '1 hour')", v.Name)
		}
		lit, ok := v.Value.(*driver.ValueExpr)
		text, isText := "", false
		if ok {
			text, isText = lit.GetValue().(string)
		}
		if !isText {
			return s.Errorf(v.Value, "SET updating_ttl takes an interval in quotes, e.g. '1 hour' or '30 minutes'")
		}
		d, err := dialect.ParseInterval(text)
		if err != nil || d <= 0 {
			if err == nil {
				err = fmt.Errorf("it must be positive")
			}
			return s.Errorf(v.Value, "SET updating_ttl = '%s': %v", text, err)
		}
		p.updatingTTL = d
	}
	return nil
}
