package kafka_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/arroyogo/arroyo/connectors/avro"
	_ "github.com/arroyogo/arroyo/connectors/blackhole"
	_ "github.com/arroyogo/arroyo/connectors/jsonfmt"
	"github.com/arroyogo/arroyo/connectors/kafka"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/dataflow"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

func plan(t testing.TB, sql string) (*program.Program, error) {
	t.Helper()
	return sqlplan.Plan("t.sql", sql, sqlplan.Options{Name: "t", Parallelism: 1})
}

const sinkSQL = "CREATE TABLE dst (id BIGINT) WITH (connector = 'blackhole');\nINSERT INTO dst SELECT id FROM src;\n"

func TestOptionErrors(t *testing.T) {
	cases := []struct{ opts, want string }{
		{"bootstrap_servers = 'b:9092', topic = 't', type = 'source', 'source.offset' = 'first'",
			"invalid value 'first' for option 'source.offset': allowed values are 'earliest', 'latest', 'group'"},
		{"topic = 't', type = 'source'", "option 'bootstrap_servers' is required"},
		{"bootstrap_servers = 'b:9092', topic = 't', type = 'source', 'auth.mechanism' = 'scram-sha-256'",
			"did you mean 'SCRAM-SHA-256'?"},
		{"bootstrap_servers = 'b:9092', topic = 't', type = 'source', 'sink.commit_mode' = 'twice'",
			"allowed values are 'at_least_once', 'exactly_once'"},
		{"bootstrap_servers = 'b:9092', topic = 't', type = 'source', 'source.group' = 'g'", "unknown option 'source.group'"},
	}
	for _, c := range cases {
		_, err := plan(t, "CREATE TABLE src (id BIGINT) WITH (connector = 'kafka', format = 'json', "+c.opts+");\n"+sinkSQL)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant %q", c.opts, err, c.want)
		}
	}
}

// newSource builds a source of the table of sql directly (as the runtime
// does), returning the error of its construction or first Poll.
func startErr(t *testing.T, sql string) error {
	t.Helper()
	prog, err := plan(t, sql)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	j, err := dataflow.Start(ctx, prog, dataflow.Options{JobID: "j"})
	if err != nil {
		return err
	}
	return j.Wait()
}

func TestTemplatesAndRedaction(t *testing.T) {
	const secret = "hunter2-secret"
	sql := "CREATE TABLE src (id BIGINT) WITH (connector = 'kafka', format = 'json', bootstrap_servers = '127.0.0.1:1', topic = 't', type = 'source', " +
		"connect_timeout = '1s', 'auth.type' = 'sasl', 'auth.username' = 'u', 'auth.password' = '" + secret + "');\n" + sinkSQL
	prog, err := plan(t, sql)
	if err != nil {
		t.Fatal(err)
	}
	if s := prog.String(); strings.Contains(s, secret) || !strings.Contains(s, program.RedactedValue) {
		t.Errorf("plan text shows the password or no redaction:\n%s", s)
	}
	if err := startErr(t, sql); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("unreachable broker with a password: %v", err)
	}

	// A missing variable names the variable and the option.
	tpl := strings.Replace(sql, secret, "{{ARROYO_TEST_NO_SUCH_VAR}}", 1)
	err = startErr(t, tpl)
	if err == nil || !strings.Contains(err.Error(), "environment variable ARROYO_TEST_NO_SUCH_VAR is not set") || !strings.Contains(err.Error(), "auth.password") {
		t.Errorf("missing variable: %v", err)
	}
	// A set variable is used, and neither it nor its value shows.
	t.Setenv("ARROYO_TEST_KAFKA_PW", secret)
	tpl = strings.Replace(sql, secret, "{{ ARROYO_TEST_KAFKA_PW }}", 1)
	err = startErr(t, tpl)
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("templated password: %v", err)
	}
}

func TestClientConfigs(t *testing.T) {
	base := "CREATE TABLE src (id BIGINT) WITH (connector = 'kafka', format = 'json', bootstrap_servers = '127.0.0.1:1', topic = 't', type = 'source', connect_timeout = '1s', client_configs = '%s');\n" + sinkSQL
	for v, want := range map[string]string{
		"bogus.key=1":              "unsupported key 'bogus.key'",
		"linger.ms":                "'linger.ms' is not key=value",
		"compression.type=brotli":  "allowed values are 'none', 'gzip'",
		"client.id=me,linger.ms=5": "127.0.0.1:1", // valid: fails only at the unreachable broker
	} {
		err := startErr(t, strings.Replace(base, "%s", v, 1))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("client_configs = '%s': got %v, want %q", v, err, want)
		}
	}
}

func TestBadBootstrap(t *testing.T) {
	err := startErr(t, "CREATE TABLE src (id BIGINT) WITH (connector = 'kafka', format = 'json', bootstrap_servers = 'nohostport', topic = 't', type = 'source');\n"+sinkSQL)
	if err == nil || !strings.Contains(err.Error(), "'nohostport' is not host:port") {
		t.Errorf("got %v", err)
	}
}

// TestSinkKeyAndTimestamp writes the key and timestamp from columns.
func TestSinkKeyAndTimestamp(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "in", "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := strings.Join(c.ListenAddrs(), ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ts := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	v, _ := json.Marshal(map[string]any{"id": 7, "name": "seven", "at": ts.Format(time.RFC3339)})
	if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: "in", Value: v}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	sql := "CREATE TABLE src (id BIGINT, name TEXT, at TIMESTAMP) WITH (connector = 'kafka', format = 'json', bootstrap_servers = '" + addr + "', topic = 'in', type = 'source', 'source.offset' = 'earliest');\n" +
		"CREATE TABLE dst (id BIGINT, name TEXT, at TIMESTAMP) WITH (connector = 'kafka', format = 'json', bootstrap_servers = '" + addr + "', topic = 'out', type = 'sink', 'sink.key_field' = 'name', 'sink.timestamp_field' = 'at', 'sink.commit_mode' = 'at_least_once');\n" +
		"INSERT INTO dst SELECT id, name, at FROM src;\n"
	prog, err := plan(t, sql)
	if err != nil {
		t.Fatal(err)
	}
	j, err := dataflow.Start(t.Context(), prog, dataflow.Options{JobID: "j"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { j.Cancel(); _ = j.Wait() }()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var got *kgo.Record
	for got == nil {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			j.Cancel()
			t.Fatalf("no record in out: %v", j.Wait())
		}
		fs.EachRecord(func(r *kgo.Record) { got = r })
	}
	if string(got.Key) != "seven" || !got.Timestamp.Equal(ts) {
		t.Errorf("key %q timestamp %v; want seven, %v", got.Key, got.Timestamp, ts)
	}
}

func TestSinkKeyFieldUnknown(t *testing.T) {
	tb := &connector.Table{Name: "dst", Connector: "kafka", Options: connector.Options{"bootstrap_servers": "127.0.0.1:1", "topic": "out", "sink.key_field": "nope"}}
	c, _ := connector.Lookup("kafka")
	tb.Format = &connector.FormatConfig{Name: "json", Options: connector.Options{}}
	tb.Schema = mustSchema(t)
	_, err := c.NewSink(tb, connector.SinkTask{JobID: "j", OperatorID: "o"})
	if err == nil || !strings.Contains(err.Error(), "option 'sink.key_field': 'nope' is not a column of the table (columns: id)") {
		t.Errorf("got %v", err)
	}
}

// TestConfluentProfile reads through a 'confluent' table whose
// connection comes from a profile: SASL_SSL PLAIN with the key and secret.
func TestConfluentProfile(t *testing.T) {
	dir := t.TempDir()
	tlsCfg, caFile := selfSigned(t, dir)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("PLAIN", "KEY123", "s3cret"), kfake.TLS(tlsCfg), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := strings.Join(c.ListenAddrs(), ",")
	if err := kafka.SetConnectionProfiles(map[string]map[string]string{"cloud": {"bootstrap_servers": addr, "key": "KEY123", "secret": "{{ARROYO_TEST_CONFLUENT_SECRET}}"}}); err != nil {
		t.Fatal(err)
	}
	defer kafka.SetConnectionProfiles(nil)
	t.Setenv("ARROYO_TEST_CONFLUENT_SECRET", "s3cret")

	sql := "CREATE TABLE src (id BIGINT) WITH (connector = 'confluent', connection_profile = 'cloud', format = 'json', topic = 'orders', type = 'source', 'source.offset' = 'earliest', 'tls.ca_file' = '" + caFile + "');\n" +
		"CREATE TABLE dst (id BIGINT) WITH (connector = 'confluent', connection_profile = 'cloud', format = 'json', topic = 'copy', type = 'sink', 'tls.ca_file' = '" + caFile + "');\n" +
		"INSERT INTO dst SELECT id FROM src;\n"
	prog, err := plan(t, sql)
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{RootCAs: tlsCfg.RootCAs, MinVersion: tls.VersionTLS12}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DialTLSConfig(tc), kgo.SASL(plainMech("KEY123", "s3cret")), kgo.ConsumeTopics("copy"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: "orders", Value: []byte(`{"id": 42}`)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	j, err := dataflow.Start(t.Context(), prog, dataflow.Options{JobID: "j"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { j.Cancel(); _ = j.Wait() }()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var got string
	for got == "" {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("nothing copied: %v", fs.Err0())
		}
		fs.EachRecord(func(r *kgo.Record) { got = string(r.Value) })
	}
	if got != `{"id":42}` {
		t.Errorf("copied %s", got)
	}

	// An unknown profile is a clear error.
	err = startErr(t, strings.ReplaceAll(sql, "'cloud'", "'nope'"))
	if err == nil || !strings.Contains(err.Error(), "no connection profile 'nope' (known profiles: cloud)") {
		t.Errorf("unknown profile: %v", err)
	}
	if err := kafka.SetConnectionProfiles(map[string]map[string]string{"x": {"password": "p"}}); err == nil || !strings.Contains(err.Error(), "unknown key 'password'") {
		t.Errorf("bad profile key: %v", err)
	}
}

func selfSigned(t *testing.T, dir string) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, RootCAs: pool}, caFile
}

func mustSchema(t *testing.T) *types.Schema {
	return types.NewSchema(types.Field{Name: "id", Type: types.Int64T, Nullable: true})
}

func plainMech(user, pass string) sasl.Mechanism {
	return plain.Auth{User: user, Pass: pass}.AsMechanism()
}

// TestMetadataColumns reads key, partition, offset, timestamp and topic
// through METADATA FROM columns, beside decoded ones.
func TestMetadataColumns(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "in"), kfake.SeedTopics(1, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := strings.Join(c.ListenAddrs(), ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ts := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	if err := cl.ProduceSync(t.Context(),
		&kgo.Record{Topic: "in", Partition: 1, Key: []byte("k1"), Value: []byte(`{"id": 1}`), Timestamp: ts},
		&kgo.Record{Topic: "in", Partition: 1, Value: []byte(`{"id": 2}`), Timestamp: ts}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	sql := "CREATE TABLE src (id BIGINT, k TEXT METADATA FROM 'key', p INT METADATA FROM 'partition', o BIGINT METADATA FROM 'offset', ts TIMESTAMP METADATA FROM 'timestamp', tp TEXT METADATA FROM 'topic') " +
		"WITH (connector = 'kafka', format = 'json', bootstrap_servers = '" + addr + "', topic = 'in', type = 'source', 'source.offset' = 'earliest');\n" +
		"CREATE TABLE dst WITH (connector = 'kafka', format = 'json', bootstrap_servers = '" + addr + "', topic = 'out', type = 'sink');\n" +
		"INSERT INTO dst SELECT id, k, p, o, CAST(ts AS BIGINT) AS ts, tp FROM src;\n"
	got := runAndRead(t, sql, cl, 2)
	want := []string{
		`{"id":1,"k":"k1","p":1,"o":0,"ts":` + strconv.FormatInt(ts.UnixNano(), 10) + `,"tp":"in"}`,
		`{"id":2,"k":null,"p":1,"o":1,"ts":` + strconv.FormatInt(ts.UnixNano(), 10) + `,"tp":"in"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestMetadataErrors(t *testing.T) {
	for sql, want := range map[string]string{
		"CREATE TABLE src (id BIGINT, k TEXT METADATA FROM 'headers') WITH (connector = 'kafka', bootstrap_servers = 'b:1', topic = 't', type = 'source');\n" + sinkSQL: "unknown metadata field 'headers' for connector 'kafka' (one of 'key', 'offset', 'partition', 'timestamp', 'topic')",
		"CREATE TABLE src (id BIGINT, k TEXT METADATA FROM 'key') WITH (connector = 'blackhole');\n" + sinkSQL:                                                          "connector 'blackhole' has no metadata columns",
		"CREATE TABLE m (id BIGINT, k TEXT METADATA FROM 'key');\nCREATE TABLE dst (id BIGINT) WITH (connector = 'blackhole');\nINSERT INTO dst SELECT id FROM m;\n":    "a memory table has no metadata columns",
		"CREATE TABLE src (id BIGINT, k TEXT METADATA FROM key) WITH (connector = 'kafka', bootstrap_servers = 'b:1', topic = 't', type = 'source');\n" + sinkSQL:       "expected a 'string' after METADATA FROM",
	} {
		_, err := plan(t, sql)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s\n got %v\nwant %q", sql, err, want)
		}
	}
	err := startErr(t, "CREATE TABLE src (id BIGINT, o TEXT METADATA FROM 'offset') WITH (connector = 'kafka', format = 'json', bootstrap_servers = '127.0.0.1:1', topic = 't', type = 'source');\n"+
		"CREATE TABLE dst (o TEXT) WITH (connector = 'blackhole');\nINSERT INTO dst SELECT o FROM src;\n")
	if err == nil || !strings.Contains(err.Error(), "column 'o' METADATA FROM 'offset' must be BIGINT, not TEXT") {
		t.Errorf("type: %v", err)
	}
}

// TestExamplesPlan plans the Kafka examples (they need a broker to run, so
// cmd/arroyo's TestExamplesRun, which globs examples/*.sql, leaves them out).
func TestExamplesPlan(t *testing.T) {
	files, err := filepath.Glob("../../examples/kafka/*.sql")
	if err != nil || len(files) < 2 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sqlplan.Plan(f, string(text), sqlplan.Options{Name: "ex"}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestDocsListEveryOption keeps the connector pages true: every declared
// option appears in its page.
func TestDocsListEveryOption(t *testing.T) {
	for name, page := range map[string]string{"kafka": "kafka.md", "confluent": "confluent.md"} {
		text, err := os.ReadFile("../../docs/connectors/" + page)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := connector.Lookup(name)
		for _, o := range c.Options {
			if !strings.Contains(string(text), "| `"+o.Name+"` |") {
				t.Errorf("docs/connectors/%s does not list option %s", page, o.Name)
			}
		}
	}
}

// TestChangelogSink writes an updating aggregate as debezium_json.
func TestChangelogSink(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "in", "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := strings.Join(c.ListenAddrs(), ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: "in", Value: []byte(`{"v": "a"}`)}, &kgo.Record{Topic: "in", Value: []byte(`{"v": "a"}`)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	sql := "CREATE TABLE src (v TEXT) WITH (connector = 'kafka', format = 'json', bootstrap_servers = '" + addr + "', topic = 'in', type = 'source', 'source.offset' = 'earliest');\n" +
		"CREATE TABLE dst (v TEXT, n BIGINT) WITH (connector = 'kafka', format = 'debezium_json', bootstrap_servers = '" + addr + "', topic = 'out', type = 'sink', 'sink.key_field' = 'v');\n" +
		"INSERT INTO dst SELECT v, count(*) AS n FROM src GROUP BY v;\n"
	prog, err := plan(t, sql)
	if err != nil {
		t.Fatal(err)
	}
	j, err := dataflow.Start(t.Context(), prog, dataflow.Options{JobID: "j"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { j.Cancel(); _ = j.Wait() }()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var last string
	for !strings.Contains(last, `"n":2`) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			j.Cancel()
			t.Fatalf("last record %q: %v", last, j.Wait())
		}
		fs.EachRecord(func(r *kgo.Record) {
			last = string(r.Value)
			if string(r.Key) != "a" {
				t.Errorf("key %q", r.Key)
			}
		})
	}
	if !strings.Contains(last, `"op":`) || !strings.Contains(last, `"after":{"v":"a","n":2}`) {
		t.Errorf("last change %s", last)
	}
}

// TestMetadataOnlyProjection reads only a metadata column: the format
// decodes nothing, every record is one row (even one that is not JSON).
func TestMetadataOnlyProjection(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "in", "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := strings.Join(c.ListenAddrs(), ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: "in", Value: []byte(`{"id": 1}`)}, &kgo.Record{Topic: "in", Value: []byte(`not json`)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	sql := "CREATE TABLE src (id BIGINT, o BIGINT METADATA FROM 'offset') WITH (connector = 'kafka', format = 'json', bootstrap_servers = '" + addr + "', topic = 'in', type = 'source', 'source.offset' = 'earliest');\n" +
		"CREATE TABLE dst WITH (connector = 'kafka', format = 'json', bootstrap_servers = '" + addr + "', topic = 'out', type = 'sink');\n" +
		"INSERT INTO dst SELECT o FROM src;\n"
	got := runAndRead(t, sql, cl, 2)
	if strings.Join(got, " ") != `{"o":0} {"o":1}` {
		t.Errorf("got %q", got)
	}
}

// TestSchemaRegistryRoundTrip writes Avro through a registry sink (it
// registers <topic>-value and frames every record) and reads it back
// through a registry source, against kfake and srfake.
func TestSchemaRegistryRoundTrip(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "in", "avro", "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reg := srfake.New()
	defer reg.Close()
	addr := strings.Join(c.ListenAddrs(), ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: "in", Value: []byte(`{"id": 5, "name": "five"}`)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	with := func(topic, typ, format string) string {
		return "WITH (connector = 'kafka', bootstrap_servers = '" + addr + "', topic = '" + topic + "', type = '" + typ + "', 'source.offset' = 'earliest', format = '" + format + "'" +
			map[bool]string{true: ", 'avro.confluent_schema_registry' = 'true', 'schema_registry.endpoint' = '" + reg.URL() + "'", false: ""}[format == "avro"] + ")"
	}
	sql := "CREATE TABLE src (id BIGINT, name TEXT) " + with("in", "source", "json") + ";\n" +
		"CREATE TABLE av (id BIGINT, name TEXT) " + with("avro", "sink", "avro") + ";\n" +
		"CREATE TABLE av_in (id BIGINT, name TEXT) " + with("avro", "source", "avro") + ";\n" +
		"CREATE TABLE dst (id BIGINT, name TEXT) " + with("out", "sink", "json") + ";\n" +
		"INSERT INTO av SELECT id, name FROM src;\nINSERT INTO dst SELECT id, name FROM av_in;\n"
	prog, err := plan(t, sql)
	if err != nil {
		t.Fatal(err)
	}
	j, err := dataflow.Start(t.Context(), prog, dataflow.Options{JobID: "j"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { j.Cancel(); _ = j.Wait() }()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var got string
	for got == "" {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			j.Cancel()
			t.Fatalf("nothing read back: %v", j.Wait())
		}
		fs.EachRecord(func(r *kgo.Record) { got = string(r.Value) })
	}
	if got != `{"id":5,"name":"five"}` {
		t.Errorf("read back %s", got)
	}
	// The sink registered the subject; its records are framed.
	raw, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("avro"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	fs := raw.PollFetches(ctx)
	if recs := fs.Records(); len(recs) == 0 || len(recs[0].Value) < 5 || recs[0].Value[0] != 0 {
		t.Errorf("avro topic records not Confluent-framed: %v", fs.Err0())
	}
}

// TestSchemaRegistryIncompatible: a sink refuses to start when its subject
// holds a schema the table's is not compatible with (checked by us:
// srfake says compatible to everything).
func TestSchemaRegistryIncompatible(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "in", "avro"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reg := srfake.New()
	defer reg.Close()
	src, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	// A required string field the table's schema does not have: under
	// BACKWARD compatibility the old readers cannot read the new records.
	old := `{"type":"record","name":"r","fields":[{"name":"id","type":"long"},{"name":"must","type":"string"}]}`
	if _, err := src.CreateSchema(t.Context(), "avro-value", sr.Schema{Schema: old, Type: sr.TypeAvro}); err != nil {
		t.Fatal(err)
	}
	addr := strings.Join(c.ListenAddrs(), ",")
	sql := "CREATE TABLE src (id BIGINT) WITH (connector = 'kafka', format = 'json', bootstrap_servers = '" + addr + "', topic = 'in', type = 'source');\n" +
		"CREATE TABLE av (id BIGINT) WITH (connector = 'kafka', format = 'avro', 'avro.confluent_schema_registry' = 'true', 'schema_registry.endpoint' = '" + reg.URL() + "', bootstrap_servers = '" + addr + "', topic = 'avro', type = 'sink');\n" +
		"INSERT INTO av SELECT id FROM src;\n"
	prog, err := plan(t, sql)
	if err != nil {
		t.Fatal(err)
	}
	// The sink connects at its first write or checkpoint: checkpoint.
	j, err := dataflow.Start(t.Context(), prog, dataflow.Options{JobID: "j"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if _, err := j.Checkpoint(ctx); err == nil {
		t.Error("checkpoint succeeded")
	}
	err = j.Wait()
	if err == nil || !strings.Contains(err.Error(), "avro-value") {
		t.Errorf("incompatible registry schema: %v", err)
	}
}

// runAndRead plans and runs sql until cl (consuming the sink's topic) has
// read n records, and returns their values; the job is cancelled after.
func runAndRead(t *testing.T, sql string, cl *kgo.Client, n int) []string {
	t.Helper()
	prog, err := plan(t, sql)
	if err != nil {
		t.Fatal(err)
	}
	j, err := dataflow.Start(t.Context(), prog, dataflow.Options{JobID: "j"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { j.Cancel(); _ = j.Wait() }()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var got []string
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			j.Cancel()
			t.Fatalf("got %q: %v", got, j.Wait())
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}
