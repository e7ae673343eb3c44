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
	if _, _, err := first.EncodeParts(&buf, func(i int, off int64) { offsets[i] = off }); err != nil {
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
