package conformance

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	hamba "github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/arroyogo/arroyo/connectors/schemareg"
	"github.com/arroyogo/arroyo/engine/connector"
)

func init() {
	Register(
		Definition{Name: "broker_restart", Description: "an exactly_once pipeline keeps running across a restart of every broker and delivers every record once", Run: brokerRestart, Timeout: 240 * time.Second},
		Definition{Name: "registry_json_evolution", Description: "a JSON registry source declared without columns reads messages of JSON Schema v1 and v2 (v2 adds an optional field: NULL for v1 messages)", Run: jsonEvolution},
		Definition{Name: "registry_avro_evolution", Description: "an Avro registry source declared without columns reads messages of writer schemas v1 and v2, resolved to v2 (v1 messages get v2's defaults)", Run: avroEvolution},
		Definition{Name: "tls_wrong_ca", Description: "a TLS connection with a CA that did not sign the broker's certificate fails with a message naming tls.ca_file", Run: tlsWrongCA},
		Definition{Name: "preflight_checks", Description: "the plan-time checks report a missing source topic (naming it and the option) and accept a missing sink topic without creating it", Run: preflightChecks},
		Definition{Name: "tls_wrong_certificate", Description: "a client certificate that does not match its key fails with a message naming tls.cert_file, without the key", Run: tlsWrongCertificate},
	)
}

// longTimeout replaces the connect timeout of h.With: a broker restart
// may take longer than 10 seconds.
func longTimeout(sql string) string {
	return strings.ReplaceAll(sql, "connect_timeout = '10s'", "connect_timeout = '90s'")
}

func brokerRestart(ctx context.Context, h *H) error {
	if h.Restart == nil {
		return Skip("the target cannot restart its brokers (the kfake provider and broker.sh's broker can; for another cluster set " + EnvRestart + " to a command that restarts it)")
	}
	in, out := h.Name("in"), h.Name("out")
	if err := topics(ctx, h, in, out); err != nil {
		return err
	}
	first := Rows(0, 300)
	if err := h.Produce(ctx, nil, in, h.Partitions, first); err != nil {
		return err
	}
	sql := longTimeout(h.CopySQL(in, out, []string{"'source.offset' = 'earliest'", "'source.read_mode' = 'read_committed'"}, exactlyOnce))
	prog, err := Plan(sql, 2)
	if err != nil {
		return err
	}
	pl, err := h.StartEvery(ctx, h.Name("job"), prog, nil, 300*time.Millisecond)
	if err != nil {
		return err
	}
	// Some epochs committed before the restart.
	if err := h.WaitRows(ctx, out, len(first), true, pl); err != nil {
		return err
	}
	h.Logf("restarting the brokers")
	if err := h.Restart(ctx); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	more := Rows(300, 600)
	if err := h.Produce(ctx, nil, in, h.Partitions, more); err != nil {
		return fmt.Errorf("after the restart: %w", err)
	}
	want := append(first, more...)
	if err := h.WaitRows(ctx, out, len(want), true, pl); err != nil {
		return fmt.Errorf("after the restart: %w", err)
	}
	if err := pl.StopAndWait(ctx); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	got, err := h.ReadCommitted(ctx, out)
	if err != nil {
		return err
	}
	return ExpectExactly(got, want)
}

// evolution registers v1 and v2 under <in>-value, writes rows 0..49 with
// v1 and 50..99 with v2 (framed by encode), and copies the topic through
// a source declared without columns, selecting id and coalesce(note, v):
// v1 rows keep v, v2 rows carry note = "n<i>".
func evolution(ctx context.Context, h *H, format string, v1, v2 string, typ sr.SchemaType, encode func(id int, schema string, r Row, v2 bool) ([]byte, error)) error {
	if h.SchemaRegistry == "" {
		return Skip("the target has no Schema Registry")
	}
	in, out := h.Name("in"), h.Name("out")
	if err := h.CreateTopic(ctx, in, 1); err != nil {
		return err
	}
	if err := topics(ctx, h, out); err != nil {
		return err
	}
	subject := schemareg.ValueSubject(in)
	cl, err := sr.NewClient(sr.URLs(h.SchemaRegistry))
	if err != nil {
		return err
	}
	h.Defer(func() { deleteSubject(h.SchemaRegistry, subject) })
	ids := map[bool]int{}
	for _, v := range []struct {
		two  bool
		text string
	}{{false, v1}, {true, v2}} {
		ss, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: v.text, Type: typ})
		if err != nil {
			return fmt.Errorf("register %s: %w", subject, err)
		}
		ids[v.two] = ss.ID
	}
	var values [][]byte
	var want []Row
	for _, r := range Rows(0, 100) {
		two := r.ID >= 50
		text := v1
		if two {
			text = v2
		}
		b, err := encode(ids[two], text, r, two)
		if err != nil {
			return err
		}
		values = append(values, b)
		if two {
			r.V = fmt.Sprintf("n%d", r.ID)
		}
		want = append(want, r)
	}
	if err := h.ProduceRaw(ctx, in, values...); err != nil {
		return err
	}
	src := strings.Replace(h.With(in, "source", "'source.offset' = 'earliest'"), "format = 'json'",
		"format = '"+format+"', '"+format+".confluent_schema_registry' = 'true', 'schema_registry.endpoint' = '"+h.SchemaRegistry+"'", 1)
	sql := fmt.Sprintf("CREATE TABLE src %s;\nCREATE TABLE dst (id BIGINT, v TEXT) %s;\nINSERT INTO dst SELECT id, coalesce(note, v) AS v FROM src;\n", src, h.With(out, "sink"))
	prog, err := Plan(sql, 1)
	if err != nil {
		return err
	}
	pl, err := h.Start(ctx, h.Name("job"), prog, nil)
	if err != nil {
		return err
	}
	return h.StopAndExpect(ctx, pl, out, want, false)
}

func jsonEvolution(ctx context.Context, h *H) error {
	v1 := `{"type":"object","properties":{"id":{"type":"integer"},"v":{"type":"string"}},"required":["id","v"]}`
	v2 := `{"type":"object","properties":{"id":{"type":"integer"},"v":{"type":"string"},"note":{"type":"string"}},"required":["id","v"]}`
	return evolution(ctx, h, "json", v1, v2, sr.TypeJSON, func(id int, _ string, r Row, two bool) ([]byte, error) {
		body := fmt.Sprintf(`{"id":%d,"v":%q}`, r.ID, r.V)
		if two {
			body = fmt.Sprintf(`{"id":%d,"v":%q,"note":"n%d"}`, r.ID, r.V, r.ID)
		}
		return append(schemareg.AppendHeader(nil, id), body...), nil
	})
}

func avroEvolution(ctx context.Context, h *H) error {
	v1 := `{"type":"record","name":"row","fields":[{"name":"id","type":"long"},{"name":"v","type":"string"}]}`
	v2 := `{"type":"record","name":"row","fields":[{"name":"id","type":"long"},{"name":"v","type":"string"},{"name":"note","type":["null","string"],"default":null}]}`
	return evolution(ctx, h, "avro", v1, v2, sr.TypeAvro, func(id int, text string, r Row, two bool) ([]byte, error) {
		s, err := hamba.ParseWithCache(text, "", &hamba.SchemaCache{})
		if err != nil {
			return nil, err
		}
		v := map[string]any{"id": r.ID, "v": r.V}
		if two {
			v["note"] = fmt.Sprintf("n%d", r.ID)
		}
		b, err := hamba.Marshal(s, v)
		if err != nil {
			return nil, err
		}
		return append(schemareg.AppendHeader(nil, id), b...), nil
	})
}

// otherCA writes a fresh CA certificate and a client certificate it
// signed, with the key of another certificate, into dir.
func otherCA(dir string) (caFile, certFile, wrongKeyFile string, err error) {
	now := time.Now()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "not the broker's CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		return "", "", "", err
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	otherDER, err := x509.MarshalECPrivateKey(other)
	if err != nil {
		return "", "", "", err
	}
	caFile, certFile, wrongKeyFile = filepath.Join(dir, "other-ca.pem"), filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	for f, b := range map[string][]byte{caFile: certPEM, certFile: certPEM, wrongKeyFile: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: otherDER})} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			return "", "", "", err
		}
	}
	return caFile, certFile, wrongKeyFile, nil
}

// tlsTable is a copy pipeline on the TLS listener with the given tls.*
// options instead of the target's CA.
func tlsTable(h *H, opts ...string) string {
	in := h.Name("in")
	with := func(topic, typ string) string {
		return fmt.Sprintf("WITH (connector = 'kafka', format = 'json', bootstrap_servers = '%s', topic = '%s', type = '%s', connect_timeout = '5s', 'tls.enabled' = 'true', %s)",
			h.TLS.Bootstrap, topic, typ, strings.Join(opts, ", "))
	}
	return fmt.Sprintf("CREATE TABLE src (id BIGINT, v TEXT) %s;\nCREATE TABLE dst (id BIGINT, v TEXT) WITH (connector = 'blackhole');\nINSERT INTO dst SELECT id, v FROM src;\n", with(in, "source"))
}

func tlsWrongCA(ctx context.Context, h *H) error {
	if h.TLS == nil {
		return Skip("the target has no TLS listener")
	}
	dir, err := os.MkdirTemp("", "arroyo-conformance-tls-")
	if err != nil {
		return err
	}
	h.Defer(func() { os.RemoveAll(dir) })
	ca, _, _, err := otherCA(dir)
	if err != nil {
		return err
	}
	err, took := startFails(ctx, h, tlsTable(h, "'tls.ca_file' = '"+ca+"'"), 30*time.Second)
	msg := err.Error()
	for _, want := range []string{"certificate", "tls.ca_file", h.TLS.Bootstrap} {
		if !strings.Contains(msg, want) {
			return fmt.Errorf("error %q does not say %q", msg, want)
		}
	}
	if took > 20*time.Second {
		return fmt.Errorf("failing took %s with connect_timeout = 5s", took)
	}
	return nil
}

func tlsWrongCertificate(ctx context.Context, h *H) error {
	if h.TLS == nil {
		return Skip("the target has no TLS listener")
	}
	dir, err := os.MkdirTemp("", "arroyo-conformance-tls-")
	if err != nil {
		return err
	}
	h.Defer(func() { os.RemoveAll(dir) })
	_, cert, key, err := otherCA(dir)
	if err != nil {
		return err
	}
	keyPEM, err := os.ReadFile(key)
	if err != nil {
		return err
	}
	opts := []string{"'tls.cert_file' = '" + cert + "'", "'tls.key_file' = '" + key + "'"}
	if h.TLS.CAFile != "" {
		opts = append(opts, "'tls.ca_file' = '"+h.TLS.CAFile+"'")
	}
	err, _ = startFails(ctx, h, tlsTable(h, opts...), 30*time.Second)
	msg := err.Error()
	if !strings.Contains(msg, "tls.cert_file") || !strings.Contains(msg, cert) {
		return fmt.Errorf("error %q does not name tls.cert_file and %s", msg, cert)
	}
	body := strings.Join(strings.Split(string(keyPEM), "\n")[1:2], "")
	if body != "" && strings.Contains(msg, body) {
		return fmt.Errorf("the error shows the private key: %q", msg)
	}
	return nil
}

func preflightChecks(ctx context.Context, h *H) error {
	in, missing, created := h.Name("in"), h.Name("missing"), h.Name("not-created")
	if err := topics(ctx, h, in); err != nil {
		return err
	}
	h.DeleteLater(created)
	check := func(from, to string) error {
		prog, err := Plan(h.CopySQL(from, to, nil, nil), 1)
		if err != nil {
			return err
		}
		return connector.PreflightProgram(ctx, prog)
	}
	if err := check(in, created); err != nil {
		return fmt.Errorf("a pipeline whose sink topic is created at start: %w", err)
	}
	err := check(missing, created)
	if err == nil || !strings.Contains(err.Error(), "source topic '"+missing+"' does not exist") || !strings.Contains(err.Error(), "option 'topic'") {
		return fmt.Errorf("missing source topic: got %v", err)
	}
	adm, err := h.Admin()
	if err != nil {
		return err
	}
	td, err := adm.ListTopics(ctx, created, missing)
	if err != nil {
		return err
	}
	if td.Has(created) || td.Has(missing) {
		return fmt.Errorf("the checks created topics: %v", td.Names())
	}
	return nil
}
