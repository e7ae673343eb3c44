package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Option names, Arroyo's.
const (
	OptBootstrap       = "bootstrap_servers"
	OptTopic           = "topic"
	OptType            = "type"
	OptAuthType        = "auth.type"
	OptAuthProtocol    = "auth.protocol"
	OptAuthMechanism   = "auth.mechanism"
	OptAuthUsername    = "auth.username"
	OptAuthPassword    = "auth.password"
	OptTLSEnabled      = "tls.enabled"
	OptTLSCAFile       = "tls.ca_file"
	OptTLSCertFile     = "tls.cert_file"
	OptTLSKeyFile      = "tls.key_file"
	OptTLSSkipVerify   = "tls.insecure_skip_verify"
	OptOffset          = "source.offset"
	OptReadMode        = "source.read_mode"
	OptGroupID         = "source.group_id"
	OptGroupIDPrefix   = "source.group_id_prefix"
	OptDiscovery       = "source.partition_discovery_interval"
	OptIdleTimeout     = "source.idle_timeout"
	OptCommitMode      = "sink.commit_mode"
	OptKeyField        = "sink.key_field"
	OptTimestampField  = "sink.timestamp_field"
	OptCreateTopic     = "sink.create_topic"
	OptTxnPrefix       = "sink.transactional_id_prefix"
	OptTxnTimeout      = "sink.transaction_timeout"
	OptClientConfigs   = "client_configs"
	OptConnectTimeout  = "connect_timeout"
	OptRegistryURL     = "schema_registry.endpoint"
	OptRegistryKey     = "schema_registry.api_key"
	OptRegistrySecret  = "schema_registry.api_secret"
	OptValueSubject    = "value.subject"
	OptMetadataColumns = "metadata_columns"
	// Confluent's.
	OptProfile = "connection_profile"
	OptKey     = "key"
	OptSecret  = "secret"
)

// Values.
const (
	OffsetEarliest  = "earliest"
	OffsetLatest    = "latest"
	OffsetGroup     = "group"
	ReadCommitted   = "read_committed"
	ReadUncommitted = "read_uncommitted"
	ExactlyOnce     = "exactly_once"
	AtLeastOnce     = "at_least_once"
)

// MetadataFields are the values a METADATA FROM column may name, and the
// SQL type each needs.
var MetadataFields = map[string]string{
	"key": "TEXT (or BYTEA)", "partition": "INT (or BIGINT)", "offset": "BIGINT", "timestamp": "TIMESTAMP", "topic": "TEXT",
}

// commonOptions are the options of both connectors past the connection.
func commonOptions() []connector.Option {
	return []connector.Option{
		{Name: OptTopic, Type: connector.TypeString, Required: true, Description: "The Kafka topic to read from or write to.", Example: "orders"},
		{Name: OptType, Type: connector.TypeEnum, Enum: []string{"source", "sink"}, Description: "Whether the table is read (source) or written (sink); inferred from use when absent."},
		{Name: OptOffset, Type: connector.TypeEnum, Enum: []string{OffsetEarliest, OffsetLatest, OffsetGroup}, Default: OffsetLatest,
			Description: "Where a source starts on its first run: the earliest offset, the latest, or the consumer group's committed offsets (source.group_id; earliest where the group has none). Restores always continue from the checkpoint."},
		{Name: OptReadMode, Type: connector.TypeEnum, Enum: []string{ReadCommitted, ReadUncommitted}, Default: ReadUncommitted,
			Description: "'read_committed' reads only records of committed transactions (aborted and open ones are hidden); 'read_uncommitted' reads every record."},
		{Name: OptGroupID, Type: connector.TypeString, Example: "my-group",
			Description: "Consumer group whose offsets source.offset = 'group' starts from, and to which the source commits its checkpointed offsets for lag monitoring. Default: arroyo-<job>-<operator>."},
		{Name: OptGroupIDPrefix, Type: connector.TypeString, Example: "analytics",
			Description: "Prefix of the generated consumer group id, when source.group_id is not set."},
		{Name: OptDiscovery, Type: connector.TypeDuration, Default: "30s",
			Description: "How often a source looks for partitions added to its topic; new partitions are read from their start."},
		{Name: OptIdleTimeout, Type: connector.TypeDuration, Default: "30s",
			Description: "How long a partition may have no new record before it stops holding back the source's watermark (the watermark is the least over the partitions of each one's event time, less the lateness); 0 keeps every partition's hold."},
		{Name: OptCommitMode, Type: connector.TypeEnum, Enum: []string{AtLeastOnce, ExactlyOnce}, Default: AtLeastOnce,
			Description: "'at_least_once' flushes at every checkpoint (a failure may duplicate records); 'exactly_once' writes one Kafka transaction per checkpoint and subtask, committed when the checkpoint is durable."},
		{Name: OptKeyField, Type: connector.TypeString, Example: "customer_id",
			Description: "Column whose value is the record key (as text); a NULL gives a record without a key, an empty string an empty key."},
		{Name: OptTimestampField, Type: connector.TypeString, Example: "created_at",
			Description: "TIMESTAMP column whose value is the record timestamp; default: the row's event time."},
		{Name: OptCreateTopic, Type: connector.TypeBool, Default: "true",
			Description: "Create a sink's missing topic when the sink starts (with the broker's default partitions and replication)."},
		{Name: OptTxnPrefix, Type: connector.TypeString, Default: "arroyo",
			Description: "Prefix of the transactional ids of an exactly-once sink (<prefix>-<job hash>-<subtask>-<sequence>); ACLs on transactional ids can match it."},
		{Name: OptTxnTimeout, Type: connector.TypeDuration, Default: "10m",
			Description: "Transaction timeout of an exactly-once sink: how long a crashed pipeline may take to recover before the broker aborts its pre-committed transaction (at most the broker's transaction.max.timeout.ms)."},
		{Name: OptClientConfigs, Type: connector.TypeString, Example: "client.id=arroyo,request.timeout.ms=30000",
			Description: "Extra client settings as comma-separated key=value pairs; supported keys: " + strings.Join(clientConfigKeys(), ", ") + "."},
		{Name: OptConnectTimeout, Type: connector.TypeDuration, Default: "10s",
			Description: "How long connecting to the brokers (and each metadata or admin request) may take before it is an error."},
		{Name: OptRegistryURL, Type: connector.TypeString, Example: "https://schema-registry.cluster:8081", Description: "URL of the Confluent Schema Registry."},
		{Name: OptRegistryKey, Type: connector.TypeString, Description: "Schema Registry API key (basic-auth user); may be a {{ENV_VAR}} template."},
		{Name: OptRegistrySecret, Type: connector.TypeString, Secret: true, Description: "Schema Registry API secret (basic-auth password); may be a {{ENV_VAR}} template."},
		{Name: OptValueSubject, Type: connector.TypeString, Description: "Registry subject of the value schema; default <topic>-value."},
		{Name: OptMetadataColumns, Type: connector.TypeString, Enum: []string{"key", "partition", "offset", "timestamp", "topic"},
			Description: "Set by the planner from METADATA FROM columns (column=field,...); fields: key, partition, offset, timestamp, topic."},
	}
}

func kafkaOptions() []connector.Option {
	conn := []connector.Option{
		{Name: OptBootstrap, Type: connector.TypeString, Required: true, Example: "kafka-1:9092,kafka-2:9092", Description: "Comma-separated host:port list of Kafka brokers."},
		{Name: OptAuthType, Type: connector.TypeEnum, Enum: []string{"none", "sasl"}, Default: "none", Description: "Authentication: 'none' or 'sasl'."},
		{Name: OptAuthProtocol, Type: connector.TypeEnum, Enum: []string{"SASL_PLAINTEXT", "SASL_SSL"}, Default: "SASL_PLAINTEXT", Description: "Security protocol with auth.type = 'sasl'; SASL_SSL also encrypts with TLS."},
		{Name: OptAuthMechanism, Type: connector.TypeEnum, Enum: []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}, Default: "PLAIN", Description: "SASL mechanism."},
		{Name: OptAuthUsername, Type: connector.TypeString, Example: "user", Description: "SASL user name; may be a {{ENV_VAR}} template."},
		{Name: OptAuthPassword, Type: connector.TypeString, Secret: true, Description: "SASL password; may be a {{ENV_VAR}} template. Never shown in plans, logs or errors."},
		{Name: OptTLSEnabled, Type: connector.TypeBool, Default: "false", Description: "Connect with TLS (implied by SASL_SSL and by the other tls.* options)."},
		{Name: OptTLSCAFile, Type: connector.TypeString, Example: "/etc/kafka/ca.pem", Description: "PEM file of the CA certificates that sign the brokers' certificates (default: the system's)."},
		{Name: OptTLSCertFile, Type: connector.TypeString, Description: "PEM client certificate for mutual TLS (with tls.key_file)."},
		{Name: OptTLSKeyFile, Type: connector.TypeString, Description: "PEM private key file of tls.cert_file (the key never appears in errors: only file names)."},
		{Name: OptTLSSkipVerify, Type: connector.TypeBool, Default: "false", Description: "Do not verify the brokers' certificates. For tests only."},
	}
	return append(conn, commonOptions()...)
}

// config is a table's connection and behaviour, with templates resolved.
type config struct {
	table     string
	topic     string
	brokers   []string
	sasl      string // "", PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
	user      string
	password  string
	tls       *tls.Config
	timeout   time.Duration
	extra     []kgo.Opt
	offset    string
	committed bool
	groupID   string
	discovery time.Duration
	idle      time.Duration
	exactly   bool
	keyField  string
	tsField   string
	create    bool
	txnPrefix string
	txnTTL    time.Duration
	metadata  map[string]string // column -> field
	// opts are the table's options with a connection profile applied
	// (the schema_registry.* settings may come from it).
	opts connector.Options
}

// ConfigError is a connection or option problem found when a table's
// client is built: it names the table and the option.
type ConfigError struct {
	Table, Option, Problem string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("kafka table '%s': option '%s': %s", e.Table, e.Option, e.Problem)
}

// Retriable implements the runtime's classification: fixing it needs a
// person.
func (e *ConfigError) Retriable() bool { return false }

var templateRE = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// expand resolves {{ENV_VAR}} templates in v. A missing variable is an
// error naming the variable (never the value).
func expand(table, option, v string, lookup func(string) (string, bool)) (string, error) {
	var missing string
	out := templateRE.ReplaceAllStringFunc(v, func(m string) string {
		name := templateRE.FindStringSubmatch(m)[1]
		val, ok := lookup(name)
		if !ok && missing == "" {
			missing = name
		}
		return val
	})
	if missing != "" {
		return "", &ConfigError{Table: table, Option: option, Problem: "environment variable '" + missing + "' is not set"}
	}
	return out, nil
}

// lookupEnv is os.LookupEnv; tests replace it.
var lookupEnv = os.LookupEnv

// parseConfig builds a table's config from its validated options; it
// reads the environment (templates) and the TLS files.
func parseConfig(t *connector.Table) (*config, error) {
	o := maps.Clone(t.Options) // a profile fills it in: the table is shared
	c := &config{table: t.Name, topic: o.String(OptTopic), opts: o}
	get := func(name string) (string, error) { return expand(t.Name, name, o.String(name), lookupEnv) }
	bad := func(opt, problem string) error { return &ConfigError{Table: t.Name, Option: opt, Problem: problem} }
	var err error
	if t.Connector == ConfluentName {
		if err := applyProfile(t.Name, o); err != nil {
			return nil, err
		}
	}
	bs, err := get(OptBootstrap)
	if err != nil {
		return nil, err
	}
	for _, b := range strings.Split(bs, ",") {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(b); err != nil {
			return nil, bad(OptBootstrap, fmt.Sprintf("'%s' is not host:port", b))
		}
		c.brokers = append(c.brokers, b)
	}
	if len(c.brokers) == 0 {
		return nil, bad(OptBootstrap, "no broker given")
	}
	useTLS := o.Bool(OptTLSEnabled)
	switch {
	case t.Connector == ConfluentName:
		// Confluent Cloud: SASL_SSL PLAIN with the API key and secret.
		c.sasl = "PLAIN"
		if c.user, err = get(OptKey); err != nil {
			return nil, err
		}
		if c.password, err = get(OptSecret); err != nil {
			return nil, err
		}
		if c.user == "" || c.password == "" {
			return nil, bad(OptKey, "a Confluent connection needs 'key' and 'secret' (inline or in the connection profile)")
		}
		useTLS = true
	case o.String(OptAuthType) == "sasl":
		c.sasl = o.String(OptAuthMechanism)
		if c.user, err = get(OptAuthUsername); err != nil {
			return nil, err
		}
		if c.password, err = get(OptAuthPassword); err != nil {
			return nil, err
		}
		if c.user == "" {
			return nil, bad(OptAuthUsername, "is required with auth.type = 'sasl'")
		}
		if o.String(OptAuthProtocol) == "SASL_SSL" {
			useTLS = true
		}
	default:
		for _, n := range []string{OptAuthUsername, OptAuthPassword} {
			if o.Has(n) {
				return nil, bad(n, "is set but auth.type is 'none'; set auth.type = 'sasl'")
			}
		}
	}
	if o.Has(OptTLSCAFile) || o.Has(OptTLSCertFile) || o.Bool(OptTLSSkipVerify) {
		useTLS = true
	}
	if useTLS {
		if c.tls, err = tlsConfig(t.Name, o); err != nil {
			return nil, err
		}
	}
	c.timeout = o.Duration(OptConnectTimeout)
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	if c.extra, err = clientConfigs(t.Name, o.String(OptClientConfigs)); err != nil {
		return nil, err
	}
	c.offset = o.String(OptOffset)
	c.committed = o.String(OptReadMode) == ReadCommitted
	c.groupID = o.String(OptGroupID)
	if c.offset == OffsetGroup && c.groupID == "" && !o.Has(OptGroupIDPrefix) {
		return nil, bad(OptOffset, "'group' needs source.group_id (the group whose committed offsets to start from)")
	}
	c.discovery = o.Duration(OptDiscovery)
	c.idle = o.Duration(OptIdleTimeout)
	c.exactly = o.String(OptCommitMode) == ExactlyOnce
	c.keyField, c.tsField = o.String(OptKeyField), o.String(OptTimestampField)
	c.create = !o.Has(OptCreateTopic) || o.Bool(OptCreateTopic)
	c.txnPrefix = o.String(OptTxnPrefix)
	if c.txnPrefix == "" {
		c.txnPrefix = "arroyo"
	}
	c.txnTTL = o.Duration(OptTxnTimeout)
	if c.txnTTL <= 0 {
		c.txnTTL = 10 * time.Minute
	}
	if c.metadata, err = parseMetadata(t.Name, o.String(OptMetadataColumns)); err != nil {
		return nil, err
	}
	if t.Schema != nil {
		for _, f := range t.Schema.Fields {
			if m, ok := c.metadata[f.Name]; ok && !metaTypeOK(m, f.Type.Kind) {
				return nil, &ConfigError{Table: t.Name, Option: OptMetadataColumns, Problem: fmt.Sprintf("column '%s' METADATA FROM '%s' must be %s, not %s", f.Name, m, MetadataFields[m], f.Type)}
			}
		}
	}
	return c, nil
}

// parseMetadata reads the metadata_columns option: column=field pairs.
func parseMetadata(table, v string) (map[string]string, error) {
	if v == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(v, ",") {
		col, field, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if _, known := MetadataFields[field]; !ok || col == "" || !known {
			return nil, &ConfigError{Table: table, Option: OptMetadataColumns, Problem: fmt.Sprintf("'%s' is not column=field with field one of key, partition, offset, timestamp, topic", kv)}
		}
		out[col] = field
	}
	return out, nil
}

func tlsConfig(table string, o connector.Options) (*tls.Config, error) {
	bad := func(opt, problem string) error { return &ConfigError{Table: table, Option: opt, Problem: problem} }
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.Bool(OptTLSSkipVerify)}
	if f := o.String(OptTLSCAFile); f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, bad(OptTLSCAFile, fmt.Sprintf("read %s: %v", f, errors.Unwrap(err)))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, bad(OptTLSCAFile, f+" holds no PEM certificate")
		}
		tc.RootCAs = pool
	}
	cert, key := o.String(OptTLSCertFile), o.String(OptTLSKeyFile)
	switch {
	case cert != "" && key != "":
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			// The key file's content never appears: only the file names.
			return nil, bad(OptTLSCertFile, fmt.Sprintf("load %s with key %s: not a matching PEM certificate and key", cert, key))
		}
		tc.Certificates = []tls.Certificate{pair}
	case cert != "" || key != "":
		return nil, bad(OptTLSCertFile, "tls.cert_file and tls.key_file go together")
	}
	return tc, nil
}

// clientConfig maps one supported client_configs key to a client option.
type clientConfig struct {
	apply func(v string) (kgo.Opt, error)
}

func msOpt(f func(time.Duration) kgo.Opt) clientConfig {
	return clientConfig{func(v string) (kgo.Opt, error) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, errors.New("expected a number of milliseconds")
		}
		return f(time.Duration(n) * time.Millisecond), nil
	}}
}

func intOpt(f func(int) kgo.Opt) clientConfig {
	return clientConfig{func(v string) (kgo.Opt, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, errors.New("expected a non-negative integer")
		}
		return f(n), nil
	}}
}

var clientConfigTable = map[string]clientConfig{
	"client.id":                 {func(v string) (kgo.Opt, error) { return kgo.ClientID(v), nil }},
	"request.timeout.ms":        msOpt(func(d time.Duration) kgo.Opt { return kgo.RequestTimeoutOverhead(d) }),
	"metadata.max.age.ms":       msOpt(func(d time.Duration) kgo.Opt { return kgo.MetadataMaxAge(d) }),
	"linger.ms":                 msOpt(func(d time.Duration) kgo.Opt { return kgo.ProducerLinger(d) }),
	"retry.backoff.ms":          msOpt(func(d time.Duration) kgo.Opt { return kgo.RetryBackoffFn(func(int) time.Duration { return d }) }),
	"fetch.max.wait.ms":         msOpt(func(d time.Duration) kgo.Opt { return kgo.FetchMaxWait(d) }),
	"fetch.max.bytes":           intOpt(func(n int) kgo.Opt { return kgo.FetchMaxBytes(int32(n)) }),
	"max.partition.fetch.bytes": intOpt(func(n int) kgo.Opt { return kgo.FetchMaxPartitionBytes(int32(n)) }),
	"batch.size":                intOpt(func(n int) kgo.Opt { return kgo.ProducerBatchMaxBytes(int32(n)) }),
	"compression.type": {func(v string) (kgo.Opt, error) {
		codecs := map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}
		c, ok := codecs[v]
		if !ok {
			return nil, errors.New("allowed values are 'none', 'gzip', 'snappy', 'lz4', 'zstd'")
		}
		return kgo.ProducerBatchCompression(c), nil
	}},
	"max.buffered.records": intOpt(func(n int) kgo.Opt { return kgo.MaxBufferedRecords(n) }),
}

func clientConfigKeys() []string {
	keys := make([]string, 0, len(clientConfigTable))
	for k := range clientConfigTable {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func clientConfigs(table, v string) ([]kgo.Opt, error) {
	var out []kgo.Opt
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	for _, kv := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok {
			return nil, &ConfigError{Table: table, Option: OptClientConfigs, Problem: fmt.Sprintf("'%s' is not key=value", kv)}
		}
		cc, known := clientConfigTable[k]
		if !known {
			return nil, &ConfigError{Table: table, Option: OptClientConfigs, Problem: fmt.Sprintf("unsupported key '%s' (supported: %s)", k, strings.Join(clientConfigKeys(), ", "))}
		}
		opt, err := cc.apply(val)
		if err != nil {
			return nil, &ConfigError{Table: table, Option: OptClientConfigs, Problem: fmt.Sprintf("'%s': %v", k, err)}
		}
		out = append(out, opt)
	}
	return out, nil
}

// clientOpts are the options every client of the table starts from.
func (c *config) clientOpts() []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.brokers...),
		kgo.DialTimeout(c.timeout),
		kgo.RequestTimeoutOverhead(c.timeout),
		kgo.RetryTimeout(c.timeout),
		kgo.MetadataMinAge(100 * time.Millisecond),
		// 8 MiB a partition per fetch, not 1: twice the throughput
		// (BenchmarkSourceJSON); client_configs can lower it.
		kgo.FetchMaxPartitionBytes(8 << 20),
	}
	if c.tls != nil {
		opts = append(opts, kgo.DialTLSConfig(c.tls.Clone()))
	}
	switch c.sasl {
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: c.user, Pass: c.password}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.user, Pass: c.password}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.user, Pass: c.password}.AsSha512Mechanism()))
	}
	return append(opts, c.extra...)
}

// ConnError is a failure to reach or use the cluster. It names the table
// and topic, never a secret, and says whether a retry may help.
type ConnError struct {
	Table, Topic string
	Op           string
	Err          error
	retriable    bool
}

func (e *ConnError) Error() string {
	return fmt.Sprintf("kafka table '%s' (topic '%s'): %s: %v", e.Table, e.Topic, e.Op, e.Err)
}
func (e *ConnError) Unwrap() error   { return e.Err }
func (e *ConnError) Retriable() bool { return e.retriable }

// connErr classifies err from op. Authentication failures surface as an
// EOF right after connecting (kfake, some brokers) or as SASL errors.
func (c *config) connErr(op string, err error, ctx context.Context) error {
	msg := err
	retriable := true
	s := err.Error()
	var verr *tls.CertificateVerificationError
	var herr x509.HostnameError
	switch {
	case errors.As(err, &verr) || errors.As(err, &herr):
		// A CA or host name problem: retrying cannot help.
		msg, retriable = fmt.Errorf("TLS: the certificate of brokers %s is not trusted (check '%s', or the system's CAs when it is unset; '%s' only in tests): %w",
			strings.Join(c.brokers, ","), OptTLSCAFile, OptTLSSkipVerify, err), false
	case strings.Contains(s, "SASL") || strings.Contains(s, "authentication") || strings.Contains(s, "Authentication"):
		msg, retriable = fmt.Errorf("authentication failed (check the user name, password and mechanism): %w", err), false
	case c.sasl != "" && (errors.Is(err, io.EOF) || strings.HasSuffix(s, "EOF")):
		msg, retriable = fmt.Errorf("the broker closed the connection during authentication (wrong credentials or mechanism?): %w", err), false
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		msg = fmt.Errorf("no answer from brokers %s within %s (unreachable, or not Kafka?): %w", strings.Join(c.brokers, ","), c.timeout, err)
	}
	return &ConnError{Table: c.table, Topic: c.topic, Op: op, Err: msg, retriable: retriable}
}

// profiles are Confluent connection profiles, set from the config file.
var (
	profilesMu sync.RWMutex
	profiles   = map[string]map[string]string{}
)
