package jsonfmt

import (
	"github.com/arroyogo/arroyo/engine/coldata"
	"strconv"

	"github.com/arroyogo/arroyo/engine/timefmt"
	"github.com/arroyogo/arroyo/engine/types"
)

// DATE and TIME in JSON, as arrow-json reads and writes them: a DATE is a
// string "2024-01-31" (or an integer of days since 1970-01-01), a TIME a
// string "13:45:00.5" (or an integer of nanoseconds since midnight).
// Encoding writes the strings, in engine/timefmt's forms.

func (d *Decoder) dateTime(n *node, i int) (int, error) {
	s := d.rec
	if s[i] != '"' {
		end, isInt, err := scanNumber(s, i)
		if err != nil {
			return end, err
		}
		if n.kind == types.Date {
			days, perr := strconv.ParseInt(str(s[i:end]), 10, 32)
			if !isInt || perr != nil {
				return end, n.err(i, "date "+string(s[i:end])+" out of range (an integer of days since 1970-01-01 that fits INT)")
			}
			n.vi32.Append(int32(days))
			return end, nil
		}
		ns, perr := strconv.ParseInt(str(s[i:end]), 10, 64)
		if !isInt || perr != nil || ns < 0 || ns >= timefmt.NanosPerDay {
			return end, n.err(i, "time "+string(s[i:end])+" out of range (0 to 86399999999999 nanoseconds since midnight)")
		}
		n.vi64.Append(ns)
		return end, nil
	}
	body, end, err := d.stringBody(i)
	if err != nil {
		return end, err
	}
	if n.kind == types.Date {
		v, msg := timefmt.ParseDate(body)
		if msg != "" {
			return end, n.err(i, msg+": '"+string(body)+"'")
		}
		n.vi32.Append(v)
		return end, nil
	}
	v, msg := timefmt.ParseTime(body)
	if msg != "" {
		return end, n.err(i, msg+": '"+string(body)+"'")
	}
	n.vi64.Append(v)
	return end, nil
}

// decimal reads a DECIMAL from a JSON number or a string holding one,
// exactly (no float rounding: "12.345" is 12345 at scale 3); digits beyond
// the scale round half away from zero, more digits than the precision are
// an error naming the value.
func (d *Decoder) decimal(n *node, i int) (int, error) {
	s := d.rec
	var text []byte
	var end int
	if s[i] == '"' {
		body, e, err := d.stringBody(i)
		if err != nil {
			return e, err
		}
		text, end = body, e
	} else {
		e, _, err := scanNumber(s, i)
		if err != nil {
			return e, err
		}
		text, end = s[i:e], e
	}
	v, msg := coldata.ParseDecimal(text, int(n.typ.Scale))
	switch {
	case msg == coldata.ErrDecimalSyntax:
		return end, n.err(i, "expected "+wantName(n.typ)+", found string '"+string(text)+"'")
	case msg != "" || !v.FitsDigits(int(n.typ.Precision)):
		return end, n.err(i, "decimal "+string(text)+" out of range for "+n.typ.String())
	}
	n.vdec.Append(v)
	return end, nil
}
