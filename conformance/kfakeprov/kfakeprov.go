// Package kfakeprov provides the in-process conformance target: kfake
// clusters on loopback, one without authentication and one with SASL
// (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 users), and an srfake Schema
// Registry. It is what `go test
// ./...` runs the suite against; it is not linked into the arroyo binary.
//
// It must not import cmd or controlplane.
package kfakeprov

import (
	"strings"

	"github.com/arroyogo/arroyo/conformance"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// User and Password are the SASL user of the SASL cluster.
const (
	User     = "arroyo"
	Password = "conformance-secret"
)

// Start starts the clusters; stop closes them.
func Start() (t conformance.Target, stop func(), err error) {
	plain, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.DefaultNumPartitions(3))
	if err != nil {
		return conformance.Target{}, nil, err
	}
	sasl, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(),
		kfake.Superuser("PLAIN", User, Password),
		kfake.Superuser("SCRAM-SHA-256", User, Password),
		kfake.Superuser("SCRAM-SHA-512", User, Password))
	if err != nil {
		plain.Close()
		return conformance.Target{}, nil, err
	}
	reg := srfake.New()
	t = conformance.Target{
		Name:           "kfake",
		SchemaRegistry: reg.URL(),
		Bootstrap:      strings.Join(plain.ListenAddrs(), ","),
		SASL: &conformance.SASL{Bootstrap: strings.Join(sasl.ListenAddrs(), ","), Protocol: "SASL_PLAINTEXT",
			Mechanisms: []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}, Username: User, Password: Password},
		Partitions: 3,
	}
	return t, func() { plain.Close(); sasl.Close(); reg.Close() }, nil
}
