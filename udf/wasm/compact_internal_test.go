package wasm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

// memoryImage is what a module's data section makes of memory: the bytes
// its active constant-offset segments write (applied in order), and every
// other segment as it is. Custom sections are listed apart.
type memoryImage struct {
	mem      map[uint32]byte
	others   [][]byte
	segments uint32
	count    int64 // the data count section's value (-1: none)
	customs  int
}

func imageOf(t *testing.T, wasm []byte) memoryImage {
	t.Helper()
	img := memoryImage{mem: map[uint32]byte{}, count: -1}
	pos := 8
	for pos < len(wasm) {
		id := wasm[pos]
		size, n := readLEB32(wasm[pos+1:])
		if n == 0 {
			t.Fatalf("section at %d: bad size", pos)
		}
		body := wasm[pos+1+n : pos+1+n+int(size)]
		pos += 1 + n + int(size)
		switch id {
		case 0:
			img.customs++
		case 12:
			c, _ := readLEB32(body)
			img.count = int64(c)
		case 11:
			cnt, p := readLEB32(body)
			img.segments = cnt
			for range cnt {
				flags, k := readLEB32(body[p:])
				if flags == 0 && body[p+k] == 0x41 {
					off, m := readSLEB32(body[p+k+1:])
					q := p + k + 1 + m + 1
					l, k2 := readLEB32(body[q:])
					for i, c := range body[q+k2 : q+k2+int(l)] {
						img.mem[uint32(off)+uint32(i)] = c
					}
					p = q + k2 + int(l)
					continue
				}
				end, ok := skipDataSegment(body, p)
				if !ok {
					t.Fatalf("data segment at %d: malformed", p)
				}
				img.others = append(img.others, body[p:end])
				p = end
			}
		}
	}
	// Zeros are what memory holds anyway.
	for a, c := range img.mem {
		if c == 0 {
			delete(img.mem, a)
		}
	}
	return img
}

func sameImage(t *testing.T, a, b memoryImage) {
	t.Helper()
	if len(a.mem) != len(b.mem) {
		t.Fatalf("%d non-zero bytes of memory, then %d", len(a.mem), len(b.mem))
	}
	for addr, c := range a.mem {
		if b.mem[addr] != c {
			t.Fatalf("memory[%d] = %d, then %d", addr, c, b.mem[addr])
		}
	}
	if fmt.Sprint(a.others) != fmt.Sprint(b.others) {
		t.Fatalf("other segments %v, then %v", a.others, b.others)
	}
}

func uleb(v uint32) []byte { return binary.AppendUvarint(nil, uint64(v)) }

func sectionBytes(id byte, body []byte) []byte {
	return append(append([]byte{id}, uleb(uint32(len(body)))...), body...)
}

func activeSegment(off int32, data string) []byte {
	b := append([]byte{0, 0x41}, appendSLEB32(nil, off)...)
	b = append(b, 0x0b)
	return append(append(b, uleb(uint32(len(data)))...), data...)
}

// TestCompactModuleKeepsMemory compacts a module whose segments are
// adjacent, a little and far apart, out of order (overlapping), passive
// and at a global's offset, with a data count and custom sections, and
// checks that memory comes out the same, the count is right and the
// custom sections are gone.
func TestCompactModuleKeepsMemory(t *testing.T) {
	segs := [][]byte{
		activeSegment(0, "ab"), activeSegment(2, "cd"), activeSegment(10, "x"),
		activeSegment(10+1+maxDataGap+1, "far"), activeSegment(3, "ZZ"),
		{1, 3, 'p', 'a', 's'},           // passive
		{0, 0x23, 0, 0x0b, 2, 'g', 'g'}, // at global 0's value
		activeSegment(-4, "neg"), activeSegment(100000, "\x00\x00"),
		activeSegment(100002, "end"),
	}
	data := uleb(uint32(len(segs)))
	for _, s := range segs {
		data = append(data, s...)
	}
	mod := []byte("\x00asm\x01\x00\x00\x00")
	mod = append(mod, sectionBytes(0, []byte("\x04name\x00"))...)
	mod = append(mod, sectionBytes(5, []byte{1, 0, 2})...) // memory 0: 2 pages
	mod = append(mod, sectionBytes(12, uleb(uint32(len(segs))))...)
	mod = append(mod, sectionBytes(11, data)...)
	mod = append(mod, sectionBytes(0, []byte("\x09producers"))...)

	out, ok := compactModule(mod)
	if !ok {
		t.Fatal("compactModule refused a well-formed module")
	}
	before, after := imageOf(t, mod), imageOf(t, out)
	sameImage(t, before, after)
	// "ab","cd","x" merge; "far" starts a run; "ZZ" overlaps: its own;
	// passive and global-offset copied; "neg" (an offset below the
	// previous) alone; the last two merge.
	if after.segments != 7 || after.count != 7 || after.customs != 0 {
		t.Fatalf("after: %d segments, data count %d, %d custom sections; want 7, 7, 0", after.segments, after.count, after.customs)
	}

	for _, bad := range [][]byte{mod[:len(mod)-3], []byte("\x00asm"), []byte("nope\x01\x00\x00\x00")} {
		if _, ok := compactModule(bad); ok {
			t.Errorf("compactModule accepted %q", bad)
		}
	}
}

// CheckCompactGoModule compacts a Go module (mod): the same memory from
// far fewer segments. TestCompactGoModule (bench_go_test.go) runs it on a
// Go example: this package's own files may not import wasmtest.
func CheckCompactGoModule(t *testing.T, mod []byte) {
	out, ok := compactModule(mod)
	if !ok {
		t.Fatal("compactModule refused the Go module")
	}
	before, after := imageOf(t, mod), imageOf(t, out)
	sameImage(t, before, after)
	if after.segments*100 > before.segments || after.customs != 0 {
		t.Fatalf("%d segments, then %d, and %d custom sections: want 1%% of the segments and none", before.segments, after.segments, after.customs)
	}
	if !bytes.Equal(mod[:8], out[:8]) {
		t.Fatal("header changed")
	}
}

func TestSLEB32RoundTrip(t *testing.T) {
	for _, v := range []int32{0, 1, -1, 63, 64, -64, -65, 1 << 20, -1 << 31, 1<<31 - 1} {
		b := appendSLEB32(nil, v)
		got, n := readSLEB32(b)
		if got != v || n != len(b) {
			t.Errorf("%d: read %d (%d of %d bytes)", v, got, n, len(b))
		}
	}
}
