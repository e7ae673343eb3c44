package sqlplan_test

import (
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/sqlplan"
)

// chainSQL is a bare SELECT of one expression of n terms joined by op.
func chainSQL(term, op string, n int) string {
	terms := make([]string, n)
	for i := range terms {
		terms[i] = term
	}
	return "CREATE TABLE t (id BIGINT, s TEXT) WITH (connector = 'single_file', path = 'in.json', format = 'json', type = 'source');\n" +
		"SELECT " + strings.Join(terms, " "+op+" ") + " AS total, (" + term + " " + op + " " + term + ") FROM t;"
}

// TestPlanLongChain plans chains of 8,000 binary operators (planning was
// quadratic in their length: 4,000 terms took 20 s) and checks the names
// and shape of the result.
func TestPlanLongChain(t *testing.T) {
	for _, tt := range []struct{ term, op, name string }{
		{"id", "+", "id + id"},
		{"s", "||", "s || s"},
	} {
		prog, err := sqlplan.Plan("chain.sql", chainSQL(tt.term, tt.op, 8000), sqlplan.Options{DefaultSink: "stdout"})
		if err != nil {
			t.Fatalf("%s chain: %v", tt.op, err)
		}
		var calc *program.Node
		for _, n := range prog.Nodes {
			if n.Calc != nil {
				calc = n
			}
		}
		if calc == nil {
			t.Fatalf("%s chain: no projection in\n%s", tt.op, prog)
		}
		depth := 0
		for e := calc.Calc.Project[0]; len(e.Args) > 0; e = e.Args[0] {
			depth++
		}
		if depth < 7999 {
			t.Errorf("%s chain: depth %d, want 7999", tt.op, depth)
		}
		var names []string
		for _, f := range calc.Schema.Fields[:len(calc.Schema.Fields)-1] {
			names = append(names, f.Name)
		}
		if got := strings.Join(names, ", "); got != "total, "+tt.name {
			t.Errorf("%s chain: columns %s", tt.op, got)
		}
	}
}

// BenchmarkPlanLongChain plans a chain of 8,000 additions.
func BenchmarkPlanLongChain(b *testing.B) {
	for _, tt := range []struct{ term, op string }{{"id", "+"}, {"s", "||"}} {
		sql := chainSQL(tt.term, tt.op, 8000)
		b.Run(tt.op, func(b *testing.B) {
			for b.Loop() {
				if _, err := sqlplan.Plan("chain.sql", sql, sqlplan.Options{DefaultSink: "stdout"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
