package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

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
