package filesystem

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// timePart is one piece of a parsed time_partition_pattern: literal text,
// or a strftime verb.
type timePart struct {
	lit  string
	verb byte
}

// parseTimePattern parses a strftime pattern; it accepts the verbs that
// make directory names (no locale-dependent ones).
func parseTimePattern(p string) ([]timePart, error) {
	var out []timePart
	var lit strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			lit.WriteByte(p[i])
			continue
		}
		if i+1 == len(p) {
			return nil, fmt.Errorf("the pattern ends with a lone '%%'")
		}
		i++
		switch v := p[i]; v {
		case '%':
			lit.WriteByte('%')
		case 'Y', 'm', 'd', 'H', 'M', 'S', 'j', 'y':
			if lit.Len() > 0 {
				out = append(out, timePart{lit: lit.String()})
				lit.Reset()
			}
			out = append(out, timePart{verb: v})
		default:
			return nil, fmt.Errorf("unsupported verb '%%%c' (supported: %%Y %%m %%d %%H %%M %%S %%j %%y %%%%)", v)
		}
	}
	if lit.Len() > 0 {
		out = append(out, timePart{lit: lit.String()})
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return nil, fmt.Errorf("the pattern must make relative directory names without empty, '.' or '..' segments")
		}
	}
	return out, nil
}

// appendTime appends the pattern applied to t (UTC).
func appendTime(dst []byte, parts []timePart, t time.Time) []byte {
	t = t.UTC()
	pad := func(dst []byte, n, w int) []byte {
		s := strconv.Itoa(n)
		for k := len(s); k < w; k++ {
			dst = append(dst, '0')
		}
		return append(dst, s...)
	}
	for _, p := range parts {
		switch p.verb {
		case 0:
			dst = append(dst, p.lit...)
		case 'Y':
			dst = pad(dst, t.Year(), 4)
		case 'y':
			dst = pad(dst, t.Year()%100, 2)
		case 'm':
			dst = pad(dst, int(t.Month()), 2)
		case 'd':
			dst = pad(dst, t.Day(), 2)
		case 'H':
			dst = pad(dst, t.Hour(), 2)
		case 'M':
			dst = pad(dst, t.Minute(), 2)
		case 'S':
			dst = pad(dst, t.Second(), 2)
		case 'j':
			dst = pad(dst, t.YearDay(), 3)
		}
	}
	return dst
}

// hiveNull is the directory value of a NULL partition column (Hive's).
const hiveNull = "__HIVE_DEFAULT_PARTITION__"

// appendValue appends row i of column v as a partition directory value,
// escaped so it is one path segment. It does not allocate for numbers,
// booleans and text.
func appendValue(dst []byte, v coldata.Vector, i int) []byte {
	if v.IsNull(i) {
		return append(dst, hiveNull...)
	}
	switch c := v.(type) {
	case *coldata.Bytes:
		if c.Offsets[i] == c.Offsets[i+1] {
			return append(dst, hiveNull...) // an empty segment would vanish
		}
		return appendEscaped(dst, c.Get(i))
	case *coldata.Vec[bool]:
		return strconv.AppendBool(dst, c.Vals[i])
	case *coldata.Vec[int8]:
		return strconv.AppendInt(dst, int64(c.Vals[i]), 10)
	case *coldata.Vec[int16]:
		return strconv.AppendInt(dst, int64(c.Vals[i]), 10)
	case *coldata.Vec[int32]:
		if v.Type().Kind == types.Date {
			return time.Unix(int64(c.Vals[i])*86400, 0).UTC().AppendFormat(dst, "2006-01-02")
		}
		return strconv.AppendInt(dst, int64(c.Vals[i]), 10)
	case *coldata.Vec[int64]:
		if v.Type().Kind == types.Timestamp {
			// ':' is escaped: some stores and tools refuse it in names.
			return appendEscaped(dst, time.Unix(0, c.Vals[i]).UTC().AppendFormat(nil, "2006-01-02T15:04:05.999999999"))
		}
		return strconv.AppendInt(dst, c.Vals[i], 10)
	case *coldata.Vec[uint8]:
		return strconv.AppendUint(dst, uint64(c.Vals[i]), 10)
	case *coldata.Vec[uint16]:
		return strconv.AppendUint(dst, uint64(c.Vals[i]), 10)
	case *coldata.Vec[uint32]:
		return strconv.AppendUint(dst, uint64(c.Vals[i]), 10)
	case *coldata.Vec[uint64]:
		return strconv.AppendUint(dst, c.Vals[i], 10)
	case *coldata.Vec[float32]:
		return strconv.AppendFloat(dst, float64(c.Vals[i]), 'g', -1, 32)
	case *coldata.Vec[float64]:
		return strconv.AppendFloat(dst, c.Vals[i], 'g', -1, 64)
	case *coldata.Vec[coldata.Int128]:
		return append(dst, decimalString(c.Vals[i], int(v.Type().Scale))...)
	}
	return append(dst, hiveNull...)
}

// appendEscaped appends s with every byte outside [A-Za-z0-9._~-]
// percent-encoded (as Hive and Spark read partition values).
func appendEscaped(dst, s []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '~' || c == '-' {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hex[c>>4], hex[c&15])
	}
	return dst
}

// decimalString formats a scaled 128-bit decimal.
func decimalString(x coldata.Int128, scale int) string {
	n := new(big.Int).SetInt64(x.Hi)
	n.Lsh(n, 64)
	n.Add(n, new(big.Int).SetUint64(x.Lo)) // Hi*2^64 + Lo, Hi signed
	s := n.String()
	if scale == 0 {
		return s
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for len(s) <= scale {
		s = "0" + s
	}
	s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	if neg {
		s = "-" + s
	}
	return s
}

// partitioner computes each row's partition directory.
type partitioner struct {
	time   []timePart
	fields []int
	names  []string
	ts     int // the event-time column
	buf    []byte
}

func newPartitioner(c *config, schema *types.Schema) *partitioner {
	p := &partitioner{time: c.timeParts, fields: c.fields, ts: len(schema.Fields)}
	for _, f := range c.fields {
		p.names = append(p.names, string(appendEscaped(nil, []byte(schema.Fields[f].Name))))
	}
	return p
}

func (p *partitioner) none() bool { return p.time == nil && p.fields == nil }

// key returns row i's partition directory ("" if unpartitioned), without a
// trailing '/'. The bytes are valid until the next call.
func (p *partitioner) key(b *coldata.Batch, i int) []byte {
	p.buf = p.buf[:0]
	if p.time != nil {
		ts := b.Cols[p.ts].(*coldata.Vec[int64]).Vals[i]
		p.buf = appendTime(p.buf, p.time, time.Unix(0, ts))
	}
	for k, f := range p.fields {
		if len(p.buf) > 0 {
			p.buf = append(p.buf, '/')
		}
		p.buf = append(p.buf, p.names[k]...)
		p.buf = append(p.buf, '=')
		p.buf = appendValue(p.buf, b.Cols[f], i)
	}
	return p.buf
}
