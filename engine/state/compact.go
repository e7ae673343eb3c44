package state

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// Compact blobs (state format 5). A GroupState.Data blob in this form
// begins with a 0 byte (a blob of the older form begins with its table
// count, at least 1: a 0 count followed by more bytes was never valid, so
// the two are told apart by the blob alone and need no version beside
// it), then the uvarint section count, then per section:
//
//	name       uvarint length, bytes
//	prefix     uvarint length, bytes: the start of every key of the section
//	columns    uvarint n; 0: each entry's key is the rest of the key after
//	           the prefix, uvarint length-prefixed; n > 0: the rest of
//	           every key is n fixed-width values in the row codec's key
//	           encoding (coldata.AppendEncoded: a presence byte, 0 NULL or
//	           1, and for a value its width's little-endian bytes), and per
//	           column the header has its width (a byte: 1, 2, 4 or 8), a
//	           byte of flags (the low four bits: the bytes b, 0 to 8, each
//	           entry stores; 0x10: the column has NULLs) and a base (a
//	           varint); an entry then holds per column, after a presence
//	           byte if the column has NULLs (0: NULL, nothing follows), the
//	           value (sign-extended from its width) minus the base in b
//	           little-endian bytes
//	entries    uvarint count, then per entry the key as above, uvarint
//	           value length, value, and the expiry as in the older form
//
// A section's name may repeat (a table's entries in several sections,
// e.g. one per window pane). Restore expands each key to its full form
// (prefix, then the fixed-width encoding) before anyone sees it, so what
// operators get from a compact blob is exactly what they got from the
// older one. An entry of key columns without NULLs has one size, and is
// written with a store per column (KeyColumns): an aggregate pane's 38
// bytes per entry of three BIGINT columns become ~11.

// compactMarker is the first byte of a compact blob.
const compactMarker = 0

// isCompact reports whether blob is a compact (format 5) blob.
func isCompact(blob []byte) bool { return len(blob) > 1 && blob[0] == compactMarker }

// AppendCompactHeader appends the start of a compact blob of sections
// sections (each then by AppendSection and its entries).
func AppendCompactHeader(b []byte, sections int) []byte {
	b = append(b, compactMarker)
	return binary.AppendUvarint(b, uint64(sections))
}

// AppendSection appends the header of one section of a compact blob:
// table name, the prefix of every key, the key columns after it (nil:
// each entry by AppendEntry with the key after the prefix; else set by
// KeyColumns.Finish), and the
// entry count.
func AppendSection(b []byte, table string, prefix []byte, cols *KeyColumns, entries int) []byte {
	b = appendString(b, table)
	b = appendBytes(b, prefix)
	if cols == nil {
		b = append(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(cols.Widths)))
		for c, w := range cols.Widths {
			f := cols.Bytes[c]
			if cols.Nullable[c] {
				f |= nullableFlag
			}
			b = append(b, w, f)
			b = binary.AppendVarint(b, cols.Base[c])
		}
	}
	return binary.AppendUvarint(b, uint64(entries))
}

// SectionHeaderSize is len(AppendSection(nil, table, prefix, cols,
// entries)).
func SectionHeaderSize(table string, prefix []byte, cols *KeyColumns, entries int) int {
	n := uvarintLen(uint64(len(table))) + len(table) + uvarintLen(uint64(len(prefix))) + len(prefix) + uvarintLen(uint64(entries))
	if cols == nil {
		return n + 1
	}
	n += uvarintLen(uint64(len(cols.Widths)))
	for _, b := range cols.Base {
		n += 2 + uvarintLen(uint64(b<<1)^uint64(b>>63))
	}
	return n
}

// ValidWidths reports whether widths can be a compact section's columns.
func ValidWidths(widths []uint8) bool {
	if len(widths) == 0 || len(widths) > maxCompactColumns {
		return false
	}
	for _, w := range widths {
		if w != 1 && w != 2 && w != 4 && w != 8 {
			return false
		}
	}
	return true
}

// maxCompactColumns bounds a section's columns (a corrupt count must not
// make a restore allocate much).
const maxCompactColumns = 64

// nullableFlag marks a column with NULLs in a section header.
const nullableFlag = 0x10

// KeyColumns is the layout of a section's fixed-width key columns: set
// Widths, Reset, Observe every key of the section, Finish; then
// AppendSection writes the layout and AppendKey each key. It may be
// reused (Reset) for the next section.
type KeyColumns struct {
	Widths []uint8
	// Base is subtracted from each column's values, which then take
	// Bytes[c] bytes; Nullable columns have a presence byte (Finish).
	Base     []int64
	Bytes    []uint8
	Nullable []bool
	min, max []int64
	all8     bool // every width is 8
}

// Reset forgets what was observed.
func (k *KeyColumns) Reset() {
	n := len(k.Widths)
	k.all8 = true
	for _, w := range k.Widths {
		k.all8 = k.all8 && w == 8
	}
	k.Base, k.Bytes, k.Nullable = resize(k.Base, n), resize(k.Bytes, n), resize(k.Nullable, n)
	k.min, k.max = resize(k.min, n), resize(k.max, n)
	for c := range n {
		k.min[c], k.max[c] = math.MaxInt64, math.MinInt64
		k.Nullable[c] = false
	}
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// Observe takes key (the rest of a key after the prefix) into the
// layout, and reports whether it is an encoding of the Widths' columns.
func (k *KeyColumns) Observe(key []byte) bool {
	if k.all8 && len(key) == 9*len(k.Widths) {
		// No NULL can be among them (a NULL is one byte, not nine).
		mins, maxs := k.min[:len(k.Widths)], k.max[:len(k.Widths)]
		for c := range mins {
			kc := key[9*c : 9*c+9]
			if kc[0] != 1 {
				return false
			}
			v := int64(binary.LittleEndian.Uint64(kc[1:]))
			mins[c] = min(mins[c], v)
			maxs[c] = max(maxs[c], v)
		}
		return true
	}
	for c, w := range k.Widths {
		if len(key) == 0 {
			return false
		}
		switch key[0] {
		case 0:
			k.Nullable[c] = true
			key = key[1:]
			continue
		case 1:
		default:
			return false
		}
		if len(key) < 1+int(w) {
			return false
		}
		v := signExtend(loadWidth(key[1:], w), w)
		k.min[c] = min(k.min[c], v)
		k.max[c] = max(k.max[c], v)
		key = key[1+int(w):]
	}
	return len(key) == 0
}

// ObserveRange takes values lo to hi of column c (none NULL) into the
// layout: what Observe of keys holding them would do, for a caller that
// scanned the keys itself.
func (k *KeyColumns) ObserveRange(c int, lo, hi int64) {
	k.min[c] = min(k.min[c], lo)
	k.max[c] = max(k.max[c], hi)
}

// Finish sets Base, Bytes and Nullable from what was observed.
func (k *KeyColumns) Finish() {
	for c := range k.Widths {
		if k.min[c] > k.max[c] { // NULLs alone
			k.Base[c], k.Bytes[c] = 0, 0
			continue
		}
		k.Base[c] = k.min[c]
		k.Bytes[c] = uint8((bits.Len64(uint64(k.max[c])-uint64(k.min[c])) + 7) >> 3)
	}
}

// MaxKeySize is the most bytes AppendKey appends for a key.
func (k *KeyColumns) MaxKeySize() int {
	n := 0
	for c := range k.Widths {
		n += int(k.Bytes[c])
		if k.Nullable[c] {
			n++
		}
	}
	return n
}

// AppendKey appends the compact form of an observed key.
func (k *KeyColumns) AppendKey(b, key []byte) []byte {
	for c, w := range k.Widths {
		if k.Nullable[c] {
			b = append(b, key[0])
		}
		if key[0] == 0 {
			key = key[1:]
			continue
		}
		d := uint64(signExtend(loadWidth(key[1:], w), w) - k.Base[c])
		for i := range k.Bytes[c] {
			b = append(b, byte(d>>(8*i)))
		}
		key = key[1+int(w):]
	}
	return b
}

// loadWidth loads w little-endian bytes of b (len(b) >= w) as an
// unsigned value.
func loadWidth(b []byte, w uint8) uint64 {
	switch w {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	default:
		return binary.LittleEndian.Uint64(b)
	}
}

// signExtend sign-extends the w-byte value u.
func signExtend(u uint64, w uint8) int64 {
	sh := 64 - 8*uint(w)
	return int64(u<<sh) >> sh
}

// section is a decoded compact section header.
type section struct {
	name   string
	prefix []byte
	cols   []sectionCol
	// full is the size of an expanded key of columns, all non-NULL,
	// after the prefix.
	full int
}

type sectionCol struct {
	width, bytes uint8
	nullable     bool
	base         int64
}

func (r *reader) section() section {
	var s section
	s.name = string(r.bytes())
	s.prefix = r.bytes()
	n := r.count()
	if r.err != nil {
		return s
	}
	if n > maxCompactColumns {
		r.fail(fmt.Sprintf("%d key columns", n))
		return s
	}
	s.cols = make([]sectionCol, n)
	for c := range s.cols {
		if len(r.b) < 2 {
			r.fail("truncated key column")
			return s
		}
		w, f := r.b[0], r.b[1]
		r.b = r.b[2:]
		col := sectionCol{width: w, bytes: f & 0x0f, nullable: f&nullableFlag != 0, base: r.varint()}
		if (w != 1 && w != 2 && w != 4 && w != 8) || col.bytes > 8 || f&^(0x0f|nullableFlag) != 0 {
			r.fail(fmt.Sprintf("key column %d: width %d, flags %#x", c, w, f))
			return s
		}
		s.cols[c] = col
		s.full += 1 + int(w)
	}
	return s
}

// expandKey decodes a compact key of s's columns from r and appends its
// fixed-width form to dst.
func (r *reader) expandKey(dst []byte, cols []sectionCol) []byte {
	for c, col := range cols {
		if col.nullable {
			if len(r.b) == 0 || r.b[0] > 1 {
				r.fail(fmt.Sprintf("key column %d: bad presence", c))
				return dst
			}
			p := r.b[0]
			r.b = r.b[1:]
			if p == 0 {
				dst = append(dst, 0)
				continue
			}
		}
		nb := int(col.bytes)
		if len(r.b) < nb {
			r.fail("truncated key")
			return dst
		}
		var d uint64
		for i := range nb {
			d |= uint64(r.b[i]) << (8 * i)
		}
		r.b = r.b[nb:]
		v := int64(uint64(col.base) + d)
		if col.width < 8 && signExtend(uint64(v), col.width) != v {
			r.fail(fmt.Sprintf("key column %d: %d does not fit %d bytes", c, v, col.width))
			return dst
		}
		dst = append(dst, 1)
		switch col.width {
		case 1:
			dst = append(dst, byte(v))
		case 2:
			dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
		case 4:
			dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
		default:
			dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
		}
	}
	return dst
}

// keyArena holds the expanded keys of compact blobs: chunks that are
// never reused, since the keys handed out stay valid as long as the
// restored snapshots are.
type keyArena struct{ buf []byte }

// room returns a[len:] with room for n more bytes, starting a new chunk
// if the current one is full.
func (a *keyArena) room(n int) []byte {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, max(n, 64<<10))
	}
	return a.buf
}

// rangeCompact is rangeGroup for a compact blob. With fn nil it only
// validates, expanding keys into one reused buffer.
func rangeCompact(data []byte, fn func(table string, key, value []byte, expiresAt int64) error) error {
	r := reader{b: data[1:]}
	sections := r.count()
	if r.err == nil && sections == 0 {
		r.fail("no sections")
	}
	var arena keyArena
	var scratch []byte
	for i := 0; i < sections && r.err == nil; i++ {
		s := r.section()
		entries := r.count()
		if r.err != nil {
			break
		}
		for j := 0; j < entries && r.err == nil; j++ {
			var key []byte
			switch {
			case len(s.cols) > 0 || len(s.prefix) > 0:
				var dst []byte
				if fn == nil {
					dst = scratch[:0]
				} else {
					need := len(s.prefix) + s.full
					if len(s.cols) == 0 {
						need += min(len(r.b), 1<<10) // the rest's size is not known yet
					}
					dst = arena.room(need)
				}
				at := len(dst)
				dst = append(dst, s.prefix...)
				if len(s.cols) > 0 {
					dst = r.expandKey(dst, s.cols)
				} else {
					dst = append(dst, r.bytes()...)
				}
				key = dst[at:len(dst):len(dst)]
				if fn == nil {
					scratch = dst
				} else {
					arena.buf = dst
				}
			default:
				key = r.bytes()
			}
			value := r.bytes()
			expiresAt := r.expiry()
			if r.err != nil {
				break
			}
			if fn != nil {
				if err := fn(s.name, key, value, expiresAt); err != nil {
					return err
				}
			}
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return fmt.Errorf("%w: compact blob: %w", ErrCorrupt, r.err)
	}
	return nil
}

// AppendEntriesOf appends the entries of table in blob (a GroupState.Data
// blob of either form) in AppendEntry's encoding, with their full keys,
// and reports how many it appended: for an operator that copies its own
// compact blobs into a snapshot group it builds (TableEncoder.AppendGroup).
func AppendEntriesOf(b, blob []byte, table string) ([]byte, int, error) {
	n := 0
	err := rangeGroup(GroupState{Data: blob}, func(name string, key, value []byte, expiresAt int64) error {
		if name == table {
			b = AppendEntry(b, key, value, expiresAt)
			n++
		}
		return nil
	})
	return b, n, err
}
