package avro

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"github.com/hamba/avro/v2"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// DecodeError is why a datum could not be decoded:
//
//	field 'bid.price': truncated datum at byte 17 (expected long)
//	field 'price': value 300 out of range for TINYINT (-128 to 127) at byte 4
//	field 'kind': union branch 7 out of range (the union has 2) at byte 9
//
// Decode errors are never retriable: the same bytes fail the same way.
type DecodeError struct {
	// Field is the dotted path of the field being decoded; empty for
	// errors about the record as a whole.
	Field string
	// Offset is the 0-based byte offset in the datum.
	Offset int
	Msg    string
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("avro: %s at byte %d", e.Msg, e.Offset)
	}
	return fmt.Sprintf("avro: field '%s': %s at byte %d", e.Field, e.Msg, e.Offset)
}

// Decoder decodes Avro datums into column builders. It is not safe for
// concurrent use.
//
// Invariant: between records every builder holds exactly the rows of the
// records decoded so far; on error Decode truncates every builder back to
// that (rollback), so a bad record appends nothing.
type Decoder struct {
	root         *col // a struct col whose fields are the columns
	rows         int
	unstructured bool
	raw          bool
	registry     bool // records are Confluent-framed: only DecodeWith reads them

	// fixed is the plan of raw datums (avro.raw_datum); containers are
	// read with the plan of the schema in their header, cached by its
	// text (at most maxCached).
	fixed *Plan
	// reader is 'avro.schema' when it is the reader's schema (containers,
	// registry): its defaults fill the fields older writers lack.
	reader avro.Schema
	byText map[string]*Plan
	ocf    containerState

	buf  []byte // the datum being decoded
	pos  int
	json []byte // scratch for JSON rendering
}

const maxCached = 64

// NewDecoder returns a decoder for rows of schema (without the hidden
// event-time column). opts are the format's validated options (nil means
// defaults). With 'avro.confluent_schema_registry' the decoder is meant to
// be driven by connectors/schemareg, which calls Plan and DecodeWith; its
// Decode then fails, saying the connector has no registry.
func NewDecoder(schema *types.Schema, opts connector.Options) (*Decoder, error) {
	if schema.TimestampIndex() >= 0 {
		return nil, fmt.Errorf("avro: decoder schema must not contain the hidden column '%s'", types.TimestampField)
	}
	d := &Decoder{
		unstructured: opts.Bool(OptIntoUnstructuredJSON),
		raw:          opts.Bool(OptRawDatum) || opts.Bool(OptConfluentSchemaRegistry),
		registry:     opts.Bool(OptConfluentSchemaRegistry),
	}
	if d.unstructured {
		if err := unstructuredColumn(schema.Fields); err != nil {
			return nil, err
		}
	}
	root, err := newCol(types.StructOf(schema.Fields...), "", "", false)
	if err != nil {
		return nil, err
	}
	d.root = root
	for _, f := range root.fields {
		f.lastRows = 1024
	}
	d.fresh()
	switch text := opts.String(OptSchema); {
	case text != "":
		w, err := Parse(text)
		if err != nil {
			return nil, &connector.OptionError{Owner: Name, Option: OptSchema, Problem: err.Error()}
		}
		if !d.raw || d.registry {
			// The writer's schema is in each container or behind each id;
			// this one is the reader's.
			d.reader = w
			break
		}
		if d.fixed, err = d.Plan(w); err != nil {
			return nil, err
		}
	case d.raw && !d.registry:
		// Bare datums without a schema: those this package's encoder
		// writes for the SQL schema.
		if d.unstructured {
			return nil, fmt.Errorf("avro: '%s' with '%s' needs the writer schema in '%s'", OptIntoUnstructuredJSON, OptRawDatum, OptSchema)
		}
		w, err := FromSQL(schema)
		if err != nil {
			return nil, err
		}
		if d.fixed, err = d.Plan(w); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Plan compiles the resolution of writer schema w to the decoder's
// columns: it fails, naming the column, when a writer field cannot be
// read into its column or a NOT NULL column has no writer field.
func (d *Decoder) Plan(w avro.Schema) (*Plan, error) {
	root, err := d.compileRoot(w)
	if err != nil {
		return nil, err
	}
	return &Plan{root: root, writer: w, d: d}, nil
}

func (d *Decoder) fresh() {
	for _, f := range d.root.fields {
		f.fresh()
	}
	d.rows = 0
}

// Rows returns the number of rows decoded since the last Flush.
func (d *Decoder) Rows() int { return d.rows }

// Flush returns one vector per schema field holding the rows decoded since
// the last Flush, and starts new builders. The caller owns the vectors.
func (d *Decoder) Flush() []coldata.Vector {
	out := make([]coldata.Vector, len(d.root.fields))
	for i, f := range d.root.fields {
		f.settle()
		out[i] = f.vec
		f.remember()
	}
	d.fresh()
	return out
}

// Decode appends the rows of one record: a bare datum of the fixed writer
// schema with 'avro.raw_datum', else an object container file. On error
// it appends nothing.
func (d *Decoder) Decode(rec []byte) error {
	if d.registry {
		return fmt.Errorf("avro: with '%s' records are decoded by the schema registry: this connector has none ('schema_registry.endpoint')",
			OptConfluentSchemaRegistry)
	}
	if d.fixed != nil {
		return d.DecodeWith(d.fixed, rec)
	}
	if d.raw {
		return fmt.Errorf("avro: no writer schema for raw datums: set '%s'", OptSchema)
	}
	return d.decodeContainer(rec)
}

// DecodeWith appends the row of one bare datum written with p's writer
// schema; p must come from d.Plan. On error it appends nothing and returns
// a *DecodeError.
func (d *Decoder) DecodeWith(p *Plan, datum []byte) error {
	if p.d != d {
		panic("avro: DecodeWith with another decoder's plan")
	}
	d.buf, d.pos = datum, 0
	err := d.datum(p.root)
	if err == nil && d.pos != len(datum) {
		err = &DecodeError{Offset: d.pos, Msg: fmt.Sprintf("%d unexpected bytes after the datum (is the writer schema right?)", len(datum)-d.pos)}
	}
	d.buf = nil
	if err != nil {
		d.rollback()
		return err
	}
	d.rows++
	return nil
}

func (d *Decoder) rollback() {
	for _, f := range d.root.fields {
		f.truncate(d.rows)
	}
}

// datum decodes one top-level value.
func (d *Decoder) datum(o *op) error {
	if o.code == opRecord {
		return d.fields(o)
	}
	return d.value(o)
}

// fields decodes the fields of record o into o.dst's fields.
func (d *Decoder) fields(o *op) error {
	for _, f := range o.fields {
		if f.code == opSkipC || f.code == opSkip {
			if err := d.skipOp(f); err != nil {
				return err
			}
			continue
		}
		if err := d.value(f); err != nil {
			return err
		}
	}
	for _, c := range o.missing {
		c.appendNull()
	}
	for _, df := range o.defaults {
		buf, pos := d.buf, d.pos
		d.buf, d.pos = df.datum, 0
		err := d.value(df.op)
		d.buf, d.pos = buf, pos
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *Decoder) errAt(o *op, at int, msg string) error {
	return &DecodeError{Field: o.path, Offset: at, Msg: msg}
}

func (d *Decoder) truncated(path string, what string) error {
	return &DecodeError{Field: path, Offset: len(d.buf), Msg: "truncated datum (expected " + what + ")"}
}

// long reads a zigzag varint.
func (d *Decoder) long(path string) (int64, error) {
	if v, ok := d.small(); ok {
		return v, nil
	}
	return d.longSlow(path)
}

// small reads a one-byte varint (-64..63: most lengths and union
// branches); ok is false, and nothing read, if the next one is longer or
// the datum ends. It is inlined, where long is not.
func (d *Decoder) small() (v int64, ok bool) {
	if i := d.pos; i < len(d.buf) {
		if c := d.buf[i]; c < 0x80 {
			d.pos = i + 1
			return int64(c>>1) ^ -int64(c&1), true
		}
	}
	return 0, false
}

// longSlow reads a varint of several bytes. With 8 bytes left, one of
// up to 8 bytes (56 bits: timestamps, ids) is read with one load and
// masks rather than a loop.
func (d *Decoder) longSlow(path string) (int64, error) {
	b, i := d.buf, d.pos
	if len(b)-i >= 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if stop := ^x & 0x8080808080808080; stop != 0 {
			n := bits.TrailingZeros64(stop)/8 + 1 // bytes in the varint
			if n < 8 {
				x &= 1<<(8*uint(n)) - 1
			}
			// Squeeze out the continuation bits: 7-bit groups to 14,
			// 28, then 56 bits.
			x = x&0x007f007f007f007f | (x&0x7f007f007f007f00)>>1
			x = x&0x00003fff00003fff | (x&0x3fff00003fff0000)>>2
			x = x&0x000000000fffffff | (x&0x0fffffff00000000)>>4
			d.pos = i + n
			return int64(x>>1) ^ -int64(x&1), nil
		}
	}
	var u uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if i >= len(b) {
			return 0, d.truncated(path, "long")
		}
		c := b[i]
		i++
		u |= uint64(c&0x7f) << shift
		if c < 0x80 {
			d.pos = i
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
	return 0, &DecodeError{Field: path, Offset: d.pos, Msg: "varint longer than 10 bytes"}
}

// length reads a non-negative length of a string, bytes or block that
// fits what is left of the datum.
func (d *Decoder) length(path string) (int, error) {
	at := d.pos
	n, ok := d.small()
	if !ok {
		var err error
		if n, err = d.longSlow(path); err != nil {
			return 0, err
		}
	}
	if n < 0 {
		return 0, &DecodeError{Field: path, Offset: at, Msg: fmt.Sprintf("negative length %d", n)}
	}
	if n > int64(len(d.buf)-d.pos) {
		return 0, &DecodeError{Field: path, Offset: at, Msg: fmt.Sprintf("length %d past the end of the datum (%d bytes left)", n, len(d.buf)-d.pos)}
	}
	return int(n), nil
}

func (d *Decoder) bytes(path string) ([]byte, error) {
	n, err := d.length(path)
	if err != nil {
		return nil, err
	}
	s := d.buf[d.pos : d.pos+n]
	d.pos += n
	return s, nil
}

// value decodes one value of o's writer type into o.dst.
func (d *Decoder) value(o *op) error {
	c := o.dst
	switch o.code {
	case opNull:
		c.appendNull()
	case opBool:
		if d.pos >= len(d.buf) {
			return d.truncated(o.path, "boolean")
		}
		v := d.buf[d.pos]
		if v > 1 {
			return d.errAt(o, d.pos, fmt.Sprintf("invalid boolean byte %d", v))
		}
		d.pos++
		c.vb.Append(v == 1)
	case opInt:
		at := d.pos
		v, err := d.long(o.path)
		if err != nil {
			return err
		}
		if !o.isLong && int64(int32(v)) != v {
			return d.errAt(o, at, fmt.Sprintf("int value %d does not fit 32 bits", v))
		}
		if o.conv == convNone && c.kind == types.Int64 {
			c.vi64.Append(v)
			return nil
		}
		return d.putInt(o, c, v, at)
	case opFloat:
		if d.pos+4 > len(d.buf) {
			return d.truncated(o.path, "float")
		}
		f := math.Float32frombits(binary.LittleEndian.Uint32(d.buf[d.pos:]))
		d.pos += 4
		if c.kind == types.Float32 {
			c.vf32.Append(f)
		} else {
			c.vf64.Append(float64(f))
		}
	case opDouble:
		if d.pos+8 > len(d.buf) {
			return d.truncated(o.path, "double")
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(d.buf[d.pos:]))
		d.pos += 8
		if c.kind == types.Float64 {
			c.vf64.Append(f)
		} else {
			c.vf32.Append(float32(f))
		}
	case opString:
		at := d.pos
		s, err := d.bytes(o.path)
		if err != nil {
			return err
		}
		if o.conv == convNone {
			c.vby.Append(s)
			return nil
		}
		return d.putBytes(o, c, s, at)
	case opFixed:
		at := d.pos
		if d.pos+o.size > len(d.buf) {
			return d.truncated(o.path, fmt.Sprintf("fixed of %d bytes", o.size))
		}
		s := d.buf[d.pos : d.pos+o.size]
		d.pos += o.size
		return d.putBytes(o, c, s, at)
	case opEnum:
		at := d.pos
		k, err := d.long(o.path)
		if err != nil {
			return err
		}
		if k < 0 || k >= int64(len(o.symbols)) {
			return d.errAt(o, at, fmt.Sprintf("enum index %d out of range (the enum has %d symbols)", k, len(o.symbols)))
		}
		c.vby.Append(o.symbols[k])
	case opRecord:
		if c.pend > 0 {
			c.pad()
		}
		if err := d.fields(o); err != nil {
			return err
		}
		c.vst.AppendRow()
	case opArray:
		return d.array(o)
	case opOptLong:
		at := d.pos
		k, ok := d.small()
		if !ok {
			var err error
			if k, err = d.longSlow(o.path); err != nil {
				return err
			}
		}
		if k == o.nullK {
			c.vi64.AppendNull()
			return nil
		}
		if k != 1-o.nullK {
			return d.errAt(o, at, fmt.Sprintf("union branch %d out of range (the union has 2)", k))
		}
		v, err := d.long(o.path)
		if err != nil {
			return err
		}
		c.vi64.Append(v)
	case opOptBytes:
		at := d.pos
		k, ok := d.small()
		if !ok {
			var err error
			if k, err = d.longSlow(o.path); err != nil {
				return err
			}
		}
		if k == o.nullK {
			c.vby.AppendNull()
			return nil
		}
		if k != 1-o.nullK {
			return d.errAt(o, at, fmt.Sprintf("union branch %d out of range (the union has 2)", k))
		}
		s, err := d.bytes(o.path)
		if err != nil {
			return err
		}
		c.vby.Append(s)
	case opUnion:
		at := d.pos
		k, err := d.long(o.path)
		if err != nil {
			return err
		}
		if k < 0 || k >= int64(len(o.branches)) {
			return d.errAt(o, at, fmt.Sprintf("union branch %d out of range (the union has %d)", k, len(o.branches)))
		}
		return d.value(o.branches[k])
	case opJSON:
		at := d.pos
		d.json = d.json[:0]
		var err error
		if d.json, err = d.renderJSON(d.json, o.w, o.path, 0); err != nil {
			return err
		}
		if len(d.json) == 4 && string(d.json) == "null" && c.vby != nil && !d.unstructured {
			// An Avro null in a JSON column is SQL NULL.
			if !c.nullable {
				return d.errAt(o, at, "null for a NOT NULL column")
			}
			c.vby.AppendNull()
			return nil
		}
		c.vby.Append(d.json)
	case opSkip, opSkipC:
		return d.skipOp(o)
	case opBad:
		return d.errAt(o, d.pos, o.bad)
	}
	return nil
}

func (d *Decoder) array(o *op) error {
	c := o.dst
	for {
		at := d.pos
		n, err := d.long(o.path)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		if n < 0 {
			if n == math.MinInt64 {
				return d.errAt(o, at, "invalid block count")
			}
			n = -n
			if _, err := d.long(o.path); err != nil { // the block's size in bytes
				return err
			}
		}
		// Every item takes a byte, except of types that take none (null,
		// empty records): those are capped instead, so no count can make
		// a datum of a few bytes loop for long.
		if limit := int64(len(d.buf) - d.pos); (n > limit && !zeroSized(o.elem.w, 0)) || n > maxZeroItems {
			return d.errAt(o, at, fmt.Sprintf("block of %d items past the end of the datum", n))
		}
		for range n {
			if err := d.value(o.elem); err != nil {
				return err
			}
		}
	}
	c.vli.CloseRow()
	return nil
}

// maxZeroItems caps the items of one array block.
const maxZeroItems = 1 << 20

// zeroSized reports whether values of s take no bytes (null, fixed of
// size 0, records of such fields), so a count of them is not bounded by
// the bytes left.
func zeroSized(s avro.Schema, depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch s := deref(s).(type) {
	case *avro.NullSchema:
		return true
	case *avro.PrimitiveSchema:
		return s.Type() == avro.Null
	case *avro.RecordSchema:
		for _, f := range s.Fields() {
			if !zeroSized(f.Type(), depth+1) {
				return false
			}
		}
		return true
	case *avro.FixedSchema:
		return s.Size() == 0
	}
	return false
}

// putInt appends integer v (from an int or long) to c as o says.
func (d *Decoder) putInt(o *op, c *col, v int64, at int) error {
	switch o.conv {
	case convScale:
		ns := v * o.mul
		if o.mul != 1 && ns/o.mul != v {
			return d.errAt(o, at, fmt.Sprintf("value %d overflows %s", v, c.typ))
		}
		if c.kind == types.Date {
			c.vi32.Append(int32(ns))
		} else {
			c.vi64.Append(ns)
		}
		return nil
	case convFloat:
		if c.kind == types.Float32 {
			c.vf32.Append(float32(v))
		} else {
			c.vf64.Append(float64(v))
		}
		return nil
	case convDecimal:
		x, ovf := coldata.Int128Of(v).MulPow10(int(c.typ.Scale))
		if ovf || !x.FitsDigits(int(c.typ.Precision)) {
			return d.errAt(o, at, fmt.Sprintf("value %d does not fit %s", v, c.typ))
		}
		c.vdec.Append(x)
		return nil
	}
	switch c.kind {
	case types.Int64:
		c.vi64.Append(v)
		return nil
	case types.Int32, types.Date:
		if int64(int32(v)) == v {
			c.vi32.Append(int32(v))
			return nil
		}
	case types.Int16:
		if int64(int16(v)) == v {
			c.vi16.Append(int16(v))
			return nil
		}
	case types.Int8:
		if int64(int8(v)) == v {
			c.vi8.Append(int8(v))
			return nil
		}
	case types.UInt64:
		if v >= 0 {
			c.vu64.Append(uint64(v))
			return nil
		}
	case types.UInt32:
		if v >= 0 && v <= math.MaxUint32 {
			c.vu32.Append(uint32(v))
			return nil
		}
	case types.UInt16:
		if v >= 0 && v <= math.MaxUint16 {
			c.vu16.Append(uint16(v))
			return nil
		}
	case types.UInt8:
		if v >= 0 && v <= math.MaxUint8 {
			c.vu8.Append(uint8(v))
			return nil
		}
	}
	return d.errAt(o, at, fmt.Sprintf("value %d out of range for %s (%s)", v, c.typ, c.kind.RangeText()))
}

// putBytes appends string, bytes or fixed s to c as o says.
func (d *Decoder) putBytes(o *op, c *col, s []byte, at int) error {
	switch o.conv {
	case convUTF8:
		if !utf8.Valid(s) {
			return d.errAt(o, at, "bytes are not valid UTF-8 for a TEXT column")
		}
	case convJSON:
		if !json.Valid(s) {
			return d.errAt(o, at, "string is not valid JSON for a JSON column")
		}
	case convDecimal:
		x, ok := twosComplement(s)
		if c.kind.IsFloat() {
			if !ok {
				return d.errAt(o, at, "decimal wider than 128 bits")
			}
			f := x.Float64(o.wScale)
			if c.kind == types.Float32 {
				c.vf32.Append(float32(f))
			} else {
				c.vf64.Append(f)
			}
			return nil
		}
		if ok {
			x, ok = rescale(x, o.wScale, int(c.typ.Scale))
		}
		if !ok || !x.FitsDigits(int(c.typ.Precision)) {
			return d.errAt(o, at, fmt.Sprintf("decimal does not fit %s", c.typ))
		}
		c.vdec.Append(x)
		return nil
	}
	c.vby.Append(s)
	return nil
}

// twosComplement reads a big-endian two's-complement integer.
func twosComplement(b []byte) (coldata.Int128, bool) {
	if len(b) == 0 {
		return coldata.Int128{}, true
	}
	neg := b[0]&0x80 != 0
	// Drop sign-extension bytes past 16.
	for len(b) > 16 {
		if (neg && b[0] != 0xff) || (!neg && b[0] != 0) {
			return coldata.Int128{}, false
		}
		b = b[1:]
	}
	var hi, lo uint64
	if neg {
		hi, lo = ^uint64(0), ^uint64(0)
	}
	for _, c := range b {
		hi = hi<<8 | lo>>56
		lo = lo<<8 | uint64(c)
	}
	return coldata.Int128{Hi: int64(hi), Lo: lo}, true
}

// rescale changes x's scale from from to to, rounding half away from zero
// when digits are dropped; ok is false if it overflows 128 bits.
func rescale(x coldata.Int128, from, to int) (coldata.Int128, bool) {
	switch {
	case to > from:
		y, ovf := x.MulPow10(to - from)
		return y, !ovf
	case to < from:
		return x.RoundPow10(from - to), true
	}
	return x, true
}

// skipOp reads past one value as compiled skip o says (opSkipC), or by
// its schema (opSkip).
func (d *Decoder) skipOp(o *op) error {
	if o.code == opSkip {
		return d.skip(o.w, o.path, 0)
	}
	switch o.sk {
	case skBool:
		if d.pos >= len(d.buf) {
			return d.truncated(o.path, "boolean")
		}
		d.pos++
	case skLong:
		_, err := d.long(o.path)
		return err
	case skFloat:
		if d.pos+4 > len(d.buf) {
			return d.truncated(o.path, "float")
		}
		d.pos += 4
	case skDouble:
		if d.pos+8 > len(d.buf) {
			return d.truncated(o.path, "double")
		}
		d.pos += 8
	case skBytes:
		_, err := d.bytes(o.path)
		return err
	case skFixed:
		if d.pos+o.size > len(d.buf) {
			return d.truncated(o.path, "fixed")
		}
		d.pos += o.size
	case skRecord:
		for _, f := range o.fields {
			if err := d.skipOp(f); err != nil {
				return err
			}
		}
	case skArray:
		return d.skipBlocks(o.path, func() error { return d.skipOp(o.elem) })
	case skMap:
		return d.skipBlocks(o.path, func() error {
			if _, err := d.bytes(o.path); err != nil {
				return err
			}
			return d.skipOp(o.elem)
		})
	case skUnion:
		at := d.pos
		k, err := d.long(o.path)
		if err != nil {
			return err
		}
		if k < 0 || k >= int64(len(o.branches)) {
			return &DecodeError{Field: o.path, Offset: at, Msg: fmt.Sprintf("union branch %d out of range (the union has %d)", k, len(o.branches))}
		}
		return d.skipOp(o.branches[k])
	}
	return nil
}

// skip reads past one value of writer type s.
func (d *Decoder) skip(s avro.Schema, path string, depth int) error {
	if depth > maxDepth {
		return &DecodeError{Field: path, Offset: d.pos, Msg: "nested deeper than 100 levels"}
	}
	switch s := deref(s).(type) {
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Null:
		case avro.Boolean:
			if d.pos >= len(d.buf) {
				return d.truncated(path, "boolean")
			}
			d.pos++
		case avro.Int, avro.Long:
			_, err := d.long(path)
			return err
		case avro.Float:
			if d.pos+4 > len(d.buf) {
				return d.truncated(path, "float")
			}
			d.pos += 4
		case avro.Double:
			if d.pos+8 > len(d.buf) {
				return d.truncated(path, "double")
			}
			d.pos += 8
		case avro.String, avro.Bytes:
			_, err := d.bytes(path)
			return err
		}
	case *avro.FixedSchema:
		if d.pos+s.Size() > len(d.buf) {
			return d.truncated(path, "fixed")
		}
		d.pos += s.Size()
	case *avro.EnumSchema:
		_, err := d.long(path)
		return err
	case *avro.RecordSchema:
		for _, f := range s.Fields() {
			if err := d.skip(f.Type(), joinPath(path, f.Name()), depth+1); err != nil {
				return err
			}
		}
	case *avro.ArraySchema:
		return d.skipBlocks(path, func() error { return d.skip(s.Items(), path+"[]", depth+1) })
	case *avro.MapSchema:
		return d.skipBlocks(path, func() error {
			if _, err := d.bytes(path); err != nil {
				return err
			}
			return d.skip(s.Values(), path+"{}", depth+1)
		})
	case *avro.UnionSchema:
		at := d.pos
		k, err := d.long(path)
		if err != nil {
			return err
		}
		ts := s.Types()
		if k < 0 || k >= int64(len(ts)) {
			return &DecodeError{Field: path, Offset: at, Msg: fmt.Sprintf("union branch %d out of range (the union has %d)", k, len(ts))}
		}
		return d.skip(ts[k], path, depth+1)
	}
	return nil
}

// skipBlocks skips the blocks of an array or map, item by item, or by the
// byte size a negative count announces.
func (d *Decoder) skipBlocks(path string, item func() error) error {
	for {
		at := d.pos
		n, err := d.long(path)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if n < 0 {
			size, err := d.length(path)
			if err != nil {
				return err
			}
			d.pos += size
			continue
		}
		if n > int64(len(d.buf)) {
			return &DecodeError{Field: path, Offset: at, Msg: fmt.Sprintf("block of %d items past the end of the datum", n)}
		}
		for range n {
			if err := item(); err != nil {
				return err
			}
		}
	}
}

// maxDepth bounds nesting in JSON rendering (recursive schemas).
const maxDepth = 100

// renderJSON reads one value of writer type s and appends it as JSON text:
// records and maps are objects, arrays arrays, enums strings, unions their
// branch's value, bytes and fixed base64 strings, decimals numbers,
// logical dates and times their raw numbers, NaN and infinities null.
func (d *Decoder) renderJSON(b []byte, s avro.Schema, path string, depth int) ([]byte, error) {
	if depth > maxDepth {
		return b, &DecodeError{Field: path, Offset: d.pos, Msg: "nested deeper than 100 levels"}
	}
	switch s := deref(s).(type) {
	case *avro.NullSchema:
		return append(b, "null"...), nil
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Null:
			return append(b, "null"...), nil
		case avro.Boolean:
			if d.pos >= len(d.buf) {
				return b, d.truncated(path, "boolean")
			}
			v := d.buf[d.pos]
			d.pos++
			return strconv.AppendBool(b, v != 0), nil
		case avro.Int, avro.Long:
			v, err := d.long(path)
			return strconv.AppendInt(b, v, 10), err
		case avro.Float:
			if d.pos+4 > len(d.buf) {
				return b, d.truncated(path, "float")
			}
			f := math.Float32frombits(binary.LittleEndian.Uint32(d.buf[d.pos:]))
			d.pos += 4
			return appendJSONFloat(b, float64(f), 32), nil
		case avro.Double:
			if d.pos+8 > len(d.buf) {
				return b, d.truncated(path, "double")
			}
			f := math.Float64frombits(binary.LittleEndian.Uint64(d.buf[d.pos:]))
			d.pos += 8
			return appendJSONFloat(b, f, 64), nil
		case avro.String:
			v, err := d.bytes(path)
			if err != nil {
				return b, err
			}
			return appendJSONString(b, v), nil
		case avro.Bytes:
			v, err := d.bytes(path)
			if err != nil {
				return b, err
			}
			if dl, ok := s.Logical().(*avro.DecimalLogicalSchema); ok {
				return appendJSONDecimal(b, v, dl.Scale()), nil
			}
			return appendBase64(b, v), nil
		}
	case *avro.FixedSchema:
		if d.pos+s.Size() > len(d.buf) {
			return b, d.truncated(path, "fixed")
		}
		v := d.buf[d.pos : d.pos+s.Size()]
		d.pos += s.Size()
		if dl, ok := s.Logical().(*avro.DecimalLogicalSchema); ok {
			return appendJSONDecimal(b, v, dl.Scale()), nil
		}
		return appendBase64(b, v), nil
	case *avro.EnumSchema:
		at := d.pos
		k, err := d.long(path)
		if err != nil {
			return b, err
		}
		sym, ok := s.Symbol(int(k))
		if !ok || k < 0 || k > math.MaxInt32 {
			return b, &DecodeError{Field: path, Offset: at, Msg: fmt.Sprintf("enum index %d out of range (the enum has %d symbols)", k, len(s.Symbols()))}
		}
		return appendJSONString(b, []byte(sym)), nil
	case *avro.RecordSchema:
		b = append(b, '{')
		for i, f := range s.Fields() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, []byte(f.Name()))
			b = append(b, ':')
			var err error
			if b, err = d.renderJSON(b, f.Type(), joinPath(path, f.Name()), depth+1); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	case *avro.ArraySchema:
		b = append(b, '[')
		first := true
		err := d.blocks(path, func() error {
			if !first {
				b = append(b, ',')
			}
			first = false
			var err error
			b, err = d.renderJSON(b, s.Items(), path+"[]", depth+1)
			return err
		})
		return append(b, ']'), err
	case *avro.MapSchema:
		b = append(b, '{')
		first := true
		err := d.blocks(path, func() error {
			if !first {
				b = append(b, ',')
			}
			first = false
			k, err := d.bytes(path)
			if err != nil {
				return err
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b, err = d.renderJSON(b, s.Values(), path+"{}", depth+1)
			return err
		})
		return append(b, '}'), err
	case *avro.UnionSchema:
		at := d.pos
		k, err := d.long(path)
		if err != nil {
			return b, err
		}
		ts := s.Types()
		if k < 0 || k >= int64(len(ts)) {
			return b, &DecodeError{Field: path, Offset: at, Msg: fmt.Sprintf("union branch %d out of range (the union has %d)", k, len(ts))}
		}
		return d.renderJSON(b, ts[k], path, depth+1)
	}
	return b, &DecodeError{Field: path, Offset: d.pos, Msg: "unsupported writer type " + string(s.Type())}
}

// blocks calls item for every item of an array or map's blocks.
func (d *Decoder) blocks(path string, item func() error) error {
	for {
		at := d.pos
		n, err := d.long(path)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if n < 0 {
			if n == math.MinInt64 {
				return &DecodeError{Field: path, Offset: at, Msg: "invalid block count"}
			}
			n = -n
			if _, err := d.long(path); err != nil {
				return err
			}
		}
		if n > int64(len(d.buf)) {
			return &DecodeError{Field: path, Offset: at, Msg: fmt.Sprintf("block of %d items past the end of the datum", n)}
		}
		for range n {
			if err := item(); err != nil {
				return err
			}
		}
	}
}
