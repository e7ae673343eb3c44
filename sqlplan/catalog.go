package sqlplan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

type tableKind int

const (
	tableConnector tableKind = iota
	// tableMemory is a CREATE TABLE without WITH: a named stream that
	// INSERTs write into and queries read from, inside the pipeline.
	tableMemory
)

type tableRole int

const (
	roleAny tableRole = iota
	roleSource
	roleSink
)

type table struct {
	name string
	kind tableKind
	conn *connector.Connector
	role tableRole
	// schema is the table's columns, without the hidden event-time
	// column; nil while it is still to be inferred from an INSERT.
	schema      *types.Schema
	inferSchema bool
	desc        *connector.Table
	// eventTime computes the event time from the columns (WATERMARK FOR
	// or event_time_field); nil keeps the source's own timestamps.
	eventTime *program.Expr
	// watermark says how the source's watermark trails its event time (nil:
	// the runtime's default over the source's own timestamps).
	watermark *program.Watermark
	def       *dialect.CreateTable
	// pk is the PRIMARY KEY, as column indexes; changelog marks a table in
	// a changelog format (debezium_json), an updating source (updating.go).
	pk        []int
	changelog bool
	// inserts are the queries written into a memory table.
	inserts []*rel
}

func (t *table) setSchema(s *types.Schema) {
	t.schema = s
	if t.desc != nil {
		t.desc.Schema = s
	}
}

type view struct {
	name string
	stmt *dialect.Statement
	sel  ast.ResultSetNode
	cols []string
}

// tableOptions are consumed by the planner, not passed to the connector.
var tableOptions = map[string]bool{
	"connector": true, "format": true, "bad_data": true,
	"event_time_field": true, "watermark_field": true,
}

func (p *planner) createTable(ct *dialect.CreateTable) error {
	s := ct.Stmt
	key := strings.ToLower(ct.Name)
	if _, ok := p.tables[key]; ok {
		if ct.IfNotExists {
			return nil
		}
		return &dialect.Error{File: s.File(), Pos: ct.NamePos, Msg: "table '" + ct.Name + "' is already defined"}
	}
	if _, ok := p.views[key]; ok {
		return &dialect.Error{File: s.File(), Pos: ct.NamePos, Msg: "'" + ct.Name + "' is already defined as a view"}
	}
	errAt := func(pos dialect.Pos, msg string) error {
		return &dialect.Error{File: s.File(), Pos: pos, Msg: msg}
	}
	var fields []types.Field
	seen := map[string]bool{}
	for _, c := range ct.Columns {
		if seen[strings.ToLower(c.Name)] {
			return errAt(c.Pos, "duplicate column '"+c.Name+"'")
		}
		seen[strings.ToLower(c.Name)] = true
		if c.Name == types.TimestampField {
			return errAt(c.Pos, "'"+types.TimestampField+"' is reserved for the event time")
		}
		if c.Generated != nil {
			return errAt(c.Pos, "generated columns are not supported yet")
		}
		t, err := sqlType(s, c.Type)
		if err != nil {
			return err
		}
		fields = append(fields, types.Field{Name: c.Name, Type: t, Nullable: !c.NotNull})
	}
	t := &table{name: ct.Name, def: ct}
	if !ct.HasWith {
		if !ct.HasColumns || len(fields) == 0 {
			return errAt(ct.NamePos, "table '"+ct.Name+"' needs a column list or a WITH (connector = ...) clause")
		}
		if ct.Watermark != nil {
			return errAt(ct.Watermark.Pos, "a memory table cannot declare a WATERMARK")
		}
		if err := metadataColumns(ct, nil, nil); err != nil {
			return err
		}
		t.kind = tableMemory
		t.schema = types.NewSchema(fields...)
		if err := tableKey(t, ct, nil); err != nil {
			return err
		}
		p.tables[key] = t
		return nil
	}
	// Option keys are case-insensitive (CONNECTOR = 'impulse'); values
	// are not: connector, format and enum values are compared exactly, as
	// in Arroyo, and a value that differs only in case gets a hint.
	raw := map[string]string{}
	rawPos := map[string]dialect.Pos{} // of the value
	keyPos := map[string]dialect.Pos{}
	for _, o := range ct.Options {
		key := strings.ToLower(o.Key)
		if _, dup := raw[key]; dup {
			return errAt(o.KeyPos, "option '"+o.Key+"' is given twice")
		}
		raw[key] = o.Value
		rawPos[key] = o.ValuePos
		keyPos[key] = o.KeyPos
	}
	// optErr reports an option error where the user can fix it: a bad
	// value at the value, an unknown option at its key, anything else
	// (a missing option) at the table's name.
	optErr := func(err error) error {
		var oe *connector.OptionError
		if errors.As(err, &oe) {
			at := rawPos
			if oe.Unknown {
				at = keyPos
			}
			if pos, ok := at[oe.Option]; ok {
				return errAt(pos, err.Error())
			}
		}
		return errAt(ct.NamePos, err.Error())
	}
	cname, ok := raw["connector"]
	if !ok {
		return errAt(ct.NamePos, "table '"+ct.Name+"' needs a 'connector' option (one of "+quoteList(connector.Names())+")")
	}
	c, ok := connector.Lookup(cname)
	if !ok {
		return errAt(rawPos["connector"], "unknown connector '"+cname+"' (available: "+quoteList(connector.Names())+")"+connector.CaseHint(cname, connector.Names()))
	}
	t.conn = c
	desc := &connector.Table{Name: ct.Name, Connector: c.Name, BadData: connector.BadDataFail}
	if v, ok := raw["bad_data"]; ok {
		if v != connector.BadDataFail && v != connector.BadDataDrop {
			return errAt(rawPos["bad_data"], "invalid value '"+v+"' for option 'bad_data': allowed values are 'fail', 'drop'"+
				connector.CaseHint(v, []string{connector.BadDataFail, connector.BadDataDrop}))
		}
		desc.BadData = v
	}
	// Format and its options.
	connOpts := map[string]string{}
	var fmtDef *connector.Format
	if c.NeedsFormat {
		name := raw["format"]
		if name == "" {
			name = c.DefaultFormat
		}
		if name == "" {
			return errAt(ct.NamePos, "connector '"+c.Name+"' needs a 'format' option (one of "+quoteList(connector.FormatNames())+")")
		}
		f, ok := connector.LookupFormat(name)
		if !ok {
			return errAt(rawPos["format"], "unknown format '"+name+"' (available: "+quoteList(connector.FormatNames())+")"+connector.CaseHint(name, connector.FormatNames()))
		}
		fmtDef = f
	} else if v, ok := raw["format"]; ok {
		return errAt(rawPos["format"], "connector '"+c.Name+"' produces typed rows and takes no format (got format = '"+v+"')")
	}
	fmtOpts := map[string]string{}
	for k, v := range raw {
		switch {
		case tableOptions[k]:
		case fmtDef != nil && hasOption(fmtDef.Options, k):
			fmtOpts[k] = v
		default:
			connOpts[k] = v
		}
	}
	if err := metadataColumns(ct, c, connOpts); err != nil {
		return err
	}
	opts, err := connector.Validate(c.Name, c.Options, connOpts)
	if err != nil {
		return optErr(err)
	}
	desc.Options = opts
	if fmtDef != nil {
		fo, err := connector.Validate(fmtDef.Name, fmtDef.Options, fmtOpts)
		if err != nil {
			return optErr(err)
		}
		desc.Format = &connector.FormatConfig{Name: fmtDef.Name, Options: fo}
		desc.Secret = secretOptions(desc.Secret, fmtDef.Options, fo)
	}
	// The secret names travel with the table, so plan text and logs can
	// redact them without the connector registry.
	desc.Secret = secretOptions(desc.Secret, c.Options, opts)
	switch opts.String("type") {
	case "source":
		t.role = roleSource
	case "sink":
		t.role = roleSink
	}
	t.desc = desc
	// Schema: fixed by the connector, declared, the format's default, or
	// inferred from the first INSERT for sinks.
	var fixed, formatDefault *types.Schema
	if c.Schema != nil {
		if fixed, err = c.Schema(opts); err != nil {
			return optErr(err)
		}
	} else if fmtDef != nil && fmtDef.Schema != nil {
		if formatDefault, err = fmtDef.Schema(desc.Format.Options); err != nil {
			return optErr(err)
		}
	}
	if c.PlanDefaults != nil {
		// After the connector's checks, which report the options as given.
		desc.Options = c.PlanDefaults(desc.Options, p.opts.Now())
	}
	switch {
	case fixed != nil && len(fields) > 0:
		return errAt(ct.NamePos, "connector '"+c.Name+"' has a fixed schema "+fixed.String()+"; remove the column list")
	case fixed != nil:
		t.setSchema(fixed)
	case len(fields) > 0:
		t.setSchema(types.NewSchema(fields...))
	case formatDefault != nil:
		t.setSchema(formatDefault)
	case t.role == roleSource || (c.NewSource != nil && t.role != roleSink && c.NewSink == nil):
		// A source declared without columns: the connector may read
		// them from an external system (a schema registry).
		resolve, ok := connector.LookupSchemaResolver(c.Name)
		if !ok {
			return errAt(ct.NamePos, "table '"+ct.Name+"' needs a column list")
		}
		rs, err := resolve(context.Background(), desc)
		if err != nil {
			return errAt(ct.NamePos, err.Error())
		}
		t.setSchema(rs)
	default:
		// A sink without columns takes its schema from the query that
		// writes into it.
		t.inferSchema = true
	}
	if err := tableKey(t, ct, fmtDef); err != nil {
		return err
	}
	// Event time.
	etCol, etPos := "", dialect.Pos{}
	if v, ok := raw["event_time_field"]; ok {
		etCol, etPos = v, rawPos["event_time_field"]
	}
	if ct.Watermark != nil {
		if etCol != "" {
			return errAt(ct.Watermark.Pos, "use either WATERMARK FOR or event_time_field, not both")
		}
		etCol, etPos = ct.Watermark.Column, ct.Watermark.Pos
	}
	if etCol != "" {
		if t.schema == nil {
			return errAt(etPos, "an event-time column needs a declared schema")
		}
		i := t.schema.Index(etCol)
		if i < 0 {
			return errAt(etPos, "event-time column '"+etCol+"' is not a column of '"+ct.Name+"'")
		}
		if t.schema.Fields[i].Type.Kind != types.Timestamp {
			return errAt(etPos, "event-time column '"+etCol+"' must be TIMESTAMP, not "+t.schema.Fields[i].Type.String())
		}
		t.eventTime = &program.Expr{Op: program.ExprCol, Col: i, Type: types.TimestampT, Nullable: t.schema.Fields[i].Nullable}
		t.watermark = &program.Watermark{Column: i, Lateness: program.DefaultLateness}
		if ct.Watermark != nil && ct.Watermark.Expr != nil {
			lateness, err := p.watermarkLateness(s, t, i, ct.Watermark)
			if err != nil {
				return err
			}
			t.watermark.Lateness = lateness
		}
	}
	if wf, ok := raw["watermark_field"]; ok {
		// Arroyo's older option: a column holding the watermark itself
		// (the source's watermark is the largest value seen).
		pos := rawPos["watermark_field"]
		switch {
		case ct.Watermark != nil:
			return errAt(pos, "use either WATERMARK FOR or watermark_field, not both")
		case t.schema == nil:
			return errAt(pos, "watermark_field needs a declared schema")
		}
		i := t.schema.Index(wf)
		if i < 0 {
			return errAt(pos, "watermark_field '"+wf+"' is not a column of '"+ct.Name+"'")
		}
		if t.schema.Fields[i].Type.Kind != types.Timestamp {
			return errAt(pos, "watermark_field '"+wf+"' must be TIMESTAMP, not "+t.schema.Fields[i].Type.String())
		}
		t.watermark = &program.Watermark{Column: i}
	}
	p.tables[key] = t
	return nil
}

func hasOption(specs []connector.Option, name string) bool {
	for _, s := range specs {
		if s.Name == name {
			return true
		}
	}
	return false
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = "'" + v + "'"
	}
	return strings.Join(q, ", ")
}

func sortStrings(s []string) []string {
	sort.Strings(s)
	return s
}

// sqlType maps a parsed type name to an engine type.
func sqlType(s *dialect.Statement, tn dialect.TypeName) (types.Type, error) {
	errAt := func(msg string) error { return &dialect.Error{File: s.File(), Pos: tn.Pos, Msg: msg} }
	if tn.Array {
		if tn.Elem == nil {
			return types.Type{}, errAt("array type without element type")
		}
		e, err := sqlType(s, *tn.Elem)
		if err != nil {
			return types.Type{}, err
		}
		return types.ListOf(e), nil
	}
	switch strings.ToUpper(tn.Name) {
	case "BOOLEAN", "BOOL":
		return types.BoolT, nil
	case "TINYINT":
		return types.Int8T, nil
	case "SMALLINT", "INT2":
		return types.Int16T, nil
	case "INT", "INTEGER", "INT4", "MEDIUMINT":
		// MEDIUMINT (24 bits) has no Arrow type; Arroyo stores it as INT.
		return types.Int32T, nil
	case "BIGINT", "INT8":
		return types.Int64T, nil
	case "TINYINT UNSIGNED":
		return types.UInt8T, nil
	case "SMALLINT UNSIGNED", "INT2 UNSIGNED":
		return types.UInt16T, nil
	case "MEDIUMINT UNSIGNED", "INT UNSIGNED", "INTEGER UNSIGNED":
		return types.UInt32T, nil
	case "BIGINT UNSIGNED":
		return types.UInt64T, nil
	case "FLOAT", "REAL", "FLOAT4":
		return types.Float32T, nil
	case "DOUBLE", "DOUBLE PRECISION", "FLOAT8":
		return types.Float64T, nil
	case "TEXT", "VARCHAR", "STRING", "CHAR", "CHARACTER VARYING":
		return types.StringT, nil
	case "BYTEA", "BINARY", "VARBINARY", "BLOB":
		return types.BytesT, nil
	case "TIMESTAMP", "DATETIME":
		return types.TimestampT, nil
	case "INTERVAL":
		return types.IntervalT, nil
	case "JSON":
		return types.JSONT, nil
	case "DECIMAL", "NUMERIC":
		// DECIMAL alone is DataFusion's DECIMAL(38, 10); DECIMAL(p) is
		// DECIMAL(p, 0).
		p, sc := types.MaxDecimalPrecision, 10
		if len(tn.Args) > 0 {
			p, sc = tn.Args[0], 0
		}
		if len(tn.Args) > 1 {
			sc = tn.Args[1]
		}
		if p < 1 || p > types.MaxDecimalPrecision {
			return types.Type{}, errAt(fmt.Sprintf("DECIMAL precision must be 1 to %d, not %d", types.MaxDecimalPrecision, p))
		}
		if sc > p {
			return types.Type{}, errAt(fmt.Sprintf("DECIMAL(%d, %d): the scale must be at most the precision", p, sc))
		}
		return types.DecimalOf(p, sc), nil
	case "DATE":
		return types.DateT, nil
	case "TIME":
		// TIME(p): the precision is accepted and ignored, values keep
		// nanoseconds.
		return types.TimeT, nil
	case "STRUCT":
		var fs []types.Field
		for _, f := range tn.Fields {
			ft, err := sqlType(s, f.Type)
			if err != nil {
				return types.Type{}, err
			}
			fs = append(fs, types.Field{Name: f.Name, Type: ft, Nullable: !f.NotNull})
		}
		if len(fs) == 0 {
			return types.Type{}, errAt("STRUCT needs at least one field")
		}
		return types.StructOf(fs...), nil
	}
	return types.Type{}, errAt("unknown type '" + tn.Text + "' (supported: " + dialect.SupportedTypes + ")")
}

// watermarkLateness reads WATERMARK FOR col AS expr, where expr is col
// itself (no lateness) or col - INTERVAL '...' (a fixed lateness): the
// watermark is the largest event time seen minus the lateness. Other
// expressions are refused at the expression.
func (p *planner) watermarkLateness(s *dialect.Statement, t *table, col int, w *dialect.Watermark) (time.Duration, error) {
	var cols []column
	for _, f := range t.schema.Fields {
		cols = append(cols, column{name: f.Name, typ: f.Type, nullable: f.Nullable})
	}
	e, err := p.expr(s, cols, w.Expr)
	if err != nil {
		return 0, err
	}
	isCol := func(e *program.Expr) bool { return e.Op == program.ExprCol && e.Col == col }
	if isCol(e) {
		return 0, nil
	}
	if e.Op == program.ExprCall && e.Func == "-" && len(e.Args) == 2 && isCol(e.Args[0]) &&
		e.Args[1].Op == program.ExprLit && e.Args[1].Type.Kind == types.Interval {
		ns, err := strconv.ParseInt(string(e.Args[1].Value), 10, 64)
		if err == nil && ns >= 0 {
			return time.Duration(ns), nil
		}
	}
	return 0, s.Errorf(w.Expr, "unsupported watermark expression '%s': use %s or %s - INTERVAL '<lateness>' (a fixed lateness of at least 0)",
		s.TextOf(w.Expr), w.Column, w.Column)
}

// secretOptions appends to names the options of decl declared secret that
// are set in given, sorted and without duplicates.
func secretOptions(names []string, decl []connector.Option, given connector.Options) []string {
	for _, o := range decl {
		if _, ok := given[o.Name]; ok && o.Secret && !slices.Contains(names, o.Name) {
			names = append(names, o.Name)
		}
	}
	slices.Sort(names)
	return names
}
