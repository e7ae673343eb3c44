package avro

import (
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/arroyogo/arroyo/engine/types"
)

// opcode says how to read one writer value.
type opcode uint8

const (
	opNull opcode = iota
	opBool
	opInt    // int and long (zigzag varints); conv says what the column wants
	opFloat  // float
	opDouble // double
	opString // string and bytes
	opFixed  // fixed
	opEnum
	opRecord
	opArray
	opUnion
	opJSON // any value, rendered as JSON text into a JSON or TEXT column
	opSkip // a writer field no column reads
	opBad  // a union branch the column cannot hold: an error when taken
	// Fused unions [null, T] (either order), the shape of every nullable
	// column: one step reads the branch index and the value. nullK is
	// the null branch's index.
	opOptLong  // T is a long read into a BIGINT column as is
	opOptBytes // T is a string or bytes read into a TEXT or BYTEA column as is
	// opSkipC is a writer value no column reads, compiled: sk says what
	// to step over (the schema is not consulted per value, as opSkip
	// does; opSkip remains for recursive types).
	opSkipC
)

// skipKind is what an opSkipC steps over.
type skipKind uint8

const (
	skNull skipKind = iota
	skBool
	skLong // int, long, enum
	skFloat
	skDouble
	skBytes // string, bytes
	skFixed
	skRecord // fields
	skArray  // elem
	skMap    // elem: the values
	skUnion  // branches
)

// conv says how an integer or bytes value becomes a column's value.
type conv uint8

const (
	convNone    conv = iota
	convScale        // integer times mul (time units to nanoseconds)
	convDecimal      // integer or two's-complement bytes, scaled to the column
	convFloat        // integer to a float column
	convUTF8         // bytes to TEXT: must be valid UTF-8
	convJSON         // string to JSON: must be valid JSON
)

// op is the compiled reading of one writer value into one column (dst, nil
// for skipped values and the root record).
type op struct {
	code opcode
	conv conv
	dst  *col
	// Writer schema, for opJSON, opSkip and error messages.
	w    avro.Schema
	path string

	mul    int64 // convScale
	wScale int   // convDecimal: the writer's scale (0 for integers)
	size   int   // opFixed
	isLong bool  // opInt: a long (an int must fit 32 bits)

	symbols  [][]byte // opEnum
	fields   []*op    // opRecord: writer fields in writer order
	missing  []*col   // opRecord: columns the writer lacks (NULL)
	defaults []dflt   // opRecord: columns the writer lacks, from reader defaults
	elem     *op      // opArray
	// opUnion: one op per writer branch; a null branch is opNull.
	branches []*op
	nullK    int64    // opOptLong, opOptBytes: the null branch
	bad      string   // opBad: why
	sk       skipKind // opSkipC
}

// dflt fills a column the writer lacks with the reader's default: datum
// is the default encoded once, op reads it into the column.
type dflt struct {
	op    *op
	datum []byte
}

// Plan is the compiled resolution of one writer schema to a decoder's
// columns. It belongs to the decoder that compiled it (Decoder.Plan).
type Plan struct {
	root   *op
	writer avro.Schema
	d      *Decoder
}

// Writer returns the writer schema the plan reads.
func (p *Plan) Writer() avro.Schema { return p.writer }

// ResolveError is a writer schema that cannot be read into the table's
// columns: it names the column and both types.
type ResolveError struct {
	Column string // dotted path
	Msg    string
}

func (e *ResolveError) Error() string {
	if e.Column == "" {
		return "avro: " + e.Msg
	}
	return fmt.Sprintf("avro: column '%s': %s", e.Column, e.Msg)
}

// compileRoot resolves the writer's top-level record to the columns.
func (d *Decoder) compileRoot(w avro.Schema) (*op, error) {
	if d.unstructured {
		return &op{code: opJSON, dst: d.root.fields[0], w: w}, nil
	}
	r, ok := deref(w).(*avro.RecordSchema)
	if !ok {
		return nil, &ResolveError{Msg: fmt.Sprintf("the writer schema must be a record, not %s (or set 'avro.into_unstructured_json')", typeName(w))}
	}
	return compileRecord(r, d.root, "", recordOf(d.reader))
}

// recordOf returns the record a reader type is (a union's record branch),
// or nil.
func recordOf(s avro.Schema) *avro.RecordSchema {
	if s == nil {
		return nil
	}
	switch s := deref(s).(type) {
	case *avro.RecordSchema:
		return s
	case *avro.UnionSchema:
		for _, b := range s.Types() {
			if r, ok := deref(b).(*avro.RecordSchema); ok {
				return r
			}
		}
	}
	return nil
}

// readerField returns the field of reader record r a column reads, or nil.
func readerField(r *avro.RecordSchema, name string) *avro.Field {
	if r == nil {
		return nil
	}
	for _, f := range r.Fields() {
		if f.Name() == name {
			return f
		}
	}
	for _, f := range r.Fields() {
		if strings.EqualFold(f.Name(), name) {
			return f
		}
	}
	return nil
}

// itemsOf returns the items type of a reader array type, or nil.
func itemsOf(s avro.Schema) avro.Schema {
	if s == nil {
		return nil
	}
	switch s := deref(s).(type) {
	case *avro.ArraySchema:
		return s.Items()
	case *avro.UnionSchema:
		for _, b := range s.Types() {
			if a, ok := deref(b).(*avro.ArraySchema); ok {
				return a.Items()
			}
		}
	}
	return nil
}

// defaultOp compiles the reader default of field rf into column c: the
// default encoded as a datum once, and the op that reads it. ok is false
// when rf has no usable default.
func defaultOp(rf *avro.Field, c *col) (dflt, bool) {
	if rf == nil || !rf.HasDefault() {
		return dflt{}, false
	}
	t := deref(rf.Type())
	if u, ok := t.(*avro.UnionSchema); ok {
		t = u.Types()[0] // a union's default is of its first branch
	}
	b, err := avro.Marshal(t, rf.Default())
	if err != nil {
		return dflt{}, false
	}
	o, err := compileValue(t, c, c.path, t)
	if err != nil {
		return dflt{}, false
	}
	return dflt{op: o, datum: b}, true
}

func compileRecord(r *avro.RecordSchema, dst *col, path string, reader *avro.RecordSchema) (*op, error) {
	o := &op{code: opRecord, dst: dst, w: r, path: path}
	used := make([]bool, len(dst.fields))
	for _, wf := range r.Fields() {
		k := matchField(dst.fields, used, wf, reader)
		fp := joinPath(path, wf.Name())
		if k < 0 {
			o.fields = append(o.fields, compileSkip(wf.Type(), fp, map[string]bool{}))
			continue
		}
		used[k] = true
		c := dst.fields[k]
		var rt avro.Schema
		if rf := readerField(reader, c.name); rf != nil {
			rt = rf.Type()
		}
		f, err := compileValue(wf.Type(), c, c.path, rt)
		if err != nil {
			return nil, err
		}
		o.fields = append(o.fields, f)
	}
	for k, c := range dst.fields {
		if used[k] {
			continue
		}
		// The reader schema's default, as Avro resolution says; else NULL.
		if df, ok := defaultOp(readerField(reader, c.name), c); ok {
			o.defaults = append(o.defaults, df)
			continue
		}
		if !c.nullable {
			return nil, &ResolveError{Column: c.path, Msg: fmt.Sprintf(
				"the writer schema (record %s) has no field '%s', and the column is NOT NULL", r.FullName(), c.name)}
		}
		o.missing = append(o.missing, c)
	}
	return o, nil
}

// compileSkip compiles stepping over a value of writer type w. A record
// already being compiled (open: a recursive type) is skipped by its
// schema (opSkip) instead.
func compileSkip(w avro.Schema, path string, open map[string]bool) *op {
	w = deref(w)
	o := &op{code: opSkipC, w: w, path: path}
	switch s := w.(type) {
	case *avro.NullSchema:
		o.sk = skNull
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Null:
			o.sk = skNull
		case avro.Boolean:
			o.sk = skBool
		case avro.Int, avro.Long:
			o.sk = skLong
		case avro.Float:
			o.sk = skFloat
		case avro.Double:
			o.sk = skDouble
		case avro.String, avro.Bytes:
			o.sk = skBytes
		default:
			return &op{code: opSkip, w: w, path: path}
		}
	case *avro.FixedSchema:
		o.sk, o.size = skFixed, s.Size()
	case *avro.EnumSchema:
		o.sk = skLong
	case *avro.RecordSchema:
		if open[s.FullName()] {
			return &op{code: opSkip, w: w, path: path}
		}
		open[s.FullName()] = true
		defer delete(open, s.FullName())
		o.sk = skRecord
		for _, f := range s.Fields() {
			o.fields = append(o.fields, compileSkip(f.Type(), joinPath(path, f.Name()), open))
		}
	case *avro.ArraySchema:
		o.sk, o.elem = skArray, compileSkip(s.Items(), path+"[]", open)
	case *avro.MapSchema:
		o.sk, o.elem = skMap, compileSkip(s.Values(), path+"{}", open)
	case *avro.UnionSchema:
		o.sk = skUnion
		for _, b := range s.Types() {
			o.branches = append(o.branches, compileSkip(b, path, open))
		}
	default:
		return &op{code: opSkip, w: w, path: path}
	}
	return o
}

// matchField finds the column a writer field fills: the same name, else
// the same name in another case, else the column of a reader field that
// lists the writer's name among its aliases (a renamed field), else a
// writer alias.
func matchField(cols []*col, used []bool, wf *avro.Field, reader *avro.RecordSchema) int {
	for k, c := range cols {
		if !used[k] && c.name == wf.Name() {
			return k
		}
	}
	for k, c := range cols {
		if !used[k] && strings.EqualFold(c.name, wf.Name()) {
			return k
		}
	}
	if reader != nil {
		for _, rf := range reader.Fields() {
			for _, a := range rf.Aliases() {
				if a != wf.Name() {
					continue
				}
				for k, c := range cols {
					if !used[k] && c.name == rf.Name() {
						return k
					}
				}
			}
		}
	}
	for _, a := range wf.Aliases() {
		for k, c := range cols {
			if !used[k] && c.name == a {
				return k
			}
		}
	}
	return -1
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// compileValue resolves writer type w to column c.
// rdr is the reader schema's type for c, if the decoder has one (for
// defaults of fields older writers lack).
func compileValue(w avro.Schema, c *col, path string, rdr avro.Schema) (*op, error) {
	w = deref(w)
	if u, ok := w.(*avro.UnionSchema); ok && c.kind == types.JSON && nonNull(u) == 1 {
		return compileUnion(u, c, path, rdr)
	}
	if c.kind == types.JSON {
		if p, ok := w.(*avro.PrimitiveSchema); ok && p.Type() == avro.String {
			// A string read into a JSON column holds JSON text (as this
			// package's encoder writes JSON columns): taken verbatim,
			// validated.
			return &op{code: opString, conv: convJSON, dst: c, w: w, path: path}, nil
		}
		return &op{code: opJSON, dst: c, w: w, path: path}, nil
	}
	if u, ok := w.(*avro.UnionSchema); ok {
		return compileUnion(u, c, path, rdr)
	}
	o := &op{dst: c, w: w, path: path}
	if w.Type() == avro.Null {
		if !c.nullable {
			return nil, &ResolveError{Column: path, Msg: "writer type null cannot be read into a NOT NULL column"}
		}
		o.code = opNull
		return o, nil
	}
	cannot := func() (*op, error) {
		return nil, &ResolveError{Column: path, Msg: fmt.Sprintf("writer type %s cannot be read into %s", typeName(w), c.typ)}
	}
	switch s := w.(type) {
	case *avro.PrimitiveSchema:
		lt := logicalType(s)
		switch s.Type() {
		case avro.Null:
			if !c.nullable {
				return nil, &ResolveError{Column: path, Msg: "writer type null cannot be read into a NOT NULL column"}
			}
			o.code = opNull
		case avro.Boolean:
			if c.kind != types.Bool {
				return cannot()
			}
			o.code = opBool
		case avro.Int, avro.Long:
			o.code, o.isLong = opInt, s.Type() == avro.Long
			if !intConv(o, c, lt) {
				return cannot()
			}
		case avro.Float:
			if !c.kind.IsFloat() {
				return cannot()
			}
			o.code = opFloat
		case avro.Double:
			if !c.kind.IsFloat() {
				return cannot()
			}
			o.code = opDouble
		case avro.String, avro.Bytes:
			o.code = opString
			d, isDec := s.Logical().(*avro.DecimalLogicalSchema)
			switch {
			case isDec && (c.kind == types.Decimal || c.kind.IsFloat()):
				o.conv, o.wScale = convDecimal, d.Scale()
			case c.kind == types.String:
				if s.Type() == avro.Bytes {
					o.conv = convUTF8
				}
			case c.kind == types.Bytes:
			default:
				return cannot()
			}
		default:
			return cannot()
		}
	case *avro.FixedSchema:
		o.code, o.size = opFixed, s.Size()
		d, isDec := s.Logical().(*avro.DecimalLogicalSchema)
		switch {
		case isDec && (c.kind == types.Decimal || c.kind.IsFloat()):
			o.conv, o.wScale = convDecimal, d.Scale()
		case c.kind == types.Bytes:
		default:
			return cannot()
		}
	case *avro.EnumSchema:
		if c.kind != types.String {
			return cannot()
		}
		o.code = opEnum
		for _, sym := range s.Symbols() {
			o.symbols = append(o.symbols, []byte(sym))
		}
	case *avro.RecordSchema:
		if c.kind != types.Struct {
			return cannot()
		}
		return compileRecord(s, c, path, recordOf(rdr))
	case *avro.ArraySchema:
		if c.kind != types.List {
			return cannot()
		}
		e, err := compileValue(s.Items(), c.elem, path+"[]", itemsOf(rdr))
		if err != nil {
			return nil, err
		}
		o.code, o.elem = opArray, e
	default: // maps
		return cannot()
	}
	return o, nil
}

// intConv sets how an int or long with logical type lt becomes a value of
// column c; false if it cannot.
func intConv(o *op, c *col, lt avro.LogicalType) bool {
	switch c.kind {
	case types.Timestamp:
		switch lt {
		case avro.TimestampMillis, avro.LocalTimestampMillis:
			o.conv, o.mul = convScale, 1_000_000
		case avro.TimestampMicros, avro.LocalTimestampMicros:
			o.conv, o.mul = convScale, 1_000
		case "timestamp-nanos", "local-timestamp-nanos":
			o.conv, o.mul = convScale, 1
		default:
			return false
		}
		return o.isLong
	case types.Time:
		switch lt {
		case avro.TimeMillis:
			o.conv, o.mul = convScale, 1_000_000
		case avro.TimeMicros:
			o.conv, o.mul = convScale, 1_000
		default:
			return false
		}
		return true
	case types.Date:
		return lt == avro.Date
	case types.Interval:
		o.conv, o.mul = convScale, 1_000 // as FromSQL writes it: microseconds
		return lt == ""
	}
	// A logical int or long (a timestamp, a date) read into a number column
	// gives its raw count.
	switch {
	case c.kind.IsInteger():
		return true
	case c.kind.IsFloat():
		o.conv = convFloat
		return true
	case c.kind == types.Decimal:
		o.conv = convDecimal
		return true
	}
	return false
}

func compileUnion(u *avro.UnionSchema, c *col, path string, rdr avro.Schema) (*op, error) {
	o := &op{code: opUnion, dst: c, w: u, path: path}
	readable := 0 // non-null branches that compile
	var firstErr error
	for _, b := range u.Types() {
		if b.Type() == avro.Null {
			if !c.nullable {
				o.branches = append(o.branches, &op{code: opBad, dst: c, w: b, path: path, bad: "null for a NOT NULL column"})
			} else {
				o.branches = append(o.branches, &op{code: opNull, dst: c, w: b, path: path})
			}
			continue
		}
		bo, err := compileValue(b, c, path, rdr)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			o.branches = append(o.branches, &op{code: opBad, dst: c, w: b, path: path,
				bad: fmt.Sprintf("union branch %s cannot be read into %s", typeName(b), c.typ)})
			continue
		}
		o.branches = append(o.branches, bo)
		readable++
	}
	if readable == 0 && firstErr != nil {
		return nil, firstErr
	}
	if readable == 0 && !c.nullable {
		return nil, &ResolveError{Column: path, Msg: "writer type null cannot be read into a NOT NULL column"}
	}
	fuseOptional(o)
	return o, nil
}

// fuseOptional turns union o of null and a long or string read as is into
// one step (opOptLong, opOptBytes); other unions stay opUnion.
func fuseOptional(o *op) {
	if len(o.branches) != 2 {
		return
	}
	for nk := range 2 {
		v := o.branches[1-nk]
		if o.branches[nk].code != opNull || v.conv != convNone || v.dst != o.dst {
			continue
		}
		switch {
		case v.code == opInt && v.isLong && o.dst.kind == types.Int64:
			o.code, o.nullK = opOptLong, int64(nk)
		case v.code == opString && o.dst.vbyKind():
			o.code, o.nullK = opOptBytes, int64(nk)
		}
		return
	}
}

// typeName names an Avro type for messages: "long", "record Order",
// "long (timestamp-millis)".
func typeName(s avro.Schema) string {
	s = deref(s)
	switch s := s.(type) {
	case avro.NamedSchema:
		return string(s.Type()) + " " + s.FullName()
	case *avro.PrimitiveSchema:
		if s.Logical() != nil {
			return string(s.Type()) + " (" + string(s.Logical().Type()) + ")"
		}
	case *avro.UnionSchema:
		var names []string
		for _, b := range s.Types() {
			names = append(names, typeName(b))
		}
		return "union [" + strings.Join(names, ", ") + "]"
	}
	return string(s.Type())
}

// nonNull counts the union's branches other than null.
func nonNull(u *avro.UnionSchema) int {
	n := 0
	for _, b := range u.Types() {
		if b.Type() != avro.Null {
			n++
		}
	}
	return n
}
