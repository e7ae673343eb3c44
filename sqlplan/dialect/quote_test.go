package dialect

import (
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// streamingNames are column names common in streaming SQL; several are
// reserved by TiDB (key, window, partition, rank, row_number) or parsed
// specially by it.
var streamingNames = []string{
	"timestamp", "window", "start", "end", "key", "value", "counter", "count", "date", "time",
	"user", "name", "type", "offset", "partition", "status", "event_time", "first", "last",
	"rank", "row_number", "keys", "index", "range", "rows", "lag", "lead", "source", "data",
	"text", "json", "session", "hash",
}

// TestStreamingNamesParse checks that each name works unquoted in the
// positions the auto-quoting covers.
func TestStreamingNamesParse(t *testing.T) {
	forms := []string{
		"SELECT %s FROM t",
		"SELECT a, %s FROM t",
		"SELECT %s, a FROM t",
		"SELECT t.%s FROM t",
		"SELECT bid.%s FROM t",
		"SELECT %s.start, %s.end FROM t",
		"SELECT a AS %s FROM t",
		"SELECT count(*) AS c FROM t GROUP BY %s",
		"SELECT a FROM t WHERE %s = 1 AND %s IS NOT NULL",
		"SELECT a FROM t ORDER BY %s DESC",
		"SELECT f(%s, %s) FROM t",
		"SELECT CASE WHEN %s > 1 THEN %s ELSE -%s END FROM t",
		"SELECT %s + 1, %s::TEXT, CAST(%s AS BIGINT) FROM t",
		"SELECT row_number() OVER (PARTITION BY %s ORDER BY %s) AS rn FROM t",
		"INSERT INTO sink (a, %s) SELECT a, %s FROM t",
		"SELECT tumble(interval '1' hour) AS %s FROM t",
	}
	for _, name := range streamingNames {
		for _, form := range forms {
			sql := strings.ReplaceAll(form, "%s", name)
			if _, err := Parse("", sql); err != nil {
				t.Errorf("%s: %v", sql, err)
			}
		}
	}
}

// TestNamesStayNames checks that the quoted words come out as names with
// their spelling kept.
func TestNamesStayNames(t *testing.T) {
	s := parseOne(t, "SELECT Key, window.Start, session(x) AS Rank FROM t GROUP BY hash(key)")
	sel := s.Node.(*ast.SelectStmt)
	f := sel.Fields.Fields
	if c := f[0].Expr.(*ast.ColumnNameExpr).Name; c.Name.O != "Key" {
		t.Errorf("field 0 = %q, want Key", c.Name.O)
	}
	if c := f[1].Expr.(*ast.ColumnNameExpr).Name; c.Table.O != "window" || c.Name.O != "Start" {
		t.Errorf("field 1 = %q.%q, want window.Start", c.Table.O, c.Name.O)
	}
	if fn := f[2].Expr.(*ast.FuncCallExpr); fn.FnName.L != "session" || f[2].AsName.O != "Rank" {
		t.Errorf("field 2 = %s AS %s, want session AS Rank", fn.FnName.O, f[2].AsName.O)
	}
	if fn := sel.GroupBy.Items[0].Expr.(*ast.FuncCallExpr); fn.FnName.L != "hash" {
		t.Errorf("group by = %s, want hash", fn.FnName.O)
	}
}

// TestFunctionsParseAsCalls checks that the engine's function names parse
// as plain calls.
func TestFunctionsParseAsCalls(t *testing.T) {
	calls := map[string]string{
		"tumble(interval '1' hour)":                   "tumble",
		"hop(interval '1' minute, interval '1' hour)": "hop",
		"session(interval '10 seconds')":              "session",
		"upper(a)":                                    "upper",
		"lower(a)":                                    "lower",
		"substr(a, 1, 2)":                             "substr",
		"concat(a, b, 'c')":                           "concat",
		"coalesce(a, b)":                              "coalesce",
		"abs(a)":                                      "abs",
		"round(a, 2)":                                 "round",
		"date_trunc('hour', ts)":                      "date_trunc",
		"date_part('hour', ts)":                       "date_part",
		"regexp_match(a, '\\d+')":                     "regexp_match",
		"regexp_replace(a, 'x', 'y')":                 "regexp_replace",
		"split_part(a, ',', 1)":                       "split_part",
		"json_get(a, 'k')":                            "json_get",
		"extract_json_string(a, '$.k')":               "extract_json_string",
		"to_timestamp(a)":                             "to_timestamp",
		"now()":                                       "now",
		"start(a)":                                    "start",
		"end(a)":                                      "end",
		"first(a)":                                    "first",
		"last(a)":                                     "last",
		"value(a)":                                    "value",
		"type(a)":                                     "type",
		"hash(a)":                                     "hash",
		"cardinality(a)":                              "cardinality",
		"range(1, 10)":                                "range",
		"left(a, 2)":                                  "left",
		"right(a, 2)":                                 "right",
		"repeat(a, 2)":                                "repeat",
		"replace(a, 'x', 'y')":                        "replace",
		"if(a, 1, 2)":                                 "if",
		"nullif(a, b)":                                "nullif",
		"md5(a)":                                      "md5",
		"sha256(a)":                                   "sha256",
		"length(a)":                                   "length",
		"strpos(a, 'x')":                              "strpos",
		"trim(a)":                                     "trim",
	}
	for call, name := range calls {
		s, err := Parse("", "SELECT "+call+" FROM t")
		if err != nil {
			t.Errorf("%s: %v", call, err)
			continue
		}
		e := s[0].Node.(*ast.SelectStmt).Fields.Fields[0].Expr
		fn, ok := e.(*ast.FuncCallExpr)
		if !ok || fn.FnName.L != name {
			t.Errorf("%s: got %T %s, want a call of %s", call, e, restore(e), name)
		}
	}
	// Built-ins with their own syntax keep it.
	for _, sql := range []string{
		"SELECT count(*), count(DISTINCT a), sum(a), min(a), max(a), avg(a) FROM t",
		"SELECT substring(a FROM 1 FOR 2), trim(LEADING 'x' FROM a), position('a' IN b), extract(HOUR FROM ts) FROM t",
		"SELECT rank() OVER (PARTITION BY a ORDER BY b), row_number() OVER (ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM t",
		"SELECT lag(a, 1) OVER (ORDER BY ts), first_value(a) OVER w FROM t WINDOW w AS (PARTITION BY b)",
		"SELECT a FROM t WHERE a = ANY (SELECT b FROM u) AND EXISTS (SELECT 1 FROM u) AND a IN (1, 2) AND NOT (a > 1)",
		"SELECT a FROM t WHERE a LIKE 'x%' AND (b BETWEEN 1 AND 2) AND key > 1",
	} {
		if _, err := Parse("", sql); err != nil {
			t.Errorf("%s: %v", sql, err)
		}
	}
}

// TestQuotingIsNeeded shows that TiDB alone rejects these names, so the
// quoting tests above test something.
func TestQuotingIsNeeded(t *testing.T) {
	p := newTiDBParser()
	for _, sql := range []string{
		"SELECT key FROM t",
		"SELECT a FROM t GROUP BY window",
		"SELECT partition, rank, row_number FROM t",
		"SELECT a AS window FROM t",
		"SELECT session(a) FROM t",
		"SELECT start(a) FROM t",
		"SELECT hash(a) FROM t",
	} {
		if _, _, err := p.ParseSQL(sql); err == nil {
			t.Errorf("TiDB accepts %q unquoted; the auto-quoting rule for it can go", sql)
		}
		if _, err := Parse("", sql); err != nil {
			t.Errorf("Parse(%q): %v", sql, err)
		}
	}
}

// TestTiDBRawNames records which of the common streaming column names TiDB
// rejects unquoted (the reason for the quoting rules), so a parser upgrade
// that changes this shows up here.
func TestTiDBRawNames(t *testing.T) {
	reservedInTiDB := setOf("window", "key", "partition", "rank", "row_number")
	names := []string{"timestamp", "window", "start", "end", "key", "value", "counter", "count", "date", "time",
		"user", "name", "type", "offset", "partition", "status", "event_time", "first", "last", "rank", "row_number"}
	p := newTiDBParser()
	ok := func(sql string) bool { _, _, err := p.ParseSQL(sql); return err == nil }
	for _, n := range names {
		bare := !reservedInTiDB[n]
		if got := ok("SELECT " + n + " FROM t"); got != bare {
			t.Errorf("TiDB: SELECT %s FROM t parses = %v, want %v", n, got, bare)
		}
		if got := ok("SELECT a AS " + n + " FROM t"); got != bare {
			t.Errorf("TiDB: SELECT a AS %s parses = %v, want %v", n, got, bare)
		}
		if !ok("SELECT t." + n + ", bid." + n + " FROM t") {
			t.Errorf("TiDB: t.%s does not parse", n)
		}
	}
}
