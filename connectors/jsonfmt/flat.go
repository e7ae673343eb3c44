package jsonfmt

import (
	"math/bits"

	"github.com/arroyogo/arroyo/engine/types"
)

// flat is the fast path of a top-level record shaped like the previous
// ones: compact (no whitespace), its k-th key the previous record's k-th
// (n.shape), no duplicate keys. It decodes the record d.rec into n's
// fields and reports true, or reports false at the first thing it does not
// handle, having possibly appended to some fields (the caller truncates
// them and takes the general path, object, which also reports errors).
// Everything it accepts the general path accepts with the same rows: it
// validates as much (strings byte for byte, numbers, nesting through
// skipValue and value), only with fewer instructions: one loop without
// calls for the commonest keys and values (Go calls spill every live
// register), words for key names, string bodies and short integers.
func (d *Decoder) flat(n *node) bool {
	s := d.rec
	if len(s) < 2 || s[0] != '{' {
		return false
	}
	n.gen++
	gen := n.gen
	seen := 0
	i := 1
	// Locals, not n's fields: the appends below store to memory the
	// compiler cannot tell from n, so it would reload them every key.
	shape, fields := n.shape, n.fields
	for k := 0; ; k++ {
		if k >= len(shape) || i >= len(s) || s[i] != '"' {
			return false
		}
		r := &shape[k]
		if !r.raw {
			return false
		}
		var e int
		if i+9 <= len(s) {
			e = r.key.at(s, i, word(s, i+1))
		} else {
			e = r.key.slowAt(s, i)
		}
		if e == 0 || e+1 >= len(s) || s[e] != ':' {
			return false
		}
		i = e + 1
		c := s[i]
		if r.idx < 0 {
			// A key no column reads: validate and skip its value.
			switch {
			case c == '"':
				j := i + 1
				for j+8 <= len(s) {
					if m := specialMask(word(s, j)); m != 0 {
						j += bits.TrailingZeros64(m) >> 3
						break
					}
					j += 8
				}
				if j >= len(s) || s[j] != '"' {
					// An escape, a non-ASCII or a control byte, or the
					// last bytes of the record: the general scan
					// continues from there.
					end, _, err := scanString(s, j)
					if err != nil {
						return false
					}
					j = end
				}
				i = j + 1
			default:
				if c >= '1' && c <= '9' && i+8 <= len(s) {
					if k := shortInt(s, i); k > 0 {
						i += k
						break
					}
				}
				var err error
				if i, err = skipValue(s, i, 1); err != nil {
					return false
				}
			}
		} else {
			f := fields[r.idx]
			if f.seen == gen {
				return false // a duplicate key
			}
			f.seen = gen
			seen++
			switch {
			case f.kind == types.Int64 && c >= '1' && c <= '9':
				if i+8 <= len(s) {
					w := word(s, i)
					if k := digitRun(w); k < 8 {
						if c := s[i+k]; c != '.' && c != 'e' && c != 'E' {
							f.vi64.Vals = append(f.vi64.Vals, int64(digitsValue(w, k)))
							i += k
							break
						}
					}
				}
				var err error
				if i, err = d.integer(f, i); err != nil {
					return false
				}
			case f.kind == types.Timestamp && c == '"':
				ts, end := d.tsFast.parse(s, i)
				if end == 0 {
					var err error
					if end, err = d.value(f, i); err != nil {
						return false
					}
				} else {
					f.vi64.Vals = append(f.vi64.Vals, ts)
				}
				i = end
			default:
				var err error
				if i, err = d.value(f, i); err != nil {
					return false
				}
			}
		}
		if i >= len(s) {
			return false
		}
		if s[i] == ',' {
			i++
			continue
		}
		if s[i] == '}' && i+1 == len(s) {
			break
		}
		return false
	}
	if seen < len(fields) {
		for _, f := range fields {
			if f.seen == gen {
				continue
			}
			if !f.nullable {
				return false
			}
			f.appendNull()
		}
	}
	return true
}
