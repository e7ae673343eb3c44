package sqlplan

import (
	"testing"

	"github.com/arroyogo/arroyo/engine/program"
)

// TestTopNPushdown: a filter on a row_number column of a window-function
// subquery sets the node's limit (rn <= 3, rn < 3, rn = 1); other filters
// or other functions leave it unset.
func TestTopNPushdown(t *testing.T) {
	src := `CREATE TABLE t (k TEXT, v BIGINT, ts TIMESTAMP NOT NULL, WATERMARK FOR ts) WITH (connector = 'single_file', path = '/tmp/x.json', format = 'json', type = 'source');
CREATE TABLE out WITH (connector = 'blackhole');
CREATE VIEW c AS SELECT k, tumble(interval '1 minute') AS w, count(*) AS n FROM t GROUP BY 1, 2;
`
	for _, tc := range []struct {
		query string
		limit int64
	}{
		{"SELECT k FROM (SELECT k, row_number() OVER (PARTITION BY w ORDER BY n DESC) AS rn FROM c) WHERE rn <= 3", 3},
		{"SELECT k FROM (SELECT k, row_number() OVER (PARTITION BY w ORDER BY n DESC) AS rn FROM c) WHERE rn < 3", 2},
		{"SELECT k FROM (SELECT k, row_number() OVER (PARTITION BY w ORDER BY n DESC) AS rn FROM c) WHERE rn = 1", 1},
		{"SELECT k FROM (SELECT k, row_number() OVER (PARTITION BY w ORDER BY n DESC) AS rn FROM c) WHERE rn > 3", 0},
		{"SELECT k FROM (SELECT k, n, row_number() OVER (PARTITION BY w ORDER BY n DESC) AS rn FROM c) WHERE n <= 3", 0},
		{"SELECT k FROM (SELECT k, rank() OVER (PARTITION BY w ORDER BY n DESC) AS rn FROM c) WHERE rn <= 3", 0},
	} {
		prog, err := Plan("q.sql", src+"INSERT INTO out "+tc.query+";", Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		var got int64 = -1
		for _, n := range prog.Nodes {
			if n.Op == program.OpWindowFunc {
				got = n.WindowFunc.Limit
			}
		}
		if got != tc.limit {
			t.Errorf("%s: limit %d, want %d", tc.query, got, tc.limit)
		}
	}
}
