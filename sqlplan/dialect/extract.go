package dialect

import "strings"

// extract rewrites EXTRACT(unit FROM x) at k into date_part('unit', x),
// DataFusion's meaning of it. TiDB knows only MySQL's units (no epoch,
// dow, doy, millisecond), so the call is rewritten whatever the unit, and
// the planner's date_part says which units it accepts. It reports false,
// changing nothing, when the tokens are not that form (a function or
// column named extract).
func (r *rewriter) extract(k int) bool {
	toks := r.toks
	if k+4 >= len(toks) || !toks[k+1].is("(") || toks[k+2].kind != tkWord || !toks[k+3].is("FROM") {
		return false
	}
	unit := toks[k+2]
	r.repl[k] = &replacement{s: "date_part", n: 1}
	r.repl[k+2] = &replacement{s: sqlString(strings.ToLower(unit.text)) + ",", n: 2}
	r.consumed[k+2], r.consumed[k+3] = true, true
	return true
}
