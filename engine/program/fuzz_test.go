package program

import (
	"encoding/json"
	"testing"

	"github.com/arroyogo/arroyo/engine/types"
)

// FuzzUnmarshal: decoding and validating any bytes returns a program or an
// error, never panics, and a program that validates can be displayed and
// re-encoded to the same program.
func FuzzUnmarshal(f *testing.F) {
	p := validProgram()
	data, _ := p.Marshal()
	f.Add(data)
	st := types.StructOf(types.Field{Name: "x", Type: types.ListOf(types.Int64T)})
	p.Nodes[1].Calc.Filters = []*Expr{{Op: ExprIsNull, Type: types.BoolT, Args: []*Expr{{Op: ExprField, Type: types.ListOf(types.Int64T),
		Args: []*Expr{{Op: ExprLit, Type: st, Value: json.RawMessage("null")}}}}}}
	p.UDFs = []UDF{{Name: "f", ModuleHash: "00"}}
	data, _ = p.Marshal()
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Unmarshal(data)
		if err != nil {
			return
		}
		text := p.String()
		_ = p.Redacted().String()
		again, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		q, err := Unmarshal(again)
		if err != nil {
			t.Fatalf("a valid program does not survive JSON: %v", err)
		}
		if q.String() != text {
			t.Fatalf("program changed through JSON:\n%s\n%s", text, q.String())
		}
	})
}
