package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	hamba "github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/client"
	"github.com/arroyogo/arroyo/controlplane/store"
)

// TestKafkaConnectionTestOverSSE: a Kafka table's connection test through
// the API (as the console runs it) streams the Kafka steps (brokers
// reached, topic found with its partitions), then sample records decoded
// with the table's format, then done; a missing topic ends with an error.
func TestKafkaConnectionTestOverSSE(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	addr := kc.ListenAddrs()[0]
	prod, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{`{"id": 1, "item": "apple"}`, `{"id": 2, "item": "pear"}`} {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	prod.Close()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(t.TempDir(), "db.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := api.New(api.Options{Store: st, SampleTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := client.New(hs.URL, "")
	sqlName := func(s string) api.FieldType { return api.FieldType{SQLName: &s} }
	table := func(topic string) api.ConnectionTablePost {
		return api.ConnectionTablePost{Name: "orders", Connector: "kafka",
			Config: map[string]any{"bootstrap_servers": addr, "topic": topic, "type": "source", "source.offset": "earliest"},
			Schema: &api.ConnectionSchema{Format: map[string]map[string]any{"json": {}},
				Fields: []api.SourceField{{FieldName: "id", FieldType: sqlName("BIGINT")}, {FieldName: "item", FieldType: sqlName("TEXT")}}}}
	}
	var msgs []api.TestSourceMessage
	if err := c.TestConnectionTable(ctx, table("orders"), func(m api.TestSourceMessage) error { msgs = append(msgs, m); return nil }); err != nil {
		t.Fatal(err)
	}
	var text []string
	for _, m := range msgs {
		text = append(text, m.Status+": "+m.Message)
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"connected to 1 brokers at " + addr, "topic 'orders' found with 1 partitions", `"item":"apple"`, `"item":"pear"`} {
		if !strings.Contains(all, want) {
			t.Errorf("steps lack %q:\n%s", want, all)
		}
	}
	if last := msgs[len(msgs)-1]; !last.Done || last.Error {
		t.Errorf("last message %+v, want done without error\n%s", last, all)
	}
	msgs = nil
	if err := c.TestConnectionTable(ctx, table("nope"), func(m api.TestSourceMessage) error { msgs = append(msgs, m); return nil }); err != nil {
		t.Fatal(err)
	}
	if last := msgs[len(msgs)-1]; !last.Done || !last.Error {
		t.Errorf("missing topic: last message %+v", last)
	}
	found := false
	for _, m := range msgs {
		found = found || (m.Status == "error" && strings.Contains(m.Message, "topic 'nope' not found"))
	}
	if !found {
		t.Errorf("missing topic: no error step naming it: %+v", msgs)
	}
}

// TestKafkaAvroConnectionTestOverSSE: the connection test of an Avro
// table with a Schema Registry through the API over SSE: the registry
// step (reachable, subject found, its columns), the sample records
// decoded with the registry's schema as data events, a bad record as an
// error event with its reason, then done with error set (a bad record
// fails the test); the registry down is an error event, then done.
func TestKafkaAvroConnectionTestOverSSE(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	addr := kc.ListenAddrs()[0]
	reg := srfake.New()
	defer reg.Close()
	const avroSchema = `{"type": "record", "name": "order", "fields": [{"name": "id", "type": "long"}, {"name": "item", "type": "string"}]}`
	id, _, err := reg.RegisterSchema("orders-value", sr.Schema{Schema: avroSchema, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	sch := hamba.MustParse(avroSchema)
	for _, v := range []any{map[string]any{"id": int64(1), "item": "apple"}, "garbage", map[string]any{"id": int64(2), "item": "pear"}} {
		rec := []byte("not framed")
		if m, ok := v.(map[string]any); ok {
			b, err := hamba.Marshal(sch, m)
			if err != nil {
				t.Fatal(err)
			}
			// The Confluent header: magic byte 0, the schema id (big-endian).
			rec = append([]byte{0, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}, b...)
		}
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: rec}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	prod.Close()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(t.TempDir(), "db.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := api.New(api.Options{Store: st, SampleTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := client.New(hs.URL, "")
	sqlName := func(s string) api.FieldType { return api.FieldType{SQLName: &s} }
	table := func(registry string) api.ConnectionTablePost {
		return api.ConnectionTablePost{Name: "orders", Connector: "kafka",
			Config: map[string]any{"bootstrap_servers": addr, "topic": "orders", "type": "source", "source.offset": "earliest", "schema_registry.endpoint": registry},
			Schema: &api.ConnectionSchema{Format: map[string]map[string]any{"avro": {"confluentSchemaRegistry": true}},
				Fields: []api.SourceField{{FieldName: "id", FieldType: sqlName("BIGINT")}, {FieldName: "item", FieldType: sqlName("TEXT")}}}}
	}
	run := func(tp api.ConnectionTablePost) ([]api.TestSourceMessage, string) {
		t.Helper()
		var msgs []api.TestSourceMessage
		if err := c.TestConnectionTable(ctx, tp, func(m api.TestSourceMessage) error { msgs = append(msgs, m); return nil }); err != nil {
			t.Fatal(err)
		}
		var text []string
		for _, m := range msgs {
			text = append(text, m.Status+": "+m.Message)
		}
		return msgs, strings.Join(text, "\n")
	}
	msgs, all := run(table(reg.URL()))
	for _, want := range []string{
		"info: schema registry " + reg.URL() + " reachable",
		"info: subject 'orders-value' found (version 1, id 1, AVRO); its schema converts to the columns (id BIGINT, item TEXT)",
		`data: {"id":1,"item":"apple"}`,
		"error: record at partition 0 offset 1: schema registry: message does not start with the Confluent magic byte 0",
		`data: {"id":2,"item":"pear"}`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("steps lack %q:\n%s", want, all)
		}
	}
	if last := msgs[len(msgs)-1]; !last.Done || !last.Error {
		t.Errorf("last message %+v, want done with error (a bad record)\n%s", last, all)
	}
	msgs, all = run(table("http://127.0.0.1:1"))
	if last := msgs[len(msgs)-1]; !last.Done || !last.Error || !strings.Contains(all, "error: schema registry http://127.0.0.1:1") || strings.Contains(all, "data:") {
		t.Errorf("registry down:\n%s", all)
	}

	// A connection profile holds the brokers and the registry (as
	// Arroyo's Kafka profile does): its test checks both; a table of the
	// profile gets the registry step from it.
	profile := func(registry string) api.ConnectionProfilePost {
		return api.ConnectionProfilePost{Name: "local", Connector: "kafka",
			Config: map[string]any{"bootstrap_servers": addr, "connect_timeout": "5s", "schema_registry": map[string]any{"endpoint": registry}}}
	}
	m, err := c.TestConnectionProfile(ctx, profile(reg.URL()))
	if err != nil || !m.Done || m.Error || !strings.Contains(m.Message, "connected to 1 brokers") || !strings.Contains(m.Message, "schema registry "+reg.URL()+" reachable") {
		t.Errorf("profile test: %+v, %v", m, err)
	}
	m, err = c.TestConnectionProfile(ctx, profile("http://127.0.0.1:1"))
	if err != nil || !m.Done || !m.Error || !strings.Contains(m.Message, "127.0.0.1:1") {
		t.Errorf("profile test, registry down: %+v, %v", m, err)
	}
	cp, err := c.CreateConnectionProfile(ctx, profile(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	tp := table("")
	delete(tp.Config, "bootstrap_servers")
	delete(tp.Config, "schema_registry.endpoint")
	tp.ConnectionProfileID = &cp.ID
	_, all = run(tp)
	if !strings.Contains(all, "info: schema registry "+reg.URL()+" reachable") || !strings.Contains(all, `data: {"id":2,"item":"pear"}`) {
		t.Errorf("a table of the profile:\n%s", all)
	}
}

// BenchmarkKafkaTableTestFirstEvent: time from a Kafka table test's
// request to its first SSE event (the options checked, before any network
// step) and to the first broker step (connected, with the broker's
// metadata), against an in-process kfake broker on loopback; p50 and p99
// over b.N tests. No samples are read (a sink test).
//
//	go test -run XXX -bench BenchmarkKafkaTableTestFirstEvent -benchtime 200x ./cmd/arroyo/
func BenchmarkKafkaTableTestFirstEvent(b *testing.B) {
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		b.Fatal(err)
	}
	defer kc.Close()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(b.TempDir(), "db.sqlite")})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	srv, err := api.New(api.Options{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := client.New(hs.URL, "")
	sqlName := "BIGINT"
	table := api.ConnectionTablePost{Name: "orders", Connector: "kafka",
		Config: map[string]any{"bootstrap_servers": kc.ListenAddrs()[0], "topic": "orders", "type": "sink"},
		Schema: &api.ConnectionSchema{Format: map[string]map[string]any{"json": {}}, Fields: []api.SourceField{{FieldName: "id", FieldType: api.FieldType{SQLName: &sqlName}}}}}
	first := make([]time.Duration, 0, b.N)
	broker := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		var f, k time.Duration
		err := c.TestConnectionTable(ctx, table, func(m api.TestSourceMessage) error {
			if f == 0 {
				f = time.Since(start)
			}
			if k == 0 && strings.HasPrefix(m.Message, "connected to") {
				k = time.Since(start)
			}
			return nil
		})
		if err != nil || k == 0 {
			b.Fatalf("table test: %v (broker step seen: %v)", err, k != 0)
		}
		first, broker = append(first, f), append(broker, k)
	}
	b.StopTimer()
	pct := func(ds []time.Duration, p float64) float64 {
		slices.Sort(ds)
		return float64(ds[int(p*float64(len(ds)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(first, 0.5), "first-p50-ms")
	b.ReportMetric(pct(first, 0.99), "first-p99-ms")
	b.ReportMetric(pct(broker, 0.5), "broker-p50-ms")
	b.ReportMetric(pct(broker, 0.99), "broker-p99-ms")
}
