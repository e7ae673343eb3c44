package expr

import (
	"math/bits"

	"github.com/arroyogo/arroyo/engine/coldata"
)

// Bitmap and selection helpers shared by the kernels. Null bitmaps are
// combined a word at a time; a nil or short word slice means "no more
// nulls". Word slices returned by these helpers may be shared with an input
// vector (vectors are immutable), so callers must copy before setting bits.

// nullAt reports whether bit i of w is set.
func nullAt(w []uint64, i int) bool {
	k := i >> 6
	return k < len(w) && w[k]&(1<<(uint(i)&63)) != 0
}

// anyWords reports whether any bit of w is set.
func anyWords(w []uint64) bool {
	for _, x := range w {
		if x != 0 {
			return true
		}
	}
	return false
}

// words returns the bitmap words of v, or nil when v has no nulls.
func words(v coldata.Vector) []uint64 {
	w := v.Nulls().Words()
	if !anyWords(w) {
		return nil
	}
	return w
}

// orWords returns a | b. When one side has no nulls the other is returned
// as is (shared); otherwise the result is a new slice.
func orWords(a, b []uint64) []uint64 {
	if !anyWords(b) {
		if !anyWords(a) {
			return nil
		}
		return a
	}
	if !anyWords(a) {
		return b
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	out := make([]uint64, len(a))
	copy(out, a)
	for i, x := range b {
		out[i] |= x
	}
	return out
}

// unionNulls returns the OR of the null bitmaps of vs (nil when none has
// nulls). The result may be shared with one of vs.
func unionNulls(vs []coldata.Vector) []uint64 {
	var w []uint64
	shared := true
	for _, v := range vs {
		x := words(v)
		if x == nil {
			continue
		}
		if w == nil {
			w = x
			continue
		}
		if shared {
			w = orWords(w, x)
			shared = false
			continue
		}
		if len(x) > len(w) {
			w = append(w, make([]uint64, len(x)-len(w))...)
		}
		for i, y := range x {
			w[i] |= y
		}
	}
	return w
}

// copyWords returns a private copy of w with room for n bits.
func copyWords(w []uint64, n int) []uint64 {
	out := make([]uint64, (n+63)>>6)
	copy(out, w)
	return out
}

// setBit sets bit i of w, which must be long enough.
func setBit(w []uint64, i int) { w[i>>6] |= 1 << (uint(i) & 63) }

// allNullWords returns a bitmap with bits 0..n-1 set.
func allNullWords(n int) []uint64 {
	w := make([]uint64, (n+63)>>6)
	for i := range w {
		w[i] = ^uint64(0)
	}
	if r := n & 63; r != 0 {
		w[len(w)-1] = (1 << uint(r)) - 1
	}
	return w
}

// b2i converts a bool to 0 or 1 without a branch.
func b2i(b bool) int {
	var i int
	if b {
		i = 1
	}
	return i
}

// collect returns the rows (ascending) of sel, or of 0..n-1 when sel is
// nil, where v is true and no bitmap in nulls marks the row NULL. The result
// is a new non-nil slice.
func collect(v []bool, n int, sel []int32, nulls []uint64) []int32 {
	if !anyWords(nulls) {
		nulls = nil
	}
	if sel != nil {
		out := make([]int32, len(sel))
		k := 0
		if nulls == nil {
			for _, i := range sel {
				out[k] = i
				k += b2i(v[i])
			}
		} else {
			for _, i := range sel {
				out[k] = i
				k += b2i(v[i] && !nullAt(nulls, int(i)))
			}
		}
		return out[:k]
	}
	out := make([]int32, n)
	k := 0
	v = v[:n]
	if nulls == nil {
		for i, x := range v {
			out[k] = int32(i)
			k += b2i(x)
		}
		return out[:k]
	}
	for base := 0; base < n; base += 64 {
		end := min(base+64, n)
		w := uint64(0)
		if base>>6 < len(nulls) {
			w = nulls[base>>6]
		}
		if w == 0 {
			for i := base; i < end; i++ {
				out[k] = int32(i)
				k += b2i(v[i])
			}
			continue
		}
		for i := base; i < end; i++ {
			out[k] = int32(i)
			k += b2i(v[i]) & int(^(w>>(uint(i)&63))&1)
		}
	}
	return out[:k]
}

// collectBits returns the rows of sel (or 0..n-1) whose bit in w equals
// set. The result is a new non-nil slice.
func collectBits(w []uint64, n int, sel []int32, set bool) []int32 {
	if sel != nil {
		out := make([]int32, 0, len(sel))
		for _, i := range sel {
			if nullAt(w, int(i)) == set {
				out = append(out, i)
			}
		}
		return out
	}
	out := make([]int32, n)
	k := 0
	for base := 0; base < n; base += 64 {
		var x uint64
		if base>>6 < len(w) {
			x = w[base>>6]
		}
		if !set {
			x = ^x
		}
		if r := n - base; r < 64 {
			x &= 1<<uint(r) - 1
		}
		if x == ^uint64(0) {
			for j := range 64 {
				out[k+j] = int32(base + j)
			}
			k += 64
			continue
		}
		for x != 0 {
			out[k] = int32(base + bits.TrailingZeros64(x))
			k++
			x &= x - 1
		}
	}
	return out[:k]
}

// countBits returns the number of set bits of w among the rows of sel (or
// 0..n-1).
func countBits(w []uint64, n int, sel []int32) int {
	if len(w) == 0 {
		return 0
	}
	if sel == nil {
		c := 0
		full := n >> 6
		for i := 0; i < full && i < len(w); i++ {
			c += bits.OnesCount64(w[i])
		}
		if r := n & 63; r != 0 && full < len(w) {
			c += bits.OnesCount64(w[full] & (1<<uint(r) - 1))
		}
		return c
	}
	c := 0
	for _, i := range sel {
		c += b2i(nullAt(w, int(i)))
	}
	return c
}

// diffSel returns the rows of sel (or 0..n-1) that are not in taken; both
// are ascending and taken is a subset. The result is new and non-nil.
func diffSel(n int, sel, taken []int32) []int32 {
	size := n
	if sel != nil {
		size = len(sel)
	}
	out := make([]int32, 0, size-len(taken))
	k := 0
	if sel == nil {
		for i := 0; i < n; i++ {
			if k < len(taken) && taken[k] == int32(i) {
				k++
				continue
			}
			out = append(out, int32(i))
		}
		return out
	}
	for _, i := range sel {
		if k < len(taken) && taken[k] == i {
			k++
			continue
		}
		out = append(out, i)
	}
	return out
}

// unionSel merges two disjoint ascending selections into a new one.
func unionSel(a, b []int32) []int32 {
	out := make([]int32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] < b[j] {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// selLen is the number of logical rows of (n, sel).
func selLen(n int, sel []int32) int {
	if sel != nil {
		return len(sel)
	}
	return n
}

// view returns a batch sharing b's columns with selection sel.
func view(b *coldata.Batch, sel []int32) *coldata.Batch {
	return &coldata.Batch{Cols: b.Cols, Len: b.Len, Sel: sel}
}

// firstBad returns the first row of sel (or 0..n-1) that is not NULL in w
// and for which bad reports true, or -1. It is the slow, precise pass run
// only after a dense kernel suspected an error.
func firstBad(n int, sel []int32, w []uint64, bad func(i int) bool) int {
	if sel != nil {
		for _, i := range sel {
			if !nullAt(w, int(i)) && bad(int(i)) {
				return int(i)
			}
		}
		return -1
	}
	for i := 0; i < n; i++ {
		if !nullAt(w, i) && bad(i) {
			return i
		}
	}
	return -1
}
