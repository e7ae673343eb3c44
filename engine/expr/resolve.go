package expr

import (
	"fmt"
	"strings"

	"github.com/arroyogo/arroyo/engine/types"
)

// Signature-based resolution for built-in functions with fixed arities.

// param is one parameter of a signature: the name shown in errors and the
// coercion from an actual argument type to the type the kernel expects.
type param struct {
	name   string
	coerce func(t types.Type) (types.Type, bool)
}

// sig is one accepted argument list.
type sig []param

var (
	// pText accepts TEXT (and NULL).
	pText = param{"TEXT", func(t types.Type) (types.Type, bool) {
		return types.StringT, t.Kind == types.String || t.Kind == types.Null
	}}
	// pInt accepts any integer and asks for BIGINT.
	pInt = param{"BIGINT", func(t types.Type) (types.Type, bool) {
		return types.Int64T, t.Kind.IsInteger() || t.Kind == types.Null
	}}
	// pDouble accepts any number and asks for DOUBLE (a DECIMAL too, as
	// DataFusion coerces it for the float functions).
	pDouble = param{"DOUBLE", func(t types.Type) (types.Type, bool) {
		return types.Float64T, t.Kind.IsNumeric() || t.Kind == types.Null || t.Kind == types.Decimal
	}}
)

func (s sig) String() string {
	names := make([]string, len(s))
	for i, p := range s {
		names[i] = p.name
	}
	return "(" + strings.Join(names, ", ") + ")"
}

func typeList(ts []types.Type) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.String()
	}
	return "(" + strings.Join(names, ", ") + ")"
}

// sigs returns a Resolve accepting any of alts, all computed by kernel
// (which sees the actual arity) with the given result type.
func sigs(name string, result types.Type, kernel Kernel, alts ...sig) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
	next:
		for _, s := range alts {
			if len(s) != len(args) {
				continue
			}
			want := make([]types.Type, len(args))
			for i, p := range s {
				t, ok := p.coerce(args[i])
				if !ok {
					continue next
				}
				want[i] = t
			}
			return &Resolved{Args: want, Result: result, Kernel: kernel}, nil
		}
		return nil, sigError(name, args, alts)
	}
}

// sigError names the expected and actual argument types, e.g. "function
// upper expects TEXT, got BIGINT".
func sigError(name string, args []types.Type, alts []sig) error {
	if len(alts) == 1 && len(alts[0]) == 1 && len(args) == 1 {
		return fmt.Errorf("function %s expects %s, got %s", name, alts[0][0].name, args[0])
	}
	forms := make([]string, len(alts))
	for i, s := range alts {
		forms[i] = s.String()
	}
	return fmt.Errorf("function %s expects %s, got %s", name, strings.Join(forms, " or "), typeList(args))
}

// registerAll registers f under each name (aliases share the Resolve).
func registerAll(names []string, desc string, resolve func(name string) func([]types.Type) (*Resolved, error)) {
	for _, n := range names {
		register(&Func{Name: n, Description: desc, Resolve: resolve(n)})
	}
}
