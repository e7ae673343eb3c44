package state

import (
	"encoding/binary"
	"fmt"
	"slices"
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
// AppendGroup appends: the snapshot's buffer then grows once per group.
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

// GroupBlobs is a TableEncoder whose key groups are already encoded as
// whole GroupState.Data blobs (AppendGroupHeader, then the entries by
// AppendEntry), possibly several per group (GroupLen entries in all): a
// snapshot refers to them instead of copying them, so they must never
// change afterwards. It is used where the table is the only one with
// entries in a group. Blobs calls add with each blob of group g and its
// PartSlot (nil: the blob is not kept for a later snapshot to refer to),
// one slot per blob, which the snapshot's GroupState carries.
type GroupBlobs interface {
	Blobs(g int, add func(blob []byte, slot *PartSlot))
}

// GroupParts is a TableEncoder whose entries are already encoded as
// immutable multi-group parts (GroupState.Spans; each span's blob as
// GroupBlobs has it): a snapshot whose keyed state is this table alone
// refers to them as they are, a GroupState per part, with no work per key
// group. Parts calls add with each part's data, spans (in group order,
// within the store's key groups) and PartSlot; nil data with a slot that
// has a writer's note is a part whose owner dropped its bytes after a
// durable checkpoint wrote it: the snapshot's part then has no Data and a
// Ref to where it was written (see PartSlot). The spans must not change
// afterwards either.
type GroupParts interface {
	Parts(add func(data []byte, spans []GroupSpan, slot *PartSlot))
}

// AppendGroupHeader appends the header of a GroupState.Data blob that
// holds entries of one table (GroupBlobs): a table count of 1, the
// table's name and the entry count.
func AppendGroupHeader(b []byte, table string, entries int) []byte {
	b = append(b, 1)
	b = appendString(b, table)
	return binary.AppendUvarint(b, uint64(entries))
}

// SnapshotWith is Snapshot with the entries of further keyed tables taken
// from encoders (by table name) instead of from the store's own tables; a
// name must not also be a non-empty keyed table of the store. sizeHint is
// the expected size in bytes of what the snapshot copies (0: unknown), to
// allocate it once.
//
// The groups are encoded as the snapshot is built, into one buffer their
// Data are windows into, except those of a GroupBlobs encoder, which the
// snapshot refers to.
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

	// A group is a window into buf (start, end) or a blob.
	type part struct {
		group      int
		start, end int
		blob       []byte
		slot       *PartSlot
	}
	var parts []part
	buf := make([]byte, 0, sizeHint+64)
	var with []named
	var multi []GroupState
	if len(encs) == 1 {
		if gp, ok := encs[0].enc.(GroupParts); ok {
			gp.Parts(func(d []byte, spans []GroupSpan, slot *PartSlot) {
				switch {
				case len(spans) == 0:
				case d != nil:
					multi = append(multi, GroupState{Group: int(spans[0].Group), Data: d, Slot: slot, Spans: spans})
				case slot != nil && slot.Writer != 0 && slot.Ref.Length > 0:
					ref := slot.Ref
					multi = append(multi, GroupState{Group: int(spans[0].Group), Slot: slot, Ref: &ref, Spans: spans})
				default:
					// Its state would be lost.
					panic(fmt.Sprintf("state: snapshot of %q: a part without bytes that no checkpoint wrote", s.cfg.OperatorID))
				}
			})
			encs = nil // no group by group
		}
	}
	for g := s.lo; g < s.hi && len(encs) > 0; g++ {
		with = with[:0]
		for _, e := range encs {
			if e.enc.GroupLen(g) > 0 {
				with = append(with, e)
			}
		}
		if len(with) == 0 {
			continue
		}
		if bl, ok := with[0].enc.(GroupBlobs); ok && len(with) == 1 {
			bl.Blobs(g, func(b []byte, slot *PartSlot) {
				if len(b) > 0 {
					parts = append(parts, part{group: g, blob: b, slot: slot})
				}
			})
			continue
		}
		// Copied into buf, which grows once for the group when every
		// table knows its size.
		size, sized := len(with)*16, true
		for _, e := range with {
			sz, ok := e.enc.(GroupSizer)
			if !ok {
				sized = false
				break
			}
			size += sz.GroupSize(g)
		}
		if sized {
			buf = slices.Grow(buf, size)
		}
		start := len(buf)
		buf = binary.AppendUvarint(buf, uint64(len(with)))
		for _, e := range with {
			buf = appendString(buf, e.name)
			buf = binary.AppendUvarint(buf, uint64(e.enc.GroupLen(g)))
			buf = e.enc.AppendGroup(buf, g)
		}
		parts = append(parts, part{group: g, start: start, end: len(buf)})
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
			start := len(buf)
			buf = append(buf, value...)
			gspans = append(gspans, gspan{table: name, key: key, start: start, end: len(buf)})
			return nil
		})
	}

	snap.Groups = make([]GroupState, len(parts), len(parts)+len(multi))
	for i, p := range parts {
		d := p.blob
		if d == nil {
			d = buf[p.start:p.end:p.end]
		}
		snap.Groups[i] = GroupState{Group: p.group, Data: d, Slot: p.slot}
	}
	snap.Groups = append(snap.Groups, multi...)
	if len(gspans) > 0 {
		snap.Global = make([]GlobalEntry, len(gspans))
		for i, e := range gspans {
			snap.Global[i] = GlobalEntry{Table: e.table, Key: e.key, Value: buf[e.start:e.end:e.end]}
		}
	}
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

// rangeGroup decodes the entries of gs and calls fn (if not nil) with
// each. Malformed data is an error wrapping ErrCorrupt; an error of fn is
// returned as it is.
func rangeGroup(gs GroupState, fn func(table string, key, value []byte, expiresAt int64) error) error {
	if isCompact(gs.Data) {
		return rangeCompact(gs.Data, fn)
	}
	r := reader{b: gs.Data}
	tables := r.count()
	for i := 0; i < tables && r.err == nil; i++ {
		name := string(r.bytes())
		entries := r.count()
		for j := 0; j < entries && r.err == nil; j++ {
			key, value := r.bytes(), r.bytes()
			expiresAt := r.expiry()
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
