package expr

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// Test helpers: build vectors and expressions from Go values, and run an
// expression in every batch shape (plain, with a selection over garbage
// rows, split into random batch sizes) checking that all agree.

// vec builds a vector of type t; nil is NULL. Values are converted from
// int, float64, string, bool, []byte and []any (structs, lists) as needed.
func vec(t types.Type, vals ...any) coldata.Vector {
	v := coldata.New(t, len(vals))
	for _, x := range vals {
		appendGo(v, x)
	}
	return v
}

func appendGo(v coldata.Vector, x any) {
	if x == nil {
		v.AppendNull()
		return
	}
	switch v := v.(type) {
	case *coldata.Vec[bool]:
		v.Append(x.(bool))
	case *coldata.Vec[int8]:
		v.Append(int8(toInt(x)))
	case *coldata.Vec[int16]:
		v.Append(int16(toInt(x)))
	case *coldata.Vec[int32]:
		v.Append(int32(toInt(x)))
	case *coldata.Vec[int64]:
		v.Append(toInt(x))
	case *coldata.Vec[uint8]:
		v.Append(uint8(toInt(x)))
	case *coldata.Vec[uint16]:
		v.Append(uint16(toInt(x)))
	case *coldata.Vec[uint32]:
		v.Append(uint32(toInt(x)))
	case *coldata.Vec[uint64]:
		if u, ok := x.(uint64); ok {
			v.Append(u)
		} else {
			v.Append(uint64(toInt(x)))
		}
	case *coldata.Vec[float32]:
		v.Append(float32(toFloat(x)))
	case *coldata.Vec[float64]:
		v.Append(toFloat(x))
	case *coldata.Vec[coldata.Int128]:
		// DECIMALs are written as their text ("12.30").
		if d, ok := x.(coldata.Int128); ok {
			v.Append(d)
			break
		}
		d, msg := coldata.ParseDecimal([]byte(x.(string)), int(v.T.Scale))
		if msg != "" {
			panic(msg)
		}
		v.Append(d)
	case *coldata.Bytes:
		switch s := x.(type) {
		case string:
			v.AppendString(s)
		case []byte:
			v.Append(s)
		}
	case *coldata.Struct:
		for i, f := range x.([]any) {
			appendGo(v.Fields[i], f)
		}
		v.AppendRow()
	case *coldata.List:
		for _, e := range x.([]any) {
			appendGo(v.Elems, e)
		}
		v.CloseRow()
	default:
		panic(fmt.Sprintf("appendGo %T", v))
	}
}

func toInt(x any) int64 {
	switch x := x.(type) {
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return int64(x)
	}
	panic(fmt.Sprintf("toInt %T", x))
}

func toFloat(x any) float64 {
	switch x := x.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case int:
		return float64(x)
	}
	panic(fmt.Sprintf("toFloat %T", x))
}

func col(i int, t types.Type) *program.Expr {
	return &program.Expr{Op: program.ExprCol, Col: i, Type: t, Nullable: true}
}

// lit is a literal; v is encoded as documented on program.Expr.Value.
func lit(t types.Type, v any) *program.Expr {
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		v = fmt.Sprint(f) // JSON has no NaN: encoded as a string
	}
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return &program.Expr{Op: program.ExprLit, Type: t, Value: raw}
}

func nullLit(t types.Type) *program.Expr {
	return &program.Expr{Op: program.ExprLit, Type: t, Value: json.RawMessage("null")}
}

func call(fn string, t types.Type, args ...*program.Expr) *program.Expr {
	return &program.Expr{Op: program.ExprCall, Func: fn, Type: t, Args: args}
}

func op(o program.ExprOp, t types.Type, args ...*program.Expr) *program.Expr {
	return &program.Expr{Op: o, Type: t, Args: args}
}

func cast(e *program.Expr, t types.Type) *program.Expr {
	return &program.Expr{Op: program.ExprCast, Type: t, Args: []*program.Expr{e}}
}

// values returns rows of v as Go values (see coldata.Value).
func values(v coldata.Vector, rows []int32) []any {
	out := make([]any, len(rows))
	for k, i := range rows {
		out[k] = coldata.Value(v, int(i))
	}
	return out
}

func allRows(n int) []int32 {
	r := make([]int32, n)
	for i := range r {
		r[i] = int32(i)
	}
	return r
}

// normalize converts expected values to the Go types coldata.Value returns
// for type t, so tables can be written with untyped constants.
func normalize(t types.Type, want []any) []any {
	out := make([]any, len(want))
	for i, w := range want {
		if w == nil {
			continue
		}
		v := vec(t, w)
		out[i] = coldata.Value(v, 0)
	}
	return out
}

func equalValues(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalValue(a[i], b[i]) {
			return false
		}
	}
	return true
}

func equalValue(a, b any) bool {
	switch x := a.(type) {
	case float64:
		if y, ok := b.(float64); ok && math.IsNaN(x) && math.IsNaN(y) {
			return true
		}
	case float32:
		if y, ok := b.(float32); ok && x != x && y != y {
			return true
		}
	}
	return reflect.DeepEqual(a, b)
}

// garbage appends a value to v meant to break kernels that compute on
// rows outside the selection: zeros and minimum integers (division,
// overflow), NaN, text that parses as nothing, NULLs.
func garbage(v coldata.Vector, rng *rand.Rand) {
	if rng.IntN(4) == 0 {
		v.AppendNull()
		return
	}
	switch v := v.(type) {
	case *coldata.Vec[bool]:
		v.Append(rng.IntN(2) == 0)
	case *coldata.Vec[int8]:
		v.Append([]int8{0, math.MinInt8, -1}[rng.IntN(3)])
	case *coldata.Vec[int16]:
		v.Append([]int16{0, math.MinInt16, -1}[rng.IntN(3)])
	case *coldata.Vec[int32]:
		v.Append([]int32{0, math.MinInt32, -1}[rng.IntN(3)])
	case *coldata.Vec[int64]:
		v.Append([]int64{0, math.MinInt64, -1}[rng.IntN(3)])
	case *coldata.Vec[uint8]:
		v.Append([]uint8{0, math.MaxUint8}[rng.IntN(2)])
	case *coldata.Vec[uint16]:
		v.Append([]uint16{0, math.MaxUint16}[rng.IntN(2)])
	case *coldata.Vec[uint32]:
		v.Append([]uint32{0, math.MaxUint32}[rng.IntN(2)])
	case *coldata.Vec[uint64]:
		v.Append([]uint64{0, math.MaxUint64}[rng.IntN(2)])
	case *coldata.Vec[float32]:
		v.Append(float32(math.NaN()))
	case *coldata.Vec[float64]:
		v.Append([]float64{math.NaN(), 1e300}[rng.IntN(2)])
	case *coldata.Bytes:
		v.AppendString("\xffgarbage")
	case *coldata.Struct:
		for _, f := range v.Fields {
			garbage(f, rng)
		}
		v.AppendRow()
	case *coldata.List:
		v.CloseRow()
	default:
		v.AppendNull()
	}
}

// padded returns a batch holding the rows of cols at random positions among
// garbage rows, with a selection of those positions.
func padded(cols []coldata.Vector, n int, rng *rand.Rand) *coldata.Batch {
	out := make([]coldata.Vector, len(cols))
	for c, v := range cols {
		out[c] = coldata.New(v.Type(), 2*n+1)
	}
	var sel []int32
	pos := 0
	for i := 0; i < n; i++ {
		for rng.IntN(2) == 0 {
			for c := range cols {
				garbage(out[c], rng)
			}
			pos++
		}
		for c, v := range cols {
			coldata.AppendValue(out[c], v, i)
		}
		sel = append(sel, int32(pos))
		pos++
	}
	for k := rng.IntN(3); k > 0; k-- {
		for c := range cols {
			garbage(out[c], rng)
		}
		pos++
	}
	if sel == nil {
		sel = []int32{}
	}
	return &coldata.Batch{Cols: out, Len: pos, Sel: sel}
}

// slice returns rows [from, to) of cols as new vectors.
func slice(cols []coldata.Vector, from, to int) []coldata.Vector {
	idx := make([]int32, 0, to-from)
	for i := from; i < to; i++ {
		idx = append(idx, int32(i))
	}
	out := make([]coldata.Vector, len(cols))
	for c, v := range cols {
		out[c] = coldata.Gather(v, idx)
	}
	return out
}

func colsLen(cols []coldata.Vector) int {
	if len(cols) == 0 {
		return 1 // expressions over no columns still see one row
	}
	return cols[0].Len()
}

// shapes calls f with batches covering the rows of cols in several shapes;
// f returns the values (or error) for the batch's live rows, and shapes
// checks every shape agrees with the plain one, which it returns.
func shapes(t *testing.T, cols []coldata.Vector, f func(b *coldata.Batch) ([]any, error)) ([]any, error) {
	t.Helper()
	n := colsLen(cols)
	snapshot := func() [][]any {
		s := make([][]any, len(cols))
		for c, v := range cols {
			s[c] = values(v, allRows(v.Len()))
		}
		return s
	}
	before := snapshot()
	plain, plainErr := f(&coldata.Batch{Cols: cols, Len: n})
	if !reflect.DeepEqual(before, snapshot()) && !equalNested(before, snapshot()) {
		t.Fatalf("evaluation modified its input")
	}
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	for round := 0; round < 6; round++ {
		var got []any
		var gotErr error
		if round < 2 {
			got, gotErr = f(padded(cols, n, rng))
		} else {
			// Random batch sizes, with or without selections.
			for from := 0; from < n && gotErr == nil; {
				to := min(n, from+1+rng.IntN(n))
				part := slice(cols, from, to)
				var b *coldata.Batch
				if rng.IntN(2) == 0 {
					b = padded(part, to-from, rng)
				} else {
					b = &coldata.Batch{Cols: part, Len: to - from}
				}
				vals, err := f(b)
				got, gotErr = append(got, vals...), err
				from = to
			}
		}
		if (plainErr == nil) != (gotErr == nil) {
			t.Fatalf("shape %d: error %v, plain batch error %v", round, gotErr, plainErr)
		}
		if plainErr == nil && !equalValues(plain, got) {
			t.Fatalf("shape %d: got %v, plain batch gave %v", round, got, plain)
		}
	}
	return plain, plainErr
}

func equalNested(a, b [][]any) bool {
	for i := range a {
		if !equalValues(a[i], b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

// evalRows evaluates e in every shape and returns the plain result.
func evalRows(t *testing.T, e *program.Expr, cols ...coldata.Vector) ([]any, error) {
	t.Helper()
	ev, err := Compile(e, nil)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return shapes(t, cols, func(b *coldata.Batch) ([]any, error) {
		v, err := ev.Eval(tctx, b)
		if err != nil {
			return nil, err
		}
		if v.Len() != b.Len {
			t.Fatalf("result has %d rows, batch %d", v.Len(), b.Len)
		}
		if !v.Type().Equal(e.Type) {
			t.Fatalf("result type %s, expression type %s", v.Type(), e.Type)
		}
		return values(v, liveRows(b)), nil
	})
}

func liveRows(b *coldata.Batch) []int32 {
	if b.Sel != nil {
		return b.Sel
	}
	return allRows(b.Len)
}

// filterMatches runs e as a filter in every shape and reports, for each
// row of cols, whether it was selected.
func filterMatches(t *testing.T, e *program.Expr, cols ...coldata.Vector) []bool {
	t.Helper()
	f, err := CompileFilter(e, nil)
	if err != nil {
		t.Fatalf("compile filter: %v", err)
	}
	got, err := shapes(t, cols, func(b *coldata.Batch) ([]any, error) {
		var selCopy []int32
		if b.Sel != nil {
			selCopy = append([]int32{}, b.Sel...)
		}
		sel, err := f.Select(tctx, b)
		if err != nil {
			return nil, err
		}
		if sel == nil {
			t.Fatalf("Select returned nil")
		}
		if b.Sel != nil && !reflect.DeepEqual(selCopy, b.Sel) {
			t.Fatalf("Select modified the batch selection")
		}
		live := liveRows(b)
		out := make([]any, len(live))
		k := 0
		for j, i := range live {
			m := k < len(sel) && sel[k] == i
			if m {
				k++
			}
			out[j] = m
		}
		if k != len(sel) {
			t.Fatalf("selection %v has rows outside the batch's rows %v", sel, live)
		}
		return out, nil
	})
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	out := make([]bool, len(got))
	for i, g := range got {
		out[i] = g.(bool)
	}
	return out
}

func errContains(err error, want string) bool {
	return err != nil && strings.Contains(err.Error(), want)
}

// tctx is the context tests evaluate with.
var tctx = context.Background()
