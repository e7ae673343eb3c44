package ops_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/ops"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/state"
	"github.com/arroyogo/arroyo/engine/types"
)

// TestWindowFuncTopNThreshold: a top-N window function drops rows that
// cannot be among a partition's N best without buffering them (the
// partition's threshold row). Over thousands of rows per partition in
// several partitions, with ties, NULLs and every ORDER BY direction, the
// rows numbered 1..N, and which of tied rows they are (an id column), are
// those of the same window function without a limit.
func TestWindowFuncTopNThreshold(t *testing.T) {
	ctx := context.Background()
	for _, o := range []program.SortKey{{Col: 1}, {Col: 1, Desc: true}, {Col: 1, NullsFirst: true}, {Col: 1, Desc: true, NullsFirst: true}} {
		for _, limit := range []int64{1, 2, 5} {
			t.Run(fmt.Sprintf("desc=%v,nullsfirst=%v,limit=%d", o.Desc, o.NullsFirst, limit), func(t *testing.T) {
				node := func(limit int64) *program.Node {
					return &program.Node{Op: program.OpWindowFunc, OperatorID: "wf",
						Schema: types.NewSchema(types.Field{Name: "v", Type: types.Int64T, Nullable: true}, types.Field{Name: "id", Type: types.Int64T},
							types.Field{Name: "rn", Type: types.UInt64T}, types.Field{Name: types.TimestampField, Type: types.TimestampT}),
						WindowFunc: &program.WindowFunc{Keys: 1, Cols: 2, Row: []types.Type{types.Int64T, types.Int64T}, Limit: limit,
							Order: []program.SortKey{o},
							Calls: []program.WinCall{{Func: "row_number", Arg: -1, Type: types.UInt64T}}}}
				}
				run := func(limit int64) []string {
					op, err := ops.NewWindowFunc(node(limit), ops.TaskInfo{OperatorID: "wf", Parallelism: 1, KeyGroups: [2]int{0, state.MaxKeyGroups}, MaxKeyGroups: state.MaxKeyGroups})
					if err != nil {
						t.Fatal(err)
					}
					r := rand.New(rand.NewPCG(uint64(o.Col), 7)) // the same rows with and without the limit
					out := &collector2{}
					id := int64(0)
					for b := 0; b < 40; b++ {
						k := &coldata.Vec[int64]{T: types.Int64T}
						v := &coldata.Vec[int64]{T: types.Int64T}
						ids := &coldata.Vec[int64]{T: types.Int64T}
						ts := &coldata.Vec[int64]{T: types.TimestampT}
						for i := 0; i < 250; i++ {
							k.Append(int64(r.IntN(3)))
							// Values drift up and down so thresholds are
							// passed both ways; a few NULLs; many ties.
							if r.IntN(50) == 0 {
								v.AppendNull()
							} else {
								v.Append(int64(r.IntN(40)) + int64(b%7))
							}
							ids.Append(id)
							id++
							ts.Append(9)
						}
						if err := op.Process(ctx, 0, coldata.NewBatch([]coldata.Vector{k, v, ids, ts}, 250), out); err != nil {
							t.Fatal(err)
						}
					}
					if err := op.OnWatermark(ctx, math.MaxInt64, out); err != nil {
						t.Fatal(err)
					}
					return lines(out.batches)
				}
				all, top := run(0), run(limit)
				var want []string
				for _, l := range all {
					f := strings.Fields(l)
					var rn int64
					fmt.Sscan(f[2], &rn)
					if rn <= limit {
						want = append(want, l)
					}
				}
				if len(all) != 10000 || len(want) != 3*int(limit) || !slices.Equal(top, want) {
					t.Errorf("limit %d: %q, want %q (of %d rows)", limit, top, want, len(all))
				}
			})
		}
	}
}
