package coldata

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/arroyogo/arroyo/engine/memory"
	"github.com/arroyogo/arroyo/engine/types"
)

// Allocator allocates vectors and charges their bytes to a memory account.
// Operators and kernels allocate every vector through the allocator of
// their task (engine/alloc_test.go enforces it); a nil *Allocator allocates
// without accounting (the planner, tests).
//
// Accounting: each vector's buffers are charged once when allocated and one
// runtime cleanup per vector (never per row) releases the charge when the
// garbage collector reclaims its main buffer (the values, or a bytes
// vector's offsets). So an account's Used is the live bytes its owner
// allocated, wherever the vectors went since (emitted batches, state). The
// charge is the buffers' capacity at allocation: a builder that appends past
// it (a bytes vector's data growing) holds more than it is charged for.
//
// A scratch allocator (NewScratch) instead recycles its vectors: after
// Recycle, every vector it handed out since the previous Recycle, except
// those the kept vectors share memory with, is reused by the next
// allocations. It serves expression temporaries (engine/expr) and must not
// allocate anything that outlives a Recycle.
//
// An Allocator is used by one goroutine at a time.
type Allocator struct {
	acct *memory.Account
	pool *pool
}

// NewAllocator returns an allocator charging acct (nil: no accounting).
func NewAllocator(acct *memory.Account) *Allocator { return &Allocator{acct: acct} }

// NewScratch returns a scratch allocator charging acct (nil: no
// accounting) for the vectors it keeps for reuse.
func NewScratch(acct *memory.Account) *Allocator {
	return &Allocator{acct: acct, pool: &pool{}}
}

// Account returns the account a charges (nil for a nil allocator).
func (a *Allocator) Account() *memory.Account {
	if a == nil {
		return nil
	}
	return a.acct
}

// Scratch reports whether a recycles its vectors (NewScratch).
func (a *Allocator) Scratch() bool { return a != nil && a.pool != nil }

type release struct {
	acct *memory.Account
	n    int64
}

func (r release) do() { r.acct.Shrink(r.n) }

// charge charges bytes to a's account, released when the array s points
// into is collected.
func charge[T any](a *Allocator, s []T, bytes int64) {
	if a == nil || a.acct == nil || cap(s) == 0 || bytes <= 0 {
		return
	}
	a.acct.Grow(bytes)
	runtime.AddCleanup(&s[:1][0], release.do, release{a.acct, bytes})
}

func sizeOf[T any]() int64 {
	var z T
	return int64(unsafe.Sizeof(z))
}

// AllocVec returns a vector of type t holding n zero values, no nulls.
func AllocVec[T Fixed](a *Allocator, t types.Type, n int) *Vec[T] {
	if a.Scratch() {
		if v := scratchVec[T](a, n); v != nil {
			v.T = t
			return v
		}
	}
	v := &Vec[T]{T: t, Vals: make([]T, n)}
	charge(a, v.Vals, int64(cap(v.Vals))*sizeOf[T]())
	if a.Scratch() {
		a.pool.add(v, v.Vals)
	}
	return v
}

// VecOf returns a vector of type t over vals, which the caller gives up
// (built before it became a vector), charging them to a's account.
func VecOf[T Fixed](a *Allocator, t types.Type, vals []T) *Vec[T] {
	charge(a, vals, int64(cap(vals))*sizeOf[T]())
	return &Vec[T]{T: t, Vals: vals}
}

// AllocVecCap returns an empty vector of type t with room for n values.
func AllocVecCap[T Fixed](a *Allocator, t types.Type, n int) *Vec[T] {
	v := AllocVec[T](a, t, n)
	v.Vals = v.Vals[:0]
	return v
}

// Bytes returns an empty bytes vector of type t with room for n rows and
// dataCap bytes, as NewBytes.
func (a *Allocator) Bytes(t types.Type, n, dataCap int) *Bytes {
	v := a.BytesRows(t, n, dataCap)
	v.Offsets = v.Offsets[:1]
	return v
}

// BytesRows returns a bytes vector of type t whose n+1 offsets are zero
// (n empty rows, for kernels that write Offsets[i+1] by index) and whose
// data is empty with room for dataCap bytes.
func (a *Allocator) BytesRows(t types.Type, n, dataCap int) *Bytes {
	if a.Scratch() {
		if v := scratchBytes(a, n, dataCap); v != nil {
			v.T = t
			return v
		}
	}
	v := &Bytes{T: t, Offsets: make([]int32, n+1), Data: make([]byte, 0, dataCap)}
	charge(a, v.Offsets, int64(cap(v.Offsets))*4+int64(cap(v.Data)))
	if a.Scratch() {
		a.pool.add(v, v.Offsets)
	}
	return v
}

// List returns a list vector of type t over elems whose n+1 offsets are
// zero (n empty rows, written by index).
func (a *Allocator) List(t types.Type, n int, elems Vector) *List {
	v := &List{T: t, Offsets: make([]int32, n+1), Elems: elems}
	charge(a, v.Offsets, int64(cap(v.Offsets))*4)
	return v
}

// Struct returns a struct vector of type t over fields, n rows long. It
// allocates no buffers (the fields are vectors already), so it charges
// nothing.
func (a *Allocator) Struct(t types.Type, fields []Vector, n int) *Struct {
	return &Struct{T: t, Fields: fields, Length: n}
}

// New returns an empty vector of type t with room for n rows.
func (a *Allocator) New(t types.Type, n int) Vector {
	switch t.Kind {
	case types.Bool, types.Null:
		// NULL-typed columns only ever hold NULLs; store them as booleans.
		return AllocVecCap[bool](a, t, n)
	case types.Int8:
		return AllocVecCap[int8](a, t, n)
	case types.Int16:
		return AllocVecCap[int16](a, t, n)
	case types.Int32, types.Date:
		return AllocVecCap[int32](a, t, n)
	case types.Int64, types.Timestamp, types.Interval, types.Time:
		return AllocVecCap[int64](a, t, n)
	case types.UInt8:
		return AllocVecCap[uint8](a, t, n)
	case types.UInt16:
		return AllocVecCap[uint16](a, t, n)
	case types.UInt32:
		return AllocVecCap[uint32](a, t, n)
	case types.UInt64:
		return AllocVecCap[uint64](a, t, n)
	case types.Float32:
		return AllocVecCap[float32](a, t, n)
	case types.Float64:
		return AllocVecCap[float64](a, t, n)
	case types.Decimal:
		return AllocVecCap[Int128](a, t, n)
	case types.String, types.Bytes, types.JSON:
		return a.Bytes(t, n, n*16)
	case types.Struct:
		s := &Struct{T: t, Fields: make([]Vector, len(t.Fields))}
		for i, f := range t.Fields {
			s.Fields[i] = a.New(f.Type, n)
		}
		return s
	case types.List:
		l := a.List(t, n, a.New(*t.Elem, n))
		l.Offsets = l.Offsets[:1]
		return l
	}
	panic(fmt.Sprintf("coldata.New: unsupported type %v", t))
}

// Nulls returns a vector of type t holding n NULLs.
func (a *Allocator) Nulls(t types.Type, n int) Vector {
	v := a.New(t, n)
	for i := 0; i < n; i++ {
		v.AppendNull()
	}
	return v
}

// Sel returns a selection vector with room for n rows (length 0). It is
// not pooled by a scratch allocator: selections end up in batches.
func (a *Allocator) Sel(n int) []int32 {
	s := make([]int32, 0, n)
	if a != nil && a.pool == nil {
		charge(a, s, int64(cap(s))*4)
	}
	return s
}

// Retype returns a vector sharing v's rows and nulls under type t (a cast
// between types with the same physical layout). It allocates no buffers.
func Retype(v Vector, t types.Type) Vector {
	switch v := v.(type) {
	case *Vec[bool]:
		return &Vec[bool]{T: t, Vals: v.Vals, N: v.N}
	case *Vec[int8]:
		return &Vec[int8]{T: t, Vals: v.Vals, N: v.N}
	case *Vec[int16]:
		return &Vec[int16]{T: t, Vals: v.Vals, N: v.N}
	case *Vec[int32]:
		return &Vec[int32]{T: t, Vals: v.Vals, N: v.N}
	case *Vec[int64]:
		return &Vec[int64]{T: t, Vals: v.Vals, N: v.N}
	case *Vec[uint8]:
		return &Vec[uint8]{T: t, Vals: v.Vals, N: v.N}
	case *Vec[uint16]:
		return &Vec[uint16]{T: t, Vals: v.Vals, N: v.N}
	case *Vec[uint32]:
		return &Vec[uint32]{T: t, Vals: v.Vals, N: v.N}
	case *Vec[uint64]:
		return &Vec[uint64]{T: t, Vals: v.Vals, N: v.N}
	case *Vec[float32]:
		return &Vec[float32]{T: t, Vals: v.Vals, N: v.N}
	case *Vec[float64]:
		return &Vec[float64]{T: t, Vals: v.Vals, N: v.N}
	case *Vec[Int128]:
		return &Vec[Int128]{T: t, Vals: v.Vals, N: v.N}
	case *Bytes:
		return &Bytes{T: t, Offsets: v.Offsets, Data: v.Data, N: v.N}
	case *Struct:
		return &Struct{T: t, Fields: v.Fields, Length: v.Length, N: v.N}
	case *List:
		return &List{T: t, Offsets: v.Offsets, Elems: v.Elems, N: v.N}
	}
	panic(fmt.Sprintf("coldata.Retype: unsupported vector %T", v))
}

// RetypeVec is Retype for a fixed-width vector whose Go type is known.
func RetypeVec[T Fixed](v *Vec[T], t types.Type) *Vec[T] {
	return &Vec[T]{T: t, Vals: v.Vals, N: v.N}
}

// pool is a scratch allocator's vectors: those handed out since the last
// Recycle (used) and those free for reuse. Each entry remembers the buffers
// it was created with, so whatever a kernel did to the vector's fields, a
// reuse starts from the pool's own memory, never from a buffer the kernel
// borrowed from an input.
type pool struct {
	used, free []entry
}

type entry struct {
	v Vector
	// buf is the main buffer (values or offsets); data a bytes vector's.
	buf  unsafe.Pointer
	size uintptr
	vals any
	data []byte
}

func (p *pool) add(v Vector, vals any) {
	e := entry{v: v, vals: vals}
	switch v := v.(type) {
	case *Bytes:
		e.data = v.Data
	}
	e.buf, e.size = bufOf(vals)
	p.used = append(p.used, e)
}

func bufOf(vals any) (unsafe.Pointer, uintptr) {
	switch s := vals.(type) {
	case []bool:
		return span(s)
	case []int8:
		return span(s)
	case []int16:
		return span(s)
	case []int32:
		return span(s)
	case []int64:
		return span(s)
	case []uint8:
		return span(s)
	case []uint16:
		return span(s)
	case []uint32:
		return span(s)
	case []uint64:
		return span(s)
	case []float32:
		return span(s)
	case []float64:
		return span(s)
	case []Int128:
		return span(s)
	}
	return nil, 0
}

func span[T any](s []T) (unsafe.Pointer, uintptr) {
	return unsafe.Pointer(unsafe.SliceData(s)), uintptr(cap(s)) * unsafe.Sizeof(*new(T))
}

// scratchVec reuses the first free fixed vector of Go type T, growing its
// buffer when it is too small, or returns nil when there is none.
func scratchVec[T Fixed](a *Allocator, n int) *Vec[T] {
	p := a.pool
	for i, e := range p.free {
		v, ok := e.v.(*Vec[T])
		if !ok {
			continue
		}
		vals := e.vals.([]T)
		if cap(vals) < n {
			vals = make([]T, n)
			charge(a, vals, int64(cap(vals))*sizeOf[T]())
			p.free[i].vals = vals
			p.free[i].buf, p.free[i].size = span(vals)
		}
		p.take(i)
		vals = vals[:n]
		clear(vals)
		*v = Vec[T]{Vals: vals}
		return v
	}
	return nil
}

// scratchBytes is scratchVec for bytes vectors.
func scratchBytes(a *Allocator, n, dataCap int) *Bytes {
	p := a.pool
	for i, e := range p.free {
		v, ok := e.v.(*Bytes)
		if !ok {
			continue
		}
		offs := e.vals.([]int32)
		if cap(offs) < n+1 || cap(e.data) < dataCap {
			if cap(offs) < n+1 {
				offs = make([]int32, n+1)
				charge(a, offs, int64(cap(offs))*4)
				p.free[i].vals = offs
				p.free[i].buf, p.free[i].size = span(offs)
			}
			if cap(e.data) < dataCap {
				data := make([]byte, 0, dataCap)
				charge(a, data, int64(cap(data)))
				p.free[i].data = data
			}
		}
		p.take(i)
		offs = offs[:n+1]
		clear(offs)
		*v = Bytes{Offsets: offs, Data: p.used[len(p.used)-1].data[:0]}
		return v
	}
	return nil
}

// take moves free entry i to used.
func (p *pool) take(i int) {
	e := p.free[i]
	last := len(p.free) - 1
	p.free[i] = p.free[last]
	p.free[last] = entry{}
	p.free = p.free[:last]
	p.used = append(p.used, e)
}

// Recycle makes every vector a scratch allocator handed out since the
// previous Recycle free for reuse, except those that share memory with a
// kept vector (the same vector, a buffer of it, or one of its fields' or
// elements', at any depth): those are dropped from the pool, and belong to
// whoever holds the kept vector. It does nothing on other allocators.
func (a *Allocator) Recycle(keep ...Vector) {
	if !a.Scratch() {
		return
	}
	p := a.pool
	for i, e := range p.used {
		shared := false
		for _, k := range keep {
			if k != nil && shares(k, &e) {
				shared = true
				break
			}
		}
		if !shared {
			p.free = append(p.free, e)
		}
		p.used[i] = entry{}
	}
	p.used = p.used[:0]
}

// Pooled returns the number of vectors a scratch allocator holds (handed
// out and free), for tests.
func (a *Allocator) Pooled() int {
	if !a.Scratch() {
		return 0
	}
	return len(a.pool.used) + len(a.pool.free)
}

// shares reports whether v is e's vector or holds memory overlapping e's
// buffers. Null bitmaps need no check: a reused vector starts without one.
func shares(v Vector, e *entry) bool {
	if v == e.v {
		return true
	}
	switch v := v.(type) {
	case *Bytes:
		return e.overlaps(span(v.Offsets)) || e.overlaps(span(v.Data))
	case *Struct:
		for _, f := range v.Fields {
			if shares(f, e) {
				return true
			}
		}
		return false
	case *List:
		return e.overlaps(span(v.Offsets)) || shares(v.Elems, e)
	}
	return e.overlaps(vecSpan(v))
}

func vecSpan(v Vector) (unsafe.Pointer, uintptr) {
	switch v := v.(type) {
	case *Vec[bool]:
		return span(v.Vals)
	case *Vec[int8]:
		return span(v.Vals)
	case *Vec[int16]:
		return span(v.Vals)
	case *Vec[int32]:
		return span(v.Vals)
	case *Vec[int64]:
		return span(v.Vals)
	case *Vec[uint8]:
		return span(v.Vals)
	case *Vec[uint16]:
		return span(v.Vals)
	case *Vec[uint32]:
		return span(v.Vals)
	case *Vec[uint64]:
		return span(v.Vals)
	case *Vec[float32]:
		return span(v.Vals)
	case *Vec[float64]:
		return span(v.Vals)
	case *Vec[Int128]:
		return span(v.Vals)
	}
	return nil, 0
}

// overlaps reports whether [p, p+n) overlaps one of e's buffers.
func (e *entry) overlaps(p unsafe.Pointer, n uintptr) bool {
	if rangesOverlap(e.buf, e.size, p, n) {
		return true
	}
	dp, dn := span(e.data)
	return rangesOverlap(dp, dn, p, n)
}

func rangesOverlap(a unsafe.Pointer, an uintptr, b unsafe.Pointer, bn uintptr) bool {
	if a == nil || b == nil || an == 0 || bn == 0 {
		return false
	}
	x, y := uintptr(a), uintptr(b)
	return x < y+bn && y < x+an
}
