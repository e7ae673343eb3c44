package kafka_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/arroyogo/arroyo/connectors/kafka"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/sqlplan"
)

// testerTable plans a one-table pipeline and returns the Kafka table.
func testerTable(t *testing.T, role, opts string) *connector.Table {
	t.Helper()
	sql := fmt.Sprintf("CREATE TABLE k (id BIGINT) WITH (connector = 'kafka', format = 'json', type = '%s', %s);\n", role, opts)
	if role == "source" {
		sql += "CREATE TABLE dst (id BIGINT) WITH (connector = 'blackhole');\nINSERT INTO dst SELECT id FROM k;"
	} else {
		src := strings.Replace(opts, "topic = '", "topic = 'src_", 1)
		sql += fmt.Sprintf("CREATE TABLE s (id BIGINT) WITH (connector = 'kafka', format = 'json', type = 'source', %s);\nINSERT INTO k SELECT id FROM s;", src)
	}
	prog, err := sqlplan.Plan("t.sql", sql, sqlplan.Options{Name: "t", Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range prog.Nodes {
		if n.Op == program.OpSource && n.Source.Connector == kafka.Name {
			return n.Source
		}
		if n.Op == program.OpSink && n.Sink.Connector == kafka.Name {
			return n.Sink
		}
	}
	t.Fatal("no kafka table")
	return nil
}

// runTest runs the Kafka table test and returns its steps and error.
func runTest(t *testing.T, role, opts string) ([]connector.TestStep, error) {
	t.Helper()
	tester, ok := connector.LookupTester(kafka.Name)
	if !ok {
		t.Fatal("no kafka tester")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var steps []connector.TestStep
	// No sample records: TestConnectionTesterSamples reads them.
	err := tester.TestTable(ctx, &connector.TableTest{Table: testerTable(t, role, opts), Role: role}, func(s connector.TestStep) error {
		steps = append(steps, s)
		return nil
	})
	return steps, err
}

// TestConnectionTester: the connection test's Kafka steps against kfake:
// brokers reached (with the authentication used), topic found with its
// partitions, a missing topic (an error for a source, created at start for
// a sink), unreachable brokers and wrong credentials, each a clear error
// that never shows the password.
func TestConnectionTester(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	steps, err := runTest(t, "source", fmt.Sprintf("bootstrap_servers = '%s', topic = 'orders'", addr))
	if err != nil || len(steps) != 2 || !strings.Contains(steps[0].Message, "connected to 1 brokers at "+addr+" (no authentication)") ||
		steps[1].Message != "topic 'orders' found with 2 partitions" {
		t.Fatalf("source test: %+v, %v", steps, err)
	}
	if _, err := runTest(t, "source", fmt.Sprintf("bootstrap_servers = '%s', topic = 'nope'", addr)); err == nil || !strings.Contains(err.Error(), "topic 'nope' not found") {
		t.Errorf("missing topic: %v", err)
	}
	steps, err = runTest(t, "sink", fmt.Sprintf("bootstrap_servers = '%s', topic = 'fresh'", addr))
	if err != nil || len(steps) != 2 || !strings.Contains(steps[1].Message, "the sink creates it when it starts") {
		t.Errorf("sink to a missing topic: %+v, %v", steps, err)
	}
	if _, err := runTest(t, "source", "bootstrap_servers = '127.0.0.1:1', topic = 'orders', connect_timeout = '2s'"); err == nil {
		t.Errorf("unreachable broker: no error")
	}

	sc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("PLAIN", "alice", "right"), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	saddr := sc.ListenAddrs()[0]
	sasl := "bootstrap_servers = '%s', topic = 'orders', 'auth.type' = 'sasl', 'auth.protocol' = 'SASL_PLAINTEXT', 'auth.mechanism' = 'PLAIN', 'auth.username' = 'alice', 'auth.password' = '%s', connect_timeout = '3s'"
	steps, err = runTest(t, "source", fmt.Sprintf(sasl, saddr, "right"))
	if err != nil || len(steps) < 1 || !strings.Contains(steps[0].Message, "SASL PLAIN as alice") {
		t.Errorf("SASL: %+v, %v", steps, err)
	}
	_, err = runTest(t, "source", fmt.Sprintf(sasl, saddr, "wrong-pw"))
	if err == nil || strings.Contains(err.Error(), "wrong-pw") {
		t.Errorf("wrong password: %v (must fail without showing it)", err)
	}
}
