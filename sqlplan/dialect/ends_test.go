package dialect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// endsCorpus has expressions of every kind the end walk knows, in the
// contexts that close them (brackets, lists, clauses).
var endsCorpus = []string{
	"SELECT a || 'x' || b, -5, - 5, x->'k', x->>'k', 'a' 'b', _utf8mb4'x', x'ff', a IS NOT NULL, a IS TRUE, " +
		"a LIKE 'x' ESCAPE '!', a NOT IN (1,2), CASE WHEN a THEN 1 END, EXISTS (SELECT 1), DATE '2020-01-01', " +
		"CURRENT_TIMESTAMP, row_number() OVER (PARTITION BY a ORDER BY b ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), " +
		"x COLLATE utf8_bin, trim(both 'x' from y), extract(day from ts), a between 1 and 2, not a, (a, b) = (1, 2), " +
		"count(distinct a), count(*) FROM t",
	"SELECT f((a + b)), (a IS NULL), ((x)), CASE a WHEN 1 THEN 'x' ELSE (b) END, g(a IN (1, 2)), x::int + 1, " +
		"CAST(y AS TEXT) || 'z', INTERVAL '1' HOUR, a = ANY (SELECT b FROM u), t.a.b, " +
		"c NOT LIKE 'p%', d IS NOT FALSE, -(a), ~a, a MOD 2, now() - INTERVAL '5 minutes' FROM t WHERE a > 1 AND (b < 2 OR c)",
	"SELECT tumble(interval '1' minute), session(interval '1' second), window.start, key, \"weird\" + 1 " +
		"FROM t GROUP BY 1, key ORDER BY a DESC",
	"INSERT INTO s SELECT a::double * 0.9, CASE WHEN a > 1 THEN (CASE WHEN b THEN 1 END) END FROM t",
	"SELECT lag(a) OVER w, ROW(1, 2), a BETWEEN (1) AND (2 + 3), 'a' LIKE ('b'), x IN (SELECT y FROM u) FROM t",
}

// TestEndsMatchTrialParse checks the end walk against trialEnd, which
// parses candidate spans, on every expression of the corpus and of the
// spec queries.
func TestEndsMatchTrialParse(t *testing.T) {
	sqls := append([]string(nil), endsCorpus...)
	files, _ := filepath.Glob("../../spec/cases/*.test")
	if len(files) == 0 {
		t.Fatal("no spec cases in ../../spec/cases")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sql := specSQL(string(b))
		if sql == "" {
			t.Fatalf("%s: no -- sql section", f)
		}
		sqls = append(sqls, sql)
	}
	checked := 0
	for _, sql := range sqls {
		stmts, err := Parse("", sql)
		if err != nil {
			continue // error cases of the spec
		}
		for _, s := range stmts {
			if s.Node == nil {
				continue
			}
			s.Node.Accept(&collector{fn: func(n ast.Node) {
				e, ok := n.(ast.ExprNode)
				if !ok || e.OriginTextPosition() <= 0 {
					return
				}
				s.mu.Lock()
				defer s.mu.Unlock()
				got, ok1 := s.index().end[e]
				want, ok2 := s.trialEnd(s.main, e, e.OriginTextPosition())
				if !ok2 {
					return // the trial parse finds nothing either
				}
				checked++
				if !ok1 || got != want {
					start := e.OriginTextPosition()
					gotText := ""
					if ok1 {
						gotText = s.main.text[start:got]
					}
					t.Errorf("%T: end walk %q, trial parse %q", e, gotText, s.main.text[start:want])
				}
			}})
		}
	}
	if checked < 200 {
		t.Errorf("only %d expressions checked", checked)
	}
	t.Logf("%d expressions checked", checked)
}

// TestTextOfLongChain: the text of every node of a long chain is found
// without a trial parse, which costs the size of the node each (planning
// was quadratic in the length of a chain).
func TestTextOfLongChain(t *testing.T) {
	terms := make([]string, 500)
	for i := range terms {
		terms[i] = "id"
	}
	chain := strings.Join(terms, " + ")
	s := parseOne(t, "SELECT "+chain+" FROM t")
	e := s.Node.(*ast.SelectStmt).Fields.Fields[0].Expr
	if got := s.TextOf(e); got != chain {
		t.Errorf("TextOf(chain) = %.40q..., want the whole chain", got)
	}
	if got := s.TextOf(e.(*ast.BinaryOperationExpr).L); got != chain[:len(chain)-len(" + id")] {
		t.Errorf("TextOf(chain.L) = %.40q...", got)
	}
	e.Accept(&collector{fn: func(n ast.Node) { s.TextOf(n) }})
	if s.tidb != nil {
		t.Error("TextOf ran trial parses")
	}
}

// specSQL returns the sql section of a spec case file (spec/README.md): the
// lines after "-- sql" up to the next section. The layering keeps this
// package from importing spec, whose Parse is the full reader.
func specSQL(text string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case line == "-- sql":
			in = true
		case in && (line == "-- output" || strings.HasPrefix(line, "-- output:") || strings.HasPrefix(line, "-- error:")):
			return b.String()
		case in:
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
