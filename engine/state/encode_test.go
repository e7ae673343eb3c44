package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// sliceEncoder is a TableEncoder over entries kept by key group, sized
// or not.
type sliceEncoder struct {
	byGroup map[int][][2][]byte
}

func (e sliceEncoder) GroupLen(g int) int { return len(e.byGroup[g]) }

func (e sliceEncoder) AppendGroup(b []byte, g int) []byte {
	for _, kv := range e.byGroup[g] {
		b = AppendEntryParts(b, kv[0][:1], kv[0][1:], kv[1], NoExpiry)
	}
	return b
}

type sizedEncoder struct{ sliceEncoder }

func (e sizedEncoder) GroupSize(g int) int { return len(e.AppendGroup(nil, g)) }

// blobEncoder hands over each group as blobs of at most 7 entries.
type blobEncoder struct{ sliceEncoder }

func (e blobEncoder) Blobs(g int, add func([]byte, *PartSlot)) {
	for _, b := range e.blobs(g) {
		add(b, new(PartSlot))
	}
}

func (e blobEncoder) blobs(g int) [][]byte {
	var out [][]byte
	kvs := e.byGroup[g]
	for len(kvs) > 0 {
		n := min(len(kvs), 7)
		b := AppendGroupHeader(nil, "groups", n)
		for _, kv := range kvs[:n] {
			b = AppendEntry(b, kv[0], kv[1], NoExpiry)
		}
		out = append(out, b)
		kvs = kvs[n:]
	}
	return out
}

// TestSnapshotWith checks that entries from encoders (sized and not)
// restore like entries of the store's own tables, at another parallelism,
// through Keyed and through RangeRestoredKeyed, and that EncodeTo writes
// the encoding MarshalBinary makes.
func TestSnapshotWith(t *testing.T) {
	const K = 8
	for _, kind := range []string{"append", "sized", "blobs"} {
		t.Run(kind, func(t *testing.T) {
			st := mustNew(t, Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: K}, nil)
			enc := sliceEncoder{byGroup: map[int][][2][]byte{}}
			want := map[string]string{}
			for i := range 200 {
				key := key8(uint64(i))
				g := place(key, K)
				enc.byGroup[g] = append(enc.byGroup[g], [2][]byte{key, []byte(fmt.Sprint("v", i))})
				want[string(key)] = fmt.Sprint("v", i)
				if i%3 == 0 {
					st.Keyed("own").Put(g, key, []byte("own"), int64(i))
				}
			}
			st.Global("wm").Put("0", []byte{7})
			var te TableEncoder = enc
			switch kind {
			case "sized":
				te = sizedEncoder{enc}
			case "blobs":
				// Blobs are referred to where the table is alone in a
				// group (the odd ones), and copied elsewhere.
				for g := 1; g < K; g += 2 {
					for _, kv := range enc.byGroup[g] {
						st.Keyed("own").Delete(g, kv[0])
					}
				}
				te = blobEncoder{enc}
			}
			snap := st.SnapshotWith(5, map[string]TableEncoder{"groups": te}, 0)
			data, err := snap.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var w bytes.Buffer
			size, sum, err := snap.EncodeTo(&w)
			if err != nil || !bytes.Equal(w.Bytes(), data) || size != int64(len(data)) || sum != crc32c(data) {
				t.Fatalf("EncodeTo differs from MarshalBinary (%v): %d bytes, %d written, sum %08x", err, len(data), size, sum)
			}
			back, err := DecodeSnapshot(data)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for sub := range 3 {
				s := mustNew(t, Config{OperatorID: "op", Subtask: sub, Parallelism: 3, MaxKeyGroups: K}, []*Snapshot{back})
				lo, hi := s.KeyGroups()
				if err := s.RangeRestoredKeyed("groups", func(g int, key, value []byte, exp int64) error {
					if g < lo || g >= hi || g != place(key, K) || exp != NoExpiry {
						t.Fatalf("entry of group %d (expiry %d) in subtask %d [%d, %d)", g, exp, sub, lo, hi)
					}
					got[string(key)] = string(value)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				// The same entries through the loaded table, and the
				// store's own table beside them.
				n := 0
				tab := s.Keyed("groups")
				if err := s.RangeRestoredKeyed("groups", func(g int, key, value []byte, _ int64) error {
					if v, ok := tab.Get(g, key); !ok || string(v) != want[string(key)] {
						t.Fatalf("key %x: %q %v", key, v, ok)
					}
					n++
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if n != tab.Len() {
					t.Fatalf("ranged %d of %d", n, tab.Len())
				}
				for g := lo; g < hi; g++ {
					_ = s.Keyed("own").Range(g, func(key, value []byte, exp int64) error {
						if string(value) != "own" || exp != int64(binary.LittleEndian.Uint64(key)) {
							t.Fatalf("own entry %x = %q, %d", key, value, exp)
						}
						return nil
					})
				}
			}
			if len(got) != len(want) {
				t.Fatalf("restored %d entries, want %d", len(got), len(want))
			}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("key %x: %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestRangeRestoredKeyedError: fn's error stops the range and comes back.
func TestRangeRestoredKeyedError(t *testing.T) {
	st := mustNew(t, Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: 4}, nil)
	for i := range 10 {
		st.Keyed("t").Put(i%4, []byte{byte(i)}, nil, NoExpiry)
	}
	back := mustNew(t, Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: 4}, []*Snapshot{st.Snapshot(1)})
	stop := errors.New("stop")
	n := 0
	err := back.RangeRestoredKeyed("t", func(int, []byte, []byte, int64) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("err %v after %d entries", err, n)
	}
}
