package expr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// Error is an expression that failed to evaluate: what went wrong (Err,
// e.g. ErrDivisionByZero or a *CastError), the SQL expression and where it
// is, and the row that failed. It formats as
//
//	orders.sql:3:8: division by zero in 'id / (id - id)', computing 5 / 0
//
// errors.Is and errors.As see Err.
type Error struct {
	// Pos is where Text starts in the SQL file; nil when unknown.
	Pos *program.SourcePos
	// Text is the SQL expression; it may be empty.
	Text string
	// Note says why the planner put the expression there, if it did
	// (program.Expr.Note).
	Note string
	// Row is the physical index of the failing row in its batch, or -1
	// when the failure is not about one row.
	Row int
	// Values shows the failing row's operands ("5 / 0", "substr('ab', 1,
	// -1)"); empty when Err already names the value (a cast).
	Values string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos != nil {
		b.WriteString(e.Pos.String())
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	if e.Text != "" {
		fmt.Fprintf(&b, " in '%s'", e.Text)
	}
	if e.Values != "" {
		fmt.Fprintf(&b, ", computing %s", e.Values)
	}
	if e.Note != "" {
		fmt.Fprintf(&b, " (%s)", e.Note)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// rowError is a kernel's error at one row. Kernels return it from their
// precise second pass (see "Kernels compute densely, check lazily" in
// docs/RATIONALE.md), so building it costs nothing on the hot path; the
// evaluator turns it into an *Error.
type rowError struct {
	row    int
	values string // may be empty: the evaluator formats the arguments
	err    error
}

func (e *rowError) Error() string { return e.err.Error() }
func (e *rowError) Unwrap() error { return e.err }

// atRow attaches row i to err unless it already names a row.
func atRow(i int, err error) error {
	var re *rowError
	if err == nil || errors.As(err, &re) {
		return err
	}
	return &rowError{row: i, err: err}
}

// src is what compile knows about where an expression came from: the
// nearest SQL text and position (an expression's own, or an ancestor's
// when it has none) and whether every row that reaches the expression's
// calc evaluates it. A guarded expression (a CASE branch, the right side
// of AND and OR, a later COALESCE argument) may be skipped for every row,
// so a constant in it that fails is left to fail at run time.
type src struct {
	pos     *program.SourcePos
	text    string
	note    string
	guarded bool
}

// of returns s updated for e: e's own text and position when it has them.
func (s src) of(e *program.Expr) src {
	if e.Text != "" || e.Pos != nil {
		s.pos, s.text, s.note = e.Pos, e.Text, e.Note
	}
	return s
}

// guard returns s for an expression that not every row evaluates.
func (s src) guard() src {
	s.guarded = true
	return s
}

func compileErr(at src, err error) error {
	if at.text == "" {
		return err
	}
	if at.pos != nil {
		return fmt.Errorf("%s: compile '%s': %w", at.pos, at.text, err)
	}
	return fmt.Errorf("compile '%s': %w", at.text, err)
}

// wrap turns a kernel's error into an *Error naming the expression at and
// the failing row. args are the kernel's argument vectors, to show the
// row's values when the kernel did not; name is the function's. An error
// that is already an *Error (a child's) passes through.
func wrap(al *coldata.Allocator, at *src, err error, name string, args []coldata.Vector) error {
	if err == nil {
		return nil
	}
	var ee *Error
	if errors.As(err, &ee) {
		return err
	}
	e := &Error{Pos: at.pos, Text: at.text, Note: at.note, Row: -1, Err: err}
	var re *rowError
	if errors.As(err, &re) {
		e.Row, e.Values, e.Err = re.row, re.values, re.err
		if e.Values == "" && name != "" && len(args) > 0 {
			vals := make([]string, len(args))
			for i, a := range args {
				vals[i] = formatValue(al, a, re.row)
			}
			e.Values = name + "(" + strings.Join(vals, ", ") + ")"
		}
	}
	if e.Pos == nil && e.Text == "" && e.Note == "" && e.Values == "" {
		return err
	}
	return e
}

// formatValue shows row i of v as SQL would write it: NULL, numbers as
// they are, everything else as a quoted string. It is for error messages
// only (it converts through a cast to TEXT).
func formatValue(al *coldata.Allocator, v coldata.Vector, i int) string {
	if v == nil || i < 0 || i >= v.Len() {
		return "?"
	}
	if v.IsNull(i) {
		return "NULL"
	}
	t, err := castVec(al, v, types.StringT, v.Len(), []int32{int32(i)})
	if err != nil {
		return "?"
	}
	s := t.(*coldata.Bytes).GetString(i)
	if k := v.Type().Kind; k.IsNumeric() || k == types.Bool || k == types.Decimal {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
