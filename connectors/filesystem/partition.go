package filesystem

import (
	"fmt"
	"math/big"
	"net/url"
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
// escaped so it is one path segment.
func appendValue(dst []byte, v coldata.Vector, i int) []byte {
	if v.IsNull(i) {
		return append(dst, hiveNull...)
	}
	var s string
	switch c := v.(type) {
	case *coldata.Bytes:
		s = string(c.Get(i))
	case *coldata.Vec[bool]:
		s = strconv.FormatBool(c.Vals[i])
	case *coldata.Vec[int8]:
		s = strconv.FormatInt(int64(c.Vals[i]), 10)
	case *coldata.Vec[int16]:
		s = strconv.FormatInt(int64(c.Vals[i]), 10)
	case *coldata.Vec[int32]:
		if v.Type().Kind == types.Date {
			s = time.Unix(int64(c.Vals[i])*86400, 0).UTC().Format("2006-01-02")
		} else {
			s = strconv.FormatInt(int64(c.Vals[i]), 10)
		}
	case *coldata.Vec[int64]:
		if v.Type().Kind == types.Timestamp {
			s = time.Unix(0, c.Vals[i]).UTC().Format("2006-01-02T15:04:05.999999999")
		} else {
			s = strconv.FormatInt(c.Vals[i], 10)
		}
	case *coldata.Vec[uint8]:
		s = strconv.FormatUint(uint64(c.Vals[i]), 10)
	case *coldata.Vec[uint16]:
		s = strconv.FormatUint(uint64(c.Vals[i]), 10)
	case *coldata.Vec[uint32]:
		s = strconv.FormatUint(uint64(c.Vals[i]), 10)
	case *coldata.Vec[uint64]:
		s = strconv.FormatUint(c.Vals[i], 10)
	case *coldata.Vec[float32]:
		s = strconv.FormatFloat(float64(c.Vals[i]), 'g', -1, 32)
	case *coldata.Vec[float64]:
		s = strconv.FormatFloat(c.Vals[i], 'g', -1, 64)
	case *coldata.Vec[coldata.Int128]:
		s = decimalString(c.Vals[i], int(v.Type().Scale))
	default:
		s = fmt.Sprint(i)
	}
	if s == "" {
		// An empty segment would vanish from the path.
		return append(dst, hiveNull...)
	}
	return append(dst, url.PathEscape(s)...)
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
		p.names = append(p.names, url.PathEscape(schema.Fields[f].Name))
	}
	return p
}

func (p *partitioner) none() bool { return p.time == nil && p.fields == nil }

// key returns row i's partition directory ("" if unpartitioned), without a
// trailing '/'.
func (p *partitioner) key(b *coldata.Batch, i int) string {
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
	return string(p.buf)
}
