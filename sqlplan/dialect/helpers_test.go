package dialect

import (
	"strings"
	"testing"
	"unicode/utf8"
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

// at returns the position of the n-th (0-based) occurrence of marker in
// text.
func at(t *testing.T, text, marker string, n int) Pos {
	t.Helper()
	off := -1
	for i := 0; i <= n; i++ {
		j := strings.Index(text[off+1:], marker)
		if j < 0 {
			t.Fatalf("marker %q #%d not found", marker, n)
		}
		off += 1 + j
	}
	line := strings.Count(text[:off], "\n") + 1
	start := strings.LastIndexByte(text[:off], '\n') + 1
	return Pos{Line: line, Col: utf8.RuneCountInString(text[start:off]) + 1}
}
