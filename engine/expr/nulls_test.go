package expr

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestSelectionHelpers checks the word-at-a-time helpers against a naive
// row loop on random bitmaps, including full and empty words and lengths
// that are not a multiple of 64.
func TestSelectionHelpers(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for iter := 0; iter < 300; iter++ {
		n := rng.IntN(300)
		w := make([]uint64, rng.IntN((n+63)/64+1))
		for i := range w {
			switch rng.IntN(3) {
			case 0:
				w[i] = ^uint64(0)
			case 1:
				w[i] = rng.Uint64()
			}
		}
		v := make([]bool, n)
		for i := range v {
			v[i] = rng.IntN(2) == 0
		}
		var sel []int32
		if rng.IntN(2) == 0 {
			sel = []int32{}
			for i := 0; i < n; i++ {
				if rng.IntN(3) == 0 {
					sel = append(sel, int32(i))
				}
			}
		}
		live := sel
		if sel == nil {
			live = allRows(n)
		}
		wantSet, wantClear, wantTrue := []int32{}, []int32{}, []int32{}
		for _, i := range live {
			if nullAt(w, int(i)) {
				wantSet = append(wantSet, i)
			} else {
				wantClear = append(wantClear, i)
				if v[i] {
					wantTrue = append(wantTrue, i)
				}
			}
		}
		if got := collectBits(w, n, sel, true); !reflect.DeepEqual(got, wantSet) {
			t.Fatalf("collectBits set: got %v, want %v", got, wantSet)
		}
		if got := collectBits(w, n, sel, false); !reflect.DeepEqual(got, wantClear) {
			t.Fatalf("collectBits clear: got %v, want %v", got, wantClear)
		}
		if got := collect(v, n, sel, w); !reflect.DeepEqual(got, wantTrue) {
			t.Fatalf("collect: got %v, want %v", got, wantTrue)
		}
		if got := countBits(w, n, sel); got != len(wantSet) {
			t.Fatalf("countBits: got %d, want %d", got, len(wantSet))
		}
		if got := diffSel(n, sel, wantSet); !reflect.DeepEqual(got, wantClear) {
			t.Fatalf("diffSel: got %v, want %v", got, wantClear)
		}
		if got := unionSel(wantSet, wantClear); !reflect.DeepEqual(got, append([]int32{}, live...)) && len(live) > 0 {
			t.Fatalf("unionSel: got %v, want %v", got, live)
		}
	}
}
