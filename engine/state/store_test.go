package state

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed for the randomized tests (0: time-based)")

func newRand(t testing.TB) *rand.Rand {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed)", seed)
	return rand.New(rand.NewPCG(seed, seed^0x5eed))
}

func mustNew(t testing.TB, cfg Config, snaps []*Snapshot) *Store {
	t.Helper()
	s, err := New(cfg, snaps)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// key8 is an 8-byte key; place is the key group a caller would compute
// from the key's placement hash.
func key8(k uint64) []byte { return binary.LittleEndian.AppendUint64(nil, k) }

func place(key []byte, groups int) int {
	h := uint64(0)
	for _, c := range key {
		h = (h ^ uint64(c)) * 0x100000001b3
	}
	return KeyGroupOf(h, groups)
}

func TestKeyedBasics(t *testing.T) {
	s := mustNew(t, Config{OperatorID: "op", Subtask: 0, Parallelism: 1}, nil)
	kt := s.Keyed("counts")
	if s.Keyed("counts") != kt {
		t.Fatal("Keyed returned a new table for the same name")
	}
	if _, ok := kt.Get(5, []byte("a")); ok {
		t.Fatal("Get on an empty table found something")
	}
	kt.Put(5, []byte("a"), []byte("1"), NoExpiry)
	kt.Put(5, []byte("b"), []byte("22"), 100)
	kt.Put(6, []byte("a"), []byte("other group"), NoExpiry)
	kt.Put(5, []byte("a"), []byte("3"), NoExpiry)  // same length: in place
	kt.Put(5, []byte("b"), []byte("4444"), 200)    // longer: moves to the end
	kt.Put(5, []byte(""), []byte("empty key"), 50) // an empty key is a key
	kt.Put(5, []byte("c"), nil, NoExpiry)          // and an empty value a value
	check := func(g int, key, want string) {
		t.Helper()
		v, ok := kt.Get(g, []byte(key))
		if !ok || string(v) != want {
			t.Fatalf("Get(%d, %q) = %q, %v; want %q", g, key, v, ok, want)
		}
	}
	check(5, "a", "3")
	check(5, "b", "4444")
	check(6, "a", "other group")
	check(5, "", "empty key")
	check(5, "c", "")
	if at, ok := kt.Expiry(5, []byte("b")); !ok || at != 200 {
		t.Fatalf("Expiry(b) = %d, %v", at, ok)
	}
	if kt.Len() != 5 || kt.GroupLen(5) != 4 || kt.GroupLen(6) != 1 {
		t.Fatalf("Len %d, group 5 %d, group 6 %d", kt.Len(), kt.GroupLen(5), kt.GroupLen(6))
	}
	var order []string
	if err := kt.Range(5, func(k, v []byte, at int64) error {
		order = append(order, fmt.Sprintf("%s=%s@%d", k, v, at))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// b's longer value moved it after a (rewritten in place), before the
	// later inserts.
	want := []string{"a=3@9223372036854775807", "b=4444@200", "=empty key@50", "c=@9223372036854775807"}
	if !slices.Equal(order, want) {
		t.Fatalf("Range order %v, want %v", order, want)
	}
	if !kt.Delete(5, []byte("a")) || kt.Delete(5, []byte("a")) {
		t.Fatal("Delete: want true then false")
	}
	if _, ok := kt.Get(5, []byte("a")); ok {
		t.Fatal("deleted key still there")
	}
	err := kt.Range(5, func(k, v []byte, at int64) error {
		kt.Put(5, []byte("x"), nil, NoExpiry)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "modified during Range") {
		t.Fatalf("Range with a modifying fn: %v", err)
	}
	stop := errors.New("stop")
	if err := kt.Range(5, func(k, v []byte, at int64) error { return stop }); err != stop {
		t.Fatalf("Range did not return fn's error: %v", err)
	}
}

func TestKeyGroupOutOfRange(t *testing.T) {
	s := mustNew(t, Config{OperatorID: "op", Subtask: 1, Parallelism: 3}, nil)
	if lo, hi := s.KeyGroups(); lo != 43 || hi != 86 {
		t.Fatalf("KeyGroups = [%d, %d)", lo, hi)
	}
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), `key group 42 is not in this subtask's range [43, 86)`) {
			t.Fatalf("recover() = %v", r)
		}
	}()
	s.Keyed("t").Put(42, []byte("k"), nil, NoExpiry)
}

func TestNewErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{OperatorID: "op", Subtask: 3, Parallelism: 3}, `operator "op": subtask 3 of parallelism 3`},
		{Config{OperatorID: "op", Subtask: 0, Parallelism: 0}, "subtask 0 of parallelism 0"},
		{Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: -1}, "max key groups -1: want 1..32768"},
		{Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: MaxKeyGroupsLimit + 1}, "max key groups 32769"},
	} {
		if _, err := New(c.cfg, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", c.cfg, err, c.want)
		}
	}
}

func TestScanExpired(t *testing.T) {
	compactSmall(t)
	s := mustNew(t, Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: 4}, nil)
	kt := s.Keyed("w")
	kt.Put(3, []byte("late"), []byte("v3"), 30)
	kt.Put(0, []byte("early"), []byte("v1"), 10)
	kt.Put(1, []byte("tie-b"), []byte("v2"), 20)
	kt.Put(0, []byte("tie-a"), []byte("v2"), 20)
	kt.Put(2, []byte("never"), []byte("v"), NoExpiry)
	kt.Put(2, []byte("moved"), []byte("v"), 15)
	kt.Put(2, []byte("moved"), []byte("v"), 40) // the timer at 15 goes stale
	kt.Put(2, []byte("gone"), []byte("v"), 12)
	kt.Delete(2, []byte("gone"))
	if at, ok := kt.NextExpiry(); !ok || at != 10 {
		t.Fatalf("NextExpiry = %d, %v", at, ok)
	}
	var got []string
	collect := func(g int, k, v []byte) error {
		got = append(got, fmt.Sprintf("%d/%s", g, k))
		return nil
	}
	if n, err := kt.ScanExpired(9, collect); n != 0 || err != nil || len(got) != 0 {
		t.Fatalf("ScanExpired(9) = %d, %v, %v", n, err, got)
	}
	n, err := kt.ScanExpired(20, collect)
	// Expiry order, then key group: tie-a (group 0) before tie-b (group 1).
	if want := []string{"0/early", "0/tie-a", "1/tie-b"}; err != nil || n != 3 || !slices.Equal(got, want) {
		t.Fatalf("ScanExpired(20) = %d, %v, %v; want %v", n, err, got, want)
	}
	if _, ok := kt.Get(1, []byte("tie-b")); ok || kt.Len() != 3 {
		t.Fatalf("expired entry still there, Len %d", kt.Len())
	}
	// The end-of-time watermark expires everything but NoExpiry entries.
	got = nil
	if n, err := kt.ScanExpired(NoExpiry, collect); n != 2 || err != nil || !slices.Equal(got, []string{"3/late", "2/moved"}) {
		t.Fatalf("ScanExpired(end) = %d, %v, %v", n, err, got)
	}
	if _, ok := kt.Get(2, []byte("never")); !ok || kt.Len() != 1 {
		t.Fatal("a NoExpiry entry expired")
	}
	if _, ok := kt.NextExpiry(); ok {
		t.Fatalf("NextExpiry after all expired: %v timers, %d stale", kt.timers, kt.stale)
	}
}

// TestScanExpiredCallbackModifies checks the ownership promise: key and
// value passed to fn stay intact while fn rewrites the table (compaction
// and slab growth included), and fn's error stops the scan.
func TestScanExpiredCallbackModifies(t *testing.T) {
	compactSmall(t)
	s := mustNew(t, Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: 1}, nil)
	kt := s.Keyed("w")
	for i := range 200 {
		kt.Put(0, key8(uint64(i)), []byte(fmt.Sprintf("value-%d", i)), int64(i))
	}
	seen := 0
	stop := errors.New("stop")
	n, err := kt.ScanExpired(150, func(g int, k, v []byte) error {
		i := binary.LittleEndian.Uint64(k)
		want := fmt.Sprintf("value-%d", i)
		for j := range 20 { // grow, overwrite and delete others
			kt.Put(0, key8(1000+uint64(j)), []byte(strings.Repeat("x", int(i)%50)), NoExpiry)
			kt.Delete(0, key8(199-uint64(j)))
		}
		if string(v) != want || binary.LittleEndian.Uint64(k) != i {
			return fmt.Errorf("entry %d changed under fn: %q", i, v)
		}
		if seen++; seen == 100 {
			return stop
		}
		return nil
	})
	if err != stop || n != 100 {
		t.Fatalf("ScanExpired = %d, %v; want 100, stop", n, err)
	}
	if kt.Len() != 200-100-20+20 {
		t.Fatalf("Len = %d", kt.Len())
	}
}

// compactSmall makes slabs compact as soon as they are half garbage, so
// tests exercise compaction.
func compactSmall(t *testing.T) {
	old := compactMinDead
	compactMinDead = 0
	t.Cleanup(func() { compactMinDead = old })
}

func TestGlobalRestoreUnion(t *testing.T) {
	var snaps []*Snapshot
	for i := range 3 {
		s := mustNew(t, Config{OperatorID: "src", Subtask: i, Parallelism: 3}, nil)
		g := s.Global("offsets")
		g.Put(fmt.Sprintf("split-%d", i), []byte{byte(i)})
		g.Put(fmt.Sprintf("split-%d", i+3), []byte{byte(i + 3)})
		s.Global("txn").Put("shared", []byte("same everywhere"))
		snaps = append(snaps, s.Snapshot(7))
	}
	for p := range 2 {
		s := mustNew(t, Config{OperatorID: "src", Subtask: p, Parallelism: 2}, roundTrip(t, snaps))
		g := s.Global("offsets")
		if g.Len() != 0 {
			t.Fatalf("live global table starts with %d entries", g.Len())
		}
		var keys []string
		_ = g.RangeRestored(func(k string, v []byte) error {
			if want := k[len(k)-1] - '0'; v[0] != want {
				t.Errorf("%s = %d", k, v[0])
			}
			keys = append(keys, k)
			return nil
		})
		if want := []string{"split-0", "split-1", "split-2", "split-3", "split-4", "split-5"}; !slices.Equal(keys, want) {
			t.Fatalf("subtask %d restored %v, want %v", p, keys, want)
		}
		if v, ok := s.Global("txn").Restored("shared"); !ok || string(v) != "same everywhere" {
			t.Fatalf("shared = %q, %v", v, ok)
		}
		// What the new subtask writes is what its next snapshot holds.
		g.Put("split-9", []byte("x"))
		if sn := s.Snapshot(8); len(sn.Global) != 1 || sn.Global[0].Key != "split-9" {
			t.Fatalf("snapshot after restore holds %+v", sn.Global)
		}
	}
}

func TestRestoreErrors(t *testing.T) {
	take := func(op string, p, groups int, epoch uint64, global map[int]string) []*Snapshot {
		var out []*Snapshot
		for i := range p {
			s := mustNew(t, Config{OperatorID: op, Subtask: i, Parallelism: p, MaxKeyGroups: groups}, nil)
			if v, ok := global[i]; ok {
				s.Global("g").Put("k", []byte(v))
			}
			out = append(out, s.Snapshot(epoch))
		}
		return out
	}
	three := take("op", 3, 0, 1, nil)
	for _, c := range []struct {
		name  string
		snaps []*Snapshot
		want  string
	}{
		{"other operator", take("other", 1, 0, 1, nil), `snapshot of subtask 0 belongs to operator "other"`},
		{"key-group count", take("op", 2, 64, 1, nil), "has 64 key groups, the job 128: the key-group count cannot change"},
		{"missing subtask", []*Snapshot{three[0], three[2]}, "epoch 1 was taken at parallelism 3: missing the snapshots of subtasks [1]"},
		{"duplicate subtask", []*Snapshot{three[0], three[1], three[1]}, "two snapshots of subtask 1"},
		{"mixed epochs", append(take("op", 2, 0, 1, nil)[:1], take("op", 2, 0, 2, nil)[1]), "snapshots of epochs 1 and 2 mixed"},
		{"global conflict", take("op", 2, 0, 1, map[int]string{0: "a", 1: "b"}), `global table "g": key "k" has different values in the snapshots of subtasks 0 and 1`},
		{"nil", []*Snapshot{nil}, "nil snapshot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(Config{OperatorID: "op", Subtask: 0, Parallelism: 2}, c.snaps)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `restore operator "op" subtask 0 of 2`) {
				t.Fatalf("New = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// roundTrip encodes and decodes snapshots, as a checkpoint will.
func roundTrip(t testing.TB, snaps []*Snapshot) []*Snapshot {
	t.Helper()
	out := make([]*Snapshot, len(snaps))
	for i, s := range snaps {
		data, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = new(Snapshot)
		if err := out[i].UnmarshalBinary(data); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestLazyIndex: restored groups and PutNew entries are indexed only when
// read by key, and then behave as if Put: Get, Put over, Delete, expiry.
func TestLazyIndex(t *testing.T) {
	cfg := Config{OperatorID: "op", Subtask: 0, Parallelism: 1, MaxKeyGroups: 4}
	st, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tab := st.Keyed("t")
	for i := range 100 {
		exp := int64(NoExpiry)
		if i%10 == 0 {
			exp = int64(i)
		}
		tab.PutNew(i%4, []byte{byte(i)}, []byte{byte(i), 1}, exp)
	}
	snap := st.Snapshot(1)
	back, err := New(cfg, []*Snapshot{snap})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Store{st, back} {
		tab := s.Keyed("t")
		if tab.Len() != 100 {
			t.Fatalf("len %d", tab.Len())
		}
		n := 0
		if err := tab.Range(1, func(k, v []byte, _ int64) error { n++; return nil }); err != nil || n != 25 {
			t.Fatalf("range: %d, %v", n, err)
		}
		if v, ok := tab.Get(5%4, []byte{5}); !ok || v[0] != 5 {
			t.Fatalf("get 5: %v %v", v, ok)
		}
		tab.Put(7%4, []byte{7}, []byte{70}, NoExpiry)
		if v, _ := tab.Get(3, []byte{7}); v[0] != 70 || tab.Len() != 100 {
			t.Fatalf("put over: %v, len %d", v, tab.Len())
		}
		if !tab.Delete(2, []byte{6}) || tab.Len() != 99 {
			t.Fatal("delete")
		}
		removed, err := tab.ScanExpired(45, nil)
		if err != nil || removed != 5 {
			t.Fatalf("expired %d, %v", removed, err)
		}
		if _, ok := tab.Get(0, []byte{40}); ok {
			t.Fatal("expired entry still there")
		}
	}
}
