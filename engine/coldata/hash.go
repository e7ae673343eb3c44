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
func HashInto(v Vector, rows []int32, hashes []uint64) {
	n := v.Nulls()
	var prev []uint64
	if n.Any() {
		prev = append(prev, hashes[:len(rows)]...)
	}
	switch v := v.(type) {
	case *Vec[bool]:
		for k, i := range rows {
			x := uint64(0)
			if v.Vals[i] {
				x = 1
			}
			hashes[k] = combine(hashes[k], x)
		}
	case *Vec[int32]:
		hashFixed(v.Vals, rows, hashes, func(x int32) uint64 { return uint64(int64(x)) })
	case *Vec[int64]:
		hashFixed(v.Vals, rows, hashes, func(x int64) uint64 { return uint64(x) })
	case *Vec[uint32]:
		hashFixed(v.Vals, rows, hashes, func(x uint32) uint64 { return uint64(x) })
	case *Vec[uint64]:
		hashFixed(v.Vals, rows, hashes, func(x uint64) uint64 { return x })
	case *Vec[float32]:
		hashFixed(v.Vals, rows, hashes, func(x float32) uint64 { return math.Float64bits(float64(x) + 0) })
	case *Vec[float64]:
		hashFixed(v.Vals, rows, hashes, func(x float64) uint64 { return math.Float64bits(x + 0) })
	case *Bytes:
		for k, i := range rows {
			hashes[k] = combine(hashes[k], hashBytes(v.Data[v.Offsets[i]:v.Offsets[i+1]]))
		}
	case *Struct:
		for _, f := range v.Fields {
			HashInto(f, rows, hashes)
		}
	case *List:
		for k, i := range rows {
			lh := uint64(v.Offsets[i+1] - v.Offsets[i])
			for e := v.Offsets[i]; e < v.Offsets[i+1]; e++ {
				one := [1]uint64{lh}
				HashInto(v.Elems, []int32{e}, one[:])
				lh = one[0]
			}
			hashes[k] = combine(hashes[k], lh)
		}
	default:
		panic(fmt.Sprintf("coldata.HashInto: unsupported vector %T", v))
	}
	if prev != nil {
		for k, i := range rows {
			if n.IsNull(int(i)) {
				hashes[k] = combine(prev[k], nullHash)
			}
		}
	}
}

func hashFixed[T Fixed](vals []T, rows []int32, hashes []uint64, bits func(T) uint64) {
	for k, i := range rows {
		hashes[k] = combine(hashes[k], bits(vals[i]))
	}
}
