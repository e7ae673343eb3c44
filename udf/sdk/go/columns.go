package sdk

import (
	"time"
	"unsafe"
)

// col decodes one argument's column into a []A, reusing its buffers from
// batch to batch. Fixed-width values of a plain type are not copied: the
// slice views the input buffer.
type col[A any] struct {
	k     kind
	vals  []A
	strs  []string
	bytes [][]byte
	times []time.Time
}

func newCol[A any](fn, what string) *col[A] { return &col[A]{k: kindOf[A](fn, what)} }

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

func bitmap(addr uint32, n int) []byte {
	if addr == 0 || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(ptr(addr)), (n+7)/8)
}

// read decodes n values of the column d.
func (c *col[A]) read(d argDesc, n int) []A {
	if n == 0 {
		return nil
	}
	nulls := bitmap(d.nulls, n)
	var zero A
	switch c.k.base {
	case kString, kJSON, kBytes:
		offs := unsafe.Slice((*uint32)(ptr(d.offsets)), n+1)
		if c.k.base == kBytes {
			c.bytes = grow(c.bytes, n)
			for i := range n {
				c.bytes[i] = unsafe.Slice((*byte)(ptr(d.values+offs[i])), offs[i+1]-offs[i])
			}
			if !c.k.nullable {
				return unsafe.Slice((*A)(unsafe.Pointer(unsafe.SliceData(c.bytes))), n)
			}
			c.vals = grow(c.vals, n)
			for i := range n {
				if isNull(nulls, i) {
					c.vals[i] = zero
				} else {
					p := unsafe.Pointer(&c.bytes[i])
					c.vals[i] = *(*A)(unsafe.Pointer(&p))
				}
			}
			return c.vals
		}
		c.strs = grow(c.strs, n)
		strs := c.strs
		i := 0
		for ; i+4 <= n; i += 4 { // unrolled: see apply1
			strs[i] = unsafe.String((*byte)(ptr(d.values+offs[i])), offs[i+1]-offs[i])
			strs[i+1] = unsafe.String((*byte)(ptr(d.values+offs[i+1])), offs[i+2]-offs[i+1])
			strs[i+2] = unsafe.String((*byte)(ptr(d.values+offs[i+2])), offs[i+3]-offs[i+2])
			strs[i+3] = unsafe.String((*byte)(ptr(d.values+offs[i+3])), offs[i+4]-offs[i+3])
		}
		for ; i < n; i++ {
			strs[i] = unsafe.String((*byte)(ptr(d.values+offs[i])), offs[i+1]-offs[i])
		}
		if !c.k.nullable {
			return unsafe.Slice((*A)(unsafe.Pointer(unsafe.SliceData(c.strs))), n)
		}
		c.vals = grow(c.vals, n)
		for i := range n {
			if isNull(nulls, i) {
				c.vals[i] = zero
			} else {
				p := unsafe.Pointer(&c.strs[i])
				c.vals[i] = *(*A)(unsafe.Pointer(&p))
			}
		}
		return c.vals
	case kTime:
		ns := unsafe.Slice((*int64)(ptr(d.values)), n)
		c.times = grow(c.times, n)
		for i, v := range ns {
			c.times[i] = time.Unix(0, v).UTC()
		}
		if !c.k.nullable {
			return unsafe.Slice((*A)(unsafe.Pointer(unsafe.SliceData(c.times))), n)
		}
		c.vals = grow(c.vals, n)
		for i := range n {
			if isNull(nulls, i) {
				c.vals[i] = zero
			} else {
				p := unsafe.Pointer(&c.times[i])
				c.vals[i] = *(*A)(unsafe.Pointer(&p))
			}
		}
		return c.vals
	}
	if !c.k.nullable {
		return unsafe.Slice((*A)(ptr(d.values)), n)
	}
	w := uintptr(c.k.width())
	c.vals = grow(c.vals, n)
	for i := range n {
		if isNull(nulls, i) {
			c.vals[i] = zero
		} else {
			p := unsafe.Pointer(uintptr(d.values) + uintptr(i)*w)
			c.vals[i] = *(*A)(unsafe.Pointer(&p))
		}
	}
	return c.vals
}

// lists returns the n+1 list offsets of an aggregate's argument.
func lists(d argDesc, n int) []uint32 { return unsafe.Slice((*uint32)(ptr(d.lists)), n+1) }

// res collects a result column of type R and encodes it for the host.
type res[R any] struct {
	k       kind
	vals    []R
	nulls   []byte
	anyNull bool
	fixed   []uint64
	offs    []uint32
	data    []byte
}

func newRes[R any](fn string) *res[R] { return &res[R]{k: kindOf[R](fn, "result")} }

// decl is the result as the manifest declares it: nullable when R is a
// pointer or the function reports NULL with a bool.
func (r *res[R]) decl(ok bool) kind {
	k := r.k
	k.nullable = k.nullable || ok
	return k
}

// begin returns the buffer for n results. Bytes-like results are not
// stored there but encoded as they come (put), so a function may return a
// string or slice that it reuses for the next row.
func (r *res[R]) begin(n int) []R {
	r.nulls = grow(r.nulls, (n+7)/8)
	clear(r.nulls)
	r.anyNull = false
	if r.bytesLike() {
		r.offs = grow(r.offs, n+1)
		r.offs[0] = 0
		r.data = r.data[:0]
		return nil
	}
	r.vals = grow(r.vals, n)
	return r.vals
}

func (r *res[R]) bytesLike() bool {
	return r.k.base == kString || r.k.base == kJSON || r.k.base == kBytes
}

// put encodes result i of a bytes-like type (results come in order).
func (r *res[R]) put(i int, v R) {
	p := unsafe.Pointer(&v)
	if r.k.nullable {
		p = *(*unsafe.Pointer)(p)
		if p == nil {
			r.putNull(i)
			return
		}
	}
	var s string
	if r.k.base == kBytes {
		b := *(*[]byte)(p)
		s = unsafe.String(unsafe.SliceData(b), len(b))
	} else {
		s = *(*string)(p)
	}
	// copy, not a byte loop: Go's memmove is one memory.copy, while every
	// iteration of a Go loop in WebAssembly goes through a dispatch.
	r.data = append(r.data, s...)
	r.offs[i+1] = uint32(len(r.data))
}

// putNull makes result i of a bytes-like type NULL.
func (r *res[R]) putNull(i int) {
	r.setNull(i)
	r.offs[i+1] = uint32(len(r.data))
}

func (r *res[R]) setNull(i int) {
	r.nulls[i>>3] |= 1 << (uint(i) & 7)
	r.anyNull = true
}

// store sets result i: a fixed-width one in the buffer begin returned,
// a bytes-like one encoded at once; ok false makes it NULL.
func (r *res[R]) store(out []R, i int, v R, ok bool) {
	if out == nil {
		if ok {
			r.put(i, v)
		} else {
			r.putNull(i)
		}
		return
	}
	out[i] = v
	if !ok {
		r.setNull(i)
	}
}

// finish encodes the n results and returns the descriptor.
func (r *res[R]) finish(n int) *output {
	outDesc = output{}
	outDesc[1] = uint32(n)
	if n == 0 {
		return &outDesc
	}
	switch r.k.base {
	case kString, kJSON, kBytes:
		if len(r.data) == 0 {
			r.data = append(r.data, 0)[:0]
		}
		outDesc[3] = addrOf(unsafe.SliceData(r.data))
		outDesc[4] = addrOf(&r.offs[0])
	case kTime:
		r.fixed = grow(r.fixed, n)
		for i := range n {
			p := unsafe.Pointer(&r.vals[i])
			if r.k.nullable {
				p = *(*unsafe.Pointer)(p)
				if p == nil {
					r.setNull(i)
					continue
				}
			}
			r.fixed[i] = uint64((*time.Time)(p).UnixNano())
		}
		outDesc[3] = addrOf(&r.fixed[0])
	default:
		if !r.k.nullable {
			outDesc[3] = uint32(uintptr(unsafe.Pointer(&r.vals[0])))
			break
		}
		w := r.k.width()
		r.fixed = grow(r.fixed, (n*w+7)/8)
		dst := unsafe.Slice((*byte)(unsafe.Pointer(&r.fixed[0])), n*w)
		for i := range n {
			p := *(*unsafe.Pointer)(unsafe.Pointer(&r.vals[i]))
			if p == nil {
				r.setNull(i)
				continue
			}
			copy(dst[i*w:(i+1)*w], unsafe.Slice((*byte)(p), w))
		}
		outDesc[3] = addrOf(&r.fixed[0])
	}
	if r.anyNull {
		outDesc[2] = addrOf(&r.nulls[0])
	}
	return &outDesc
}
