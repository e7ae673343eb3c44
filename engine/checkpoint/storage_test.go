package checkpoint

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestLocalWriteSizes writes files around the buffer and block sizes
// through Local.WriteFileFrom, in chunks of random sizes, and reads them
// back: the direct-I/O path (whole buffers, then whole blocks, then a
// buffered tail) and the buffered one (files within the buffer) must
// both give exactly the bytes written.
func TestLocalWriteSizes(t *testing.T) {
	roots := []string{t.TempDir()}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		// tmpfs: direct I/O may be refused, and the file then buffered.
		d, err := os.MkdirTemp("/dev/shm", "ckpt-test-")
		if err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			roots = append(roots, d)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 1, directBlock - 1, directBlock, directBlock + 1, directBufSize - 1, directBufSize, directBufSize + 1,
		directBufSize + directBlock, 2*directBufSize + 3*directBlock + 17, 3*directBufSize + directBufSize/2}
	for _, root := range roots {
		l := Local{Root: root}
		for _, size := range sizes {
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			name := filepath.Base(root) + "/f"
			err := l.WriteFileFrom(context.Background(), name, func(w io.Writer) error {
				for p := data; len(p) > 0; {
					n := min(len(p), 1+rng.IntN(300_000))
					if _, err := w.Write(p[:n]); err != nil {
						return err
					}
					p = p[n:]
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%s: write %d bytes: %v", root, size, err)
			}
			got, err := l.ReadFile(context.Background(), name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("%s: wrote %d bytes, read back %d, different", root, size, len(got))
			}
		}
	}
}

// TestFileWriterRefusedDirectWrite checks the fall-back when a direct
// write is refused: a file whose offset is not block-aligned (here, a
// byte written before the writer) makes the first direct write fail with
// EINVAL, and the writer must go on buffered without losing a byte.
func TestFileWriterRefusedDirectWrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte{7}); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), (2*directBufSize+100)/16)
	w := newFileWriter(f)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.finish(); err != nil {
		t.Fatal(err)
	}
	w.release()
	if w.direct {
		t.Fatal("direct I/O still on after a refused write")
	}
	if setDirect(f, true) == nil && !w.refused {
		// The file system has direct I/O, so the unaligned write must
		// have been refused and the fall-back taken.
		t.Fatal("the misaligned direct write was not refused: the fall-back was not exercised")
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1+len(data) || got[0] != 7 || !bytes.Equal(got[1:], data) {
		t.Fatalf("read back %d bytes, want %d", len(got), 1+len(data))
	}
}
