package wasm

import (
	"context"
	"fmt"
	"unicode/utf8"
	"unsafe"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// The call layout (docs/udf-abi.md). The input the host writes at the
// arena: a header of two u32 (rows, arguments) and four u32 per argument
// (nulls, values, offsets, lists: guest addresses, 0 for none), then the
// data blocks, each 8-aligned. The result descriptor the guest returns:
// eight u32.
const (
	headerWords = 2
	argWords    = 4
	resultSize  = 32

	resStatus = 0
	resN      = 1
	resNulls  = 2
	resValues = 3
	resOffs   = 4
	resMsg    = 5
	resMsgLen = 6
)

type result [8]uint32

func align8(n int) int { return (n + 7) &^ 7 }

// argPlan is where one argument's blocks go in the input (offsets from the
// arena start; -1: absent).
type argPlan struct {
	nulls, values, offsets, lists int
}

// layout assigns the blocks of an input; size is the total.
type layout struct {
	size int
}

func (l *layout) block(n int) int {
	off := l.size
	l.size += align8(n)
	return off
}

// putHeader writes the header and the argument table.
func putHeader(buf []byte, base uint32, n int, plans []argPlan) {
	put32(buf, 0, uint32(n))
	put32(buf, 4, uint32(len(plans)))
	addr := func(off int) uint32 {
		if off < 0 {
			return 0
		}
		return base + uint32(off)
	}
	for i, p := range plans {
		at := 4 * (headerWords + argWords*i)
		put32(buf, at, addr(p.nulls))
		put32(buf, at+4, addr(p.values))
		put32(buf, at+8, addr(p.offsets))
		put32(buf, at+12, addr(p.lists))
	}
}

func put32(b []byte, at int, v uint32) {
	_ = b[at+3]
	b[at], b[at+1], b[at+2], b[at+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// slice views len elements of type T at buf[off:], which is 8-aligned in
// guest memory (wasm memory is little-endian, as is every platform Go runs
// wazero's compiler on).
func slice[T any](buf []byte, off, n int) []T {
	if n == 0 {
		return nil
	}
	var zero T
	_ = buf[off+n*int(unsafe.Sizeof(zero))-1]
	return unsafe.Slice((*T)(unsafe.Pointer(&buf[off])), n)
}

// scalarCall is one scalar function bound to an instance: scratch kept
// between batches.
type scalarCall struct {
	sig *Signature
	// al allocates the results (the subtask's allocator; nil:
	// unaccounted).
	al   *coldata.Allocator
	rows []int32
}

// eval computes the function over the live rows of args (sel, or all n).
func (c *scalarCall) eval(ctx context.Context, in *instance, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	sig := c.sig
	if len(args) != len(sig.Args) {
		return nil, fmt.Errorf("udf %s: %d arguments, want %d", sig.Name, len(args), len(sig.Args))
	}
	// The rows the guest computes: the live ones, less those where an
	// argument that is not nullable is NULL (their result is NULL).
	rows := sel
	dropped := false
	for i, a := range args {
		if !sig.Args[i].Nullable && a.Nulls().Any() {
			dropped = true
		}
	}
	if dropped {
		c.rows = c.rows[:0]
		each(n, sel, func(r int) {
			for i, a := range args {
				if !sig.Args[i].Nullable && a.IsNull(r) {
					return
				}
			}
			c.rows = append(c.rows, int32(r))
		})
		rows = c.rows
	}
	m := n
	if rows != nil {
		m = len(rows)
	}
	if m == 0 {
		return c.al.Nulls(sig.Result.Type, n), nil
	}
	// Plan the input.
	var l layout
	l.size = 4 * (headerWords + argWords*len(args))
	plans := make([]argPlan, len(args))
	for i, a := range args {
		p := argPlan{nulls: -1, values: -1, offsets: -1, lists: -1}
		if sig.Args[i].Nullable && a.Nulls().Any() {
			p.nulls = l.block((m + 7) / 8)
		}
		if w := width(sig.Args[i].Type.Kind); w > 0 {
			p.values = l.block(m * w)
		} else {
			b, ok := a.(*coldata.Bytes)
			if !ok {
				return nil, fmt.Errorf("udf %s: argument %d is a %T, want bytes", sig.Name, i+1, a)
			}
			p.offsets = l.block(4 * (m + 1))
			p.values = l.block(bytesLen(b, n, rows))
		}
		plans[i] = p
	}
	if l.size > int(in.m.host.cfg.MemoryLimit) {
		return nil, fmt.Errorf("udf %s: a batch of %d rows needs %s of guest memory, more than the limit of %s (udf.memory_limit)",
			sig.Name, m, sizeText(uint64(l.size)), sizeText(in.m.host.cfg.MemoryLimit))
	}
	buf, err := in.ensureArena(ctx, sig.Name, uint32(l.size))
	if err != nil {
		return nil, err
	}
	putHeader(buf, in.arena, m, plans)
	for i, a := range args {
		p := plans[i]
		if p.nulls >= 0 {
			writeNulls(buf[p.nulls:p.nulls+(m+7)/8], a.Nulls(), n, rows)
		}
		if err := writeValues(buf, p, a, n, rows); err != nil {
			return nil, fmt.Errorf("udf %s: argument %d: %w", sig.Name, i+1, err)
		}
	}
	r, err := in.invoke(ctx, sig.Name, sig.Index)
	if err != nil {
		return nil, err
	}
	if int(r[resN]) != m {
		in.broken = true
		return nil, fmt.Errorf("udf %s: the guest returned %d rows for %d", sig.Name, r[resN], m)
	}
	out, err := readResultInto(c.al, in, sig.Name, sig.Result, r, m, n, rows)
	if err != nil {
		in.broken = true
	}
	return out, err
}

// each calls f with every live row.
func each(n int, sel []int32, f func(r int)) {
	if sel != nil {
		for _, r := range sel {
			f(int(r))
		}
		return
	}
	for r := 0; r < n; r++ {
		f(r)
	}
}

func bytesLen(b *coldata.Bytes, n int, rows []int32) int {
	if rows == nil {
		return int(b.Offsets[n] - b.Offsets[0])
	}
	t := 0
	for _, r := range rows {
		t += int(b.Offsets[r+1] - b.Offsets[r])
	}
	return t
}

// writeNulls writes the NULL bitmap of the rows (bit k: row k is NULL).
func writeNulls(dst []byte, nulls *coldata.Nulls, n int, rows []int32) {
	clear(dst)
	if rows == nil {
		w := nulls.Words()
		for i := 0; i < len(dst); i++ {
			if i/8 < len(w) {
				dst[i] = byte(w[i/8] >> (8 * uint(i%8)))
			}
		}
		return
	}
	for k, r := range rows {
		if nulls.IsNull(int(r)) {
			dst[k>>3] |= 1 << (uint(k) & 7)
		}
	}
}

// writeValues writes the value block (and the offsets of bytes) of one
// argument.
func writeValues(buf []byte, p argPlan, a coldata.Vector, n int, rows []int32) error {
	m := n
	if rows != nil {
		m = len(rows)
	}
	switch v := a.(type) {
	case *coldata.Vec[bool]:
		copyFixed(slice[bool](buf, p.values, m), v.Vals, rows)
	case *coldata.Vec[int8]:
		copyFixed(slice[int8](buf, p.values, m), v.Vals, rows)
	case *coldata.Vec[int16]:
		copyFixed(slice[int16](buf, p.values, m), v.Vals, rows)
	case *coldata.Vec[int32]:
		copyFixed(slice[int32](buf, p.values, m), v.Vals, rows)
	case *coldata.Vec[int64]:
		copyFixed(slice[int64](buf, p.values, m), v.Vals, rows)
	case *coldata.Vec[uint8]:
		copyFixed(slice[uint8](buf, p.values, m), v.Vals, rows)
	case *coldata.Vec[uint16]:
		copyFixed(slice[uint16](buf, p.values, m), v.Vals, rows)
	case *coldata.Vec[uint32]:
		copyFixed(slice[uint32](buf, p.values, m), v.Vals, rows)
	case *coldata.Vec[uint64]:
		copyFixed(slice[uint64](buf, p.values, m), v.Vals, rows)
	case *coldata.Vec[float32]:
		copyFixed(slice[float32](buf, p.values, m), v.Vals, rows)
	case *coldata.Vec[float64]:
		copyFixed(slice[float64](buf, p.values, m), v.Vals, rows)
	case *coldata.Bytes:
		offs := slice[uint32](buf, p.offsets, m+1)
		if rows == nil {
			base := v.Offsets[0]
			if base == 0 {
				// Offsets are never negative: the same bits as u32, one copy.
				copy(offs, unsafe.Slice((*uint32)(unsafe.Pointer(&v.Offsets[0])), m+1))
			} else {
				for k := 0; k <= m; k++ {
					offs[k] = uint32(v.Offsets[k] - base)
				}
			}
			copy(buf[p.values:], v.Data[base:v.Offsets[m]])
			return nil
		}
		data := buf[p.values:]
		o := uint32(0)
		offs[0] = 0
		for k, r := range rows {
			o += uint32(copy(data[o:], v.Data[v.Offsets[r]:v.Offsets[r+1]]))
			offs[k+1] = o
		}
	default:
		return fmt.Errorf("unsupported vector %T (%s)", a, a.Type())
	}
	return nil
}

func copyFixed[T any](dst, src []T, rows []int32) {
	if rows == nil {
		copy(dst, src)
		return
	}
	for k, r := range rows {
		dst[k] = src[r]
	}
}

// readResult is readResultInto without an allocator (aggregates).
func readResult(in *instance, name string, p Param, r result, m, n int, rows []int32) (coldata.Vector, error) {
	return readResultInto(nil, in, name, p, r, m, n, rows)
}

// readResultInto copies the guest's result column (m rows) into a new
// vector of physical length n, allocated by al: row rows[k] (k when rows is nil)
// is result row k, the other rows are NULL. A bytes-like result is one
// pass over the guest's offsets (checked and converted) and one copy of
// its data.
func readResultInto(al *coldata.Allocator, in *instance, name string, p Param, r result, m, n int, rows []int32) (coldata.Vector, error) {
	mem := in.mem
	var nulls []byte
	if r[resNulls] != 0 {
		if !p.Nullable {
			return nil, fmt.Errorf("udf %s: the guest returned NULLs, but its result is declared not nullable (%s)", name, p.Type)
		}
		b, ok := mem.Read(r[resNulls], uint32((m+7)/8))
		if !ok {
			return nil, fmt.Errorf("udf %s: result null bitmap at %d lies outside guest memory (%d bytes)", name, r[resNulls], mem.Size())
		}
		nulls = b
	}
	t := p.Type
	var out coldata.Vector
	if w := width(t.Kind); w > 0 {
		vals, ok := mem.Read(r[resValues], uint32(m*w))
		if !ok || r[resValues]%uint32(w) != 0 || r[resValues] == 0 {
			return nil, fmt.Errorf("udf %s: result values at %d+%d lie outside guest memory (%d bytes) or are misaligned", name, r[resValues], m*w, mem.Size())
		}
		switch t.Kind {
		case types.Bool:
			v := coldata.AllocVec[bool](al, t, n)
			dst, src := v.Vals, vals
			if rows == nil {
				for k := range m {
					dst[k] = src[k] != 0
				}
			} else {
				for k, row := range rows {
					dst[row] = src[k] != 0
				}
			}
			out = v
		case types.Int8:
			out = scatter[int8](al, t, vals, m, n, rows)
		case types.Int16:
			out = scatter[int16](al, t, vals, m, n, rows)
		case types.Int32:
			out = scatter[int32](al, t, vals, m, n, rows)
		case types.Int64, types.Timestamp:
			out = scatter[int64](al, t, vals, m, n, rows)
		case types.UInt8:
			out = scatter[uint8](al, t, vals, m, n, rows)
		case types.UInt16:
			out = scatter[uint16](al, t, vals, m, n, rows)
		case types.UInt32:
			out = scatter[uint32](al, t, vals, m, n, rows)
		case types.UInt64:
			out = scatter[uint64](al, t, vals, m, n, rows)
		case types.Float32:
			out = scatter[float32](al, t, vals, m, n, rows)
		case types.Float64:
			out = scatter[float64](al, t, vals, m, n, rows)
		default:
			return nil, fmt.Errorf("udf %s: unsupported result type %s", name, t)
		}
	} else {
		ob, ok := mem.Read(r[resOffs], uint32(4*(m+1)))
		if !ok || r[resOffs]%4 != 0 || r[resOffs] == 0 {
			return nil, fmt.Errorf("udf %s: result offsets at %d lie outside guest memory (%d bytes) or are misaligned", name, r[resOffs], mem.Size())
		}
		offs := unsafe.Slice((*uint32)(unsafe.Pointer(&ob[0])), m+1)
		lo, hi := offs[0], offs[m]
		if hi < lo { // somewhere the offsets decrease: say where
			for k := 1; k <= m; k++ {
				if offs[k] < offs[k-1] {
					return nil, fmt.Errorf("udf %s: result offsets decrease at row %d (%d after %d)", name, k-1, offs[k], offs[k-1])
				}
			}
		}
		data, ok := mem.Read(r[resValues]+lo, hi-lo)
		if !ok || uint64(r[resValues])+uint64(hi) > uint64(mem.Size()) {
			return nil, fmt.Errorf("udf %s: result data at %d+%d lies outside guest memory (%d bytes)", name, r[resValues]+lo, hi-lo, mem.Size())
		}
		if t.Kind != types.Bytes && !utf8.Valid(data) {
			return nil, fmt.Errorf("udf %s: the guest returned %s that is not valid UTF-8", name, t)
		}
		b := al.BytesRows(t, n, len(data))
		b.Data = append(b.Data[:0], data...)
		// One pass checks the offsets and converts them: in place for
		// dense rows, else spread over the n rows (a row the guest did
		// not compute is empty).
		outOffs := b.Offsets
		if rows == nil {
			prev := lo
			for k, o := range offs[1:] {
				if o < prev {
					return nil, fmt.Errorf("udf %s: result offsets decrease at row %d (%d after %d)", name, k, o, prev)
				}
				outOffs[k+1] = int32(o - lo)
				prev = o
			}
		} else {
			prev, at := lo, 0
			for k, row := range rows {
				o := offs[k+1]
				if o < prev {
					return nil, fmt.Errorf("udf %s: result offsets decrease at row %d (%d after %d)", name, k, o, prev)
				}
				for ; at <= int(row); at++ {
					outOffs[at] = int32(prev - lo)
				}
				prev = o
			}
			for ; at <= n; at++ {
				outOffs[at] = int32(prev - lo)
			}
		}
		out = b
	}
	// NULLs: the rows the guest did not compute and those it says are NULL.
	if (rows == nil || m == n) && nulls == nil {
		return out, nil
	}
	words := make([]uint64, (n+63)/64)
	anyNull := false
	if rows != nil && m < n {
		for i := range words {
			words[i] = ^uint64(0)
		}
		if n%64 != 0 {
			words[len(words)-1] = 1<<(uint(n)%64) - 1
		}
		for _, row := range rows {
			words[row>>6] &^= 1 << (uint(row) & 63)
		}
		anyNull = true
	}
	if nulls != nil {
		for k := 0; k < m; k++ {
			if nulls[k>>3]&(1<<(uint(k)&7)) != 0 {
				row := k
				if rows != nil {
					row = int(rows[k])
				}
				words[row>>6] |= 1 << (uint(row) & 63)
				anyNull = true
			}
		}
	}
	if anyNull {
		out.Nulls().SetWords(words)
	}
	return out, nil
}

// scatter copies m values of type T from guest bytes into a new vector of
// n allocated by al, value k going to rows[k] (k when rows is nil).
func scatter[T coldata.Fixed](al *coldata.Allocator, t types.Type, src []byte, m, n int, rows []int32) *coldata.Vec[T] {
	v := coldata.AllocVec[T](al, t, n)
	if m == 0 {
		return v
	}
	// src may be unaligned for T in Go's view only if the guest address is;
	// the caller checked alignment, and the backing array is 8-aligned.
	s := unsafe.Slice((*T)(unsafe.Pointer(&src[0])), m)
	if rows == nil {
		copy(v.Vals, s)
		return v
	}
	for k, r := range rows {
		v.Vals[r] = s[k]
	}
	return v
}
