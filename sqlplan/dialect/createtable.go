package dialect

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// CreateTable is Arroyo's CREATE TABLE:
//
//	CREATE TABLE [IF NOT EXISTS] name
//	  [( column_def, ... [, WATERMARK FOR column [AS expr]] [, PRIMARY KEY (column, ...)] )]
//	  [WITH (key = value, ...)]
//
//	column_def: name type [NOT NULL | NULL] [PRIMARY KEY]
//	            [GENERATED ALWAYS AS (expr) [STORED | VIRTUAL]]
//	            [METADATA FROM 'field']
//
// Without WITH it declares a memory table. Option keys are identifiers,
// dotted identifiers (source.offset) or 'strings'; values are 'strings',
// numbers or true/false.
type CreateTable struct {
	Name        string
	NamePos     Pos
	IfNotExists bool
	Columns     []*ColumnDef
	HasColumns  bool // a column list was given, possibly empty
	Watermark   *Watermark
	PrimaryKey  []string // from PRIMARY KEY (...) or column_def PRIMARY KEY
	PrimaryPos  []Pos    // of each PrimaryKey name
	Options     []*Option
	HasWith     bool
	Stmt        *Statement // for PosOf, TextOf and Errorf on the expressions
}

// Option returns the option with the given key (case-insensitive), or nil.
func (c *CreateTable) Option(key string) *Option {
	for _, o := range c.Options {
		if strings.EqualFold(o.Key, key) {
			return o
		}
	}
	return nil
}

// ColumnDef is a column of a CREATE TABLE, or a field of a STRUCT type.
type ColumnDef struct {
	Name      string
	Pos       Pos // of the name
	Type      TypeName
	NotNull   bool
	Generated ast.ExprNode // GENERATED ALWAYS AS (expr), or nil
	// Metadata is the field of METADATA FROM 'field' ("" without): the
	// column is filled by the connector (a Kafka record's key, partition,
	// offset, timestamp or topic), not decoded from the record.
	Metadata    string
	MetadataPos Pos
}

// Watermark is WATERMARK FOR column [AS expr].
type Watermark struct {
	Column string
	Pos    Pos          // of the column name
	Expr   ast.ExprNode // nil without AS
}

// Option is one key = value of a WITH clause. Value is the text of the
// value: the content of a 'string' (quotes removed, ” undone), a number as
// written, or true/false in lower case.
type Option struct {
	Key, Value       string
	KeyPos, ValuePos Pos
	Quoted           bool // the value was a 'string' literal, not a number or true/false
}

// ctparser parses a CREATE TABLE statement.
type ctparser struct {
	tparser
	s     *Statement
	tidb  *parser.Parser
	match []int
}

func parseCreateTable(s *Statement, tidb *parser.Parser, toks []token) (*CreateTable, *Error) {
	match, err := matchBrackets(s.f, toks)
	if err != nil {
		return nil, err
	}
	p := &ctparser{tparser: tparser{f: s.f, toks: toks}, s: s, tidb: tidb, match: match}
	ct := &CreateTable{Stmt: s}
	p.i = 2 // CREATE TABLE
	if p.accept("IF") {
		if _, err := p.expect("NOT", "NOT EXISTS after IF"); err != nil {
			return nil, err
		}
		if _, err := p.expect("EXISTS", "EXISTS after IF NOT"); err != nil {
			return nil, err
		}
		ct.IfNotExists = true
	}
	nt := p.peek()
	if !nt.isIdent() || nt.is("WITH") && p.peekAt(1).is("(") {
		return nil, p.errorf("expected a table name, found %s", describe(nt))
	}
	p.i++
	ct.Name, ct.NamePos = nt.identName(), s.f.pos(nt.start)
	if p.peek().is(".") {
		return nil, p.errorf("table names cannot be qualified; quote a name that contains '.'")
	}
	if p.peek().is("(") {
		if err := p.elements(ct); err != nil {
			return nil, err
		}
	}
	if p.accept("WITH") {
		if err := p.options(ct); err != nil {
			return nil, err
		}
	}
	if !p.atEnd() {
		t := p.peek()
		if t.is("AS") {
			return nil, p.errorf("CREATE TABLE ... AS SELECT is not supported; use CREATE VIEW or INSERT INTO")
		}
		if ct.HasWith {
			return nil, p.errorf("unexpected %s after the WITH options", describe(t))
		}
		if ct.HasColumns {
			return nil, p.errorf("unexpected %s after the column list; expected WITH (...)", describe(t))
		}
		return nil, p.errorf("unexpected %s in CREATE TABLE; expected a column list or WITH (...)", describe(t))
	}
	return ct, nil
}

// elements parses the parenthesised column list.
func (p *ctparser) elements(ct *CreateTable) *Error {
	closing := p.match[p.i]
	p.i++
	ct.HasColumns = true
	seen := map[string]bool{}
	if p.i == closing {
		p.i++
		return nil
	}
	for {
		t := p.peek()
		switch {
		case t.is("WATERMARK") && p.peekAt(1).is("FOR"):
			if ct.Watermark != nil {
				return p.errorf("only one WATERMARK is allowed")
			}
			p.i += 2
			w, err := p.watermark(closing)
			if err != nil {
				return err
			}
			ct.Watermark = w
		case t.is("PRIMARY") && p.peekAt(1).is("KEY"):
			p.i += 2
			if len(ct.PrimaryKey) > 0 {
				return p.errorAt(t, "only one PRIMARY KEY is allowed")
			}
			cols, pos, err := p.nameList()
			if err != nil {
				return err
			}
			ct.PrimaryKey, ct.PrimaryPos = cols, pos
		default:
			c, pk, err := p.column()
			if err != nil {
				return err
			}
			key := strings.ToLower(c.Name)
			if seen[key] {
				return p.errorAt(t, "duplicate column '%s'", c.Name)
			}
			seen[key] = true
			ct.Columns = append(ct.Columns, c)
			if pk {
				if len(ct.PrimaryKey) > 0 {
					return p.errorAt(t, "only one PRIMARY KEY is allowed")
				}
				ct.PrimaryKey, ct.PrimaryPos = []string{c.Name}, []Pos{c.Pos}
			}
		}
		if p.i == closing {
			p.i++
			return nil
		}
		if _, err := p.expect(",", "',' or ')' in the column list"); err != nil {
			return err
		}
		if p.i == closing {
			return p.errorf("expected a column definition after ','")
		}
	}
}

// column parses name type [constraints].
func (p *ctparser) column() (*ColumnDef, bool, *Error) {
	nt := p.peek()
	if !nt.isIdent() {
		return nil, false, p.errorf("expected a column name, found %s", describe(nt))
	}
	p.i++
	c := &ColumnDef{Name: nt.identName(), Pos: p.f.pos(nt.start)}
	if t := p.peek(); t.is(",") || t.is(")") {
		return nil, false, p.errorf("expected a type for column '%s'", c.Name)
	}
	typ, err := p.typeName()
	if err != nil {
		return nil, false, err
	}
	c.Type = typ
	pk, nullSet := false, false
	for {
		t := p.peek()
		switch {
		case t.is("NOT") && p.peekAt(1).is("NULL"), t.is("NULL"):
			if nullSet {
				return nil, false, p.errorf("NULL or NOT NULL given twice for column '%s'", c.Name)
			}
			nullSet = true
			c.NotNull = t.is("NOT")
			if c.NotNull {
				p.i++
			}
			p.i++
		case t.is("PRIMARY") && p.peekAt(1).is("KEY"):
			p.i += 2
			pk = true
		case t.is("GENERATED"):
			if c.Generated != nil {
				return nil, false, p.errorf("GENERATED given twice for column '%s'", c.Name)
			}
			p.i++
			for _, w := range []string{"ALWAYS", "AS"} {
				if _, err := p.expect(w, w+" in GENERATED ALWAYS AS (expr)"); err != nil {
					return nil, false, err
				}
			}
			if !p.peek().is("(") {
				return nil, false, p.errorf("expected '(' in GENERATED ALWAYS AS (expr), found %s", describe(p.peek()))
			}
			open, closing := p.i, p.match[p.i]
			if closing == open+1 {
				return nil, false, p.errorf("expected an expression in GENERATED ALWAYS AS (expr)")
			}
			e, err := parseExpr(p.s, p.tidb, p.toks[open+1:closing])
			if err != nil {
				return nil, false, err
			}
			c.Generated = e
			p.i = closing + 1
			if !p.accept("STORED") {
				p.accept("VIRTUAL")
			}
		case t.is("METADATA") && p.peekAt(1).is("FROM"):
			if c.Metadata != "" {
				return nil, false, p.errorf("METADATA FROM given twice for column '%s'", c.Name)
			}
			p.i += 2
			f := p.peek()
			if f.kind != tkString {
				return nil, false, p.errorf("expected a 'string' after METADATA FROM, found %s", describe(f))
			}
			c.Metadata, c.MetadataPos = f.stringValue(), p.f.pos(f.start)
			p.i++
		default:
			return c, pk, nil
		}
	}
}

// watermark parses the rest of WATERMARK FOR column [AS expr], where the
// column list closes at token index closing.
func (p *ctparser) watermark(closing int) (*Watermark, *Error) {
	col := p.peek()
	if !col.isIdent() {
		return nil, p.errorf("expected a column name after WATERMARK FOR, found %s", describe(col))
	}
	p.i++
	w := &Watermark{Column: col.identName(), Pos: p.f.pos(col.start)}
	if !p.accept("AS") {
		return w, nil
	}
	start := p.i
	q := start
	for q < closing && !p.toks[q].is(",") {
		if p.toks[q].is("(") || p.toks[q].is("[") {
			q = p.match[q]
		}
		q++
	}
	if q == start {
		return nil, p.errorf("expected an expression after WATERMARK FOR %s AS", w.Column)
	}
	e, err := parseExpr(p.s, p.tidb, p.toks[start:q])
	if err != nil {
		return nil, err
	}
	w.Expr = e
	p.i = q
	return w, nil
}

// nameList parses (name, ...).
func (p *ctparser) nameList() ([]string, []Pos, *Error) {
	if _, err := p.expect("(", "'('"); err != nil {
		return nil, nil, err
	}
	var names []string
	var pos []Pos
	for {
		t := p.peek()
		if !t.isIdent() {
			return nil, nil, p.errorf("expected a column name, found %s", describe(t))
		}
		p.i++
		names = append(names, t.identName())
		pos = append(pos, p.f.pos(t.start))
		if p.accept(")") {
			return names, pos, nil
		}
		if _, err := p.expect(",", "',' or ')'"); err != nil {
			return nil, nil, err
		}
	}
}

// options parses ( key = value, ... ) after WITH.
func (p *ctparser) options(ct *CreateTable) *Error {
	if !p.peek().is("(") {
		return p.errorf("expected '(' after WITH, found %s", describe(p.peek()))
	}
	closing := p.match[p.i]
	p.i++
	ct.HasWith = true
	seen := map[string]bool{}
	for p.i < closing {
		kt := p.peek()
		key, err := p.optionKey()
		if err != nil {
			return err
		}
		if seen[strings.ToLower(key)] {
			return p.errorAt(kt, "option '%s' is given twice", key)
		}
		seen[strings.ToLower(key)] = true
		if !p.accept("=") {
			return p.errorf("expected '=' after option '%s', found %s", key, describe(p.peek()))
		}
		vt := p.peek()
		o := &Option{Key: key, KeyPos: p.f.pos(kt.start), ValuePos: p.f.pos(vt.start)}
		switch {
		case vt.kind == tkString:
			o.Value, o.Quoted = vt.stringValue(), true
			p.i++
		case vt.kind == tkNumber:
			o.Value = vt.text
			p.i++
		case (vt.is("-") || vt.is("+")) && p.peekAt(1).kind == tkNumber && p.peekAt(1).start == vt.end:
			o.Value = vt.text + p.peekAt(1).text
			p.i += 2
		case vt.is("TRUE") || vt.is("FALSE"):
			o.Value = strings.ToLower(vt.text)
			p.i++
		case vt.is(",") || vt.is(")") || p.atEnd():
			return p.errorf("missing value for option '%s'", key)
		default:
			return p.errorf("the value of option '%s' must be a 'string', a number or true/false, found %s", key, describe(vt))
		}
		ct.Options = append(ct.Options, o)
		if p.i == closing {
			break
		}
		if _, err := p.expect(",", "',' or ')' after option '"+key+"'"); err != nil {
			return err
		}
	}
	p.i = closing + 1
	return nil
}

// optionKey parses key, key.sub.key, 'key' or "key".
func (p *ctparser) optionKey() (string, *Error) {
	t := p.peek()
	switch t.kind {
	case tkString:
		p.i++
		return t.stringValue(), nil
	case tkWord, tkQIdent:
		key := t.identName()
		p.i++
		for p.peek().is(".") {
			p.i++
			n := p.peek()
			if !n.isIdent() {
				return "", p.errorf("expected a name after '.' in option key, found %s", describe(n))
			}
			p.i++
			key += "." + n.identName()
		}
		return key, nil
	}
	return "", p.errorf("expected an option name, found %s", describe(t))
}
