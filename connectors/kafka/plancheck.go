package kafka

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/arroyogo/arroyo/connectors/schemareg"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// Plan-time hooks (engine/connector's SchemaResolver and Preflight): the
// columns of a registry source declared without any, and the checks made
// after planning and before the pipeline starts. Neither has side effects:
// they read metadata and the registry, nothing else.
func init() {
	for _, name := range []string{Name, ConfluentName} {
		connector.RegisterSchemaResolver(name, resolveSchema)
		connector.RegisterPreflight(name, preflight)
	}
}

// planTimeout bounds each plan-time request when connect_timeout is unset.
const planTimeout = 10 * time.Second

// registryOptions returns the table's options with a Confluent profile
// applied (the schema_registry.* settings may come from it).
func registryOptions(t *connector.Table) (connector.Options, error) {
	o := maps.Clone(t.Options)
	if t.Connector == ConfluentName {
		if err := applyProfile(t.Name, o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func subjectOf(o connector.Options) string {
	if s := o.String(OptValueSubject); s != "" {
		return s
	}
	return schemareg.ValueSubject(o.String(OptTopic))
}

func timeoutOf(o connector.Options) time.Duration {
	if d := o.Duration(OptConnectTimeout); d > 0 {
		return d
	}
	return planTimeout
}

// resolveSchema reads the columns of a source table declared without any
// from the latest schema of its registry subject.
func resolveSchema(ctx context.Context, t *connector.Table) (*types.Schema, error) {
	format, ok := registryFormat(t)
	if !ok {
		f := "json"
		if t.Format != nil && t.Format.Name == schemareg.FormatAvro {
			f = "avro"
		}
		return nil, fmt.Errorf("table '%s' has no columns and connector %s without a schema registry cannot infer them: declare them, or read them from a registry with '%s.confluent_schema_registry' = 'true' and '%s'",
			t.Name, t.Connector, f, OptRegistryURL)
	}
	o, err := registryOptions(t)
	if err != nil {
		return nil, err
	}
	reg, err := registry(t.Name, o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeoutOf(o))
	defer cancel()
	subject := subjectOf(o)
	cols, fo, err := reg.ResolveTable(ctx, subject, format, t.Format.Options)
	if err != nil {
		return nil, fmt.Errorf("table '%s' has no columns, and reading them from the registry failed (subject '%s'; set '%s' or declare the columns): %w", t.Name, subject, OptValueSubject, err)
	}
	t.Format.Options = fo
	return cols, nil
}

// preflight checks a planned table: the brokers answer with the
// configured authentication; a source's topic exists; a registry source's
// subject exists and a registry sink's schema is compatible with its
// subject. A sink's missing topic is fine when sink.create_topic is on (it
// is created when the sink starts, not here).
func preflight(ctx context.Context, t *connector.Table, role string) error {
	c, cl, _, err := testConnect(ctx, t)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(c.timeout / time.Millisecond))
	_, err = c.partitions(ctx, adm)
	switch {
	case errors.Is(err, ErrTopicNotFound) && role == connector.RoleSink && c.create:
	case errors.Is(err, ErrTopicNotFound) && role == connector.RoleSink:
		return fmt.Errorf("kafka table '%s': topic '%s' does not exist on %s and option '%s' is false", t.Name, c.topic, strings.Join(c.brokers, ","), OptCreateTopic)
	case errors.Is(err, ErrTopicNotFound):
		return fmt.Errorf("kafka table '%s': source topic '%s' does not exist on %s (option '%s')", t.Name, c.topic, strings.Join(c.brokers, ","), OptTopic)
	case err != nil:
		return err
	}
	format, ok := registryFormat(t)
	if !ok {
		return nil
	}
	o, err := registryOptions(t)
	if err != nil {
		return err
	}
	reg, err := registry(t.Name, o)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, timeoutOf(o))
	defer cancel()
	subject := subjectOf(o)
	if role == connector.RoleSink {
		if err := reg.CheckSink(rctx, subject, format, t.Format.Options, t.Schema); err != nil {
			return fmt.Errorf("kafka table '%s' (topic '%s'): %w", t.Name, c.topic, err)
		}
		return nil
	}
	if _, err := reg.Latest(rctx, subject); err != nil {
		return fmt.Errorf("kafka table '%s' (topic '%s'): %w (option '%s')", t.Name, c.topic, err, OptValueSubject)
	}
	return nil
}
