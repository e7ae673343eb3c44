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
