package state

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// NoExpiry is the expiry of an entry that never expires, even at the
// end-of-time watermark: only Delete removes it.
const NoExpiry = math.MaxInt64

// KeyedTable is one named keyed table of a Store: a map from (key group,
// key) to (value, expiry) over the key groups the subtask owns. The caller
// passes the key group of every key (KeyGroupOf of the key's hash, the hash
// shuffle routing used), so state placement and routing cannot disagree;
// the table hashes the key bytes again only for its own index, and that
// hash never leaves the process.
//
// Memory: each key group has one byte slab of records (a fixed 16-byte
// header, the key, the value) and an open-addressing index of (hash,
// offset) slots, both pointer-free, so the garbage collector sees O(key
// groups) objects whatever the number of entries. Overwriting a value with
// one of the same length is done in place; otherwise the old record turns
// into garbage inside the slab, and a slab whose garbage exceeds half of
// it is compacted.
//
// Ownership: slices returned by Get, or passed to Range and ScanExpired
// callbacks, point into the slab. Do not modify them. Those from Get and
// Range are valid until the next call that modifies the table (Put,
// Delete, ScanExpired); those passed to a ScanExpired callback stay valid
// until the callback returns, even if it modifies the table. Put and Get
// copy nothing they do not keep: Put copies key and value into the slab.
//
// A table belongs to one subtask goroutine; it is not safe for concurrent
// use.
type KeyedTable struct {
	name   string
	lo, hi int
	groups []group // groups[g-lo]
	n      int     // live entries
	mods   uint64  // bumped by every change, to catch changes inside Range

	// timers is a min-heap of (expiry, group, hash) for entries with an
	// expiry. An entry whose expiry changed or that was deleted leaves a
	// stale timer behind (counted in stale); a popped timer that matches
	// no live entry is dropped, and the heap is rebuilt from the entries
	// when stale timers outnumber live ones.
	timers []timer
	stale  int
}

type timer struct {
	at    int64
	group uint32
	hash  uint64
}

func (a timer) less(b timer) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	if a.group != b.group {
		return a.group < b.group
	}
	return a.hash < b.hash
}

// group is the state of one key group of one table.
type group struct {
	slab  []byte
	slots []slot // power-of-two length, or empty
	shift uint   // 64 - log2(len(slots)): the home slot is hash >> shift
	n     int    // live entries
	dead  int    // bytes of dead records in slab
	// unindexed: the slab was loaded from a snapshot and slots not built
	// yet; the first access by key builds them (an operator that only
	// Ranges over restored state, as the aggregate does, never pays for
	// an index).
	unindexed bool
}

// slot is one index entry; off is the record's offset in the slab plus one
// (0: empty).
type slot struct {
	hash uint64
	off  uint64
}

// A record is: expiresAt int64, klen uint32 (top bit: dead), vlen uint32,
// key, value; little-endian.
const (
	recHeader = 16
	deadBit   = 1 << 31
	maxKeyLen = deadBit - 1
)

func newKeyedTable(name string, lo, hi int) *KeyedTable {
	return &KeyedTable{name: name, lo: lo, hi: hi, groups: make([]group, hi-lo)}
}

// Name is the table's name.
func (t *KeyedTable) Name() string { return t.name }

// Len is the number of live entries over all key groups.
func (t *KeyedTable) Len() int { return t.n }

// GroupLen is the number of live entries in key group g.
func (t *KeyedTable) GroupLen(g int) int { return t.rawGroup(g).n }

// MemoryBytes is the memory the table holds (slabs, indexes, timers),
// garbage inside slabs included.
func (t *KeyedTable) MemoryBytes() int {
	n := cap(t.timers) * 24
	for i := range t.groups {
		n += cap(t.groups[i].slab) + cap(t.groups[i].slots)*16
	}
	return n
}

// group returns key group g, its index built.
func (t *KeyedTable) group(g int) *group {
	gr := t.rawGroup(g)
	if gr.unindexed {
		gr.buildIndex()
	}
	return gr
}

// rawGroup returns key group g, whose index may not be built yet.
func (t *KeyedTable) rawGroup(g int) *group {
	if g < t.lo || g >= t.hi {
		// A key group outside the range means routing and state
		// placement disagree: a bug, not a data error.
		panic(fmt.Sprintf("state: table %q: key group %d is not in this subtask's range [%d, %d)", t.name, g, t.lo, t.hi))
	}
	return &t.groups[g-t.lo]
}

// PutNew adds an entry whose key the caller knows is not in the table (an
// operator copying its own structures into a fresh store for a snapshot):
// no lookup, and the group's index is built only if the table is later
// read by key. A duplicate key is not detected: it is a bug in the caller.
func (t *KeyedTable) PutNew(g int, key, value []byte, expiresAt int64) {
	t.load(g, key, value, expiresAt)
}

// load appends a restored entry to an unindexed group (loadGroup: each
// group comes from one snapshot, whose keys are distinct).
func (t *KeyedTable) load(g int, key, value []byte, expiresAt int64) {
	gr := t.rawGroup(g)
	if len(key) > maxKeyLen || uint64(len(value)) > math.MaxUint32 {
		panic(fmt.Sprintf("state: table %q: entry too large (key %d bytes, value %d bytes)", t.name, len(key), len(value)))
	}
	if len(gr.slots) > 0 {
		// Already indexed (not a fresh restore): an ordinary put.
		t.put(g, indexHash(key), key, value, expiresAt)
		return
	}
	gr.unindexed = true
	gr.append(key, value, expiresAt)
	gr.n++
	t.n++
	t.mods++
	if expiresAt != NoExpiry {
		t.addTimer(g, indexHash(key), expiresAt)
	}
}

// buildIndex builds the slots of a group loaded without them.
func (g *group) buildIndex() {
	g.unindexed = false
	size := 8
	for size/4*3 < g.n+1 {
		size *= 2
	}
	g.slots = make([]slot, size)
	g.shift = 64 - uint(log2(size))
	mask := size - 1
	for off := 0; off < len(g.slab); {
		klen, vlen := recLens(g.slab, off)
		if binary.LittleEndian.Uint32(g.slab[off+8:])&deadBit == 0 {
			h := indexHash(g.slab[off+recHeader : off+recHeader+klen])
			i := int(h >> g.shift)
			for g.slots[i].off != 0 {
				i = (i + 1) & mask
			}
			g.slots[i] = slot{hash: h, off: uint64(off) + 1}
		}
		off += recHeader + klen + vlen
	}
}

// Get returns the value of key in key group g.
func (t *KeyedTable) Get(g int, key []byte) (value []byte, ok bool) {
	gr := t.group(g)
	i, found := gr.lookup(indexHash(key), key)
	if !found {
		return nil, false
	}
	return gr.value(gr.slots[i].off - 1), true
}

// Expiry returns the expiry of key in key group g.
func (t *KeyedTable) Expiry(g int, key []byte) (expiresAt int64, ok bool) {
	gr := t.group(g)
	i, found := gr.lookup(indexHash(key), key)
	if !found {
		return 0, false
	}
	return gr.expiry(gr.slots[i].off - 1), true
}

// Put sets the value and expiry of key in key group g. The entry is
// removed by the first ScanExpired whose watermark is >= expiresAt
// (NoExpiry: never). Put copies key and value.
func (t *KeyedTable) Put(g int, key, value []byte, expiresAt int64) {
	t.put(g, indexHash(key), key, value, expiresAt)
}

// put reports whether key already existed.
func (t *KeyedTable) put(g int, h uint64, key, value []byte, expiresAt int64) bool {
	gr := t.group(g)
	if len(key) > maxKeyLen || uint64(len(value)) > math.MaxUint32 {
		panic(fmt.Sprintf("state: table %q: entry too large (key %d bytes, value %d bytes)", t.name, len(key), len(value)))
	}
	t.mods++
	gr.maybeCompact()
	i, found := gr.lookup(h, key)
	if found {
		off := gr.slots[i].off - 1
		old := gr.expiry(off)
		if int(binary.LittleEndian.Uint32(gr.slab[off+12:])) == len(value) {
			copy(gr.value(off), value)
			binary.LittleEndian.PutUint64(gr.slab[off:], uint64(expiresAt))
		} else {
			gr.kill(off)
			gr.slots[i].off = gr.append(key, value, expiresAt) + 1
		}
		if old != expiresAt {
			if old != NoExpiry {
				t.stale++
			}
			t.addTimer(g, h, expiresAt)
		}
		return true
	}
	if gr.n+1 > len(gr.slots)/4*3 {
		gr.grow()
		i, _ = gr.lookup(h, key)
	}
	gr.slots[i] = slot{hash: h, off: gr.append(key, value, expiresAt) + 1}
	gr.n++
	t.n++
	t.addTimer(g, h, expiresAt)
	return false
}

// Delete removes key from key group g and reports whether it was there.
func (t *KeyedTable) Delete(g int, key []byte) bool {
	gr := t.group(g)
	i, found := gr.lookup(indexHash(key), key)
	if !found {
		return false
	}
	t.mods++
	if gr.expiry(gr.slots[i].off-1) != NoExpiry {
		t.stale++
	}
	gr.remove(i)
	t.n--
	return true
}

// Range calls fn for every entry of key group g, in insertion order (an
// overwrite with a value of another length moves the entry to the end).
// fn must not modify the table; Range returns an error if it does, and
// stops at the first error fn returns.
func (t *KeyedTable) Range(g int, fn func(key, value []byte, expiresAt int64) error) error {
	gr := t.rawGroup(g)
	mods := t.mods
	slab := gr.slab
	for off := 0; off < len(slab); {
		klen, vlen := recLens(slab, off)
		live := binary.LittleEndian.Uint32(slab[off+8:])&deadBit == 0
		if live {
			k := slab[off+recHeader : off+recHeader+klen]
			v := slab[off+recHeader+klen : off+recHeader+klen+vlen]
			if err := fn(k, v, int64(binary.LittleEndian.Uint64(slab[off:]))); err != nil {
				return err
			}
			if t.mods != mods {
				return fmt.Errorf("state: table %q modified during Range", t.name)
			}
		}
		off += recHeader + klen + vlen
	}
	return nil
}

// ScanExpired removes every entry whose expiry is <= watermark and, if fn
// is not nil, calls fn with each one (a window emits its result there), in
// order of expiry, then key group, then key hash: the same order in every
// run. It returns the number of entries removed; if fn returns an error,
// ScanExpired stops and returns it, the entry passed to fn already
// removed. fn may modify the table; key and value stay valid until fn
// returns.
func (t *KeyedTable) ScanExpired(watermark int64, fn func(g int, key, value []byte) error) (int, error) {
	n := 0
	for len(t.timers) > 0 && t.timers[0].at <= watermark {
		tm := t.popTimer()
		g := int(tm.group)
		gr := t.group(g)
		i := gr.findExpiring(tm.hash, tm.at)
		if i < 0 {
			t.stale--
			continue
		}
		off := gr.slots[i].off - 1
		klen, vlen := recLens(gr.slab, int(off))
		// The record stays in the slab (dead) until a compaction, which
		// builds a new slab: these slices survive any change fn makes.
		key := gr.slab[off+recHeader : off+recHeader+uint64(klen)]
		value := gr.slab[off+recHeader+uint64(klen) : off+recHeader+uint64(klen+vlen)]
		gr.remove(i)
		t.n--
		t.mods++
		n++
		if fn != nil {
			if err := fn(g, key, value); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// NextExpiry returns the earliest expiry among the table's entries, or
// false if no entry expires. It can be earlier than every live entry's
// expiry (a timer left by a changed or deleted entry), never later.
func (t *KeyedTable) NextExpiry() (int64, bool) {
	if len(t.timers) == 0 {
		return 0, false
	}
	return t.timers[0].at, true
}

func (t *KeyedTable) addTimer(g int, h uint64, at int64) {
	if at == NoExpiry {
		return
	}
	if t.stale > 1024 && t.stale > len(t.timers)/2 {
		t.rebuildTimers()
	}
	t.timers = append(t.timers, timer{at: at, group: uint32(g), hash: h})
	// sift up
	i := len(t.timers) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !t.timers[i].less(t.timers[p]) {
			break
		}
		t.timers[i], t.timers[p] = t.timers[p], t.timers[i]
		i = p
	}
}

func (t *KeyedTable) popTimer() timer {
	h := t.timers
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	t.timers = h
	t.siftDown(0)
	return top
}

func (t *KeyedTable) siftDown(i int) {
	h := t.timers
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].less(h[l]) {
			m = r
		}
		if !h[m].less(h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// rebuildTimers drops the stale timers: one timer per live entry that
// expires.
func (t *KeyedTable) rebuildTimers() {
	t.timers = t.timers[:0]
	for gi := range t.groups {
		gr := &t.groups[gi]
		if gr.unindexed {
			gr.buildIndex()
		}
		for _, s := range gr.slots {
			if s.off == 0 {
				continue
			}
			if at := gr.expiry(s.off - 1); at != NoExpiry {
				t.timers = append(t.timers, timer{at: at, group: uint32(t.lo + gi), hash: s.hash})
			}
		}
	}
	for i := len(t.timers)/2 - 1; i >= 0; i-- {
		t.siftDown(i)
	}
	t.stale = 0
}

func recLens(slab []byte, off int) (klen, vlen int) {
	return int(binary.LittleEndian.Uint32(slab[off+8:]) &^ deadBit), int(binary.LittleEndian.Uint32(slab[off+12:]))
}

func (g *group) key(off uint64) []byte {
	klen, _ := recLens(g.slab, int(off))
	return g.slab[off+recHeader : off+recHeader+uint64(klen)]
}

func (g *group) value(off uint64) []byte {
	klen, vlen := recLens(g.slab, int(off))
	start := off + recHeader + uint64(klen)
	return g.slab[start : start+uint64(vlen) : start+uint64(vlen)]
}

func (g *group) expiry(off uint64) int64 { return int64(binary.LittleEndian.Uint64(g.slab[off:])) }

// lookup returns the slot holding key, or the empty slot where it would go.
func (g *group) lookup(h uint64, key []byte) (int, bool) {
	if len(g.slots) == 0 {
		return -1, false
	}
	mask := len(g.slots) - 1
	for i := int(h >> g.shift); ; i = (i + 1) & mask {
		s := g.slots[i]
		if s.off == 0 {
			return i, false
		}
		if s.hash == h && bytes.Equal(g.key(s.off-1), key) {
			return i, true
		}
	}
}

// findExpiring returns the slot of a live entry with hash h that expires
// at at, or -1.
func (g *group) findExpiring(h uint64, at int64) int {
	if len(g.slots) == 0 {
		return -1
	}
	mask := len(g.slots) - 1
	for i := int(h >> g.shift); ; i = (i + 1) & mask {
		s := g.slots[i]
		if s.off == 0 {
			return -1
		}
		if s.hash == h && g.expiry(s.off-1) == at {
			return i
		}
	}
}

func (g *group) append(key, value []byte, expiresAt int64) uint64 {
	off := uint64(len(g.slab))
	g.slab = binary.LittleEndian.AppendUint64(g.slab, uint64(expiresAt))
	g.slab = binary.LittleEndian.AppendUint32(g.slab, uint32(len(key)))
	g.slab = binary.LittleEndian.AppendUint32(g.slab, uint32(len(value)))
	g.slab = append(g.slab, key...)
	g.slab = append(g.slab, value...)
	return off
}

// kill marks the record at off dead.
func (g *group) kill(off uint64) {
	w := binary.LittleEndian.Uint32(g.slab[off+8:])
	binary.LittleEndian.PutUint32(g.slab[off+8:], w|deadBit)
	klen, vlen := recLens(g.slab, int(off))
	g.dead += recHeader + klen + vlen
}

// remove deletes the entry in slot i: its record dies, and the following
// entries of the probe run shift back so lookups need no tombstones.
func (g *group) remove(i int) {
	g.kill(g.slots[i].off - 1)
	g.n--
	mask := len(g.slots) - 1
	for j := (i + 1) & mask; g.slots[j].off != 0; j = (j + 1) & mask {
		home := int(g.slots[j].hash >> g.shift)
		// The entry at j may move to i only if its home is not in the
		// cyclic interval (i, j].
		if (i <= j && i < home && home <= j) || (i > j && (i < home || home <= j)) {
			continue
		}
		g.slots[i] = g.slots[j]
		i = j
	}
	g.slots[i] = slot{}
	if g.n == 0 {
		// An emptied group drops its slab at once (not reusing it: a
		// ScanExpired callback may still hold slices into it).
		g.slab, g.dead = nil, 0
	}
}

func (g *group) grow() {
	size := 2 * len(g.slots)
	if size == 0 {
		size = 8
	}
	old := g.slots
	g.slots = make([]slot, size)
	g.shift = 64 - uint(log2(size))
	mask := size - 1
	for _, s := range old {
		if s.off == 0 {
			continue
		}
		i := int(s.hash >> g.shift)
		for g.slots[i].off != 0 {
			i = (i + 1) & mask
		}
		g.slots[i] = s
	}
}

// maybeCompact rewrites the slab without its dead records once they are
// more than half of it. It runs at the start of a Put, when every slot
// points at a live record. It builds a new slab rather than moving records
// in place, so slices handed out before (to a ScanExpired callback, or the
// arguments of the Put itself) stay valid.
func (g *group) maybeCompact() {
	if g.dead < compactMinDead || g.dead*2 < len(g.slab) {
		return
	}
	live := len(g.slab) - g.dead
	slab := make([]byte, 0, live+live/4)
	mask := len(g.slots) - 1
	for off := 0; off < len(g.slab); {
		klen, vlen := recLens(g.slab, off)
		size := recHeader + klen + vlen
		if binary.LittleEndian.Uint32(g.slab[off+8:])&deadBit == 0 {
			// Find the slot by offset, not by key: slots already moved
			// point into the new slab. Moved offsets only decrease, so
			// none of them equals this record's old offset.
			i := int(indexHash(g.slab[off+recHeader:off+recHeader+klen]) >> g.shift)
			for g.slots[i].off != uint64(off)+1 {
				i = (i + 1) & mask
			}
			g.slots[i].off = uint64(len(slab)) + 1
			slab = append(slab, g.slab[off:off+size]...)
		}
		off += size
	}
	g.slab, g.dead = slab, 0
}

// compactMinDead keeps small slabs from being compacted over and over.
var compactMinDead = 4096

func log2(n int) int {
	k := 0
	for n > 1 {
		n >>= 1
		k++
	}
	return k
}

// indexHash hashes a key for a group's index. It is not the placement hash
// (the caller computes the key group) and it never leaves the process, but
// it is deterministic so that ScanExpired's order is the same in every run.
// The index takes its high bits: within one key group the placement
// hashes share their low bits, and a caller-supplied key may be such a hash.
func indexHash(b []byte) uint64 {
	const (
		m1 = 0x9e3779b97f4a7c15
		m2 = 0xbf58476d1ce4e5b9
	)
	h := uint64(len(b))*m1 ^ m2
	for len(b) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * m1
		h ^= h >> 31
		b = b[8:]
	}
	var tail uint64
	for i, c := range b {
		tail |= uint64(c) << (8 * uint(i))
	}
	h = (h ^ tail) * m2
	h ^= h >> 29
	h *= m1
	h ^= h >> 32
	return h
}
