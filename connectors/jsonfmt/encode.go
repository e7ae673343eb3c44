package jsonfmt

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/timefmt"
	"github.com/arroyogo/arroyo/engine/types"
)

// Encoder writes rows as JSON objects, one per record. It is not safe for
// concurrent use.
//
// Encoding rules: NULL is null; floats are the shortest text that reads back
// as the same value, with ".0" on integral values (as Arroyo writes them)
// and exponents only outside [1e-6, 1e21); NaN and infinities are null;
// strings are escaped (invalid UTF-8 becomes U+FFFD); BYTEA is base64; JSON
// columns are embedded as they are if they hold valid JSON (compacted if
// they span lines) and as strings otherwise; TIMESTAMP follows
// json.timestamp_format; DATE is "2024-01-31" and TIME "13:45:00.5";
// DECIMAL(p, s) is a number with exactly s decimals (12.30);
// INTERVAL is an ISO 8601 duration in seconds
// ("PT90.5S").
type Encoder struct {
	cols         []*encNode
	millis       bool
	unstructured bool
	prefix       []byte // {"schema":...,"payload": with json.include_schema
	buf          []byte
	ts           tsCache
	keys         [][]byte // per column: "{" or ",", then its "name":
	plan         []encOp  // the flat plan's storage, reused
	ops          []encOp  // the flat plan of the bound batch; nil: none
}

var (
	_ connector.Encoder      = (*Encoder)(nil)
	_ connector.LinesEncoder = (*Encoder)(nil)
)

// encNode is the compiled plan of one field; its vector is bound per batch.
type encNode struct {
	kind  types.Kind
	scale int    // DECIMAL
	key   []byte // "name": (escaped), for struct fields and columns
	name  string

	fields []*encNode
	elem   *encNode

	// Bound per batch (and cleared afterwards, not to retain the batch).
	nulls *coldata.Nulls
	vb    *coldata.Vec[bool]
	vi8   *coldata.Vec[int8]
	vi16  *coldata.Vec[int16]
	vi32  *coldata.Vec[int32]
	vi64  *coldata.Vec[int64]
	vu8   *coldata.Vec[uint8]
	vu16  *coldata.Vec[uint16]
	vu32  *coldata.Vec[uint32]
	vu64  *coldata.Vec[uint64]
	vf32  *coldata.Vec[float32]
	vf64  *coldata.Vec[float64]
	vdec  *coldata.Vec[coldata.Int128]
	vby   *coldata.Bytes
	vst   *coldata.Struct
	vli   *coldata.List
}

// NewEncoder returns an encoder for rows of schema. A trailing hidden
// event-time column in schema is not encoded; batches may carry columns
// beyond the encoded ones (the event-time column), which are ignored.
func NewEncoder(schema *types.Schema, opts connector.Options) (*Encoder, error) {
	millis, err := unixMillis(opts)
	if err != nil {
		return nil, err
	}
	fields := schema.Fields
	if n := len(fields); n > 0 && fields[n-1].Name == types.TimestampField {
		fields = fields[:n-1]
	}
	e := &Encoder{millis: millis, unstructured: opts.Bool(OptUnstructured)}
	if e.unstructured {
		if _, err := unstructuredColumn(fields); err != nil {
			return nil, err
		}
	}
	for _, f := range fields {
		n, err := compileEnc(f.Type, f.Name)
		if err != nil {
			return nil, err
		}
		e.cols = append(e.cols, n)
		sep := byte(',')
		if len(e.keys) == 0 {
			sep = '{'
		}
		e.keys = append(e.keys, append([]byte{sep}, n.key...))
	}
	if opts.Bool(OptIncludeSchema) && !e.unstructured {
		e.prefix = append([]byte(`{"schema":`), connectSchema(fields, millis)...)
		e.prefix = append(e.prefix, `,"payload":`...)
	}
	return e, nil
}

func compileEnc(t types.Type, name string) (*encNode, error) {
	n := &encNode{kind: t.Kind, name: name, scale: int(t.Scale)}
	n.key = appendString(nil, []byte(name))
	n.key = append(n.key, ':')
	switch t.Kind {
	case types.Struct:
		for _, f := range t.Fields {
			c, err := compileEnc(f.Type, f.Name)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, c)
		}
	case types.List:
		c, err := compileEnc(*t.Elem, name)
		if err != nil {
			return nil, err
		}
		n.elem = c
	case types.Invalid:
		return nil, fmt.Errorf("json: column '%s' has no type", name)
	}
	return n, nil
}

// bind points n at v, checking that v is the vector n's type is stored in.
func (n *encNode) bind(v coldata.Vector) error {
	ok := false
	switch n.kind {
	case types.Bool, types.Null:
		n.vb, ok = v.(*coldata.Vec[bool])
	case types.Int8:
		n.vi8, ok = v.(*coldata.Vec[int8])
	case types.Int16:
		n.vi16, ok = v.(*coldata.Vec[int16])
	case types.Int32, types.Date:
		n.vi32, ok = v.(*coldata.Vec[int32])
	case types.Int64, types.Timestamp, types.Interval, types.Time:
		n.vi64, ok = v.(*coldata.Vec[int64])
	case types.UInt8:
		n.vu8, ok = v.(*coldata.Vec[uint8])
	case types.UInt16:
		n.vu16, ok = v.(*coldata.Vec[uint16])
	case types.UInt32:
		n.vu32, ok = v.(*coldata.Vec[uint32])
	case types.UInt64:
		n.vu64, ok = v.(*coldata.Vec[uint64])
	case types.Float32:
		n.vf32, ok = v.(*coldata.Vec[float32])
	case types.Float64:
		n.vf64, ok = v.(*coldata.Vec[float64])
	case types.Decimal:
		n.vdec, ok = v.(*coldata.Vec[coldata.Int128])
	case types.String, types.Bytes, types.JSON:
		n.vby, ok = v.(*coldata.Bytes)
	case types.Struct:
		if n.vst, ok = v.(*coldata.Struct); ok && len(n.vst.Fields) == len(n.fields) {
			for i, f := range n.fields {
				if err := f.bind(n.vst.Fields[i]); err != nil {
					return err
				}
			}
		} else {
			ok = false
		}
	case types.List:
		if n.vli, ok = v.(*coldata.List); ok {
			if err := n.elem.bind(n.vli.Elems); err != nil {
				return err
			}
		}
	}
	if !ok {
		return fmt.Errorf("json: column '%s': got a %T vector, which does not hold %s", n.name, v, n.kind)
	}
	n.nulls = v.Nulls()
	return nil
}

func (n *encNode) unbind() {
	for _, f := range n.fields {
		f.unbind()
	}
	if n.elem != nil {
		n.elem.unbind()
	}
	*n = encNode{kind: n.kind, scale: n.scale, key: n.key, name: n.name, fields: n.fields, elem: n.elem}
}

// Encode calls emit with one JSON object per logical row of b (b.Sel is
// respected); rec is only valid during the call.
func (e *Encoder) Encode(b *coldata.Batch, emit func(rec []byte) error) error {
	if err := e.bind(b); err != nil {
		return err
	}
	defer e.unbind()
	if b.Sel != nil {
		for _, i := range b.Sel {
			if err := emit(e.row(int(i))); err != nil {
				return err
			}
		}
		return nil
	}
	for i := 0; i < b.Len; i++ {
		if err := emit(e.row(i)); err != nil {
			return err
		}
	}
	return nil
}

// AppendLines appends one JSON object per logical row of b (b.Sel is
// respected) to dst, each followed by a newline: the records Encode would
// emit, as JSON lines, without a call per record. A sink that writes whole
// batches uses it through connector.LinesEncoder.
func (e *Encoder) AppendLines(dst []byte, b *coldata.Batch) ([]byte, error) {
	if err := e.bind(b); err != nil {
		return dst, err
	}
	defer e.unbind()
	if e.ops == nil {
		if b.Sel != nil {
			for _, i := range b.Sel {
				dst = append(append(dst, e.row(int(i))...), '\n')
			}
			return dst, nil
		}
		for i := 0; i < b.Len; i++ {
			dst = append(append(dst, e.row(i)...), '\n')
		}
		return dst, nil
	}
	ops := e.ops
	if b.Sel != nil {
		for _, i := range b.Sel {
			dst = append(e.flat(dst, ops, int(i)), '\n')
		}
		return dst, nil
	}
	for i := 0; i < b.Len; i++ {
		dst = append(e.flat(dst, ops, i), '\n')
	}
	return dst, nil
}

// bind binds the columns to b's vectors and, for a plain object per row
// (not unstructured, no schema envelope), makes the flat plan e.ops: per
// column its key with the punctuation before it ("{" or ","), and an op
// chosen once per batch, so that the row loop has one switch per value and
// no NULL test on a column without NULLs.
func (e *Encoder) bind(b *coldata.Batch) error {
	if len(b.Cols) < len(e.cols) {
		return fmt.Errorf("json: batch has %d columns, the schema %d", len(b.Cols), len(e.cols))
	}
	for i, c := range e.cols {
		if err := c.bind(b.Cols[i]); err != nil {
			e.unbind()
			return err
		}
	}
	if e.unstructured || e.prefix != nil || len(e.cols) == 0 {
		return nil
	}
	ops := e.plan[:0]
	for k, c := range e.cols {
		op := encOp{n: c, key: e.keys[k], nulls: c.nulls.Any(), kind: opValue}
		if key := e.keys[k]; len(key) <= 16 {
			var kw [16]byte
			copy(kw[:], key)
			op.k0, op.k1 = binary.LittleEndian.Uint64(kw[:8]), binary.LittleEndian.Uint64(kw[8:])
			op.klen = len(key)
		}
		switch c.kind {
		case types.Int64:
			op.kind = opInt64
		case types.Timestamp:
			if !e.millis {
				op.kind = opTimestamp
			}
		case types.String:
			op.kind = opString
		}
		ops = append(ops, op)
	}
	e.plan, e.ops = ops, ops
	return nil
}

// unbind forgets the batch (the encoder must not retain it).
func (e *Encoder) unbind() {
	for _, c := range e.cols {
		c.unbind()
	}
	e.ops = nil
}

// encOp is one top-level column's step of the flat plan.
type encOp struct {
	n   *encNode
	key []byte // "{" or "," and the column's "name":
	// k0, k1: key's bytes as two little-endian words, if klen, its
	// length, is not 0 (a key of at most 16 bytes).
	k0, k1 uint64
	klen   int
	nulls  bool // the bound vector has NULL rows
	kind   uint8
}

const (
	opValue uint8 = iota // anything: Encoder.value
	opInt64
	opTimestamp // RFC 3339 text
	opString
)

// flat appends row i as a JSON object through the flat plan ops.
func (e *Encoder) flat(dst []byte, ops []encOp, i int) []byte {
	for k := range ops {
		op := &ops[k]
		if op.klen > 0 {
			// The key as two word stores rather than a copy call.
			l := len(dst)
			if cap(dst)-l < 16 {
				dst = slices.Grow(dst, 16)
			}
			kb := dst[l : l+16]
			binary.LittleEndian.PutUint64(kb[:8], op.k0)
			binary.LittleEndian.PutUint64(kb[8:], op.k1)
			dst = dst[:l+op.klen]
		} else {
			dst = append(dst, op.key...)
		}
		if op.kind == opValue {
			dst = e.value(dst, op.n, i) // which tests for NULL itself
			continue
		}
		if op.nulls && op.n.nulls.IsNull(i) {
			dst = append(dst, "null"...)
			continue
		}
		switch op.kind {
		case opInt64:
			dst = appendInt64(dst, op.n.vi64.Vals[i])
		case opTimestamp:
			dst = append(dst, '"')
			dst = e.ts.appendRFC3339(dst, op.n.vi64.Vals[i])
			dst = append(dst, '"')
		case opString:
			dst = appendString(dst, op.n.vby.Get(i))
		}
	}
	return append(dst, '}')
}

func (e *Encoder) row(i int) []byte {
	if e.ops != nil {
		e.buf = e.flat(e.buf[:0], e.ops, i)
		return e.buf
	}
	buf := e.buf[:0]
	if e.unstructured {
		c := e.cols[0]
		if c.nulls.IsNull(i) {
			buf = append(buf, "null"...)
		} else {
			buf = append(buf, c.vby.Get(i)...)
		}
		e.buf = buf
		return buf
	}
	buf = append(buf, e.prefix...)
	buf = e.object(buf, i)
	if e.prefix != nil {
		buf = append(buf, '}')
	}
	e.buf = buf
	return buf
}

// object appends row i as one JSON object of the columns.
func (e *Encoder) object(buf []byte, i int) []byte {
	buf = append(buf, '{')
	for k, c := range e.cols {
		if k > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, c.key...)
		buf = e.value(buf, c, i)
	}
	return append(buf, '}')
}

func (e *Encoder) value(buf []byte, n *encNode, i int) []byte {
	if n.nulls.IsNull(i) {
		return append(buf, "null"...)
	}
	switch n.kind {
	case types.Null:
		return append(buf, "null"...)
	case types.Bool:
		return strconv.AppendBool(buf, n.vb.Vals[i])
	case types.Int8:
		return strconv.AppendInt(buf, int64(n.vi8.Vals[i]), 10)
	case types.Int16:
		return strconv.AppendInt(buf, int64(n.vi16.Vals[i]), 10)
	case types.Int32:
		return strconv.AppendInt(buf, int64(n.vi32.Vals[i]), 10)
	case types.Int64:
		return appendInt64(buf, n.vi64.Vals[i])
	case types.UInt8:
		return strconv.AppendUint(buf, uint64(n.vu8.Vals[i]), 10)
	case types.UInt16:
		return strconv.AppendUint(buf, uint64(n.vu16.Vals[i]), 10)
	case types.UInt32:
		return strconv.AppendUint(buf, uint64(n.vu32.Vals[i]), 10)
	case types.UInt64:
		return strconv.AppendUint(buf, n.vu64.Vals[i], 10)
	case types.Float32:
		return appendFloat(buf, float64(n.vf32.Vals[i]), 32)
	case types.Float64:
		return appendFloat(buf, n.vf64.Vals[i], 64)
	case types.String:
		return appendString(buf, n.vby.Get(i))
	case types.Bytes:
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, n.vby.Get(i))
		return append(buf, '"')
	case types.JSON:
		return appendJSON(buf, n.vby.Get(i))
	case types.Timestamp:
		ts := n.vi64.Vals[i]
		if e.millis {
			ms := ts / nanosPerMs
			if ts%nanosPerMs < 0 {
				ms--
			}
			return strconv.AppendInt(buf, ms, 10)
		}
		buf = append(buf, '"')
		buf = e.ts.appendRFC3339(buf, ts)
		return append(buf, '"')
	case types.Interval:
		return appendInterval(buf, n.vi64.Vals[i])
	case types.Decimal:
		return coldata.AppendDecimal(buf, n.vdec.Vals[i], n.scale)
	case types.Date:
		buf = append(buf, '"')
		buf = timefmt.AppendDate(buf, n.vi32.Vals[i])
		return append(buf, '"')
	case types.Time:
		buf = append(buf, '"')
		buf = timefmt.AppendTime(buf, n.vi64.Vals[i])
		return append(buf, '"')
	case types.Struct:
		buf = append(buf, '{')
		for k, f := range n.fields {
			if k > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, f.key...)
			buf = e.value(buf, f, i)
		}
		return append(buf, '}')
	case types.List:
		buf = append(buf, '[')
		lo, hi := int(n.vli.Offsets[i]), int(n.vli.Offsets[i+1])
		for k := lo; k < hi; k++ {
			if k > lo {
				buf = append(buf, ',')
			}
			buf = e.value(buf, n.elem, k)
		}
		return append(buf, ']')
	}
	return append(buf, "null"...)
}

// appendFloat appends f as JSON: the shortest decimal that parses back to
// the same float of bitSize bits, integral values with ".0", exponents only
// for magnitudes outside [1e-6, 1e21), non-finite values as null.
func appendFloat(buf []byte, f float64, bitSize int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(buf, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(buf)
	buf = strconv.AppendFloat(buf, f, format, -1, bitSize)
	if format == 'e' {
		// 1e-07 -> 1e-7, 1e+21 -> 1e21
		k := bytes.IndexByte(buf[start:], 'e') + start + 1
		if buf[k] == '+' {
			buf = append(buf[:k], buf[k+1:]...)
		} else {
			k++
		}
		if len(buf)-k > 1 && buf[k] == '0' {
			buf = append(buf[:k], buf[k+1:]...)
		}
		return buf
	}
	if bytes.IndexByte(buf[start:], '.') < 0 {
		buf = append(buf, ".0"...)
	}
	return buf
}

// safe[c] is true for ASCII bytes that need no escaping in a JSON string.
var safe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(buf []byte, s []byte) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		// Whole words of plain bytes first (specialMask flags exactly
		// the bytes safe does not admit, and non-ASCII).
		for i+8 <= len(s) {
			if m := specialMask(word(s, i)); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\f':
				buf = append(buf, '\\', 'f')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, "\uFFFD"...)
			i++
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// appendJSON embeds a JSON column's value: as is if it is valid JSON on one
// line, compacted if it spans lines (records are often newline-delimited),
// else as a string.
func appendJSON(buf, v []byte) []byte {
	if !validJSON(v) {
		return appendString(buf, v)
	}
	v = bytes.TrimSpace(v)
	if bytes.IndexByte(v, '\n') < 0 && bytes.IndexByte(v, '\r') < 0 {
		return append(buf, v...)
	}
	inStr := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case inStr:
			if c == '\\' {
				buf = append(buf, c)
				i++
				c = v[i]
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case isSpace[c]:
			continue
		}
		buf = append(buf, c)
	}
	return buf
}

// appendInterval appends nanoseconds as an ISO 8601 duration in seconds.
func appendInterval(buf []byte, ns int64) []byte {
	buf = append(buf, '"')
	u := uint64(ns)
	if ns < 0 {
		buf = append(buf, '-')
		u = -u
	}
	buf = append(buf, 'P', 'T')
	buf = strconv.AppendUint(buf, u/nanosPerSec, 10)
	if frac := u % nanosPerSec; frac != 0 {
		buf = append(buf, '.')
		k := len(buf)
		buf = appendN(buf, int64(frac), 9)
		for len(buf) > k && buf[len(buf)-1] == '0' {
			buf = buf[:len(buf)-1]
		}
	}
	return append(buf, 'S', '"')
}

var pow10 = [20]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"4041424344454647484950515253545556575859606162636465666768697071727374757677787980818283848586878889" +
	"90919293949596979899"

// appendInt64 is strconv.AppendInt(buf, v, 10) written straight into buf:
// values below 10^16 as words of eight digits (digits8), larger ones two
// digits a step; no temporary buffer and copy, no call for the common
// BIGINT.
func appendInt64(buf []byte, v int64) []byte {
	u := uint64(v)
	if v < 0 {
		buf = append(buf, '-')
		u = -u
	}
	if u < 1e8 {
		w := digits8(u)
		// Leading zero digits are the low zero bytes (0 itself keeps one).
		lz := bits.TrailingZeros64(w|1<<56) >> 3
		return appendWord(buf, (w>>(lz*8))+asciiZeros, 8-lz)
	}
	if u < 1e16 {
		hi, lo := u/1e8, u%1e8
		w := digits8(hi)
		lz := bits.TrailingZeros64(w) >> 3
		buf = appendWord(buf, (w>>(lz*8))+asciiZeros, 8-lz)
		return appendWord(buf, digits8(lo)+asciiZeros, 8)
	}
	return appendUint64Pairs(buf, u)
}

// asciiZeros is '0' in each byte of a word.
const asciiZeros = 0x3030303030303030

// digits8 returns the eight decimal digits of u < 10^8 as byte values
// (0-9, not yet ASCII), the most significant in the lowest byte, so that
// the word stored little-endian reads as the number: the value is split
// in two lanes of four digits, each lane in two of two digits, each of
// those in two digits, dividing every lane at once by multiplying with a
// reciprocal (exact for the lanes' ranges: x/100 = x*10486>>20 for
// x < 10^4, x/10 = x*103>>10 for x < 100).
func digits8(u uint64) uint64 {
	x := u/10000 | (u%10000)<<32
	q := (x * 10486 >> 20) & 0x0000007F_0000007F
	x = q | (x-q*100)<<16
	q = (x * 103 >> 10) & 0x000F_000F_000F_000F
	return q | (x-q*10)<<8
}

// appendWord appends the n low bytes of w (stored little-endian) to buf.
func appendWord(buf []byte, w uint64, n int) []byte {
	l := len(buf)
	if cap(buf)-l < 8 {
		buf = slices.Grow(buf, 8)
	}
	binary.LittleEndian.PutUint64(buf[l:l+8], w)
	return buf[:l+n]
}

// appendUint64Pairs appends u (at least 10^16) two digits a step.
func appendUint64Pairs(buf []byte, u uint64) []byte {
	// The number of digits: log10 from the bit length (1233/4096 is
	// just above log10(2)), one less if u is below that power of ten.
	n := bits.Len64(u|1) * 1233 >> 12
	if u >= pow10[n] {
		n++
	}
	l := len(buf)
	if cap(buf)-l < n {
		buf = slices.Grow(buf, n)
	}
	buf = buf[:l+n]
	k := l + n
	for u >= 100 {
		q := u / 100
		r := (u - q*100) * 2
		buf[k-2], buf[k-1] = digitPairs[r], digitPairs[r+1]
		k -= 2
		u = q
	}
	if u >= 10 {
		buf[k-2], buf[k-1] = digitPairs[u*2], digitPairs[u*2+1]
	} else {
		buf[k-1] = byte('0' + u)
	}
	return buf
}
