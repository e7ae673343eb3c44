package jsonfmt

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/timefmt"
	"github.com/arroyogo/arroyo/engine/types"
)

// Decoder decodes JSON records into column builders. It is not safe for
// concurrent use.
//
// Invariant: between records every builder holds exactly the rows of the
// records decoded so far: top-level columns have Rows() rows, the fields of
// a struct have its length minus its pending NULL rows (below), a list's
// elements end at its last offset. Decode never records what it is about to
// change; on error it truncates every builder back to the state this
// invariant derives from the committed row count (rollback).
//
// NULL structs are lazy: coldata wants a NULL struct row to have a NULL row
// in every field, but appending those one by one costs more than the rest
// of a Nexmark bid (two NULL structs of 8 and 10 fields per record). A
// struct node instead counts pending NULL rows and appends them to its
// fields in bulk before the next object, or at Flush.
type Decoder struct {
	root         *node // a struct node whose fields are the columns
	rows         int
	unstructured bool
	rec          []byte // the record being decoded; nil between calls
	scratch      []byte // unescaped keys and strings that need parsing
	ts           timefmt.Cache
	tsFast       tsPrefix
	// rowCap is the last maxRows DecodeLines was given: a line source's
	// batch size, which new builders need no room beyond.
	rowCap int
}

// tsPrefix remembers the "YYYY-MM-DDTHH:MM" of the last timestamp string
// decoded, as two words, and its seconds since the epoch, so that a
// timestamp of that minute written as "...:SS.mmmZ" (what most producers
// write) is decoded from two compares and five digits; any other text
// goes to timefmt.
type tsPrefix struct {
	w0, w1 uint64
	secs   int64
	ok     bool
}

// maxFastSecs bounds the minutes tsPrefix takes (in 2255): their
// timestamps cannot leave the TIMESTAMP range.
const maxFastSecs = 9_000_000_000

// parse decodes the string whose opening quote is at s[i] if it is the
// remembered minute followed by ":SS.mmmZ" and its closing quote, and
// returns the index after the quote, or 0.
func (p *tsPrefix) parse(s []byte, i int) (int64, int) {
	if !p.ok || i+26 > len(s) || word(s, i+1) != p.w0 || word(s, i+9) != p.w1 || s[i+25] != '"' {
		return 0, 0
	}
	// ":SS.mmmZ": the fixed bytes, then the digits.
	w := word(s, i+17)
	const fixedMask, fixed = 0xFF0000_00FF_0000FF, 'Z'<<56 | '.'<<24 | ':'
	if w&fixedMask != fixed {
		return 0, 0
	}
	// Digits as in digitRun, with the constants only at the digit
	// positions (so that '.' borrows nothing from the byte above it).
	const digitPos = 0x00_0101_01_00_0101_00
	d := w - digitPos*'0'
	if (w+digitPos*0x46|d|w)&(digitPos<<7) != 0 {
		return 0, 0 // a digit position holds something else
	}
	sec := int64(d>>8&0xFF)*10 + int64(d>>16&0xFF)
	ms := int64(d>>32&0xFF)*100 + int64(d>>40&0xFF)*10 + int64(d>>48&0xFF)
	if sec > 59 {
		return 0, 0
	}
	return (p.secs+sec)*1e9 + ms*1e6, i + 26
}

// remember makes body's minute the remembered one if body parsed and its
// minute's seconds are in range.
func (p *tsPrefix) remember(body []byte) {
	if len(body) < 16 {
		return
	}
	ns, msg := timefmt.Parse(body[:16])
	if msg != "" || ns < 0 || ns/1e9 > maxFastSecs {
		p.ok = false
		return
	}
	p.w0, p.w1 = word(body, 0), word(body, 8)
	p.secs, p.ok = ns/1e9, true
}

// node is the compiled decoding plan of one field, bound to its builder.
type node struct {
	typ      types.Type
	kind     types.Kind
	nullable bool
	name     string // the field name, for key matching
	rawKey   bool   // name needs no escaping, so it can match record bytes as is
	key      keyWord
	path     string // dotted path, for errors

	// The builder, by kind (exactly one is set).
	vb   *coldata.Vec[bool]
	vi8  *coldata.Vec[int8]
	vi16 *coldata.Vec[int16]
	vi32 *coldata.Vec[int32]
	vi64 *coldata.Vec[int64] // BIGINT and TIMESTAMP
	vu8  *coldata.Vec[uint8]
	vu16 *coldata.Vec[uint16]
	vu32 *coldata.Vec[uint32]
	vu64 *coldata.Vec[uint64]
	vf32 *coldata.Vec[float32]
	vf64 *coldata.Vec[float64]
	vdec *coldata.Vec[coldata.Int128] // DECIMAL
	vby  *coldata.Bytes               // TEXT, BYTEA, JSON
	vst  *coldata.Struct
	vli  *coldata.List

	fields []*node // struct fields
	elem   *node   // list element
	hint   int     // struct: the field the next key probably names
	pend   int     // struct: trailing NULL rows not yet appended to fields
	gen    uint64  // struct: number of objects decoded into it
	seen   uint64  // field: the parent's gen when this field was last set
	// struct: the resolution (field index, -1: none) of each key resolved
	// by a scan, so a key that names no field, or names one in another
	// case, costs one map lookup after its first record rather than two
	// scans of the fields. At most maxCachedKeys entries, so records with
	// ever new keys cannot grow it without bound; past that, keys are
	// scanned.
	keys map[string]keyRes
	// struct: the k-th key of the previous object and its resolution:
	// records of one source usually share their shape, so the k-th key is
	// first compared with it as raw bytes, which resolves known and
	// unknown keys alike without scanning or hashing them.
	shape []keyRes

	// Sizes at the last flush, to size the next builders.
	lastRows, lastData int
	// capRows, if not 0, bounds the rows of the next builders: a column's
	// batches stop there (Decoder.rowCap).
	capRows int
}

// NewDecoder returns a decoder for rows of schema, which must not contain
// the hidden event-time column (the source adds it). opts are the format's
// validated options (nil means defaults).
func NewDecoder(schema *types.Schema, opts connector.Options) (*Decoder, error) {
	if _, err := unixMillis(opts); err != nil {
		return nil, err
	}
	if schema.TimestampIndex() >= 0 {
		return nil, fmt.Errorf("json: decoder schema must not contain the hidden column '%s'", types.TimestampField)
	}
	d := &Decoder{unstructured: opts.Bool(OptUnstructured)}
	if d.unstructured {
		if _, err := unstructuredColumn(schema.Fields); err != nil {
			return nil, err
		}
	}
	root, err := compile(types.StructOf(schema.Fields...), "", "", false)
	if err != nil {
		return nil, err
	}
	d.root = root
	for _, f := range root.fields {
		f.lastRows = 1024
	}
	d.fresh()
	return d, nil
}

func compile(t types.Type, name, path string, nullable bool) (*node, error) {
	n := &node{typ: t, kind: t.Kind, nullable: nullable, name: name, path: path}
	n.rawKey = rawName(name)
	n.key = newKeyWord(name)
	switch t.Kind {
	case types.Bool, types.Int8, types.Int16, types.Int32, types.Int64,
		types.UInt8, types.UInt16, types.UInt32, types.UInt64, types.Float32, types.Float64, types.String, types.Bytes, types.JSON, types.Timestamp, types.Date, types.Time, types.Decimal:
	case types.Struct:
		for _, f := range t.Fields {
			p := f.Name
			if path != "" {
				p = path + "." + f.Name
			}
			c, err := compile(f.Type, f.Name, p, f.Nullable)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, c)
		}
	case types.List:
		c, err := compile(*t.Elem, "", path+"[]", true)
		if err != nil {
			return nil, err
		}
		n.elem = c
	default:
		return nil, fmt.Errorf("json: field '%s': type %s cannot be read from JSON", path, t)
	}
	return n, nil
}

// rawName says whether name appears in JSON as is, unescaped.
func rawName(name string) bool {
	return utf8.ValidString(name) && !strings.ContainsFunc(name, func(r rune) bool {
		return r < 0x20 || r == '"' || r == '\\'
	})
}

// fresh gives every node a new, empty builder sized like the last batch
// (with room to grow by an eighth, unless the batches are known to stop
// at d.rowCap rows).
func (d *Decoder) fresh() {
	for _, f := range d.root.fields {
		f.capRows = d.rowCap
		f.fresh()
	}
	d.rows = 0
}

func (n *node) fresh() {
	c := n.lastRows + n.lastRows/8
	if n.capRows > 0 {
		c = min(c, n.capRows)
	}
	switch n.kind {
	case types.Bool:
		n.vb = &coldata.Vec[bool]{T: n.typ, Vals: make([]bool, 0, c)}
	case types.Int8:
		n.vi8 = &coldata.Vec[int8]{T: n.typ, Vals: make([]int8, 0, c)}
	case types.Int16:
		n.vi16 = &coldata.Vec[int16]{T: n.typ, Vals: make([]int16, 0, c)}
	case types.Int32, types.Date:
		n.vi32 = &coldata.Vec[int32]{T: n.typ, Vals: make([]int32, 0, c)}
	case types.Int64, types.Timestamp, types.Time:
		n.vi64 = &coldata.Vec[int64]{T: n.typ, Vals: make([]int64, 0, c)}
	case types.UInt8:
		n.vu8 = &coldata.Vec[uint8]{T: n.typ, Vals: make([]uint8, 0, c)}
	case types.UInt16:
		n.vu16 = &coldata.Vec[uint16]{T: n.typ, Vals: make([]uint16, 0, c)}
	case types.UInt32:
		n.vu32 = &coldata.Vec[uint32]{T: n.typ, Vals: make([]uint32, 0, c)}
	case types.UInt64:
		n.vu64 = &coldata.Vec[uint64]{T: n.typ, Vals: make([]uint64, 0, c)}
	case types.Float32:
		n.vf32 = &coldata.Vec[float32]{T: n.typ, Vals: make([]float32, 0, c)}
	case types.Float64:
		n.vf64 = &coldata.Vec[float64]{T: n.typ, Vals: make([]float64, 0, c)}
	case types.Decimal:
		n.vdec = &coldata.Vec[coldata.Int128]{T: n.typ, Vals: make([]coldata.Int128, 0, c)}
	case types.String, types.Bytes, types.JSON:
		n.vby = coldata.NewBytes(n.typ, c, n.lastData+n.lastData/8)
	case types.Struct:
		n.vst = &coldata.Struct{T: n.typ, Fields: make([]coldata.Vector, len(n.fields))}
		for i, f := range n.fields {
			f.lastRows = n.lastRows
			f.fresh()
			n.vst.Fields[i] = f.vector()
		}
	case types.List:
		n.elem.fresh()
		n.vli = &coldata.List{T: n.typ, Offsets: make([]int32, 1, c+1), Elems: n.elem.vector()}
	}
	// Struct fields get null bits when the struct is NULL, nullable or not.
	n.vector().Nulls().SetWords(make([]uint64, 0, (c+63)/64))
}

func (n *node) vector() coldata.Vector {
	switch n.kind {
	case types.Bool:
		return n.vb
	case types.Int8:
		return n.vi8
	case types.Int16:
		return n.vi16
	case types.Int32, types.Date:
		return n.vi32
	case types.Int64, types.Timestamp, types.Time:
		return n.vi64
	case types.UInt8:
		return n.vu8
	case types.UInt16:
		return n.vu16
	case types.UInt32:
		return n.vu32
	case types.UInt64:
		return n.vu64
	case types.Float32:
		return n.vf32
	case types.Float64:
		return n.vf64
	case types.Decimal:
		return n.vdec
	case types.String, types.Bytes, types.JSON:
		return n.vby
	case types.Struct:
		return n.vst
	case types.List:
		return n.vli
	}
	panic("unreachable")
}

// Rows returns the number of rows decoded since the last Flush.
func (d *Decoder) Rows() int { return d.rows }

// Flush returns one vector per schema field holding the rows decoded since
// the last Flush, and starts new builders. The caller owns the vectors.
func (d *Decoder) Flush() []coldata.Vector {
	out := make([]coldata.Vector, len(d.root.fields))
	for i, f := range d.root.fields {
		f.settle()
		out[i] = f.vector()
		f.remember()
	}
	d.fresh()
	return out
}

// settle appends the pending NULL rows of every struct under n.
func (n *node) settle() {
	if n.pend > 0 {
		n.padFields()
	}
	for _, f := range n.fields {
		f.settle()
	}
	if n.elem != nil {
		n.elem.settle()
	}
}

// padFields appends the pending NULL rows of struct n to its fields.
func (n *node) padFields() {
	for _, f := range n.fields {
		f.appendNulls(n.pend)
	}
	n.pend = 0
}

// remember notes the sizes of the builders about to be handed out.
func (n *node) remember() {
	n.lastRows = n.vector().Len()
	if n.vby != nil {
		n.lastData = len(n.vby.Data)
	}
	for _, f := range n.fields {
		f.remember()
	}
	if n.elem != nil {
		n.elem.remember()
	}
}

// Decode appends the row of one record. On error it appends nothing and
// returns a *DecodeError.
func (d *Decoder) Decode(rec []byte) error {
	d.rec = rec
	var err error
	if d.unstructured {
		err = d.decodeWhole()
	} else {
		err = d.decodeObject()
	}
	d.rec = nil
	if err != nil {
		for _, f := range d.root.fields {
			f.truncate(d.rows)
		}
		return err
	}
	d.rows++
	return nil
}

// DecodeLines implements connector.LinesDecoder: it decodes the lines at
// the start of block, each ended by '\n' (and an optional '\r' before it),
// while each is a bare object ('{' first and '}' last) of at most maxLen
// bytes that decodes, and Rows() is below maxRows. It returns the bytes and
// lines consumed; the line it stopped at, if any, is left whole to Decode,
// which makes its error.
func (d *Decoder) DecodeLines(block []byte, maxRows, maxLen int) (n, lines int) {
	if d.unstructured {
		return 0, 0
	}
	d.rowCap = maxRows
	for d.rows < maxRows {
		e := bytes.IndexByte(block[n:], '\n')
		if e < 0 || e > maxLen {
			break
		}
		rec := block[n : n+e]
		if m := len(rec); m > 0 && rec[m-1] == '\r' {
			rec = rec[:m-1]
		}
		if m := len(rec); m < 2 || rec[0] != '{' || rec[m-1] != '}' {
			break
		}
		d.rec = rec
		ok := len(d.root.shape) > 0 && d.flat(d.root)
		if !ok {
			for _, f := range d.root.fields {
				f.truncate(d.rows)
			}
			ok = d.general(0) == nil
			if !ok {
				for _, f := range d.root.fields {
					f.truncate(d.rows)
				}
			}
		}
		d.rec = nil
		if !ok {
			break
		}
		d.rows++
		n += e + 1
		lines++
	}
	return n, lines
}

func (d *Decoder) decodeObject() error {
	s := d.rec
	i := skipWS(s, 0)
	if i >= len(s) {
		return syntaxErr(i, "empty record")
	}
	if i == 0 && len(d.root.shape) > 0 {
		if d.flat(d.root) {
			return nil
		}
		// Not a record of the shape seen before (or not a valid one):
		// undo what the fast path appended and take the general path,
		// which also makes the error.
		for _, f := range d.root.fields {
			f.truncate(d.rows)
		}
	}
	return d.general(i)
}

// general decodes the record d.rec, whose first non-space byte is at i,
// without the fast path.
func (d *Decoder) general(i int) error {
	s := d.rec
	if s[i] != '{' {
		k := valueKind(s, i)
		if k == "" {
			return syntaxErr(i, "expected value")
		}
		return &DecodeError{Offset: i, Msg: "expected a JSON object, found " + k}
	}
	i, err := d.object(d.root, i, d.rows)
	if err != nil {
		return err
	}
	if i = skipWS(s, i); i != len(s) {
		return syntaxErr(i, "unexpected data after the object")
	}
	return nil
}

func (d *Decoder) decodeWhole() error {
	s := d.rec
	i := skipWS(s, 0)
	if i >= len(s) {
		return syntaxErr(i, "empty record")
	}
	start := i
	i, err := skipValue(s, i, 0)
	if err != nil {
		return err
	}
	end := i
	if i = skipWS(s, i); i != len(s) {
		return syntaxErr(i, "unexpected data after the value")
	}
	d.root.fields[0].vby.Append(s[start:end])
	return nil
}

// object decodes the object at s[i] == '{' into the fields of n, whose row
// being built is row (the index each field's builder appends at).
func (d *Decoder) object(n *node, i, row int) (int, error) {
	s := d.rec
	n.gen++
	gen := n.gen
	n.hint = 0
	seen := 0
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		i++
	} else {
		for k := 0; ; k++ {
			if i >= len(s) || s[i] != '"' {
				return i, unexpected(s, i, "expected string key")
			}
			var f *node
			resolved := false
			// Fast paths: the key is the expected field's name, or the
			// previous object's k-th key, unescaped.
			var w uint64
			wide := i+9 <= len(s)
			if wide {
				w = binary.LittleEndian.Uint64(s[i+1:])
			}
			if h := n.hint; h < len(n.fields) && n.fields[h].rawKey {
				var e int
				if wide {
					e = n.fields[h].key.at(s, i, w)
				} else {
					e = n.fields[h].key.slowAt(s, i)
				}
				if e > 0 {
					// shape[k] is kept up to date here too, so that
					// the fast path (flat) finds the records' shape
					// again after a record of another one.
					f, resolved = n.fields[h], true
					n.hint = h + 1
					i = e
					if k >= len(n.shape) || n.shape[k].idx != h || n.shape[k].name != f.name {
						n.setShape(k, keyRes{name: f.name, raw: true, key: f.key, idx: h})
					}
				}
			}
			if !resolved && k < len(n.shape) && n.shape[k].raw {
				r := &n.shape[k]
				var e int
				if wide {
					e = r.key.at(s, i, w)
				} else {
					e = r.key.slowAt(s, i)
				}
				if e > 0 {
					if resolved, i = true, e; r.idx >= 0 {
						f = n.fields[r.idx]
						n.hint = r.idx + 1
					}
				}
			}
			if !resolved {
				end, esc, err := scanString(s, i+1)
				if err != nil {
					return end, err
				}
				key := s[i+1 : end]
				if esc {
					d.scratch = unescape(d.scratch[:0], key)
					key = d.scratch
				}
				var r keyRes
				f, r = n.lookup(key)
				n.setShape(k, r)
				i = end + 1
			}
			// Compact records have no whitespace between tokens: test for
			// the punctuation first, skip whitespace only when it is not
			// there.
			if i < len(s) && s[i] == ':' {
				i++
			} else if i = skipWS(s, i); i < len(s) && s[i] == ':' {
				i++
			} else {
				return i, unexpected(s, i, "expected ':'")
			}
			if i < len(s) && s[i] <= ' ' {
				i = skipWS(s, i)
			}
			var err error
			if f == nil {
				i, err = skipValue(s, i, 1)
			} else {
				if f.seen == gen { // duplicate key: the last one wins
					f.truncate(row)
				} else {
					f.seen = gen
					seen++
				}
				if f.kind == types.Int64 && i < len(s) && isDigit(s[i]) {
					i, err = d.integer(f, i) // the commonest value, without value's dispatch
				} else {
					i, err = d.value(f, i)
				}
			}
			if err != nil {
				return i, err
			}
			if i < len(s) && s[i] <= ' ' {
				i = skipWS(s, i)
			}
			if i < len(s) && s[i] == ',' {
				if i++; i < len(s) && s[i] <= ' ' {
					i = skipWS(s, i)
				}
				continue
			}
			if i < len(s) && s[i] == '}' {
				i++
				break
			}
			return i, unexpected(s, i, "expected ',' or '}'")
		}
	}
	if seen < len(n.fields) {
		for _, f := range n.fields {
			if f.seen == gen {
				continue
			}
			if !f.nullable {
				return i, &DecodeError{Field: f.path, Offset: -1, Msg: "missing field"}
			}
			f.appendNull()
		}
	}
	return i, nil
}

// setShape records r as the resolution of the k-th key of the object; a
// key the cache had no room for (no name) is not recorded.
func (n *node) setShape(k int, r keyRes) {
	if k < len(n.shape) {
		n.shape[k] = r
	} else if k == len(n.shape) && k < maxCachedKeys {
		n.shape = append(n.shape, r)
	}
}

// keyRes is a key resolved to a field index (-1: no field).
type keyRes struct {
	name string // the key, interned in the node's cache
	raw  bool   // name needs no escaping, so it can match record bytes as is
	key  keyWord
	idx  int
}

// keyWord matches a raw key against record bytes with one 8-byte load and
// compare for names of up to 7 bytes (name and closing quote fit a word),
// and that load plus a compare of the rest for longer ones: most keys are
// short, and a string comparison call costs more than the rest of the key.
type keyWord struct {
	name string
	w, m uint64 // the first bytes of name + '"' (little endian) and their mask
}

func newKeyWord(name string) keyWord {
	var b [8]byte
	k := copy(b[:], name)
	if k < 8 {
		b[k] = '"'
		k++
	}
	m := ^uint64(0)
	if k < 8 {
		m = 1<<(8*k) - 1
	}
	return keyWord{name: name, w: binary.LittleEndian.Uint64(b[:]) & m, m: m}
}

// at returns the index after the closing quote of the key whose opening
// quote is s[i] if it is k's name, else 0. w holds the 8 bytes after that
// quote: the caller loads them once for all the names it tries (and
// compares the bytes itself when fewer than 8 remain).
func (k *keyWord) at(s []byte, i int, w uint64) int {
	if w&k.m != k.w {
		return 0
	}
	e := i + 1 + len(k.name)
	if len(k.name) >= 8 && (e >= len(s) || s[e] != '"' || string(s[i+9:e]) != k.name[8:]) {
		return 0
	}
	return e + 1
}

// slowAt is at without w.
func (k *keyWord) slowAt(s []byte, i int) int {
	if e := i + 1 + len(k.name); e < len(s) && s[e] == '"' && string(s[i+1:e]) == k.name {
		return e + 1
	}
	return 0
}

// maxCachedKeys bounds a struct node's key cache.
const maxCachedKeys = 256

// lookup returns the field named key: exact match first (trying the field
// after the previous key first, as keys usually come in schema order), then
// the key cache, then case-insensitive; nil if none.
func (n *node) lookup(key []byte) (*node, keyRes) {
	fs := n.fields
	if h := n.hint; h < len(fs) && string(key) == fs[h].name {
		n.hint = h + 1
		return fs[h], keyRes{name: fs[h].name, raw: fs[h].rawKey, key: fs[h].key, idx: h}
	}
	r, ok := n.keys[string(key)] // no allocation: the conversion is only for the lookup
	if !ok {
		r = keyRes{idx: n.resolve(key)}
		if len(n.keys) < maxCachedKeys {
			if n.keys == nil {
				n.keys = map[string]keyRes{}
			}
			r.name = string(key)
			r.raw = rawName(r.name)
			r.key = newKeyWord(r.name)
			n.keys[r.name] = r
		}
	}
	if r.idx < 0 {
		return nil, r
	}
	n.hint = r.idx + 1
	return fs[r.idx], r
}

// resolve returns the index of the field named key, exactly or else in
// another case; -1 if none.
func (n *node) resolve(key []byte) int {
	for j, f := range n.fields {
		if string(key) == f.name {
			return j
		}
	}
	for j, f := range n.fields {
		if strings.EqualFold(str(key), f.name) {
			return j
		}
	}
	return -1
}

// value decodes the value at s[i] (no leading whitespace) into n's builder.
func (d *Decoder) value(n *node, i int) (int, error) {
	s := d.rec
	if i >= len(s) {
		return i, eofErr(i)
	}
	c := s[i]
	if c == 'n' {
		end, err := literal(s, i, "null")
		if err != nil {
			return end, err
		}
		if !n.nullable {
			return i, n.err(i, "unexpected null (the field is NOT NULL)")
		}
		n.appendNull()
		return end, nil
	}
	switch n.kind {
	case types.Bool:
		switch c {
		case 't':
			end, err := literal(s, i, "true")
			if err == nil {
				n.vb.Append(true)
			}
			return end, err
		case 'f':
			end, err := literal(s, i, "false")
			if err == nil {
				n.vb.Append(false)
			}
			return end, err
		}
	case types.Int8, types.Int16, types.Int32, types.Int64, types.UInt8, types.UInt16, types.UInt32, types.UInt64:
		if c == '-' || isDigit(c) {
			return d.integer(n, i)
		}
	case types.Float32, types.Float64:
		if c == '-' || isDigit(c) {
			return d.float(n, i)
		}
	case types.String:
		if c == '"' {
			end, esc, err := scanString(s, i+1)
			if err != nil {
				return end, err
			}
			v := n.vby
			if esc {
				v.Data = unescape(v.Data, s[i+1:end])
			} else {
				v.Data = append(v.Data, s[i+1:end]...)
			}
			v.Offsets = append(v.Offsets, int32(len(v.Data)))
			return end + 1, nil
		}
	case types.Bytes:
		if c == '"' {
			return d.base64(n, i)
		}
	case types.JSON:
		end, err := skipValue(s, i, 1)
		if err != nil {
			return end, err
		}
		n.vby.Append(s[i:end])
		return end, nil
	case types.Timestamp:
		if c == '"' || c == '-' || isDigit(c) {
			return d.timestamp(n, i)
		}
	case types.Date, types.Time:
		if c == '"' || c == '-' || isDigit(c) {
			return d.dateTime(n, i)
		}
	case types.Decimal:
		if c == '"' || c == '-' || isDigit(c) {
			return d.decimal(n, i)
		}
	case types.List:
		if c == '[' {
			return d.list(n, i)
		}
	case types.Struct:
		if c == '{' {
			if n.pend > 0 {
				n.padFields()
			}
			end, err := d.object(n, i, n.vst.Length)
			if err == nil {
				n.vst.Length++
			}
			return end, err
		}
	}
	return i, d.typeErr(n, i)
}

// typeErr reports a value of the wrong JSON kind, or a syntax error if no
// value starts at s[i].
func (d *Decoder) typeErr(n *node, i int) error {
	k := valueKind(d.rec, i)
	if k == "" {
		return unexpected(d.rec, i, "expected value")
	}
	if k == "boolean" || k == "null" {
		// Report a misspelled literal as such rather than as a type error.
		lit := "null"
		switch d.rec[i] {
		case 't':
			lit = "true"
		case 'f':
			lit = "false"
		}
		if _, err := literal(d.rec, i, lit); err != nil {
			return err
		}
	}
	return n.err(i, "expected "+wantName(n.typ)+", found "+k)
}

func (n *node) err(i int, msg string) error {
	return &DecodeError{Field: n.path, Offset: i, Msg: msg}
}

// integer decodes a JSON integer, range-checked for n's type.
func (d *Decoder) integer(n *node, i int) (int, error) {
	s := d.rec
	if n.kind == types.Int64 && i+8 <= len(s) && s[i] >= '1' && s[i] <= '9' {
		// The commonest case: a positive BIGINT of up to 7 digits ended
		// by a delimiter, read as one word.
		w := word(s, i)
		if k := digitRun(w); k < 8 {
			if c := s[i+k]; c != '.' && c != 'e' && c != 'E' {
				n.vi64.Vals = append(n.vi64.Vals, int64(digitsValue(w, k)))
				return i + k, nil
			}
		}
	}
	if n.kind == types.Int64 && i < len(s) && s[i] >= '1' && s[i] <= '9' {
		// The common case: a positive BIGINT of up to 17 digits (cannot
		// overflow) ended by a delimiter.
		var u uint64
		j := i
		for ; j < len(s) && j-i < 18; j++ {
			c := s[j] - '0'
			if c > 9 {
				break
			}
			u = u*10 + uint64(c)
		}
		if j < len(s) && j-i < 18 {
			if c := s[j]; c != '.' && c != 'e' && c != 'E' {
				n.vi64.Vals = append(n.vi64.Vals, int64(u))
				return j, nil
			}
		}
	}
	start := i
	neg := false
	if s[i] == '-' {
		neg = true
		i++
	}
	first := i
	var u uint64
	if i < len(s) && s[i] == '0' {
		i++
	} else {
		for ; i < len(s); i++ {
			c := s[i] - '0'
			if c > 9 {
				break
			}
			u = u*10 + uint64(c)
		}
	}
	// 19 digits always fit in a uint64; longer ones may have wrapped.
	overflow := false
	if i-first > 19 {
		var err error
		u, err = strconv.ParseUint(str(s[first:i]), 10, 64)
		overflow = err != nil
	}
	if i == first {
		return i, syntaxErr(start, "invalid number")
	}
	if i < len(s) && (s[i] == '.' || s[i] == 'e' || s[i] == 'E' || isDigit(s[i])) {
		// A fraction or exponent (a type error), or a leading zero (syntax).
		end, _, err := scanNumber(s, start)
		if err != nil {
			return end, err
		}
		return end, n.err(start, "expected integer, found number "+string(s[start:end]))
	}
	var ok bool
	if !overflow {
		switch n.kind {
		case types.Int8:
			ok = appendSigned(n.vi8, u, neg, math.MaxInt8)
		case types.Int16:
			ok = appendSigned(n.vi16, u, neg, math.MaxInt16)
		case types.Int32:
			ok = appendSigned(n.vi32, u, neg, math.MaxInt32)
		case types.Int64:
			ok = appendSigned(n.vi64, u, neg, math.MaxInt64)
		case types.UInt8:
			ok = appendUnsigned(n.vu8, u, neg, math.MaxUint8)
		case types.UInt16:
			ok = appendUnsigned(n.vu16, u, neg, math.MaxUint16)
		case types.UInt32:
			ok = appendUnsigned(n.vu32, u, neg, math.MaxUint32)
		case types.UInt64:
			ok = appendUnsigned(n.vu64, u, neg, math.MaxUint64)
		}
	}
	if !ok {
		return i, n.err(start, "integer "+string(s[start:i])+" out of range for "+n.typ.String()+" ("+n.kind.RangeText()+")")
	}
	return i, nil
}

// appendSigned appends the integer with magnitude u (negative if neg) if it
// fits a type whose largest value is max (the smallest is -max-1).
func appendSigned[T int8 | int16 | int32 | int64](v *coldata.Vec[T], u uint64, neg bool, max uint64) bool {
	if u > max && !(neg && u == max+1) {
		return false
	}
	x := T(u) // max+1 wraps to the smallest value, whose negation is itself
	if neg {
		x = -x
	}
	v.Append(x)
	return true
}

// appendUnsigned appends u if it fits a type whose largest value is max
// (-0 is 0; any other negative number does not fit).
func appendUnsigned[T uint8 | uint16 | uint32 | uint64](v *coldata.Vec[T], u uint64, neg bool, max uint64) bool {
	if u > max || neg && u != 0 {
		return false
	}
	v.Append(T(u))
	return true
}

// float decodes any JSON number into a FLOAT or DOUBLE.
func (d *Decoder) float(n *node, i int) (int, error) {
	s := d.rec
	end, isInt, err := scanNumber(s, i)
	if err != nil {
		return end, err
	}
	var f float64
	// Integers of up to 15 digits convert exactly; others go to strconv.
	if k := end - i; isInt && (k <= 15 || k == 16 && s[i] == '-') {
		neg := s[i] == '-'
		j := i
		if neg {
			j++
		}
		var u uint64
		for ; j < end; j++ {
			u = u*10 + uint64(s[j]-'0')
		}
		f = float64(u)
		if neg {
			f = -f
		}
	} else {
		bitSize := 64
		if n.kind == types.Float32 {
			bitSize = 32
		}
		if f, err = strconv.ParseFloat(str(s[i:end]), bitSize); err != nil {
			return end, n.err(i, "number "+string(s[i:end])+" out of range for "+n.typ.String())
		}
	}
	if n.kind == types.Float32 {
		if math.Abs(f) > math.MaxFloat32 {
			return end, n.err(i, "number "+string(s[i:end])+" out of range for "+n.typ.String())
		}
		n.vf32.Append(float32(f))
	} else {
		n.vf64.Append(f)
	}
	return end, nil
}

// stringBody scans the string at s[i] == '"' and returns its unescaped
// contents (aliasing the record or d.scratch) and the index after it.
func (d *Decoder) stringBody(i int) ([]byte, int, error) {
	s := d.rec
	end, esc, err := scanString(s, i+1)
	if err != nil {
		return nil, end, err
	}
	body := s[i+1 : end]
	if esc {
		d.scratch = unescape(d.scratch[:0], body)
		body = d.scratch
	}
	return body, end + 1, nil
}

func (d *Decoder) base64(n *node, i int) (int, error) {
	body, end, err := d.stringBody(i)
	if err != nil {
		return end, err
	}
	v := n.vby
	k := len(v.Data)
	enc := base64.StdEncoding
	if len(body)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	if v.Data, err = enc.AppendDecode(v.Data, body); err != nil {
		v.Data = v.Data[:k]
		return end, n.err(i, "invalid base64 string")
	}
	v.Offsets = append(v.Offsets, int32(len(v.Data)))
	return end, nil
}

func (d *Decoder) timestamp(n *node, i int) (int, error) {
	s := d.rec
	if s[i] != '"' {
		// An integer of Unix milliseconds.
		end, isInt, err := scanNumber(s, i)
		if err != nil {
			return end, err
		}
		if !isInt {
			return end, n.err(i, "expected integer of Unix milliseconds, found number "+string(s[i:end]))
		}
		ms, err := strconv.ParseInt(str(s[i:end]), 10, 64)
		if err != nil || ms > maxUnixMilli || ms < -maxUnixMilli {
			return end, n.err(i, "timestamp "+string(s[i:end])+" out of range (1677-09-21 to 2262-04-11)")
		}
		n.vi64.Append(ms * nanosPerMs)
		return end, nil
	}
	if ts, end := d.tsFast.parse(s, i); end > 0 {
		n.vi64.Vals = append(n.vi64.Vals, ts)
		return end, nil
	}
	body, end, err := d.stringBody(i)
	if err != nil {
		return end, err
	}
	ts, msg := d.ts.Parse(body)
	if msg != "" {
		return end, n.err(i, msg+": '"+string(body)+"'")
	}
	d.tsFast.remember(body)
	n.vi64.Append(ts)
	return end, nil
}

func (d *Decoder) list(n *node, i int) (int, error) {
	s := d.rec
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == ']' {
		n.vli.CloseRow()
		return i + 1, nil
	}
	for {
		var err error
		if i, err = d.value(n.elem, i); err != nil {
			return i, err
		}
		i = skipWS(s, i)
		if i < len(s) && s[i] == ',' {
			i = skipWS(s, i+1)
			continue
		}
		if i < len(s) && s[i] == ']' {
			n.vli.CloseRow()
			return i + 1, nil
		}
		return i, unexpected(s, i, "expected ',' or ']'")
	}
}

// appendNull appends a NULL row to n's builder; a NULL struct appends NULL
// to every field (coldata's layout), with typed calls rather than through
// the Vector interface.
func (n *node) appendNull() {
	switch n.kind {
	case types.Bool:
		n.vb.AppendNull()
	case types.Int8:
		n.vi8.AppendNull()
	case types.Int16:
		n.vi16.AppendNull()
	case types.Int32, types.Date:
		n.vi32.AppendNull()
	case types.Int64, types.Timestamp, types.Time:
		n.vi64.AppendNull()
	case types.UInt8:
		n.vu8.AppendNull()
	case types.UInt16:
		n.vu16.AppendNull()
	case types.UInt32:
		n.vu32.AppendNull()
	case types.UInt64:
		n.vu64.AppendNull()
	case types.Float32:
		n.vf32.AppendNull()
	case types.Float64:
		n.vf64.AppendNull()
	case types.Decimal:
		n.vdec.AppendNull()
	case types.String, types.Bytes, types.JSON:
		n.vby.AppendNull()
	case types.Struct:
		n.vst.N.SetNull(n.vst.Length)
		n.vst.Length++
		n.pend++ // see Decoder
	case types.List:
		n.vli.AppendNull()
	}
}

// appendNulls appends k NULL rows to n's builder.
func (n *node) appendNulls(k int) {
	var nl *coldata.Nulls
	var from int
	switch n.kind {
	case types.Bool:
		nl, from = &n.vb.N, len(n.vb.Vals)
		n.vb.Vals = appendZeros(n.vb.Vals, k)
	case types.Int8:
		nl, from = &n.vi8.N, len(n.vi8.Vals)
		n.vi8.Vals = appendZeros(n.vi8.Vals, k)
	case types.Int16:
		nl, from = &n.vi16.N, len(n.vi16.Vals)
		n.vi16.Vals = appendZeros(n.vi16.Vals, k)
	case types.Int32, types.Date:
		nl, from = &n.vi32.N, len(n.vi32.Vals)
		n.vi32.Vals = appendZeros(n.vi32.Vals, k)
	case types.Int64, types.Timestamp, types.Time:
		nl, from = &n.vi64.N, len(n.vi64.Vals)
		n.vi64.Vals = appendZeros(n.vi64.Vals, k)
	case types.UInt8:
		nl, from = &n.vu8.N, len(n.vu8.Vals)
		n.vu8.Vals = appendZeros(n.vu8.Vals, k)
	case types.UInt16:
		nl, from = &n.vu16.N, len(n.vu16.Vals)
		n.vu16.Vals = appendZeros(n.vu16.Vals, k)
	case types.UInt32:
		nl, from = &n.vu32.N, len(n.vu32.Vals)
		n.vu32.Vals = appendZeros(n.vu32.Vals, k)
	case types.UInt64:
		nl, from = &n.vu64.N, len(n.vu64.Vals)
		n.vu64.Vals = appendZeros(n.vu64.Vals, k)
	case types.Float32:
		nl, from = &n.vf32.N, len(n.vf32.Vals)
		n.vf32.Vals = appendZeros(n.vf32.Vals, k)
	case types.Float64:
		nl, from = &n.vf64.N, len(n.vf64.Vals)
		n.vf64.Vals = appendZeros(n.vf64.Vals, k)
	case types.Decimal:
		nl, from = &n.vdec.N, len(n.vdec.Vals)
		n.vdec.Vals = appendZeros(n.vdec.Vals, k)
	case types.String, types.Bytes, types.JSON:
		nl, from = &n.vby.N, n.vby.Len()
		n.vby.Offsets = appendRepeat(n.vby.Offsets, int32(len(n.vby.Data)), k)
	case types.Struct:
		nl, from = &n.vst.N, n.vst.Length
		n.vst.Length += k
		n.pend += k
	case types.List:
		nl, from = &n.vli.N, n.vli.Len()
		n.vli.Offsets = appendRepeat(n.vli.Offsets, n.vli.Offsets[len(n.vli.Offsets)-1], k)
	}
	setNulls(nl, from, from+k)
}

func appendZeros[T coldata.Fixed](v []T, k int) []T {
	v = slices.Grow(v, k)
	n := len(v)
	v = v[:n+k]
	clear(v[n:])
	return v
}

func appendRepeat(v []int32, x int32, k int) []int32 {
	v = slices.Grow(v, k)
	for range k {
		v = append(v, x)
	}
	return v
}

// setNulls marks rows [from, to) NULL.
func setNulls(nl *coldata.Nulls, from, to int) {
	if from >= to {
		return
	}
	w := nl.Words()
	if need := (to + 63) >> 6; need > len(w) {
		w = slices.Grow(w, need-len(w))
		k := len(w)
		w = w[:need]
		clear(w[k:])
	}
	first, last := from>>6, (to-1)>>6
	lo := ^uint64(0) << (uint(from) & 63)
	hi := ^uint64(0) >> (63 - (uint(to-1) & 63))
	if first == last {
		w[first] |= lo & hi
	} else {
		w[first] |= lo
		for k := first + 1; k < last; k++ {
			w[k] = ^uint64(0)
		}
		w[last] |= hi
	}
	nl.SetWords(w)
}

// truncate cuts n's builder back to rows rows, whatever a failed or
// superseded decode left behind: values, bytes, struct fields, list
// elements and null bits.
func (n *node) truncate(rows int) {
	switch n.kind {
	case types.Bool:
		n.vb.Vals = n.vb.Vals[:min(rows, len(n.vb.Vals))]
	case types.Int8:
		n.vi8.Vals = n.vi8.Vals[:min(rows, len(n.vi8.Vals))]
	case types.Int16:
		n.vi16.Vals = n.vi16.Vals[:min(rows, len(n.vi16.Vals))]
	case types.Int32, types.Date:
		n.vi32.Vals = n.vi32.Vals[:min(rows, len(n.vi32.Vals))]
	case types.Int64, types.Timestamp, types.Time:
		n.vi64.Vals = n.vi64.Vals[:min(rows, len(n.vi64.Vals))]
	case types.UInt8:
		n.vu8.Vals = n.vu8.Vals[:min(rows, len(n.vu8.Vals))]
	case types.UInt16:
		n.vu16.Vals = n.vu16.Vals[:min(rows, len(n.vu16.Vals))]
	case types.UInt32:
		n.vu32.Vals = n.vu32.Vals[:min(rows, len(n.vu32.Vals))]
	case types.UInt64:
		n.vu64.Vals = n.vu64.Vals[:min(rows, len(n.vu64.Vals))]
	case types.Float32:
		n.vf32.Vals = n.vf32.Vals[:min(rows, len(n.vf32.Vals))]
	case types.Float64:
		n.vf64.Vals = n.vf64.Vals[:min(rows, len(n.vf64.Vals))]
	case types.Decimal:
		n.vdec.Vals = n.vdec.Vals[:min(rows, len(n.vdec.Vals))]
	case types.String, types.Bytes, types.JSON:
		v := n.vby
		if rows < v.Len() {
			v.Offsets = v.Offsets[:rows+1]
		}
		v.Data = v.Data[:v.Offsets[len(v.Offsets)-1]]
	case types.Struct:
		// The fields hold Length-pend rows, plus at most one partial row
		// if an object failed (it had no pending rows then).
		keep := min(rows, n.vst.Length-n.pend)
		for _, f := range n.fields {
			f.truncate(keep)
		}
		n.vst.Length = min(n.vst.Length, rows)
		n.pend = n.vst.Length - keep
	case types.List:
		v := n.vli
		if rows < v.Len() {
			v.Offsets = v.Offsets[:rows+1]
		}
		n.elem.truncate(int(v.Offsets[len(v.Offsets)-1]))
	}
	truncateNulls(n.vector().Nulls(), rows)
}

// truncateNulls clears the null bits of rows >= rows.
func truncateNulls(nl *coldata.Nulls, rows int) {
	w := nl.Words()
	keep := (rows + 63) >> 6
	if len(w) > keep {
		w = w[:keep]
		nl.SetWords(w)
	}
	if rows&63 != 0 && len(w) == keep {
		w[keep-1] &= 1<<(uint(rows)&63) - 1
	}
}
