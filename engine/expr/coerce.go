package expr

import (
	"fmt"

	"github.com/arroyogo/arroyo/engine/types"
)

// CommonType returns the type two values are converted to when they meet
// in one expression (arithmetic, comparison, CASE branches, COALESCE and IN
// lists, UNION columns). The planner casts each side to it.
//
//   - equal types and NULL with anything combine to that type;
//   - integers of one signedness widen to the wider one: TINYINT < SMALLINT
//     < INT < BIGINT, and likewise for the UNSIGNED forms;
//   - a signed with an unsigned integer gives the narrowest signed type that
//     holds both (TINYINT with TINYINT UNSIGNED gives SMALLINT, INT with INT
//     UNSIGNED gives BIGINT), at most BIGINT, as DataFusion coerces them;
//   - an integer with a float, and FLOAT with DOUBLE, give DOUBLE;
//   - a DECIMAL with an integer or a DECIMAL gives a DECIMAL, with a float
//     DOUBLE (commonDecimal);
//   - TEXT with TIMESTAMP gives TIMESTAMP (the text is parsed), likewise
//     TEXT with DATE gives DATE and TEXT with TIME gives TIME;
//   - DATE with TIMESTAMP gives TIMESTAMP (the date's midnight);
//   - anything else is an error ("cannot combine TEXT and BIGINT").
func CommonType(a, b types.Type) (types.Type, error) {
	if a.Equal(b) {
		return a, nil
	}
	if a.Kind == types.Null {
		return b, nil
	}
	if b.Kind == types.Null {
		return a, nil
	}
	if t, ok, err := commonDecimal(a, b); ok {
		return t, err
	}
	ka, kb := a.Kind, b.Kind
	switch {
	case ka.IsInteger() && kb.IsInteger():
		return types.Type{Kind: commonInt(ka, kb)}, nil
	case ka.IsNumeric() && kb.IsNumeric():
		// At least one float: integers and FLOAT meet in DOUBLE.
		return types.Float64T, nil
	case ka == types.String && kb == types.Timestamp, ka == types.Timestamp && kb == types.String:
		return types.TimestampT, nil
	case ka == types.Date && kb == types.Timestamp, ka == types.Timestamp && kb == types.Date:
		return types.TimestampT, nil
	case ka == types.String && isDateTime(kb):
		return b, nil
	case kb == types.String && isDateTime(ka):
		return a, nil
	}
	return types.Type{}, fmt.Errorf("cannot combine %s and %s", a, b)
}

// commonInt is CommonType for two integer kinds.
func commonInt(a, b types.Kind) types.Kind {
	if a.IsSigned() == b.IsSigned() {
		return types.IntKind(a.IsSigned(), max(a.Bits(), b.Bits()))
	}
	s, u := a, b
	if u.IsSigned() {
		s, u = u, s
	}
	// An unsigned value of w bits needs a signed type of 2w bits.
	return types.IntKind(true, min(64, max(s.Bits(), 2*u.Bits())))
}
