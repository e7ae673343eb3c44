package expr

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestEveryFunctionDocumented checks that every built-in function and
// aggregate with a SQL name appears in the SQL reference
// (docs/sql/functions.md, docs/sql/aggregates.md) as a call or as a name in code.
func TestEveryFunctionDocumented(t *testing.T) {
	var docs strings.Builder
	for _, f := range []string{"../../docs/sql/functions.md", "../../docs/sql/aggregates.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs.Write(b)
	}
	text := strings.ToLower(docs.String())
	word := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	var missing []string
	for _, name := range Builtins().Names() {
		switch name {
		case "neg", "like", "ilike", "is_distinct_from", "is_not_distinct_from":
			continue // operators (docs/sql/dialect.md) and the internal negation
		}
		if !word.MatchString(name) {
			continue // operators
		}
		// As a call or a name in code (`sin`, `cos`, `tan(x)`; aliases
		// listed beside their function).
		if !regexp.MustCompile("[`(, ]" + regexp.QuoteMeta(name) + "[`(, ]").MatchString(text) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d functions are not in docs/sql/functions.md or aggregates.md: %s", len(missing), strings.Join(missing, ", "))
	}
}
