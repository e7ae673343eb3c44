package ops

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"unsafe"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/memory"
	"github.com/arroyogo/arroyo/engine/state"
)

// rowSlab holds the buffered rows of one bucket (a join's or a window
// function's event time, or an updating join's whole state), grouped by
// key, without a pointer per key or per row: the garbage collector sees a
// few slices whatever the number of rows.
//
//   - keyData and data are byte arenas: the encoded keys, and the encoded
//     rows, appended as they come;
//   - keys holds one fixed-size record per key (its bytes' offset and
//     length, its routing hash, and per side the head and tail of a list of
//     rows), rows one per buffered row (offset, length, copies, next row);
//   - index is an open-addressing table (linear probing, backward-shift
//     deletion) of key indexes + 1, probed with the routing hash, mixed.
//
// A key's rows of a side are a linked list of row indexes in arrival
// order. Removed keys and rows go on free lists; their bytes are garbage
// until compact rewrites the arenas (maybeCompact: once garbage is more
// than half of them). reset empties a slab keeping its capacity, for the
// next bucket.
//
// A slab its owner checkpoints by key group (track) also notes which key
// groups changed, and keeps its checkpoint encoding, one immutable blob
// per key group, re-encoding only the changed ones (encodeParts).
//
// Ownership: slices returned by key and row are valid until the next
// addKey, appendRow or compact.
type rowSlab struct {
	keyData []byte
	data    []byte
	keys    []slabKey
	rows    []slabRow
	index   []int32 // key index + 1; 0 is empty; len is a power of two
	shift   uint8   // 64 - log2(len(index))

	live     int // live keys
	freeKeys []int32
	freeRows []int32
	dead     int // arena bytes of removed keys and rows
	// thr holds a window function's top-N thresholds (one vector per
	// ORDER BY column, a row per threshold, keys' aux), nil until one.
	thr []coldata.Vector
	// nextNull numbers the keys of NULL-keyed rows (a join keeps each
	// apart), never reused within the slab.
	nextNull uint64

	// groups is the number of key groups keys hash into when the slab
	// tracks which ones changed (its owner checkpoints it by key group,
	// encodeParts), 0 when it does not; dirty is a bit per key group,
	// set by every change of one of its keys.
	groups uint64
	dirty  []uint64
	// parts is the slab's checkpoint encoding (encodeParts), nil until
	// one; partBytes is the bytes its blobs hold.
	parts     *slabParts
	partBytes int
}

type slabKey struct {
	hash       uint64 // routing hash (the key group's)
	off        uint64
	klen       uint32
	live       bool
	indexed    bool
	aux        int32    // the owner's (a window function's threshold row)
	head, tail [2]int32 // rows per side, -1 when none
	n          [2]int32 // row records per side
	seen       int64    // largest event time of a row (updating joins' TTL)
	// vbytes is the size of the key's rows in a checkpoint entry: per
	// row, uvarint copies, uvarint length and the bytes (rowBytes). It
	// sizes buffers; it wraps for a key of more than 4 GiB of rows, and
	// nothing depends on it being exact.
	vbytes uint32
}

type slabRow struct {
	off   uint64
	n     uint32
	count int32 // copies of the row
	next  int32 // next row of the key and side, -1 at the end
}

// reset empties s, keeping its memory.
func (s *rowSlab) reset() {
	s.keyData, s.data = s.keyData[:0], s.data[:0]
	s.keys, s.rows = s.keys[:0], s.rows[:0]
	clear(s.index)
	s.live, s.dead, s.nextNull = 0, 0, 0
	s.thr = nil
	s.freeKeys, s.freeRows = s.freeKeys[:0], s.freeRows[:0]
	clear(s.dirty)
	s.parts, s.partBytes = nil, 0
}

// memBytes is the memory s holds.
func (s *rowSlab) memBytes() int {
	return cap(s.keyData) + cap(s.data) + cap(s.keys)*int(unsafe.Sizeof(slabKey{})) + cap(s.rows)*int(unsafe.Sizeof(slabRow{})) +
		(cap(s.index)+cap(s.freeKeys)+cap(s.freeRows))*4 + s.partBytes
}

// track makes s note which of groups key groups change (groups > 0),
// every one of them changed so far.
func (s *rowSlab) track(groups int) {
	if s.groups == uint64(groups) {
		return
	}
	s.groups = uint64(groups)
	s.dirty = make([]uint64, (groups+63)/64)
	s.parts, s.partBytes = nil, 0
}

// mark notes that a key of routing hash h changed.
func (s *rowSlab) mark(h uint64) {
	if s.groups == 0 {
		return
	}
	var g uint64
	if s.groups&(s.groups-1) == 0 {
		g = h & (s.groups - 1)
	} else {
		g = h % s.groups // state.KeyGroupOf
	}
	s.dirty[g>>6] |= 1 << (g & 63)
}

// touch raises key k's last event time to ts.
func (s *rowSlab) touch(k int32, ts int64) {
	if e := &s.keys[k]; ts > e.seen {
		e.seen = ts
		s.mark(e.hash)
	}
}

// rowBytes is what a row of n bytes and count copies adds to vbytes.
func rowBytes(n uint32, count int32) uint32 {
	if n < 0x80 && uint32(count) < 0x80 {
		return n + 2
	}
	return uint32(uvarintLen(uint64(uint32(count)))+uvarintLen(uint64(n))) + n
}

func (s *rowSlab) slot(h uint64) int {
	return int((h * 0x9e3779b97f4a7c15) >> s.shift)
}

// key returns key k's bytes.
func (s *rowSlab) key(k int32) []byte {
	e := &s.keys[k]
	return s.keyData[e.off : e.off+uint64(e.klen)]
}

// row returns row r's bytes.
func (s *rowSlab) row(r int32) []byte {
	e := &s.rows[r]
	return s.data[e.off : e.off+uint64(e.n)]
}

// find returns the index of key, or -1.
func (s *rowSlab) find(key []byte, h uint64) int32 {
	if len(s.index) == 0 {
		return -1
	}
	mask := len(s.index) - 1
	for i := s.slot(h); ; i = (i + 1) & mask {
		k := s.index[i] - 1
		if k < 0 {
			return -1
		}
		if s.keys[k].hash == h && bytes.Equal(s.key(k), key) {
			return k
		}
	}
}

// lookup returns the index of key, adding it if new.
func (s *rowSlab) lookup(key []byte, h uint64) int32 {
	if k := s.find(key, h); k >= 0 {
		return k
	}
	return s.addKey(key, h, true)
}

// addKey adds key (not in s) and returns its index. An unindexed key is
// never found again (a NULL key's row, which matches nothing), only
// ranged over.
func (s *rowSlab) addKey(key []byte, h uint64, indexed bool) int32 {
	var k int32
	if n := len(s.freeKeys); n > 0 {
		k = s.freeKeys[n-1]
		s.freeKeys = s.freeKeys[:n-1]
	} else {
		k = int32(len(s.keys))
		s.keys = append(s.keys, slabKey{})
	}
	s.keys[k] = slabKey{hash: h, off: uint64(len(s.keyData)), klen: uint32(len(key)), live: true, indexed: indexed,
		aux: -1, head: [2]int32{-1, -1}, tail: [2]int32{-1, -1}}
	s.keyData = append(s.keyData, key...)
	s.live++
	s.mark(h)
	if indexed {
		if (s.live+1)*8 > len(s.index)*5 {
			s.rehash()
		}
		s.insert(k)
	}
	return k
}

func (s *rowSlab) insert(k int32) {
	mask := len(s.index) - 1
	for i := s.slot(s.keys[k].hash); ; i = (i + 1) & mask {
		if s.index[i] == 0 {
			s.index[i] = k + 1
			return
		}
	}
}

// rehash rebuilds the index for the live keys, with room to grow.
func (s *rowSlab) rehash() {
	n := 64
	for n*5 < (s.live+1)*16 {
		n *= 2
	}
	if n > len(s.index) {
		s.index = make([]int32, n)
	} else {
		clear(s.index)
	}
	s.shift = uint8(64 - bits.TrailingZeros(uint(len(s.index))))
	for k := range s.keys {
		if e := &s.keys[k]; e.live && e.indexed {
			s.insert(int32(k))
		}
	}
}

// appendRow appends count copies of row to key k's rows of side.
func (s *rowSlab) appendRow(k int32, side int, row []byte, count int32) {
	var r int32
	if n := len(s.freeRows); n > 0 {
		r = s.freeRows[n-1]
		s.freeRows = s.freeRows[:n-1]
	} else {
		r = int32(len(s.rows))
		s.rows = append(s.rows, slabRow{})
	}
	s.rows[r] = slabRow{off: uint64(len(s.data)), n: uint32(len(row)), count: count, next: -1}
	s.data = append(s.data, row...)
	e := &s.keys[k]
	if e.tail[side] < 0 {
		e.head[side] = r
	} else {
		s.rows[e.tail[side]].next = r
	}
	e.tail[side] = r
	e.n[side]++
	e.vbytes += rowBytes(uint32(len(row)), count)
	s.mark(e.hash)
}

// removeRow takes one copy of row away from key k's side; false if there
// was none.
func (s *rowSlab) removeRow(k int32, side int, row []byte) bool {
	e := &s.keys[k]
	prev := int32(-1)
	for r := e.head[side]; r >= 0; prev, r = r, s.rows[r].next {
		if !bytes.Equal(s.row(r), row) {
			continue
		}
		if x := &s.rows[r]; x.count > 1 {
			e.vbytes += rowBytes(x.n, x.count-1) - rowBytes(x.n, x.count)
			x.count--
			s.mark(e.hash)
			return true
		}
		s.unlink(k, side, prev, r)
		return true
	}
	return false
}

// unlink removes row r (after prev, -1 at the head) from key k's side.
func (s *rowSlab) unlink(k int32, side int, prev, r int32) {
	e := &s.keys[k]
	next := s.rows[r].next
	if prev < 0 {
		e.head[side] = next
	} else {
		s.rows[prev].next = next
	}
	if e.tail[side] == r {
		e.tail[side] = prev
	}
	e.n[side]--
	e.vbytes -= rowBytes(s.rows[r].n, s.rows[r].count)
	s.mark(e.hash)
	s.dead += int(s.rows[r].n)
	s.rows[r] = slabRow{next: -1}
	s.freeRows = append(s.freeRows, r)
}

// keepRows keeps the rows of key k's side for which keep(i) holds, i
// counting the rows in list order.
func (s *rowSlab) keepRows(k int32, side int, keep func(i int) bool) {
	prev := int32(-1)
	i := 0
	for r := s.keys[k].head[side]; r >= 0; i++ {
		next := s.rows[r].next
		if keep(i) {
			prev = r
		} else {
			s.unlink(k, side, prev, r)
		}
		r = next
	}
}

// empty reports whether key k has no rows.
func (s *rowSlab) empty(k int32) bool {
	e := &s.keys[k]
	return e.head[0] < 0 && e.head[1] < 0
}

// deleteKey removes key k and its rows.
func (s *rowSlab) deleteKey(k int32) {
	e := &s.keys[k]
	for side := 0; side < 2; side++ {
		for r := e.head[side]; r >= 0; {
			next := s.rows[r].next
			s.dead += int(s.rows[r].n)
			s.rows[r] = slabRow{next: -1}
			s.freeRows = append(s.freeRows, r)
			r = next
		}
	}
	if e.indexed {
		s.unindex(k)
	}
	s.mark(e.hash)
	s.dead += int(e.klen)
	s.keys[k] = slabKey{}
	s.freeKeys = append(s.freeKeys, k)
	s.live--
}

// unindex removes key k from the index (backward-shift deletion).
func (s *rowSlab) unindex(k int32) {
	mask := len(s.index) - 1
	i := s.slot(s.keys[k].hash)
	for s.index[i] != k+1 {
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; s.index[j] != 0; j = (j + 1) & mask {
		home := s.slot(s.keys[s.index[j]-1].hash)
		// Move the entry at j to the hole at i unless its home lies in
		// (i, j] (cyclically): then it is reachable without i.
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			s.index[i] = s.index[j]
			i = j
		}
	}
	s.index[i] = 0
}

// liveKeys appends the indexes of the live keys to dst.
func (s *rowSlab) liveKeys(dst []int32) []int32 {
	for k := range s.keys {
		if s.keys[k].live {
			dst = append(dst, int32(k))
		}
	}
	return dst
}

// sortedKeys appends the indexes of the live keys to dst, ordered by
// their bytes.
func (s *rowSlab) sortedKeys(dst []int32) []int32 {
	n := len(dst)
	dst = s.liveKeys(dst)
	slices.SortFunc(dst[n:], func(a, b int32) int { return bytes.Compare(s.key(a), s.key(b)) })
	return dst
}

// maybeCompact compacts the arenas once their garbage is more than half
// of them (and more than 1 MiB).
func (s *rowSlab) maybeCompact() {
	if s.dead <= 1<<20 || s.dead*2 <= len(s.data)+len(s.keyData) {
		return
	}
	s.compact()
}

// compact rewrites the arenas with the live keys and rows only.
func (s *rowSlab) compact() {
	keyData := make([]byte, 0, len(s.keyData))
	data := make([]byte, 0, len(s.data)+len(s.keyData)-s.dead)
	for k := range s.keys {
		e := &s.keys[k]
		if !e.live {
			continue
		}
		off := uint64(len(keyData))
		keyData = append(keyData, s.key(int32(k))...)
		e.off = off
		for side := 0; side < 2; side++ {
			for r := e.head[side]; r >= 0; r = s.rows[r].next {
				off := uint64(len(data))
				data = append(data, s.row(r)...)
				s.rows[r].off = off
			}
		}
	}
	s.keyData, s.data, s.dead = keyData, data, 0
}

// slabPool recycles the slabs of closed buckets.
type slabPool struct{ free []*rowSlab }

func (p *slabPool) get() *rowSlab {
	if n := len(p.free); n > 0 {
		s := p.free[n-1]
		p.free = p.free[:n-1]
		return s
	}
	return &rowSlab{}
}

// put keeps s for reuse (at most a few, and not huge ones: a burst must
// not pin its memory for ever).
func (p *slabPool) put(s *rowSlab) {
	if len(p.free) >= 4 || s.memBytes() > 64<<20 {
		return
	}
	s.reset()
	p.free = append(p.free, s)
}

// memBytes is the memory the pooled slabs hold.
func (p *slabPool) memBytes() int {
	n := 0
	for _, s := range p.free {
		n += s.memBytes()
	}
	return n
}

// stateCharge keeps a memory account charged with the bytes an operator's
// slabs hold (set at each watermark, restore and close: the slabs are
// plain Go memory, not allocator vectors, so nothing else reports them).
type stateCharge struct {
	acct *memory.Account
	n    int64
}

func (c *stateCharge) set(n int) {
	if d := int64(n) - c.n; d > 0 {
		c.acct.Grow(d)
	} else {
		c.acct.Shrink(-d)
	}
	c.n = int64(n)
}

// slabParts is a rowSlab's checkpoint encoding, by key group: bufs[i] is
// a whole state.GroupState.Data blob (state.AppendGroupHeader, then
// count[i] entries) of key group lo+i, nil when the slab has no key
// there, and slots[i] its state.PartSlot. A snapshot refers to the blobs,
// so they never change: encodeParts encodes a changed key group into a
// new blob, with a new slot.
type slabParts struct {
	lo    int
	bufs  [][]byte
	count []int32
	slots []*state.PartSlot
	size  []int // scratch: the bytes of each changed group's entries
}

// slabFormat is the entry encoding of a slab's checkpoint (encodeParts).
// The key is the same for all: a prefix (the bucket's event time) then
// the key's bytes.
type slabFormat uint8

const (
	// joinEntries (Join.Checkpoint): value = routing hash (little
	// endian), last event time (varint), then per side the count of row
	// records and per record its copies (uvarint), length (uvarint) and
	// bytes.
	joinEntries slabFormat = iota
	// winFuncEntries (WindowFunc.Checkpoint): value = routing hash
	// (little endian), the count of side 0's rows (uvarint), and per row
	// its length (uvarint) and bytes; each row is one copy.
	winFuncEntries
)

// encodeParts brings s.parts up to date for the key groups [lo, hi) of
// groups: the key groups changed since the last call (all at the first)
// are encoded again, in format f, which must not change between calls.
// It reads the key records in order, twice (count and size, then
// encode: one exactly sized buffer per changed key group), and follows
// each key's rows; an unchanged slab costs a look at its bits.
func (s *rowSlab) encodeParts(lo, hi, groups int, prefix []byte, f slabFormat) error {
	s.track(groups)
	n := hi - lo
	p := s.parts
	if p == nil || p.lo != lo || len(p.bufs) != n {
		p = &slabParts{lo: lo, bufs: make([][]byte, n), count: make([]int32, n), slots: make([]*state.PartSlot, n), size: make([]int, n)}
		s.parts, s.partBytes = p, 0
		for g := range s.dirty {
			s.dirty[g] = ^uint64(0)
		}
	}
	changed := 0
	for i := 0; i < n; i++ {
		if s.isDirty(lo + i) {
			changed++
			s.partBytes -= len(p.bufs[i])
			p.bufs[i], p.slots[i], p.count[i], p.size[i] = nil, nil, 0, 0
		}
	}
	if changed == 0 {
		clear(s.dirty)
		return nil
	}
	// Count and size the changed groups' entries.
	for k := range s.keys {
		e := &s.keys[k]
		if !e.live {
			continue
		}
		g := s.groupOf(e.hash) - lo
		if g < 0 || g >= n {
			return fmt.Errorf("checkpoint: a key of key group %d is on the subtask of key groups [%d, %d)", g+lo, lo, hi)
		}
		if !s.isDirty(g + lo) {
			continue
		}
		p.count[g]++
		p.size[g] += entrySize(len(prefix)+int(e.klen), valueSize(e, f))
	}
	slots := make([]state.PartSlot, 0, changed)
	for i := 0; i < n; i++ {
		if p.count[i] == 0 || !s.isDirty(lo+i) {
			continue
		}
		b := make([]byte, 0, groupHeaderSize(int(p.count[i]))+p.size[i])
		p.bufs[i] = state.AppendGroupHeader(b, groupTable, int(p.count[i]))
		slots = append(slots, state.PartSlot{})
		p.slots[i] = &slots[len(slots)-1]
	}
	for k := range s.keys {
		e := &s.keys[k]
		if !e.live {
			continue
		}
		g := s.groupOf(e.hash) - lo
		if !s.isDirty(g + lo) {
			continue
		}
		p.bufs[g] = s.appendEntry(p.bufs[g], int32(k), prefix, f)
	}
	for i := 0; i < n; i++ {
		if s.isDirty(lo + i) {
			s.partBytes += len(p.bufs[i])
		}
	}
	clear(s.dirty)
	return nil
}

// groupOf is the key group of routing hash h (state.KeyGroupOf).
func (s *rowSlab) groupOf(h uint64) int {
	if s.groups&(s.groups-1) == 0 {
		return int(h & (s.groups - 1))
	}
	return int(h % s.groups)
}

func (s *rowSlab) isDirty(g int) bool { return s.dirty[g>>6]&(1<<(g&63)) != 0 }

// valueSize is the size of key e's entry value in format f, if its
// vbytes is right.
func valueSize(e *slabKey, f slabFormat) int {
	if f == winFuncEntries {
		return 8 + uvarintLen(uint64(e.n[0])) + int(e.vbytes) - int(e.n[0]) // no copies
	}
	return 8 + varintLen(e.seen) + uvarintLen(uint64(e.n[0])) + uvarintLen(uint64(e.n[1])) + int(e.vbytes)
}

// entrySize is the size of an entry (state.AppendEntry) of a klen-byte
// key and a vlen-byte value, with no expiry.
func entrySize(klen, vlen int) int {
	return uvarintLen(uint64(klen)) + klen + uvarintLen(uint64(vlen)) + vlen + 1
}

// groupHeaderSize is the size of state.AppendGroupHeader's header of the
// table groupTable with entries entries.
func groupHeaderSize(entries int) int {
	return 1 + uvarintLen(uint64(len(groupTable))) + len(groupTable) + uvarintLen(uint64(entries))
}

func varintLen(v int64) int {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return uvarintLen(u)
}

// appendEntry appends key k's entry (encodeParts) in format f to b: as
// state.AppendEntryParts would, with the value written in place.
func (s *rowSlab) appendEntry(b []byte, k int32, prefix []byte, f slabFormat) []byte {
	e := &s.keys[k]
	b = binary.AppendUvarint(b, uint64(len(prefix))+uint64(e.klen))
	b = append(b, prefix...)
	b = append(b, s.key(k)...)
	want := valueSize(e, f)
	at := len(b)
	b = binary.AppendUvarint(b, uint64(want))
	start := len(b)
	b = binary.LittleEndian.AppendUint64(b, e.hash)
	if f == winFuncEntries {
		b = binary.AppendUvarint(b, uint64(e.n[0]))
		for r := e.head[0]; r >= 0; r = s.rows[r].next {
			x := &s.rows[r]
			b = binary.AppendUvarint(b, uint64(x.n))
			b = append(b, s.data[x.off:x.off+uint64(x.n)]...)
		}
	} else {
		b = binary.AppendVarint(b, e.seen)
		for side := 0; side < 2; side++ {
			b = binary.AppendUvarint(b, uint64(e.n[side]))
			for r := e.head[side]; r >= 0; r = s.rows[r].next {
				x := &s.rows[r]
				if l := len(b); x.count < 0x80 && x.n < 0x80 && cap(b)-l >= 2+int(x.n) {
					// One-byte copies and length (most rows), in the room
					// encodeParts made.
					b = b[:l+2+int(x.n)]
					b[l], b[l+1] = byte(x.count), byte(x.n)
					copy(b[l+2:], s.data[x.off:x.off+uint64(x.n)])
					continue
				}
				b = binary.AppendUvarint(b, uint64(x.count))
				b = binary.AppendUvarint(b, uint64(x.n))
				b = append(b, s.data[x.off:x.off+uint64(x.n)]...)
			}
		}
	}
	if got := len(b) - start; got != want {
		// vbytes wrapped: write the length again.
		v := append([]byte(nil), b[start:]...)
		b = append(binary.AppendUvarint(b[:at], uint64(got)), v...)
	}
	return append(b, 0) // no expiry
}

// reserve makes room in s for keys more keys of keyBytes bytes and rows
// more rows of dataBytes bytes (a restore, which knows them), so filling
// it grows nothing, the index included.
func (s *rowSlab) reserve(keys, keyBytes, rows, dataBytes int) {
	s.keys = slices.Grow(s.keys, keys)
	s.keyData = slices.Grow(s.keyData, keyBytes)
	s.data = slices.Grow(s.data, dataBytes)
	s.rows = slices.Grow(s.rows, rows)
	if want := s.live + keys; (want+1)*8 > len(s.index)*5 {
		live := s.live
		s.live = want
		s.rehash()
		s.live = live
	}
}
