package avro

import (
	"fmt"
	"strings"
	"testing"

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
