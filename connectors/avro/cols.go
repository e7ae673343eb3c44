package avro

import (
	"fmt"
	"slices"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// col is one column (or struct field, or list element) of the reader: its
// SQL type and the builder the rows decoded since the last Flush go to.
// Plans (one per writer schema) point at cols, so every writer schema fills
// the same builders.
type col struct {
	typ      types.Type
	kind     types.Kind
	nullable bool
	name     string
	path     string // dotted path, for errors

	// The builder: exactly one typed pointer is set, and vec is the same
	// vector as a coldata.Vector.
	vec  coldata.Vector
	vb   *coldata.Vec[bool]
	vi8  *coldata.Vec[int8]
	vi16 *coldata.Vec[int16]
	vi32 *coldata.Vec[int32] // INT, DATE
	vi64 *coldata.Vec[int64] // BIGINT, TIMESTAMP, TIME, INTERVAL
	vu8  *coldata.Vec[uint8]
	vu16 *coldata.Vec[uint16]
	vu32 *coldata.Vec[uint32]
	vu64 *coldata.Vec[uint64]
	vf32 *coldata.Vec[float32]
	vf64 *coldata.Vec[float64]
	vdec *coldata.Vec[coldata.Int128]
	vby  *coldata.Bytes // TEXT, BYTEA, JSON
	vst  *coldata.Struct
	vli  *coldata.List

	fields []*col // struct
	elem   *col   // list
	// pend (structs) counts trailing NULL rows not yet appended to the
	// fields: coldata wants a NULL struct row to have a row in every
	// field, and appending those one by one costs more than the rest of a
	// Nexmark bid (two NULL structs of 8 and 10 fields per record), so
	// they are appended in bulk before the next non-NULL row, or at Flush.
	pend int

	// Sizes at the last flush, to size the next builders.
	lastRows, lastData int
}

func newCol(t types.Type, name, path string, nullable bool) (*col, error) {
	c := &col{typ: t, kind: t.Kind, nullable: nullable, name: name, path: path}
	switch t.Kind {
	case types.Bool, types.Int8, types.Int16, types.Int32, types.Int64, types.UInt8, types.UInt16,
		types.UInt32, types.UInt64, types.Float32, types.Float64, types.String, types.Bytes, types.JSON,
		types.Timestamp, types.Date, types.Time, types.Interval, types.Decimal:
	case types.Struct:
		for _, f := range t.Fields {
			p := f.Name
			if path != "" {
				p = path + "." + f.Name
			}
			fc, err := newCol(f.Type, f.Name, p, f.Nullable)
			if err != nil {
				return nil, err
			}
			c.fields = append(c.fields, fc)
		}
	case types.List:
		e, err := newCol(*t.Elem, "", path+"[]", true)
		if err != nil {
			return nil, err
		}
		c.elem = e
	default:
		return nil, fmt.Errorf("avro: column '%s': type %s cannot be read from Avro", path, t)
	}
	return c, nil
}

// vbyKind reports whether c's builder is a bytes vector.
func (c *col) vbyKind() bool {
	return c.kind == types.String || c.kind == types.Bytes || c.kind == types.JSON
}

// fresh gives c a new, empty builder sized like the last batch.
func (c *col) fresh() {
	n := c.lastRows + c.lastRows/8
	switch c.kind {
	case types.Bool:
		c.vb = &coldata.Vec[bool]{T: c.typ, Vals: make([]bool, 0, n)}
		c.vec = c.vb
	case types.Int8:
		c.vi8 = &coldata.Vec[int8]{T: c.typ, Vals: make([]int8, 0, n)}
		c.vec = c.vi8
	case types.Int16:
		c.vi16 = &coldata.Vec[int16]{T: c.typ, Vals: make([]int16, 0, n)}
		c.vec = c.vi16
	case types.Int32, types.Date:
		c.vi32 = &coldata.Vec[int32]{T: c.typ, Vals: make([]int32, 0, n)}
		c.vec = c.vi32
	case types.Int64, types.Timestamp, types.Time, types.Interval:
		c.vi64 = &coldata.Vec[int64]{T: c.typ, Vals: make([]int64, 0, n)}
		c.vec = c.vi64
	case types.UInt8:
		c.vu8 = &coldata.Vec[uint8]{T: c.typ, Vals: make([]uint8, 0, n)}
		c.vec = c.vu8
	case types.UInt16:
		c.vu16 = &coldata.Vec[uint16]{T: c.typ, Vals: make([]uint16, 0, n)}
		c.vec = c.vu16
	case types.UInt32:
		c.vu32 = &coldata.Vec[uint32]{T: c.typ, Vals: make([]uint32, 0, n)}
		c.vec = c.vu32
	case types.UInt64:
		c.vu64 = &coldata.Vec[uint64]{T: c.typ, Vals: make([]uint64, 0, n)}
		c.vec = c.vu64
	case types.Float32:
		c.vf32 = &coldata.Vec[float32]{T: c.typ, Vals: make([]float32, 0, n)}
		c.vec = c.vf32
	case types.Float64:
		c.vf64 = &coldata.Vec[float64]{T: c.typ, Vals: make([]float64, 0, n)}
		c.vec = c.vf64
	case types.Decimal:
		c.vdec = &coldata.Vec[coldata.Int128]{T: c.typ, Vals: make([]coldata.Int128, 0, n)}
		c.vec = c.vdec
	case types.String, types.Bytes, types.JSON:
		c.vby = coldata.NewBytes(c.typ, n, c.lastData+c.lastData/8)
		c.vec = c.vby
	case types.Struct:
		c.vst = &coldata.Struct{T: c.typ, Fields: make([]coldata.Vector, len(c.fields))}
		for i, f := range c.fields {
			f.lastRows = c.lastRows
			f.fresh()
			c.vst.Fields[i] = f.vec
		}
		c.vec = c.vst
	case types.List:
		c.elem.fresh()
		c.vli = &coldata.List{T: c.typ, Offsets: make([]int32, 1, n+1), Elems: c.elem.vec}
		c.vec = c.vli
	}
}

// remember notes the sizes of the builders about to be handed out.
func (c *col) remember() {
	c.lastRows = c.vec.Len()
	if c.vby != nil {
		c.lastData = len(c.vby.Data)
	}
	for _, f := range c.fields {
		f.remember()
	}
	if c.elem != nil {
		c.elem.remember()
	}
}

// appendNull appends a NULL row; a NULL struct appends NULL to every field
// (coldata's layout).
func (c *col) appendNull() {
	switch c.kind {
	case types.Int64, types.Timestamp, types.Time, types.Interval:
		c.vi64.AppendNull()
	case types.String, types.Bytes, types.JSON:
		c.vby.AppendNull()
	case types.Struct:
		c.vst.N.SetNull(c.vst.Length)
		c.vst.Length++
		c.pend++
	default:
		c.vec.AppendNull()
	}
}

// pad appends struct c's pending NULL rows to its fields.
func (c *col) pad() {
	for _, f := range c.fields {
		f.appendNulls(c.pend)
	}
	c.pend = 0
}

// settle appends the pending NULL rows of every struct under c.
func (c *col) settle() {
	if c.pend > 0 {
		c.pad()
	}
	for _, f := range c.fields {
		f.settle()
	}
	if c.elem != nil {
		c.elem.settle()
	}
}

// appendNulls appends k NULL rows to c's builder.
func (c *col) appendNulls(k int) {
	var from int
	switch v := c.vec.(type) {
	case *coldata.Vec[bool]:
		from, v.Vals = len(v.Vals), appendZeros(v.Vals, k)
	case *coldata.Vec[int8]:
		from, v.Vals = len(v.Vals), appendZeros(v.Vals, k)
	case *coldata.Vec[int16]:
		from, v.Vals = len(v.Vals), appendZeros(v.Vals, k)
	case *coldata.Vec[int32]:
		from, v.Vals = len(v.Vals), appendZeros(v.Vals, k)
	case *coldata.Vec[int64]:
		from, v.Vals = len(v.Vals), appendZeros(v.Vals, k)
	case *coldata.Vec[uint8]:
		from, v.Vals = len(v.Vals), appendZeros(v.Vals, k)
	case *coldata.Vec[uint16]:
		from, v.Vals = len(v.Vals), appendZeros(v.Vals, k)
	case *coldata.Vec[uint32]:
		from, v.Vals = len(v.Vals), appendZeros(v.Vals, k)
	case *coldata.Vec[uint64]:
		from, v.Vals = len(v.Vals), appendZeros(v.Vals, k)
	case *coldata.Vec[float32]:
		from, v.Vals = len(v.Vals), appendZeros(v.Vals, k)
	case *coldata.Vec[float64]:
		from, v.Vals = len(v.Vals), appendZeros(v.Vals, k)
	case *coldata.Vec[coldata.Int128]:
		from, v.Vals = len(v.Vals), appendZeros(v.Vals, k)
	case *coldata.Bytes:
		from = v.Len()
		v.Offsets = appendRepeat(v.Offsets, int32(len(v.Data)), k)
	case *coldata.Struct:
		from = v.Length
		v.Length += k
		c.pend += k
	case *coldata.List:
		from = v.Len()
		v.Offsets = appendRepeat(v.Offsets, v.Offsets[len(v.Offsets)-1], k)
	}
	setNulls(c.vec.Nulls(), from, from+k)
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

// truncate cuts c's builder back to rows rows, whatever a failed decode
// left behind: values, bytes, struct fields, list elements and null bits.
func (c *col) truncate(rows int) {
	switch v := c.vec.(type) {
	case *coldata.Vec[bool]:
		v.Vals = v.Vals[:min(rows, len(v.Vals))]
	case *coldata.Vec[int8]:
		v.Vals = v.Vals[:min(rows, len(v.Vals))]
	case *coldata.Vec[int16]:
		v.Vals = v.Vals[:min(rows, len(v.Vals))]
	case *coldata.Vec[int32]:
		v.Vals = v.Vals[:min(rows, len(v.Vals))]
	case *coldata.Vec[int64]:
		v.Vals = v.Vals[:min(rows, len(v.Vals))]
	case *coldata.Vec[uint8]:
		v.Vals = v.Vals[:min(rows, len(v.Vals))]
	case *coldata.Vec[uint16]:
		v.Vals = v.Vals[:min(rows, len(v.Vals))]
	case *coldata.Vec[uint32]:
		v.Vals = v.Vals[:min(rows, len(v.Vals))]
	case *coldata.Vec[uint64]:
		v.Vals = v.Vals[:min(rows, len(v.Vals))]
	case *coldata.Vec[float32]:
		v.Vals = v.Vals[:min(rows, len(v.Vals))]
	case *coldata.Vec[float64]:
		v.Vals = v.Vals[:min(rows, len(v.Vals))]
	case *coldata.Vec[coldata.Int128]:
		v.Vals = v.Vals[:min(rows, len(v.Vals))]
	case *coldata.Bytes:
		if rows < v.Len() {
			v.Offsets = v.Offsets[:rows+1]
		}
		v.Data = v.Data[:v.Offsets[len(v.Offsets)-1]]
	case *coldata.Struct:
		// The fields hold Length-pend rows, plus at most one partial row
		// if a record failed inside this struct (it had no pending rows
		// then).
		keep := min(rows, v.Length-c.pend)
		for _, f := range c.fields {
			f.truncate(keep)
		}
		v.Length = min(v.Length, rows)
		c.pend = v.Length - keep
	case *coldata.List:
		if rows < v.Len() {
			v.Offsets = v.Offsets[:rows+1]
		}
		c.elem.truncate(int(v.Offsets[len(v.Offsets)-1]))
	}
	truncateNulls(c.vec.Nulls(), rows)
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
