package jsonfmt

import (
	"fmt"
	"strings"

	"github.com/arroyogo/arroyo/engine/types"
)

// DecodeError is why a record could not be decoded. Its message is meant for
// the person who produced the data:
//
//	invalid JSON at byte 17: expected ',' or '}'
//	field 'bid.price': expected integer, found string at byte 23
//	missing field 'bid.price'
//
// Decode errors are never retriable: the same record fails the same way.
type DecodeError struct {
	// Field is the dotted path of the field being decoded ("bid.price",
	// "items[].id"); empty for errors that concern the record as a whole.
	Field string
	// Offset is the 0-based byte offset in the record where the problem was
	// found, or -1 if there is no single position (a missing field).
	Offset int
	// Syntax is true if the record is not valid JSON.
	Syntax bool
	Msg    string
}

func (e *DecodeError) Error() string {
	switch {
	case e.Syntax:
		return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
	case e.Offset < 0:
		return fmt.Sprintf("%s '%s'", e.Msg, e.Field)
	case e.Field == "":
		return fmt.Sprintf("%s at byte %d", e.Msg, e.Offset)
	default:
		return fmt.Sprintf("field '%s': %s at byte %d", e.Field, e.Msg, e.Offset)
	}
}

func syntaxErr(off int, msg string) error {
	return &DecodeError{Offset: off, Syntax: true, Msg: msg}
}

func eofErr(off int) error { return syntaxErr(off, "unexpected end of input") }

// unexpected reports a syntax error for the byte at s[i] (or end of input)
// where the grammar wanted what.
func unexpected(s []byte, i int, what string) error {
	if i >= len(s) {
		return syntaxErr(i, what+", found end of input")
	}
	return syntaxErr(i, what)
}

// valueKind names the JSON kind starting at s[i] for type errors, or ""
// if no JSON value can start there.
func valueKind(s []byte, i int) string {
	if i >= len(s) {
		return ""
	}
	switch c := s[i]; {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	}
	return ""
}

// wantName is what a field of type t expects, for type errors.
func wantName(t types.Type) string {
	switch t.Kind {
	case types.Bool:
		return "boolean"
	case types.Int8, types.Int16, types.Int32, types.Int64, types.UInt8, types.UInt16, types.UInt32, types.UInt64:
		return "integer"
	case types.Float32, types.Float64:
		return "number"
	case types.String:
		return "string"
	case types.Bytes:
		return "base64 string"
	case types.Timestamp:
		return "timestamp (RFC 3339 string or integer of Unix milliseconds)"
	case types.Decimal:
		return "decimal number (a JSON number or a string of one)"
	case types.Date:
		return "date (string YYYY-MM-DD or integer of days since 1970-01-01)"
	case types.Time:
		return "time (string HH:MM:SS[.fraction] or integer of nanoseconds since midnight)"
	case types.List:
		return "array"
	case types.Struct:
		return "object"
	}
	return strings.ToLower(t.String())
}
