package wasm_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/udf/wasm"
	"github.com/arroyogo/arroyo/udf/wasm/wasmtest"
)

func scalarsReg(t testing.TB) (*expr.Registry, *wasm.Module) {
	t.Helper()
	h := newHost(t, wasm.Config{})
	m := load(t, h, "scalars.wasm", wasmtest.Go(t, "examples/udfs/go/scalars"))
	reg := expr.Builtins().Scope()
	if err := wasm.Register(reg, m); err != nil {
		t.Fatal(err)
	}
	return reg, m
}

// vec builds a vector of type t from Go values (nil: NULL).
func vec(t types.Type, vals ...any) coldata.Vector {
	v := coldata.New(t, len(vals))
	for _, x := range vals {
		if x == nil {
			v.AppendNull()
			continue
		}
		switch v := v.(type) {
		case *coldata.Vec[bool]:
			v.Append(x.(bool))
		case *coldata.Vec[int8]:
			v.Append(x.(int8))
		case *coldata.Vec[int16]:
			v.Append(x.(int16))
		case *coldata.Vec[int32]:
			v.Append(x.(int32))
		case *coldata.Vec[int64]:
			v.Append(x.(int64))
		case *coldata.Vec[uint8]:
			v.Append(x.(uint8))
		case *coldata.Vec[uint16]:
			v.Append(x.(uint16))
		case *coldata.Vec[uint32]:
			v.Append(x.(uint32))
		case *coldata.Vec[uint64]:
			v.Append(x.(uint64))
		case *coldata.Vec[float32]:
			v.Append(x.(float32))
		case *coldata.Vec[float64]:
			v.Append(x.(float64))
		case *coldata.Bytes:
			switch x := x.(type) {
			case string:
				v.AppendString(x)
			case []byte:
				v.Append(x)
			}
		}
	}
	return v
}

// values renders v's rows (NULL as <nil>).
func values(v coldata.Vector) string {
	var out []any
	for i := 0; i < v.Len(); i++ {
		if v.IsNull(i) {
			out = append(out, nil)
			continue
		}
		x := coldata.Value(v, i)
		if b, ok := x.([]byte); ok {
			x = string(b)
		}
		out = append(out, x)
	}
	return fmt.Sprint(out)
}

func TestScalarTypes(t *testing.T) {
	reg, m := scalarsReg(t)
	ts := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	tsv := &coldata.Vec[int64]{T: types.TimestampT, Vals: []int64{ts, 0}}
	tsv.N.SetNull(1)
	for _, c := range []struct {
		fn   string
		args []coldata.Vector
		want string
	}{
		{"not_bool", []coldata.Vector{vec(types.BoolT, true, false, nil)}, "[false true <nil>]"},
		{"neg_i8", []coldata.Vector{vec(types.Int8T, int8(5), int8(-128), nil)}, "[-5 -128 <nil>]"},
		{"add_i16", []coldata.Vector{vec(types.Int16T, int16(1), nil, int16(300)), vec(types.Int16T, int16(2), int16(3), nil)}, "[3 <nil> <nil>]"},
		{"inc_i32", []coldata.Vector{vec(types.Int32T, int32(41), nil)}, "[42 <nil>]"},
		{"add_i64", []coldata.Vector{vec(types.Int64T, int64(1)<<40, int64(-1)), vec(types.Int64T, int64(1), int64(-2))}, "[1099511627777 -3]"},
		{"inc_u8", []coldata.Vector{vec(types.UInt8T, uint8(254), uint8(255))}, "[255 0]"},
		{"inc_u16", []coldata.Vector{vec(types.UInt16T, uint16(65534))}, "[65535]"},
		{"inc_u32", []coldata.Vector{vec(types.UInt32T, uint32(7), nil)}, "[8 <nil>]"},
		{"inc_u64", []coldata.Vector{vec(types.UInt64T, uint64(1)<<63)}, "[9223372036854775809]"},
		{"half_f32", []coldata.Vector{vec(types.Float32T, float32(3), nil)}, "[1.5 <nil>]"},
		{"hypot", []coldata.Vector{vec(types.Float64T, 3.0, 5.0), vec(types.Float64T, 4.0, 12.0)}, "[5 13]"},
		{"shout", []coldata.Vector{vec(types.StringT, "hi", "", nil, "äö")}, "[HI! ! <nil> ÄÖ!]"},
		{"bytes_rev", []coldata.Vector{vec(types.BytesT, []byte("abc"), nil, []byte{})}, "[cba <nil> ]"},
		{"json_kind", []coldata.Vector{vec(types.JSONT, `{"a":1}`, ` [1]`, `3`, nil)}, "[object array number <nil>]"},
		{"wrap_json", []coldata.Vector{vec(types.StringT, "x")}, `[{"v":"x"}]`},
		{"add_hour", []coldata.Vector{tsv}, fmt.Sprintf("[%d <nil>]", ts+int64(time.Hour))},
		// NULL handling: pointer arguments see NULLs; pointer and (v, ok)
		// results make them.
		{"or_zero", []coldata.Vector{vec(types.Int64T, int64(5), nil)}, "[5 0]"},
		{"is_missing", []coldata.Vector{vec(types.StringT, "a", nil)}, "[false true]"},
		{"null_if_empty", []coldata.Vector{vec(types.StringT, "a", "", nil)}, "[a <nil> <nil>]"},
		{"half_even", []coldata.Vector{vec(types.Int64T, int64(4), int64(3), nil)}, "[2 <nil> <nil>]"},
		{"concat_opt", []coldata.Vector{vec(types.StringT, "a", nil, nil, "x"), vec(types.StringT, "b", "c", nil, nil)}, "[ab c <nil> x]"},
	} {
		t.Run(c.fn, func(t *testing.T) {
			out, err := call(t, reg, c.fn, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got := values(out); got != c.want {
				t.Errorf("%s = %s, want %s", c.fn, got, c.want)
			}
		})
	}
	if n := m.Live(); n != 1 {
		t.Errorf("%d live instances after the calls, want 1 (the pooled one)", n)
	}
}

// TestScalarSelection evaluates over a selection with NULLs in a strict
// argument: only live rows are computed, at their physical positions.
func TestScalarSelection(t *testing.T) {
	reg, _ := scalarsReg(t)
	f, _ := reg.Lookup("shout")
	r, err := f.Resolve([]types.Type{types.StringT})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Bind(context.Background(), expr.TaskContext{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	in := vec(types.StringT, "a", "b", nil, "d", "e")
	out, err := b.Eval(context.Background(), []coldata.Vector{in}, 5, []int32{1, 2, 4})
	if err != nil {
		t.Fatal(err)
	}
	bv := out.(*coldata.Bytes)
	if bv.Len() != 5 || bv.GetString(1) != "B!" || !bv.IsNull(2) || bv.GetString(4) != "E!" {
		t.Fatalf("shout over sel = %s", values(out))
	}
	// Big batches, in several calls, reuse the arena or grow it.
	for _, n := range []int{1, 1000, 8192, 3} {
		vals := make([]uint64, n)
		for i := range vals {
			vals[i] = uint64(i)
		}
		out, err := call(t, reg, "double_it", &coldata.Vec[uint64]{T: types.UInt64T, Vals: vals})
		if err != nil {
			t.Fatal(err)
		}
		o := out.(*coldata.Vec[int64])
		for i := range vals {
			if o.Vals[i] != int64(2*i) {
				t.Fatalf("n=%d: double_it(%d) = %d", n, i, o.Vals[i])
			}
		}
	}
}

func TestResolveErrors(t *testing.T) {
	reg, _ := scalarsReg(t)
	f, _ := reg.Lookup("double_it")
	if _, err := f.Resolve([]types.Type{types.StringT}); err == nil || err.Error() != "double_it(BIGINT UNSIGNED) expects BIGINT UNSIGNED as argument 1, got TEXT" {
		t.Errorf("double_it(TEXT): %v", err)
	}
	if _, err := f.Resolve(nil); err == nil || err.Error() != "double_it(BIGINT UNSIGNED) takes 1 argument, got 0" {
		t.Errorf("double_it(): %v", err)
	}
	// An INT UNSIGNED widens to BIGINT UNSIGNED (the planner casts).
	r, err := f.Resolve([]types.Type{types.UInt32T})
	if err != nil || !r.Args[0].Equal(types.UInt64T) {
		t.Errorf("double_it(INT UNSIGNED): %v, %v", r, err)
	}
}
