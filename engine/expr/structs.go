package expr

import (
	"fmt"
	"strconv"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Struct functions. struct(a, b, ...) is DataFusion's: its fields are
// named c0, c1, ... . named_struct('x', a, 'y', b) needs its field names,
// which are values, not types: the planner plans it as struct(a, b) cast
// to STRUCT<x, y>, a cast that only renames fields (relabelStruct).

func structResolve(args []types.Type) (*Resolved, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("function struct expects at least one argument")
	}
	fields := make([]types.Field, len(args))
	want := make([]types.Type, len(args))
	for i, a := range args {
		if a.Kind == types.Null {
			a = types.Int64T // an untyped NULL field, as make_array takes it
		}
		want[i] = a
		fields[i] = types.Field{Name: "c" + strconv.Itoa(i), Type: a, Nullable: true}
	}
	st := types.StructOf(fields...)
	return &Resolved{Args: want, Result: st, Kernel: func(al *coldata.Allocator, vs []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		// The arguments are the fields: vectors are immutable, so they are
		// shared, not copied.
		return al.Struct(st, append([]coldata.Vector(nil), vs...), n), nil
	}}, nil
}

// sameShape reports whether structs a and b differ at most in their
// field names and nullability, so a value of one is a value of the other.
func sameShape(a, b types.Type) bool {
	if a.Kind != types.Struct || b.Kind != types.Struct || len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Fields {
		if !a.Fields[i].Type.Equal(b.Fields[i].Type) {
			return false
		}
	}
	return true
}

// relabelStruct is the cast of a struct to a struct of the same shape: the
// same vectors under the new type.
func relabelStruct(al *coldata.Allocator, x *coldata.Struct, to types.Type) coldata.Vector {
	out := al.Struct(to, x.Fields, x.Length)
	out.N.SetWords(words(x))
	return out
}

func init() {
	register(&Func{Name: "struct", Description: "a struct of the arguments, with fields c0, c1, ...", Resolve: structResolve})
}
