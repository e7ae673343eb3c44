package jsonfmt

import (
	"strconv"

	"github.com/arroyogo/arroyo/engine/types"
)

// connectSchema renders the Kafka Connect JSON schema of rows with fields,
// as written with json.include_schema (Arroyo names the top-level struct
// "ArroyoJson"). Connect has no unsigned types: INT UNSIGNED is int64 and
// BIGINT UNSIGNED int64 too (values above 2^63-1 will not fit a reader).
func connectSchema(fields []types.Field, millis bool) []byte {
	b := []byte(`{"type":"struct","name":"ArroyoJson","optional":false,"fields":[`)
	b = connectFields(b, fields, millis)
	return append(b, "]}"...)
}

func connectFields(b []byte, fields []types.Field, millis bool) []byte {
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = connectType(b, f.Type, f.Nullable, millis)
		b = b[:len(b)-1] // reopen the object to add the field name
		b = append(b, `,"field":`...)
		b = appendString(b, []byte(f.Name))
		b = append(b, '}')
	}
	return b
}

func connectType(b []byte, t types.Type, optional, millis bool) []byte {
	b = append(b, `{"type":`...)
	switch t.Kind {
	case types.Bool:
		b = append(b, `"boolean"`...)
	case types.Int8:
		b = append(b, `"int8"`...)
	case types.Int16, types.UInt8:
		// Kafka Connect has no unsigned types: the next wider signed one.
		b = append(b, `"int16"`...)
	case types.Int32, types.UInt16:
		b = append(b, `"int32"`...)
	case types.Int64, types.UInt32, types.UInt64:
		b = append(b, `"int64"`...)
	case types.Float32:
		b = append(b, `"float"`...)
	case types.Float64, types.Decimal:
		// A DECIMAL is written as a JSON number.
		b = append(b, `"double"`...)
	case types.Bytes:
		b = append(b, `"bytes"`...)
	case types.Timestamp:
		if millis {
			b = append(b, `"int64","name":"org.apache.kafka.connect.data.Timestamp","version":1`...)
		} else {
			b = append(b, `"string"`...)
		}
	case types.List:
		b = append(b, `"array","items":`...)
		b = connectType(b, *t.Elem, true, millis)
	case types.Struct:
		b = append(b, `"struct","fields":[`...)
		b = connectFields(b, t.Fields, millis)
		b = append(b, ']')
	default: // TEXT, JSON, INTERVAL, NULL
		b = append(b, `"string"`...)
	}
	b = append(b, `,"optional":`...)
	b = strconv.AppendBool(b, optional)
	return append(b, '}')
}
