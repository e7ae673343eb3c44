// Package kafka finds the real Apache Kafka broker that broker.sh starts
// (or any cluster described the same way) from the environment, for tests
// that run against real Kafka as well as against kfake.
//
//	eval "$(conformance/kafka/broker.sh start)"
//	go test ./conformance/... ./connectors/kafka/...
//	conformance/kafka/broker.sh stop
//
// The environment (what broker.sh prints):
//
//	ARROYO_CONFORMANCE_KAFKA                  bootstrap of the PLAINTEXT listener
//	ARROYO_CONFORMANCE_KAFKA_SASL_PLAINTEXT   bootstrap of the SASL_PLAINTEXT listener
//	ARROYO_CONFORMANCE_KAFKA_SSL              bootstrap of the SSL listener
//	ARROYO_CONFORMANCE_KAFKA_SASL_SSL         bootstrap of the SASL_SSL listener
//	ARROYO_CONFORMANCE_SASL_MECHANISMS        comma-separated, e.g. PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
//	ARROYO_CONFORMANCE_SASL_USERNAME          a user valid for every mechanism
//	ARROYO_CONFORMANCE_SASL_PASSWORD
//	ARROYO_CONFORMANCE_TLS_CA                 PEM file of the CA that signed the broker's certificate
//	ARROYO_CONFORMANCE_KAFKA_PROVIDER         a name for reports, e.g. apache-kafka-4.1.1
//	ARROYO_CONFORMANCE_SCHEMA_REGISTRY        URL of a Confluent Schema Registry (broker.sh: srfake)
//
// With ARROYO_REQUIRE_REAL_KAFKA=1 (CI sets it) a test that asks for the
// broker fails, rather than skips, when the environment names none.
//
// Its non-test code imports nothing from this module.
package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"testing"
)

// Environment variable names.
const (
	EnvBootstrap     = "ARROYO_CONFORMANCE_KAFKA"
	EnvSASLPlaintext = "ARROYO_CONFORMANCE_KAFKA_SASL_PLAINTEXT"
	EnvSSL           = "ARROYO_CONFORMANCE_KAFKA_SSL"
	EnvSASLSSL       = "ARROYO_CONFORMANCE_KAFKA_SASL_SSL"
	EnvMechanisms    = "ARROYO_CONFORMANCE_SASL_MECHANISMS"
	EnvUsername      = "ARROYO_CONFORMANCE_SASL_USERNAME"
	EnvPassword      = "ARROYO_CONFORMANCE_SASL_PASSWORD"
	EnvTLSCA         = "ARROYO_CONFORMANCE_TLS_CA"
	EnvProvider      = "ARROYO_CONFORMANCE_KAFKA_PROVIDER"
	EnvRegistry      = "ARROYO_CONFORMANCE_SCHEMA_REGISTRY"
	EnvRequire       = "ARROYO_REQUIRE_REAL_KAFKA"
)

// Broker is a Kafka cluster described by the environment. Listeners that
// are not configured are empty.
type Broker struct {
	Plaintext     string
	SASLPlaintext string
	SSL           string
	SASLSSL       string
	// Mechanisms are the SASL mechanisms Username/Password work with.
	Mechanisms []string
	Username   string
	Password   string
	// CAFile is the PEM file of the CA of the TLS listeners.
	CAFile   string
	Provider string
	// SchemaRegistry is the URL of a schema registry beside the cluster,
	// or empty.
	SchemaRegistry string
}

// FromEnv returns the broker the environment names; ok is false when
// ARROYO_CONFORMANCE_KAFKA is unset.
func FromEnv() (b *Broker, ok bool) {
	b = &Broker{
		Plaintext:      os.Getenv(EnvBootstrap),
		SASLPlaintext:  os.Getenv(EnvSASLPlaintext),
		SSL:            os.Getenv(EnvSSL),
		SASLSSL:        os.Getenv(EnvSASLSSL),
		Username:       os.Getenv(EnvUsername),
		Password:       os.Getenv(EnvPassword),
		CAFile:         os.Getenv(EnvTLSCA),
		Provider:       os.Getenv(EnvProvider),
		SchemaRegistry: os.Getenv(EnvRegistry),
	}
	for _, m := range strings.Split(os.Getenv(EnvMechanisms), ",") {
		if m = strings.TrimSpace(m); m != "" {
			b.Mechanisms = append(b.Mechanisms, m)
		}
	}
	if b.Provider == "" {
		b.Provider = "external"
	}
	return b, b.Plaintext != ""
}

// Require returns the broker the environment names, or skips the test
// (fails it under ARROYO_REQUIRE_REAL_KAFKA=1).
func Require(t testing.TB) *Broker {
	t.Helper()
	b, ok := FromEnv()
	if !ok {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%s=1 but %s is not set: start the broker with conformance/kafka/broker.sh start", EnvRequire, EnvBootstrap)
		}
		t.Skipf("no real Kafka broker: set %s (conformance/kafka/broker.sh start prints it)", EnvBootstrap)
	}
	return b
}

// TLSConfig returns a client TLS configuration trusting CAFile.
func (b *Broker) TLSConfig() (*tls.Config, error) {
	if b.CAFile == "" {
		return nil, fmt.Errorf("%s is not set", EnvTLSCA)
	}
	pem, err := os.ReadFile(b.CAFile)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", EnvTLSCA, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s (%s) holds no PEM certificate", EnvTLSCA, b.CAFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
