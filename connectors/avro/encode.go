package avro

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/hamba/avro/v2"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// Encoder writes rows as Avro: bare datums (with 'avro.raw_datum' or a
// registry, optionally after a prefix such as the Confluent header), else
// one object container file per row. The writer schema is 'avro.schema' if
// given, else FromSQL's. It is not safe for concurrent use.
type Encoder struct {
	root   *encNode
	writer avro.Schema
	text   string // the writer schema's JSON
	raw    bool
	// registry: Confluent-framed records, written only once SetPrefix
	// gave the header (connectors/schemareg does).
	registry bool
	prefix   []byte
	sync     [16]byte
	buf      []byte
	datum    []byte
}

// encode opcodes: the writer type a column's values are written as.
type ecode uint8

const (
	eNull ecode = iota
	eBool
	eInt // int or long
	eFloat
	eDouble
	eString // string or bytes
	eFixed
	eEnum
	eRecord
	eArray
	eUnion
)

type encNode struct {
	code ecode
	kind types.Kind // the column's kind
	typ  types.Type
	path string

	isLong bool
	div    int64 // timestamps and times: nanoseconds per writer unit
	scale  int   // decimals: the writer's scale
	size   int   // fixed
	syms   map[string]int

	fields   []*encNode // record: one per writer field, in writer order
	colIdx   []int      // record: the column of each writer field (-1: write null)
	elem     *encNode   // array
	nullIdx  int        // union: the null branch, -1 if none
	valIdx   int        // union: the branch values are written as
	val      *encNode   // union: that branch
	nullable bool

	// Bound per batch.
	v coldata.Vector
}

// NewEncoder returns an encoder for rows of schema (the hidden event-time
// column, if present, is not written).
func NewEncoder(schema *types.Schema, opts connector.Options) (*Encoder, error) {
	e := &Encoder{raw: opts.Bool(OptRawDatum) || opts.Bool(OptConfluentSchemaRegistry), registry: opts.Bool(OptConfluentSchemaRegistry)}
	var err error
	if text := opts.String(OptSchema); text != "" {
		e.text = text
		if e.writer, err = Parse(text); err != nil {
			return nil, &connector.OptionError{Owner: Name, Option: OptSchema, Problem: err.Error()}
		}
	} else {
		fields := schema.Fields
		if i := schema.TimestampIndex(); i >= 0 {
			fields = append(append([]types.Field{}, fields[:i]...), fields[i+1:]...)
		}
		if e.text, err = SchemaText(types.NewSchema(fields...)); err != nil {
			return nil, err
		}
		if e.writer, err = Parse(e.text); err != nil {
			return nil, err
		}
	}
	r, ok := deref(e.writer).(*avro.RecordSchema)
	if !ok {
		return nil, fmt.Errorf("avro: the writer schema must be a record, not %s", typeName(e.writer))
	}
	if e.root, err = compileEncRecord(r, schema.Fields, ""); err != nil {
		return nil, err
	}
	if _, err := rand.Read(e.sync[:]); err != nil {
		return nil, err
	}
	return e, nil
}

// Writer returns the schema the encoder writes.
func (e *Encoder) Writer() avro.Schema { return e.writer }

// SchemaText returns the writer schema as JSON text.
func (e *Encoder) SchemaText() string { return e.text }

// SetPrefix makes the encoder write bare datums, each after prefix (the
// Confluent header of a registered schema, for instance).
func (e *Encoder) SetPrefix(prefix []byte) {
	e.raw = true
	e.prefix = append([]byte(nil), prefix...)
}

func compileEncRecord(r *avro.RecordSchema, cols []types.Field, path string) (*encNode, error) {
	n := &encNode{code: eRecord, typ: types.StructOf(cols...), kind: types.Struct, path: path}
	for _, wf := range r.Fields() {
		k := -1
		for i, c := range cols {
			if c.Name == wf.Name() && c.Name != types.TimestampField {
				k = i
				break
			}
		}
		fp := joinPath(path, wf.Name())
		if k < 0 {
			// A writer field no column fills: null, if the schema allows.
			if u, ok := deref(wf.Type()).(*avro.UnionSchema); ok && u.Nullable() {
				nullIdx, _ := u.Indices()
				n.fields = append(n.fields, &encNode{code: eUnion, nullIdx: nullIdx, valIdx: -1, path: fp})
				n.colIdx = append(n.colIdx, -1)
				continue
			}
			return nil, &ResolveError{Column: fp, Msg: fmt.Sprintf("the writer schema's field '%s' (%s) has no column and cannot be null", wf.Name(), typeName(wf.Type()))}
		}
		f, err := compileEnc(wf.Type(), cols[k].Type, cols[k].Nullable, fp)
		if err != nil {
			return nil, err
		}
		n.fields = append(n.fields, f)
		n.colIdx = append(n.colIdx, k)
	}
	return n, nil
}

func compileEnc(w avro.Schema, t types.Type, nullable bool, path string) (*encNode, error) {
	w = deref(w)
	n := &encNode{typ: t, kind: t.Kind, path: path, nullable: nullable, nullIdx: -1, valIdx: -1}
	cannot := func() (*encNode, error) {
		return nil, &ResolveError{Column: path, Msg: fmt.Sprintf("%s cannot be written as Avro %s", t, typeName(w))}
	}
	if u, ok := w.(*avro.UnionSchema); ok {
		n.code = eUnion
		var firstErr error
		for i, b := range u.Types() {
			if b.Type() == avro.Null {
				if n.nullIdx < 0 {
					n.nullIdx = i
				}
				continue
			}
			if n.val != nil {
				continue
			}
			v, err := compileEnc(b, t, false, path)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			n.val, n.valIdx = v, i
		}
		if n.val == nil {
			if firstErr == nil {
				return cannot()
			}
			return nil, firstErr
		}
		return n, nil
	}
	if w.Type() == avro.Null {
		if !nullable {
			return cannot()
		}
		n.code = eNull
		return n, nil
	}
	switch s := w.(type) {
	case *avro.PrimitiveSchema:
		lt := logicalType(s)
		switch s.Type() {
		case avro.Boolean:
			if t.Kind != types.Bool {
				return cannot()
			}
			n.code = eBool
		case avro.Int, avro.Long:
			n.code, n.isLong = eInt, s.Type() == avro.Long
			switch t.Kind {
			case types.Timestamp:
				switch lt {
				case avro.TimestampMillis, avro.LocalTimestampMillis:
					n.div = 1_000_000
				case avro.TimestampMicros, avro.LocalTimestampMicros:
					n.div = 1_000
				case "timestamp-nanos", "local-timestamp-nanos":
					n.div = 1
				default:
					return cannot()
				}
			case types.Time:
				switch lt {
				case avro.TimeMillis:
					n.div = 1_000_000
				case avro.TimeMicros:
					n.div = 1_000
				default:
					return cannot()
				}
			case types.Interval:
				n.div = 1_000
			case types.Date:
				if lt != avro.Date {
					return cannot()
				}
			default:
				if !t.Kind.IsInteger() {
					return cannot()
				}
			}
		case avro.Float, avro.Double:
			if !t.Kind.IsFloat() && !t.Kind.IsInteger() {
				return cannot()
			}
			n.code = eFloat
			if s.Type() == avro.Double {
				n.code = eDouble
			}
		case avro.String, avro.Bytes:
			n.code = eString
			if d, ok := s.Logical().(*avro.DecimalLogicalSchema); ok {
				if t.Kind != types.Decimal {
					return cannot()
				}
				n.scale = d.Scale()
			} else if !t.Kind.IsBytesLike() {
				return cannot()
			}
		case avro.Null:
			if !nullable {
				return cannot()
			}
			n.code = eNull
		default:
			return cannot()
		}
	case *avro.FixedSchema:
		n.code, n.size = eFixed, s.Size()
		if d, ok := s.Logical().(*avro.DecimalLogicalSchema); ok {
			if t.Kind != types.Decimal {
				return cannot()
			}
			n.scale = d.Scale()
		} else if t.Kind != types.Bytes {
			return cannot()
		}
	case *avro.EnumSchema:
		if t.Kind != types.String {
			return cannot()
		}
		n.code, n.syms = eEnum, map[string]int{}
		for i, sym := range s.Symbols() {
			n.syms[sym] = i
		}
	case *avro.RecordSchema:
		if t.Kind != types.Struct {
			return cannot()
		}
		r, err := compileEncRecord(s, t.Fields, path)
		if err != nil {
			return nil, err
		}
		r.nullable = nullable
		return r, nil
	case *avro.ArraySchema:
		if t.Kind != types.List {
			return cannot()
		}
		e, err := compileEnc(s.Items(), *t.Elem, true, path+"[]")
		if err != nil {
			return nil, err
		}
		n.code, n.elem = eArray, e
	default:
		return cannot()
	}
	return n, nil
}

// bind points n (and its children) at vector v for the batch being
// encoded.
func (n *encNode) bind(v coldata.Vector) {
	n.v = v
	switch n.code {
	case eUnion:
		if n.val != nil {
			n.val.bind(v)
		}
	case eRecord:
		if s, ok := v.(*coldata.Struct); ok {
			for i, f := range n.fields {
				if k := n.colIdx[i]; k >= 0 {
					f.bind(s.Fields[k])
				}
			}
		}
	case eArray:
		n.elem.bind(v.(*coldata.List).Elems)
	}
}

// Encode calls emit once per logical row of b with its encoded record.
func (e *Encoder) Encode(b *coldata.Batch, emit func(rec []byte) error) error {
	if e.registry && e.prefix == nil {
		return fmt.Errorf("avro: with '%s' records are encoded by the schema registry: this connector has none ('schema_registry.endpoint')",
			OptConfluentSchemaRegistry)
	}
	for i, f := range e.root.fields {
		if k := e.root.colIdx[i]; k >= 0 {
			f.bind(b.Cols[k])
		}
	}
	var err error
	b.ForEach(func(i int) {
		if err != nil {
			return
		}
		e.datum = e.datum[:0]
		if e.datum, err = e.fields(e.datum, e.root, i); err != nil {
			return
		}
		if e.raw {
			e.buf = append(append(e.buf[:0], e.prefix...), e.datum...)
		} else {
			e.buf = appendContainer(e.buf[:0], e.text, &e.sync, e.datum, 1)
		}
		err = emit(e.buf)
	})
	return err
}

func (e *Encoder) fields(b []byte, n *encNode, i int) ([]byte, error) {
	var err error
	for _, f := range n.fields {
		if f.v == nil && f.code == eUnion && f.valIdx < 0 {
			b = appendLong(b, int64(f.nullIdx))
			continue
		}
		if b, err = e.value(b, f, i); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (e *Encoder) value(b []byte, n *encNode, i int) ([]byte, error) {
	if n.code == eUnion {
		if n.v == nil || n.v.IsNull(i) {
			if n.nullIdx < 0 {
				return b, fmt.Errorf("avro: column '%s': NULL, but its Avro type has no null", n.path)
			}
			return appendLong(b, int64(n.nullIdx)), nil
		}
		b = appendLong(b, int64(n.valIdx))
		return e.value(b, n.val, i)
	}
	if n.code != eNull && n.v.IsNull(i) {
		return b, fmt.Errorf("avro: column '%s': NULL in a column whose Avro type has no null", n.path)
	}
	switch n.code {
	case eNull:
	case eBool:
		if n.v.(*coldata.Vec[bool]).Vals[i] {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case eInt:
		x, err := n.integer(i)
		if err != nil {
			return b, err
		}
		if !n.isLong && int64(int32(x)) != x {
			return b, fmt.Errorf("avro: column '%s': value %d does not fit an Avro int", n.path, x)
		}
		return appendLong(b, x), nil
	case eFloat, eDouble:
		f := n.float(i)
		if n.code == eFloat {
			return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(f))), nil
		}
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(f)), nil
	case eString:
		if n.kind == types.Decimal {
			x, ok := rescale(n.v.(*coldata.Vec[coldata.Int128]).Vals[i], int(n.typ.Scale), n.scale)
			if !ok {
				return b, fmt.Errorf("avro: column '%s': decimal overflows at scale %d", n.path, n.scale)
			}
			return appendBytes(b, appendTwos(nil, x, 0)), nil
		}
		return appendBytes(b, n.v.(*coldata.Bytes).Get(i)), nil
	case eFixed:
		if n.kind == types.Decimal {
			x, ok := rescale(n.v.(*coldata.Vec[coldata.Int128]).Vals[i], int(n.typ.Scale), n.scale)
			if !ok {
				return b, fmt.Errorf("avro: column '%s': decimal overflows at scale %d", n.path, n.scale)
			}
			t := appendTwos(nil, x, n.size)
			if len(t) != n.size {
				return b, fmt.Errorf("avro: column '%s': decimal does not fit fixed(%d)", n.path, n.size)
			}
			return append(b, t...), nil
		}
		v := n.v.(*coldata.Bytes).Get(i)
		if len(v) != n.size {
			return b, fmt.Errorf("avro: column '%s': %d bytes for an Avro fixed of %d", n.path, len(v), n.size)
		}
		return append(b, v...), nil
	case eEnum:
		s := n.v.(*coldata.Bytes).Get(i)
		k, ok := n.syms[string(s)]
		if !ok {
			return b, fmt.Errorf("avro: column '%s': '%s' is not a symbol of the Avro enum", n.path, s)
		}
		return appendLong(b, int64(k)), nil
	case eRecord:
		return e.fields(b, n, i)
	case eArray:
		l := n.v.(*coldata.List)
		lo, hi := int(l.Offsets[i]), int(l.Offsets[i+1])
		if hi > lo {
			b = appendLong(b, int64(hi-lo))
			var err error
			for j := lo; j < hi; j++ {
				if b, err = e.value(b, n.elem, j); err != nil {
					return b, err
				}
			}
		}
		return appendLong(b, 0), nil
	}
	return b, nil
}

// integer returns row i of an integer-like column in the writer's unit.
func (n *encNode) integer(i int) (int64, error) {
	var x int64
	switch v := n.v.(type) {
	case *coldata.Vec[int8]:
		x = int64(v.Vals[i])
	case *coldata.Vec[int16]:
		x = int64(v.Vals[i])
	case *coldata.Vec[int32]:
		x = int64(v.Vals[i])
	case *coldata.Vec[int64]:
		x = v.Vals[i]
	case *coldata.Vec[uint8]:
		x = int64(v.Vals[i])
	case *coldata.Vec[uint16]:
		x = int64(v.Vals[i])
	case *coldata.Vec[uint32]:
		x = int64(v.Vals[i])
	case *coldata.Vec[uint64]:
		if v.Vals[i] > math.MaxInt64 {
			return 0, fmt.Errorf("avro: column '%s': value %d does not fit an Avro long", n.path, v.Vals[i])
		}
		x = int64(v.Vals[i])
	default:
		return 0, fmt.Errorf("avro: column '%s': %s is not an integer", n.path, n.typ)
	}
	if n.div > 1 {
		// Floor division: times before 1970 round down, as Avro readers
		// multiply back.
		q := x / n.div
		if x%n.div < 0 {
			q--
		}
		x = q
	}
	return x, nil
}

func (n *encNode) float(i int) float64 {
	switch v := n.v.(type) {
	case *coldata.Vec[float32]:
		return float64(v.Vals[i])
	case *coldata.Vec[float64]:
		return v.Vals[i]
	}
	x, _ := n.integer(i)
	return float64(x)
}

// appendLong appends a zigzag varint.
func appendLong(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

func appendBytes(b, v []byte) []byte {
	return append(appendLong(b, int64(len(v))), v...)
}

// appendTwos appends x as big-endian two's complement in the fewest bytes
// (at least size, sign-extended, when size > 0).
func appendTwos(b []byte, x coldata.Int128, size int) []byte {
	var full [16]byte
	binary.BigEndian.PutUint64(full[:8], uint64(x.Hi))
	binary.BigEndian.PutUint64(full[8:], x.Lo)
	neg := x.Hi < 0
	k := 0
	for k < 15 {
		if !neg && full[k] == 0 && full[k+1]&0x80 == 0 || neg && full[k] == 0xff && full[k+1]&0x80 != 0 {
			k++
			continue
		}
		break
	}
	min := full[k:]
	for pad := size - len(min); pad > 0; pad-- {
		if neg {
			b = append(b, 0xff)
		} else {
			b = append(b, 0)
		}
	}
	return append(b, min...)
}
