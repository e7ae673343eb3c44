package coldata

import "unsafe"

// MemBytes is the memory v's values take: its rows' fixed-width values,
// offsets and data, null bitmap and children (for metrics: what a batch
// weighs on an edge; capacity beyond the length is not counted).
func MemBytes(v Vector) int {
	switch v := v.(type) {
	case *Bytes:
		return len(v.Offsets)*4 + len(v.Data) + len(v.N.bits)*8
	case *Struct:
		n := len(v.N.bits) * 8
		for _, f := range v.Fields {
			n += MemBytes(f)
		}
		return n
	case *List:
		return len(v.Offsets)*4 + MemBytes(v.Elems) + len(v.N.bits)*8
	case interface{ memBytes() int }:
		return v.memBytes()
	}
	return 0
}

func (v *Vec[T]) memBytes() int {
	var z T
	return len(v.Vals)*int(unsafe.Sizeof(z)) + len(v.N.bits)*8
}

// MemBytes is the memory of b's columns (MemBytes of each), whatever its
// selection.
func (b *Batch) MemBytes() int {
	n := len(b.Sel) * 4
	for _, c := range b.Cols {
		n += MemBytes(c)
	}
	return n
}
