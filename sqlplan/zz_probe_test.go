package sqlplan_test

import (
	"os"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/sqlplan"
)

func TestZZProbe(t *testing.T) {
	data, _ := os.ReadFile("/tmp/probe/plan.txt")
	const ddl = "CREATE TABLE t (id BIGINT, s TEXT, ts TIMESTAMP, j JSON, d DOUBLE, b BOOLEAN) WITH (connector = 'single_file', path = 'in.json', format = 'json', type = 'source');\n"
	for _, q := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(q) == "" {
			continue
		}
		_, err := sqlplan.Plan("p.sql", ddl+q, sqlplan.Options{DefaultSink: "stdout"})
		t.Logf("%s\n     %v", q, err)
	}
}
