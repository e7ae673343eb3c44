package ops

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
	"github.com/arroyogo/arroyo/engine/types"
)

// TestRowSlabModel runs random operations on a rowSlab and on a map of
// slices (the model) and checks they agree after each: every key is found
// (and a removed one is not), each side's rows are the model's in arrival
// order, and ranging sees exactly the live keys. Hashes collide on
// purpose (a 1 in 8 chance of a hash shared by many keys) so probing,
// backward-shift deletion and the byte comparison are all exercised;
// compaction and reuse after reset are too.
func TestRowSlabModel(t *testing.T) {
	type mrow struct {
		b     string
		count int32
	}
	for seed := uint64(0); seed < 4; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		s := &rowSlab{}
		model := map[string]*[2][]mrow{}
		hashOf := func(key string) uint64 {
			if key[len(key)-1]%8 == 0 {
				return 42 // many keys, one hash
			}
			h := uint64(14695981039346656037)
			for i := 0; i < len(key); i++ {
				h = (h ^ uint64(key[i])) * 1099511628211
			}
			return h
		}
		check := func(step int) {
			t.Helper()
			if s.live != len(model) {
				t.Fatalf("seed %d step %d: %d live keys, model %d", seed, step, s.live, len(model))
			}
			seen := 0
			for _, k := range s.liveKeys(nil) {
				m := model[string(s.key(k))]
				if m == nil {
					t.Fatalf("seed %d step %d: key %q is not in the model", seed, step, s.key(k))
				}
				seen++
				for side := 0; side < 2; side++ {
					var got []mrow
					for x := s.keys[k].head[side]; x >= 0; x = s.rows[x].next {
						got = append(got, mrow{string(s.row(x)), s.rows[x].count})
					}
					if !slices.Equal(got, m[side]) || int(s.keys[k].n[side]) != len(m[side]) {
						t.Fatalf("seed %d step %d: key %q side %d: %v (n %d), model %v", seed, step, s.key(k), side, got, s.keys[k].n[side], m[side])
					}
				}
			}
			for key := range model {
				if k := s.find([]byte(key), hashOf(key)); k < 0 || string(s.key(k)) != key {
					t.Fatalf("seed %d step %d: key %q not found (%d)", seed, step, key, k)
				}
			}
			if seen != len(model) {
				t.Fatalf("seed %d step %d: ranged over %d keys, model %d", seed, step, seen, len(model))
			}
		}
		// The slab tracks its changes by key group; every few steps its
		// parts are brought up to date, and must equal an encoding from
		// scratch: a key group left alone keeps its blob and slot (a
		// change the tracking missed would show there).
		const groups = 128
		prefix := []byte("pfx\x00\x01\x02\x03\x04")
		s.track(groups)
		var prev [][]byte
		var prevSlots []*state.PartSlot
		reused, encoded := 0, 0
		checkParts := func(step int) {
			t.Helper()
			if s.parts != nil {
				prev = slices.Clone(s.parts.bufs)
				prevSlots = slices.Clone(s.parts.slots)
			}
			if err := s.encodeParts(0, groups, groups, prefix, joinEntries); err != nil {
				t.Fatal(err)
			}
			want := refParts(s, groups, prefix)
			bytes := 0
			for g := range groups {
				got := s.parts.bufs[g]
				bytes += len(got)
				if !slices.Equal(got, want[g]) {
					t.Fatalf("seed %d step %d: key group %d: parts %x, want %x", seed, step, g, got, want[g])
				}
				if (s.parts.count[g] > 0) != (s.parts.slots[g] != nil) {
					t.Fatalf("seed %d step %d: key group %d: %d entries, slot %p", seed, step, g, s.parts.count[g], s.parts.slots[g])
				}
				if prev != nil && len(got) > 0 {
					if len(prev[g]) > 0 && &prev[g][0] == &got[0] {
						reused++
						if prevSlots[g] != s.parts.slots[g] {
							t.Fatalf("seed %d step %d: key group %d: the same blob with a new slot", seed, step, g)
						}
					} else {
						encoded++
					}
				}
			}
			if bytes != s.partBytes {
				t.Fatalf("seed %d step %d: parts hold %d bytes, partBytes %d", seed, step, bytes, s.partBytes)
			}
		}
		for step := 0; step < 20000; step++ {
			key := fmt.Sprintf("k%d", r.IntN(600))
			h := hashOf(key)
			switch op := r.IntN(100); {
			case op < 55:
				row := fmt.Sprintf("r%d-%s", r.IntN(5), key)
				side := r.IntN(2)
				k := s.lookup([]byte(key), h)
				copies := int32(1)
				if r.IntN(8) == 0 {
					copies = 1 + r.Int32N(200) // a restored row's copies
				}
				s.appendRow(k, side, []byte(row), copies)
				m := model[key]
				if m == nil {
					m = &[2][]mrow{}
					model[key] = m
				}
				m[side] = append(m[side], mrow{row, copies})
			case op < 80:
				row := fmt.Sprintf("r%d-%s", r.IntN(5), key)
				side := r.IntN(2)
				k := s.find([]byte(key), h)
				m := model[key]
				if (k >= 0) != (m != nil) {
					t.Fatalf("seed %d step %d: find %q = %d, model has it: %v", seed, step, key, k, m != nil)
				}
				if k < 0 {
					continue
				}
				i := slices.IndexFunc(m[side], func(x mrow) bool { return x.b == row })
				if got := s.removeRow(k, side, []byte(row)); got != (i >= 0) {
					t.Fatalf("seed %d step %d: removeRow %q %q = %v", seed, step, key, row, got)
				}
				if i >= 0 && m[side][i].count > 1 {
					m[side][i].count--
				} else if i >= 0 {
					m[side] = slices.Delete(m[side], i, i+1)
				}
				if s.empty(k) {
					s.deleteKey(k)
					delete(model, key)
				}
			case op < 85:
				// An updating join's last event time.
				if k := s.find([]byte(key), h); k >= 0 {
					s.touch(k, int64(r.IntN(1000)))
				}
			case op < 90:
				if k := s.find([]byte(key), h); k >= 0 {
					s.deleteKey(k)
					delete(model, key)
				}
			case op < 93:
				s.compact()
			case op < 94:
				// Keep every other row of one side (as a top-N prune does).
				if k := s.find([]byte(key), h); k >= 0 {
					side := r.IntN(2)
					s.keepRows(k, side, func(i int) bool { return i%2 == 0 })
					m := model[key]
					var kept []mrow
					for i, x := range m[side] {
						if i%2 == 0 {
							kept = append(kept, x)
						}
					}
					m[side] = kept
					if s.empty(k) {
						s.deleteKey(k)
						delete(model, key)
					}
				}
			case op < 95:
				s.reset()
				clear(model)
			default:
				// An unindexed key (a NULL key's row) is ranged over,
				// never found.
				k := s.addKey([]byte("\xffnull"), h, false)
				if s.find([]byte("\xffnull"), h) == k {
					t.Fatalf("seed %d step %d: an unindexed key was found", seed, step)
				}
				s.deleteKey(k)
			}
			if step%97 == 0 {
				check(step)
			}
			if step%7 == 0 {
				checkParts(step)
			}
		}
		check(-1)
		checkParts(-1)
		if reused == 0 || encoded == 0 {
			t.Errorf("seed %d: %d key groups' parts reused, %d encoded: the test exercises neither", seed, reused, encoded)
		}
	}
}

// refParts is the join's checkpoint encoding of s's key groups [0,
// groups), built entry by entry with state.AppendEntryParts (what the
// join wrote before encodeParts), keys in index order.
func refParts(s *rowSlab, groups int, prefix []byte) [][]byte {
	entries := make([][]byte, groups)
	count := make([]int, groups)
	for k := range s.keys {
		e := &s.keys[k]
		if !e.live {
			continue
		}
		val := binary.LittleEndian.AppendUint64(nil, e.hash)
		val = binary.AppendVarint(val, e.seen)
		for side := 0; side < 2; side++ {
			val = binary.AppendUvarint(val, uint64(e.n[side]))
			for r := e.head[side]; r >= 0; r = s.rows[r].next {
				val = binary.AppendUvarint(val, uint64(s.rows[r].count))
				val = binary.AppendUvarint(val, uint64(len(s.row(r))))
				val = append(val, s.row(r)...)
			}
		}
		g := state.KeyGroupOf(e.hash, groups)
		entries[g] = state.AppendEntryParts(entries[g], prefix, s.key(int32(k)), val, state.NoExpiry)
		count[g]++
	}
	out := make([][]byte, groups)
	for g := range out {
		if count[g] > 0 {
			out[g] = append(state.AppendGroupHeader(nil, groupTable, count[g]), entries[g]...)
		}
	}
	return out
}

// TestSlabPartsWinFuncFormat: a window function's slabs encoded by
// encodeParts in winFuncEntries hold exactly the entries
// WindowFunc.Checkpoint writes (so it could use it), top-N prunes
// included.
func TestSlabPartsWinFuncFormat(t *testing.T) {
	for _, limit := range []int64{0, 3} {
		n := &program.Node{Op: program.OpWindowFunc, OperatorID: "wf",
			Schema: types.NewSchema(types.Field{Name: "v", Type: types.Int64T}, types.Field{Name: "rn", Type: types.UInt64T}, types.Field{Name: types.TimestampField, Type: types.TimestampT}),
			WindowFunc: &program.WindowFunc{Keys: 1, Cols: 1, Row: []types.Type{types.Int64T}, Limit: limit,
				Order: []program.SortKey{{Col: 1, Desc: true, NullsFirst: true}},
				Calls: []program.WinCall{{Func: "row_number", Arg: -1, Type: types.UInt64T}}}}
		task := TaskInfo{OperatorID: "wf", Parallelism: 1, KeyGroups: [2]int{0, state.MaxKeyGroups}, MaxKeyGroups: state.MaxKeyGroups}
		w, err := NewWindowFunc(n, task)
		if err != nil {
			t.Fatal(err)
		}
		k := &coldata.Vec[int64]{T: types.Int64T}
		v := &coldata.Vec[int64]{T: types.Int64T}
		ts := &coldata.Vec[int64]{T: types.TimestampT}
		for i := int64(0); i < 20000; i++ { // 166 rows per partition: a top-3 prunes
			k.Append(i % 40)
			v.Append(i * 7919 % 1000)
			ts.Append(10 * (i % 3))
		}
		if err := w.Process(context.Background(), 0, coldata.NewBatch([]coldata.Vector{k, v, ts}, 20000), nopCollector{}); err != nil {
			t.Fatal(err)
		}
		most := int32(0)
		for _, bk := range w.buckets {
			for _, e := range bk.keys {
				most = max(most, e.n[0])
			}
		}
		if (limit > 0) != (most < 100) {
			t.Fatalf("limit %d: a partition has %d rows", limit, most)
		}
		entries := func(snap *state.Snapshot) []string {
			st, err := state.New(state.Config{OperatorID: "wf", Parallelism: 1, MaxKeyGroups: state.MaxKeyGroups}, []*state.Snapshot{snap})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			if err := st.RangeRestoredKeyed(groupTable, func(g int, key, val []byte, exp int64) error {
				out = append(out, fmt.Sprintf("%d %x %x %d", g, key, val, exp))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			slices.Sort(out)
			return out
		}
		h, err := w.Checkpoint(context.Background(), Barrier{Epoch: 1}, nopCollector{})
		if err != nil {
			t.Fatal(err)
		}
		want := entries(h.(*state.Snapshot))
		st, err := state.New(state.Config{OperatorID: "wf", Parallelism: 1, MaxKeyGroups: state.MaxKeyGroups}, nil)
		if err != nil {
			t.Fatal(err)
		}
		tab := &slabTable{lo: 0}
		for t0, bk := range w.buckets {
			if err := bk.encodeParts(0, state.MaxKeyGroups, state.MaxKeyGroups, binary.BigEndian.AppendUint64(nil, uint64(t0)), winFuncEntries); err != nil {
				t.Fatal(err)
			}
			tab.parts = append(tab.parts, bk.parts)
		}
		got := entries(st.SnapshotWith(1, map[string]state.TableEncoder{groupTable: tab}, 0))
		if len(want) < 40 || !slices.Equal(got, want) {
			t.Errorf("limit %d: %d entries, WindowFunc.Checkpoint's %d", limit, len(got), len(want))
		}
		// The table copied group by group (state.TableEncoder, as a
		// snapshot does when another table shares the group) holds the
		// same entries.
		copied := &state.Snapshot{OperatorID: "wf", Parallelism: 1, MaxKeyGroups: state.MaxKeyGroups}
		for g := range state.MaxKeyGroups {
			if tab.GroupLen(g) == 0 {
				continue
			}
			b := state.AppendGroupHeader(nil, groupTable, tab.GroupLen(g))
			hdr := len(b)
			b = tab.AppendGroup(b, g)
			if len(b)-hdr != tab.GroupSize(g) {
				t.Fatalf("key group %d: %d bytes appended, GroupSize %d", g, len(b)-hdr, tab.GroupSize(g))
			}
			copied.Groups = append(copied.Groups, state.GroupState{Group: g, Data: b})
		}
		if got := entries(copied); !slices.Equal(got, want) {
			t.Errorf("limit %d: %d entries copied, WindowFunc.Checkpoint's %d", limit, len(got), len(want))
		}
	}
}

type nopCollector struct{}

func (nopCollector) Collect(*coldata.Batch) error { return nil }
