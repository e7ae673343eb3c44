package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/client"
	"github.com/arroyogo/arroyo/controlplane/store"
)

// TestPreflight: `arroyo run` and the API's pipeline creation report a
// Kafka table's problem found at plan time (a missing sink topic that the
// sink may not create) before anything runs, and create nothing; a
// pipeline whose checks pass is created.
func TestPreflight(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "in"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	addr := kc.ListenAddrs()[0]
	sql := func(sinkTopic string) string {
		return "CREATE TABLE src (id BIGINT) WITH (connector = 'kafka', bootstrap_servers = '" + addr + "', topic = 'in', type = 'source', format = 'json');\n" +
			"CREATE TABLE dst (id BIGINT) WITH (connector = 'kafka', bootstrap_servers = '" + addr + "', topic = '" + sinkTopic + "', type = 'sink', format = 'json', 'sink.create_topic' = 'false');\n" +
			"INSERT INTO dst SELECT id FROM src;\n"
	}
	const want = "kafka table 'dst': topic 'missing' does not exist on "

	dir := t.TempDir()
	file := filepath.Join(dir, "p.sql")
	if err := os.WriteFile(file, []byte(sql("missing")), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runArroyo(t, "", "run", "--state-dir", filepath.Join(dir, "state"), file)
	if r.code == 0 || !strings.Contains(r.stderr, want+addr+" and option 'sink.create_topic' is false") {
		t.Errorf("arroyo run: exit %d, stderr:\n%s", r.code, r.stderr)
	}

	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "db.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := api.New(api.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := client.New(hs.URL, "")
	_, err = c.CreatePipeline(ctx, api.PipelinePost{Name: "p", Parallelism: 1, Query: sql("missing")})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusBadRequest || !strings.Contains(ce.Message, want) {
		t.Errorf("create pipeline: %v", err)
	}
	if ps, _, err := st.ListPipelines(ctx, store.Page{}); err != nil || len(ps) != 0 {
		t.Errorf("a refused pipeline was stored: %v %v", ps, err)
	}
	if _, err := c.CreatePipeline(ctx, api.PipelinePost{Name: "ok", Parallelism: 1, Query: strings.Replace(sql("in"), ", 'sink.create_topic' = 'false'", "", 1)}); err != nil {
		t.Errorf("create pipeline whose checks pass: %v", err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topics, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if topics.Has("missing") {
		t.Errorf("the checks created the sink topic: %v", topics.Names())
	}
}
