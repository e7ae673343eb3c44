package wasm

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/types"
)

// aggregateFunc is s as a registry aggregate. The accumulator keeps every
// group's rows (the UDAF sees them all, as a list per argument) and calls
// the guest once per Result for all the groups asked for.
func (m *Module) aggregateFunc(s *Signature) *expr.AggregateFunc {
	keepNulls := false
	for _, a := range s.Args {
		keepNulls = keepNulls || a.Nullable
	}
	return &expr.AggregateFunc{
		Name:        s.Name,
		Description: m.description(s),
		Resolve: func(args []types.Type) (*expr.ResolvedAggregate, error) {
			in, err := s.resolveArgs(args)
			if err != nil {
				return nil, err
			}
			return &expr.ResolvedAggregate{Args: in, Result: s.Result.Type, KeepNulls: keepNulls,
				New: func() expr.Accumulator { return newUDAF(m, s) }}, nil
		},
	}
}

// column is one argument's values in one group: fixed-width values as
// their little-endian bytes, bytes-like values concatenated with their
// lengths; nulls flags the NULLs of a nullable argument.
type column struct {
	vals  []byte
	lens  []uint32
	nulls []bool
}

// udaf is the accumulator of a UDAF: per slot, the rows of the group.
type udaf struct {
	m      *Module
	sig    *Signature
	widths []int
	rows   []int32
	groups [][]column
	raw    [][]byte // per-Update scratch: fixed arguments' bytes
}

var (
	_ expr.Accumulator = (*udaf)(nil)
	_ expr.Retracter   = (*udaf)(nil)
)

func newUDAF(m *Module, s *Signature) *udaf {
	u := &udaf{m: m, sig: s, widths: make([]int, len(s.Args)), raw: make([][]byte, len(s.Args))}
	for i, a := range s.Args {
		u.widths[i] = width(a.Type.Kind)
	}
	return u
}

func (u *udaf) grow(slot uint32) {
	for int(slot) >= len(u.groups) {
		u.groups = append(u.groups, nil)
		u.rows = append(u.rows, 0)
	}
	if u.groups[slot] == nil {
		u.groups[slot] = make([]column, len(u.widths))
	}
}

// rawBytes views a fixed-width vector's values as bytes.
func rawBytes(v coldata.Vector) ([]byte, error) {
	view := func(p unsafe.Pointer, n, w int) []byte {
		if n == 0 {
			return nil
		}
		return unsafe.Slice((*byte)(p), n*w)
	}
	switch v := v.(type) {
	case *coldata.Vec[bool]:
		return view(unsafe.Pointer(unsafe.SliceData(v.Vals)), len(v.Vals), 1), nil
	case *coldata.Vec[int8]:
		return view(unsafe.Pointer(unsafe.SliceData(v.Vals)), len(v.Vals), 1), nil
	case *coldata.Vec[uint8]:
		return view(unsafe.Pointer(unsafe.SliceData(v.Vals)), len(v.Vals), 1), nil
	case *coldata.Vec[int16]:
		return view(unsafe.Pointer(unsafe.SliceData(v.Vals)), len(v.Vals), 2), nil
	case *coldata.Vec[uint16]:
		return view(unsafe.Pointer(unsafe.SliceData(v.Vals)), len(v.Vals), 2), nil
	case *coldata.Vec[int32]:
		return view(unsafe.Pointer(unsafe.SliceData(v.Vals)), len(v.Vals), 4), nil
	case *coldata.Vec[uint32]:
		return view(unsafe.Pointer(unsafe.SliceData(v.Vals)), len(v.Vals), 4), nil
	case *coldata.Vec[float32]:
		return view(unsafe.Pointer(unsafe.SliceData(v.Vals)), len(v.Vals), 4), nil
	case *coldata.Vec[int64]:
		return view(unsafe.Pointer(unsafe.SliceData(v.Vals)), len(v.Vals), 8), nil
	case *coldata.Vec[uint64]:
		return view(unsafe.Pointer(unsafe.SliceData(v.Vals)), len(v.Vals), 8), nil
	case *coldata.Vec[float64]:
		return view(unsafe.Pointer(unsafe.SliceData(v.Vals)), len(v.Vals), 8), nil
	}
	return nil, fmt.Errorf("unsupported vector %T (%s)", v, v.Type())
}

// prepare checks args and fills u.raw; skip reports whether physical row
// r is left out (a NULL where the argument is not nullable).
func (u *udaf) prepare(args []coldata.Vector) (skip func(r int) bool, err error) {
	if len(args) != len(u.widths) {
		return nil, fmt.Errorf("udf %s: %d arguments, want %d", u.sig.Name, len(args), len(u.widths))
	}
	var strict []coldata.Vector
	for i, a := range args {
		if u.widths[i] > 0 {
			if u.raw[i], err = rawBytes(a); err != nil {
				return nil, fmt.Errorf("udf %s: argument %d: %w", u.sig.Name, i+1, err)
			}
		} else if _, ok := a.(*coldata.Bytes); !ok {
			return nil, fmt.Errorf("udf %s: argument %d is a %T, want bytes", u.sig.Name, i+1, a)
		}
		if !u.sig.Args[i].Nullable && a.Nulls().Any() {
			strict = append(strict, a)
		}
	}
	return func(r int) bool {
		for _, a := range strict {
			if a.IsNull(r) {
				return true
			}
		}
		return false
	}, nil
}

// value returns argument i's value at row r as bytes (fixed: its
// little-endian encoding) and whether it is NULL.
func (u *udaf) value(args []coldata.Vector, i, r int) ([]byte, bool) {
	if args[i].IsNull(r) {
		return nil, true
	}
	if w := u.widths[i]; w > 0 {
		return u.raw[i][r*w : (r+1)*w], false
	}
	return args[i].(*coldata.Bytes).Get(r), false
}

func (u *udaf) Update(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	skip, err := u.prepare(args)
	if err != nil {
		return err
	}
	var zero [8]byte
	each(n, sel, func(r int) {
		if skip(r) {
			return
		}
		s := slots[r]
		u.grow(s)
		g := u.groups[s]
		for i := range g {
			c := &g[i]
			v, null := u.value(args, i, r)
			if null {
				v = zero[:u.widths[i]]
			}
			c.vals = append(c.vals, v...)
			if u.widths[i] == 0 {
				c.lens = append(c.lens, uint32(len(v)))
			}
			if u.sig.Args[i].Nullable {
				c.nulls = append(c.nulls, null)
			}
		}
		u.rows[s]++
	})
	return nil
}

// Retract removes, for every live row, one row of its group holding the
// same values.
func (u *udaf) Retract(slots []uint32, args []coldata.Vector, n int, sel []int32) error {
	skip, err := u.prepare(args)
	if err != nil {
		return err
	}
	var ferr error
	each(n, sel, func(r int) {
		if ferr != nil || skip(r) {
			return
		}
		s := slots[r]
		if int(s) >= len(u.rows) || u.rows[s] == 0 {
			ferr = fmt.Errorf("udf %s: retracting a row from an empty group", u.sig.Name)
			return
		}
		g := u.groups[s]
		k := u.find(g, int(u.rows[s]), args, r)
		if k < 0 {
			ferr = fmt.Errorf("udf %s: retracting a row the group does not hold", u.sig.Name)
			return
		}
		for i := range g {
			g[i].remove(k, u.widths[i])
		}
		u.rows[s]--
	})
	return ferr
}

// find returns the index of a row of group g (of rows rows) equal to row r
// of args, or -1.
func (u *udaf) find(g []column, rows int, args []coldata.Vector, r int) int {
	offs := make([]int, len(g)) // running offsets of bytes-like columns
	for k := 0; k < rows; k++ {
		match := true
		for i := range g {
			c := &g[i]
			v, null := u.value(args, i, r)
			var have []byte
			if w := u.widths[i]; w > 0 {
				have = c.vals[k*w : (k+1)*w]
			} else {
				have = c.vals[offs[i] : offs[i]+int(c.lens[k])]
				offs[i] += int(c.lens[k])
			}
			if c.nulls != nil && c.nulls[k] != null || !null && !bytes.Equal(have, v) {
				match = false
			}
		}
		if match {
			return k
		}
	}
	return -1
}

func (c *column) remove(k, w int) {
	if w > 0 {
		c.vals = append(c.vals[:k*w], c.vals[(k+1)*w:]...)
	} else {
		off := 0
		for j := 0; j < k; j++ {
			off += int(c.lens[j])
		}
		c.vals = append(c.vals[:off], c.vals[off+int(c.lens[k]):]...)
		c.lens = append(c.lens[:k], c.lens[k+1:]...)
	}
	if c.nulls != nil {
		c.nulls = append(c.nulls[:k], c.nulls[k+1:]...)
	}
}

func (u *udaf) Merge(dst []uint32, src expr.Accumulator, srcSlots []uint32) error {
	o, ok := src.(*udaf)
	if !ok || o.sig != u.sig {
		return fmt.Errorf("udf %s: merging a %T", u.sig.Name, src)
	}
	for k, s := range srcSlots {
		if int(s) >= len(o.rows) || o.rows[s] == 0 {
			continue
		}
		d := dst[k]
		u.grow(d)
		from, to := o.groups[s], u.groups[d]
		for i := range to {
			to[i].vals = append(to[i].vals, from[i].vals...)
			to[i].lens = append(to[i].lens, from[i].lens...)
			to[i].nulls = append(to[i].nulls, from[i].nulls...)
		}
		u.rows[d] += o.rows[s]
	}
	return nil
}

func (u *udaf) Reset(slot uint32) {
	if int(slot) < len(u.rows) {
		u.rows[slot] = 0
		u.groups[slot] = nil
	}
}

const snapTag = 'U'

func (u *udaf) AppendSnapshot(dst []byte, slot uint32) []byte {
	dst = append(dst, snapTag)
	if int(slot) >= len(u.rows) || u.rows[slot] == 0 {
		return binary.AppendUvarint(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(u.rows[slot]))
	for _, c := range u.groups[slot] {
		dst = binary.AppendUvarint(dst, uint64(len(c.vals)))
		dst = append(dst, c.vals...)
		for _, l := range c.lens {
			dst = binary.AppendUvarint(dst, uint64(l))
		}
		for _, null := range c.nulls {
			b := byte(0)
			if null {
				b = 1
			}
			dst = append(dst, b)
		}
	}
	return dst
}

func (u *udaf) Restore(slot uint32, snap []byte) error {
	bad := func(what string) error {
		return fmt.Errorf("udf %s: %w: %s", u.sig.Name, expr.ErrSnapshot, what)
	}
	if len(snap) == 0 || snap[0] != snapTag {
		return bad("wrong tag")
	}
	b := snap[1:]
	uv := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	rows, ok := uv()
	if !ok || rows > 1<<31 {
		return bad("row count")
	}
	u.Reset(slot)
	if rows == 0 {
		if len(b) != 0 {
			return bad("trailing bytes")
		}
		return nil
	}
	u.grow(slot)
	g := make([]column, len(u.widths))
	for i := range g {
		nv, ok := uv()
		if !ok || nv > uint64(len(b)) {
			return bad("truncated values")
		}
		g[i].vals = append([]byte(nil), b[:nv]...)
		b = b[nv:]
		if w := u.widths[i]; w > 0 {
			if nv != rows*uint64(w) {
				return bad("value count")
			}
		} else {
			g[i].lens = make([]uint32, rows)
			var sum uint64
			for k := range g[i].lens {
				l, ok := uv()
				if !ok {
					return bad("truncated lengths")
				}
				g[i].lens[k] = uint32(l)
				sum += l
			}
			if sum != nv {
				return bad("lengths do not add up")
			}
		}
		if u.sig.Args[i].Nullable {
			if uint64(len(b)) < rows {
				return bad("truncated nulls")
			}
			g[i].nulls = make([]bool, rows)
			for k := range g[i].nulls {
				g[i].nulls[k] = b[k] != 0
			}
			b = b[rows:]
		}
	}
	if len(b) != 0 {
		return bad("trailing bytes")
	}
	u.groups[slot] = g
	u.rows[slot] = int32(rows)
	return nil
}

// Result calls the guest for the groups of slots, as few times as the
// memory limit allows (usually once). An empty group's result is NULL
// without a call.
func (u *udaf) Result(slots []uint32) (coldata.Vector, error) {
	t := u.sig.Result.Type
	var live []int32 // positions in slots of non-empty groups
	for k, s := range slots {
		if int(s) < len(u.rows) && u.rows[s] > 0 {
			live = append(live, int32(k))
		}
	}
	if len(live) == 0 {
		return coldata.NewNulls(t, len(slots)), nil
	}
	in, err := u.m.acquire(context.Background())
	if err != nil {
		return nil, err
	}
	defer u.m.release(in)
	budget := int(u.m.host.cfg.MemoryLimit / 4)
	var chunks [][]int32
	start, size := 0, 0
	for j, k := range live {
		gs := u.groupSize(slots[k])
		if j > start && size+gs > budget {
			chunks = append(chunks, live[start:j])
			start, size = j, 0
		}
		size += gs
	}
	chunks = append(chunks, live[start:])
	if len(chunks) == 1 {
		return u.call(in, slots, live, len(slots), live)
	}
	out := coldata.New(t, len(slots))
	next := 0
	for _, ch := range chunks {
		v, err := u.call(in, slots, ch, len(ch), nil)
		if err != nil {
			return nil, err
		}
		for j, k := range ch {
			for ; next < int(k); next++ {
				out.AppendNull()
			}
			coldata.AppendValue(out, v, j)
			next++
		}
	}
	for ; next < len(slots); next++ {
		out.AppendNull()
	}
	return out, nil
}

// groupSize estimates the input bytes of one group.
func (u *udaf) groupSize(s uint32) int {
	t := 8
	for _, c := range u.groups[s] {
		t += len(c.vals) + 4*len(c.lens) + len(c.nulls)/8 + 8
	}
	return t
}

// call computes the groups slots[ks[j]] in one guest call; the result has
// physical length n with row rows[j] (j when rows is nil) for group j.
func (u *udaf) call(in *instance, slots []uint32, ks []int32, n int, rows []int32) (coldata.Vector, error) {
	sig := u.sig
	ctx := context.Background()
	g := len(ks)
	var l layout
	l.size = 4 * (headerWords + argWords*len(sig.Args))
	plans := make([]argPlan, len(sig.Args))
	elems := 0
	for _, k := range ks {
		elems += int(u.rows[slots[k]])
	}
	for i := range sig.Args {
		p := argPlan{nulls: -1, values: -1, offsets: -1}
		p.lists = l.block(4 * (g + 1))
		anyNull := false
		data := 0
		for _, k := range ks {
			c := &u.groups[slots[k]][i]
			data += len(c.vals)
			for _, null := range c.nulls {
				anyNull = anyNull || null
			}
		}
		if anyNull {
			p.nulls = l.block((elems + 7) / 8)
		}
		if u.widths[i] == 0 {
			p.offsets = l.block(4 * (elems + 1))
		}
		p.values = l.block(data)
		plans[i] = p
	}
	buf, err := in.ensureArena(ctx, sig.Name, uint32(l.size))
	if err != nil {
		return nil, err
	}
	putHeader(buf, in.arena, g, plans)
	for i, p := range plans {
		lists := slice[uint32](buf, p.lists, g+1)
		var offs []uint32
		if p.offsets >= 0 {
			offs = slice[uint32](buf, p.offsets, elems+1)
			offs[0] = 0
		}
		var nulls []byte
		if p.nulls >= 0 {
			nulls = buf[p.nulls : p.nulls+(elems+7)/8]
			clear(nulls)
		}
		e, d := 0, 0
		lists[0] = 0
		for j, k := range ks {
			c := &u.groups[slots[k]][i]
			d += copy(buf[p.values+d:], c.vals)
			for _, ln := range c.lens {
				offs[e+1] = offs[e] + ln
				e++
			}
			if offs == nil {
				e += int(u.rows[slots[k]])
			}
			if nulls != nil {
				base := e - int(u.rows[slots[k]])
				for x, null := range c.nulls {
					if null {
						nulls[(base+x)>>3] |= 1 << (uint(base+x) & 7)
					}
				}
			}
			lists[j+1] = uint32(e)
		}
	}
	r, err := in.invoke(ctx, sig.Name, sig.Index)
	if err != nil {
		return nil, fmt.Errorf("%w (module %s)", err, u.m.Name)
	}
	if int(r[resN]) != g {
		in.broken = true
		return nil, fmt.Errorf("udf %s: the guest returned %d results for %d groups (module %s)", sig.Name, r[resN], g, u.m.Name)
	}
	out, err := readResult(in, sig.Name, sig.Result, r, g, n, rows)
	if err != nil {
		in.broken = true
		return nil, fmt.Errorf("%w (module %s)", err, u.m.Name)
	}
	return out, nil
}
