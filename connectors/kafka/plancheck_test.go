package kafka_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	hamba "github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/arroyogo/arroyo/connectors/kafka"
	"github.com/arroyogo/arroyo/connectors/schemareg"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
)

// regEnv is a kfake cluster with topics and an srfake registry.
type regEnv struct {
	addr string
	reg  *srfake.Registry
	cl   *kgo.Client
}

func newRegEnv(t *testing.T, topics ...string) *regEnv {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	reg := srfake.New()
	t.Cleanup(reg.Close)
	addr := strings.Join(c.ListenAddrs(), ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &regEnv{addr: addr, reg: reg, cl: cl}
}

func (e *regEnv) register(t *testing.T, subject, text string, typ sr.SchemaType) int {
	t.Helper()
	id, _, err := e.reg.RegisterSchema(subject, sr.Schema{Schema: text, Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (e *regEnv) produce(t *testing.T, topic string, values ...[]byte) {
	t.Helper()
	for _, v := range values {
		if err := e.cl.ProduceSync(t.Context(), &kgo.Record{Topic: topic, Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *regEnv) with(topic, typ, format string, extra ...string) string {
	s := "WITH (connector = 'kafka', bootstrap_servers = '" + e.addr + "', topic = '" + topic + "', type = '" + typ +
		"', 'source.offset' = 'earliest', format = '" + format + "'"
	for _, x := range extra {
		s += ", " + x
	}
	return s + ")"
}

func (e *regEnv) registry(format string) string {
	return "'" + format + ".confluent_schema_registry' = 'true', 'schema_registry.endpoint' = '" + e.reg.URL() + "'"
}

// readN runs prog until n records are on topic and returns their values,
// sorted.
func (e *regEnv) readN(t *testing.T, prog *program.Program, topic string, n int) []string {
	t.Helper()
	j, err := dataflow.Start(t.Context(), prog, dataflow.Options{JobID: "j"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { j.Cancel(); _ = j.Wait() }()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var got []string
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			j.Cancel()
			t.Fatalf("read %d of %d records: %q (job: %v)", len(got), n, got, j.Wait())
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	sort.Strings(got)
	return got
}

func avroFramed(t *testing.T, id int, schema string, v any) []byte {
	t.Helper()
	s, err := hamba.ParseWithCache(schema, "", &hamba.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := hamba.Marshal(s, v)
	if err != nil {
		t.Fatal(err)
	}
	return append(schemareg.AppendHeader(nil, id), b...)
}

func sourceTable(prog *program.Program, name string) *program.Table {
	for _, n := range prog.Nodes {
		if n.Source != nil && n.Source.Name == name {
			return n.Source
		}
	}
	return nil
}

// TestRegistrySourceWithoutColumns: an Avro registry source declared
// without columns takes the subject's latest schema (v2) as its columns at
// table creation; records written with v1 get v2's defaults.
func TestRegistrySourceWithoutColumns(t *testing.T) {
	e := newRegEnv(t, "ev", "out")
	v1 := `{"type":"record","name":"E","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"}]}`
	v2 := `{"type":"record","name":"E","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"},
		{"name":"level","type":"int","default":3},{"name":"tags","type":{"type":"map","values":"string"},"default":{}}]}`
	id1 := e.register(t, "ev-value", v1, sr.TypeAvro)
	id2 := e.register(t, "ev-value", v2, sr.TypeAvro)
	e.produce(t, "ev",
		avroFramed(t, id1, v1, map[string]any{"id": int64(1), "name": "one"}),
		avroFramed(t, id2, v2, map[string]any{"id": int64(2), "name": "two", "level": 7, "tags": map[string]any{"k": "v"}}))
	sql := "CREATE TABLE ev " + e.with("ev", "source", "avro", e.registry("avro")) + ";\n" +
		"CREATE TABLE out " + e.with("out", "sink", "json") + ";\n" +
		"INSERT INTO out SELECT * FROM ev;\n"
	prog, err := plan(t, sql)
	if err != nil {
		t.Fatal(err)
	}
	src := sourceTable(prog, "ev")
	if src == nil {
		t.Fatal("no source ev in the plan")
	}
	// The map has no SQL type: a JSON column.
	if got := src.Schema.String(); got != "(id BIGINT, name TEXT, level INT, tags JSON)" {
		t.Errorf("resolved columns %s", got)
	}
	if src.Format.Options.String("avro.schema") != v2 {
		t.Errorf("reader schema not stored: %q", src.Format.Options.String("avro.schema"))
	}
	got := e.readN(t, prog, "out", 2)
	want := []string{`{"id":1,"name":"one","level":3,"tags":{}}`, `{"id":2,"name":"two","level":7,"tags":{"k":"v"}}`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestJSONRegistrySourceWithoutColumns: the same with a JSON Schema.
func TestJSONRegistrySourceWithoutColumns(t *testing.T) {
	e := newRegEnv(t, "js", "out")
	schema := `{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"},"ok":{"type":"boolean"}},"required":["id"]}`
	id := e.register(t, "custom", schema, sr.TypeJSON)
	e.produce(t, "js",
		append(schemareg.AppendHeader(nil, id), `{"id":1,"name":"a","ok":true}`...),
		append(schemareg.AppendHeader(nil, id), `{"id":2}`...))
	sql := "CREATE TABLE js " + e.with("js", "source", "json", e.registry("json"), "'value.subject' = 'custom'") + ";\n" +
		"CREATE TABLE out " + e.with("out", "sink", "json") + ";\n" +
		"INSERT INTO out SELECT * FROM js;\n"
	prog, err := plan(t, sql)
	if err != nil {
		t.Fatal(err)
	}
	if got := sourceTable(prog, "js").Schema; got.String() != "(id BIGINT, name TEXT, ok BOOLEAN)" || got.Fields[0].Nullable {
		t.Errorf("resolved columns %s %+v", got, got.Fields)
	}
	got := e.readN(t, prog, "out", 2)
	want := []string{`{"id":1,"name":"a","ok":true}`, `{"id":2,"name":null,"ok":null}`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestSourceWithoutColumnsErrors: what cannot be resolved is a planning
// error naming the table and what to fix.
func TestSourceWithoutColumnsErrors(t *testing.T) {
	e := newRegEnv(t, "t")
	e.register(t, "prot-value", `{"type":"object","properties":{"id":{"type":"integer"}}}`, sr.TypeJSON)
	sink := "CREATE TABLE dst WITH (connector = 'blackhole');\nINSERT INTO dst SELECT * FROM t;\n"
	cases := []struct{ with, want string }{
		{e.with("t", "source", "json"),
			"table 't' has no columns and connector kafka without a schema registry cannot infer them: declare them, or read them from a registry with 'json.confluent_schema_registry' = 'true' and 'schema_registry.endpoint'"},
		{e.with("t", "source", "avro", "'avro.confluent_schema_registry' = 'true'"),
			"option 'schema_registry.endpoint': is required by a format with a schema registry"},
		{e.with("t", "source", "avro", e.registry("avro")),
			"table 't' has no columns, and reading them from the registry failed (subject 't-value'; set 'value.subject' or declare the columns): schema registry " + e.reg.URL() + ": subject 't-value' not found"},
		{e.with("t", "source", "avro", e.registry("avro"), "'value.subject' = 'prot-value'"),
			"subject 'prot-value' version 1 holds a JSON schema, but the table's format is 'avro'"},
		{e.with("t", "source", "json", "'json.confluent_schema_registry' = 'true'", "'schema_registry.endpoint' = 'http://127.0.0.1:1'", "connect_timeout = '2s'"),
			"registry unreachable"},
	}
	for _, c := range cases {
		_, err := plan(t, "CREATE TABLE t "+c.with+";\n"+sink)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant %q", c.with, err, c.want)
		}
		if err != nil && !strings.Contains(err.Error(), "t.sql:1:") {
			t.Errorf("error without the table's position: %v", err)
		}
	}
}

// TestPreflight: the plan-time checks report a missing source topic, a
// missing registry subject, an unreachable cluster and an incompatible
// sink schema, and accept a sink's missing topic (created at start)
// without creating it.
func TestPreflight(t *testing.T) {
	e := newRegEnv(t, "in")
	e.register(t, "avro-value", `{"type":"record","name":"r","fields":[{"name":"id","type":"long"},{"name":"must","type":"string"}]}`, sr.TypeAvro)
	e.register(t, "in-value", `{"type":"record","name":"r","fields":[{"name":"id","type":"long"}]}`, sr.TypeAvro)
	src := func(topic string, extra ...string) string {
		return "CREATE TABLE src (id BIGINT) " + e.with(topic, "source", "json", extra...) + ";\n"
	}
	bh := "CREATE TABLE dst (id BIGINT) WITH (connector = 'blackhole');\nINSERT INTO dst SELECT id FROM src;\n"
	cases := []struct{ sql, want string }{
		{src("in") + bh, ""},
		{src("nope") + bh, "kafka table 'src': source topic 'nope' does not exist on " + e.addr + " (option 'topic')"},
		{"CREATE TABLE src (id BIGINT) WITH (connector = 'kafka', bootstrap_servers = '127.0.0.1:1', topic = 'in', type = 'source', format = 'json', connect_timeout = '1s');\n" + bh,
			"kafka table 'src' (topic 'in'): connect: unable to dial: dial tcp 127.0.0.1:1"},
		{"CREATE TABLE src (id BIGINT) " + e.with("in", "source", "avro", e.registry("avro")) + ";\n" + bh, ""},
		{"CREATE TABLE src (id BIGINT) " + e.with("in", "source", "avro", e.registry("avro"), "'value.subject' = 'gone'") + ";\n" + bh,
			"kafka table 'src' (topic 'in'): schema registry " + e.reg.URL() + ": subject 'gone' not found (option 'value.subject')"},
		{src("in") + "CREATE TABLE snk (id BIGINT) " + e.with("new_topic", "sink", "json") + ";\nINSERT INTO snk SELECT id FROM src;\n", ""},
		{src("in") + "CREATE TABLE snk (id BIGINT) " + e.with("new_topic", "sink", "json", "'sink.create_topic' = 'false'") + ";\nINSERT INTO snk SELECT id FROM src;\n",
			"kafka table 'snk': topic 'new_topic' does not exist on " + e.addr + " and option 'sink.create_topic' is false"},
		{src("in") + "CREATE TABLE snk (id BIGINT) " + e.with("avro", "sink", "avro", e.registry("avro")) + ";\nINSERT INTO snk SELECT id FROM src;\n",
			"kafka table 'snk' (topic 'avro'): schema registry " + e.reg.URL() + ": the sink's schema is not BACKWARD compatible with version 1 (id 1) of subject 'avro-value'"},
	}
	for _, c := range cases {
		prog, err := plan(t, c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		err = connector.PreflightProgram(ctx, prog)
		cancel()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s:\n unexpected %v", c.sql, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s:\n got %v\nwant %q", c.sql, err, c.want)
		}
	}
	// Nothing was created: no sink topic, no subject.
	topics, err := kadm.NewClient(e.cl).ListTopics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if topics.Has("new_topic") || topics.Has("avro") {
		t.Errorf("preflight created topics: %v", topics.Names())
	}
	subjects, err := sr.NewClient(sr.URLs(e.reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	names, err := subjects.Subjects(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(names); string(b) != `["avro-value","in-value"]` {
		t.Errorf("preflight changed the registry's subjects: %s", b)
	}
}

// TestConfluentSourceWithoutColumns: a confluent table takes its registry
// from its connection profile, with {{ENV_VAR}} templates in the
// registry's credentials resolved (a missing variable names the option).
func TestConfluentSourceWithoutColumns(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	if _, _, err := reg.RegisterSchema("orders-value", sr.Schema{Schema: `{"type":"record","name":"o","fields":[{"name":"id","type":"long"},{"name":"item","type":["null","string"]}]}`, Type: sr.TypeAvro}); err != nil {
		t.Fatal(err)
	}
	if err := kafka.SetConnectionProfiles(map[string]map[string]string{"cloud": {"bootstrap_servers": "pkc.example:9092", "key": "K", "secret": "S",
		"schema_registry.endpoint": reg.URL(), "schema_registry.api_key": "RK", "schema_registry.api_secret": "{{ARROYO_TEST_SR_SECRET}}"}}); err != nil {
		t.Fatal(err)
	}
	defer kafka.SetConnectionProfiles(nil)
	sql := "CREATE TABLE orders WITH (connector = 'confluent', connection_profile = 'cloud', topic = 'orders', type = 'source', format = 'avro', 'avro.confluent_schema_registry' = 'true');\n" +
		"CREATE TABLE dst WITH (connector = 'blackhole');\nINSERT INTO dst SELECT * FROM orders;\n"
	if _, err := plan(t, sql); err == nil || !strings.Contains(err.Error(), "option 'schema_registry.api_secret': environment variable 'ARROYO_TEST_SR_SECRET' is not set") {
		t.Errorf("missing variable: %v", err)
	}
	t.Setenv("ARROYO_TEST_SR_SECRET", "hunter2")
	prog, err := plan(t, sql)
	if err != nil {
		t.Fatal(err)
	}
	if got := sourceTable(prog, "orders").Schema.String(); got != "(id BIGINT, item TEXT)" {
		t.Errorf("resolved columns %s", got)
	}
	if strings.Contains(prog.String(), "hunter2") {
		t.Error("the plan shows the registry secret")
	}
}
