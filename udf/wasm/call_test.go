package wasm_test

import (
	"context"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/udf/wasm"
	"github.com/arroyogo/arroyo/udf/wasm/wasmtest"
)

// cStringsReg loads the C example and the string benchmark module
// (testdata/strbench.c) into a registry.
func cStringsReg(t *testing.T, cfg wasm.Config) *expr.Registry {
	t.Helper()
	h := newHost(t, cfg)
	var mods []*wasm.Module
	for _, src := range []string{"examples/udfs/c/udfs.c", "udf/wasm/testdata/strbench.c"} {
		b, err := os.ReadFile(wasmtest.CPath(t, src))
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, load(t, h, src, b))
	}
	reg := expr.Builtins().Scope()
	if err := wasm.Register(reg, mods...); err != nil {
		t.Fatal(err)
	}
	return reg
}

func reverseRunes(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// randomText returns a string of about n bytes: ASCII, or with
// multi-byte code points when utf is set.
func randomText(rng *rand.Rand, n int, utf bool) string {
	var sb strings.Builder
	for sb.Len() < n {
		switch k := rng.IntN(10); {
		case utf && k == 0:
			sb.WriteRune(rune(0x80 + rng.IntN(0x780))) // 2 bytes
		case utf && k == 1:
			sb.WriteRune(rune(0x800 + rng.IntN(0x7000))) // 3 bytes
		case utf && k == 2:
			sb.WriteRune(rune(0x10000 + rng.IntN(0x10000))) // 4 bytes
		default:
			sb.WriteByte(byte(' ' + rng.IntN(95)))
		}
	}
	return sb.String()
}

// TestCStringHelpers runs the C SDK's string helpers (through c_reverse
// and the benchmark module's variants) over values of every length from
// 0 to 80 bytes, ASCII and not, with NULLs and a selection, in batches
// of random sizes, against Go's reverse.
func TestCStringHelpers(t *testing.T) {
	for _, l := range []struct {
		name    string
		timeout time.Duration
	}{{"limit", 0}, {"nolimit", -1}} {
		t.Run(l.name, func(t *testing.T) {
			reg := cStringsReg(t, wasm.Config{CallTimeout: l.timeout})
			rng := rand.New(rand.NewPCG(1, 2))
			for round := 0; round < 20; round++ {
				n := 1 + rng.IntN(300)
				in := coldata.NewBytes(types.StringT, 0, 0)
				var want []any
				for i := 0; i < n; i++ {
					if rng.IntN(13) == 0 {
						in.AppendNull()
						want = append(want, nil)
						continue
					}
					s := randomText(rng, rng.IntN(81), rng.IntN(3) == 0)
					in.AppendString(s)
					want = append(want, s)
				}
				var sel []int32
				if round%2 == 1 {
					for i := 0; i < n; i++ {
						if rng.IntN(3) != 0 {
							sel = append(sel, int32(i))
						}
					}
				}
				for _, fn := range []string{"c_reverse", "s_rev_words", "s_rev_bytewise", "s_echo"} {
					out := evalSel(t, reg, fn, in, n, sel)
					live := make([]bool, n)
					for i := range live {
						live[i] = sel == nil
					}
					for _, r := range sel {
						live[r] = true
					}
					for i := 0; i < n; i++ {
						if !live[i] {
							continue
						}
						if want[i] == nil {
							if !out.IsNull(i) {
								t.Fatalf("%s: row %d: want NULL, got %q", fn, i, out.GetString(i))
							}
							continue
						}
						w := want[i].(string)
						if fn != "s_echo" {
							w = reverseRunes(w)
						}
						if out.IsNull(i) || out.GetString(i) != w {
							t.Fatalf("%s(%q) (round %d, row %d of %d) = %q (null %v), want %q", fn, want[i], round, i, n, out.GetString(i), out.IsNull(i), w)
						}
					}
				}
			}
		})
	}
}

// evalSel evaluates fn over the live rows sel (all n when nil) of in.
func evalSel(t *testing.T, reg *expr.Registry, fn string, in coldata.Vector, n int, sel []int32) *coldata.Bytes {
	t.Helper()
	f, _ := reg.Lookup(fn)
	r, err := f.Resolve([]types.Type{in.Type()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Bind(context.Background(), expr.TaskContext{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	out, err := b.Eval(context.Background(), []coldata.Vector{in}, n, sel)
	if err != nil {
		t.Fatalf("%s: %v", fn, err)
	}
	return out.(*coldata.Bytes)
}

// TestStringCallAllocs: a call of a string UDF allocates the result
// vector (its struct, offsets and data), nothing per row.
func TestStringCallAllocs(t *testing.T) {
	reg := cStringsReg(t, wasm.Config{})
	f, _ := reg.Lookup("c_reverse")
	r, err := f.Resolve([]types.Type{types.StringT})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Bind(context.Background(), expr.TaskContext{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, n := range []int{16, 4096} {
		in := coldata.NewBytes(types.StringT, n, 16*n)
		for i := 0; i < n; i++ {
			in.AppendString("some text of row")
		}
		args := []coldata.Vector{in}
		allocs := testing.AllocsPerRun(20, func() {
			if _, err := b.Eval(context.Background(), args, n, nil); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 3 {
			t.Errorf("%d rows: %.0f allocations a call, want at most 3 (the result's struct, offsets and data)", n, allocs)
		}
	}
}
