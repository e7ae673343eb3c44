package avro

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// render prints row i of v for comparisons: NULL, numbers, 'text',
// 0xhex bytes, {a: 1, b: 'x'} structs and [1, 2] lists.
func render(v coldata.Vector, i int) string {
	if v.IsNull(i) {
		return "NULL"
	}
	switch v := v.(type) {
	case *coldata.Vec[bool]:
		return fmt.Sprint(v.Vals[i])
	case *coldata.Vec[int8]:
		return fmt.Sprint(v.Vals[i])
	case *coldata.Vec[int16]:
		return fmt.Sprint(v.Vals[i])
	case *coldata.Vec[int32]:
		return fmt.Sprint(v.Vals[i])
	case *coldata.Vec[int64]:
		return fmt.Sprint(v.Vals[i])
	case *coldata.Vec[uint8]:
		return fmt.Sprint(v.Vals[i])
	case *coldata.Vec[uint16]:
		return fmt.Sprint(v.Vals[i])
	case *coldata.Vec[uint32]:
		return fmt.Sprint(v.Vals[i])
	case *coldata.Vec[uint64]:
		return fmt.Sprint(v.Vals[i])
	case *coldata.Vec[float32]:
		return fmt.Sprint(v.Vals[i])
	case *coldata.Vec[float64]:
		return fmt.Sprint(v.Vals[i])
	case *coldata.Vec[coldata.Int128]:
		return string(coldata.AppendDecimal(nil, v.Vals[i], int(v.T.Scale)))
	case *coldata.Bytes:
		if v.T.Kind == types.Bytes {
			return fmt.Sprintf("0x%x", v.Get(i))
		}
		if v.T.Kind == types.JSON {
			return v.GetString(i)
		}
		return "'" + v.GetString(i) + "'"
	case *coldata.Struct:
		var parts []string
		for k, f := range v.Fields {
			parts = append(parts, v.T.Fields[k].Name+": "+render(f, i))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *coldata.List:
		var parts []string
		for j := v.Offsets[i]; j < v.Offsets[i+1]; j++ {
			parts = append(parts, render(v.Elems, int(j)))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprintf("?%T", v)
}

// rows renders every row of vectors as "a | b | c".
func rows(vs []coldata.Vector) []string {
	if len(vs) == 0 {
		return nil
	}
	out := make([]string, vs[0].Len())
	for i := range out {
		var parts []string
		for _, v := range vs {
			if v.Len() != len(out) {
				panic(fmt.Sprintf("vector of %d rows beside %d", v.Len(), len(out)))
			}
			parts = append(parts, render(v, i))
		}
		out[i] = strings.Join(parts, " | ")
	}
	return out
}

func mustParse(t testing.TB, s string) avro.Schema {
	t.Helper()
	w, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func marshal(t testing.TB, s avro.Schema, v any) []byte {
	t.Helper()
	b, err := avro.Marshal(s, v)
	if err != nil {
		t.Fatalf("hamba marshal: %v", err)
	}
	return b
}

func rawOpts(schema string) connector.Options {
	o := connector.Options{OptRawDatum: "true"}
	if schema != "" {
		o[OptSchema] = schema
	}
	return o
}

func fld(name string, t types.Type, nullable bool) types.Field {
	return types.Field{Name: name, Type: t, Nullable: nullable}
}

func equalRows(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n got %q\nwant %q", got, want)
	}
}

func newBatchOf(vs []coldata.Vector) *coldata.Batch { return coldata.NewBatch(vs, vs[0].Len()) }

func avroUnmarshal(e *Encoder, rec []byte, v any) error { return avro.Unmarshal(e.Writer(), rec, v) }

// fmtMap renders a hamba-decoded record as sorted key=value pairs.
func fmtMap(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v := m[k]
		switch x := v.(type) {
		case time.Time:
			v = x.UTC().Format("2006-01-02T15:04:05.000Z")
		case map[string]any: // a union branch
			for _, b := range x {
				v = b
			}
		}
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	return strings.Join(parts, " ")
}
