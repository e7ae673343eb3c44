package schemareg

import (
	"context"
	"fmt"
	"maps"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/arroyogo/arroyo/connectors/avro"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// ResolveTable gives the columns of a source table of format ("avro" or
// "json") declared without any: the latest schema of subject turned into
// SQL columns (what SQL cannot express becomes a JSON column). It returns
// the format's options to store with the table: for Avro a copy of
// fmtOpts with the subject's schema as 'avro.schema', the reader schema
// its decoders resolve every writer schema to (so a field older writers
// lack gets its default); fmtOpts itself is not modified. A subject
// holding a schema of another type than the format is an error.
func (r *Registry) ResolveTable(ctx context.Context, subject, format string, fmtOpts connector.Options) (*types.Schema, connector.Options, error) {
	ss, err := r.Latest(ctx, subject)
	if err != nil {
		return nil, nil, err
	}
	want := map[string]sr.SchemaType{FormatAvro: sr.TypeAvro, FormatJSON: sr.TypeJSON}[format]
	if ss.Type != want {
		return nil, nil, &Error{Msg: fmt.Sprintf("schema registry %s: subject '%s' version %d holds a %s schema, but the table's format is '%s'", r.endpoint, subject, ss.Version, ss.Type, format)}
	}
	text, cols, err := r.ReaderSchema(ctx, subject)
	if err != nil {
		return nil, nil, err
	}
	out := maps.Clone(fmtOpts)
	if out == nil {
		out = connector.Options{}
	}
	if format == FormatAvro && text != "" && out.String(avro.OptSchema) == "" {
		out[avro.OptSchema] = text
	}
	return cols, out, nil
}
