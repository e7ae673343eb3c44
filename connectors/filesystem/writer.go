package filesystem

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"slices"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// fileWriter encodes rows into one file.
type fileWriter interface {
	// write appends the logical rows of b (its Sel).
	write(b *coldata.Batch) error
	// size is the file's size so far, buffered bytes included.
	size() int64
	// close completes the file (a Parquet footer) and its object.
	close() error
	// abort gives the file up, releasing what it holds.
	abort()
}

// counter counts the bytes written through it.
type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// linesWriter writes one record per line in a record format (json).
type linesWriter struct {
	out io.WriteCloser
	c   counter
	w   *bufio.Writer
	enc connector.Encoder
}

func newLinesWriter(out io.WriteCloser, enc connector.Encoder) *linesWriter {
	l := &linesWriter{out: out, enc: enc}
	l.c.w = out
	l.w = bufio.NewWriterSize(&l.c, 64<<10)
	return l
}

func (l *linesWriter) write(b *coldata.Batch) error {
	return l.enc.Encode(b, func(rec []byte) error {
		l.w.Write(rec)
		return l.w.WriteByte('\n')
	})
}

func (l *linesWriter) size() int64 { return l.c.n + int64(l.w.Buffered()) }

func (l *linesWriter) close() error {
	if err := l.w.Flush(); err != nil {
		l.out.Close()
		return err
	}
	return l.out.Close()
}

func (l *linesWriter) abort() { l.out.Close() }

// checkParquetSchema refuses the column types the Parquet writer does not
// map: lists (repeated columns) and types without values.
func checkParquetSchema(s *types.Schema) error {
	var check func(name string, t types.Type) error
	check = func(name string, t types.Type) error {
		switch t.Kind {
		case types.List, types.Null, types.Invalid:
			return fmt.Errorf("filesystem: format 'parquet' cannot write column '%s' of type %s; write format = 'json', or select scalar values", name, t)
		case types.Struct:
			for _, f := range t.Fields {
				if err := check(name+"."+f.Name, f.Type); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, f := range s.Fields {
		if err := check(f.Name, f.Type); err != nil {
			return err
		}
	}
	return nil
}

// parquetNode maps a column type to its Parquet node: a group for a
// struct (e.g. a window's start and end).
func parquetNode(f types.Field) parquet.Node {
	var n parquet.Node
	switch t := f.Type; t.Kind {
	case types.Struct:
		g := parquet.Group{}
		for _, sf := range t.Fields {
			g[sf.Name] = parquetNode(sf)
		}
		n = g
	case types.Bool:
		n = parquet.Leaf(parquet.BooleanType)
	case types.Int8:
		n = parquet.Int(8)
	case types.Int16:
		n = parquet.Int(16)
	case types.Int32:
		n = parquet.Int(32)
	case types.Int64, types.Interval:
		n = parquet.Int(64)
	case types.UInt8:
		n = parquet.Uint(8)
	case types.UInt16:
		n = parquet.Uint(16)
	case types.UInt32:
		n = parquet.Uint(32)
	case types.UInt64:
		n = parquet.Uint(64)
	case types.Float32:
		n = parquet.Leaf(parquet.FloatType)
	case types.Float64:
		n = parquet.Leaf(parquet.DoubleType)
	case types.String:
		n = parquet.String()
	case types.JSON:
		n = parquet.JSON()
	case types.Bytes:
		n = parquet.Leaf(parquet.ByteArrayType)
	case types.Timestamp:
		n = parquet.Timestamp(parquet.Nanosecond)
	case types.Date:
		n = parquet.Date()
	case types.Time:
		n = parquet.Time(parquet.Nanosecond)
	case types.Decimal:
		n = parquet.Decimal(int(t.Scale), int(t.Precision), parquet.FixedLenByteArrayType(16))
	}
	if f.Nullable {
		n = parquet.Optional(n)
	}
	return n
}

// leaf is one Parquet leaf column: the table column it comes from, the
// struct fields leading to it, and which levels of that path are
// optional (each present optional level adds one definition level).
type leaf struct {
	col      int
	fields   []int  // struct field indexes below the column
	optional []bool // per level: the column, then each field
	index    int    // the leaf's column index in the Parquet schema
}

// parquetLayout is a table's Parquet schema and its leaves.
type parquetLayout struct {
	schema *parquet.Schema
	leaves []leaf
}

func newParquetLayout(s *types.Schema) *parquetLayout {
	g := parquet.Group{}
	for _, f := range s.Fields {
		g[f.Name] = parquetNode(f)
	}
	l := &parquetLayout{schema: parquet.NewSchema("arroyo", g)}
	var walk func(lf leaf, path []string, f types.Field)
	walk = func(lf leaf, path []string, f types.Field) {
		lf.optional = append(slices.Clone(lf.optional), f.Nullable)
		path = append(slices.Clone(path), f.Name)
		if f.Type.Kind == types.Struct {
			for k, sf := range f.Type.Fields {
				next := lf
				next.fields = append(slices.Clone(lf.fields), k)
				walk(next, path, sf)
			}
			return
		}
		lc, _ := l.schema.Lookup(path...)
		lf.index = lc.ColumnIndex
		l.leaves = append(l.leaves, lf)
	}
	for c, f := range s.Fields {
		walk(leaf{col: c}, nil, f)
	}
	slices.SortFunc(l.leaves, func(a, b leaf) int { return a.index - b.index })
	return l
}

// value returns row i of the leaf in b, with its definition level.
func (lf *leaf) value(b *coldata.Batch, i int) parquet.Value {
	v := b.Cols[lf.col]
	def := 0
	for level := 0; ; level++ {
		if lf.optional[level] {
			if v.IsNull(i) {
				return parquet.NullValue().Level(0, def, lf.index)
			}
			def++
		}
		if level == len(lf.fields) {
			break
		}
		v = v.(*coldata.Struct).Fields[lf.fields[level]]
	}
	return parquetValue(v, i).Level(0, def, lf.index)
}

func codec(name string) compress.Codec {
	switch name {
	case "none":
		return &parquet.Uncompressed
	case "snappy":
		return &parquet.Snappy
	case "gzip":
		return &parquet.Gzip
	case "lz4":
		return &parquet.Lz4Raw
	}
	return &parquet.Zstd
}

// parquetWriter writes a Parquet file.
type parquetWriter struct {
	out  io.WriteCloser
	c    counter
	w    *parquet.Writer
	l    *parquetLayout
	rows []parquet.Row
}

func newParquetWriter(out io.WriteCloser, l *parquetLayout, c *config) *parquetWriter {
	p := &parquetWriter{out: out, l: l}
	p.c.w = out
	p.w = parquet.NewWriter(&p.c, l.schema, parquet.Compression(codec(c.compress)), parquet.MaxRowsPerRowGroup(c.rowGroup),
		parquet.CreatedBy("arroyo-go", "", ""))
	return p
}

func (p *parquetWriter) write(b *coldata.Batch) error {
	n := b.Rows()
	// The rows are reused from batch to batch (WriteRows copies them).
	for len(p.rows) < n {
		p.rows = append(p.rows, make(parquet.Row, len(p.l.leaves)))
	}
	for k := range n {
		i := k
		if b.Sel != nil {
			i = int(b.Sel[k])
		}
		row := p.rows[k]
		for j := range p.l.leaves {
			row[j] = p.l.leaves[j].value(b, i)
		}
	}
	_, err := p.w.WriteRows(p.rows[:n])
	return err
}

// parquetValue is row i of v (not NULL) as a Parquet value.
func parquetValue(v coldata.Vector, i int) parquet.Value {
	switch c := v.(type) {
	case *coldata.Vec[bool]:
		return parquet.BooleanValue(c.Vals[i])
	case *coldata.Vec[int8]:
		return parquet.Int32Value(int32(c.Vals[i]))
	case *coldata.Vec[int16]:
		return parquet.Int32Value(int32(c.Vals[i]))
	case *coldata.Vec[int32]:
		return parquet.Int32Value(c.Vals[i])
	case *coldata.Vec[int64]:
		return parquet.Int64Value(c.Vals[i])
	case *coldata.Vec[uint8]:
		return parquet.Int32Value(int32(c.Vals[i]))
	case *coldata.Vec[uint16]:
		return parquet.Int32Value(int32(c.Vals[i]))
	case *coldata.Vec[uint32]:
		return parquet.Int32Value(int32(c.Vals[i]))
	case *coldata.Vec[uint64]:
		return parquet.Int64Value(int64(c.Vals[i]))
	case *coldata.Vec[float32]:
		return parquet.FloatValue(c.Vals[i])
	case *coldata.Vec[float64]:
		return parquet.DoubleValue(c.Vals[i])
	case *coldata.Bytes:
		return parquet.ByteArrayValue(c.Get(i))
	case *coldata.Vec[coldata.Int128]:
		// Big-endian two's complement, as Parquet's DECIMAL wants.
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], uint64(c.Vals[i].Hi))
		binary.BigEndian.PutUint64(b[8:], c.Vals[i].Lo)
		return parquet.FixedLenByteArrayValue(b[:])
	}
	return parquet.NullValue()
}

func (p *parquetWriter) size() int64 { return p.w.Size() }

func (p *parquetWriter) close() error {
	if err := p.w.Close(); err != nil {
		p.out.Close()
		return err
	}
	return p.out.Close()
}

func (p *parquetWriter) abort() { p.out.Close() }
