package kafka

import (
	"context"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arroyogo/arroyo/engine/connector"
)

// Connection tests (seed 000): the steps only a Kafka connector knows,
// without side effects (nothing created, nothing written). A source test
// then reads sample records through the connector's own source
// (Tester.SampleSource).
func init() {
	for _, name := range []string{Name, ConfluentName} {
		connector.RegisterTester(name, &connector.Tester{
			ProfileOptions: []string{OptBootstrap},
			TestProfile: func(ctx context.Context, opts connector.Options) (string, error) {
				return testProfile(ctx, name, opts)
			},
			TestTable:    testTable,
			SampleSource: true,
		})
	}
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

func testProfile(ctx context.Context, conn string, opts connector.Options) (string, error) {
	_, cl, msg, err := testConnect(ctx, &connector.Table{Name: "profile", Connector: conn, Options: opts})
	if err != nil {
		return "", err
	}
	cl.Close()
	return msg, nil
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
	return emit(connector.TestStep{Status: connector.TestInfo, Message: fmt.Sprintf("topic '%s' found with %d partitions", c.topic, len(td.Partitions))})
}
