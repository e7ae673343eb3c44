package state

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// TableEncoder supplies the entries of one keyed table to
// Store.SnapshotWith straight in the snapshot's entry encoding, key group
// by key group: an operator that keeps its keyed state in its own
// structures (the aggregate's columnar groups) writes the snapshot without
// copying every entry into a KeyedTable first.
type TableEncoder interface {
	// GroupLen is the number of entries of key group g.
	GroupLen(g int) int
	// AppendGroup appends the GroupLen(g) entries of key group g to b,
	// each encoded by AppendEntry, in any order. Their keys must be
	// distinct.
	AppendGroup(b []byte, g int) []byte
}

// GroupSizer is a TableEncoder that knows the byte size of what
// AppendGroup appends: the snapshot then writes that data in place,
// without staging a key group in a scratch buffer.
type GroupSizer interface {
	GroupSize(g int) int
}

// AppendEntry appends one keyed entry in the encoding of GroupState.Data:
// uvarint key length, key, uvarint value length, value, and the expiry as
// uvarint 0 (NoExpiry) or 1 followed by a varint.
func AppendEntry(b, key, value []byte, expiresAt int64) []byte {
	b = appendBytes(b, key)
	b = appendBytes(b, value)
	if expiresAt == NoExpiry {
		return append(b, 0)
	}
	b = append(b, 1)
	return binary.AppendVarint(b, expiresAt)
}

// AppendEntryParts is AppendEntry for a key given in two parts (a prefix
// such as a window start, and the group key), which it concatenates.
func AppendEntryParts(b, keyPrefix, key, value []byte, expiresAt int64) []byte {
	b = binary.AppendUvarint(b, uint64(len(keyPrefix)+len(key)))
	b = append(b, keyPrefix...)
	b = append(b, key...)
	b = appendBytes(b, value)
	if expiresAt == NoExpiry {
		return append(b, 0)
	}
	b = append(b, 1)
	return binary.AppendVarint(b, expiresAt)
}

// tableEncoder adapts a KeyedTable.
type tableEncoder struct{ t *KeyedTable }

func (e tableEncoder) GroupLen(g int) int { return e.t.GroupLen(g) }

func (e tableEncoder) AppendGroup(b []byte, g int) []byte {
	_ = e.t.Range(g, func(key, value []byte, expiresAt int64) error {
		b = AppendEntry(b, key, value, expiresAt)
		return nil
	})
	return b
}

// SnapshotWith is Snapshot with the entries of further keyed tables taken
// from encoders (by table name) instead of from the store's own tables; a
// name must not also be a non-empty keyed table of the store. sizeHint is
// the expected size of the encoding in bytes (0: unknown), to allocate it
// once.
//
// The snapshot is encoded as it is built: its Groups are windows into that
// encoding, which Encoded returns without another copy.
func (s *Store) SnapshotWith(epoch uint64, tables map[string]TableEncoder, sizeHint int) *Snapshot {
	snap := &Snapshot{
		OperatorID:   s.cfg.OperatorID,
		Epoch:        epoch,
		Subtask:      s.cfg.Subtask,
		Parallelism:  s.cfg.Parallelism,
		MaxKeyGroups: s.cfg.MaxKeyGroups,
	}
	s.loadPending()
	type named struct {
		name string
		enc  TableEncoder
	}
	var encs []named
	for name, t := range s.keyed {
		if t.n > 0 {
			if _, dup := tables[name]; dup {
				panic(fmt.Sprintf("state: snapshot: table %q is both a keyed table of the store and an encoder", name))
			}
			encs = append(encs, named{name, tableEncoder{t}})
			for i := range t.groups {
				sizeHint += len(t.groups[i].slab) - t.groups[i].dead + 8
			}
		}
	}
	for name, e := range tables {
		encs = append(encs, named{name, e})
	}
	sort.Slice(encs, func(i, j int) bool { return encs[i].name < encs[j].name })

	// Which groups are non-empty, and how many tables each has.
	ntab := make([]int, s.hi-s.lo)
	groups := 0
	for g := s.lo; g < s.hi; g++ {
		for _, e := range encs {
			if e.enc.GroupLen(g) > 0 {
				ntab[g-s.lo]++
			}
		}
		if ntab[g-s.lo] > 0 {
			groups++
		}
	}
	buf := make([]byte, 0, sizeHint+64+len(s.cfg.OperatorID)+groups*(2*binary.MaxVarintLen32+len(encs)*16))
	buf = append(buf, snapshotMagic...)
	buf = append(buf, snapshotVersion)
	buf = appendString(buf, snap.OperatorID)
	buf = binary.AppendUvarint(buf, snap.Epoch)
	buf = binary.AppendUvarint(buf, uint64(snap.Subtask))
	buf = binary.AppendUvarint(buf, uint64(snap.Parallelism))
	buf = binary.AppendUvarint(buf, uint64(snap.MaxKeyGroups))
	buf = binary.AppendUvarint(buf, uint64(groups))
	type span struct{ group, start, end int }
	spans := make([]span, 0, groups)
	var scratch []byte
	for g := s.lo; g < s.hi; g++ {
		if ntab[g-s.lo] == 0 {
			continue
		}
		buf = binary.AppendUvarint(buf, uint64(g))
		// The group's data is length-prefixed: write it in place when
		// every table knows its size, or stage it in scratch.
		size, sized := uvarintLen(uint64(ntab[g-s.lo])), true
		for _, e := range encs {
			n := e.enc.GroupLen(g)
			if n == 0 {
				continue
			}
			sz, ok := e.enc.(GroupSizer)
			if !ok {
				sized = false
				break
			}
			size += uvarintLen(uint64(len(e.name))) + len(e.name) + uvarintLen(uint64(n)) + sz.GroupSize(g)
		}
		out := scratch[:0]
		if sized {
			buf = binary.AppendUvarint(buf, uint64(size))
			out = buf
		}
		start := len(out)
		out = binary.AppendUvarint(out, uint64(ntab[g-s.lo]))
		for _, e := range encs {
			n := e.enc.GroupLen(g)
			if n == 0 {
				continue
			}
			out = appendString(out, e.name)
			out = binary.AppendUvarint(out, uint64(n))
			out = e.enc.AppendGroup(out, g)
		}
		if sized {
			if len(out)-start != size {
				panic(fmt.Sprintf("state: snapshot: key group %d: the encoders announced %d bytes and wrote %d", g, size, len(out)-start))
			}
			buf = out
			spans = append(spans, span{g, start, len(buf)})
			continue
		}
		scratch = out
		buf = appendBytes(buf, scratch)
		spans = append(spans, span{g, len(buf) - len(scratch), len(buf)})
	}

	gnames := make([]string, 0, len(s.global))
	for name := range s.global {
		gnames = append(gnames, name)
	}
	sort.Strings(gnames)
	type gspan struct {
		table, key string
		start, end int
	}
	var gspans []gspan
	for _, name := range gnames {
		_ = s.global[name].Range(func(key string, value []byte) error {
			gspans = append(gspans, gspan{table: name, key: key})
			return nil
		})
	}
	buf = binary.AppendUvarint(buf, uint64(len(gspans)))
	i := 0
	for _, name := range gnames {
		_ = s.global[name].Range(func(key string, value []byte) error {
			buf = appendString(buf, name)
			buf = appendString(buf, key)
			buf = binary.AppendUvarint(buf, uint64(len(value)))
			gspans[i].start = len(buf)
			buf = append(buf, value...)
			gspans[i].end = len(buf)
			i++
			return nil
		})
	}
	buf = binary.LittleEndian.AppendUint32(buf, crc32c(buf))

	snap.Groups = make([]GroupState, len(spans))
	for i, sp := range spans {
		snap.Groups[i] = GroupState{Group: sp.group, Data: buf[sp.start:sp.end:sp.end]}
	}
	if len(gspans) > 0 {
		snap.Global = make([]GlobalEntry, len(gspans))
		for i, e := range gspans {
			snap.Global[i] = GlobalEntry{Table: e.table, Key: e.key, Value: buf[e.start:e.end:e.end]}
		}
	}
	snap.setEncoded(buf)
	return snap
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// RangeRestoredKeyed calls fn for every restored entry of keyed table name
// in the store's key groups, in key-group order, reading the restored
// snapshots' bytes in place: an operator that moves restored state into
// its own structures does so without the store copying every entry into a
// KeyedTable first. key and value point into the snapshots (do not modify
// them; they are valid as long as the snapshots are). It stops at the
// first error fn returns. Once the table has been used (Keyed), it ranges
// over the table instead, which holds the same entries.
func (s *Store) RangeRestoredKeyed(name string, fn func(g int, key, value []byte, expiresAt int64) error) error {
	if s.pending == nil {
		t, ok := s.keyed[name]
		if !ok {
			return nil
		}
		for g := s.lo; g < s.hi; g++ {
			if err := t.Range(g, func(key, value []byte, expiresAt int64) error {
				return fn(g, key, value, expiresAt)
			}); err != nil {
				return err
			}
		}
		return nil
	}
	for _, p := range s.pending {
		if err := rangeGroup(p.gs, func(table string, key, value []byte, expiresAt int64) error {
			if table != name {
				return nil
			}
			return fn(p.gs.Group, key, value, expiresAt)
		}); err != nil {
			return fmt.Errorf("state: restore operator %q: snapshot of subtask %d, key group %d: %w", s.cfg.OperatorID, p.from, p.gs.Group, err)
		}
	}
	return nil
}

// rangeGroup decodes the entries of gs; malformed data is an error
// wrapping ErrCorrupt, and so is an error fn returns (which is why fn
// returning errors other than a decoding problem must not use it: only
// the validation and RangeRestoredKeyed call it, the latter with the
// caller's function, whose error it passes through unwrapped).
func rangeGroup(gs GroupState, fn func(table string, key, value []byte, expiresAt int64) error) error {
	r := reader{b: gs.Data}
	tables := r.count()
	for i := 0; i < tables && r.err == nil; i++ {
		name := string(r.bytes())
		entries := r.count()
		for j := 0; j < entries && r.err == nil; j++ {
			key, value := r.bytes(), r.bytes()
			expiresAt := int64(NoExpiry)
			switch r.uvarint() {
			case 0:
			case 1:
				expiresAt = r.varint()
			default:
				r.fail("bad expiry tag")
			}
			if r.err != nil {
				break
			}
			if fn != nil {
				if err := fn(name, key, value, expiresAt); err != nil {
					return err
				}
			}
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, r.err)
	}
	return nil
}
