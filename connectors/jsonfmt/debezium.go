package jsonfmt

import (
	"fmt"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// DebeziumName is the changelog format's name in WITH (format =
// 'debezium_json'), as in Arroyo.
const DebeziumName = "debezium_json"

// The debezium_json format: one change per record,
//
//	{"before": {...} | null, "after": {...} | null, "op": "c" | "r" | "u" | "d"}
//
// where before and after are rows of the table as the json format reads and
// writes them (json.timestamp_format applies inside them). Other keys
// (Debezium's source, ts_ms, transaction) are skipped when reading and not
// written. When reading, Kafka Connect's envelope with schemas enabled,
// {"schema": ..., "payload": {"before": ..., "after": ..., "op": ...}}, is
// accepted too (the schema is skipped; the table declares the columns).
//
// Reading: c (create) and r (a snapshot read) are inserts of after, u is
// the update pair before, after (two rows, ChangeUpdateBefore then
// ChangeUpdateAfter, whatever order the keys come in), d is a delete of
// before. A record whose op is missing or unknown, or that lacks the
// side its op needs (a u without before, a c without after, a d without
// before), is bad data; the side an op does not need is ignored.
//
// Writing: an insert is a c with before null, an update pair one u, a
// delete or a retraction (an update's before without its after) a d with
// after null; an after without its before is a c. A stream without the
// change column (append-only) is written as creates.

func init() {
	connector.RegisterFormat(&connector.Format{
		Name: DebeziumName,
		Description: "Debezium change records {\"before\", \"after\", \"op\"} with op c, r, u or d; " +
			"a source table in it needs a PRIMARY KEY and is an updating table.",
		Options:   options[:1], // json.timestamp_format, inside before and after
		Changelog: true,
		NewDecoder: func(schema *types.Schema, opts connector.Options) (connector.Decoder, error) {
			return NewDebeziumDecoder(schema, opts)
		},
		NewEncoder: func(schema *types.Schema, opts connector.Options) (connector.Encoder, error) {
			return NewDebeziumEncoder(schema, opts)
		},
	})
}

var (
	_ connector.Decoder = (*DebeziumDecoder)(nil)
	_ connector.Encoder = (*DebeziumEncoder)(nil)
)

// DebeziumDecoder decodes Debezium change records into the table's columns
// plus the change column (program.ChangeKindField). It is not safe for
// concurrent use.
//
// before and after are decoded in place, straight into the builders, when
// they come in the order of the rows they make (before first), so a record
// is scanned once; a record whose keys come in another order, or that
// carries a side its op does not use, is decoded again from the recorded
// offsets of the sides it needs.
type DebeziumDecoder struct {
	d   *Decoder // decodes before and after as rows of the table
	ops *coldata.Vec[int8]
}

// NewDebeziumDecoder returns a decoder for changes to rows of schema (the
// table's columns, without hidden ones).
func NewDebeziumDecoder(schema *types.Schema, opts connector.Options) (*DebeziumDecoder, error) {
	d, err := NewDecoder(schema, opts)
	if err != nil {
		return nil, err
	}
	if d.unstructured {
		return nil, fmt.Errorf("%s: '%s' does not apply to change records", DebeziumName, OptUnstructured)
	}
	z := &DebeziumDecoder{d: d}
	z.freshOps(1024)
	return z, nil
}

func (z *DebeziumDecoder) freshOps(c int) {
	z.ops = &coldata.Vec[int8]{T: program.ChangeKindType, Vals: make([]int8, 0, c+c/8)}
}

// Rows returns the number of rows decoded since the last Flush (an update
// is two).
func (z *DebeziumDecoder) Rows() int { return z.d.rows }

// Flush returns one vector per schema field and then the change column,
// and starts new builders.
func (z *DebeziumDecoder) Flush() []coldata.Vector {
	out := append(z.d.Flush(), z.ops)
	z.freshOps(z.ops.Len())
	return out
}

// side is what a record holds for before or after.
type side struct {
	at  int // offset of its object, -1 if absent or null
	row int // the row it was decoded into in place, -1 if not
}

// Decode appends the rows of one change record: one for c, r and d, two
// for u. On error it appends nothing and returns a *DecodeError.
func (z *DebeziumDecoder) Decode(rec []byte) error {
	d := z.d
	start := d.rows
	d.rec = rec
	err := z.record(start)
	d.rec = nil
	if err != nil {
		for _, f := range d.root.fields {
			f.truncate(start)
		}
		d.rows = start
		z.ops.Vals = z.ops.Vals[:start]
	}
	return err
}

// change is what the keys of a change record said.
type change struct {
	before, after         side
	seenBefore, seenAfter bool
	op                    byte
	payload               bool // the keys were inside a Kafka Connect "payload"
}

func (z *DebeziumDecoder) record(start int) error {
	d := z.d
	s := d.rec
	i := skipWS(s, 0)
	if i >= len(s) {
		return syntaxErr(i, "empty record")
	}
	if s[i] != '{' {
		if k := valueKind(s, i); k != "" {
			return &DecodeError{Offset: i, Msg: "expected a JSON object, found " + k}
		}
		return syntaxErr(i, "expected value")
	}
	c := change{before: side{at: -1, row: -1}, after: side{at: -1, row: -1}}
	i, err := z.keys(&c, i, true)
	if err != nil {
		return err
	}
	if i = skipWS(s, i); i != len(s) {
		return syntaxErr(i, "unexpected data after the object")
	}
	before, after, op := c.before, c.after, c.op
	// The sides the op needs, in row order, and their change kinds.
	var want [2]*side
	var kinds [2]int8
	n := 0
	switch op {
	case 0:
		return &DecodeError{Field: "op", Offset: -1, Msg: "missing field"}
	case 'c', 'r':
		if after.at < 0 {
			return &DecodeError{Field: "after", Offset: -1, Msg: fmt.Sprintf("op '%c' (an insert) needs an object in", op)}
		}
		want[0], kinds[0], n = &after, program.ChangeInsert, 1
	case 'u':
		if before.at < 0 {
			return &DecodeError{Field: "before", Offset: -1, Msg: "op 'u' (an update) needs an object in"}
		}
		if after.at < 0 {
			return &DecodeError{Field: "after", Offset: -1, Msg: "op 'u' (an update) needs an object in"}
		}
		want[0], kinds[0] = &before, program.ChangeUpdateBefore
		want[1], kinds[1], n = &after, program.ChangeUpdateAfter, 2
	case 'd':
		if before.at < 0 {
			return &DecodeError{Field: "before", Offset: -1, Msg: "op 'd' (a delete) needs an object in"}
		}
		want[0], kinds[0], n = &before, program.ChangeDelete, 1
	}
	// Rows decoded in place are kept if they are the wanted ones in order
	// (surplus rows after them are cut); otherwise decode again.
	ok := true
	for k := 0; k < n; k++ {
		if want[k].row != start+k {
			ok = false
		}
	}
	if ok {
		if d.rows > start+n {
			for _, f := range d.root.fields {
				f.truncate(start + n)
			}
			d.rows = start + n
		}
	} else {
		for _, f := range d.root.fields {
			f.truncate(start)
		}
		d.rows = start
		for k := 0; k < n; k++ {
			name := "before"
			if want[k] == &after {
				name = "after"
			}
			if _, err := d.object(d.root, want[k].at, d.rows); err != nil {
				return within(name, err) // cannot happen: it decoded once
			}
			d.rows++
		}
	}
	z.ops.Vals = append(z.ops.Vals, kinds[:n]...)
	return nil
}

// keys reads the keys of the object at s[i] == '{' into c, decoding before
// and after in place when that keeps their row order. At the top level, a
// "payload" object (Kafka Connect's envelope with schemas enabled:
// {"schema": ..., "payload": {"before": ...}}) holds the keys instead.
func (z *DebeziumDecoder) keys(c *change, i int, top bool) (int, error) {
	d := z.d
	s := d.rec
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return i, unexpected(s, i, "expected string key")
		}
		end, esc, err := scanString(s, i+1)
		if err != nil {
			return end, err
		}
		key := s[i+1 : end]
		if esc {
			d.scratch = unescape(d.scratch[:0], key)
			key = d.scratch
		}
		i = skipWS(s, end+1)
		if i >= len(s) || s[i] != ':' {
			return i, unexpected(s, i, "expected ':'")
		}
		i = skipWS(s, i+1)
		switch string(key) {
		case "before", "after":
			sd, seen, name := &c.before, &c.seenBefore, "before"
			if key[0] == 'a' {
				sd, seen, name = &c.after, &c.seenAfter, "after"
			}
			if *seen {
				return i, &DecodeError{Field: name, Offset: i, Msg: "key given twice"}
			}
			*seen = true
			if i < len(s) && s[i] == 'n' {
				if i, err = literal(s, i, "null"); err != nil {
					return i, err
				}
				break
			}
			if i >= len(s) || s[i] != '{' {
				if k := valueKind(s, i); k != "" {
					return i, &DecodeError{Field: name, Offset: i, Msg: "expected an object or null, found " + k}
				}
				return i, unexpected(s, i, "expected value")
			}
			sd.at = i
			// In place unless that would put after's row before
			// before's.
			if name == "before" && c.after.row >= 0 {
				i, err = skipValue(s, i, 1)
			} else {
				sd.row = d.rows
				i, err = d.object(d.root, i, d.rows)
				if err == nil {
					d.rows++
				} else {
					err = within(name, err)
				}
			}
			if err != nil {
				return i, err
			}
		case "op":
			if c.op != 0 {
				return i, &DecodeError{Field: "op", Offset: i, Msg: "key given twice"}
			}
			if i >= len(s) || s[i] != '"' {
				if k := valueKind(s, i); k != "" {
					return i, &DecodeError{Field: "op", Offset: i, Msg: "expected a string (c, r, u or d), found " + k}
				}
				return i, unexpected(s, i, "expected value")
			}
			end, _, err := scanString(s, i+1)
			if err != nil {
				return end, err
			}
			v := s[i+1 : end]
			if len(v) != 1 || (v[0] != 'c' && v[0] != 'r' && v[0] != 'u' && v[0] != 'd') {
				return i, &DecodeError{Field: "op", Offset: i, Msg: fmt.Sprintf("unknown operation %q (want c, r, u or d)", v)}
			}
			c.op = v[0]
			i = end + 1
		case "payload":
			if top && i < len(s) && s[i] == '{' {
				if c.payload {
					return i, &DecodeError{Field: "payload", Offset: i, Msg: "key given twice"}
				}
				c.payload = true
				if i, err = z.keys(c, i, false); err != nil {
					return i, err
				}
				break
			}
			fallthrough
		default:
			if i, err = skipValue(s, i, 1); err != nil {
				return i, err
			}
		}
		i = skipWS(s, i)
		if i < len(s) && s[i] == ',' {
			i = skipWS(s, i+1)
			continue
		}
		if i < len(s) && s[i] == '}' {
			return i + 1, nil
		}
		return i, unexpected(s, i, "expected ',' or '}'")
	}
}

// within prefixes the field path of a decode error inside before or after.
func within(name string, err error) error {
	if de, ok := err.(*DecodeError); ok && !de.Syntax {
		if de.Field == "" {
			de.Field = name
		} else {
			de.Field = name + "." + de.Field
		}
	}
	return err
}

// DebeziumEncoder writes rows as Debezium change records. It is not safe
// for concurrent use.
//
// A batch whose column after the table's is the change column (an INT8
// vector: the table's columns, program.ChangeKindField, then the event
// time) is a changelog; any other batch is append-only and every row a
// create. The change column and the event time are never written inside
// before or after.
type DebeziumEncoder struct {
	e   *Encoder
	buf []byte
}

// NewDebeziumEncoder returns an encoder for changes to rows of schema.
func NewDebeziumEncoder(schema *types.Schema, opts connector.Options) (*DebeziumEncoder, error) {
	fields := schema.Fields
	for len(fields) > 0 {
		if n := fields[len(fields)-1].Name; n != types.TimestampField && n != program.ChangeKindField {
			break
		}
		fields = fields[:len(fields)-1]
	}
	e, err := NewEncoder(types.NewSchema(fields...), opts)
	if err != nil {
		return nil, err
	}
	if e.unstructured || e.prefix != nil {
		return nil, fmt.Errorf("%s: json.unstructured and json.include_schema do not apply to change records", DebeziumName)
	}
	return &DebeziumEncoder{e: e}, nil
}

// Encode calls emit once per change of b, in order: an update pair (two
// adjacent rows) is one record. rec is only valid during the call.
func (z *DebeziumEncoder) Encode(b *coldata.Batch, emit func(rec []byte) error) error {
	e := z.e
	if len(b.Cols) < len(e.cols) {
		return fmt.Errorf("%s: batch has %d columns, the schema %d", DebeziumName, len(b.Cols), len(e.cols))
	}
	var kinds []int8
	if len(b.Cols) > len(e.cols) {
		if v, ok := b.Cols[len(e.cols)].(*coldata.Vec[int8]); ok {
			kinds = v.Vals
		}
	}
	defer func() {
		for _, c := range e.cols {
			c.unbind()
		}
	}()
	for i, c := range e.cols {
		if err := c.bind(b.Cols[i]); err != nil {
			return err
		}
	}
	n := b.Rows()
	phys := func(k int) int {
		if b.Sel != nil {
			return int(b.Sel[k])
		}
		return k
	}
	for k := 0; k < n; k++ {
		i := phys(k)
		buf := z.buf[:0]
		kind := program.ChangeInsert
		if kinds != nil {
			kind = kinds[i]
		}
		switch kind {
		case program.ChangeInsert, program.ChangeUpdateAfter:
			buf = append(buf, `{"before":null,"after":`...)
			buf = e.object(buf, i)
			buf = append(buf, `,"op":"c"}`...)
		case program.ChangeUpdateBefore:
			if k+1 < n && kinds[phys(k+1)] == program.ChangeUpdateAfter {
				buf = append(buf, `{"before":`...)
				buf = e.object(buf, i)
				buf = append(buf, `,"after":`...)
				k++
				buf = e.object(buf, phys(k))
				buf = append(buf, `,"op":"u"}`...)
				break
			}
			fallthrough // a retraction
		case program.ChangeDelete:
			buf = append(buf, `{"before":`...)
			buf = e.object(buf, i)
			buf = append(buf, `,"after":null,"op":"d"}`...)
		default:
			return fmt.Errorf("%s: row %d has change kind %d, which is none of insert (0), update before (1), update after (2), delete (3)", DebeziumName, k, kind)
		}
		z.buf = buf
		if err := emit(buf); err != nil {
			return err
		}
	}
	return nil
}
