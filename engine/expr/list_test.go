package expr

import (
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// TestArrayElement: 1-based, negative from the end, NULL for index 0, out
// of range, a NULL list or index; rows outside the selection are skipped.
func TestArrayElement(t *testing.T) {
	lt := types.ListOf(types.StringT)
	l := coldata.New(lt, 6).(*coldata.List)
	elems := l.Elems.(*coldata.Bytes)
	for _, row := range [][]string{{"a", "b", "c"}, {"a", "b", "c"}, {"a", "b", "c"}, {}, nil, {"x"}} {
		if row == nil {
			l.AppendNull()
			continue
		}
		for _, s := range row {
			elems.Append([]byte(s))
		}
		l.CloseRow()
	}
	idx := coldata.New(types.Int64T, 6).(*coldata.Vec[int64])
	for _, i := range []int64{1, -1, 4, 1, 1, 0} {
		idx.Append(i)
	}
	f, _ := Builtins().Lookup("array_element")
	r, err := f.Resolve([]types.Type{lt, types.Int64T})
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Kernel(nil, []coldata.Vector{l, idx}, 6, []int32{0, 1, 2, 3, 4, 5})
	if err != nil {
		t.Fatal(err)
	}
	b := out.(*coldata.Bytes)
	want := []any{"a", "c", nil, nil, nil, nil}
	for i, w := range want {
		if w == nil {
			if !b.IsNull(i) {
				t.Errorf("row %d = %q, want NULL", i, b.Get(i))
			}
		} else if b.IsNull(i) || string(b.Get(i)) != w {
			t.Errorf("row %d = %q (null %v), want %v", i, b.Get(i), b.IsNull(i), w)
		}
	}
	if _, err := f.Resolve([]types.Type{types.Int64T, types.Int64T}); err == nil {
		t.Error("array_element(BIGINT, BIGINT) resolved")
	}
}
