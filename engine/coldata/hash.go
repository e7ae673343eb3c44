package coldata

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Hashes are part of the distributed contract: they place keys into key
// groups, and key groups into subtasks, on every worker and across restarts.
// They must therefore be deterministic across processes and versions: no
// per-process seeds (hash/maphash) and no dependence on pointer values.

const (
	hashSeed  = 0x9e3779b97f4a7c15
	nullHash  = 0x5bd1e9955bd1e995
	mulPrime1 = 0xff51afd7ed558ccd
	mulPrime2 = 0xc4ceb9fe1a85ec53
)

func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= mulPrime1
	h ^= h >> 33
	h *= mulPrime2
	h ^= h >> 33
	return h
}

func combine(h, v uint64) uint64 { return mix64(h ^ (v + hashSeed + (h << 6) + (h >> 2))) }

func hashBytes(b []byte) uint64 {
	h := uint64(len(b)) * mulPrime1
	for len(b) >= 8 {
		h = combine(h, binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	var tail uint64
	for i, c := range b {
		tail |= uint64(c) << (8 * uint(i))
	}
	return combine(h, tail)
}

// HashInto folds row rows[k] of v into hashes[k] for every k. Call it once
// per key column, starting from hashes all zero, to hash composite keys.
// A NULL row folds in a fixed null hash instead of its value. Scalar and
// bytes vectors hash without allocating.
func HashInto(v Vector, rows []int32, hashes []uint64) {
	n := v.Nulls()
	switch v := v.(type) {
	case *Vec[bool]:
		hashFixed(v.Vals, n, rows, hashes, func(x bool) uint64 {
			if x {
				return 1
			}
			return 0
		})
	// Integers hash their value widened to 64 bits (sign-extended when
	// signed), so equal numbers hash alike whatever their width.
	case *Vec[int8]:
		hashFixed(v.Vals, n, rows, hashes, func(x int8) uint64 { return uint64(int64(x)) })
	case *Vec[int16]:
		hashFixed(v.Vals, n, rows, hashes, func(x int16) uint64 { return uint64(int64(x)) })
	case *Vec[int32]:
		hashFixed(v.Vals, n, rows, hashes, func(x int32) uint64 { return uint64(int64(x)) })
	case *Vec[int64]:
		hashFixed(v.Vals, n, rows, hashes, func(x int64) uint64 { return uint64(x) })
	case *Vec[uint8]:
		hashFixed(v.Vals, n, rows, hashes, func(x uint8) uint64 { return uint64(x) })
	case *Vec[uint16]:
		hashFixed(v.Vals, n, rows, hashes, func(x uint16) uint64 { return uint64(x) })
	case *Vec[uint32]:
		hashFixed(v.Vals, n, rows, hashes, func(x uint32) uint64 { return uint64(x) })
	case *Vec[uint64]:
		hashFixed(v.Vals, n, rows, hashes, func(x uint64) uint64 { return x })
	case *Vec[float32]:
		hashFixed(v.Vals, n, rows, hashes, func(x float32) uint64 { return math.Float64bits(float64(x) + 0) })
	case *Vec[float64]:
		hashFixed(v.Vals, n, rows, hashes, func(x float64) uint64 { return math.Float64bits(x + 0) })
	case *Vec[Int128]:
		// A DECIMAL that fits 64 bits hashes as that integer would.
		hashFixed(v.Vals, n, rows, hashes, func(x Int128) uint64 {
			if x.IsInt64() {
				return x.Lo
			}
			return x.Lo ^ mix64(uint64(x.Hi)+hashSeed)
		})
	case *Bytes:
		hasNulls := n.Any()
		for k, i := range rows {
			if hasNulls && n.IsNull(int(i)) {
				hashes[k] = combine(hashes[k], nullHash)
				continue
			}
			hashes[k] = combine(hashes[k], hashBytes(v.Data[v.Offsets[i]:v.Offsets[i+1]]))
		}
	case *Struct, *List:
		// Nested keys are rare: remember the incoming hashes so NULL rows
		// can fold the null hash into them instead of the children's.
		var prev []uint64
		if n.Any() {
			prev = append(prev, hashes[:len(rows)]...)
		}
		if st, ok := v.(*Struct); ok {
			for _, f := range st.Fields {
				HashInto(f, rows, hashes)
			}
		} else {
			hashList(v.(*List), rows, hashes)
		}
		if prev != nil {
			for k, i := range rows {
				if n.IsNull(int(i)) {
					hashes[k] = combine(prev[k], nullHash)
				}
			}
		}
	default:
		panic(fmt.Sprintf("coldata.HashInto: unsupported vector %T", v))
	}
}

func hashList(v *List, rows []int32, hashes []uint64) {
	var one [1]uint64
	var idx [1]int32
	for k, i := range rows {
		lh := uint64(v.Offsets[i+1] - v.Offsets[i])
		for e := v.Offsets[i]; e < v.Offsets[i+1]; e++ {
			one[0], idx[0] = lh, e
			HashInto(v.Elems, idx[:], one[:])
			lh = one[0]
		}
		hashes[k] = combine(hashes[k], lh)
	}
}

func hashFixed[T Fixed](vals []T, n *Nulls, rows []int32, hashes []uint64, bits func(T) uint64) {
	if n.Any() {
		for k, i := range rows {
			if n.IsNull(int(i)) {
				hashes[k] = combine(hashes[k], nullHash)
				continue
			}
			hashes[k] = combine(hashes[k], bits(vals[i]))
		}
		return
	}
	for k, i := range rows {
		hashes[k] = combine(hashes[k], bits(vals[i]))
	}
}
