package sdk

import "unsafe"

// The column code is not generic: a Go type's values are read and written
// through its layout, which its kind fixes (a plain fixed-width type is
// its values; string, JSON and []byte start with a data pointer and a
// length; a pointer type is a pointer). Generic code instantiated per
// registration is only the row loops (api.go): a Go module's code is
// what a cached load spends its time validating (docs/RATIONALE.md, "Go
// UDFs: ...").

// column decodes one argument's column, reusing its buffers from batch to
// batch.
type column struct {
	k     kind
	strs  []string
	bytes [][]byte
	ptrs  []unsafe.Pointer
}

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

// read decodes n > 0 values of the column d and returns the address of
// the first, laid out as the column's Go type: fixed-width values of a
// plain type are not copied (the address is in the input buffer).
func (c *column) read(d argDesc, n int) unsafe.Pointer {
	var elem unsafe.Pointer // the first value, plain
	var size uintptr        // the distance between values
	switch c.k.base {
	case kString, kJSON:
		offs := unsafe.Slice((*uint32)(ptr(d.offsets)), n+1)
		c.strs = grow(c.strs, n)
		strs := c.strs
		for i := range strs {
			strs[i] = unsafe.String((*byte)(ptr(d.values+offs[i])), offs[i+1]-offs[i])
		}
		elem, size = unsafe.Pointer(&strs[0]), unsafe.Sizeof("")
	case kBytes:
		offs := unsafe.Slice((*uint32)(ptr(d.offsets)), n+1)
		c.bytes = grow(c.bytes, n)
		bs := c.bytes
		for i := range bs {
			bs[i] = unsafe.Slice((*byte)(ptr(d.values+offs[i])), offs[i+1]-offs[i])
		}
		elem, size = unsafe.Pointer(&bs[0]), unsafe.Sizeof([]byte(nil))
	default:
		elem, size = ptr(d.values), uintptr(c.k.width())
	}
	if !c.k.nullable {
		return elem
	}
	// A pointer type: a pointer to each value, nil for NULL.
	nulls := bitmap(d.nulls, n)
	c.ptrs = grow(c.ptrs, n)
	for i := range c.ptrs {
		if isNull(nulls, i) {
			c.ptrs[i] = nil
		} else {
			c.ptrs[i] = unsafe.Add(elem, uintptr(i)*size)
		}
	}
	return unsafe.Pointer(&c.ptrs[0])
}

// args returns n values of the column d as a []A (A is the column's Go
// type).
func args[A any](c *column, d argDesc, n int) []A {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*A)(c.read(d, n)), n)
}

// lists returns the n+1 list offsets of an aggregate's argument.
func lists(d argDesc, n int) []uint32 { return unsafe.Slice((*uint32)(ptr(d.lists)), n+1) }

// result collects a result column and encodes it for the host.
type result struct {
	k       kind
	nulls   []byte
	anyNull bool
	fixed   []uint64         // fixed-width values, encoded
	ptrs    []unsafe.Pointer // results of a fixed-width pointer type
	offs    []uint32
	data    []byte
}

// decl is the result as the manifest declares it: nullable when its type
// is a pointer or the function reports NULL with a bool.
func (r *result) decl(ok bool) kind {
	k := r.k
	k.nullable = k.nullable || ok
	return k
}

func (r *result) bytesLike() bool {
	return r.k.base == kString || r.k.base == kJSON || r.k.base == kBytes
}

// begin prepares for n results and returns where fixed-width ones go,
// laid out as the result's Go type (nil for bytes-like results, which are
// encoded as they come by put: a function may return a string or slice
// that it reuses for the next row).
func (r *result) begin(n int) unsafe.Pointer {
	r.nulls = grow(r.nulls, (n+7)/8)
	clear(r.nulls)
	r.anyNull = false
	if r.bytesLike() {
		r.offs = grow(r.offs, n+1)
		r.offs[0] = 0
		r.data = r.data[:0]
		return nil
	}
	if n == 0 {
		return nil
	}
	r.fixed = grow(r.fixed, (n*r.k.width()+7)/8)
	if r.k.nullable {
		r.ptrs = grow(r.ptrs, n)
		return unsafe.Pointer(&r.ptrs[0])
	}
	return unsafe.Pointer(&r.fixed[0])
}

// out returns the buffer begin prepared as a []R.
func out[R any](r *result, n int) []R {
	p := r.begin(n)
	if p == nil {
		return nil
	}
	return unsafe.Slice((*R)(p), n)
}

// put encodes bytes-like result i (results come in order) from the value
// at p: a string or a []byte (both start with the data pointer and the
// length), or for a pointer type a pointer to one.
func (r *result) put(i int, p unsafe.Pointer) {
	if r.k.nullable {
		p = *(*unsafe.Pointer)(p)
		if p == nil {
			r.putNull(i)
			return
		}
	}
	// copy, not a byte loop: Go's memmove is one memory.copy, while every
	// iteration of a Go loop in WebAssembly goes through a dispatch.
	r.data = append(r.data, *(*string)(p)...)
	r.offs[i+1] = uint32(len(r.data))
}

// putNull makes bytes-like result i NULL.
func (r *result) putNull(i int) {
	r.setNull(i)
	r.offs[i+1] = uint32(len(r.data))
}

func (r *result) setNull(i int) {
	r.nulls[i>>3] |= 1 << (uint(i) & 7)
	r.anyNull = true
}

// store sets result i to the value at p: a fixed-width one in the buffer
// begin returned (out), a bytes-like one encoded at once; ok false makes
// it NULL.
func store[R any](r *result, out []R, i int, v R, ok bool) {
	if out == nil {
		if ok {
			r.put(i, unsafe.Pointer(&v))
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
func (r *result) finish(n int) *output {
	outDesc = output{}
	outDesc[1] = uint32(n)
	if n == 0 {
		return &outDesc
	}
	if r.bytesLike() {
		if len(r.data) == 0 {
			r.data = append(r.data, 0)[:0]
		}
		outDesc[3] = addrOf(unsafe.SliceData(r.data))
		outDesc[4] = addrOf(&r.offs[0])
	} else {
		if r.k.nullable {
			w := r.k.width()
			dst := unsafe.Slice((*byte)(unsafe.Pointer(&r.fixed[0])), n*w)
			for i, p := range r.ptrs[:n] {
				if p == nil {
					r.setNull(i)
					continue
				}
				copy(dst[i*w:(i+1)*w], unsafe.Slice((*byte)(p), w))
			}
		}
		outDesc[3] = addrOf(&r.fixed[0])
	}
	if r.anyNull {
		outDesc[2] = addrOf(&r.nulls[0])
	}
	return &outDesc
}
