package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Snapshot is the state of one subtask at one checkpoint epoch, in a form
// that restores at any parallelism: keyed state is kept per key group, so a
// new subtask loads exactly the groups in its range. MarshalBinary encodes
// it for storage.
type Snapshot struct {
	OperatorID   string
	Epoch        uint64
	Subtask      int
	Parallelism  int
	MaxKeyGroups int
	// Groups holds the keyed entries of every table: a blob per
	// non-empty key group, in group order, or several parts of a key
	// group in a row (an operator's immutable parts), or multi-group
	// parts (GroupState.Spans), after the others.
	Groups []GroupState
	// Global holds the live entries of the subtask's global tables, in
	// table then key order.
	Global []GlobalEntry
}

// GroupState is keyed state of one key group. Data is an encoding
// private to this package: uvarint table count, then per table (by name)
// uvarint name length, name, uvarint entry count, and per entry uvarint key
// length, key, uvarint value length, value, and the expiry as uvarint 0
// (NoExpiry) or 1 followed by a varint. A key group may have several
// GroupStates in a row (version 2): their entries are distinct, and
// together they are the group's state.
//
// A part may be written once and referenced by later snapshots
// (incremental checkpoints, version 3): a part with a Slot is immutable
// (its Data never changes), and a writer notes in the slot where it wrote
// it, to refer to it there instead of writing it again; Ref, set by a
// writer before encoding or by decoding, is where the part's bytes are. A
// decoded part with a Ref has no Data until the reader resolves it
// (ResolvePart); a store refuses it.
//
// A part with Spans is a multi-group part (version 4): Data holds the
// blobs of several key groups back to back, Spans the group and length
// of each in order, and Group is the first span's group. An operator
// whose immutable unit holds few entries in each of many key groups (an
// aggregate's 2 ms pane) hands it over as one part, so a checkpoint's
// bookkeeping (parts, slots, references) is per unit, not per unit and
// key group; a restore splits it into its groups (Split) before placing
// them, so restore at another parallelism is unchanged. A referenced
// multi-group part (Ref.Multi) has neither Data nor Spans until resolved.
type GroupState struct {
	Group int
	Data  []byte
	Slot  *PartSlot
	Ref   *PartRef
	Spans []GroupSpan
}

// GroupSpan is one key group's blob in a multi-group part: its group and
// its length in bytes.
type GroupSpan struct {
	Group int32
	Len   int32
}

// Split calls fn with each key group's blob of g: g itself for a
// single-group part, each span's window into Data for a multi-group one.
func (g *GroupState) Split(fn func(group int, data []byte) error) error {
	if g.Spans == nil {
		return fn(g.Group, g.Data)
	}
	off := 0
	for _, sp := range g.Spans {
		end := off + int(sp.Len)
		if sp.Len < 0 || end > len(g.Data) {
			return fmt.Errorf("%w: multi-group part: key group %d's %d bytes at %d are beyond its %d", ErrCorrupt, sp.Group, sp.Len, off, len(g.Data))
		}
		if err := fn(int(sp.Group), g.Data[off:end:end]); err != nil {
			return err
		}
		off = end
	}
	if off != len(g.Data) {
		return fmt.Errorf("%w: multi-group part: its groups have %d bytes of its %d", ErrCorrupt, off, len(g.Data))
	}
	return nil
}

// PartLen is the length of g's encoding as a part of a file, which a
// reference to it covers: Data, after the index of a multi-group part.
func (g *GroupState) PartLen() int64 {
	if g.Spans == nil {
		return int64(len(g.Data))
	}
	n := uvarintLen(uint64(len(g.Spans)))
	for _, sp := range g.Spans {
		n += uvarintLen(uint64(sp.Group)) + uvarintLen(uint64(sp.Len))
	}
	return int64(n + len(g.Data))
}

// appendSpans appends a multi-group part's index: uvarint span count,
// then per span uvarint group and uvarint length.
func appendSpans(b []byte, spans []GroupSpan) []byte {
	b = binary.AppendUvarint(b, uint64(len(spans)))
	for _, sp := range spans {
		b = binary.AppendUvarint(b, uint64(sp.Group))
		b = binary.AppendUvarint(b, uint64(sp.Len))
	}
	return b
}

// decodeMulti decodes a multi-group part's body (index, then data).
func decodeMulti(body []byte, maxGroups int) ([]GroupSpan, []byte, error) {
	r := reader{b: body}
	n := r.count()
	spans := make([]GroupSpan, 0, n)
	total := 0
	for i := 0; i < n && r.err == nil; i++ {
		g, l := r.int(), r.int()
		if r.err != nil {
			break
		}
		if g >= maxGroups || (i > 0 && int32(g) <= spans[i-1].Group) {
			return nil, nil, fmt.Errorf("multi-group part: key group %d out of order or range", g)
		}
		spans = append(spans, GroupSpan{Group: int32(g), Len: int32(l)})
		total += l
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	if n == 0 || total != len(r.b) {
		return nil, nil, fmt.Errorf("multi-group part: %d groups of %d bytes in %d bytes", n, total, len(r.b))
	}
	return spans, r.b, nil
}

// PartSlot is a checkpoint writer's note about one immutable part: the
// writer that stored it (0: none yet), the last checkpoint of that writer
// that had it, and where it is. The operator that owns the part allocates
// the slot with it (zero) and never changes it; the writer, which writes
// one checkpoint at a time, reads and writes it. The writer makes its
// note before the checkpoint completes and changes it only while writing
// a later one, so the operator may read it between the two (when told the
// checkpoint is complete, or at its next barrier): once a durable
// checkpoint has noted every part of a blob, the operator may drop the
// blob's bytes and hand over the slot alone (GroupBlobs), and the
// snapshot's part is then a Ref to where the bytes are, without Data.
type PartSlot struct {
	Writer uint64
	Epoch  uint64
	Ref    PartRef
}

// PartRef locates a group part written by an earlier snapshot: Length
// bytes at Offset of File (a name relative to the writer's root, e.g. a
// checkpoint directory), whose CRC-32C is CRC32C.
type PartRef struct {
	File   string
	Offset int64
	Length int64
	CRC32C uint32
	// Multi: the part is a multi-group part (its index, then its data).
	Multi bool
}

// ResolvePart sets the Data of a referenced part from the bytes of its
// file, after checking the part is inside the file and its checksum.
func (g *GroupState) ResolvePart(file []byte) error {
	r := g.Ref
	if r == nil {
		return nil
	}
	if r.Offset < 0 || r.Length < 0 || r.Offset+r.Length > int64(len(file)) {
		return fmt.Errorf("%w: part of key group %d at offset %d, %d bytes, is outside the file's %d bytes", ErrCorrupt, g.Group, r.Offset, r.Length, len(file))
	}
	d := file[r.Offset : r.Offset+r.Length : r.Offset+r.Length]
	if sum := crc32c(d); sum != r.CRC32C {
		return fmt.Errorf("%w: part of key group %d at offset %d, %d bytes: checksum %08x, the reference says %08x", ErrCorrupt, g.Group, r.Offset, r.Length, sum, r.CRC32C)
	}
	if r.Multi {
		spans, data, err := decodeMulti(d, MaxKeyGroupsLimit)
		if err != nil {
			return fmt.Errorf("%w: part at offset %d, %d bytes: %w", ErrCorrupt, r.Offset, r.Length, err)
		}
		g.Spans, g.Data = spans, data
		return nil
	}
	g.Data = d
	return nil
}

// GlobalEntry is one entry of a global table.
type GlobalEntry struct {
	Table string
	Key   string
	Value []byte
}

// ErrCorrupt is wrapped by every error about malformed snapshot bytes.
var ErrCorrupt = errors.New("corrupt state snapshot")

const (
	snapshotMagic = "ARSS"
	// snapshotVersion is the version written. Version 2 lets a key
	// group have several GroupStates in a row (an operator's immutable
	// parts, referenced instead of copied); a version 1 snapshot is a
	// valid version 2 one. Version 3 adds a table of referenced files
	// and a kind byte per part: 0, the part's bytes follow; 1, a
	// reference (file index, offset, length, CRC-32C) to a part an
	// earlier snapshot wrote. All three are read.
	// Version 4 adds multi-group parts: kind 2, a part's index (its key
	// groups and their lengths) and data in place; kind 3, a reference
	// to one; parts are then in any order of key group.
	// Version 5 adds compact blobs (compact.go), which tell themselves
	// apart from the older ones; a version 5 snapshot may refer to parts
	// of version 4 files (both forms are read wherever they are).
	snapshotVersion = 5
	// snapshotMin is the smallest encoding: magic, version, checksum.
	snapshotMin = len(snapshotMagic) + 1 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MarshalBinary encodes the snapshot: magic "ARSS", a version byte, the
// header (operator id, epoch, subtask, parallelism, key-group count), the
// referenced files, the groups (each its bytes or a reference), the global
// entries, and a CRC-32C of everything before it.
func (s *Snapshot) MarshalBinary() ([]byte, error) {
	size := 64 + len(s.OperatorID)
	for _, g := range s.Groups {
		size += 2*binary.MaxVarintLen32 + 1 + len(g.Data) + len(g.Spans)*2*binary.MaxVarintLen32
	}
	for _, e := range s.Global {
		size += 3*binary.MaxVarintLen32 + len(e.Table) + len(e.Key) + len(e.Value)
	}
	return s.AppendBinary(make([]byte, 0, size))
}

// AppendBinary appends the encoding of MarshalBinary to b.
func (s *Snapshot) AppendBinary(b []byte) ([]byte, error) {
	w := &appender{b: b}
	_, _, err := s.EncodeParts(w, nil)
	if err != nil {
		return nil, err
	}
	return w.b, nil
}

type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// EncodeTo writes the encoding of MarshalBinary to w piece by piece,
// without building it in memory (the groups' data is written from where
// it is), and returns its size and the CRC-32C of all of it, trailer
// included: what a checkpoint records about the file.
func (s *Snapshot) EncodeTo(w io.Writer) (size int64, sum uint32, err error) {
	return s.EncodeParts(w, nil)
}

// EncodeParts is EncodeTo that also tells placed, if not nil, where in
// the output every part written in place (no Ref) is: its offset, length
// and CRC-32C, which a reference to it has (a multi-group part's cover
// its index and data). A writer records them to refer to the part later.
func (s *Snapshot) EncodeParts(w io.Writer, placed func(i int, offset, length int64, crc uint32)) (size int64, sum uint32, err error) {
	if s.Subtask < 0 || s.Parallelism < 1 || s.MaxKeyGroups < 1 {
		return 0, 0, fmt.Errorf("state: encode snapshot: subtask %d of parallelism %d, %d key groups", s.Subtask, s.Parallelism, s.MaxKeyGroups)
	}
	var crc uint32
	put := func(p []byte) {
		if err != nil || len(p) == 0 {
			return
		}
		crc = crc32.Update(crc, castagnoli, p)
		var n int
		n, err = w.Write(p)
		size += int64(n)
	}
	// Small framing is gathered in head; data is written in place.
	head := make([]byte, 0, 256)
	flush := func() {
		put(head)
		head = head[:0]
	}
	head = append(head, snapshotMagic...)
	head = append(head, snapshotVersion)
	head = appendString(head, s.OperatorID)
	head = binary.AppendUvarint(head, s.Epoch)
	head = binary.AppendUvarint(head, uint64(s.Subtask))
	head = binary.AppendUvarint(head, uint64(s.Parallelism))
	head = binary.AppendUvarint(head, uint64(s.MaxKeyGroups))
	// The referenced files, in order of first use.
	files := map[string]int{}
	var names []string
	for _, g := range s.Groups {
		if g.Ref != nil {
			if _, ok := files[g.Ref.File]; !ok {
				files[g.Ref.File] = len(names)
				names = append(names, g.Ref.File)
			}
		}
	}
	head = binary.AppendUvarint(head, uint64(len(names)))
	for _, n := range names {
		head = appendString(head, n)
	}
	head = binary.AppendUvarint(head, uint64(len(s.Groups)))
	for i, g := range s.Groups {
		head = binary.AppendUvarint(head, uint64(g.Group))
		if r := g.Ref; r != nil {
			if r.Multi {
				head = append(head, partMultiRef)
			} else {
				head = append(head, partRef)
			}
			head = binary.AppendUvarint(head, uint64(files[r.File]))
			head = binary.AppendUvarint(head, uint64(r.Offset))
			head = binary.AppendUvarint(head, uint64(r.Length))
			head = binary.LittleEndian.AppendUint32(head, r.CRC32C)
			continue
		}
		if g.Spans != nil {
			head = append(head, partMulti)
			idx := len(head)
			head = appendSpans(head, g.Spans)
			if placed != nil {
				// (The index may be flushed below: its checksum first.)
				placed(i, size+int64(idx), int64(len(head)-idx+len(g.Data)), crc32.Update(crc32c(head[idx:]), castagnoli, g.Data))
			}
		} else {
			head = append(head, partInline)
			head = binary.AppendUvarint(head, uint64(len(g.Data)))
			if placed != nil {
				placed(i, size+int64(len(head)), int64(len(g.Data)), crc32c(g.Data))
			}
		}
		if len(g.Data) < 4096 {
			head = append(head, g.Data...)
			if len(head) >= 64<<10 {
				flush()
			}
			continue
		}
		flush()
		put(g.Data)
	}
	head = binary.AppendUvarint(head, uint64(len(s.Global)))
	for _, e := range s.Global {
		head = appendString(head, e.Table)
		head = appendString(head, e.Key)
		head = appendBytes(head, e.Value)
	}
	flush()
	trailer := binary.LittleEndian.AppendUint32(nil, crc)
	put(trailer)
	return size, crc, err
}

// The kinds of a version 3 part.
const (
	partInline   = 0
	partRef      = 1
	partMulti    = 2
	partMultiRef = 3
)

// Referenced reports how many of the snapshot's group parts, and how
// many bytes, are references to parts of earlier snapshots.
func (s *Snapshot) Referenced() (parts int, bytes int64) {
	for _, g := range s.Groups {
		if g.Ref != nil {
			parts++
			bytes += g.Ref.Length
		}
	}
	return parts, bytes
}

// UnmarshalBinary decodes an encoding of MarshalBinary. Every malformation
// (truncation, a flipped bit, an unknown version) is an error wrapping
// ErrCorrupt; it never panics. The snapshot keeps a copy of data.
func (s *Snapshot) UnmarshalBinary(data []byte) error {
	if err := s.unmarshal(data, true); err != nil {
		return fmt.Errorf("state: %w: %w", ErrCorrupt, err)
	}
	return nil
}

// DecodeSnapshot is UnmarshalBinary for data the caller hands over: the
// snapshot keeps windows into data instead of a copy (a checkpoint file
// read for one restore), so data must not change afterwards.
func DecodeSnapshot(data []byte) (*Snapshot, error) {
	s := new(Snapshot)
	if err := s.unmarshal(data, false); err != nil {
		return nil, fmt.Errorf("state: %w: %w", ErrCorrupt, err)
	}
	return s, nil
}

func (s *Snapshot) unmarshal(data []byte, copyData bool) error {
	if len(data) < snapshotMin {
		return fmt.Errorf("truncated: %d bytes, the smallest snapshot has %d", len(data), snapshotMin)
	}
	if string(data[:4]) != snapshotMagic {
		return fmt.Errorf("not a state snapshot (starts with %q)", data[:4])
	}
	version := data[4]
	if version < 1 || version > snapshotVersion {
		return fmt.Errorf("snapshot version %d, this build reads versions 1 to %d", version, snapshotVersion)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if got := crc32c(body); got != sum {
		return fmt.Errorf("checksum mismatch (stored %08x, computed %08x over %d bytes): truncated or damaged", sum, got, len(body))
	}
	// The snapshot keeps windows into one private copy (or into data).
	r := reader{b: body[5:]}
	if copyData {
		r.b = append([]byte(nil), r.b...)
	}
	var out Snapshot
	out.OperatorID = string(r.bytes())
	out.Epoch = r.uvarint()
	out.Subtask = r.int()
	out.Parallelism = r.int()
	out.MaxKeyGroups = r.int()
	if r.err == nil && (out.Parallelism < 1 || out.Subtask >= out.Parallelism || out.MaxKeyGroups < 1 || out.MaxKeyGroups > MaxKeyGroupsLimit) {
		return fmt.Errorf("header: subtask %d of parallelism %d, %d key groups", out.Subtask, out.Parallelism, out.MaxKeyGroups)
	}
	var files []string
	if version >= 3 {
		n := r.count()
		for i := 0; i < n && r.err == nil; i++ {
			files = append(files, string(r.bytes()))
		}
	}
	n := r.count()
	for i := 0; i < n && r.err == nil; i++ {
		g := r.int()
		gs := GroupState{Group: g}
		kind := byte(partInline)
		if version >= 3 {
			if len(r.b) == 0 {
				r.fail("truncated part")
				break
			}
			kind, r.b = r.b[0], r.b[1:]
		}
		if kind >= partMulti && version < 4 {
			return fmt.Errorf("part of key group %d has kind %d, which version %d does not have", g, kind, version)
		}
		switch kind {
		case partInline:
			gs.Data = r.bytes()
		case partMulti:
			if r.err != nil {
				break
			}
			// The index, then the data its lengths add up to.
			body := r.b
			n := r.count()
			total := 0
			for j := 0; j < n && r.err == nil; j++ {
				r.uvarint()
				total += r.int()
			}
			if r.err == nil && total > len(r.b) {
				r.fail("truncated multi-group part")
			}
			if r.err != nil {
				break
			}
			end := len(body) - len(r.b) + total
			spans, data, err := decodeMulti(body[:end:end], out.MaxKeyGroups)
			if err != nil {
				return fmt.Errorf("part of key group %d: %w", g, err)
			}
			if int(spans[0].Group) != g {
				return fmt.Errorf("multi-group part of key group %d starts with key group %d", g, spans[0].Group)
			}
			gs.Spans, gs.Data = spans, data
			r.b = r.b[total:]
		case partRef, partMultiRef:
			f := r.uvarint()
			ref := &PartRef{Offset: int64(r.uvarint()), Length: int64(r.uvarint()), Multi: kind == partMultiRef}
			if r.err == nil && (f >= uint64(len(files)) || ref.Offset < 0 || ref.Length < 0) {
				return fmt.Errorf("part of key group %d refers to file %d of %d, offset %d, length %d", g, f, len(files), ref.Offset, ref.Length)
			}
			if r.err == nil && len(r.b) < 4 {
				r.fail("truncated reference")
			}
			if r.err == nil {
				ref.File = files[f]
				ref.CRC32C = binary.LittleEndian.Uint32(r.b)
				r.b = r.b[4:]
			}
			gs.Ref = ref
		default:
			return fmt.Errorf("part of key group %d has kind %d", g, kind)
		}
		// (From version 4 parts are in any order of key group: a
		// multi-group part spans many.)
		if r.err == nil && (g >= out.MaxKeyGroups || (version < 4 && i > 0 && g < out.Groups[i-1].Group)) {
			return fmt.Errorf("key group %d out of order or range", g)
		}
		out.Groups = append(out.Groups, gs)
	}
	n = r.count()
	for i := 0; i < n && r.err == nil; i++ {
		table, key, value := string(r.bytes()), string(r.bytes()), r.bytes()
		out.Global = append(out.Global, GlobalEntry{Table: table, Key: key, Value: value})
	}
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%d bytes after the last entry", len(r.b))
	}
	*s = out
	return nil
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// loadGroup puts the entries of gs into the store's tables.
func (s *Store) loadGroup(gs GroupState) error {
	var t *KeyedTable
	return rangeGroup(gs, func(table string, key, value []byte, expiresAt int64) error {
		if t == nil || t.name != table {
			t = s.keyedTable(table)
		}
		t.load(gs.Group, key, value, expiresAt)
		return nil
	})
}

// reader decodes the varint framing; the first error sticks and later
// reads return zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s (%d bytes left)", what, len(r.b))
	}
	r.b = nil
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad or truncated varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad or truncated varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// expiry reads an entry's expiry: uvarint 0 (NoExpiry) or 1 followed by
// a varint.
func (r *reader) expiry() int64 {
	switch r.uvarint() {
	case 0:
		return NoExpiry
	case 1:
		return r.varint()
	}
	r.fail("bad expiry tag")
	return NoExpiry
}

// int reads a uvarint that must fit an int32 (subtasks, groups).
func (r *reader) int() int {
	v := r.uvarint()
	if v > 1<<31-1 {
		r.fail(fmt.Sprintf("number %d out of range", v))
		return 0
	}
	return int(v)
}

// count reads a uvarint element count; each element takes at least one
// byte, which bounds what a corrupt count can make us allocate.
func (r *reader) count() int {
	v := r.uvarint()
	if v > uint64(len(r.b)) {
		r.fail(fmt.Sprintf("count %d exceeds the remaining bytes", v))
		return 0
	}
	return int(v)
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail(fmt.Sprintf("length %d exceeds the remaining bytes", n))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
