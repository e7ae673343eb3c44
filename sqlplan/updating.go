package sqlplan

import (
	"fmt"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
)

// Updating streams (changelogs). A relation is updating when every row is a
// change (program.ChangeKindField); its columns then end with the hidden
// change column and the hidden event time. A source table in a changelog
// format (connector.Format.Changelog: debezium_json) is an updating source;
// calcs pass the change column through (ops.Calc keeps a filtered changelog
// consistent); only a sink whose format encodes changes, or a connector
// that accepts them, may be written one. See docs/sql/updating.md.
//
// Per-key order: an updating source is read by one subtask, and the edge
// out of it is a shuffle keyed by the table's PRIMARY KEY, so every change
// of a key takes the same path and stays in order (the runtime keeps the
// order of one sender's batches to one receiver).

// changelogFormat is the format a bare SELECT of an updating query writes
// (to stdout): the changes as Debezium JSON lines.
const changelogFormat = "debezium_json"

// tableKey resolves the PRIMARY KEY of t, declared by ct, and marks a
// source table in a changelog format as updating. fmtDef is t's format (nil
// for connectors without one and memory tables).
func tableKey(t *table, ct *dialect.CreateTable, fmtDef *connector.Format) error {
	s := ct.Stmt
	for k, name := range ct.PrimaryKey {
		i := -1
		if t.schema != nil {
			i = t.schema.Index(name)
		}
		if i < 0 {
			msg := fmt.Sprintf("PRIMARY KEY column '%s' is not a column of '%s'", name, ct.Name)
			if t.schema != nil {
				msg += columnHint(scanRel(t, "").cols)
			}
			return &dialect.Error{File: s.File(), Pos: ct.PrimaryPos[k], Msg: msg}
		}
		for _, j := range t.pk {
			if j == i {
				return &dialect.Error{File: s.File(), Pos: ct.PrimaryPos[k], Msg: fmt.Sprintf("column '%s' is listed twice in the PRIMARY KEY", name)}
			}
		}
		t.pk = append(t.pk, i)
	}
	if fmtDef == nil || !fmtDef.Changelog {
		return nil
	}
	t.changelog = true
	if t.schema != nil && t.schema.Index(program.ChangeKindField) >= 0 {
		return &dialect.Error{File: s.File(), Pos: ct.NamePos, Msg: fmt.Sprintf("'%s' is reserved for the change kind of a %s table", program.ChangeKindField, fmtDef.Name)}
	}
	if t.role == roleSource {
		return needKey(t)
	}
	return nil
}

// needKey checks that an updating source table has a primary key, which
// says what its changes are changes to.
func needKey(t *table) error {
	if !t.changelog || len(t.pk) > 0 {
		return nil
	}
	pos := t.def.NamePos
	if o := t.def.Option("format"); o != nil {
		pos = o.ValuePos
	}
	return &dialect.Error{File: t.def.Stmt.File(), Pos: pos, Msg: fmt.Sprintf(
		"source table '%s' has format '%s', whose records are changes to rows: declare which columns identify a row with PRIMARY KEY (col, ...) in its column list, or id BIGINT PRIMARY KEY",
		t.name, t.desc.Format.Name)}
}

// checkUpdatingSources checks every updating source table that the outputs
// read for a PRIMARY KEY (a table whose type was left to be inferred is
// only known to be a source once a query reads it).
func (l *lowerer) checkUpdatingSources() error {
	seen := map[*table]bool{}
	var walk func(r *rel) error
	walk = func(r *rel) error {
		switch {
		case r == nil:
			return nil
		case r.kind == relScan:
			return needKey(r.table)
		case r.kind == relMemory:
			if seen[r.table] {
				return nil
			}
			seen[r.table] = true
			for _, q := range r.table.inserts {
				if err := walk(q); err != nil {
					return err
				}
			}
			return nil
		}
		for _, b := range r.inputs { // a union's branches
			if err := walk(b); err != nil {
				return err
			}
		}
		return walk(r.input)
	}
	for _, o := range l.p.outputs {
		if err := walk(o.query); err != nil {
			return err
		}
	}
	return nil
}

// changelogSchema is s followed by the hidden change column and event time:
// the stream schema of an updating relation.
func changelogSchema(s *types.Schema) *types.Schema {
	fs := append([]types.Field(nil), s.Fields...)
	fs = append(fs, types.Field{Name: program.ChangeKindField, Type: program.ChangeKindType},
		types.Field{Name: types.TimestampField, Type: types.TimestampT})
	return types.NewSchema(fs...)
}

// changeColumn is the hidden change column of an updating relation.
func changeColumn(qual string) column {
	return column{name: program.ChangeKindField, qual: qual, typ: program.ChangeKindType, hidden: true}
}

// sinkUpdating reports whether sink t is written a changelog by any output.
func (l *lowerer) sinkUpdating(t *table) bool {
	for _, o := range l.p.outputs {
		if o.sink == t && o.query.updating() {
			return true
		}
	}
	return false
}

// changelogSink makes sink node n of table t updating if a changelog is
// written into t, checking that t can encode one. A bare SELECT's default
// sink switches to Debezium JSON (stdout prints the changes).
func (l *lowerer) changelogSink(t *table, n *program.Node) error {
	if !l.sinkUpdating(t) {
		return nil
	}
	desc := t.desc
	var f *connector.Format
	if desc.Format != nil {
		f, _ = connector.LookupFormat(desc.Format.Name)
	}
	switch {
	case f != nil && f.Changelog:
	case t.def == nil && desc.Format != nil:
		// The default sink of a bare SELECT.
		f, ok := connector.LookupFormat(changelogFormat)
		if !ok {
			return fmt.Errorf("internal planner error: format '%s' is not registered", changelogFormat)
		}
		opts, err := connector.Validate(f.Name, f.Options, nil)
		if err != nil {
			return fmt.Errorf("internal planner error: %w", err)
		}
		d := *desc
		d.Format = &connector.FormatConfig{Name: f.Name, Options: opts}
		n.Sink = &d
	case desc.Format == nil && t.conn != nil && t.conn.AcceptsChangelog:
	default:
		return appendOnlySink(t)
	}
	n.Updating = true
	n.Schema = changelogSchema(t.schema)
	return nil
}

// appendOnlySink is the error for a changelog written into sink t, which
// cannot encode one: at its format option, else at its name.
func appendOnlySink(t *table) error {
	what := fmt.Sprintf("connector '%s'", t.conn.Name)
	if t.desc.Format != nil {
		what = fmt.Sprintf("format '%s'", t.desc.Format.Name)
	}
	msg := fmt.Sprintf("sink '%s' is written an updating stream (a changelog of inserts, updates and deletes, from a debezium_json source or an aggregate without a window), which %s cannot encode: give the sink format = '%s'",
		t.name, what, changelogFormat)
	if t.def == nil {
		return fmt.Errorf("%s", msg)
	}
	pos := t.def.NamePos
	if o := t.def.Option("format"); o != nil {
		pos = o.ValuePos
	}
	return &dialect.Error{File: t.def.Stmt.File(), Pos: pos, Msg: msg}
}

// mixedSink is the error for sink t written both a changelog and an
// append-only stream (from node in): one sink gets one kind of stream.
func (l *lowerer) mixedSink(t *table, in, sink int) error {
	if l.prog.Nodes[in].Updating == l.prog.Nodes[sink].Updating {
		return nil
	}
	return tableError(t, fmt.Sprintf("sink '%s' is written both an updating stream (a changelog) and an append-only one; write them to two sinks", t.name))
}

// updatingMemory is the error for a changelog inserted into memory table t.
func updatingMemory(t *table) error {
	return tableError(t, fmt.Sprintf("memory table '%s' is written an updating stream (a changelog); memory tables hold append-only streams (use CREATE VIEW for an updating query)", t.name))
}

// keyedShuffle returns the key columns of the edge out of node from: the
// primary key of an updating source table, so that each key's changes stay
// in order; nil for any other node.
func (l *lowerer) keyedShuffle(from int) []int {
	return l.keys[from]
}
