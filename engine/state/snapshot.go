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
	// Groups holds the keyed entries of every table, one blob per
	// non-empty key group, in group order.
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
type GroupState struct {
	Group int
	Data  []byte
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
	// valid version 2 one, so both are read.
	snapshotVersion = 2
	// snapshotMin is the smallest encoding: magic, version, checksum.
	snapshotMin = len(snapshotMagic) + 1 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MarshalBinary encodes the snapshot: magic "ARSS", a version byte, the
// header (operator id, epoch, subtask, parallelism, key-group count), the
// groups, the global entries, and a CRC-32C of everything before it.
func (s *Snapshot) MarshalBinary() ([]byte, error) {
	size := 64 + len(s.OperatorID)
	for _, g := range s.Groups {
		size += 2*binary.MaxVarintLen32 + len(g.Data)
	}
	for _, e := range s.Global {
		size += 3*binary.MaxVarintLen32 + len(e.Table) + len(e.Key) + len(e.Value)
	}
	return s.AppendBinary(make([]byte, 0, size))
}

// AppendBinary appends the encoding of MarshalBinary to b.
func (s *Snapshot) AppendBinary(b []byte) ([]byte, error) {
	if s.Subtask < 0 || s.Parallelism < 1 || s.MaxKeyGroups < 1 {
		return nil, fmt.Errorf("state: encode snapshot: subtask %d of parallelism %d, %d key groups", s.Subtask, s.Parallelism, s.MaxKeyGroups)
	}
	start := len(b)
	b = append(b, snapshotMagic...)
	b = append(b, snapshotVersion)
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
	return binary.LittleEndian.AppendUint32(b, crc32c(b[start:])), nil
}

// EncodeTo writes the encoding of MarshalBinary to w piece by piece,
// without building it in memory (the groups' data is written from where
// it is), and returns its size and the CRC-32C of all of it, trailer
// included: what a checkpoint records about the file.
func (s *Snapshot) EncodeTo(w io.Writer) (size int64, sum uint32, err error) {
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
	head = binary.AppendUvarint(head, uint64(len(s.Groups)))
	for _, g := range s.Groups {
		head = binary.AppendUvarint(head, uint64(g.Group))
		head = binary.AppendUvarint(head, uint64(len(g.Data)))
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
	if v := data[4]; v != 1 && v != snapshotVersion {
		return fmt.Errorf("snapshot version %d, this build reads versions 1 and %d", v, snapshotVersion)
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
	n := r.count()
	for i := 0; i < n && r.err == nil; i++ {
		g := r.int()
		data := r.bytes()
		if r.err == nil && (g >= out.MaxKeyGroups || (i > 0 && g < out.Groups[i-1].Group)) {
			return fmt.Errorf("key group %d out of order or range", g)
		}
		out.Groups = append(out.Groups, GroupState{Group: g, Data: data})
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
