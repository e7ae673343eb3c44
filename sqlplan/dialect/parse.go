package dialect

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // literal values for the parser
)

// Statement is one statement of a SQL file.
type Statement struct {
	// Text is the original text of the statement, from its first token to
	// its last, without the ';' that ends it.
	Text string
	// CreateTable is set for CREATE TABLE, which this package parses itself.
	CreateTable *CreateTable
	// Node is set for every other statement: TiDB's AST of the rewritten
	// text. Its expressions may call CastFunc, TryCastFunc and IntervalFunc.
	Node ast.StmtNode

	f          *file
	start, end int                // file offsets of Text
	main       *unit              // text behind Node
	sub        map[ast.Node]*unit // nodes of CREATE TABLE expressions

	mu   sync.Mutex // guards the lazily built fields below
	idx  *index
	tidb *parser.Parser // for TextOf's trial parses
}

// File is the file name given to Parse.
func (s *Statement) File() string { return s.f.name }

// Pos is where the statement starts in the file.
func (s *Statement) Pos() Pos { return s.f.pos(s.start) }

// Verb is what the statement is, in SQL words: its leading keywords in
// upper case, at most two ("DROP TABLE", "DELETE FROM", "SHOW TABLES",
// "UPDATE"), for messages about statements the planner does not support.
func (s *Statement) Verb() string {
	toks, err := tokenize(newFile("", s.Text))
	if err != nil {
		return ""
	}
	var words []string
	for _, t := range toks {
		if len(words) == 2 || t.kind != tkWord {
			break
		}
		if _, kw := tidbKeywords[strings.ToUpper(t.text)]; !kw && len(words) > 0 {
			break
		}
		words = append(words, strings.ToUpper(t.text))
	}
	return strings.Join(words, " ")
}

// newTiDBParser returns a TiDB parser set up for the rewritten dialect.
func newTiDBParser() *parser.Parser {
	p := parser.New()
	p.SetSQLMode(mysql.ModeANSIQuotes | mysql.ModePipesAsConcat | mysql.ModeNoBackslashEscapes)
	return p
}

// errParserPanic reports a panic inside TiDB's parser.
var errParserPanic = errors.New("the SQL parser failed on this statement")

// parseSQL runs TiDB's parser, turning a panic (its test driver panics on
// some literals) into an error.
func parseSQL(p *parser.Parser, sql string) (nodes []ast.StmtNode, err error) {
	defer func() {
		if r := recover(); r != nil {
			nodes, err = nil, errParserPanic
		}
	}()
	nodes, _, err = p.ParseSQL(sql)
	return nodes, err
}

// Parse splits a SQL file into statements and parses them. file names the
// file in errors and may be empty. The error, if any, is an *Error for the
// first problem found. A file without statements gives no statements and no
// error.
func Parse(file, text string) ([]*Statement, error) {
	stmts, err := parseFile(file, text)
	if err != nil {
		return nil, err
	}
	return stmts, nil
}

func parseFile(name, text string) ([]*Statement, *Error) {
	f := newFile(name, text)
	toks, err := tokenize(f)
	if err != nil {
		return nil, err
	}
	var (
		stmts []*Statement
		p     *parser.Parser
		start = 0
	)
	for i := 0; i <= len(toks); i++ {
		if i < len(toks) && !toks[i].is(";") {
			continue
		}
		st := toks[start:i]
		start = i + 1
		if len(st) == 0 {
			if i < len(toks) {
				return nil, f.errorf(toks[i].start, "empty statement: a ';' with no statement before it")
			}
			break
		}
		if p == nil {
			p = newTiDBParser()
		}
		s, err := parseStatement(f, p, st)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, s)
	}
	return stmts, nil
}

func parseStatement(f *file, p *parser.Parser, toks []token) (*Statement, *Error) {
	s := &Statement{f: f, start: toks[0].start, end: toks[len(toks)-1].end}
	s.Text = f.text[s.start:s.end]
	if toks[0].is("CREATE") && len(toks) > 1 && toks[1].is("TABLE") {
		ct, err := parseCreateTable(s, p, toks)
		if err != nil {
			return nil, err
		}
		s.CreateTable = ct
		return s, nil
	}
	u, err := rewrite(f, toks, "")
	if err != nil {
		return nil, err
	}
	nodes, perr := parseSQL(p, u.text)
	if perr != nil {
		return nil, syntaxError(f, u, perr)
	}
	if len(nodes) != 1 {
		return nil, f.errorf(s.start, "expected one statement, found %d", len(nodes))
	}
	s.Node, s.main = nodes[0], u
	return s, nil
}

// parseExpr parses the expression in toks with TiDB, as the only field of
// "SELECT <expr>", and records the unit of its nodes in s.
func parseExpr(s *Statement, p *parser.Parser, toks []token) (ast.ExprNode, *Error) {
	f := s.f
	u, err := rewrite(f, toks, "SELECT ")
	if err != nil {
		return nil, err
	}
	nodes, perr := parseSQL(p, u.text)
	if perr != nil {
		return nil, syntaxError(f, u, perr)
	}
	sel, ok := nodes[0].(*ast.SelectStmt)
	if !ok || len(nodes) != 1 || sel.Fields == nil || len(sel.Fields.Fields) != 1 || sel.From != nil ||
		sel.Where != nil || sel.GroupBy != nil || sel.Having != nil || sel.OrderBy != nil || sel.Limit != nil ||
		sel.Fields.Fields[0].Expr == nil {
		return nil, f.errorf(toks[0].start, "expected one expression")
	}
	field := sel.Fields.Fields[0]
	if field.AsName.L != "" {
		return nil, f.errorf(toks[0].start, "expected one expression, found an alias '%s'", field.AsName.O)
	}
	if s.sub == nil {
		s.sub = map[ast.Node]*unit{}
	}
	field.Expr.Accept(&collector{fn: func(n ast.Node) { s.sub[n] = u }})
	return field.Expr, nil
}

// collector calls fn for every node of a tree.
type collector struct{ fn func(ast.Node) }

func (c *collector) Enter(n ast.Node) (ast.Node, bool) { c.fn(n); return n, false }
func (c *collector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// syntaxError converts a TiDB parse error on the rewritten text of u to an
// error at the original position. TiDB reports 'line L column C near
// "REST"' where REST is the text from the start of the offending token to
// the end of the input.
func syntaxError(f *file, u *unit, err error) *Error {
	msg := err.Error()
	off, ok := tidbErrorOffset(u.text, msg)
	if !ok {
		// Errors raised by grammar actions carry no position, but often
		// quote the offending text: point at it if it can be found.
		m := msg
		if i := strings.Index(m, "]"); strings.HasPrefix(m, "[") && i > 0 {
			m = m[i+1:]
		}
		at := 0
		if parts := strings.Split(m, "'"); len(parts) >= 3 && parts[1] != "" {
			if i := strings.Index(u.text, parts[1]); i >= 0 {
				at = i
			}
		}
		return f.errorf(u.orig(at), "syntax error: %s", strings.TrimSpace(m))
	}
	if strings.TrimSpace(u.text[off:]) == "" {
		return f.errorf(u.origEnd(len(u.text)), "syntax error: unexpected end of statement")
	}
	o := u.orig(off)
	return f.errorf(o, "syntax error near %q%s%s", snippet(f.text[:u.origEnd(len(u.text))], o), callHint(f, o), reservedHint(f, o))
}

// tidbErrorOffset finds the offset in src of the token a TiDB error message
// points at.
func tidbErrorOffset(src, msg string) (int, bool) {
	const near = ` near "`
	i := strings.Index(msg, near)
	if !strings.HasPrefix(msg, "line ") || i < 0 {
		return 0, false
	}
	rest := msg[i+len(near):]
	// The scanner cuts long remainders and appends "(total length N)".
	if j := strings.LastIndex(rest, `"(total length `); j >= 0 {
		num := rest[j+len(`"(total length `):]
		if k := strings.IndexByte(num, ')'); k > 0 {
			if n, err := strconv.Atoi(num[:k]); err == nil && n <= len(src) {
				return len(src) - n, true
			}
		}
	}
	// Otherwise the remainder is quoted whole: take the longest suffix of
	// src that rest starts with, followed by the closing quote.
	for off := 0; off <= len(src); off++ {
		tail := src[off:]
		if len(rest) > len(tail) && rest[len(tail)] == '"' && strings.HasPrefix(rest, tail) {
			return off, true
		}
	}
	// Fall back on the line and column, which point after the token.
	var line, col int
	if _, err := fmt.Sscanf(msg, "line %d column %d", &line, &col); err == nil {
		off := 0
		for l := 1; l < line && off < len(src); l++ {
			k := strings.IndexByte(src[off:], '\n')
			if k < 0 {
				break
			}
			off += k + 1
		}
		return min(off+col, len(src)), true
	}
	return 0, false
}

// snippet is the original text at off, up to the end of its line, shortened
// for a message.
func snippet(text string, off int) string {
	s := text[off:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimRight(s, " \t\r")
	const maxRunes = 40
	if utf8.RuneCountInString(s) > maxRunes {
		r := []rune(s)
		s = string(r[:maxRunes]) + "..."
	}
	return s
}
