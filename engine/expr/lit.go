package expr

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// scalar is a decoded literal: one value of type t held in the field that
// matches its physical type.
type scalar struct {
	t    types.Type
	null bool
	b    bool           // Bool
	i    int64          // signed integers, Timestamp, Interval
	u    uint64         // unsigned integers
	f    float64        // Float32, Float64
	s    []byte         // String, Bytes, JSON
	d    coldata.Int128 // Decimal, unscaled
}

// decodeLit decodes a literal from the JSON encoding documented on
// program.Expr.Value.
func decodeLit(t types.Type, raw json.RawMessage) (*scalar, error) {
	sc := &scalar{t: t}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		sc.null = true
		return sc, nil
	}
	bad := func(err error) error {
		if err != nil {
			return fmt.Errorf("literal %s of type %s: %w", raw, t, err)
		}
		return fmt.Errorf("literal %s is not a valid %s", raw, t)
	}
	switch t.Kind {
	case types.Null:
		return nil, bad(nil)
	case types.Bool:
		if err := json.Unmarshal(raw, &sc.b); err != nil {
			return nil, bad(err)
		}
	case types.Int8, types.Int16, types.Int32, types.Int64, types.Timestamp, types.Interval, types.Date, types.Time:
		size := 64
		if t.Kind.IsInteger() {
			size = t.Kind.Bits()
		} else if t.Kind == types.Date {
			size = 32
		}
		v, err := strconv.ParseInt(string(raw), 10, size)
		if err != nil {
			return nil, bad(err)
		}
		sc.i = v
	case types.UInt8, types.UInt16, types.UInt32, types.UInt64:
		v, err := strconv.ParseUint(string(raw), 10, t.Kind.Bits())
		if err != nil {
			return nil, bad(err)
		}
		sc.u = v
	case types.Float32, types.Float64:
		var v float64
		if raw[0] == '"' {
			// JSON has no NaN or infinities; accept them as strings.
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, bad(err)
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return nil, bad(err)
			}
			v = f
		} else {
			f, err := strconv.ParseFloat(string(raw), 64)
			if err != nil {
				return nil, bad(err)
			}
			v = f
		}
		if t.Kind == types.Float32 {
			v = float64(float32(v))
		}
		sc.f = v
	case types.String, types.JSON:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, bad(err)
		}
		if t.Kind == types.JSON && !json.Valid([]byte(s)) {
			return nil, bad(nil)
		}
		sc.s = []byte(s)
	case types.Decimal:
		// A JSON number or a string of one, read exactly.
		text := raw
		if raw[0] == '"' {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, bad(err)
			}
			text = []byte(s)
		}
		d, msg := coldata.ParseDecimal(text, int(t.Scale))
		if msg != "" || !d.FitsDigits(int(t.Precision)) {
			return nil, bad(nil)
		}
		sc.d = d
	case types.Bytes:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, bad(err)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, bad(err)
		}
		sc.s = b
	default:
		return nil, fmt.Errorf("literals of type %s are not supported", t)
	}
	return sc, nil
}

// broadcast returns a vector of n copies of the scalar.
func (sc *scalar) broadcast(al *coldata.Allocator, n int) coldata.Vector {
	t := sc.t
	if sc.null {
		return nullVector(al, t, n)
	}
	switch t.Kind {
	case types.Bool:
		return fill(al, t, n, sc.b)
	case types.Int8:
		return fill(al, t, n, int8(sc.i))
	case types.Int16:
		return fill(al, t, n, int16(sc.i))
	case types.Int32, types.Date:
		return fill(al, t, n, int32(sc.i))
	case types.Int64, types.Timestamp, types.Interval, types.Time:
		return fill(al, t, n, sc.i)
	case types.UInt8:
		return fill(al, t, n, uint8(sc.u))
	case types.UInt16:
		return fill(al, t, n, uint16(sc.u))
	case types.UInt32:
		return fill(al, t, n, uint32(sc.u))
	case types.UInt64:
		return fill(al, t, n, sc.u)
	case types.Float32:
		return fill(al, t, n, float32(sc.f))
	case types.Float64:
		return fill(al, t, n, sc.f)
	case types.Decimal:
		return fill(al, t, n, sc.d)
	case types.String, types.Bytes, types.JSON:
		out := al.BytesRows(t, n, n*len(sc.s))
		for i := 1; i <= n; i++ {
			out.Data = append(out.Data, sc.s...)
			out.Offsets[i] = int32(i * len(sc.s))
		}
		return out
	}
	panic(fmt.Sprintf("expr: broadcast of %s literal", t))
}

func fill[T coldata.Fixed](al *coldata.Allocator, t types.Type, n int, x T) *coldata.Vec[T] {
	out := coldata.AllocVec[T](al, t, n)
	var zero T
	if x != zero {
		for i := range out.Vals {
			out.Vals[i] = x
		}
	}
	return out
}

// nullVector returns a vector of type t holding n NULLs, built without
// per-row appends where the layout allows.
func nullVector(al *coldata.Allocator, t types.Type, n int) coldata.Vector {
	w := allNullWords(n)
	var v coldata.Vector
	switch t.Kind {
	case types.Bool, types.Null:
		v = coldata.AllocVec[bool](al, t, n)
	case types.Int8:
		v = coldata.AllocVec[int8](al, t, n)
	case types.Int16:
		v = coldata.AllocVec[int16](al, t, n)
	case types.Int32, types.Date:
		v = coldata.AllocVec[int32](al, t, n)
	case types.Int64, types.Timestamp, types.Interval, types.Time:
		v = coldata.AllocVec[int64](al, t, n)
	case types.UInt8:
		v = coldata.AllocVec[uint8](al, t, n)
	case types.UInt16:
		v = coldata.AllocVec[uint16](al, t, n)
	case types.UInt32:
		v = coldata.AllocVec[uint32](al, t, n)
	case types.UInt64:
		v = coldata.AllocVec[uint64](al, t, n)
	case types.Float32:
		v = coldata.AllocVec[float32](al, t, n)
	case types.Float64:
		v = coldata.AllocVec[float64](al, t, n)
	case types.Decimal:
		v = coldata.AllocVec[coldata.Int128](al, t, n)
	case types.String, types.Bytes, types.JSON:
		v = al.BytesRows(t, n, 0)
	default:
		return al.Nulls(t, n)
	}
	v.Nulls().SetWords(w)
	return v
}

// scalarAt returns row i of v as a scalar of type t; ok is false for
// nested types, which have no scalar form.
func scalarAt(v coldata.Vector, i int, t types.Type) (*scalar, bool) {
	sc := &scalar{t: t}
	if v.IsNull(i) {
		sc.null = true
		return sc, true
	}
	switch v := v.(type) {
	case *coldata.Vec[bool]:
		sc.b = v.Vals[i]
	case *coldata.Vec[int8]:
		sc.i = int64(v.Vals[i])
	case *coldata.Vec[int16]:
		sc.i = int64(v.Vals[i])
	case *coldata.Vec[int32]:
		sc.i = int64(v.Vals[i])
	case *coldata.Vec[int64]:
		sc.i = v.Vals[i]
	case *coldata.Vec[uint8]:
		sc.u = uint64(v.Vals[i])
	case *coldata.Vec[uint16]:
		sc.u = uint64(v.Vals[i])
	case *coldata.Vec[uint32]:
		sc.u = uint64(v.Vals[i])
	case *coldata.Vec[uint64]:
		sc.u = v.Vals[i]
	case *coldata.Vec[float32]:
		sc.f = float64(v.Vals[i])
	case *coldata.Vec[float64]:
		sc.f = v.Vals[i]
	case *coldata.Vec[coldata.Int128]:
		sc.d = v.Vals[i]
	case *coldata.Bytes:
		sc.s = append([]byte{}, v.Get(i)...)
	default:
		return nil, false
	}
	return sc, true
}

// LiteralValue returns the Go value (as coldata.Value gives it: nil for
// NULL, int64, float64, string ...) of a literal of type t encoded as
// program.Expr.Value is.
func LiteralValue(t types.Type, raw json.RawMessage) (any, error) {
	sc, err := decodeLit(t, raw)
	if err != nil {
		return nil, err
	}
	// A value, not a vector: the one-row vector is garbage at once.
	return coldata.Value(sc.broadcast(nil, 1), 0), nil
}

// LiteralVector returns a vector of one row holding the literal of type t
// encoded as program.Expr.Value is.
func LiteralVector(al *coldata.Allocator, t types.Type, raw json.RawMessage) (coldata.Vector, error) {
	sc, err := decodeLit(t, raw)
	if err != nil {
		return nil, err
	}
	return sc.broadcast(al, 1), nil
}
