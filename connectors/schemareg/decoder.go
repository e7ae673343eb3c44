package schemareg

import (
	"context"
	"fmt"
	"time"

	hamba "github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/arroyogo/arroyo/connectors/avro"
	"github.com/arroyogo/arroyo/connectors/jsonfmt"
	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// Format names this package frames.
const (
	FormatAvro = "avro"
	FormatJSON = "json"
)

// lookupTimeout bounds one registry lookup made while decoding (a new id).
const lookupTimeout = 30 * time.Second

// Decoder returns a decoder for Confluent-framed records of format ("avro"
// or "json") into rows of schema (the table's columns, possibly a projected
// subset). opts are the format's validated options.
//
// Avro: each new id's writer schema is fetched (cached) and resolved to the
// columns once; a writer schema that cannot be resolved is an error for
// the records with that id (naming the id and the column). With
// 'avro.schema' in opts (a connector stores the subject's schema there when
// the table is created: see ReaderSchema), a field older writers lack gets
// that schema's default, as Avro's resolution rules say; without it, NULL,
// and a NOT NULL column such a writer lacks is an error. JSON: records
// are decoded by key name whatever their schema, after the header is
// checked and the id is known to the registry as a JSON schema.
//
// ctx carries values (not the deadline) to the lookups of new ids made
// while decoding; each has its own timeout.
func (r *Registry) Decoder(ctx context.Context, format string, opts connector.Options, schema *types.Schema) (connector.Decoder, error) {
	base := &frameDecoder{r: r, ctx: context.WithoutCancel(ctx), known: map[int]error{}}
	switch format {
	case FormatAvro:
		o := clone(opts)
		// Bare datums after the header; the writer schema comes by id.
		// 'avro.schema', if set (the subject's schema when the table was
		// created), is the reader's: its defaults fill the fields older
		// writers lack.
		o[avro.OptConfluentSchemaRegistry] = "true"
		d, err := avro.NewDecoder(schema, o)
		if err != nil {
			return nil, err
		}
		return &avroDecoder{frameDecoder: base, d: d, plans: map[int]*avro.Plan{}}, nil
	case FormatJSON:
		d, err := jsonfmt.NewDecoder(schema, opts)
		if err != nil {
			return nil, err
		}
		return &jsonDecoder{frameDecoder: base, d: d}, nil
	}
	return nil, fmt.Errorf("schema registry: format '%s' is not supported with a schema registry (use '%s' or '%s')", format, FormatAvro, FormatJSON)
}

func clone(o connector.Options) connector.Options {
	c := connector.Options{}
	for k, v := range o {
		c[k] = v
	}
	return c
}

type frameDecoder struct {
	r   *Registry
	ctx context.Context
	// known caches, per id, nil for a usable schema or the (not
	// retriable) error of an unusable one, so a stream of records with
	// an unknown id does not query the registry for each.
	known map[int]error
}

// schema returns the writer schema of id, which must be of type want.
func (f *frameDecoder) schema(id int, want sr.SchemaType) (sr.Schema, error) {
	if err, ok := f.known[id]; ok && err != nil {
		return sr.Schema{}, err
	}
	ctx, cancel := context.WithTimeout(f.ctx, lookupTimeout)
	defer cancel()
	s, err := f.r.SchemaByID(ctx, id)
	if err != nil {
		if e, ok := err.(*Error); ok && !e.Retriable {
			f.known[id] = err
		}
		return sr.Schema{}, err
	}
	if s.Type != want {
		err := &Error{Msg: fmt.Sprintf("schema registry %s: schema id %d is a %s schema, but the table's format reads %s",
			f.r.endpoint, id, s.Type, want)}
		f.known[id] = err
		return sr.Schema{}, err
	}
	f.known[id] = nil
	return s, nil
}

type avroDecoder struct {
	*frameDecoder
	d     *avro.Decoder
	plans map[int]*avro.Plan
}

func (a *avroDecoder) Decode(rec []byte) error {
	id, payload, err := SplitFrame(rec)
	if err != nil {
		return err
	}
	p, ok := a.plans[id]
	if !ok {
		if p, err = a.plan(id); err != nil {
			return err
		}
	}
	if err := a.d.DecodeWith(p, payload); err != nil {
		return fmt.Errorf("%w (writer schema id %d)", err, id)
	}
	return nil
}

func (a *avroDecoder) plan(id int) (*avro.Plan, error) {
	s, err := a.schema(id, sr.TypeAvro)
	if err != nil {
		return nil, err
	}
	w, err := a.r.parseAvro(a.ctx, s)
	if err != nil {
		err = &Error{Msg: fmt.Sprintf("schema registry %s: schema id %d", a.r.endpoint, id), Err: err}
		a.known[id] = err
		return nil, err
	}
	p, err := a.d.Plan(w)
	if err != nil {
		err = &Error{Msg: fmt.Sprintf("schema registry %s: writer schema id %d does not resolve to the table's columns", a.r.endpoint, id), Err: err}
		a.known[id] = err
		return nil, err
	}
	a.plans[id] = p
	return p, nil
}

func (a *avroDecoder) Rows() int               { return a.d.Rows() }
func (a *avroDecoder) Flush() []coldata.Vector { return a.d.Flush() }

type jsonDecoder struct {
	*frameDecoder
	d *jsonfmt.Decoder
}

func (j *jsonDecoder) Decode(rec []byte) error {
	id, payload, err := SplitFrame(rec)
	if err != nil {
		return err
	}
	if err, ok := j.known[id]; !ok || err != nil {
		if _, err := j.schema(id, sr.TypeJSON); err != nil {
			return err
		}
	}
	return j.d.Decode(payload)
}

func (j *jsonDecoder) Rows() int               { return j.d.Rows() }
func (j *jsonDecoder) Flush() []coldata.Vector { return j.d.Flush() }

// parseAvro parses an Avro schema of the registry, with the schemas it
// references (by subject and version) parsed first into the same cache.
func (r *Registry) parseAvro(ctx context.Context, s sr.Schema) (hamba.Schema, error) {
	cache := &hamba.SchemaCache{}
	if err := r.parseRefs(ctx, s.References, cache, 0); err != nil {
		return nil, err
	}
	w, err := hamba.ParseWithCache(s.Schema, "", cache)
	if err != nil {
		return nil, fmt.Errorf("invalid Avro schema: %w", err)
	}
	return w, nil
}

func (r *Registry) parseRefs(ctx context.Context, refs []sr.SchemaReference, cache *hamba.SchemaCache, depth int) error {
	if depth > 16 {
		return fmt.Errorf("schema references nested deeper than 16")
	}
	for _, ref := range refs {
		ss, err := r.cl.SchemaByVersion(ctx, ref.Subject, ref.Version)
		if err != nil {
			return r.wrap(fmt.Sprintf("reading referenced schema '%s' (subject '%s' version %d)", ref.Name, ref.Subject, ref.Version), err)
		}
		if err := r.parseRefs(ctx, ss.References, cache, depth+1); err != nil {
			return err
		}
		if _, err := hamba.ParseWithCache(ss.Schema.Schema, "", cache); err != nil {
			return fmt.Errorf("referenced schema '%s': invalid Avro schema: %w", ref.Name, err)
		}
	}
	return nil
}

var (
	_ connector.Decoder = (*avroDecoder)(nil)
	_ connector.Decoder = (*jsonDecoder)(nil)
)
