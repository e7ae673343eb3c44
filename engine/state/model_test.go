package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// entry is the model's value.
type entry struct {
	value     string
	expiresAt int64
}

// operator is P stores of one operator plus the model: a plain map over
// the whole key space. Keys go to the store the routing would send them
// to, as a keyed shuffle does.
type operator struct {
	t      *testing.T
	groups int
	stores []*Store
	model  map[string]map[string]entry // table -> key -> entry
}

func (o *operator) store(key []byte) (*Store, int) {
	g := place(key, o.groups)
	return o.stores[SubtaskOf(g, len(o.stores), o.groups)], g
}

// rescale snapshots every store, encodes and decodes the snapshots, and
// restores them at parallelism p.
func (o *operator) rescale(p int, epoch uint64) {
	var snaps []*Snapshot
	for _, s := range o.stores {
		snaps = append(snaps, s.Snapshot(epoch))
	}
	snaps = roundTrip(o.t, snaps)
	o.stores = make([]*Store, p)
	for i := range p {
		o.stores[i] = mustNew(o.t, Config{OperatorID: "op", Subtask: i, Parallelism: p, MaxKeyGroups: o.groups}, snaps)
	}
}

// check compares every store with the model: each entry exactly once, in
// the store and key group its key routes to, with its value and expiry.
func (o *operator) check(where string) {
	o.t.Helper()
	for table, want := range o.model {
		got := map[string]entry{}
		for si, s := range o.stores {
			kt := s.Keyed(table)
			lo, hi := s.KeyGroups()
			n := 0
			for g := lo; g < hi; g++ {
				err := kt.Range(g, func(k, v []byte, at int64) error {
					if _, dup := got[string(k)]; dup {
						return fmt.Errorf("key %x twice", k)
					}
					if pg := place(k, o.groups); pg != g {
						return fmt.Errorf("key %x in group %d, routes to %d", k, g, pg)
					}
					got[string(k)] = entry{string(v), at}
					n++
					return nil
				})
				if err != nil {
					o.t.Fatalf("%s: table %s subtask %d: %v", where, table, si, err)
				}
			}
			if n != kt.Len() {
				o.t.Fatalf("%s: table %s subtask %d: Len %d, Range saw %d", where, table, si, kt.Len(), n)
			}
		}
		if !maps.Equal(got, want) {
			o.t.Fatalf("%s: table %s: %d entries, model %d; %s", where, table, len(got), len(want), mapDiff(got, want))
		}
		for k, e := range want {
			s, g := o.store([]byte(k))
			v, ok := s.Keyed(table).Get(g, []byte(k))
			if !ok || string(v) != e.value {
				o.t.Fatalf("%s: Get(%x) = %q, %v; want %q", where, k, v, ok, e.value)
			}
		}
	}
}

func mapDiff(got, want map[string]entry) string {
	for k, e := range want {
		if g, ok := got[k]; !ok || g != e {
			return fmt.Sprintf("key %x: got %+v (%v), want %+v", k, g, ok, e)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			return fmt.Sprintf("key %x: got %+v, not in the model", k, g)
		}
	}
	return ""
}

// TestModel runs random operations against P stores and a plain map:
// puts (same-length and resized values, new and changed expiries), gets,
// deletes, watermarks that expire entries, and snapshot/restore at a new
// parallelism, with slab compaction forced on.
func TestModel(t *testing.T) {
	compactSmall(t)
	rnd := newRand(t)
	for iter := range 30 {
		groups := []int{1, 3, 7, 128, 300}[rnd.IntN(5)]
		o := &operator{t: t, groups: groups, model: map[string]map[string]entry{"a": {}, "b": {}}}
		o.rescale(1+rnd.IntN(5), 0)
		keys := 1 + rnd.IntN(500)
		wm := int64(0)
		epoch := uint64(1)
		for step := range 3000 {
			table := []string{"a", "b"}[rnd.IntN(2)]
			key := key8(uint64(rnd.IntN(keys)))
			s, g := o.store(key)
			kt := s.Keyed(table)
			switch op := rnd.IntN(100); {
			case op < 50:
				v := strings.Repeat(string(rune('a'+rnd.IntN(26))), rnd.IntN(3)*rnd.IntN(20))
				at := int64(NoExpiry)
				if rnd.IntN(3) > 0 {
					at = wm + 1 + rnd.Int64N(100)
				}
				kt.Put(g, key, []byte(v), at)
				o.model[table][string(key)] = entry{v, at}
			case op < 70:
				v, ok := kt.Get(g, key)
				want, wok := o.model[table][string(key)]
				if ok != wok || string(v) != want.value {
					t.Fatalf("iter %d step %d: Get(%x) = %q, %v; model %q, %v", iter, step, key, v, ok, want.value, wok)
				}
				if at, _ := kt.Expiry(g, key); ok && at != want.expiresAt {
					t.Fatalf("iter %d step %d: Expiry(%x) = %d, model %d", iter, step, key, at, want.expiresAt)
				}
			case op < 85:
				_, wok := o.model[table][string(key)]
				if got := kt.Delete(g, key); got != wok {
					t.Fatalf("iter %d step %d: Delete(%x) = %v, model %v", iter, step, key, got, wok)
				}
				delete(o.model[table], string(key))
			case op < 97:
				wm += rnd.Int64N(40)
				for _, table := range []string{"a", "b"} {
					var expired []string
					for _, s := range o.stores {
						last := int64(-1 << 63)
						_, err := s.Keyed(table).ScanExpired(wm, func(g int, k, v []byte) error {
							at := o.model[table][string(k)].expiresAt
							if at < last {
								return fmt.Errorf("expiry %d after %d", at, last)
							}
							last = at
							if want := o.model[table][string(k)].value; want != string(v) {
								return fmt.Errorf("expired %x = %q, model %q", k, v, want)
							}
							expired = append(expired, string(k))
							return nil
						})
						if err != nil {
							t.Fatalf("iter %d step %d: ScanExpired: %v", iter, step, err)
						}
					}
					var want []string
					for k, e := range o.model[table] {
						if e.expiresAt <= wm {
							want = append(want, k)
							delete(o.model[table], k)
						}
					}
					slices.Sort(expired)
					slices.Sort(want)
					if !slices.Equal(expired, want) {
						t.Fatalf("iter %d step %d: watermark %d expired %d entries, model %d", iter, step, wm, len(expired), len(want))
					}
				}
			default:
				o.rescale(1+rnd.IntN(7), epoch)
				epoch++
				o.check(fmt.Sprintf("iter %d step %d after rescale to %d", iter, step, len(o.stores)))
			}
		}
		o.check(fmt.Sprintf("iter %d end", iter))
	}
}

// TestRescale follows one operator's state from parallelism 1 to 3 to 2
// (and 3 to 5): every entry exactly once, in the subtask that owns its key
// group, with the expiries intact, at the default key-group count.
func TestRescale(t *testing.T) {
	o := &operator{t: t, groups: MaxKeyGroups, model: map[string]map[string]entry{"sums": {}, "windows": {}}}
	o.rescale(1, 0)
	for i := range 5000 {
		key := key8(uint64(i))
		s, g := o.store(key)
		v := fmt.Sprintf("v%d", i)
		s.Keyed("sums").Put(g, key, []byte(v), NoExpiry)
		o.model["sums"][string(key)] = entry{v, NoExpiry}
		if i%3 == 0 {
			s.Keyed("windows").Put(g, key, []byte(v), int64(i))
			o.model["windows"][string(key)] = entry{v, int64(i)}
		}
	}
	for i, p := range []int{3, 2, 2, 5, 1} {
		o.rescale(p, uint64(i+1))
		o.check(fmt.Sprintf("at parallelism %d", p))
		for si, s := range o.stores {
			lo, hi := s.KeyGroups()
			if wlo, whi := KeyGroupRange(si, p, MaxKeyGroups); lo != wlo || hi != whi {
				t.Fatalf("subtask %d of %d owns [%d, %d), want [%d, %d)", si, p, lo, hi, wlo, whi)
			}
		}
	}
	// Restored expiries still fire.
	n := 0
	for _, s := range o.stores {
		k, err := s.Keyed("windows").ScanExpired(2999, nil)
		if err != nil {
			t.Fatal(err)
		}
		n += k
	}
	if n != 1000 {
		t.Fatalf("expired %d restored entries, want 1000", n)
	}
}

// TestSnapshotCorrupt checks that damaged snapshot bytes are a clear
// error wrapping ErrCorrupt, never a panic or a silent partial restore.
func TestSnapshotCorrupt(t *testing.T) {
	s := mustNew(t, Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: 8}, nil)
	for i := range 40 {
		key := key8(uint64(i))
		s.Keyed("t").Put(place(key, 8), key, []byte("value"), int64(i))
	}
	s.Global("g").Put("split", []byte("offset"))
	data, err := s.Snapshot(3).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var sn Snapshot
	for n := range len(data) {
		err := sn.UnmarshalBinary(data[:n])
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d of %d bytes: %v", n, len(data), err)
		}
	}
	if err := sn.UnmarshalBinary(nil); err == nil || err.Error() != "state: corrupt state snapshot: truncated: 0 bytes, the smallest snapshot has 9" {
		t.Errorf("UnmarshalBinary(nil) = %v", err)
	}
	if err := sn.UnmarshalBinary(data[:len(data)-1]); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("one byte short: %v", err)
	}
	for i := range data {
		bad := bytes.Clone(data)
		bad[i] ^= 0x10
		if err := sn.UnmarshalBinary(bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
	bad := bytes.Clone(data)
	bad[4] = 9
	if err := sn.UnmarshalBinary(bad); err == nil || !strings.Contains(err.Error(), "snapshot version 9, this build reads versions 1 to 5") {
		t.Errorf("future version: %v", err)
	}
	// Versions 1 (no key group in several parts) and 2 (no references)
	// are read as they are.
	if err := sn.UnmarshalBinary(data); err != nil {
		t.Fatalf("intact snapshot: %v", err)
	}
	for _, v := range []byte{1, 2} {
		var back Snapshot
		if err := back.UnmarshalBinary(legacyEncode(&sn, v)); err != nil {
			t.Errorf("version %d: %v", v, err)
		} else if !reflect.DeepEqual(back, sn) {
			t.Errorf("version %d decodes to %+v, want %+v", v, back, sn)
		}
	}
	if err := sn.UnmarshalBinary(data); err != nil {
		t.Fatalf("intact snapshot: %v", err)
	}
	// A well-framed snapshot whose group data is damaged (as a bug in an
	// encoder would make it) fails the restore with ErrCorrupt too.
	damaged := sn
	damaged.Groups = slices.Clone(sn.Groups)
	damaged.Groups[0].Data = damaged.Groups[0].Data[:len(damaged.Groups[0].Data)-1]
	if _, err := New(Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: 8}, []*Snapshot{&damaged}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("restore of damaged group data: %v", err)
	}
}

// FuzzSnapshot feeds arbitrary bytes (with a valid checksum, so the
// decoder's framing is exercised) to UnmarshalBinary and then to a restore:
// errors are fine, panics are not.
func FuzzSnapshot(f *testing.F) {
	s := mustNew(f, Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: 4}, nil)
	s.Keyed("t").Put(1, []byte("k"), []byte("v"), 5)
	s.Keyed("t").Put(2, []byte("k2"), []byte("v"), NoExpiry)
	s.Global("g").Put("a", []byte("b"))
	data, _ := s.Snapshot(1).MarshalBinary()
	f.Add(data[5 : len(data)-4])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		b := append([]byte(snapshotMagic+"\x01"), body...)
		b = binary.LittleEndian.AppendUint32(b, crc32c(b))
		var sn Snapshot
		if sn.UnmarshalBinary(b) != nil {
			return
		}
		cfg := Config{OperatorID: sn.OperatorID, Parallelism: 1, MaxKeyGroups: sn.MaxKeyGroups}
		_, _ = New(cfg, []*Snapshot{&sn})
	})
}

// TestAllocs: reading and rewriting existing entries, the per-row work of
// an aggregate, allocate nothing.
func TestAllocs(t *testing.T) {
	s := mustNew(t, Config{OperatorID: "op", Parallelism: 1}, nil)
	kt := s.Keyed("t")
	keys := make([][]byte, 1000)
	for i := range keys {
		keys[i] = key8(uint64(i))
		kt.Put(place(keys[i], MaxKeyGroups), keys[i], key8(0), int64(i))
	}
	val := key8(42)
	i := 0
	if n := testing.AllocsPerRun(1000, func() {
		k := keys[i%len(keys)]
		g := place(k, MaxKeyGroups)
		v, _ := kt.Get(g, k)
		binary.LittleEndian.PutUint64(val, binary.LittleEndian.Uint64(v)+1)
		kt.Put(g, k, val, int64(i%len(keys)))
		i++
	}); n != 0 {
		t.Fatalf("Get+Put of an existing key: %v allocations", n)
	}
}

// TestHeapObjects checks that the garbage collector does not see one
// object per entry: a million entries (with expiries) add a few hundred
// heap objects, not a million.
func TestHeapObjects(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a million entries")
	}
	const n = 1_000_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := mustNew(t, Config{OperatorID: "op", Parallelism: 1}, nil)
	kt := s.Keyed("t")
	for i := range uint64(n) {
		k := key8(i * 0x9e3779b97f4a7c15)
		kt.Put(place(k, MaxKeyGroups), k, k, int64(i))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	objects := int64(after.HeapObjects) - int64(before.HeapObjects)
	t.Logf("%d entries: %d more heap objects, %d MB of state", n, objects, kt.MemoryBytes()>>20)
	if objects > n/1000 {
		t.Fatalf("%d entries made %d heap objects: the GC scans per entry", n, objects)
	}
	runtime.KeepAlive(s)
}

// TestCompaction checks that rewritten and deleted entries do not pile up
// in the slabs: churning 1000 keys 200 times keeps the table near its live
// size, and an emptied group gives its slab back.
func TestCompaction(t *testing.T) {
	s := mustNew(t, Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: 4}, nil)
	kt := s.Keyed("t")
	for round := range 200 {
		for i := range 1000 {
			k := key8(uint64(i))
			kt.Put(place(k, 4), k, bytes.Repeat([]byte{'x'}, 10+10*(round%2)), NoExpiry)
		}
	}
	// Live: 1000 records of 16+8+20 bytes, plus index slots.
	if m := kt.MemoryBytes(); m > 200_000 {
		t.Fatalf("1000 live entries hold %d bytes after churn", m)
	}
	for i := range 1000 {
		k := key8(uint64(i))
		kt.Delete(place(k, 4), k)
	}
	for g := range 4 {
		if c := cap(kt.groups[g].slab); c != 0 {
			t.Fatalf("emptied group %d keeps a %d-byte slab", g, c)
		}
	}
}

func benchTable(b *testing.B, n int) (*KeyedTable, [][]byte, []int) {
	s := mustNew(b, Config{OperatorID: "op", Parallelism: 1}, nil)
	kt := s.Keyed("t")
	keys := make([][]byte, n)
	groups := make([]int, n)
	for i := range keys {
		keys[i] = key8(uint64(i) * 0x9e3779b97f4a7c15)
		groups[i] = place(keys[i], MaxKeyGroups)
		kt.Put(groups[i], keys[i], key8(uint64(i)), NoExpiry)
	}
	return kt, keys, groups
}

// BenchmarkKeyed measures Get and Put (existing keys, same-size values, as
// an aggregate's update) and Insert (new keys) at a million entries.
func BenchmarkKeyed(b *testing.B) {
	const n = 1_000_000
	b.Run("Get", func(b *testing.B) {
		kt, keys, groups := benchTable(b, n)
		b.ResetTimer()
		for i := range b.N {
			j := (i * 7919) % n
			if _, ok := kt.Get(groups[j], keys[j]); !ok {
				b.Fatal("missing")
			}
		}
	})
	// The reference: a Go map with a pointer per entry, which the GC scans.
	b.Run("GoMapGet", func(b *testing.B) {
		m := make(map[string][]byte, n)
		keys := make([][]byte, n)
		for i := range keys {
			keys[i] = key8(uint64(i) * 0x9e3779b97f4a7c15)
			m[string(keys[i])] = key8(uint64(i))
		}
		b.ResetTimer()
		for i := range b.N {
			j := (i * 7919) % n
			if _, ok := m[string(keys[j])]; !ok {
				b.Fatal("missing")
			}
		}
	})
	b.Run("Put", func(b *testing.B) {
		kt, keys, groups := benchTable(b, n)
		v := key8(1)
		b.ResetTimer()
		for i := range b.N {
			j := (i * 7919) % n
			kt.Put(groups[j], keys[j], v, NoExpiry)
		}
	})
	b.Run("Insert", func(b *testing.B) {
		s := mustNew(b, Config{OperatorID: "op", Parallelism: 1}, nil)
		kt := s.Keyed("t")
		k := make([]byte, 8)
		for i := range b.N {
			binary.LittleEndian.PutUint64(k, uint64(i)*0x9e3779b97f4a7c15)
			kt.Put(place(k, MaxKeyGroups), k, k, int64(i))
		}
	})
	b.Run("Snapshot", func(b *testing.B) {
		kt, _, _ := benchTable(b, n)
		s := mustNew(b, Config{OperatorID: "op", Parallelism: 1}, nil)
		s.keyed["t"] = kt
		b.ResetTimer()
		for range b.N {
			data, _ := s.Snapshot(1).MarshalBinary()
			b.SetBytes(int64(len(data)))
		}
	})
}

// legacyEncode is the encoding of versions 1 and 2 (no file table, no
// part kinds), which this build still reads.
func legacyEncode(s *Snapshot, version byte) []byte {
	b := append([]byte(snapshotMagic), version)
	b = appendString(b, s.OperatorID)
	b = binary.AppendUvarint(b, s.Epoch)
	b = binary.AppendUvarint(b, uint64(s.Subtask))
	b = binary.AppendUvarint(b, uint64(s.Parallelism))
	b = binary.AppendUvarint(b, uint64(s.MaxKeyGroups))
	b = binary.AppendUvarint(b, uint64(len(s.Groups)))
	for _, g := range s.Groups {
		b = binary.AppendUvarint(b, uint64(g.Group))
		b = appendBytes(b, g.Data)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Global)))
	for _, e := range s.Global {
		b = appendString(b, e.Table)
		b = appendString(b, e.Key)
		b = appendBytes(b, e.Value)
	}
	return binary.LittleEndian.AppendUint32(b, crc32c(b))
}
