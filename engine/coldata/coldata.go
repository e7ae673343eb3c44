// Package coldata holds columnar data: typed vectors with null bitmaps and
// batches of vectors with an optional selection vector.
//
// Physical layout, one per types.Kind:
//
//	Bool                               *Vec[bool]
//	Int8, Int16, Int32, Int64          *Vec[int8], *Vec[int16], *Vec[int32], *Vec[int64]
//	UInt8, UInt16, UInt32, UInt64      *Vec[uint8], *Vec[uint16], *Vec[uint32], *Vec[uint64]
//	Float32, Float64                   *Vec[float32], *Vec[float64]
//	Timestamp, Interval                *Vec[int64] (nanoseconds)
//	Date                               *Vec[int32] (days since 1970-01-01)
//	Time                               *Vec[int64] (nanoseconds since midnight)
//	Decimal                            *Vec[Int128] (the value times 10^scale)
//	String, Bytes, JSON                *Bytes (offsets + one data buffer)
//	Struct                             *Struct (one child vector per field)
//	List                               *List (offsets into one child vector)
//
// Ownership: once a batch has been handed to another operator (emitted), it
// and every vector in it are immutable. Anyone may read and share them;
// nobody may write them. Operators build new vectors for new values and may
// reuse unchanged input vectors in their output by reference. This is the
// Arrow model: it makes fan-out, retention in state and channel hand-off free
// of copies and of ownership bugs, at the cost of one allocation per vector
// per batch (never per row).
//
// Allocation: operators and kernels allocate vectors through their task's
// Allocator, which charges a memory account (engine/memory); the package
// functions New, NewBytes and NewNulls allocate unaccounted, for the
// planner, connectors and tests.
//
// It imports only engine/types and engine/memory.
package coldata

import (
	"math/bits"

	"github.com/arroyogo/arroyo/engine/types"
)

// Nulls is a null bitmap: bit i set means row i is NULL. A nil or short
// bitmap means the missing rows are not null, so vectors without nulls carry
// no bitmap at all.
type Nulls struct {
	bits []uint64
}

// IsNull reports whether row i is NULL.
func (n *Nulls) IsNull(i int) bool {
	w := i >> 6
	return w < len(n.bits) && n.bits[w]&(1<<(uint(i)&63)) != 0
}

// SetNull marks row i as NULL, growing the bitmap as needed.
func (n *Nulls) SetNull(i int) {
	w := i >> 6
	for w >= len(n.bits) {
		n.bits = append(n.bits, 0)
	}
	n.bits[w] |= 1 << (uint(i) & 63)
}

// Any reports whether any row is NULL.
func (n *Nulls) Any() bool {
	for _, w := range n.bits {
		if w != 0 {
			return true
		}
	}
	return false
}

// Count returns the number of NULL rows.
func (n *Nulls) Count() int {
	c := 0
	for _, w := range n.bits {
		c += bits.OnesCount64(w)
	}
	return c
}

// Words exposes the bitmap words for kernels that combine bitmaps
// word-at-a-time. The slice may be shorter than the vector.
func (n *Nulls) Words() []uint64 { return n.bits }

// SetWords replaces the bitmap (the caller gives up w).
func (n *Nulls) SetWords(w []uint64) { n.bits = w }

// Reset clears all nulls.
func (n *Nulls) Reset() { n.bits = n.bits[:0] }

// Vector is a column of values of one type. Concrete vectors are *Vec[T],
// *Bytes, *Struct and *List; code that needs the values type-switches once
// per batch, never per row.
type Vector interface {
	// Type returns the SQL type of the values.
	Type() types.Type
	// Len returns the number of rows.
	Len() int
	// Nulls returns the null bitmap; it may be modified only while the
	// vector is being built.
	Nulls() *Nulls
	// IsNull reports whether row i is NULL.
	IsNull(i int) bool
	// AppendNull appends a NULL row.
	AppendNull()
}

// Fixed is the set of Go types stored in fixed-width vectors.
type Fixed interface {
	~bool | ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64 | Int128
}

// Vec is a vector of fixed-width values. Vals[i] of a NULL row may hold
// anything (kernels compute on it and discard the result); readers must
// check the null bitmap, as they must check Sel.
type Vec[T Fixed] struct {
	T    types.Type
	Vals []T
	N    Nulls
}

func (v *Vec[T]) Type() types.Type  { return v.T }
func (v *Vec[T]) Len() int          { return len(v.Vals) }
func (v *Vec[T]) Nulls() *Nulls     { return &v.N }
func (v *Vec[T]) IsNull(i int) bool { return v.N.IsNull(i) }

// Append appends a non-null value.
func (v *Vec[T]) Append(x T) { v.Vals = append(v.Vals, x) }

// AppendNull appends a NULL row.
func (v *Vec[T]) AppendNull() {
	var zero T
	v.N.SetNull(len(v.Vals))
	v.Vals = append(v.Vals, zero)
}

// Bytes is a vector of variable-length values: row i is
// Data[Offsets[i]:Offsets[i+1]]. Offsets always has Len()+1 entries.
type Bytes struct {
	T       types.Type
	Offsets []int32
	Data    []byte
	N       Nulls
}

// NewBytes returns an empty bytes vector of type t with room for n rows
// and dataCap bytes, unaccounted (see Allocator.Bytes).
func NewBytes(t types.Type, n, dataCap int) *Bytes {
	return (*Allocator)(nil).Bytes(t, n, dataCap)
}

func (v *Bytes) Type() types.Type  { return v.T }
func (v *Bytes) Len() int          { return len(v.Offsets) - 1 }
func (v *Bytes) Nulls() *Nulls     { return &v.N }
func (v *Bytes) IsNull(i int) bool { return v.N.IsNull(i) }

// Get returns row i. The slice aliases the vector's buffer: do not modify or
// retain it beyond the vector's lifetime without copying.
func (v *Bytes) Get(i int) []byte { return v.Data[v.Offsets[i]:v.Offsets[i+1]] }

// GetString returns row i as a string (a copy).
func (v *Bytes) GetString(i int) string { return string(v.Data[v.Offsets[i]:v.Offsets[i+1]]) }

// Append appends a non-null value.
func (v *Bytes) Append(b []byte) {
	v.Data = append(v.Data, b...)
	v.Offsets = append(v.Offsets, int32(len(v.Data)))
}

// AppendString appends a non-null value.
func (v *Bytes) AppendString(s string) {
	v.Data = append(v.Data, s...)
	v.Offsets = append(v.Offsets, int32(len(v.Data)))
}

// AppendNull appends a NULL row.
func (v *Bytes) AppendNull() {
	v.N.SetNull(v.Len())
	v.Offsets = append(v.Offsets, int32(len(v.Data)))
}

// Struct is a vector of structs: row i is the i-th row of every field
// vector. A NULL struct row still has (ignored) rows in every field.
type Struct struct {
	T      types.Type
	Fields []Vector
	Length int
	N      Nulls
}

func (v *Struct) Type() types.Type  { return v.T }
func (v *Struct) Len() int          { return v.Length }
func (v *Struct) Nulls() *Nulls     { return &v.N }
func (v *Struct) IsNull(i int) bool { return v.N.IsNull(i) }

// AppendRow records that one row has been appended to every field vector.
func (v *Struct) AppendRow() { v.Length++ }

// AppendNull appends a NULL struct, appending NULL to every field.
func (v *Struct) AppendNull() {
	for _, f := range v.Fields {
		f.AppendNull()
	}
	v.N.SetNull(v.Length)
	v.Length++
}

// List is a vector of lists: row i is Elems rows Offsets[i]..Offsets[i+1].
type List struct {
	T       types.Type
	Offsets []int32
	Elems   Vector
	N       Nulls
}

func (v *List) Type() types.Type  { return v.T }
func (v *List) Len() int          { return len(v.Offsets) - 1 }
func (v *List) Nulls() *Nulls     { return &v.N }
func (v *List) IsNull(i int) bool { return v.N.IsNull(i) }

// CloseRow records that the elements appended to Elems since the previous
// row form one list row.
func (v *List) CloseRow() { v.Offsets = append(v.Offsets, int32(v.Elems.Len())) }

// AppendNull appends a NULL list.
func (v *List) AppendNull() {
	v.N.SetNull(v.Len())
	v.Offsets = append(v.Offsets, int32(v.Elems.Len()))
}

// New returns an empty vector of type t with capacity for n rows,
// unaccounted (see Allocator.New).
func New(t types.Type, n int) Vector { return (*Allocator)(nil).New(t, n) }

// NewNulls returns a vector of type t holding n NULLs, unaccounted (see
// Allocator.Nulls).
func NewNulls(t types.Type, n int) Vector { return (*Allocator)(nil).Nulls(t, n) }

// Batch is a set of equal-length vectors. If Sel is non-nil, only the rows
// it lists (ascending, no duplicates) are part of the batch; the others are
// present physically but logically deleted. Filters set Sel instead of
// copying; Compact removes the deleted rows.
type Batch struct {
	Cols []Vector
	// Len is the physical number of rows in every vector.
	Len int
	Sel []int32
}

// NewBatch returns a batch of the given vectors, which must all have the
// same length.
func NewBatch(cols []Vector, n int) *Batch { return &Batch{Cols: cols, Len: n} }

// Rows returns the logical number of rows.
func (b *Batch) Rows() int {
	if b.Sel != nil {
		return len(b.Sel)
	}
	return b.Len
}

// Compact returns a batch without a selection vector holding the same
// logical rows: b itself if it has no Sel, else a gathered copy.
func (b *Batch) Compact() *Batch { return b.CompactWith(nil) }

// CompactWith is Compact allocating the copy through a.
func (b *Batch) CompactWith(a *Allocator) *Batch {
	if b.Sel == nil {
		return b
	}
	cols := make([]Vector, len(b.Cols))
	for i, c := range b.Cols {
		cols[i] = a.Gather(c, b.Sel)
	}
	return &Batch{Cols: cols, Len: len(b.Sel)}
}

// SparseBelow is when a selection is sparse: it keeps fewer than
// 1/SparseBelow of the batch's physical rows. Dense kernels compute every
// physical row, so past this point gathering the selected rows (Compact)
// costs less than computing the deleted ones (docs/RATIONALE.md, "A shuffle
// compacts sparse selections", has the measurements).
const SparseBelow = 3

// Sparse reports whether b has a sparse selection (see SparseBelow).
func (b *Batch) Sparse() bool { return b.Sel != nil && len(b.Sel)*SparseBelow < b.Len }

// Project returns a batch sharing b's rows and selection with the columns
// reordered as idx says.
func (b *Batch) Project(idx []int) *Batch {
	cols := make([]Vector, len(idx))
	for i, j := range idx {
		cols[i] = b.Cols[j]
	}
	return &Batch{Cols: cols, Len: b.Len, Sel: b.Sel}
}

// ForEach calls f with the physical index of every logical row in order.
func (b *Batch) ForEach(f func(i int)) {
	if b.Sel != nil {
		for _, i := range b.Sel {
			f(int(i))
		}
		return
	}
	for i := 0; i < b.Len; i++ {
		f(i)
	}
}
