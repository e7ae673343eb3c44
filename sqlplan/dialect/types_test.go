package dialect

import (
	"strings"
	"testing"
)

func TestParseType(t *testing.T) {
	tests := []struct{ in, want string }{
		{"BIGINT", "BIGINT"},
		{"bigint", "BIGINT"},
		{"INT8", "BIGINT"},
		{"integer", "INT"},
		{"INT UNSIGNED", "INT UNSIGNED"},
		{"bigint unsigned", "BIGINT UNSIGNED"},
		{"SMALLINT UNSIGNED", "SMALLINT UNSIGNED"},
		{"TEXT", "TEXT"},
		{"string", "TEXT"},
		{"VARCHAR", "VARCHAR"},
		{"varchar(255)", "VARCHAR(255)"},
		{"CHARACTER VARYING", "VARCHAR"},
		{"char(3)", "CHAR(3)"},
		{"TIMESTAMP", "TIMESTAMP"},
		{"timestamp(6)", "TIMESTAMP(6)"},
		{"datetime", "TIMESTAMP"},
		{"BYTEA", "BYTEA"},
		{"varbinary", "BYTEA"},
		{"DOUBLE", "DOUBLE"},
		{"DOUBLE PRECISION", "DOUBLE"},
		{"float8", "DOUBLE"},
		{"FLOAT", "FLOAT"},
		{"real", "FLOAT"},
		{"BOOLEAN", "BOOLEAN"},
		{"bool", "BOOLEAN"},
		{"JSON", "JSON"},
		{"INTERVAL", "INTERVAL"},
		{"DECIMAL(10,2)", "DECIMAL(10, 2)"},
		{"numeric(5)", "DECIMAL(5)"},
		{"TEXT[]", "TEXT[]"},
		{"int[][]", "INT[][]"},
		{"BIGINT UNSIGNED[]", "BIGINT UNSIGNED[]"},
		{"STRUCT<a INT, b TEXT>", "STRUCT<a INT, b TEXT>"},
		{"struct(a int not null, \"B c\" text[])", `STRUCT<a INT NOT NULL, "B c" TEXT[]>`},
		{"STRUCT<a STRUCT<b INT>>", "STRUCT<a STRUCT<b INT>>"},
		{"STRUCT<a STRUCT<b INT>>[]", "STRUCT<a STRUCT<b INT>>[]"},
		{"STRUCT<\"text\" TEXT>", `STRUCT<"text" TEXT>`},
		{"STRUCT<>", "STRUCT<>"},
	}
	for _, tt := range tests {
		got, err := ParseType(tt.in)
		if err != nil {
			t.Errorf("ParseType(%q): %v", tt.in, err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("ParseType(%q) = %s, want %s", tt.in, got.String(), tt.want)
		}
		if got.Text != tt.in {
			t.Errorf("ParseType(%q).Text = %q", tt.in, got.Text)
		}
		// The canonical string reads back to itself.
		again, err := ParseType(got.String())
		if err != nil || again.String() != tt.want {
			t.Errorf("ParseType(%q) = %v, %v; not a fixed point", got.String(), again, err)
		}
	}
}

func TestParseTypeShape(t *testing.T) {
	tn, err := ParseType("STRUCT<a INT, b VARCHAR(3)[]>[]")
	if err != nil {
		t.Fatal(err)
	}
	if !tn.Array || tn.Name != "ARRAY" || tn.Elem == nil || tn.Elem.Name != "STRUCT" {
		t.Fatalf("got %+v", tn)
	}
	fs := tn.Elem.Fields
	if len(fs) != 2 || fs[0].Name != "a" || fs[0].Type.Name != "INT" || !fs[1].Type.Array ||
		fs[1].Type.Elem.Name != "VARCHAR" || fs[1].Type.Elem.Args[0] != 3 {
		t.Errorf("fields %+v %+v", fs[0], fs[1])
	}
	if fs[1].Pos != (Pos{1, 15}) || fs[1].Type.Pos != (Pos{1, 17}) {
		t.Errorf("field b at %v, type at %v", fs[1].Pos, fs[1].Type.Pos)
	}
	if tn.Elem.Text != "STRUCT<a INT, b VARCHAR(3)[]>" {
		t.Errorf("elem text %q", tn.Elem.Text)
	}
}

func TestParseTypeErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"STRNG", "unknown type 'STRNG' (supported: BIGINT, "},
		{"", "expected a type name, found end of statement"},
		{"INT(3)", "type INT takes no arguments"},
		{"VARCHAR(x)", "expected an integer type argument, found 'x'"},
		{"DECIMAL(1, 2, 3)", "type DECIMAL takes 1 to 2 arguments, not 3"},
		{"TEXT UNSIGNED", "unexpected 'UNSIGNED' after type TEXT"},
		{"INT extra", "unexpected 'extra' after type INT"},
		{"STRUCT", "expected '<' after STRUCT, found end of statement"},
		{"STRUCT<a>", "expected a type name, found '>'"},
		{"STRUCT<a INT b TEXT>", "expected ',' or '>', found 'b'"},
		{"'text'", "expected a type name, found ''text''"},
		{"TEXT['", "unterminated string literal"},
	}
	for _, tt := range tests {
		_, err := ParseType(tt.in)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseType(%q) error %v, want %q", tt.in, err, tt.want)
		}
	}
	_, err := ParseType("STRNG")
	if !strings.Contains(err.Error(), "STRUCT<name type, ...>") {
		t.Errorf("unknown type error does not list the types: %v", err)
	}
}

// TestSupportedTypesListsOnlySupported: the list an unknown type's message
// gives has every type the planner accepts, DECIMAL, DATE and TIME too.
func TestSupportedTypesListsOnlySupported(t *testing.T) {
	words := map[string]bool{}
	for _, w := range strings.Split(SupportedTypes, ", ") {
		words[w] = true
	}
	for _, want := range []string{"TIMESTAMP", "BIGINT", "DECIMAL", "NUMERIC", "DATE", "TIME"} {
		if !words[want] {
			t.Errorf("SupportedTypes lacks %s: %s", want, SupportedTypes)
		}
	}
}
