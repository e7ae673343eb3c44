package dialect

import (
	"errors"
	"sort"
	"strconv"
	"strings"
)

// TypeName is a SQL type as written in a column definition or a cast.
//
// Name is the canonical upper-case name: aliases are resolved (INTEGER ->
// INT, DOUBLE PRECISION and FLOAT8 -> DOUBLE, STRING -> TEXT, BOOL ->
// BOOLEAN, DATETIME -> TIMESTAMP, NUMERIC -> DECIMAL, BINARY/VARBINARY/BLOB
// -> BYTEA, ...) and UNSIGNED is part of the name ("BIGINT UNSIGNED"). An
// array type (TEXT[]) has Name "ARRAY", Array set and its element in Elem.
// A struct type (STRUCT<a INT, b TEXT>) has Name "STRUCT" and its fields in
// Fields.
type TypeName struct {
	Name   string
	Args   []int // VARCHAR(10) -> [10], DECIMAL(10, 2) -> [10 2]
	Array  bool
	Elem   *TypeName    // element type when Array
	Fields []*ColumnDef // fields when Name == "STRUCT"
	Pos    Pos          // where the type starts in the original text
	Text   string       // the type as written, e.g. "integer[]"
}

// String is the canonical text of t, which ParseType reads back.
func (t TypeName) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t TypeName) write(b *strings.Builder) {
	if t.Array && t.Elem != nil {
		t.Elem.write(b)
		b.WriteString("[]")
		return
	}
	b.WriteString(t.Name)
	if t.Name == "STRUCT" {
		b.WriteByte('<')
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIdentIfNeeded(f.Name))
			b.WriteByte(' ')
			f.Type.write(b)
			if f.NotNull {
				b.WriteString(" NOT NULL")
			}
		}
		b.WriteByte('>')
		return
	}
	if len(t.Args) > 0 {
		b.WriteByte('(')
		for i, a := range t.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Itoa(a))
		}
		b.WriteByte(')')
	}
}

// quoteIdentIfNeeded double-quotes s unless it is a plain lower-case word.
func quoteIdentIfNeeded(s string) string {
	plain := s != ""
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			plain = false
			break
		}
	}
	if plain && !typeWords[strings.ToUpper(s)] {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// typeAliases maps every accepted base type name to its canonical name.
var typeAliases = map[string]string{
	"BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN",
	"TINYINT": "TINYINT", "SMALLINT": "SMALLINT", "INT2": "SMALLINT", "MEDIUMINT": "MEDIUMINT",
	"INT": "INT", "INTEGER": "INT", "INT4": "INT",
	"BIGINT": "BIGINT", "INT8": "BIGINT",
	"FLOAT": "FLOAT", "REAL": "FLOAT", "FLOAT4": "FLOAT",
	"DOUBLE": "DOUBLE", "FLOAT8": "DOUBLE",
	"DECIMAL": "DECIMAL", "NUMERIC": "DECIMAL",
	"TEXT": "TEXT", "STRING": "TEXT",
	"VARCHAR": "VARCHAR",
	"CHAR":    "CHAR", "CHARACTER": "CHAR",
	"BYTEA": "BYTEA", "BINARY": "BYTEA", "VARBINARY": "BYTEA", "BLOB": "BYTEA", "BYTES": "BYTEA",
	"TIMESTAMP": "TIMESTAMP", "DATETIME": "TIMESTAMP",
	"DATE": "DATE", "TIME": "TIME",
	"INTERVAL": "INTERVAL",
	"JSON":     "JSON",
	"STRUCT":   "STRUCT",
}

// typeWords holds every word that can start a type name.
var typeWords = func() map[string]bool {
	m := map[string]bool{}
	for k := range typeAliases {
		m[k] = true
	}
	return m
}()

// typeArgs is how many integer arguments each canonical type accepts.
var typeArgs = map[string][2]int{ // min, max
	"VARCHAR": {1, 1}, "CHAR": {1, 1}, "DECIMAL": {1, 2}, "TIMESTAMP": {1, 1}, "TIME": {1, 1}, "FLOAT": {1, 1},
}

var integerTypes = map[string]bool{"TINYINT": true, "SMALLINT": true, "MEDIUMINT": true, "INT": true, "BIGINT": true}

// notYetSupported are canonical type names the dialect parses but the
// planner refuses, with a message of its own ("DECIMAL is not supported
// yet; use DOUBLE or BIGINT"); SupportedTypes leaves them out.
var notYetSupported = setOf()

// SupportedTypes lists the type names accepted in column definitions and
// casts, for error messages.
var SupportedTypes = func() string {
	var names []string
	for k := range typeAliases {
		if k != "STRUCT" && !notYetSupported[typeAliases[k]] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ") + ", DOUBLE PRECISION, CHARACTER VARYING, <integer type> UNSIGNED, <type>[], STRUCT<name type, ...>"
}()

// ParseType parses a type name such as "BIGINT", "VARCHAR(10)", "TEXT[]"
// or "STRUCT<a INT, b TEXT>". It accepts the canonical strings that the
// rewrites put in __cast calls. Positions in the result are relative to
// text; errors are plain errors whose message names the problem.
func ParseType(text string) (TypeName, error) {
	f := newFile("", text)
	toks, err := tokenize(f)
	if err != nil {
		return TypeName{}, errors.New(err.Msg)
	}
	p := &tparser{f: f, toks: toks}
	t, err := p.typeName()
	if err == nil && p.i < len(toks) {
		err = p.errorf("unexpected %s after type %s", describe(toks[p.i]), t.String())
	}
	if err != nil {
		return TypeName{}, errors.New(err.Msg)
	}
	return t, nil
}

// tparser is a cursor over tokens, shared by the type parser, the CREATE
// TABLE parser and the rewrites.
type tparser struct {
	f    *file
	toks []token
	i    int
	end  int // offset used for errors at the end of the tokens
}

func (p *tparser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{kind: tkOp, start: p.endOff(), end: p.endOff()}
}

func (p *tparser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return token{kind: tkOp, start: p.endOff(), end: p.endOff()}
}

func (p *tparser) endOff() int {
	if len(p.toks) > 0 && p.end == 0 {
		return p.toks[len(p.toks)-1].end
	}
	return p.end
}

func (p *tparser) atEnd() bool { return p.i >= len(p.toks) }

// accept consumes the next token if it is the word or operator w.
func (p *tparser) accept(w string) bool {
	if !p.atEnd() && p.peek().is(w) {
		p.i++
		return true
	}
	return false
}

func (p *tparser) expect(w, what string) (token, *Error) {
	t := p.peek()
	if p.accept(w) {
		return t, nil
	}
	return t, p.errorf("expected %s, found %s", what, describe(t))
}

func (p *tparser) errorf(format string, args ...any) *Error {
	return p.f.errorf(p.peek().start, format, args...)
}

func (p *tparser) errorAt(t token, format string, args ...any) *Error {
	return p.f.errorf(t.start, format, args...)
}

// describe names a token for an error message.
func describe(t token) string {
	if t.start == t.end {
		return "end of statement"
	}
	return "'" + t.text + "'"
}

// typeName parses a type at the cursor.
func (p *tparser) typeName() (TypeName, *Error) {
	first := p.peek()
	if first.kind != tkWord {
		return TypeName{}, p.errorf("expected a type name, found %s", describe(first))
	}
	word := strings.ToUpper(first.text)
	name, ok := typeAliases[word]
	if !ok {
		return TypeName{}, p.errorAt(first, "unknown type '%s' (supported: %s)", first.text, SupportedTypes)
	}
	p.i++
	t := TypeName{Name: name, Pos: p.f.pos(first.start)}
	switch {
	case word == "DOUBLE":
		p.accept("PRECISION")
	case word == "CHARACTER" && p.accept("VARYING"):
		t.Name = "VARCHAR"
	case name == "STRUCT":
		if err := p.structFields(&t); err != nil {
			return TypeName{}, err
		}
	}
	if name != "STRUCT" && p.peek().is("(") {
		lim, ok := typeArgs[t.Name]
		if !ok {
			return TypeName{}, p.errorf("type %s takes no arguments", t.Name)
		}
		p.i++
		for {
			n := p.peek()
			v, err := strconv.Atoi(n.text)
			if n.kind != tkNumber || err != nil || v < 0 {
				return TypeName{}, p.errorf("expected an integer type argument, found %s", describe(n))
			}
			p.i++
			t.Args = append(t.Args, v)
			if !p.accept(",") {
				break
			}
		}
		if _, err := p.expect(")", "')'"); err != nil {
			return TypeName{}, err
		}
		if len(t.Args) < lim[0] || len(t.Args) > lim[1] {
			return TypeName{}, p.errorAt(first, "type %s takes %d to %d arguments, not %d", t.Name, lim[0], lim[1], len(t.Args))
		}
	}
	if integerTypes[t.Name] && p.accept("UNSIGNED") {
		t.Name += " UNSIGNED"
	}
	for p.peek().is("[") && p.peekAt(1).is("]") {
		p.i += 2
		elem := t
		elem.Text = p.f.text[first.start:p.toks[p.i-3].end]
		t = TypeName{Name: "ARRAY", Array: true, Elem: &elem, Pos: elem.Pos}
	}
	t.Text = p.f.text[first.start:p.toks[p.i-1].end]
	return t, nil
}

// structFields parses <name type, ...> or (name type, ...) after STRUCT.
func (p *tparser) structFields(t *TypeName) *Error {
	closer := ">"
	if p.accept("<>") {
		return nil // STRUCT<>, which the tokenizer reads as one operator
	}
	if p.accept("(") {
		closer = ")"
	} else if !p.accept("<") {
		return p.errorf("expected '<' after STRUCT, found %s", describe(p.peek()))
	}
	if p.accept(closer) {
		return nil
	}
	seen := map[string]bool{}
	for {
		nt := p.peek()
		if !nt.isIdent() {
			return p.errorf("expected a field name, found %s", describe(nt))
		}
		p.i++
		p.accept(":")
		ft, err := p.typeName()
		if err != nil {
			return err
		}
		c := &ColumnDef{Name: nt.identName(), Pos: p.f.pos(nt.start), Type: ft}
		if p.peek().is("NOT") && p.peekAt(1).is("NULL") {
			p.i += 2
			c.NotNull = true
		} else {
			p.accept("NULL")
		}
		key := strings.ToLower(c.Name)
		if seen[key] {
			return p.errorAt(nt, "duplicate field '%s' in STRUCT", c.Name)
		}
		seen[key] = true
		t.Fields = append(t.Fields, c)
		if p.accept(closer) {
			return nil
		}
		if _, err := p.expect(",", "',' or '"+closer+"'"); err != nil {
			return err
		}
	}
}
