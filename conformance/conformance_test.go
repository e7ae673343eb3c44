package conformance_test

import (
	"context"
	"os"
	"testing"

	"github.com/arroyogo/arroyo/conformance"
	"github.com/arroyogo/arroyo/conformance/kfakeprov"
)

func runSuite(t *testing.T, target conformance.Target) {
	for _, d := range conformance.Definitions() {
		t.Run(d.Name, func(t *testing.T) {
			r := conformance.RunOne(context.Background(), target, d, t.Logf)
			switch {
			case r.Skipped != "":
				t.Skip(r.Skipped)
			case r.Err != nil:
				t.Fatal(r.Err)
			}
		})
	}
}

// TestKfake runs every definition against in-process kfake clusters.
func TestKfake(t *testing.T) {
	target, stop, err := kfakeprov.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	runSuite(t, target)
}

// TestExternal runs the suite against the cluster named by
// ARROYO_CONFORMANCE_KAFKA (docs/conformance.md); CI sets it to the real
// Apache Kafka broker of conformance/kafka/broker.sh.
func TestExternal(t *testing.T) {
	target, ok := conformance.FromEnv(nil)
	switch {
	case !ok && os.Getenv(conformance.EnvRequire) == "1":
		t.Fatalf("%s=1 but %s is not set: start the broker (conformance/kafka/broker.sh)", conformance.EnvRequire, conformance.EnvBootstrap)
	case !ok:
		t.Skip(conformance.EnvBootstrap + " is not set")
	}
	runSuite(t, target)
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		conformance.EnvBootstrap: "127.0.0.1:9092", conformance.EnvSASLPlaintext: "127.0.0.1:9093", conformance.EnvSSL: "127.0.0.1:9094",
		conformance.EnvMechanisms: "PLAIN, SCRAM-SHA-512", conformance.EnvUsername: "u", conformance.EnvPassword: "p",
		conformance.EnvTLSCA: "/ca.pem", conformance.EnvProvider: "apache-kafka-4.1.1", conformance.EnvRegistry: "http://127.0.0.1:8081",
	}
	got, ok := conformance.FromEnv(func(k string) string { return env[k] })
	if !ok || got.Name != "apache-kafka-4.1.1" || got.Bootstrap != "127.0.0.1:9092" || got.SchemaRegistry != "http://127.0.0.1:8081" ||
		got.TLS == nil || got.TLS.Bootstrap != "127.0.0.1:9094" || got.TLS.CAFile != "/ca.pem" ||
		got.SASL == nil || got.SASL.Bootstrap != "127.0.0.1:9093" || got.SASL.Protocol != "SASL_PLAINTEXT" || len(got.SASL.Mechanisms) != 2 || got.SASL.Mechanisms[1] != "SCRAM-SHA-512" {
		t.Errorf("FromEnv = %+v (TLS %+v, SASL %+v)", got, got.TLS, got.SASL)
	}
	if _, ok := conformance.FromEnv(func(string) string { return "" }); ok {
		t.Error("FromEnv without the bootstrap variable")
	}
}
