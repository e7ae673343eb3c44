package avro

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/arroyogo/arroyo/engine/types"
)

// RootName is the name of the record of the schema derived from a SQL
// schema (Arroyo's name for it); nested structs are records named after
// their path (RootName_field_sub).
const RootName = "ArroyoAvroRoot"

// Parse parses an Avro schema. Each call has its own cache of named types,
// so two versions of a record of one name (schema evolution) never mix, as
// they would in hamba/avro's process-wide default cache.
func Parse(text string) (avro.Schema, error) {
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("avro: invalid schema: %w", err)
	}
	return s, nil
}

// ToSQL converts an Avro record schema to SQL columns, as a table whose
// schema comes from a registry or from 'avro.schema' gets them:
//
//	boolean BOOLEAN; int INT (date DATE, time-millis TIME); long BIGINT
//	(timestamp-millis/-micros/-nanos and local-* TIMESTAMP, time-micros
//	TIME); float FLOAT; double DOUBLE; string, enum TEXT; bytes, fixed
//	BYTEA (decimal DECIMAL(p, s) up to 38 digits); record STRUCT; array
//	T[]; ["null", T] a nullable T; map, other unions, recursive records,
//	null and decimals wider than 38 digits JSON.
//
// A field is nullable when its type is a union with null (or null).
func ToSQL(s avro.Schema) (*types.Schema, error) {
	s = deref(s)
	r, ok := s.(*avro.RecordSchema)
	if !ok {
		return nil, fmt.Errorf("avro: the schema must be a record, not %s", s.Type())
	}
	fields, err := recordToSQL(r, map[string]bool{})
	if err != nil {
		return nil, err
	}
	return types.NewSchema(fields...), nil
}

func recordToSQL(r *avro.RecordSchema, visiting map[string]bool) ([]types.Field, error) {
	visiting[r.FullName()] = true
	defer delete(visiting, r.FullName())
	out := make([]types.Field, 0, len(r.Fields()))
	for _, f := range r.Fields() {
		t, nullable := avroToSQL(f.Type(), visiting)
		out = append(out, types.Field{Name: f.Name(), Type: t, Nullable: nullable})
	}
	return out, nil
}

// avroToSQL returns the SQL type of values of s and whether they may be
// null.
func avroToSQL(s avro.Schema, visiting map[string]bool) (types.Type, bool) {
	if ref, ok := s.(*avro.RefSchema); ok {
		if visiting[ref.Schema().FullName()] {
			return types.JSONT, true // recursive: SQL types are finite
		}
		s = ref.Schema()
	}
	switch s := s.(type) {
	case *avro.NullSchema:
		return types.JSONT, true
	case *avro.PrimitiveSchema:
		return primitiveToSQL(s), s.Type() == avro.Null
	case *avro.FixedSchema:
		if d, ok := s.Logical().(*avro.DecimalLogicalSchema); ok {
			return decimalType(d), false
		}
		if s.Logical() != nil && s.Logical().Type() == avro.Duration {
			return types.JSONT, false
		}
		return types.BytesT, false
	case *avro.EnumSchema:
		return types.StringT, false
	case *avro.RecordSchema:
		fs, _ := recordToSQL(s, visiting)
		return types.StructOf(fs...), false
	case *avro.ArraySchema:
		et, _ := avroToSQL(s.Items(), visiting)
		return types.ListOf(et), false
	case *avro.MapSchema:
		return types.JSONT, false
	case *avro.UnionSchema:
		var other []avro.Schema
		hasNull := false
		for _, b := range s.Types() {
			if b.Type() == avro.Null {
				hasNull = true
			} else {
				other = append(other, b)
			}
		}
		if len(other) == 1 {
			t, _ := avroToSQL(other[0], visiting)
			return t, hasNull
		}
		return types.JSONT, hasNull || len(other) == 0
	}
	return types.JSONT, true
}

func primitiveToSQL(s *avro.PrimitiveSchema) types.Type {
	lt := logicalType(s)
	switch s.Type() {
	case avro.Boolean:
		return types.BoolT
	case avro.Int:
		switch lt {
		case avro.Date:
			return types.DateT
		case avro.TimeMillis:
			return types.TimeT
		}
		return types.Int32T
	case avro.Long:
		switch lt {
		case avro.TimestampMillis, avro.TimestampMicros, avro.LocalTimestampMillis, avro.LocalTimestampMicros,
			"timestamp-nanos", "local-timestamp-nanos":
			return types.TimestampT
		case avro.TimeMicros:
			return types.TimeT
		}
		return types.Int64T
	case avro.Float:
		return types.Float32T
	case avro.Double:
		return types.Float64T
	case avro.String:
		return types.StringT
	case avro.Bytes:
		if d, ok := s.Logical().(*avro.DecimalLogicalSchema); ok {
			return decimalType(d)
		}
		return types.BytesT
	}
	return types.JSONT // null
}

func decimalType(d *avro.DecimalLogicalSchema) types.Type {
	if d.Precision() < 1 || d.Precision() > types.MaxDecimalPrecision || d.Scale() < 0 || d.Scale() > d.Precision() {
		return types.JSONT
	}
	return types.DecimalOf(d.Precision(), d.Scale())
}

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

// FromSQL derives the Avro schema of rows of schema, which the encoder
// writes and a sink registers:
//
//	BOOLEAN boolean; TINYINT, SMALLINT, INT, TINYINT/SMALLINT UNSIGNED int;
//	BIGINT, INT/BIGINT UNSIGNED long (a BIGINT UNSIGNED above 2^63-1 does
//	not encode); FLOAT float; DOUBLE double; TEXT, JSON string; BYTEA
//	bytes; TIMESTAMP long timestamp-micros; DATE int date; TIME long
//	time-micros; INTERVAL long (microseconds); DECIMAL(p, s) bytes decimal;
//	T[] array of ["null", T]; STRUCT record.
//
// A nullable column is ["null", T] with default null. Column names must be
// valid Avro names (letters, digits, '_', not starting with a digit).
func FromSQL(schema *types.Schema) (avro.Schema, error) {
	text, err := SchemaText(schema)
	if err != nil {
		return nil, err
	}
	return Parse(text)
}

// SchemaText is FromSQL's schema as JSON text.
func SchemaText(schema *types.Schema) (string, error) {
	var b strings.Builder
	if err := writeRecord(&b, RootName, schema.Fields); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writeRecord(b *strings.Builder, name string, fields []types.Field) error {
	b.WriteString(`{"type":"record","name":`)
	b.WriteString(strconv.Quote(name))
	b.WriteString(`,"fields":[`)
	n := 0
	for _, f := range fields {
		if f.Name == types.TimestampField {
			continue
		}
		if !validName(f.Name) {
			return fmt.Errorf("avro: column '%s' is not a valid Avro name (letters, digits and '_', not starting with a digit)", f.Name)
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(`{"name":`)
		b.WriteString(strconv.Quote(f.Name))
		b.WriteString(`,"type":`)
		if f.Nullable {
			b.WriteString(`["null",`)
		}
		if err := writeType(b, name+"_"+f.Name, f.Type); err != nil {
			return fmt.Errorf("column '%s': %w", f.Name, err)
		}
		if f.Nullable {
			b.WriteString(`],"default":null`)
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return nil
}

func writeType(b *strings.Builder, name string, t types.Type) error {
	switch t.Kind {
	case types.Bool:
		b.WriteString(`"boolean"`)
	case types.Int8, types.Int16, types.Int32, types.UInt8, types.UInt16:
		b.WriteString(`"int"`)
	case types.Int64, types.UInt32, types.UInt64, types.Interval:
		b.WriteString(`"long"`)
	case types.Float32:
		b.WriteString(`"float"`)
	case types.Float64:
		b.WriteString(`"double"`)
	case types.String, types.JSON:
		b.WriteString(`"string"`)
	case types.Bytes:
		b.WriteString(`"bytes"`)
	case types.Timestamp:
		b.WriteString(`{"type":"long","logicalType":"timestamp-micros"}`)
	case types.Date:
		b.WriteString(`{"type":"int","logicalType":"date"}`)
	case types.Time:
		b.WriteString(`{"type":"long","logicalType":"time-micros"}`)
	case types.Decimal:
		fmt.Fprintf(b, `{"type":"bytes","logicalType":"decimal","precision":%d,"scale":%d}`, t.Precision, t.Scale)
	case types.Null:
		b.WriteString(`"null"`)
	case types.List:
		b.WriteString(`{"type":"array","items":`)
		if t.Elem.Kind != types.Null {
			b.WriteString(`["null",`)
		}
		if err := writeType(b, name+"_item", *t.Elem); err != nil {
			return err
		}
		if t.Elem.Kind != types.Null {
			b.WriteByte(']')
		}
		b.WriteByte('}')
	case types.Struct:
		return writeRecord(b, name, t.Fields)
	default:
		return fmt.Errorf("type %s has no Avro equivalent", t)
	}
	return nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// logicalType returns a primitive's logical type, including those hamba/avro
// does not model (timestamp-nanos, local-timestamp-nanos), which it keeps
// as a plain property.
func logicalType(s *avro.PrimitiveSchema) avro.LogicalType {
	if l := s.Logical(); l != nil {
		return l.Type()
	}
	if v, ok := s.Prop("logicalType").(string); ok {
		return avro.LogicalType(v)
	}
	return ""
}
