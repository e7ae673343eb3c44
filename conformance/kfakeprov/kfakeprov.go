// Package kfakeprov provides the in-process conformance target: kfake
// clusters on loopback, one without authentication (persisted to a
// temporary directory, so it can be restarted on the same ports with its
// data: the "restart" capability), one with SASL (PLAIN, SCRAM-SHA-256 and
// SCRAM-SHA-512 users), one with TLS (a test CA generated at start), and
// an srfake Schema Registry. It is what `go test ./...` runs the suite
// against; it is not linked into the arroyo binary.
//
// It must not import cmd or controlplane.
package kfakeprov

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/arroyogo/arroyo/conformance"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// User and Password are the SASL user of the SASL cluster.
const (
	User     = "arroyo"
	Password = "conformance-secret"
)

// Start starts the clusters; stop closes them and removes their files.
func Start() (t conformance.Target, stop func(), err error) {
	dir, err := os.MkdirTemp("", "arroyo-kfakeprov-")
	if err != nil {
		return conformance.Target{}, nil, err
	}
	var closers []func()
	stop = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		os.RemoveAll(dir)
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	plain, err := newRestartable(kfake.NumBrokers(3), kfake.DefaultNumPartitions(3), kfake.DataDir(filepath.Join(dir, "data")))
	if err != nil {
		return conformance.Target{}, nil, err
	}
	closers = append(closers, plain.close)
	sasl, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(),
		kfake.Superuser("PLAIN", User, Password),
		kfake.Superuser("SCRAM-SHA-256", User, Password),
		kfake.Superuser("SCRAM-SHA-512", User, Password))
	if err != nil {
		return conformance.Target{}, nil, err
	}
	closers = append(closers, sasl.Close)
	server, caFile, err := testCA(dir)
	if err != nil {
		return conformance.Target{}, nil, fmt.Errorf("test CA: %w", err)
	}
	tlsc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(server))
	if err != nil {
		return conformance.Target{}, nil, err
	}
	closers = append(closers, tlsc.Close)
	reg := srfake.New()
	closers = append(closers, reg.Close)
	t = conformance.Target{
		Name:           "kfake",
		SchemaRegistry: reg.URL(),
		Bootstrap:      plain.bootstrap,
		SASL: &conformance.SASL{Bootstrap: strings.Join(sasl.ListenAddrs(), ","), Protocol: "SASL_PLAINTEXT",
			Mechanisms: []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}, Username: User, Password: Password},
		TLS:        &conformance.TLS{Bootstrap: strings.Join(tlsc.ListenAddrs(), ","), CAFile: caFile},
		Partitions: 3,
		Restart:    plain.restart,
	}
	return t, stop, nil
}

// restartable is a kfake cluster that persists its state, so closing it
// and starting another on the same ports and directory is a restart of
// every broker, with the topics, records, groups and transactions kept.
type restartable struct {
	mu        sync.Mutex
	opts      []kfake.Opt
	c         *kfake.Cluster
	bootstrap string
}

func newRestartable(opts ...kfake.Opt) (*restartable, error) {
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, err
	}
	var ports []int
	for _, a := range c.ListenAddrs() {
		_, p, err := net.SplitHostPort(a)
		if err != nil {
			c.Close()
			return nil, err
		}
		n, _ := strconv.Atoi(p)
		ports = append(ports, n)
	}
	return &restartable{opts: append(opts, kfake.Ports(ports...)), c: c, bootstrap: strings.Join(c.ListenAddrs(), ",")}, nil
}

// restart stops every broker and starts them again; the clients of the
// pipeline under test see their connections drop and reconnect.
func (r *restartable) restart(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.c.Close()
	var err error
	// The ports were just released; a new listener may need a moment.
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		var c *kfake.Cluster
		if c, err = kfake.NewCluster(r.opts...); err == nil {
			r.c = c
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("restart kfake on %s: %w (last error: %v)", r.bootstrap, ctx.Err(), err)
		case <-time.After(wait):
		}
	}
}

func (r *restartable) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.c.Close()
}

// testCA writes a test CA to dir/ca.pem and returns the server
// configuration of a certificate it signed for 127.0.0.1 and localhost.
func testCA(dir string) (*tls.Config, string, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "arroyo kfakeprov test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, "", err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, "", err
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		return nil, "", err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	return cfg, caFile, nil
}
