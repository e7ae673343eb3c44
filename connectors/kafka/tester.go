package kafka

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arroyogo/arroyo/connectors/schemareg"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// Connection tests (seed 000): the steps only a Kafka connector knows,
// without side effects (nothing created, nothing written, no consumer
// group joined or committed): brokers reached with the authentication
// used, topic found, the Schema Registry reachable and the subject found
// (for a source, its schema converted to columns; for a sink, checked for
// compatibility), then for a source up to SampleRows records decoded with
// the table's format and schema as data steps, each bad record an error
// step with the reason (the test goes on to the next).
func init() {
	for _, name := range []string{Name, ConfluentName} {
		connector.RegisterTester(name, &connector.Tester{
			ProfileOptions: profileOptions(name),
			TestProfile: func(ctx context.Context, opts connector.Options) (string, error) {
				return testProfile(ctx, name, opts)
			},
			TestTable: testTable,
		})
	}
}

// profileOptions are the options of a connection profile of connector
// name, as Arroyo's Kafka profile (bootstrap servers, authentication,
// Schema Registry): where and how to connect, shared by the tables of one
// cluster. Tables hold the rest (topic, type, offsets, sink settings).
func profileOptions(name string) []string {
	conn := []string{OptBootstrap, OptAuthType, OptAuthProtocol, OptAuthMechanism, OptAuthUsername, OptAuthPassword,
		OptTLSEnabled, OptTLSCAFile, OptTLSCertFile, OptTLSKeyFile, OptTLSSkipVerify}
	if name == ConfluentName {
		conn = []string{OptBootstrap, OptKey, OptSecret, OptTLSCAFile, OptTLSSkipVerify}
	}
	return append(conn, OptConnectTimeout, OptClientConfigs, OptRegistryURL, OptRegistryKey, OptRegistrySecret)
}

// testConnect connects to the brokers and returns the admin client and
// what it found.
func testConnect(ctx context.Context, t *connector.Table) (*config, *kgo.Client, string, error) {
	c, err := parseConfig(t)
	if err != nil {
		return nil, nil, "", err
	}
	cl, err := kgo.NewClient(c.clientOpts()...)
	if err != nil {
		return nil, nil, "", c.connErr("connect", err, ctx)
	}
	md, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		cl.Close()
		return nil, nil, "", c.connErr("connect", err, ctx)
	}
	auth := "no authentication"
	if c.sasl != "" {
		auth = "SASL " + c.sasl + " as " + c.user
	}
	if c.tls != nil {
		auth += ", TLS"
	}
	return c, cl, fmt.Sprintf("connected to %d brokers at %s (%s)", len(md.Brokers), strings.Join(c.brokers, ","), auth), nil
}

// testProfile connects to the brokers and, when the profile names a
// Schema Registry, checks that it answers with the credentials given.
func testProfile(ctx context.Context, conn string, opts connector.Options) (string, error) {
	c, cl, msg, err := testConnect(ctx, &connector.Table{Name: "profile", Connector: conn, Options: opts})
	if err != nil {
		return "", err
	}
	cl.Close()
	if _, ok := schemareg.ConfigFromOptions(c.opts); !ok {
		return msg, nil
	}
	reg, err := registry("profile", c.opts)
	if err != nil {
		return "", err
	}
	if err := reg.Ping(ctx); err != nil {
		return "", err
	}
	return msg + "; schema registry " + reg.Endpoint() + " reachable", nil
}

func testTable(ctx context.Context, tt *connector.TableTest, emit func(connector.TestStep) error) error {
	c, cl, msg, err := testConnect(ctx, tt.Table)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := emit(connector.TestStep{Status: connector.TestInfo, Message: msg}); err != nil {
		return err
	}
	topics, err := kadm.NewClient(cl).ListTopics(ctx, c.topic)
	if err != nil {
		return c.connErr("list topics", err, ctx)
	}
	td, ok := topics[c.topic]
	if !ok || td.Err != nil {
		if tt.Role == "sink" && c.create {
			return emit(connector.TestStep{Status: connector.TestInfo, Message: fmt.Sprintf("topic '%s' does not exist yet: the sink creates it when it starts", c.topic)})
		}
		return fmt.Errorf("topic '%s' not found on %s", c.topic, strings.Join(c.brokers, ","))
	}
	if err := emit(connector.TestStep{Status: connector.TestInfo, Message: fmt.Sprintf("topic '%s' found with %d partitions", c.topic, len(td.Partitions))}); err != nil {
		return err
	}
	if err := testRegistry(ctx, c, tt, emit); err != nil {
		return err
	}
	if tt.Role != "source" || tt.SampleRows <= 0 {
		return nil
	}
	return sample(ctx, c, cl, tt, td.Partitions.Numbers(), emit)
}

// testRegistry is the Schema Registry step of a table whose format uses
// one: the registry answers (with the credentials given), and the value
// subject (value.subject, default <topic>-value) exists, for a source
// with its latest schema shown as the columns it converts to; for a sink,
// a missing subject is registered when the sink starts, and an existing
// one must accept the table's schema (checked, not registered).
func testRegistry(ctx context.Context, c *config, tt *connector.TableTest, emit func(connector.TestStep) error) error {
	t := tt.Table
	format, ok := registryFormat(t)
	if !ok {
		return nil
	}
	reg, err := registry(t.Name, c.opts)
	if err != nil {
		return err
	}
	if err := reg.Ping(ctx); err != nil {
		return err
	}
	if err := emit(connector.TestStep{Status: connector.TestInfo, Message: fmt.Sprintf("schema registry %s reachable", reg.Endpoint())}); err != nil {
		return err
	}
	subject := c.opts.String(OptValueSubject)
	if subject == "" {
		subject = schemareg.ValueSubject(c.topic)
	}
	latest, err := reg.Latest(ctx, subject)
	var se *schemareg.Error
	if tt.Role == "sink" {
		if errors.As(err, &se) && se.NotFound {
			return emit(connector.TestStep{Status: connector.TestInfo, Message: fmt.Sprintf("subject '%s' is not registered yet: the sink registers the table's schema when it starts", subject)})
		}
		if err != nil {
			return err
		}
		if err := reg.CheckSink(ctx, subject, format, t.Format.Options, t.Schema); err != nil {
			return err
		}
		return emit(connector.TestStep{Status: connector.TestInfo, Message: fmt.Sprintf("subject '%s' found (version %d, id %d); the table's schema is compatible with it", subject, latest.Version, latest.ID)})
	}
	if err != nil {
		return err
	}
	cols, err := reg.TableSchema(ctx, subject)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("subject '%s' found (version %d, id %d, %s); its schema converts to the columns %s", subject, latest.Version, latest.ID, latest.Type, cols)
	var absent []string
	for _, f := range t.Schema.Fields {
		if _, meta := c.metadata[f.Name]; !meta && f.Name != types.TimestampField && cols.Index(f.Name) < 0 {
			absent = append(absent, f.Name)
		}
	}
	if len(absent) > 0 {
		msg += fmt.Sprintf("; the table's column(s) %s are not in it (NULL, or the reader schema's default)", strings.Join(absent, ", "))
	}
	return emit(connector.TestStep{Status: connector.TestInfo, Message: msg})
}

// sample reads up to tt.SampleRows records of the topic from where the
// source would start (source.offset; for 'group', the group's committed
// offsets, read without joining it) and emits each decoded with the
// table's format and schema as a JSON data step, or, for a record that
// does not decode, an error step naming its partition and offset and
// why. Waiting for records ends after tt.SampleTimeout.
func sample(ctx context.Context, c *config, admin *kgo.Client, tt *connector.TableTest, partitions []int32, emit func(connector.TestStep) error) error {
	t := tt.Table
	wait := tt.SampleTimeout
	if wait <= 0 {
		wait = 10 * time.Second
	}
	asm, err := newAssembler(t, c)
	if err != nil {
		return err
	}
	asm.badData = connector.BadDataFail // every bad record is reported
	enc, err := jsonEncoder(t.Schema)
	if err != nil {
		return err
	}
	from := map[string]string{OffsetEarliest: "the earliest offset", OffsetLatest: "the latest offset (new records only)", OffsetGroup: "the committed offsets of group '" + c.groupID + "'"}[c.offset]
	opts := c.clientOpts()
	if c.committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	start := kgo.NewOffset().AtEnd()
	if c.offset == OffsetEarliest {
		start = kgo.NewOffset().AtStart()
	}
	if c.offset == OffsetGroup && c.groupID != "" {
		committed, err := kadm.NewClient(admin).FetchOffsets(ctx, c.groupID)
		if err != nil {
			return c.connErr("fetch offsets of group '"+c.groupID+"'", err, ctx)
		}
		at := map[int32]kgo.Offset{}
		for _, p := range partitions {
			at[p] = kgo.NewOffset().AtEnd()
			if o, ok := committed.Lookup(c.topic, p); ok && o.Err == nil && o.At >= 0 {
				at[p] = kgo.NewOffset().At(o.At)
			}
		}
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.topic: at}))
	} else {
		opts = append(opts, kgo.ConsumeTopics(c.topic), kgo.ConsumeResetOffset(start))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return c.connErr("consume", err, ctx)
	}
	defer cl.Close()
	if err := emit(connector.TestStep{Status: connector.TestInfo, Message: fmt.Sprintf("reading up to %d sample records from %s", tt.SampleRows, from)}); err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	read := 0
	for read < tt.SampleRows {
		fs := cl.PollRecords(pctx, tt.SampleRows-read)
		if pctx.Err() != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if read == 0 {
				return emit(connector.TestStep{Status: connector.TestInfo, Message: fmt.Sprintf("no records within %s (the topic may be empty, or gets none from %s)", wait, from)})
			}
			return emit(connector.TestStep{Status: connector.TestInfo, Message: fmt.Sprintf("%d records within %s", read, wait)})
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) {
			if ferr == nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				ferr = err
			}
		})
		if ferr != nil {
			return c.connErr("fetch", ferr, ctx)
		}
		for _, r := range fs.Records() {
			if read == tt.SampleRows {
				break
			}
			read++
			if err := asm.add(r); err != nil {
				if err := emit(connector.TestStep{Status: connector.TestError, Message: fmt.Sprintf("record at partition %d offset %d: %v", r.Partition, r.Offset, err)}); err != nil {
					return err
				}
				continue
			}
			b := asm.flush()
			if b == nil {
				continue // a record of no rows (e.g. a tombstone)
			}
			err := enc.Encode(b, func(rec []byte) error {
				return emit(connector.TestStep{Status: connector.TestData, Message: strings.TrimRight(string(rec), "\n")})
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonEncoder encodes rows of schema as the JSON objects of data steps.
func jsonEncoder(schema *types.Schema) (connector.Encoder, error) {
	f, ok := connector.LookupFormat("json")
	if !ok {
		return nil, errors.New("sample records need the json format linked in")
	}
	opts, err := connector.Validate(f.Name, f.Options, nil)
	if err != nil {
		return nil, err
	}
	return f.NewEncoder(schema, opts)
}
