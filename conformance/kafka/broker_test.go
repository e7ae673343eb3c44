package kafka

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/arroyogo/arroyo/connectors/schemareg"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

func mechanism(name, user, pass string) sasl.Mechanism {
	switch name {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism()
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	case "SCRAM-SHA-512":
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
	}
	return nil
}

// roundTrip produces one record to a fresh topic through the listener
// opts describe and consumes it back.
func roundTrip(t *testing.T, name string, opts ...kgo.Opt) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	topic := fmt.Sprintf("broker-test-%s-%d", strings.ToLower(strings.NewReplacer("/", "-", "+", "-").Replace(name)), time.Now().UnixNano())
	cl, err := kgo.NewClient(append(opts, kgo.AllowAutoTopicCreation(), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.RequestRetries(3))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	value := []byte("hello " + name)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: value}).FirstErr(); err != nil {
		return fmt.Errorf("produce: %w", err)
	}
	for {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("consume: %w", err)
		}
		var got []byte
		fs.EachRecord(func(r *kgo.Record) { got = r.Value })
		if errs := fs.Errors(); len(errs) > 0 {
			return fmt.Errorf("consume: %v", errs[0].Err)
		}
		if got != nil {
			if string(got) != string(value) {
				return fmt.Errorf("consumed %q, produced %q", got, value)
			}
			return nil
		}
	}
}

// ping connects once through the listener opts describe.
func ping(opts ...kgo.Opt) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	return cl.Ping(ctx)
}

// TestRealBrokerListeners checks every listener and SASL mechanism of the
// broker broker.sh started: a record produced is consumed back, and a
// wrong password is refused.
func TestRealBrokerListeners(t *testing.T) {
	b := Require(t)
	var tlsCfg *tls.Config
	if b.SSL != "" || b.SASLSSL != "" {
		var err error
		if tlsCfg, err = b.TLSConfig(); err != nil {
			t.Fatal(err)
		}
	}
	type listener struct {
		name string
		opts []kgo.Opt
	}
	ls := []listener{{"plaintext", []kgo.Opt{kgo.SeedBrokers(b.Plaintext)}}}
	if b.SSL != "" {
		ls = append(ls, listener{"ssl", []kgo.Opt{kgo.SeedBrokers(b.SSL), kgo.DialTLSConfig(tlsCfg.Clone())}})
	}
	for _, m := range b.Mechanisms {
		if b.SASLPlaintext != "" {
			ls = append(ls, listener{"sasl_plaintext/" + m, []kgo.Opt{kgo.SeedBrokers(b.SASLPlaintext), kgo.SASL(mechanism(m, b.Username, b.Password))}})
		}
		if b.SASLSSL != "" {
			ls = append(ls, listener{"sasl_ssl/" + m, []kgo.Opt{kgo.SeedBrokers(b.SASLSSL), kgo.DialTLSConfig(tlsCfg.Clone()), kgo.SASL(mechanism(m, b.Username, b.Password))}})
		}
	}
	for _, l := range ls {
		t.Run(l.name, func(t *testing.T) {
			if err := roundTrip(t, l.name, l.opts...); err != nil {
				t.Fatal(err)
			}
		})
	}
	if b.SASLPlaintext != "" {
		for _, m := range b.Mechanisms {
			t.Run("wrong-password/"+m, func(t *testing.T) {
				err := ping(kgo.SeedBrokers(b.SASLPlaintext), kgo.SASL(mechanism(m, b.Username, "not-"+b.Password)))
				if err == nil || !strings.Contains(err.Error(), "SASL_AUTHENTICATION_FAILED") {
					t.Fatalf("got %v", err)
				}
			})
		}
	}
	// TLS without trusting the test CA must fail verification.
	if b.SSL != "" {
		t.Run("ssl-untrusted", func(t *testing.T) {
			err := ping(kgo.SeedBrokers(b.SSL), kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
			if err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// TestRealBrokerSchemaRegistry writes Avro rows through the schema
// registry's encoder to the real broker and reads them back through its
// decoder: Confluent framing, registration and per-id lookup end to end.
func TestRealBrokerSchemaRegistry(t *testing.T) {
	b := Require(t)
	if b.SchemaRegistry == "" {
		t.Skipf("%s is not set", EnvRegistry)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	reg, err := schemareg.New(schemareg.Config{Endpoint: b.SchemaRegistry})
	if err != nil {
		t.Fatal(err)
	}
	schema := types.NewSchema(types.Field{Name: "id", Type: types.Int64T}, types.Field{Name: "name", Type: types.StringT, Nullable: true})
	topic := fmt.Sprintf("broker-test-avro-%d", time.Now().UnixNano())
	enc, err := reg.Encoder(ctx, schemareg.ValueSubject(topic), schemareg.FormatAvro, nil, schema)
	if err != nil {
		t.Fatal(err)
	}
	ids := &coldata.Vec[int64]{T: types.Int64T, Vals: []int64{1, 2, 3}}
	names := coldata.NewBytes(types.StringT, 3, 8)
	names.AppendString("a")
	names.AppendNull()
	names.AppendString("c")
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Plaintext), kgo.AllowAutoTopicCreation(), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := enc.Encode(coldata.NewBatch([]coldata.Vector{ids, names}, 3), func(rec []byte) error {
		return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: append([]byte(nil), rec...)}).FirstErr()
	}); err != nil {
		t.Fatal(err)
	}
	cols, err := reg.TableSchema(ctx, schemareg.ValueSubject(topic))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := reg.Decoder(ctx, schemareg.FormatAvro, nil, cols)
	if err != nil {
		t.Fatal(err)
	}
	for dec.Rows() < 3 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of 3 rows: %v", dec.Rows(), err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if err := dec.Decode(r.Value); err != nil {
				t.Fatal(err)
			}
		})
	}
	vs := dec.Flush()
	got := fmt.Sprintf("%v %s %v", vs[0].(*coldata.Vec[int64]).Vals, vs[1].(*coldata.Bytes).GetString(0), vs[1].IsNull(1))
	if got != "[1 2 3] a true" {
		t.Fatalf("got %s", got)
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(EnvBootstrap, "")
	if _, ok := FromEnv(); ok {
		t.Fatal("ok without a bootstrap")
	}
	t.Setenv(EnvBootstrap, "127.0.0.1:1")
	t.Setenv(EnvMechanisms, "PLAIN, SCRAM-SHA-256,")
	t.Setenv(EnvTLSCA, "/nonexistent/ca.pem")
	t.Setenv(EnvProvider, "")
	b, ok := FromEnv()
	if !ok || b.Plaintext != "127.0.0.1:1" || strings.Join(b.Mechanisms, "|") != "PLAIN|SCRAM-SHA-256" || b.Provider != "external" {
		t.Fatalf("%+v", b)
	}
	if _, err := b.TLSConfig(); err == nil || !strings.Contains(err.Error(), EnvTLSCA) {
		t.Fatalf("got %v", err)
	}
}
