package expr

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// More string functions: translate, position/instr, chr, ascii, overlay and
// uuid. Like strings.go they count characters (code points), not bytes.

// translate replaces each character of s found in from by the character at
// the same position in to, or drops it when to is shorter; the first
// occurrence in from wins.
func translate(dst, s, from, to []byte) []byte {
	for len(s) > 0 {
		r, w := utf8.DecodeRune(s)
		c := s[:w]
		s = s[w:]
		k := -1 // the character index of r in from
		for j, idx := 0, 0; j < len(from); idx++ {
			fr, fw := utf8.DecodeRune(from[j:])
			if fr == r && bytes.Equal(from[j:j+fw], c) {
				k = idx
				break
			}
			j += fw
		}
		if k < 0 {
			dst = append(dst, c...)
			continue
		}
		if off := runeOffset(to, int64(k)); off < len(to) {
			_, tw := utf8.DecodeRune(to[off:])
			dst = append(dst, to[off:off+tw]...)
		}
	}
	return dst
}

// overlay replaces count characters of s from the 1-based position pos by
// sub, as PostgreSQL: substr(s, 1, pos-1) || sub || substr(s, pos+count).
func overlay(dst, s, sub []byte, pos, count int64) ([]byte, error) {
	if pos < 1 {
		return dst, fmt.Errorf("overlay position must be at least 1, got %d", pos)
	}
	head := s[:runeOffset(s, pos-1)]
	dst = append(dst, head...)
	dst = append(dst, sub...)
	tail, _ := substr(s, pos+count, 0, false)
	return append(dst, tail...), nil
}

var (
	errNullChar   = errors.New("null character not permitted")
	errCharRange  = errors.New("requested character is not a valid Unicode code point")
	errUUIDSource = errors.New("uuid: no random source")
)

// strpos is the 1-based character position of sub in s, 0 when absent.
func strpos(s, sub []byte) int32 {
	j := bytes.Index(s, sub)
	if j < 0 {
		return 0
	}
	return int32(utf8.RuneCount(s[:j])) + 1
}

// uuidKernel fills n random version-4 UUIDs in their 36-character text
// form, reading the randomness for the whole batch at once.
func uuidKernel(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
	raw := make([]byte, 16*n)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("%w: %v", errUUIDSource, err)
	}
	const hexd = "0123456789abcdef"
	out := al.BytesRows(types.StringT, n, 36*n)
	out.Data = out.Data[:36*n]
	for i := 0; i < n; i++ {
		u := raw[16*i : 16*i+16]
		u[6] = u[6]&0x0f | 0x40 // version 4
		u[8] = u[8]&0x3f | 0x80 // variant 10
		d := out.Data[36*i : 36*i+36]
		k := 0
		for j, b := range u {
			if j == 4 || j == 6 || j == 8 || j == 10 {
				d[k] = '-'
				k++
			}
			d[k], d[k+1] = hexd[b>>4], hexd[b&15]
			k += 2
		}
		out.Offsets[i+1] = int32(36 * (i + 1))
	}
	return out, nil
}

// substrIndex is MySQL's SUBSTRING_INDEX, as DataFusion's substr_index:
// the part of s before the count-th delim (count > 0), or after the
// -count-th delim from the end (count < 0); all of s when it has fewer;
// empty when count is 0 or delim is empty.
func substrIndex(s, delim []byte, count int64) []byte {
	if count == 0 || len(delim) == 0 {
		return nil
	}
	if count > 0 {
		off := 0
		for ; count > 0; count-- {
			j := bytes.Index(s[off:], delim)
			if j < 0 {
				return s
			}
			off += j + len(delim)
		}
		return s[:off-len(delim)]
	}
	end := len(s)
	for ; count < 0; count++ {
		j := bytes.LastIndex(s[:end], delim)
		if j < 0 {
			return s
		}
		end = j
	}
	return s[end+len(delim):]
}

// findInSet is the 1-based index of s among the comma-separated items of
// list, 0 when absent.
func findInSet(s, list []byte) int32 {
	for k := int32(1); ; k++ {
		j := bytes.IndexByte(list, ',')
		item := list
		if j >= 0 {
			item = list[:j]
		}
		if bytes.Equal(item, s) {
			return k
		}
		if j < 0 {
			return 0
		}
		list = list[j+1:]
	}
}

// levenshtein is the edit distance between a and b in characters; ra, rb
// and row are scratch buffers reused across rows.
type levenshtein struct {
	ra, rb []rune
	row    []int32
}

func (l *levenshtein) distance(a, b []byte) int32 {
	l.ra, l.rb = appendRunes(l.ra[:0], a), appendRunes(l.rb[:0], b)
	ra, rb := l.ra, l.rb
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	l.row = l.row[:0]
	for j := 0; j <= len(rb); j++ {
		l.row = append(l.row, int32(j))
	}
	row := l.row
	for i, ca := range ra {
		diag := row[0]
		row[0] = int32(i + 1)
		for j, cb := range rb {
			cost := diag
			if ca != cb {
				cost++
			}
			diag = row[j+1]
			row[j+1] = min(cost, row[j]+1, row[j+1]+1)
		}
	}
	return row[len(rb)]
}

func appendRunes(dst []rune, s []byte) []rune {
	for len(s) > 0 {
		r, w := utf8.DecodeRune(s)
		dst = append(dst, r)
		s = s[w:]
	}
	return dst
}

func init() {
	registerAll([]string{"substr_index", "substring_index"}, "the part before the n-th delimiter (after the -n-th from the end when n < 0)",
		simple(types.StringT, textKernel(func(args []coldata.Vector) textRow {
			s, d, k := textArg(args, 0), textArg(args, 1), intArg(args, 2)
			return func(dst []byte, i int) ([]byte, error) {
				return append(dst, substrIndex(s.Get(i), d.Get(i), k[i])...), nil
			}
		}), sig{pText, pText, pInt}))
	registerAll([]string{"find_in_set"}, "1-based index of a string in a comma-separated list, 0 if absent",
		simple(types.Int32T, intKernel(func(args []coldata.Vector) intRow {
			s, list := textArg(args, 0), textArg(args, 1)
			return func(i int) int32 { return findInSet(s.Get(i), list.Get(i)) }
		}), sig{pText, pText}))
	registerAll([]string{"levenshtein"}, "edit distance in characters (insertions, deletions, substitutions)",
		simple(types.Int32T, intKernel(func(args []coldata.Vector) intRow {
			a, b := textArg(args, 0), textArg(args, 1)
			l := &levenshtein{}
			return func(i int) int32 { return l.distance(a.Get(i), b.Get(i)) }
		}), sig{pText, pText}))
	registerAll([]string{"bit_length"}, "number of bits (8 per byte)",
		simple(types.Int32T, intKernel(func(args []coldata.Vector) intRow {
			s := textArg(args, 0)
			return func(i int) int32 { return 8 * (s.Offsets[i+1] - s.Offsets[i]) }
		}), sig{pText}))
	registerAll([]string{"translate"}, "replace each character found in from by the one at the same place in to (drop it when to is shorter)",
		simple(types.StringT, textKernel(func(args []coldata.Vector) textRow {
			s, from, to := textArg(args, 0), textArg(args, 1), textArg(args, 2)
			return func(dst []byte, i int) ([]byte, error) { return translate(dst, s.Get(i), from.Get(i), to.Get(i)), nil }
		}), sig{pText, pText, pText}))
	registerAll([]string{"instr"}, "1-based character position of a substring, 0 if absent (strpos)",
		simple(types.Int32T, intKernel(func(args []coldata.Vector) intRow {
			s, sub := textArg(args, 0), textArg(args, 1)
			return func(i int) int32 { return strpos(s.Get(i), sub.Get(i)) }
		}), sig{pText, pText}))
	// POSITION(sub IN s) reaches the planner as position(sub, s).
	registerAll([]string{"position"}, "position(sub IN s): 1-based character position of sub in s, 0 if absent",
		simple(types.Int32T, intKernel(func(args []coldata.Vector) intRow {
			sub, s := textArg(args, 0), textArg(args, 1)
			return func(i int) int32 { return strpos(s.Get(i), sub.Get(i)) }
		}), sig{pText, pText}))
	registerAll([]string{"chr"}, "the character with the given Unicode code point",
		simple(types.StringT, textKernel(func(args []coldata.Vector) textRow {
			x := intArg(args, 0)
			return func(dst []byte, i int) ([]byte, error) {
				c := x[i]
				switch {
				case c == 0:
					return dst, errNullChar
				case c < 0 || c > utf8.MaxRune || !utf8.ValidRune(rune(c)):
					return dst, errCharRange
				}
				return utf8.AppendRune(dst, rune(c)), nil
			}
		}), sig{pInt}))
	registerAll([]string{"ascii"}, "the code point of the first character, 0 for an empty string",
		simple(types.Int32T, intKernel(func(args []coldata.Vector) intRow {
			s := textArg(args, 0)
			return func(i int) int32 {
				x := s.Get(i)
				if len(x) == 0 {
					return 0
				}
				r, _ := utf8.DecodeRune(x)
				return r
			}
		}), sig{pText}))
	registerAll([]string{"overlay"}, "overlay(s, sub, pos[, count]): replace count characters (default: sub's length) from pos by sub",
		simple(types.StringT, textKernel(func(args []coldata.Vector) textRow {
			s, sub, pos := textArg(args, 0), textArg(args, 1), intArg(args, 2)
			var count []int64
			if len(args) > 3 {
				count = intArg(args, 3)
			}
			return func(dst []byte, i int) ([]byte, error) {
				c := int64(0)
				if count != nil {
					c = count[i]
				} else {
					c = int64(utf8.RuneCount(sub.Get(i)))
				}
				return overlay(dst, s.Get(i), sub.Get(i), pos[i], c)
			}
		}), sig{pText, pText, pInt}, sig{pText, pText, pInt, pInt}))
	register(&Func{Name: "uuid", Description: "a random version-4 UUID as TEXT, different on every row",
		Volatile: true, Resolve: sigs("uuid", types.StringT, uuidKernel, sig{})})
}
