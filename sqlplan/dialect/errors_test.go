package dialect

import (
	"errors"
	"strings"
	"testing"
)

func TestErrors(t *testing.T) {
	tests := []struct{ sql, want string }{
		// Tokens.
		{"SELECT 'abc FROM t", "f.sql:1:8: unterminated string literal starting here"},
		// A stray quote shifts the pairs after it: point at it, not at the
		// quote left over.
		{"SELECT 'a, b FROM t;\nSELECT c FROM t\nWHERE d = 'x';", "f.sql:1:8: unterminated string literal: the ' at 3:13 is never closed; the literal starting here runs on to line 3, so a quote here is probably missing or stray"},
		{"SELECT 1 /* x\n y", "f.sql:1:10: unterminated /* comment"},
		{"SELECT 1 /* a /* b */ c", "f.sql:1:10: unterminated /* comment"},
		{`SELECT E'abc\' FROM t`, "f.sql:1:8: unterminated string literal"},
		{"SELECT \"abc FROM t", "f.sql:1:8: unterminated quoted identifier starting here"},
		{"SELECT $$abc FROM t", "f.sql:1:8: unterminated dollar-quoted string"},
		{"SELECT 1." + strings.Repeat("0", 65) + " FROM t", "f.sql:1:8: numeric literal has more than 65 digits"},
		{"SELECT 1e99999, " + strings.Repeat("9", 65) + " FROM t", "f.sql:1:8: syntax error: Illegal double '1e99999' value found during parsing"},
		{"SELECT a # comment", "f.sql:1:10: unexpected character '#'"},
		{"SELECT a\n  FROM t WHERE b = @x", "f.sql:2:20: unexpected character '@'"},
		// Statements.
		{"SELECT 1;;", "f.sql:1:10: empty statement: a ';' with no statement before it"},
		{"-- nothing\n;", "f.sql:2:1: empty statement: a ';' with no statement before it"},
		{"SELECT (a FROM t", "f.sql:1:8: unbalanced parentheses: '(' is never closed"},
		{"SELECT a) FROM t", "f.sql:1:9: unbalanced parentheses: unexpected ')'"},
		{"SELECT f(a]", "f.sql:1:11: unbalanced parentheses: unexpected ']'"},
		// TiDB syntax errors, mapped back.
		{"SELECT a frm t", `f.sql:1:14: syntax error near "t"`},
		{"SELECT a FROM t WHERE", "f.sql:1:22: syntax error: unexpected end of statement"},
		{"-- comment\nSELECT a::int, INTERVAL '1' HOUR AS b c FROM t", `f.sql:2:39: syntax error near "c FROM t"`},
		{"SELECT a,\n  CAST(b AS TEXT) c d\nFROM t", `f.sql:2:21: syntax error near "d"`},
		{"SELECT 'é', \"ü\"\t frm t", `f.sql:1:22: syntax error near "t"`},
		{"SELECT a FROM t;\nSELECT b FROM t WHERE b = = 1;", `f.sql:2:27: syntax error near "= 1"`},
		{"SELECT a::int FROM t WHERE", "f.sql:1:27: syntax error: unexpected end of statement"},
		{"SELECT x FROM t WHERE x = 'a' ORDER", "f.sql:1:36: syntax error: unexpected end of statement"},
		{"SELECT a FROM t GROUP BY a LIMIT x y", `f.sql:1:34: syntax error near "x y"`},
		// Rewrites.
		{"SELECT a::strng FROM t", "f.sql:1:11: unknown type 'strng' (supported: "},
		{"SELECT CAST(a AS STRNG) FROM t", "f.sql:1:18: unknown type 'STRNG' (supported: "},
		{"SELECT CAST(a AS) FROM t", "f.sql:1:17: expected a type name after AS"},
		{"SELECT CAST(a AS INT x) FROM t", "f.sql:1:22: unexpected 'x' after type INT"},
		{"SELECT CAST(a) FROM t", "f.sql:1:8: CAST needs the form CAST(expression AS type)"},
		{"SELECT CAST(AS INT) FROM t", "f.sql:1:13: CAST needs an expression before AS"},
		{"SELECT ::int FROM t", "f.sql:1:8: '::' must follow a value, as in x::BIGINT"},
		{"SELECT a:: FROM t", "f.sql:1:12: expected a type name after '::', found 'FROM'"},
		{"SELECT a::int(3) FROM t", "f.sql:1:14: type INT takes no arguments"},
		{"SELECT a::varchar(1, 2) FROM t", "f.sql:1:11: type VARCHAR takes 1 to 1 arguments, not 2"},
		{"SELECT a FROM t WHERE x IN (1, 2)::int", `f.sql:1:34: syntax error near "::int"`},
		{"SELECT a::text unsigned FROM t", `f.sql:1:16: syntax error near "unsigned FROM t"`},
		{"SELECT INTERVAL '1' MONTH FROM t", "f.sql:1:8: calendar intervals (months, years) are not supported"},
		{"SELECT INTERVAL '2 years' FROM t", "f.sql:1:8: calendar intervals (months, years) are not supported"},
		{"SELECT INTERVAL 'abc' FROM t", "f.sql:1:8: invalid interval 'abc': expected a number at 'abc'"},
		{"SELECT INTERVAL '5' FROM t", "f.sql:1:8: invalid interval '5': missing unit after 5 (use e.g. '5 seconds')"},
		{"SELECT INTERVAL '1 parsec' FROM t", "f.sql:1:8: invalid interval '1 parsec': unknown unit 'parsec' (use nanoseconds, microseconds, milliseconds, seconds, minutes, hours, days or weeks)"},
		{"SELECT INTERVAL '1:30' HOUR_MINUTE FROM t", "f.sql:1:24: interval unit HOUR_MINUTE is not supported; write e.g. INTERVAL '1 hour 30 minutes'"},
		// CREATE TABLE.
		{"CREATE TABLE t (a STRNG)", "f.sql:1:19: unknown type 'STRNG' (supported: "},
		{"CREATE TABLE t (a)", "f.sql:1:18: expected a type for column 'a'"},
		{"CREATE TABLE t (a INT,)", "f.sql:1:23: expected a column definition after ','"},
		{"CREATE TABLE t (a INT b INT)", "f.sql:1:23: expected ',' or ')' in the column list, found 'b'"},
		{"CREATE TABLE t (a INT, a TEXT)", "f.sql:1:24: duplicate column 'a'"},
		{"CREATE TABLE t (a INT NOT NULL NULL)", "f.sql:1:32: NULL or NOT NULL given twice for column 'a'"},
		{"CREATE TABLE t (a INT", "f.sql:1:16: unbalanced parentheses: '(' is never closed"},
		{"CREATE TABLE t WITH (connector = )", "f.sql:1:34: missing value for option 'connector'"},
		{"CREATE TABLE t WITH (connector = , x = 'y')", "f.sql:1:34: missing value for option 'connector'"},
		{"CREATE TABLE t WITH (connector 'kafka')", "f.sql:1:32: expected '=' after option 'connector', found ''kafka''"},
		{"CREATE TABLE t WITH (connector = kafka)", "f.sql:1:34: the value of option 'connector' must be a 'string', a number or true/false, found 'kafka'"},
		{"CREATE TABLE t WITH (a = 'x', A = 'y')", "f.sql:1:31: option 'A' is given twice"},
		{"CREATE TABLE t WITH (a = 'x' b = 'y')", "f.sql:1:30: expected ',' or ')' after option 'a', found 'b'"},
		{"CREATE TABLE t WITH (source. = 'x')", "f.sql:1:30: expected a name after '.' in option key, found '='"},
		{"CREATE TABLE t WITH connector = 'x'", "f.sql:1:21: expected '(' after WITH, found 'connector'"},
		{"CREATE TABLE t (a INT) WITH (x = 'y') extra", "f.sql:1:39: unexpected 'extra' after the WITH options"},
		{"CREATE TABLE t (a INT) extra", "f.sql:1:24: unexpected 'extra' after the column list; expected WITH (...)"},
		{"CREATE TABLE t extra", "f.sql:1:16: unexpected 'extra' in CREATE TABLE; expected a column list or WITH (...)"},
		{"CREATE TABLE t AS SELECT 1", "f.sql:1:16: CREATE TABLE ... AS SELECT is not supported; use CREATE VIEW or INSERT INTO"},
		{"CREATE TABLE", "f.sql:1:13: expected a table name, found end of statement"},
		{"CREATE TABLE WITH (connector = 'x')", "f.sql:1:14: expected a table name, found 'WITH'"},
		{"SELECT $1", "f.sql:1:8: unexpected character '$'"},
		{"CREATE TABLE IF EXISTS t", "f.sql:1:17: expected NOT EXISTS after IF, found 'EXISTS'"},
		{"CREATE TABLE s.t (a INT)", "f.sql:1:15: table names cannot be qualified; quote a name that contains '.'"},
		{"CREATE TABLE t (ts TIMESTAMP, WATERMARK FOR ts AS)", "f.sql:1:50: expected an expression after WATERMARK FOR ts AS"},
		{"CREATE TABLE t (ts TIMESTAMP, WATERMARK FOR ts, WATERMARK FOR ts)", "f.sql:1:49: only one WATERMARK is allowed"},
		{"CREATE TABLE t (\n  ts TIMESTAMP,\n  WATERMARK FOR ts AS ts -\n)", "f.sql:3:27: syntax error: unexpected end of statement"},
		{"CREATE TABLE t (\n  ts TIMESTAMP,\n  WATERMARK FOR ts AS ts - INTERVAL '1' MONTH)", "f.sql:3:28: calendar intervals (months, years) are not supported"},
		{"CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS (a + * 2))", "f.sql:1:55: syntax error near \"* 2\""},
		{"CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS (a AS x))", "f.sql:1:51: expected one expression, found an alias 'x'"},
		{"CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS (a, b))", "f.sql:1:51: expected one expression"},
		{"CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS ())", "f.sql:1:50: expected an expression in GENERATED ALWAYS AS (expr)"},
		{"CREATE TABLE t (a INT, b INT GENERATED AS (a))", "f.sql:1:40: expected ALWAYS in GENERATED ALWAYS AS (expr), found 'AS'"},
		{"CREATE TABLE t (a STRUCT<x INT, x TEXT>)", "f.sql:1:33: duplicate field 'x' in STRUCT"},
		{"CREATE TABLE t (a STRUCT<x INT)", "f.sql:1:31: expected ',' or '>', found ')'"},
	}
	for _, tt := range tests {
		_, err := Parse("f.sql", tt.sql)
		if err == nil {
			t.Errorf("Parse(%q): no error, want %q", tt.sql, tt.want)
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q): error %T, want *Error", tt.sql, err)
			continue
		}
		got := err.Error()
		if strings.HasSuffix(tt.want, "(supported: ") {
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("Parse(%q)\n got %s\nwant %s...", tt.sql, got, tt.want)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q)\n got %s\nwant %s", tt.sql, got, tt.want)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{Pos: Pos{Line: 3, Col: 7}, Msg: "boom"}
	if got := e.Error(); got != "3:7: boom" {
		t.Errorf("no file: %q", got)
	}
	e.File = "q.sql"
	if got := e.Error(); got != "q.sql:3:7: boom" {
		t.Errorf("with file: %q", got)
	}
}

func TestNoStatements(t *testing.T) {
	for _, sql := range []string{"", "  \n", "-- just a comment\n/* and another */", "SELECT 1; -- trailing\n"} {
		stmts, err := Parse("", sql)
		if err != nil {
			t.Errorf("Parse(%q): %v", sql, err)
		}
		want := 0
		if strings.HasPrefix(sql, "SELECT") {
			want = 1
		}
		if len(stmts) != want {
			t.Errorf("Parse(%q): %d statements, want %d", sql, len(stmts), want)
		}
	}
}

// TestByteOrderMark: a UTF-8 byte-order mark at the start of a file is
// skipped, and columns on line 1 are counted as without it.
func TestByteOrderMark(t *testing.T) {
	for _, sql := range []string{"SELECT a frm t", "SELECT a\nFROM t WHERE"} {
		_, plain := Parse("f.sql", sql)
		_, withBOM := Parse("f.sql", "\uFEFF"+sql)
		if plain == nil || withBOM == nil || plain.Error() != withBOM.Error() {
			t.Errorf("%q: with a BOM %v, without %v", sql, withBOM, plain)
		}
	}
	s := parseOne(t, "\uFEFFSELECT a FROM t")
	if s.Text != "SELECT a FROM t" || s.Pos() != (Pos{1, 1}) {
		t.Errorf("statement %q at %v", s.Text, s.Pos())
	}
}
