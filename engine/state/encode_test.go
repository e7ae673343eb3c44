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

// TestSnapshotWith checks that entries from encoders (sized and not)
// restore like entries of the store's own tables, at another parallelism,
// through Keyed and through RangeRestoredKeyed, and that Encoded is the
// encoding MarshalBinary makes.
func TestSnapshotWith(t *testing.T) {
	const K = 8
	for _, sized := range []bool{false, true} {
		t.Run(fmt.Sprintf("sized=%v", sized), func(t *testing.T) {
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
			if sized {
				te = sizedEncoder{enc}
			}
			snap := st.SnapshotWith(5, map[string]TableEncoder{"groups": te}, 0)
			data, err := snap.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			shared, err := snap.Encoded()
			if err != nil || !bytes.Equal(shared, data) {
				t.Fatalf("Encoded differs from MarshalBinary (%v)", err)
			}
			// The cached encoding is not used once the snapshot changed.
			moved := *snap
			moved.Epoch = 6
			if again, _ := moved.Encoded(); bytes.Equal(again, data) {
				t.Fatal("Encoded of a changed snapshot returned the old encoding")
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
