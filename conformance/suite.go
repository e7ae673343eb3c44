package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Target is a Kafka cluster to run the suite against.
type Target struct {
	// Name says where it came from ("kfake", "env", "redpanda", "cli").
	Name string
	// Bootstrap is host:port[,host:port] of a PLAINTEXT listener.
	Bootstrap string
	// TLS, if set, is an SSL listener, for the TLS definitions.
	TLS *TLS
	// SASL, if set, is a listener with SASL authentication, for the
	// authentication definitions (skipped without it).
	SASL *SASL
	// SchemaRegistry is the registry's URL ("" = none).
	SchemaRegistry string
	// Partitions is how many partitions test topics get (default 3).
	Partitions int
	// Restart, if set, stops every broker of Bootstrap's cluster and
	// starts them again with their data, returning once they accept
	// connections (the broker_restart definition; skipped without it).
	Restart func(ctx context.Context) error
}

// TLS is an SSL listener and how to trust it.
type TLS struct {
	Bootstrap  string
	CAFile     string
	SkipVerify bool
}

// SASL is a SASL listener and a user that exists on it.
type SASL struct {
	Bootstrap string
	Protocol  string // SASL_PLAINTEXT (default) or SASL_SSL
	// Mechanisms the user can log in with (PLAIN, SCRAM-SHA-256,
	// SCRAM-SHA-512).
	Mechanisms []string
	Username   string
	Password   string
}

// Definition is one named conformance test.
type Definition struct {
	Name        string
	Description string
	// Run returns nil when the behaviour conforms; Skip(reason) when the
	// target cannot run it.
	Run func(ctx context.Context, h *H) error
	// Timeout bounds Run (default 60s).
	Timeout time.Duration
}

var (
	defsMu sync.Mutex
	defs   []Definition
)

// Register adds definitions to the suite (in init functions).
func Register(ds ...Definition) {
	defsMu.Lock()
	defer defsMu.Unlock()
	for _, d := range ds {
		for _, e := range defs {
			if e.Name == d.Name {
				panic("conformance: definition " + d.Name + " registered twice")
			}
		}
		defs = append(defs, d)
	}
}

// Definitions returns the registered definitions, by name.
func Definitions() []Definition {
	defsMu.Lock()
	defer defsMu.Unlock()
	out := append([]Definition(nil), defs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// skipError marks a definition the target cannot run.
type skipError struct{ reason string }

func (e *skipError) Error() string { return "skipped: " + e.reason }

// Skip returns the error a definition returns when the target lacks what
// it needs.
func Skip(reason string) error { return &skipError{reason} }

// IsSkip reports whether err is a Skip.
func IsSkip(err error) (string, bool) {
	var s *skipError
	if errors.As(err, &s) {
		return s.reason, true
	}
	return "", false
}

// Result is the outcome of one definition.
type Result struct {
	Name     string
	Err      error // nil: passed
	Skipped  string
	Duration time.Duration
}

// Passed reports whether the definition passed.
func (r Result) Passed() bool { return r.Err == nil && r.Skipped == "" }

// H is what a definition runs with: the target and helpers that name
// their topics uniquely and clean up after the run.
type H struct {
	Target
	id      string
	root    *H // the helper whose cleanup runs (itself, or the one On* derived from)
	mu      sync.Mutex
	cleanup []func()
	logf    func(format string, args ...any)
	// clientOpts and withAuth reach a listener other than Bootstrap (On*).
	clientOpts []kgo.Opt
	withAuth   []string
}

// NewH returns a helper for one run of a definition.
func NewH(t Target, logf func(string, ...any)) *H {
	var b [4]byte
	_, _ = rand.Read(b[:])
	if t.Partitions <= 0 {
		t.Partitions = 3
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	h := &H{Target: t, id: hex.EncodeToString(b[:]), logf: logf}
	h.root = h
	return h
}

// OnSASL returns a helper whose clients, topics and tables all use the
// target's SASL listener with mechanism mech (and password, if not "").
func (h *H) OnSASL(mech, password string) (*H, error) {
	s := h.SASL
	if password == "" {
		password = s.Password
	}
	c := &H{Target: h.Target, id: h.id, root: h.root, logf: h.logf}
	c.Bootstrap = s.Bootstrap
	proto := s.Protocol
	if proto == "" {
		proto = "SASL_PLAINTEXT"
	}
	switch mech {
	case "PLAIN":
		c.clientOpts = append(c.clientOpts, kgo.SASL(plain.Auth{User: s.Username, Pass: password}.AsMechanism()))
	case "SCRAM-SHA-256":
		c.clientOpts = append(c.clientOpts, kgo.SASL(scram.Auth{User: s.Username, Pass: password}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		c.clientOpts = append(c.clientOpts, kgo.SASL(scram.Auth{User: s.Username, Pass: password}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("unknown SASL mechanism %q", mech)
	}
	c.withAuth = []string{"'auth.type' = 'sasl'", "'auth.protocol' = '" + proto + "'", "'auth.mechanism' = '" + mech + "'",
		"'auth.username' = '" + s.Username + "'", "'auth.password' = '" + password + "'"}
	if proto == "SASL_SSL" && h.TLS != nil {
		tc, err := h.TLS.config()
		if err != nil {
			return nil, err
		}
		c.clientOpts = append(c.clientOpts, kgo.DialTLSConfig(tc))
		c.withAuth = append(c.withAuth, h.TLS.with()...)
	}
	return c, nil
}

// OnTLS returns a helper on the target's TLS listener.
func (h *H) OnTLS() (*H, error) {
	tc, err := h.TLS.config()
	if err != nil {
		return nil, err
	}
	c := &H{Target: h.Target, id: h.id, root: h.root, logf: h.logf}
	c.Bootstrap = h.TLS.Bootstrap
	c.clientOpts = []kgo.Opt{kgo.DialTLSConfig(tc)}
	c.withAuth = append([]string{"'tls.enabled' = 'true'"}, h.TLS.with()...)
	return c, nil
}

func (t *TLS) with() []string {
	var out []string
	if t.CAFile != "" {
		out = append(out, "'tls.ca_file' = '"+t.CAFile+"'")
	}
	if t.SkipVerify {
		out = append(out, "'tls.insecure_skip_verify' = 'true'")
	}
	return out
}

// Logf logs progress.
func (h *H) Logf(format string, args ...any) { h.logf(format, args...) }

// Name returns a name unique to this run ("conf-<id>-<base>").
func (h *H) Name(base string) string { return "conf-" + h.id + "-" + base }

// Defer runs f when the definition ends.
func (h *H) Defer(f func()) {
	r := h.root
	r.mu.Lock()
	r.cleanup = append(r.cleanup, f)
	r.mu.Unlock()
}

// Close runs the deferred functions, last first.
func (h *H) Close() {
	h.mu.Lock()
	fs := h.cleanup
	h.cleanup = nil
	h.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// Run runs the definitions whose names match filter (a regexp; "" = all)
// against t, one after the other.
func Run(ctx context.Context, t Target, ds []Definition, filter string, logf func(string, ...any)) ([]Result, error) {
	var re *regexp.Regexp
	if filter != "" {
		var err error
		if re, err = regexp.Compile(filter); err != nil {
			return nil, fmt.Errorf("bad filter %q: %v", filter, err)
		}
	}
	var out []Result
	for _, d := range ds {
		if re != nil && !re.MatchString(d.Name) {
			continue
		}
		out = append(out, RunOne(ctx, t, d, logf))
	}
	return out, nil
}

// RunOne runs one definition against t.
func RunOne(ctx context.Context, t Target, d Definition, logf func(string, ...any)) Result {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	h := NewH(t, logf)
	start := time.Now()
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		defer h.Close()
		return d.Run(ctx, h)
	}()
	r := Result{Name: d.Name, Duration: time.Since(start)}
	if reason, ok := IsSkip(err); ok {
		r.Skipped = reason
	} else {
		r.Err = err
	}
	return r
}

// Environment variables of an external target (docs/conformance.md; the
// names conformance/kafka/broker.sh prints).
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
	// EnvRestart is a shell command that restarts every broker of the
	// cluster and returns once they accept connections (broker.sh's
	// "restart"); without it broker_restart is skipped.
	EnvRestart = "ARROYO_CONFORMANCE_KAFKA_RESTART"
	// EnvRequire = 1 makes a missing external target a failure, not a
	// skip (CI sets it).
	EnvRequire = "ARROYO_REQUIRE_REAL_KAFKA"
)

// FromEnv returns the external target named by the environment, or false
// when ARROYO_CONFORMANCE_KAFKA is unset.
func FromEnv(getenv func(string) string) (Target, bool) {
	if getenv == nil {
		getenv = os.Getenv
	}
	bs := getenv(EnvBootstrap)
	if bs == "" {
		return Target{}, false
	}
	t := Target{Name: "env", Bootstrap: bs, SchemaRegistry: getenv(EnvRegistry)}
	if p := getenv(EnvProvider); p != "" {
		t.Name = p
	}
	if cmd := getenv(EnvRestart); cmd != "" {
		t.Restart = RestartCommand(cmd)
	}
	if ssl := getenv(EnvSSL); ssl != "" {
		t.TLS = &TLS{Bootstrap: ssl, CAFile: getenv(EnvTLSCA)}
	}
	sb, proto := getenv(EnvSASLPlaintext), "SASL_PLAINTEXT"
	if sb == "" && getenv(EnvSASLSSL) != "" && t.TLS != nil {
		sb, proto = getenv(EnvSASLSSL), "SASL_SSL"
	}
	if sb != "" {
		s := &SASL{Bootstrap: sb, Protocol: proto, Username: getenv(EnvUsername), Password: getenv(EnvPassword)}
		for _, m := range strings.Split(getenv(EnvMechanisms), ",") {
			if m = strings.TrimSpace(m); m != "" {
				s.Mechanisms = append(s.Mechanisms, m)
			}
		}
		if len(s.Mechanisms) == 0 {
			s.Mechanisms = []string{"PLAIN"}
		}
		t.SASL = s
	}
	return t, true
}

// RestartCommand returns a Target.Restart that runs the shell command cmd
// (e.g. "conformance/kafka/broker.sh restart"), which must restart every
// broker of the cluster and return once they accept connections.
func RestartCommand(cmd string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		out, err := exec.CommandContext(ctx, "sh", "-c", cmd).CombinedOutput()
		if err != nil {
			return fmt.Errorf("restart command %q: %w: %s", cmd, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
}
