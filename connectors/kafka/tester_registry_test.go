package kafka_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	hamba "github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/arroyogo/arroyo/connectors/kafka"
	"github.com/arroyogo/arroyo/connectors/schemareg"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/program"
)

const ordersAvro = `{"type": "record", "name": "order", "fields": [{"name": "id", "type": "long"}, {"name": "item", "type": "string"}]}`

// registryTest runs the table test of the Kafka table declared by ddl
// (columns and WITH options) in role, reading up to rows samples.
func registryTest(t *testing.T, role, ddl string, rows int) ([]connector.TestStep, error) {
	t.Helper()
	sql := "CREATE TABLE k " + ddl + ";\n"
	if role == "source" {
		sql += "CREATE TABLE dst (id BIGINT, item TEXT) WITH (connector = 'blackhole');\nINSERT INTO dst SELECT id, item FROM k;"
	} else {
		sql += "CREATE TABLE s (id BIGINT, item TEXT) WITH (connector = 'kafka', bootstrap_servers = 'localhost:9092', topic = 's', type = 'source', format = 'json');\nINSERT INTO k SELECT id, item FROM s;"
	}
	prog, err := plan(t, sql)
	if err != nil {
		t.Fatal(err)
	}
	var tbl *connector.Table
	for _, n := range prog.Nodes {
		if n.Op == program.OpSource && n.Source.Connector == kafka.Name {
			tbl = n.Source
		}
		if n.Op == program.OpSink && n.Sink.Connector == kafka.Name {
			tbl = n.Sink
		}
	}
	tester, _ := connector.LookupTester(kafka.Name)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var steps []connector.TestStep
	err = tester.TestTable(ctx, &connector.TableTest{Table: tbl, Role: role, SampleRows: rows, SampleTimeout: time.Second}, func(s connector.TestStep) error {
		steps = append(steps, s)
		return nil
	})
	return steps, err
}

func stepText(steps []connector.TestStep) string {
	var b strings.Builder
	for _, s := range steps {
		fmt.Fprintf(&b, "%s: %s\n", s.Status, s.Message)
	}
	return b.String()
}

// TestConnectionTesterRegistry: the Schema Registry step of a table test
// (seed 000, issue 11 item 3) against kfake and srfake: the registry
// reachable, the subject found with its schema converted to columns,
// then Avro sample records decoded with the registry's schema as data
// steps, and the records that do not decode (garbage after the header,
// an unknown schema id, no header) as error steps naming partition,
// offset and reason, the test going on past them; a missing subject and
// a registry that does not answer end the test with an error; a sink's
// missing subject is fine (registered at start), an existing one is
// checked for compatibility.
func TestConnectionTesterRegistry(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders", "other", "empty", "events"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	addr := kc.ListenAddrs()[0]
	reg := srfake.New()
	defer reg.Close()
	id, _, err := reg.RegisterSchema("orders-value", sr.Schema{Schema: ordersAvro, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := reg.RegisterSchema("empty-value", sr.Schema{Schema: ordersAvro, Type: sr.TypeAvro}); err != nil {
		t.Fatal(err)
	}
	sch := hamba.MustParse(ordersAvro)
	framed := func(id int, v map[string]any) []byte {
		b, err := hamba.Marshal(sch, v)
		if err != nil {
			t.Fatal(err)
		}
		return append(schemareg.AppendHeader(nil, id), b...)
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range [][]byte{
		framed(id, map[string]any{"id": int64(1), "item": "apple"}),
		append(schemareg.AppendHeader(nil, id), 0x03), // a long, then nothing
		framed(id, map[string]any{"id": int64(2), "item": "pear"}),
		framed(999, map[string]any{"id": int64(3), "item": "fig"}),
		[]byte(`{"id": 4}`),
	} {
		if err := prod.ProduceSync(context.Background(), &kgo.Record{Topic: "orders", Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	prod.Close()
	with := func(topic, role, endpoint string) string {
		return fmt.Sprintf("(id BIGINT, item TEXT) WITH (connector = 'kafka', bootstrap_servers = '%s', topic = '%s', type = '%s', 'source.offset' = 'earliest', format = 'avro', 'avro.confluent_schema_registry' = 'true', 'schema_registry.endpoint' = '%s')",
			addr, topic, role, endpoint)
	}

	steps, err := registryTest(t, "source", with("orders", "source", reg.URL()), 5)
	all := stepText(steps)
	if err != nil {
		t.Fatalf("source test: %v\n%s", err, all)
	}
	want := []string{
		"info: connected to 1 brokers at " + addr,
		"info: topic 'orders' found with 1 partitions",
		"info: schema registry " + reg.URL() + " reachable",
		fmt.Sprintf("info: subject 'orders-value' found (version 1, id %d, AVRO); its schema converts to the columns (id BIGINT, item TEXT)", id),
		"info: reading up to 5 sample records from the earliest offset",
		`data: {"id":1,"item":"apple"}`,
		"error: record at partition 0 offset 1: ",
		`data: {"id":2,"item":"pear"}`,
		"error: record at partition 0 offset 3: ",
		"error: record at partition 0 offset 4: ",
	}
	t.Logf("source test:\n%s", all)
	lines := strings.Split(strings.TrimSuffix(all, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("source test: %d steps, want %d:\n%s", len(lines), len(want), all)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("step %d: %q, want it to start with %q", i, lines[i], w)
		}
	}
	if !strings.Contains(lines[8], "999") || lines[6] == want[6] || lines[9] == want[9] {
		t.Errorf("bad records' reasons: %q, %q, %q", lines[6], lines[8], lines[9])
	}

	steps, err = registryTest(t, "source", with("empty", "source", reg.URL()), 5)
	if err != nil || !strings.Contains(stepText(steps), "info: no records within 1s") {
		t.Errorf("empty topic: %v\n%s", err, stepText(steps))
	}
	steps, err = registryTest(t, "source", with("other", "source", reg.URL()), 5)
	if err == nil || !strings.Contains(err.Error(), "subject 'other-value' not found") || strings.Contains(stepText(steps), "reading up to") {
		t.Errorf("missing subject: %v\n%s", err, stepText(steps))
	}
	steps, err = registryTest(t, "source", with("orders", "source", "http://127.0.0.1:1"), 5)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") || strings.Contains(stepText(steps), "reachable") {
		t.Errorf("registry down: %v\n%s", err, stepText(steps))
	}

	steps, err = registryTest(t, "sink", with("other", "sink", reg.URL()), 5)
	if err != nil || !strings.Contains(stepText(steps), "subject 'other-value' is not registered yet") || reg.SubjectExists("other-value") {
		t.Errorf("sink to a new subject: %v\n%s", err, stepText(steps))
	}
	// JSON Schema subjects: the schema's columns, framed JSON records; one
	// framed with an Avro schema's id is refused.
	jsID, _, err := reg.RegisterSchema("events-value", sr.Schema{Type: sr.TypeJSON,
		Schema: `{"type": "object", "properties": {"id": {"type": "integer"}, "item": {"type": "string"}}, "required": ["id"]}`})
	if err != nil {
		t.Fatal(err)
	}
	prod, err = kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range [][]byte{
		append(schemareg.AppendHeader(nil, jsID), `{"id": 7, "item": "plum"}`...),
		append(schemareg.AppendHeader(nil, id), `{"id": 8}`...),
	} {
		if err := prod.ProduceSync(context.Background(), &kgo.Record{Topic: "events", Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	prod.Close()
	jsonTable := strings.NewReplacer("format = 'avro', 'avro.", "format = 'json', 'json.").Replace(with("events", "source", reg.URL()))
	steps, err = registryTest(t, "source", jsonTable, 2)
	all = stepText(steps)
	if err != nil || !strings.Contains(all, fmt.Sprintf("info: subject 'events-value' found (version 1, id %d, JSON); its schema converts to the columns (id BIGINT, item TEXT)", jsID)) ||
		!strings.Contains(all, `data: {"id":7,"item":"plum"}`) || !strings.Contains(all, "error: record at partition 0 offset 1: ") {
		t.Errorf("JSON Schema source: %v\n%s", err, all)
	}

	// The sink's own schema (a record named after the table) cannot read
	// the subject's "order" records: refused, nothing registered.
	steps, err = registryTest(t, "sink", with("orders", "sink", reg.URL()), 5)
	if err == nil || !strings.Contains(err.Error(), "not BACKWARD compatible with version 1") {
		t.Errorf("sink of an incompatible schema: %v\n%s", err, stepText(steps))
	}
	same := strings.TrimSuffix(with("orders", "sink", reg.URL()), ")") + ", 'avro.schema' = '" + ordersAvro + "')"
	steps, err = registryTest(t, "sink", same, 5)
	if err != nil || !strings.Contains(stepText(steps), "the table's schema is compatible with it") || strings.Contains(stepText(steps), "data:") {
		t.Errorf("sink to an existing subject: %v\n%s", err, stepText(steps))
	}
	if _, ok := reg.GetSchema("orders-value", 2); ok {
		t.Errorf("the sink test registered a schema")
	}
}
