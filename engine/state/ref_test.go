package state

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestSnapshotReferences encodes a snapshot whose parts are partly in
// place and partly references to another file's bytes, finds the in-place
// parts where EncodeParts says they are, and restores from the decoded
// snapshot once its references are resolved.
func TestSnapshotReferences(t *testing.T) {
	s := mustNew(t, Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: 8}, nil)
	for i := range 40 {
		key := key8(uint64(i))
		s.Keyed("t").Put(place(key, 8), key, []byte("value"), NoExpiry)
	}
	s.Global("g").Put("split", []byte("offset"))
	first := s.Snapshot(1)
	var buf bytes.Buffer
	offsets := map[int]int64{}
	if _, _, err := first.EncodeParts(&buf, func(i int, off, length int64, crc uint32) {
		if length != int64(len(first.Groups[i].Data)) || crc != crc32c(first.Groups[i].Data) {
			t.Errorf("part %d placed with length %d, checksum %08x", i, length, crc)
		}
		offsets[i] = off
	}); err != nil {
		t.Fatal(err)
	}
	old := buf.Bytes()
	if len(offsets) != len(first.Groups) {
		t.Fatalf("placed %d of %d parts", len(offsets), len(first.Groups))
	}
	for i, g := range first.Groups {
		if got := old[offsets[i] : offsets[i]+int64(len(g.Data))]; !bytes.Equal(got, g.Data) {
			t.Fatalf("part %d is not at offset %d", i, offsets[i])
		}
	}
	// The second snapshot refers to the odd parts of the first.
	second := *first
	second.Epoch = 2
	second.Groups = append([]GroupState(nil), first.Groups...)
	for i := 1; i < len(second.Groups); i += 2 {
		g := &second.Groups[i]
		g.Ref = &PartRef{File: "epoch-1/op-0.state", Offset: offsets[i], Length: int64(len(g.Data)), CRC32C: crc32c(g.Data)}
	}
	data, err := second.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(data) >= len(old) {
		t.Errorf("a snapshot of references has %d bytes, the full one %d", len(data), len(old))
	}
	back, err := DecodeSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	if parts, n := back.Referenced(); parts != len(second.Groups)/2 || n == 0 {
		t.Errorf("Referenced() = %d parts, %d bytes", parts, n)
	}
	if _, err := New(Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: 8}, []*Snapshot{back}); err == nil || !strings.Contains(err.Error(), "not resolved") {
		t.Fatalf("restore with unresolved references: %v", err)
	}
	for i := range back.Groups {
		if back.Groups[i].Ref != nil && back.Groups[i].Ref.File != "epoch-1/op-0.state" {
			t.Fatalf("reference to %q", back.Groups[i].Ref.File)
		}
		if err := back.Groups[i].ResolvePart(old); err != nil {
			t.Fatal(err)
		}
	}
	r := mustNew(t, Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: 8}, []*Snapshot{back})
	n := 0
	for g := range 8 {
		n += r.Keyed("t").GroupLen(g)
	}
	if n != 40 {
		t.Errorf("restored %d entries, want 40", n)
	}
	// A damaged referenced part, or one beyond its file, is an error.
	bad := bytes.Clone(old)
	ref := *second.Groups[1].Ref
	bad[ref.Offset] ^= 1
	g := GroupState{Group: 1, Ref: &ref}
	if err := g.ResolvePart(bad); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("damaged part: %v", err)
	}
	if err := g.ResolvePart(old[:ref.Offset+1]); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "outside") {
		t.Errorf("truncated file: %v", err)
	}
}

// TestSnapshotMultiGroupParts: a snapshot whose key groups come in
// multi-group parts (all of a store's groups in one part, and a second
// part with some of them again) round-trips through its encoding,
// restores at another parallelism with each subtask taking its groups,
// and a later snapshot's reference to a multi-group part resolves to the
// same spans; a damaged index is ErrCorrupt.
func TestSnapshotMultiGroupParts(t *testing.T) {
	cfg := Config{OperatorID: "op", Parallelism: 1, MaxKeyGroups: 8}
	s := mustNew(t, cfg, nil)
	u := mustNew(t, cfg, nil) // more entries of the same table, other keys
	for i := range 40 {
		key := key8(uint64(i))
		s.Keyed("t").Put(place(key, 8), key, []byte("value"), NoExpiry)
		if i%3 == 0 {
			k2 := append(key8(uint64(i)), 'x')
			u.Keyed("t").Put(place(key, 8), k2, []byte("other"), NoExpiry)
		}
	}
	multi := func(sn *Snapshot) GroupState {
		var m GroupState
		for i, g := range sn.Groups {
			if i == 0 {
				m.Group = g.Group
			}
			m.Spans = append(m.Spans, GroupSpan{Group: int32(g.Group), Len: int32(len(g.Data))})
			m.Data = append(m.Data, g.Data...)
		}
		return m
	}
	snap := s.Snapshot(1)
	snap.Groups = []GroupState{multi(snap), multi(u.Snapshot(1))}
	var buf bytes.Buffer
	placed := map[int][2]int64{}
	crcs := map[int]uint32{}
	if _, _, err := snap.EncodeParts(&buf, func(i int, off, length int64, crc uint32) {
		placed[i] = [2]int64{off, length}
		crcs[i] = crc
	}); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()
	back, err := DecodeSnapshot(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Groups) != 2 || len(back.Groups[0].Spans) != len(snap.Groups[0].Spans) || !bytes.Equal(back.Groups[0].Data, snap.Groups[0].Data) {
		t.Fatalf("decoded %d parts, the first with %d spans", len(back.Groups), len(back.Groups[0].Spans))
	}
	count := func(stores ...*Store) int {
		n := 0
		for _, st := range stores {
			lo, hi := st.KeyGroups()
			for g := lo; g < hi; g++ {
				n += st.Keyed("t").GroupLen(g)
			}
		}
		return n
	}
	want := 40 + 14
	a := mustNew(t, Config{OperatorID: "op", Parallelism: 2, MaxKeyGroups: 8}, []*Snapshot{back})
	b := mustNew(t, Config{OperatorID: "op", Subtask: 1, Parallelism: 2, MaxKeyGroups: 8}, []*Snapshot{back})
	if n := count(a, b); n != want {
		t.Fatalf("restored at parallelism 2: %d entries, want %d", n, want)
	}
	// A reference to the first part, as a writer records it.
	p := placed[0]
	if p[1] != snap.Groups[0].PartLen() {
		t.Fatalf("placed length %d, PartLen %d", p[1], snap.Groups[0].PartLen())
	}
	second := *snap
	second.Epoch = 2
	second.Groups = []GroupState{{Group: snap.Groups[0].Group, Ref: &PartRef{File: "f", Offset: p[0], Length: p[1], CRC32C: crcs[0], Multi: true}}, snap.Groups[1]}
	data, err := second.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back2, err := DecodeSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	if back2.Groups[0].Ref == nil || !back2.Groups[0].Ref.Multi || back2.Groups[0].Spans != nil {
		t.Fatalf("decoded reference %+v", back2.Groups[0])
	}
	if err := back2.Groups[0].ResolvePart(file); err != nil {
		t.Fatal(err)
	}
	if n := count(mustNew(t, cfg, []*Snapshot{back2})); n != want {
		t.Fatalf("restored from the reference: %d entries, want %d", n, want)
	}
	// A damaged index: a span longer than the part.
	bad := GroupState{Group: 0, Spans: []GroupSpan{{Group: 0, Len: 1 << 20}}, Data: []byte{1, 2, 3}}
	if _, err := New(cfg, []*Snapshot{{OperatorID: "op", Epoch: 1, Parallelism: 1, MaxKeyGroups: 8, Groups: []GroupState{bad}}}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a span beyond its part: %v", err)
	}
	corrupt := bytes.Clone(file)
	corrupt[placed[0][0]] = 200 // the first part's span count
	if _, err := DecodeSnapshot(corrupt); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a damaged index: %v", err)
	}
}
