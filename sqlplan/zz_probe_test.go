package sqlplan_test

import (
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/sqlplan"
)

func TestZZProbe(t *testing.T) {
	const ddl = "CREATE TABLE t (id BIGINT, s TEXT, d DOUBLE) WITH (connector = 'single_file', path = 'in.json', format = 'json', type = 'source');\n"
	for _, sel := range []string{
		"position('b' IN s)", "trim(BOTH 'x' FROM s)", "trim(LEADING 'x' FROM s)", "trim(TRAILING FROM s)", "trim('x' FROM s)",
		"uuid()", "random()", "greatest(1, 2.5, id)", "least(s, 'a')", "greatest(s, 1)",
		"nvl(s, 'a')", "nvl2(s,'a','b')", "nvl(s)", "regexp_like(s, 'a(')", "regexp_like(s, 'a', 'gx')", "regexp_replace(s, 'a', 'b', 'gq')",
		"encode(s, 'hax')", "digest(s, 'blake3')", "regexp_match(s, '(a)')", "sha256(s)", "md5(sha256(s))",
		"mod(id, 2)", "mod(d, 2)",
	} {
		_, err := sqlplan.Plan("p.sql", ddl+"SELECT "+sel+" AS x FROM t;", sqlplan.Options{DefaultSink: "stdout"})
		msg := "ok"
		if err != nil {
			msg = err.Error()
		}
		t.Logf("%-40s %s", sel, strings.ReplaceAll(msg, "\n", " | "))
	}
}
