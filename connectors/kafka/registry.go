package kafka

import (
	"context"
	"maps"

	"github.com/arroyogo/arroyo/connectors/schemareg"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// registryFormat returns the format ("avro" or "json") of a table whose
// records are Confluent-framed with Schema Registry ids
// ('avro.confluent_schema_registry' or 'json.confluent_schema_registry').
func registryFormat(t *connector.Table) (string, bool) {
	if t.Format == nil {
		return "", false
	}
	switch t.Format.Name {
	case schemareg.FormatAvro:
		return schemareg.FormatAvro, t.Format.Options.Bool("avro.confluent_schema_registry")
	case schemareg.FormatJSON:
		return schemareg.FormatJSON, t.Format.Options.Bool("json.confluent_schema_registry")
	}
	return "", false
}

// registry connects the table's Schema Registry (schema_registry.*, from
// the options or a Confluent profile already applied to o), with its
// {{ENV_VAR}} templates resolved.
func registry(table string, o connector.Options) (*schemareg.Registry, error) {
	o = maps.Clone(o)
	for _, name := range []string{OptRegistryURL, OptRegistryKey, OptRegistrySecret} {
		if !o.Has(name) {
			continue
		}
		v, err := expand(table, name, o.String(name), lookupEnv)
		if err != nil {
			return nil, err
		}
		o[name] = v
	}
	cfg, ok := schemareg.ConfigFromOptions(o)
	if !ok {
		return nil, &ConfigError{Table: table, Option: OptRegistryURL, Problem: "is required by a format with a schema registry ('avro.confluent_schema_registry' / 'json.confluent_schema_registry')"}
	}
	return schemareg.New(cfg)
}

// newRegistryDecoder returns the decoder of a registry table's records
// into schema, or nil when the table's format uses no registry.
func newRegistryDecoder(t *connector.Table, o connector.Options, schema *types.Schema) (connector.Decoder, error) {
	format, ok := registryFormat(t)
	if !ok {
		return nil, nil
	}
	reg, err := registry(t.Name, o)
	if err != nil {
		return nil, err
	}
	return reg.Decoder(context.Background(), format, t.Format.Options, schema)
}

// newRegistryEncoder registers the sink's schema under its subject
// (value.subject, default <topic>-value), refusing an incompatible one,
// and returns the framing encoder; nil when the format uses no registry.
func newRegistryEncoder(ctx context.Context, t *connector.Table, o connector.Options, topic string) (connector.Encoder, error) {
	format, ok := registryFormat(t)
	if !ok {
		return nil, nil
	}
	reg, err := registry(t.Name, o)
	if err != nil {
		return nil, err
	}
	subject := o.String(OptValueSubject)
	if subject == "" {
		subject = schemareg.ValueSubject(topic)
	}
	return reg.Encoder(ctx, subject, format, t.Format.Options, t.Schema)
}
