package schemareg

import (
	"context"
	"errors"
	"fmt"
	"strings"

	hamba "github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/arroyogo/arroyo/connectors/avro"
	"github.com/arroyogo/arroyo/connectors/jsonfmt"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// TableSchema reads the latest schema of subject and converts it to SQL
// columns (avro.ToSQL for Avro, JSONSchemaToSQL for JSON Schema): the
// columns of a source table declared without any.
func (r *Registry) TableSchema(ctx context.Context, subject string) (*types.Schema, error) {
	ss, err := r.Latest(ctx, subject)
	if err != nil {
		return nil, err
	}
	where := fmt.Sprintf("schema registry %s: subject '%s' version %d (id %d)", r.endpoint, subject, ss.Version, ss.ID)
	switch ss.Type {
	case sr.TypeAvro:
		w, err := r.parseAvro(ctx, ss.Schema)
		if err != nil {
			return nil, &Error{Msg: where, Err: err}
		}
		s, err := avro.ToSQL(w)
		if err != nil {
			return nil, &Error{Msg: where, Err: err}
		}
		return s, nil
	case sr.TypeJSON:
		s, err := JSONSchemaToSQL(ss.Schema.Schema)
		if err != nil {
			return nil, &Error{Msg: where, Err: err}
		}
		return s, nil
	}
	return nil, &Error{Msg: where, Err: fmt.Errorf("%s schemas are not supported (Avro and JSON are)", ss.Type)}
}

// ReaderSchema returns the latest schema of subject and its columns: what a
// source table declared without columns stores at creation, the text in
// its 'avro.schema' format option (Avro only; "" for JSON) so its
// decoders apply the defaults of fields older writers lack, and the
// columns as TableSchema gives them.
func (r *Registry) ReaderSchema(ctx context.Context, subject string) (text string, cols *types.Schema, err error) {
	cols, err = r.TableSchema(ctx, subject)
	if err != nil {
		return "", nil, err
	}
	ss, err := r.Latest(ctx, subject)
	if err != nil {
		return "", nil, err
	}
	if ss.Type != sr.TypeAvro || len(ss.References) > 0 {
		return "", cols, nil
	}
	return ss.Schema.Schema, cols, nil
}

// SinkSchema is the schema a sink of format writes for rows of schema:
// its text and registry type.
func SinkSchema(format string, opts connector.Options, schema *types.Schema) (sr.Schema, error) {
	switch format {
	case FormatAvro:
		if text := opts.String(avro.OptSchema); text != "" {
			return sr.Schema{Schema: text, Type: sr.TypeAvro}, nil
		}
		text, err := avro.SchemaText(schema)
		if err != nil {
			return sr.Schema{}, err
		}
		return sr.Schema{Schema: text, Type: sr.TypeAvro}, nil
	case FormatJSON:
		millis := opts.String(jsonfmt.OptTimestampFormat) == jsonfmt.TimestampUnixMillis
		return sr.Schema{Schema: SQLToJSONSchema(schema, millis), Type: sr.TypeJSON}, nil
	}
	return sr.Schema{}, fmt.Errorf("schema registry: format '%s' is not supported with a schema registry (use '%s' or '%s')", format, FormatAvro, FormatJSON)
}

// CheckSink checks, without changing the registry, that a sink of format
// writing rows of schema could register its schema under subject: the
// registry answers, and the subject is absent or its latest version (all
// versions for *_TRANSITIVE levels) compatible with the new schema at the
// subject's compatibility level. The refusal names the subject, the
// version, the level and why.
func (r *Registry) CheckSink(ctx context.Context, subject, format string, opts connector.Options, schema *types.Schema) error {
	s, err := SinkSchema(format, opts, schema)
	if err != nil {
		return err
	}
	return r.checkCompatible(ctx, subject, s)
}

func (r *Registry) checkCompatible(ctx context.Context, subject string, s sr.Schema) error {
	latest, err := r.Latest(ctx, subject)
	var e *Error
	if errors.As(err, &e) && e.NotFound {
		return nil // a new subject: anything goes
	}
	if err != nil {
		return err
	}
	level, err := r.level(ctx, subject)
	if err != nil {
		return err
	}
	if level == sr.CompatNone {
		return nil
	}
	if latest.Schema.Schema == s.Schema && latest.Type == s.Type {
		return nil
	}
	against := []sr.SubjectSchema{latest}
	if level == sr.CompatBackwardTransitive || level == sr.CompatForwardTransitive || level == sr.CompatFullTransitive {
		all, err := r.cl.Schemas(ctx, subject)
		if err != nil {
			return r.wrap(fmt.Sprintf("reading the versions of subject '%s'", subject), err)
		}
		against = all
	}
	for _, old := range against {
		if old.Type != s.Type {
			return &Error{Msg: fmt.Sprintf("schema registry %s: subject '%s' version %d is a %s schema; the sink writes %s",
				r.endpoint, subject, old.Version, old.Type, s.Type)}
		}
		var why error
		switch s.Type {
		case sr.TypeAvro:
			why = r.avroCompatible(ctx, level, old.Schema, s)
		case sr.TypeJSON:
			why = jsonCompatible(level, old.Schema.Schema, s.Schema)
		}
		if why != nil {
			return &Error{Msg: fmt.Sprintf(
				"schema registry %s: the sink's schema is not %s compatible with version %d (id %d) of subject '%s', so it cannot be registered; change the table's columns, or the subject's compatibility level",
				r.endpoint, level, old.Version, old.ID, subject), Err: why}
		}
	}
	return nil
}

// level returns the subject's compatibility level (the global one if it
// has none).
func (r *Registry) level(ctx context.Context, subject string) (sr.CompatibilityLevel, error) {
	res := r.cl.Compatibility(sr.WithParams(ctx, sr.DefaultToGlobal), subject)
	if len(res) == 0 {
		return sr.CompatBackward, nil
	}
	if err := res[0].Err; err != nil {
		return 0, r.wrap(fmt.Sprintf("reading the compatibility level of subject '%s'", subject), err)
	}
	if res[0].Level == 0 {
		return sr.CompatBackward, nil // Confluent's default
	}
	return res[0].Level, nil
}

func (r *Registry) avroCompatible(ctx context.Context, level sr.CompatibilityLevel, old sr.Schema, s sr.Schema) error {
	ow, err := r.parseAvro(ctx, old)
	if err != nil {
		return fmt.Errorf("the registered schema: %w", err)
	}
	nw, err := avro.Parse(s.Schema)
	if err != nil {
		return err
	}
	c := hamba.NewSchemaCompatibility()
	backward := func() error {
		if err := c.Compatible(nw, ow); err != nil {
			return fmt.Errorf("the new schema cannot read data written with the old one: %w", err)
		}
		return nil
	}
	forward := func() error {
		if err := c.Compatible(ow, nw); err != nil {
			return fmt.Errorf("readers of the old schema cannot read data written with the new one: %w", err)
		}
		return nil
	}
	switch level {
	case sr.CompatBackward, sr.CompatBackwardTransitive:
		return backward()
	case sr.CompatForward, sr.CompatForwardTransitive:
		return forward()
	case sr.CompatFull, sr.CompatFullTransitive:
		if err := backward(); err != nil {
			return err
		}
		return forward()
	}
	return nil
}

// Encoder registers the schema a sink of format writes for rows of schema
// under subject (after checking compatibility, see CheckSink) and returns
// an encoder that prefixes every record with the Confluent header of its
// id. Registering an identical schema again returns the same id, so calling
// it from every sink subtask at every start is idempotent.
func (r *Registry) Encoder(ctx context.Context, subject, format string, opts connector.Options, schema *types.Schema) (connector.Encoder, error) {
	s, err := SinkSchema(format, opts, schema)
	if err != nil {
		return nil, err
	}
	if err := r.checkCompatible(ctx, subject, s); err != nil {
		return nil, err
	}
	id, err := r.cl.RegisterSchema(ctx, subject, s, -1, -1)
	if err != nil {
		return nil, r.wrap(fmt.Sprintf("registering the sink's schema under subject '%s'", subject), err)
	}
	r.mu.Lock()
	r.byID[id] = s
	r.mu.Unlock()
	header := AppendHeader(nil, id)
	switch format {
	case FormatAvro:
		o := clone(opts)
		o[avro.OptRawDatum] = "true"
		o[avro.OptSchema] = s.Schema
		e, err := avro.NewEncoder(schema, o)
		if err != nil {
			return nil, err
		}
		e.SetPrefix(header)
		return e, nil
	default:
		e, err := jsonfmt.NewEncoder(schema, opts)
		if err != nil {
			return nil, err
		}
		return &prefixEncoder{e: e, header: header, ID: id}, nil
	}
}

// prefixEncoder puts the Confluent header before every record of e.
type prefixEncoder struct {
	e      connector.Encoder
	header []byte
	buf    []byte
	ID     int
}

func (p *prefixEncoder) Encode(b *coldata.Batch, emit func(rec []byte) error) error {
	return p.e.Encode(b, func(rec []byte) error {
		p.buf = append(append(p.buf[:0], p.header...), rec...)
		return emit(p.buf)
	})
}

var _ connector.Encoder = (*prefixEncoder)(nil)

// jsonCompatible is a structural check of two JSON schemas: BACKWARD (the
// new schema validates data valid under the old one) refuses a property
// the new schema requires that the old did not, and a property whose type
// changed other than integer -> number or to a type that allows more;
// FORWARD is the same check the other way round.
func jsonCompatible(level sr.CompatibilityLevel, oldText, newText string) error {
	oldS, err := JSONSchemaToSQL(oldText)
	if err != nil {
		return fmt.Errorf("the registered schema: %w", err)
	}
	newS, err := JSONSchemaToSQL(newText)
	if err != nil {
		return err
	}
	switch level {
	case sr.CompatBackward, sr.CompatBackwardTransitive:
		return readsAll(newS.Fields, oldS.Fields, "")
	case sr.CompatForward, sr.CompatForwardTransitive:
		return readsAll(oldS.Fields, newS.Fields, "")
	case sr.CompatFull, sr.CompatFullTransitive:
		if err := readsAll(newS.Fields, oldS.Fields, ""); err != nil {
			return err
		}
		return readsAll(oldS.Fields, newS.Fields, "")
	}
	return nil
}

// readsAll reports why data valid under writer's fields may be invalid
// under reader's.
func readsAll(reader, writer []types.Field, path string) error {
	for _, rf := range reader {
		p := rf.Name
		if path != "" {
			p = path + "." + rf.Name
		}
		k := -1
		for i, wf := range writer {
			if wf.Name == rf.Name {
				k = i
			}
		}
		if k < 0 {
			if !rf.Nullable {
				return fmt.Errorf("property '%s' is required but absent before", p)
			}
			continue
		}
		wf := writer[k]
		if !rf.Nullable && wf.Nullable {
			return fmt.Errorf("property '%s' is required but was optional", p)
		}
		if err := typeReads(rf.Type, wf.Type, p); err != nil {
			return err
		}
	}
	return nil
}

func typeReads(r, w types.Type, path string) error {
	switch {
	case r.Kind == types.JSON:
		return nil
	case r.Kind == types.Float64 && w.Kind == types.Int64:
		return nil
	case r.Kind == types.String && (w.Kind == types.Timestamp || w.Kind == types.Date || w.Kind == types.Time):
		return nil
	case r.Kind == types.Struct && w.Kind == types.Struct:
		return readsAll(r.Fields, w.Fields, path)
	case r.Kind == types.List && w.Kind == types.List:
		return typeReads(*r.Elem, *w.Elem, path+"[]")
	case r.Kind == w.Kind:
		return nil
	}
	return fmt.Errorf("property '%s' changed type from %s to %s", path, jsName(w), jsName(r))
}

func jsName(t types.Type) string {
	return strings.ToLower(t.String())
}
