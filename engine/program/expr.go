package program

import (
	"encoding/json"
	"fmt"

	"github.com/arroyogo/arroyo/engine/types"
)

// ExprOp is the kind of an expression node.
type ExprOp string

const (
	// ExprCol reads input column Col.
	ExprCol ExprOp = "col"
	// ExprLit is the constant Value (JSON-encoded, see Expr.Value) of Type.
	ExprLit ExprOp = "lit"
	// ExprCall applies the function Func (a name in engine/expr's function
	// registry, including the operators "+", "-", "*", "/", "%", "=",
	// "<>", "<", "<=", ">", ">=", "like", "||", "neg") to Args.
	ExprCall ExprOp = "call"
	// ExprCast converts Args[0] to Type.
	ExprCast ExprOp = "cast"
	// ExprAnd, ExprOr and ExprNot are SQL three-valued logic.
	ExprAnd ExprOp = "and"
	ExprOr  ExprOp = "or"
	ExprNot ExprOp = "not"
	// ExprIsNull and ExprIsNotNull test Args[0]; they never return NULL.
	ExprIsNull    ExprOp = "is_null"
	ExprIsNotNull ExprOp = "is_not_null"
	// ExprCase is CASE WHEN Args[0] THEN Args[1] [WHEN Args[2] THEN
	// Args[3]...] [ELSE Args[last]] END; HasElse says whether the last arg
	// is the ELSE. Conditions are BOOLEAN; a branch is only evaluated for
	// the rows that take it, so an error in an untaken branch is not
	// raised.
	ExprCase ExprOp = "case"
	// ExprCoalesce returns the first non-null of Args, evaluating each
	// arg only for rows still null.
	ExprCoalesce ExprOp = "coalesce"
	// ExprIn is Args[0] IN (Args[1:]...), with SQL NULL semantics: NULL if
	// no match and the probe or any list element is NULL.
	ExprIn ExprOp = "in"
	// ExprField reads field Field of the struct Args[0]; NULL if the struct
	// is NULL.
	ExprField ExprOp = "field"
)

// Expr is a typed, resolved scalar expression over the columns of a node's
// input. The planner builds it (all names resolved, all types checked, all
// implicit casts explicit); engine/expr compiles it into a vectorized
// evaluator.
type Expr struct {
	Op ExprOp `json:"op"`
	// Type is the result type.
	Type types.Type `json:"type"`
	// Nullable is false only when the result can never be NULL.
	Nullable bool `json:"nullable,omitempty"`
	Col      int  `json:"col,omitempty"`
	// Value is the literal for ExprLit, JSON-encoded by physical type:
	// null; true/false; integers and floats as JSON numbers (integers
	// exact); String/JSON as a JSON string; Bytes as a base64 JSON string;
	// Timestamp and Interval as integer nanoseconds.
	Value   json.RawMessage `json:"value,omitempty"`
	Func    string          `json:"func,omitempty"`
	Args    []*Expr         `json:"args,omitempty"`
	Field   int             `json:"field,omitempty"`
	HasElse bool            `json:"has_else,omitempty"`
	// Text is the SQL the expression came from, for error messages
	// ("division by zero in 'a / b'"). It may be empty.
	Text string `json:"text,omitempty"`
	// Pos is where Text starts in the SQL file, for error messages. It may
	// be nil.
	Pos *SourcePos `json:"pos,omitempty"`
	// Note, when set, is added to this expression's error messages to say
	// why the planner put it there ("column 'n' of sink 'out'" for the
	// cast that fits a query's column to its sink).
	Note string `json:"note,omitempty"`
}

// SourcePos is a position in a SQL file: 1-based line and column (in
// bytes), and the file's name when it has one.
type SourcePos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
}

// String formats p as FILE:LINE:COL, or LINE:COL without a file name, the
// form of the planner's error messages.
func (p *SourcePos) String() string {
	if p.File == "" {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}
