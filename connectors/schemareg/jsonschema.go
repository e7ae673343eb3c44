package schemareg

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/arroyogo/arroyo/engine/types"
)

// JSONSchemaToSQL converts a JSON Schema whose root is an object to SQL
// columns, one per property, in the order the schema lists them:
//
//	boolean BOOLEAN; integer BIGINT; number DOUBLE; string TEXT (format
//	date-time TIMESTAMP, date DATE, time TIME); object with properties
//	STRUCT; array with one items schema T[]; ["T", "null"] a nullable T;
//	anything else (no type, several types, oneOf/anyOf/allOf, an object
//	without properties, a recursive $ref) JSON.
//
// A property is NOT NULL when it is listed in "required" and its type does
// not allow null. $ref to "#/definitions/..." or "#/$defs/..." is followed.
func JSONSchemaToSQL(text string) (*types.Schema, error) {
	var root map[string]any
	if err := json.Unmarshal([]byte(text), &root); err != nil {
		return nil, fmt.Errorf("invalid JSON schema: %w", err)
	}
	c := &jsConv{root: root, visiting: map[string]bool{}}
	node := c.resolve(root)
	if _, ok := node["properties"].(map[string]any); !ok {
		return nil, fmt.Errorf("the JSON schema's root must be an object with properties")
	}
	fields, err := c.properties(node, []byte(text))
	if err != nil {
		return nil, err
	}
	return types.NewSchema(fields...), nil
}

type jsConv struct {
	root     map[string]any
	visiting map[string]bool
}

// resolve follows a local $ref.
func (c *jsConv) resolve(n map[string]any) map[string]any {
	for range 32 {
		ref, ok := n["$ref"].(string)
		if !ok {
			return n
		}
		target := c.lookup(ref)
		if target == nil {
			return map[string]any{} // unknown: JSON
		}
		n = target
	}
	return map[string]any{}
}

func (c *jsConv) lookup(ref string) map[string]any {
	if !strings.HasPrefix(ref, "#/") {
		return nil
	}
	var cur any = c.root
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	m, _ := cur.(map[string]any)
	return m
}

// properties returns the columns of an object node, in the order its
// properties appear in the schema text (Go maps lose it).
func (c *jsConv) properties(n map[string]any, text []byte) ([]types.Field, error) {
	props, _ := n["properties"].(map[string]any)
	required := map[string]bool{}
	if rs, ok := n["required"].([]any); ok {
		for _, r := range rs {
			if s, ok := r.(string); ok {
				required[s] = true
			}
		}
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	order := keyOrder(text)
	sort.SliceStable(names, func(i, j int) bool {
		oi, iok := order[names[i]]
		oj, jok := order[names[j]]
		if iok && jok && oi != oj {
			return oi < oj
		}
		if iok != jok {
			return iok
		}
		return names[i] < names[j]
	})
	var out []types.Field
	for _, name := range names {
		p, _ := props[name].(map[string]any)
		if p == nil {
			p = map[string]any{}
		}
		t, nullable := c.typeOf(p, text, 0)
		out = append(out, types.Field{Name: name, Type: t, Nullable: nullable || !required[name]})
	}
	return out, nil
}

// keyOrder returns the position of the first occurrence of each quoted
// key in text: enough to keep properties in their written order.
func keyOrder(text []byte) map[string]int {
	order := map[string]int{}
	dec := json.NewDecoder(strings.NewReader(string(text)))
	for i := 0; ; i++ {
		tok, err := dec.Token()
		if err != nil {
			return order
		}
		if s, ok := tok.(string); ok {
			if _, seen := order[s]; !seen {
				order[s] = i
			}
		}
	}
}

func typeSet(n map[string]any) map[string]bool {
	set := map[string]bool{}
	switch t := n["type"].(type) {
	case string:
		set[t] = true
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				set[s] = true
			}
		}
	}
	return set
}

func (c *jsConv) typeOf(n map[string]any, text []byte, depth int) (types.Type, bool) {
	if ref, ok := n["$ref"].(string); ok {
		if c.visiting[ref] || depth > 32 {
			return types.JSONT, true
		}
		c.visiting[ref] = true
		defer delete(c.visiting, ref)
		n = c.resolve(n)
	}
	set := typeSet(n)
	nullable := set["null"]
	delete(set, "null")
	if len(set) != 1 || n["oneOf"] != nil || n["anyOf"] != nil || n["allOf"] != nil {
		return types.JSONT, true
	}
	var kind string
	for k := range set {
		kind = k
	}
	switch kind {
	case "boolean":
		return types.BoolT, nullable
	case "integer":
		return types.Int64T, nullable
	case "number":
		return types.Float64T, nullable
	case "string":
		switch n["format"] {
		case "date-time":
			return types.TimestampT, nullable
		case "date":
			return types.DateT, nullable
		case "time":
			return types.TimeT, nullable
		}
		return types.StringT, nullable
	case "object":
		if _, ok := n["properties"].(map[string]any); !ok {
			return types.JSONT, nullable
		}
		fs, err := c.properties(n, text)
		if err != nil || len(fs) == 0 {
			return types.JSONT, nullable
		}
		return types.StructOf(fs...), nullable
	case "array":
		items, ok := n["items"].(map[string]any)
		if !ok {
			return types.JSONT, nullable
		}
		et, _ := c.typeOf(items, text, depth+1)
		return types.ListOf(et), nullable
	}
	return types.JSONT, true
}

// SQLToJSONSchema is the JSON Schema a json sink registers for rows of
// schema: an object named ArroyoJson with one property per column, NOT
// NULL columns required, nullable ones ["T", "null"]. TIMESTAMP is a
// date-time string, or an integer with unixMillis (json.timestamp_format
// = 'unix_millis'); BYTEA a base64 string; JSON any value.
func SQLToJSONSchema(schema *types.Schema, unixMillis bool) string {
	var b strings.Builder
	b.WriteString(`{"$schema":"http://json-schema.org/draft-07/schema#","title":"ArroyoJson",`)
	writeJSObject(&b, schema.Fields, unixMillis, false)
	b.WriteByte('}')
	return b.String()
}

func writeJSObject(b *strings.Builder, fields []types.Field, millis, nullable bool) {
	if nullable {
		b.WriteString(`"type":["object","null"],"properties":{`)
	} else {
		b.WriteString(`"type":"object","properties":{`)
	}
	var req []string
	n := 0
	for _, f := range fields {
		if f.Name == types.TimestampField {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(strconv.Quote(f.Name))
		b.WriteString(":{")
		writeJSType(b, f.Type, f.Nullable, millis)
		b.WriteByte('}')
		if !f.Nullable {
			req = append(req, strconv.Quote(f.Name))
		}
	}
	b.WriteString(`}`)
	if len(req) > 0 {
		b.WriteString(`,"required":[` + strings.Join(req, ",") + `]`)
	}
}

func writeJSType(b *strings.Builder, t types.Type, nullable, millis bool) {
	typ := func(name string) {
		if nullable {
			b.WriteString(`"type":["` + name + `","null"]`)
		} else {
			b.WriteString(`"type":"` + name + `"`)
		}
	}
	switch t.Kind {
	case types.Bool:
		typ("boolean")
	case types.Int8, types.Int16, types.Int32, types.Int64, types.UInt8, types.UInt16, types.UInt32, types.UInt64:
		typ("integer")
	case types.Float32, types.Float64, types.Decimal:
		typ("number")
	case types.Timestamp:
		if millis {
			typ("integer")
		} else {
			typ("string")
			b.WriteString(`,"format":"date-time"`)
		}
	case types.Date:
		typ("string")
		b.WriteString(`,"format":"date"`)
	case types.Time:
		typ("string")
		b.WriteString(`,"format":"time"`)
	case types.Bytes:
		typ("string")
		b.WriteString(`,"contentEncoding":"base64"`)
	case types.List:
		typ("array")
		b.WriteString(`,"items":{`)
		writeJSType(b, *t.Elem, true, millis)
		b.WriteByte('}')
	case types.Struct:
		writeJSObject(b, t.Fields, millis, nullable)
	case types.JSON:
		// Any JSON value.
		b.WriteString(`"description":"JSON"`)
	default: // TEXT, INTERVAL
		typ("string")
	}
}
