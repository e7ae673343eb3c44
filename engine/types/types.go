// Package types defines the SQL data types the engine computes with and the
// schemas of streams and tables.
//
// It is the leaf of the engine: it imports nothing from this module.
package types

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the logical type of a value. Each kind has exactly one physical
// representation in package coldata (see there).
type Kind uint8

const (
	Invalid Kind = iota
	// Null is the type of an untyped NULL literal; it coerces to any type.
	Null
	Bool
	Int32
	Int64
	UInt32
	UInt64
	Float32
	Float64
	// String is UTF-8 text (TEXT, VARCHAR).
	String
	// Bytes is binary data (BYTEA).
	Bytes
	// Timestamp is nanoseconds since the Unix epoch, UTC.
	Timestamp
	// Interval is a fixed duration in nanoseconds. Calendar intervals
	// (months, years) are not representable and are rejected by the planner.
	Interval
	// JSON is JSON text.
	JSON
	List
	Struct
	// The narrow integers come last so that the numbers of the kinds above,
	// which the serialized program carries, keep their values.
	Int8
	Int16
	UInt8
	UInt16
	// Date is a calendar date: days since 1970-01-01 (int32).
	Date
	// Time is a time of day: nanoseconds since midnight (int64).
	Time
	// Decimal is DECIMAL(p, s): an exact number with p digits (at most
	// 38), s of them after the point, stored as a 128-bit integer scaled
	// by 10^s. The Type carries p and s.
	Decimal
)

// LastKind is the highest kind there is: kinds are appended after it, and
// whatever validates a serialized type refuses the kinds above it.
const LastKind = Decimal

var kindNames = [...]string{
	Invalid:   "INVALID",
	Null:      "NULL",
	Bool:      "BOOLEAN",
	Int32:     "INT",
	Int64:     "BIGINT",
	UInt32:    "INT UNSIGNED",
	UInt64:    "BIGINT UNSIGNED",
	Float32:   "FLOAT",
	Float64:   "DOUBLE",
	String:    "TEXT",
	Bytes:     "BYTEA",
	Timestamp: "TIMESTAMP",
	Interval:  "INTERVAL",
	JSON:      "JSON",
	List:      "LIST",
	Struct:    "STRUCT",
	Int8:      "TINYINT",
	Int16:     "SMALLINT",
	UInt8:     "TINYINT UNSIGNED",
	UInt16:    "SMALLINT UNSIGNED",
	Date:      "DATE",
	Time:      "TIME",
	Decimal:   "DECIMAL",
}

// String returns the SQL name of the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// IsInteger reports whether k is a signed or unsigned integer kind.
func (k Kind) IsInteger() bool { return k.IsSigned() || k.IsUnsigned() }

// IsSigned reports whether k is a signed integer kind.
func (k Kind) IsSigned() bool {
	switch k {
	case Int8, Int16, Int32, Int64:
		return true
	}
	return false
}

// IsUnsigned reports whether k is an unsigned integer kind.
func (k Kind) IsUnsigned() bool {
	switch k {
	case UInt8, UInt16, UInt32, UInt64:
		return true
	}
	return false
}

// IsNumeric reports whether k is an integer or floating-point kind
// (DECIMAL is not: its arithmetic has rules of its own).
func (k Kind) IsNumeric() bool { return k.IsInteger() || k.IsFloat() }

// Bits returns the width in bits of an integer or floating-point kind, and
// 0 for other kinds.
func (k Kind) Bits() int {
	switch k {
	case Int8, UInt8:
		return 8
	case Int16, UInt16:
		return 16
	case Int32, UInt32, Float32:
		return 32
	case Int64, UInt64, Float64:
		return 64
	}
	return 0
}

// IntKind returns the integer kind of the given signedness and width (8,
// 16, 32 or 64 bits), or Invalid.
func IntKind(signed bool, bits int) Kind {
	ks := [2][4]Kind{{UInt8, UInt16, UInt32, UInt64}, {Int8, Int16, Int32, Int64}}
	s := 0
	if signed {
		s = 1
	}
	switch bits {
	case 8:
		return ks[s][0]
	case 16:
		return ks[s][1]
	case 32:
		return ks[s][2]
	case 64:
		return ks[s][3]
	}
	return Invalid
}

// IntRange returns the smallest and largest value of an integer kind (ok is
// false for other kinds). The smallest is at most 0 and the largest at least
// 0, so they fit int64 and uint64 respectively.
func (k Kind) IntRange() (lo int64, hi uint64, ok bool) {
	b := k.Bits()
	switch {
	case k.IsSigned():
		return -1 << (b - 1), 1<<(b-1) - 1, true
	case k.IsUnsigned():
		return 0, 1<<b - 1, true // b == 64 wraps to MaxUint64, as meant
	}
	return 0, 0, false
}

// IsFloat reports whether k is FLOAT or DOUBLE.
func (k Kind) IsFloat() bool { return k == Float32 || k == Float64 }

// IsBytesLike reports whether values of k are stored as variable-length
// bytes (coldata.Bytes).
func (k Kind) IsBytesLike() bool { return k == String || k == Bytes || k == JSON }

// RangeText describes the values of an integer kind for messages about
// values that do not fit: "-128 to 127" for TINYINT. It is "" for other
// kinds.
func (k Kind) RangeText() string {
	lo, hi, ok := k.IntRange()
	if !ok {
		return ""
	}
	return strconv.FormatInt(lo, 10) + " to " + strconv.FormatUint(hi, 10)
}

// Type is a SQL data type. Scalar types are fully described by Kind; lists
// carry their element type and structs their fields. Types are values and are
// compared with Equal.
type Type struct {
	Kind   Kind    `json:"kind"`
	Elem   *Type   `json:"elem,omitempty"`
	Fields []Field `json:"fields,omitempty"`
	// Precision and Scale are a DECIMAL's digits in all and after the
	// point (0 <= Scale <= Precision <= 38); zero for other kinds.
	Precision uint8 `json:"precision,omitempty"`
	Scale     uint8 `json:"scale,omitempty"`
}

// MaxDecimalPrecision is the most digits a DECIMAL holds.
const MaxDecimalPrecision = 38

// DecimalOf returns the type DECIMAL(precision, scale).
func DecimalOf(precision, scale int) Type {
	return Type{Kind: Decimal, Precision: uint8(precision), Scale: uint8(scale)}
}

// Field is a named, typed member of a struct or a schema.
type Field struct {
	Name     string `json:"name"`
	Type     Type   `json:"type"`
	Nullable bool   `json:"nullable"`
}

// Scalar types, for convenience.
var (
	NullT      = Type{Kind: Null}
	BoolT      = Type{Kind: Bool}
	Int8T      = Type{Kind: Int8}
	Int16T     = Type{Kind: Int16}
	Int32T     = Type{Kind: Int32}
	Int64T     = Type{Kind: Int64}
	UInt8T     = Type{Kind: UInt8}
	UInt16T    = Type{Kind: UInt16}
	UInt32T    = Type{Kind: UInt32}
	UInt64T    = Type{Kind: UInt64}
	Float32T   = Type{Kind: Float32}
	Float64T   = Type{Kind: Float64}
	StringT    = Type{Kind: String}
	BytesT     = Type{Kind: Bytes}
	TimestampT = Type{Kind: Timestamp}
	IntervalT  = Type{Kind: Interval}
	JSONT      = Type{Kind: JSON}
	DateT      = Type{Kind: Date}
	TimeT      = Type{Kind: Time}
)

// ListOf returns the type of lists whose elements have type elem.
func ListOf(elem Type) Type { return Type{Kind: List, Elem: &elem} }

// StructOf returns the struct type with the given fields.
func StructOf(fields ...Field) Type { return Type{Kind: Struct, Fields: fields} }

// Equal reports whether t and u are the same type. Field nullability is part
// of a struct type; field names are compared exactly.
func (t Type) Equal(u Type) bool {
	if t.Kind != u.Kind {
		return false
	}
	switch t.Kind {
	case Decimal:
		return t.Precision == u.Precision && t.Scale == u.Scale
	case List:
		return t.Elem.Equal(*u.Elem)
	case Struct:
		if len(t.Fields) != len(u.Fields) {
			return false
		}
		for i := range t.Fields {
			a, b := t.Fields[i], u.Fields[i]
			if a.Name != b.Name || a.Nullable != b.Nullable || !a.Type.Equal(b.Type) {
				return false
			}
		}
	}
	return true
}

// FieldIndex returns the index of the struct field called name, matched
// case-insensitively, or -1.
func (t Type) FieldIndex(name string) int {
	return fieldIndex(t.Fields, name)
}

func fieldIndex(fs []Field, name string) int {
	for i, f := range fs {
		if f.Name == name {
			return i
		}
	}
	for i, f := range fs {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

// String renders t in SQL syntax, e.g. "STRUCT<id BIGINT, name TEXT>" or
// "TEXT[]".
func (t Type) String() string {
	switch t.Kind {
	case List:
		return t.Elem.String() + "[]"
	case Struct:
		var b strings.Builder
		b.WriteString("STRUCT<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.Name)
			b.WriteByte(' ')
			b.WriteString(f.Type.String())
		}
		b.WriteByte('>')
		return b.String()
	case Decimal:
		return "DECIMAL(" + strconv.Itoa(int(t.Precision)) + ", " + strconv.Itoa(int(t.Scale)) + ")"
	}
	return t.Kind.String()
}

// TimestampField is the name of the hidden event-time column every stream
// carries. It is not part of SELECT * and is maintained by the planner.
const TimestampField = "_timestamp"

// Schema is the ordered list of columns of a stream or table.
type Schema struct {
	Fields []Field `json:"fields"`
}

// NewSchema returns a schema with the given fields.
func NewSchema(fields ...Field) *Schema { return &Schema{Fields: fields} }

// Index returns the index of the field called name (exact match first, then
// case-insensitive), or -1.
func (s *Schema) Index(name string) int { return fieldIndex(s.Fields, name) }

// Len returns the number of fields.
func (s *Schema) Len() int { return len(s.Fields) }

// TimestampIndex returns the index of the hidden event-time column, or -1.
func (s *Schema) TimestampIndex() int {
	for i, f := range s.Fields {
		if f.Name == TimestampField {
			return i
		}
	}
	return -1
}

// Type returns the schema as a struct type.
func (s *Schema) Type() Type { return StructOf(s.Fields...) }

// String renders the schema as "(a BIGINT, b TEXT)".
func (s *Schema) String() string {
	t := s.Type().String()
	return "(" + strings.TrimSuffix(strings.TrimPrefix(t, "STRUCT<"), ">") + ")"
}
