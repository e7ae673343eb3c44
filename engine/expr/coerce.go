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
//   - integers widen: INT < BIGINT, INT UNSIGNED < BIGINT UNSIGNED, and
//     mixing signed with unsigned gives BIGINT;
//   - an integer with a float, and FLOAT with DOUBLE, give DOUBLE;
//   - TEXT with TIMESTAMP gives TIMESTAMP (the text is parsed);
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
	ka, kb := a.Kind, b.Kind
	if ka > kb {
		ka, kb = kb, ka
	}
	switch {
	case ka.IsInteger() && kb.IsInteger():
		switch {
		case ka == types.Int32 && kb == types.Int64:
			return types.Int64T, nil
		case ka == types.UInt32 && kb == types.UInt64:
			return types.UInt64T, nil
		default:
			// Signed with unsigned: BIGINT, the widest signed type.
			return types.Int64T, nil
		}
	case ka.IsNumeric() && kb.IsNumeric():
		// At least one float: integers and FLOAT meet in DOUBLE.
		return types.Float64T, nil
	case ka == types.String && kb == types.Timestamp:
		return types.TimestampT, nil
	}
	return types.Type{}, fmt.Errorf("cannot combine %s and %s", a, b)
}
