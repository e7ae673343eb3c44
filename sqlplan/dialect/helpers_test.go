package dialect

import (
	"testing"
)

func parseOne(t *testing.T, sql string) *Statement {
	t.Helper()
	stmts, err := Parse("test.sql", sql)
	if err != nil {
		t.Fatalf("Parse(%q): %v", sql, err)
	}
	if len(stmts) != 1 {
		t.Fatalf("Parse(%q): %d statements, want 1", sql, len(stmts))
	}
	return stmts[0]
}
