package program

import (
	"fmt"

	"github.com/arroyogo/arroyo/engine/types"
)

// OpWindowFunc computes window functions (ROW_NUMBER, RANK, LAG ...) over
// the partitions of a windowed stream; WindowFunc is set.
const OpWindowFunc OpKind = "window_func"

// WindowFunc computes Calls over partitions of its input. The input's
// first Keys columns are the partition key (it includes a window, so a
// partition is complete once the watermark passes its rows' event time,
// the window's end - 1ns); the next Cols columns are the row, copied to
// the output; Order columns and the calls' arguments are among the row's
// columns (indexes into the input). The output is the row, one column per
// call, and the event time.
type WindowFunc struct {
	Keys int `json:"keys"`
	Cols int `json:"cols"`
	// Row are the types of the input's columns after the keys, up to the
	// hidden event time: what a buffered row holds.
	Row   []types.Type `json:"row"`
	Order []SortKey    `json:"order,omitempty"`
	Calls []WinCall    `json:"calls"`
	// Limit, when > 0, says only the rows numbered 1..Limit by the
	// ORDER BY are wanted downstream (a top-N query: every call is
	// row_number and a filter keeps row_number <= Limit): a partition
	// keeps only its Limit best rows.
	Limit int64 `json:"limit,omitempty"`
}

// SortKey orders a partition by input column Col.
type SortKey struct {
	Col        int  `json:"col"`
	Desc       bool `json:"desc,omitempty"`
	NullsFirst bool `json:"nulls_first,omitempty"`
}

// WinCall is one window function call: row_number, rank, dense_rank,
// percent_rank, lag, lead, first_value, last_value, nth_value.
type WinCall struct {
	Func string `json:"func"`
	// Arg is the input column of the value argument (-1: none).
	Arg int `json:"arg"`
	// Offset is lag's and lead's offset (default 1), nth_value's n.
	Offset int64 `json:"offset,omitempty"`
	// Default, for lag and lead, is the value where the offset row does
	// not exist (nil: NULL).
	Default *Expr      `json:"default,omitempty"`
	Type    types.Type `json:"type"`
}

func checkWindowFunc(w *WindowFunc, in, out *types.Schema) error {
	if w.Keys < 1 || w.Cols < 0 || w.Keys+w.Cols > in.Len()-1 {
		return fmt.Errorf("%d keys and %d columns for an input of %d", w.Keys, w.Cols, in.Len())
	}
	if w.Keys+len(w.Row) != in.Len()-1 || w.Cols > len(w.Row) {
		return fmt.Errorf("%d keys and %d row columns for an input of %d", w.Keys, len(w.Row), in.Len())
	}
	for i, t := range w.Row {
		if !t.Equal(in.Fields[w.Keys+i].Type) {
			return fmt.Errorf("row column %d is %s, the input's is %s", i, t, in.Fields[w.Keys+i].Type)
		}
	}
	if out.Len() != w.Cols+len(w.Calls)+1 {
		return fmt.Errorf("schema has %d columns, want %d + %d calls + 1", out.Len(), w.Cols, len(w.Calls))
	}
	for i := 0; i < w.Cols; i++ {
		if !out.Fields[i].Type.Equal(in.Fields[w.Keys+i].Type) {
			return fmt.Errorf("column %d is %s, the input's is %s", i, out.Fields[i].Type, in.Fields[w.Keys+i].Type)
		}
	}
	for _, o := range w.Order {
		if o.Col < w.Keys || o.Col >= in.Len()-1 {
			return fmt.Errorf("order column %d out of range", o.Col)
		}
	}
	if w.Limit < 0 {
		return fmt.Errorf("negative limit")
	}
	for j, c := range w.Calls {
		if w.Limit > 0 && c.Func != "row_number" {
			return fmt.Errorf("a limit needs every call to be row_number, call %d is %s", j, c.Func)
		}
		switch c.Func {
		case "row_number", "rank", "dense_rank", "percent_rank", "cume_dist":
		case "lag", "lead", "first_value", "last_value", "nth_value":
			if c.Arg < w.Keys || c.Arg >= in.Len()-1 {
				return fmt.Errorf("call %d (%s): argument column %d out of range", j, c.Func, c.Arg)
			}
			if !in.Fields[c.Arg].Type.Equal(c.Type) {
				return fmt.Errorf("call %d (%s) is %s, its argument %s", j, c.Func, c.Type, in.Fields[c.Arg].Type)
			}
			if c.Default != nil && (c.Default.Op != ExprLit || !c.Default.Type.Equal(c.Type)) {
				return fmt.Errorf("call %d (%s): the default is not a %s literal", j, c.Func, c.Type)
			}
		default:
			return fmt.Errorf("unknown window function %q", c.Func)
		}
		if !out.Fields[w.Cols+j].Type.Equal(c.Type) {
			return fmt.Errorf("call %d (%s) returns %s, its column is %s", j, c.Func, c.Type, out.Fields[w.Cols+j].Type)
		}
	}
	return nil
}
