package avro

import (
	"fmt"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// Name is the format's name in WITH (format = 'avro').
const Name = "avro"

// Option names (Arroyo's).
const (
	OptConfluentSchemaRegistry = "avro.confluent_schema_registry"
	OptRawDatum                = "avro.raw_datum"
	OptIntoUnstructuredJSON    = "avro.into_unstructured_json"
	OptSchema                  = "avro.schema"
)

// Options are the format's option declarations.
var Options = []connector.Option{
	{
		Name: OptConfluentSchemaRegistry,
		Type: connector.TypeBool,
		Description: "Records carry the Confluent wire header (a 0 byte and a 4-byte schema id) and " +
			"their writer schema is fetched from the connector's schema registry " +
			"('schema_registry.endpoint'); sinks register the table's schema there.",
		Default: "false",
	},
	{
		Name: OptRawDatum,
		Type: connector.TypeBool,
		Description: "Records are bare Avro datums written with 'avro.schema' (or, without it, with " +
			"the schema derived from the table's columns) rather than Avro object container files.",
		Default: "false",
	},
	{
		Name: OptIntoUnstructuredJSON,
		Type: connector.TypeBool,
		Description: "Read each record whole, as JSON text, into the table's single JSON column " +
			"(named 'value' when the table declares no columns).",
		Default: "false",
	},
	{
		Name: OptSchema,
		Type: connector.TypeString,
		Description: "The Avro schema (JSON) records are written with. A table that declares no " +
			"columns gets them from it; without a registry it is the writer schema of raw datums " +
			"and the schema the sink writes.",
		Example: `{"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]}`,
	},
}

func init() {
	connector.RegisterFormat(&connector.Format{
		Name:        Name,
		Description: "Avro binary datums: bare, in object container files, or Confluent-framed with a schema registry.",
		Options:     Options,
		Schema:      TableSchema,
		NewDecoder: func(schema *types.Schema, opts connector.Options) (connector.Decoder, error) {
			return NewDecoder(schema, opts)
		},
		NewEncoder: func(schema *types.Schema, opts connector.Options) (connector.Encoder, error) {
			return NewEncoder(schema, opts)
		},
		// Writer fields are matched to columns by name, so any subset of
		// the columns decodes; unstructured reads the whole record, and
		// bare datums without 'avro.schema' are read with the schema
		// derived from the columns: all of them.
		Projects: projects,
	})
}

func projects(opts connector.Options) bool {
	if opts.Bool(OptRawDatum) && !opts.Bool(OptConfluentSchemaRegistry) && opts.String(OptSchema) == "" {
		return false
	}
	return !opts.Bool(OptIntoUnstructuredJSON)
}

var (
	_ connector.Decoder = (*Decoder)(nil)
	_ connector.Encoder = (*Encoder)(nil)
)

// TableSchema is the schema of a table in this format that declares no
// columns: `value JSON` with 'avro.into_unstructured_json', the columns of
// 'avro.schema' if given, else nil (the user, or the connector's registry,
// must give them).
func TableSchema(opts connector.Options) (*types.Schema, error) {
	if opts.Bool(OptIntoUnstructuredJSON) {
		return types.NewSchema(types.Field{Name: "value", Type: types.JSONT}), nil
	}
	if text := opts.String(OptSchema); text != "" {
		w, err := Parse(text)
		if err != nil {
			return nil, &connector.OptionError{Owner: Name, Option: OptSchema, Problem: err.Error()}
		}
		s, err := ToSQL(w)
		if err != nil {
			return nil, &connector.OptionError{Owner: Name, Option: OptSchema, Problem: err.Error()}
		}
		return s, nil
	}
	return nil, nil
}

func unstructuredColumn(fields []types.Field) error {
	if len(fields) != 1 || (fields[0].Type.Kind != types.JSON && fields[0].Type.Kind != types.String) {
		return fmt.Errorf("avro: with '%s' = 'true' the table must have exactly one column, of type JSON or TEXT (got %s)",
			OptIntoUnstructuredJSON, types.NewSchema(fields...))
	}
	return nil
}
