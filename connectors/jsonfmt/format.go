package jsonfmt

import (
	"fmt"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// Name is the format's name in WITH (format = 'json').
const Name = "json"

// Option names.
const (
	OptTimestampFormat = "json.timestamp_format"
	OptUnstructured    = "json.unstructured"
	OptIncludeSchema   = "json.include_schema"
	// OptConfluentSchemaRegistry is read by the connectors that take a
	// schema registry (connectors/schemareg frames the records).
	OptConfluentSchemaRegistry = "json.confluent_schema_registry"
)

// Values of OptTimestampFormat.
const (
	TimestampRFC3339    = "rfc3339"
	TimestampUnixMillis = "unix_millis"
)

var options = []connector.Option{
	{
		Name: OptTimestampFormat,
		Type: connector.TypeEnum,
		Description: "How TIMESTAMP values are written: 'rfc3339' strings such as " +
			"2023-01-02T03:04:05.123Z, or 'unix_millis' integers. When reading, both an " +
			"RFC 3339 string and an integer of Unix milliseconds are accepted either way.",
		Default: TimestampRFC3339,
		Enum:    []string{TimestampRFC3339, TimestampUnixMillis},
	},
	{
		Name: OptUnstructured,
		Type: connector.TypeBool,
		Description: "Read each record whole into the table's single JSON or TEXT column " +
			"instead of mapping object keys to columns; when writing, emit that column as is.",
		Default: "false",
	},
	{
		Name: OptIncludeSchema,
		Type: connector.TypeBool,
		Description: "When writing, wrap each row Kafka-Connect style as " +
			`{"schema": {...}, "payload": {...}} so JDBC and other Connect sinks can read it ` +
			"(ignored with json.unstructured).",
		Default: "false",
	},
	{
		Name: OptConfluentSchemaRegistry,
		Type: connector.TypeBool,
		Description: "Records carry the Confluent wire header (a 0 byte and a 4-byte schema id) of a JSON " +
			"schema in the connector's schema registry ('schema_registry.endpoint'); sinks register " +
			"the table's JSON schema there.",
		Default: "false",
	},
}

func init() {
	connector.RegisterFormat(&connector.Format{
		Name:        Name,
		Description: "JSON objects, one per record; keys are column names.",
		Options:     options,
		// An unstructured table declared without columns gets Arroyo's
		// single `value JSON` column.
		Schema: func(opts connector.Options) (*types.Schema, error) {
			if !opts.Bool(OptUnstructured) {
				return nil, nil
			}
			return types.NewSchema(types.Field{Name: "value", Type: types.JSONT}), nil
		},
		NewDecoder: func(schema *types.Schema, opts connector.Options) (connector.Decoder, error) {
			return NewDecoder(schema, opts)
		},
		NewEncoder: func(schema *types.Schema, opts connector.Options) (connector.Encoder, error) {
			return NewEncoder(schema, opts)
		},
		// Keys are matched by name, so any subset of the columns decodes;
		// unstructured reads the whole record into its one column.
		Projects: func(opts connector.Options) bool { return !opts.Bool(OptUnstructured) },
	})
}

var (
	_ connector.Decoder = (*Decoder)(nil)
	_ connector.Encoder = (*Encoder)(nil)
)

// unixMillis reports whether opts ask for integer timestamps. Options are
// validated by the planner; direct callers may pass nil for the defaults.
func unixMillis(opts connector.Options) (bool, error) {
	switch v := opts.String(OptTimestampFormat); v {
	case "", TimestampRFC3339:
		return false, nil
	case TimestampUnixMillis:
		return true, nil
	default:
		return false, &connector.OptionError{Owner: Name, Option: OptTimestampFormat, Value: v,
			Problem: "allowed values are 'rfc3339', 'unix_millis'"}
	}
}

// unstructuredColumn checks the schema of an unstructured table and returns
// the kind of its one column.
func unstructuredColumn(fields []types.Field) (types.Kind, error) {
	if len(fields) != 1 || (fields[0].Type.Kind != types.JSON && fields[0].Type.Kind != types.String) {
		return 0, fmt.Errorf("json: with '%s' = 'true' the table must have exactly one column, of type JSON or TEXT (got %s)",
			OptUnstructured, types.NewSchema(fields...))
	}
	return fields[0].Type.Kind, nil
}
