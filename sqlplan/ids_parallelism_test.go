package sqlplan_test

import (
	"testing"

	"github.com/arroyogo/arroyo/sqlplan"
)

// TestOperatorIDsSameAtEveryParallelism: a pipeline planned at another
// parallelism (a resume or a rescale re-plans it) has the same operator
// ids, so its restore finds every operator's state. Global aggregates run
// on one subtask whatever the parallelism, so their input edge is a
// forward at 1 and a shuffle above: the ids must not depend on that.
func TestOperatorIDsSameAtEveryParallelism(t *testing.T) {
	for name, q := range map[string]string{
		"global window": `CREATE TABLE i WITH (connector = 'impulse', event_rate = '1000', message_count = '100', event_time_interval = '1ms');
CREATE TABLE out WITH (connector = 'blackhole');
INSERT INTO out SELECT tumble(interval '10 millisecond') AS w, count(*) AS c FROM i GROUP BY 1;`,
		"keyed window and join": `CREATE TABLE i WITH (connector = 'impulse', event_rate = '1000', message_count = '100', event_time_interval = '1ms');
CREATE TABLE out WITH (connector = 'blackhole');
INSERT INTO out SELECT a.k, a.c, b.s FROM
  (SELECT counter % 5 AS k, tumble(interval '10 millisecond') AS w, count(*) AS c FROM i GROUP BY 1, 2) a
  JOIN (SELECT counter % 5 AS k, tumble(interval '10 millisecond') AS w, sum(counter) AS s FROM i GROUP BY 1, 2) b
  ON a.k = b.k AND a.w = b.w;`,
		"updating into single file": `CREATE TABLE i WITH (connector = 'impulse', event_rate = '1000', message_count = '100');
CREATE TABLE out WITH (connector = 'single_file', path = '/tmp/ids-out.json', format = 'debezium_json', type = 'sink');
INSERT INTO out SELECT counter % 3 AS k, count(*) AS c FROM i GROUP BY 1;`,
	} {
		var ref []string
		for p := 1; p <= 4; p++ {
			prog, err := sqlplan.Plan("ids.sql", q, sqlplan.Options{Name: "ids", Parallelism: p})
			if err != nil {
				t.Fatalf("%s at %d: %v", name, p, err)
			}
			var ids []string
			for _, n := range prog.Nodes {
				ids = append(ids, n.OperatorID)
			}
			if p == 1 {
				ref = ids
				continue
			}
			if len(ids) != len(ref) {
				t.Fatalf("%s: %d nodes at parallelism %d, %d at 1", name, len(ids), p, len(ref))
			}
			for i := range ids {
				if ids[i] != ref[i] {
					t.Errorf("%s: node %d is %s at parallelism %d, %s at 1", name, i, ids[i], p, ref[i])
				}
			}
		}
	}
}
