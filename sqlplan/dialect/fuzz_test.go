package dialect

import (
	"errors"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// FuzzParse checks that no input makes Parse, PosOf, TextOf, ParseType or
// ParseInterval panic, and that errors are *Error with a valid position.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		positionsSQL,
		"SELECT a::int::text, CAST(b AS TEXT[]) FROM t WHERE x > INTERVAL '1' HOUR",
		"CREATE TABLE t (a INT GENERATED ALWAYS AS (b + 1) STORED, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1 second') WITH (connector = 'x', 'y' = 1)",
		"SELECT key, window.start FROM t GROUP BY tumble(interval '1' minute) AS window",
		"INSERT INTO s SELECT session(interval '5 seconds'), count(*) FROM t;;",
		"SELECT 'unterminated",
		"SELECT (a",
		"CREATE TABLE t (a STRUCT<b INT, c STRUCT<d TEXT>>[])",
		"SELECT CASE WHEN a THEN 1 END::text, (SELECT 1)::int FROM t",
		"SELECT $$x$$, `y`, \"z\" FROM t /* c",
		"SELECT j -> 'a' ->> 'b', a == b, c IS NOT DISTINCT FROM d, s ~* 'x' AND s !~ 'y' FROM t",
		"SELECT order, group FROM t WHERE desc = 1 ORDER BY group DESC, desc",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, err := Parse("fuzz.sql", sql)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if e.Pos.Line < 1 || e.Pos.Col < 1 {
				t.Fatalf("bad error position: %v", e)
			}
			return
		}
		for _, s := range stmts {
			_ = s.Pos()
			if s.Node != nil {
				s.Node.Accept(&collector{fn: func(n ast.Node) {
					p := s.PosOf(n)
					if p.Line < 1 || p.Col < 1 {
						t.Fatalf("bad position %v", p)
					}
					_ = s.TextOf(n)
					if e, ok := n.(ast.ExprNode); ok {
						if _, p, ok := s.Operator(e); ok && (p.Line < 1 || p.Col < 1) {
							t.Fatalf("bad operator position %v", p)
						}
					}
				}})
			}
		}
		_, _ = ParseType(sql)
		_, _ = ParseInterval(sql)
	})
}
