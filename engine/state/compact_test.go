package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// fixedKey encodes values as the row codec does for fixed-width columns
// (a presence byte, then the width's little-endian bytes); a nil entry
// of null is NULL.
func fixedKey(widths []uint8, vals []uint64, null []bool) []byte {
	var b []byte
	for i, w := range widths {
		if null != nil && null[i] {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		for k := range int(w) {
			b = append(b, byte(vals[i]>>(8*k)))
		}
	}
	return b
}

// TestCompactKeyRoundTrip: keys of fixed-width columns (extremes of each
// width, NULLs, random bits), a section's worth at a time, come back from
// their compact form as they were; an entry without NULLs takes
// MaxKeySize bytes, and a key that is not an encoding of the columns is
// refused.
func TestCompactKeyRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	edges := []uint64{0, 1, math.MaxUint64, math.MaxInt64, 1 << 63, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff}
	var k KeyColumns
	for iter := range 400 {
		n := 1 + rng.IntN(10)
		if iter%50 == 0 {
			n = 20 + rng.IntN(40)
		}
		widths := make([]uint8, n)
		for i := range widths {
			widths[i] = []uint8{1, 2, 4, 8}[rng.IntN(4)]
		}
		k.Widths = widths
		k.Reset()
		var keys [][]byte
		for range 1 + rng.IntN(30) {
			vals := make([]uint64, n)
			null := make([]bool, n)
			for i, w := range widths {
				v := rng.Uint64() >> rng.IntN(64)
				if rng.IntN(3) == 0 {
					v = edges[rng.IntN(len(edges))]
				}
				if w < 8 {
					v &= 1<<(8*uint(w)) - 1
				}
				vals[i] = v
				null[i] = iter%2 == 0 && rng.IntN(5) == 0
			}
			key := fixedKey(widths, vals, null)
			if !k.Observe(key) {
				t.Fatalf("key %x widths %v: not observed", key, widths)
			}
			keys = append(keys, key)
		}
		k.Finish()
		for _, key := range keys {
			c := k.AppendKey([]byte{0xAA}, key)
			if c[0] != 0xAA || len(c)-1 > k.MaxKeySize() {
				t.Fatalf("key %x widths %v: %d bytes, at most %d", key, widths, len(c)-1, k.MaxKeySize())
			}
			if !slices.Contains(k.Nullable, true) && len(c)-1 != k.MaxKeySize() {
				t.Fatalf("key %x widths %v: %d bytes, MaxKeySize %d", key, widths, len(c)-1, k.MaxKeySize())
			}
			hdr := AppendSection(nil, "t", nil, &k, 1)
			if len(hdr) != SectionHeaderSize("t", nil, &k, 1) {
				t.Fatalf("section header of %d bytes, SectionHeaderSize %d", len(hdr), SectionHeaderSize("t", nil, &k, 1))
			}
			r := reader{b: hdr}
			sec := r.section()
			r.uvarint()
			if r.err != nil || len(r.b) != 0 {
				t.Fatalf("section header: %v", r.err)
			}
			r = reader{b: c[1:]}
			back := r.expandKey([]byte("p"), sec.cols)
			if r.err != nil || len(r.b) != 0 || !bytes.Equal(back[1:], key) {
				t.Fatalf("widths %v: %x came back as %x (%v, %d bytes left)", widths, key, back[1:], r.err, len(r.b))
			}
		}
	}
	// Not an encoding of the widths: refused.
	k.Widths = []uint8{8}
	k.Reset()
	for _, bad := range [][]byte{nil, {2, 0}, {1, 1, 2, 3}, {1, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {0, 0}} {
		if k.Observe(bad) {
			t.Errorf("key %x observed as one 8-byte column", bad)
		}
	}
}

// compactBlob encodes entries (full keys, each prefix then the widths'
// columns) as a compact blob of one section per prefix.
func compactBlob(t testing.TB, table string, widths []uint8, byPrefix map[string][][2][]byte, order []string) []byte {
	b := AppendCompactHeader(nil, len(order))
	for _, p := range order {
		es := byPrefix[p]
		if len(widths) == 0 {
			b = AppendSection(b, table, []byte(p), nil, len(es))
			for _, kv := range es {
				b = AppendEntry(b, kv[0][len(p):], kv[1], NoExpiry)
			}
			continue
		}
		k := &KeyColumns{Widths: widths}
		k.Reset()
		for _, kv := range es {
			if !k.Observe(kv[0][len(p):]) {
				t.Fatalf("key %x", kv[0])
			}
		}
		k.Finish()
		b = AppendSection(b, table, []byte(p), k, len(es))
		for _, kv := range es {
			b = k.AppendKey(b, kv[0][len(p):])
			b = appendBytes(b, kv[1])
			b = append(b, 0)
		}
	}
	return b
}

// TestCompactBlobs: a store restores compact blobs (one section per
// prefix, the same table in several, keys of columns or raw) beside
// blobs of the older form, through Keyed and RangeRestoredKeyed, with the
// full keys; keys handed out stay valid after the range.
func TestCompactBlobs(t *testing.T) {
	const K = 4
	widths := []uint8{8, 4, 1}
	want := map[string]string{}
	type kv = [2][]byte
	blobsOf := map[int][][]byte{}
	for g := range K {
		by := map[string][]kv{}
		raw := map[string][]kv{}
		var order []string
		for p := range 3 {
			pfx := string(binary.BigEndian.AppendUint64(nil, uint64(1000*p+g)))
			order = append(order, pfx)
			for i := range 50 {
				vals := []uint64{uint64(int64(i - 25)), uint64(g*100 + i), uint64(i % 7)}
				key := append([]byte(pfx), fixedKey(widths, vals, []bool{false, i%9 == 0, false})...)
				v := []byte{byte(i), byte(p)}
				by[pfx] = append(by[pfx], kv{key, v})
				want[string(key)] = string(v)
				rk := append([]byte(pfx), 'r', byte(i))
				raw[pfx] = append(raw[pfx], kv{rk, v})
				want[string(rk)] = string(v)
			}
		}
		blobsOf[g] = append(blobsOf[g], compactBlob(t, "t", widths, by, order), compactBlob(t, "t", nil, raw, order))
		// An older blob of the same group.
		old := AppendGroupHeader(nil, "t", 1)
		k := []byte{'o', byte(g)}
		old = AppendEntry(old, k, []byte("old"), NoExpiry)
		want[string(k)] = "old"
		blobsOf[g] = append(blobsOf[g], old)
	}
	snap := &Snapshot{OperatorID: "op", Epoch: 3, Parallelism: 1, MaxKeyGroups: K}
	for g := range K {
		for _, b := range blobsOf[g] {
			snap.Groups = append(snap.Groups, GroupState{Group: g, Data: b})
		}
	}
	data, err := snap.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	for sub := range 2 {
		cfg := Config{OperatorID: "op", Subtask: sub, Parallelism: 2, MaxKeyGroups: K}
		s := mustNew(t, cfg, []*Snapshot{back})
		lo, hi := s.KeyGroups()
		var keys [][]byte
		got := map[string]string{}
		if err := s.RangeRestoredKeyed("t", func(g int, key, value []byte, exp int64) error {
			if g < lo || g >= hi || exp != NoExpiry {
				t.Fatalf("group %d expiry %d", g, exp)
			}
			keys = append(keys, key)
			got[string(key)] = string(value)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if _, ok := want[string(k)]; !ok {
				t.Fatalf("key %x (kept after the range) is not a key written", k)
			}
		}
		if len(got) != (hi-lo)*301 {
			t.Fatalf("subtask %d: %d entries", sub, len(got))
		}
		tab := s.Keyed("t")
		for k, v := range got {
			if want[k] != v {
				t.Fatalf("key %x: %q, want %q", k, v, want[k])
			}
			found := false
			for g := lo; g < hi && !found; g++ {
				tv, ok := tab.Get(g, []byte(k))
				found = ok && string(tv) == v
			}
			if !found {
				t.Fatalf("key %x not in the loaded table", k)
			}
		}
	}
	// AppendEntriesOf re-encodes a compact blob's entries in the older
	// form, full keys and all.
	b, n, err := AppendEntriesOf(nil, blobsOf[1][0], "t")
	if err != nil || n != 150 {
		t.Fatalf("AppendEntriesOf: %d entries, %v", n, err)
	}
	old := append(AppendGroupHeader(nil, "t", n), b...)
	m := 0
	if err := rangeGroup(GroupState{Data: old}, func(_ string, key, value []byte, _ int64) error {
		if want[string(key)] != string(value) {
			t.Fatalf("re-encoded key %x: %q", key, value)
		}
		m++
		return nil
	}); err != nil || m != 150 {
		t.Fatalf("re-encoded: %d entries, %v", m, err)
	}
}

// TestCompactBlobCorrupt: every truncation, and values that do not fit
// their width, fail the restore with ErrCorrupt and never panic.
func TestCompactBlobCorrupt(t *testing.T) {
	widths := []uint8{8, 2}
	pfx := "pane0001"
	var es [][2][]byte
	for i := range 5 {
		es = append(es, [2][]byte{append([]byte(pfx), fixedKey(widths, []uint64{uint64(i) << 40, uint64(i)}, nil)...), []byte("v")})
	}
	blob := compactBlob(t, "t", widths, map[string][][2][]byte{pfx: es}, []string{pfx})
	if err := rangeGroup(GroupState{Data: blob}, nil); err != nil {
		t.Fatal(err)
	}
	for n := 2; n < len(blob); n++ {
		if err := rangeGroup(GroupState{Data: blob[:n]}, nil); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d of %d bytes: %v", n, len(blob), err)
		}
	}
	// A 2-byte column holding 70000: base 69999, one byte of 1.
	b := AppendCompactHeader(nil, 1)
	b = append(appendBytes(appendString(b, "t"), nil), 1, 2, 1)
	b = binary.AppendVarint(b, 69999)
	b = append(b, 1, 1, 0, 0)
	if err := rangeGroup(GroupState{Data: b}, nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a value beyond its width: %v", err)
	}
	// Bad widths, bad flags, 9 bytes a value, a presence byte of 2, no
	// sections.
	col := func(w, f byte) []byte {
		return append(append(appendBytes(appendString(AppendCompactHeader(nil, 1), "t"), nil), 1, w, f, 0), 1)
	}
	bad := [][]byte{
		append(col(3, 1), 0, 0, 0),
		append(col(8, 0x21), 0, 0, 0),
		append(col(8, 9), 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0),
		append(col(8, 0x11), 2, 7, 0, 0),
		{0, 0},
	}
	for i, d := range bad {
		if err := rangeGroup(GroupState{Data: d}, nil); !errors.Is(err, ErrCorrupt) {
			t.Errorf("bad blob %d: %v", i, err)
		}
	}
}
