package dialect

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// positionsSQL has comments, several statements and rewrites before the
// nodes whose positions the test checks. Line numbers are on the right.
const positionsSQL = `-- sources                                                              1
CREATE TABLE bids (                                                    -- 2
  auction BIGINT, price BIGINT, ts TIMESTAMP,                          -- 3
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND                         -- 4
) WITH (connector = 'nexmark');                                        -- 5
/* a block                                                                6
   comment; with a semicolon */                                        -- 7
SELECT price::double * 0.9 AS eur, CAST(auction AS TEXT) || key AS k,  -- 8
	INTERVAL '1' HOUR AS h, window.start, "weird ""col""" /* c */ , é.x    -- 9
FROM bids b JOIN other AS o ON b.auction = o.id                        -- 10
WHERE price > 10 AND ts::timestamp < now() - INTERVAL '5 minutes';     -- 11
INSERT INTO sink (a, partition)                                        -- 12
SELECT count(*), key FROM bids GROUP BY tumble(interval '1' minute), key -- 13
`

// nodeFinder collects nodes by a short description.
type nodeFinder struct {
	s     *Statement
	nodes []ast.Node
}

func (f *nodeFinder) Enter(n ast.Node) (ast.Node, bool) {
	f.nodes = append(f.nodes, n)
	return n, false
}
func (f *nodeFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// find returns the i-th node whose type and TextOf match.
func find(t *testing.T, s *Statement, typ, text string) ast.Node {
	t.Helper()
	f := &nodeFinder{s: s}
	s.Node.Accept(f)
	var seen []string
	for _, n := range f.nodes {
		name := strings.TrimPrefix(fmt.Sprintf("%T", n), "*ast.")
		name = strings.TrimPrefix(name, "*test_driver.")
		if name == typ && s.TextOf(n) == text {
			return n
		}
		seen = append(seen, name+" "+s.TextOf(n))
	}
	t.Fatalf("no %s %q among:\n%s", typ, text, strings.Join(seen, "\n"))
	return nil
}

func TestPositions(t *testing.T) {
	stmts, err := Parse("p.sql", positionsSQL)
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 3 {
		t.Fatalf("%d statements, want 3", len(stmts))
	}
	if got := stmts[1].Pos(); got != (Pos{8, 1}) {
		t.Errorf("statement 2 starts at %v, want 8:1", got)
	}
	tests := []struct {
		stmt      int
		typ, text string // node type and TextOf
		want      string // PosOf
	}{
		// Statement 2: the select.
		{1, "SelectField", "price::double * 0.9 AS eur", "8:8"},
		{1, "BinaryOperationExpr", "price::double * 0.9", "8:8"},
		{1, "FuncCallExpr", "price::double", "8:13"}, // the __cast is at its '::'
		{1, "ColumnNameExpr", "price", "8:8"},
		{1, "ValueExpr", "0.9", "8:24"},
		{1, "SelectField", "CAST(auction AS TEXT) || key AS k", "8:36"},
		{1, "FuncCallExpr", "CAST(auction AS TEXT)", "8:36"},
		{1, "ColumnNameExpr", "auction", "8:41"},
		{1, "ColumnNameExpr", "key", "8:61"},
		{1, "ColumnName", "key", "8:61"},
		{1, "FuncCallExpr", "INTERVAL '1' HOUR", "9:2"},
		{1, "SelectField", "INTERVAL '1' HOUR AS h", "9:2"},
		{1, "ColumnNameExpr", "window.start", "9:26"},
		{1, "ColumnNameExpr", `"weird ""col"""`, "9:40"},
		{1, "ColumnNameExpr", "é.x", "9:66"},
		{1, "TableName", "bids", "10:6"},
		{1, "TableSource", "bids b", "10:6"},
		{1, "TableName", "other", "10:18"},
		{1, "BinaryOperationExpr", "b.auction = o.id", "10:32"},
		{1, "ColumnNameExpr", "o.id", "10:44"},
		{1, "BinaryOperationExpr", "price > 10 AND ts::timestamp < now() - INTERVAL '5 minutes'", "11:7"},
		{1, "ValueExpr", "10", "11:15"},
		{1, "BinaryOperationExpr", "ts::timestamp < now() - INTERVAL '5 minutes'", "11:22"},
		{1, "FuncCallExpr", "ts::timestamp", "11:24"},
		{1, "FuncCallExpr", "now()", "11:38"},
		{1, "FuncCallExpr", "INTERVAL '5 minutes'", "11:46"},
		// Statement 3: the insert.
		{2, "TableName", "sink", "12:13"},
		{2, "ColumnName", "a", "12:19"},
		{2, "ColumnName", "partition", "12:22"},
		{2, "AggregateFuncExpr", "count(*)", "13:8"},
		{2, "ColumnNameExpr", "key", "13:18"},
		{2, "TableName", "bids", "13:27"},
		{2, "FuncCallExpr", "tumble(interval '1' minute)", "13:41"},
		{2, "FuncCallExpr", "interval '1' minute", "13:48"},
	}
	for _, tt := range tests {
		s := stmts[tt.stmt]
		n := find(t, s, tt.typ, tt.text)
		if got := s.PosOf(n).String(); got != tt.want {
			t.Errorf("PosOf(%s %q) = %s, want %s", tt.typ, tt.text, got, tt.want)
		}
	}

	// The watermark expression of the CREATE TABLE.
	ct := stmts[0].CreateTable
	w := ct.Watermark.Expr
	if got := stmts[0].PosOf(w).String(); got != "4:23" {
		t.Errorf("watermark expression at %s, want 4:23", got)
	}
	bin := w.(*ast.BinaryOperationExpr)
	if got := stmts[0].PosOf(bin.R).String(); got != "4:28" {
		t.Errorf("watermark interval at %s, want 4:28", got)
	}
	if got := stmts[0].TextOf(bin.R); got != "INTERVAL '1' SECOND" {
		t.Errorf("watermark interval text %q", got)
	}
	if e := stmts[0].Errorf(bin.L, "bad %s", "ts"); e.Error() != "p.sql:4:23: bad ts" {
		t.Errorf("Errorf = %q", e.Error())
	}
	if got := stmts[1].Errorf(nil, "x").Pos; got != (Pos{8, 1}) {
		t.Errorf("Errorf(nil) at %v, want the statement start", got)
	}
}

// TestPosOfFallback: nodes TiDB does not locate take their first located
// descendant's position, and the statement's start otherwise.
func TestPosOfFallback(t *testing.T) {
	s := parseOne(t, "\n  SELECT a FROM t\n  WHERE b > 1 ORDER BY c")
	sel := s.Node.(*ast.SelectStmt)
	for _, tt := range []struct {
		n    ast.Node
		want string
	}{
		{sel, "2:3"},
		{sel.Where, "3:9"},
		{sel.OrderBy, "3:24"},
		{sel.OrderBy.Items[0], "3:24"},
		{sel.From, "2:17"},
		{&ast.ColumnName{}, "2:3"}, // not from this statement
	} {
		if got := s.PosOf(tt.n).String(); got != tt.want {
			t.Errorf("PosOf(%T) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

// TestTextOf checks that TextOf returns the user's text, rewrites and all.
func TestTextOf(t *testing.T) {
	s := parseOne(t, "SELECT a / b, x::int + 1, f(CAST(y AS TEXT), 'it''s'), -- c\n  (p +\n q) * 2 FROM t")
	f := s.Node.(*ast.SelectStmt).Fields.Fields
	want := []string{"a / b", "x::int + 1", "f(CAST(y AS TEXT), 'it''s')", "(p +\n q) * 2"}
	for i, w := range want {
		if got := s.TextOf(f[i].Expr); got != w {
			t.Errorf("TextOf(field %d) = %q, want %q", i, got, w)
		}
	}
	if got := s.TextOf(s.Node); got != s.Text {
		t.Errorf("TextOf(statement) = %q", got)
	}
	// A node that is not from the statement falls back to restored SQL.
	if got := s.TextOf(&ast.ColumnNameExpr{Name: &ast.ColumnName{Name: ast.NewCIStr("zz")}}); got != `"zz"` {
		t.Errorf("TextOf(foreign node) = %q", got)
	}
}

func TestStatementText(t *testing.T) {
	stmts, err := Parse("", "  -- c\n  SELECT 1 ;\n\nCREATE TABLE t WITH (a = 'b')  ;  SELECT 'x;y'")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SELECT 1", "CREATE TABLE t WITH (a = 'b')", "SELECT 'x;y'"}
	if len(stmts) != len(want) {
		t.Fatalf("%d statements", len(stmts))
	}
	for i, w := range want {
		if stmts[i].Text != w {
			t.Errorf("statement %d text %q, want %q", i, stmts[i].Text, w)
		}
	}
	if p := stmts[1].Pos(); p != (Pos{4, 1}) {
		t.Errorf("statement 2 at %v", p)
	}
}

// TestFieldAndIndexPositions: a rewritten field access is located at its
// field's name, a subscript at its '[', and both have the user's text.
func TestFieldAndIndexPositions(t *testing.T) {
	s := parseOne(t, "SELECT t.p.geo.lat,\n  tags[i + 1] FROM t")
	f := s.Node.(*ast.SelectStmt).Fields.Fields
	for _, tt := range []struct {
		n          ast.Node
		text, want string
	}{
		{f[0].Expr, "t.p.geo.lat", "1:16"},
		{f[0].Expr.(*ast.FuncCallExpr).Args[0], "t.p.geo", "1:8"},
		{f[1].Expr, "tags[i + 1]", "2:7"},
	} {
		if got := s.TextOf(tt.n); got != tt.text {
			t.Errorf("TextOf = %q, want %q", got, tt.text)
		}
		if got := s.PosOf(tt.n).String(); got != tt.want {
			t.Errorf("PosOf(%q) = %s, want %s", tt.text, got, tt.want)
		}
	}
}
