package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/danielgtaylor/huma/v2"

	"github.com/arroyogo/arroyo/engine/connector"
)

type pingOut struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

type connectorsOut struct{ Body ConnectorCollection }

func (s *Server) routes() {
	huma.Register(s.api, huma.Operation{
		OperationID: "ping", Method: http.MethodGet, Path: Prefix + "/ping", Summary: "Ping the API (no token needed)", Tags: []string{"ping"},
	}, func(ctx context.Context, _ *struct{}) (*pingOut, error) {
		return &pingOut{ContentType: "text/plain", Body: []byte("Pong")}, nil
	})
	op(s, huma.Operation{OperationID: "get_connectors", Method: http.MethodGet, Path: Prefix + "/connectors", Summary: "List the connectors and their option schemas", Tags: []string{"connectors"}},
		func(ctx context.Context, _ *struct{}) (*connectorsOut, error) {
			return &connectorsOut{Body: ConnectorCollection{Data: connectorList()}}, nil
		})
	s.connectionRoutes()
	s.udfRoutes()
	s.pipelineRoutes()
	s.outputRoutes()
}

// op registers an operation that needs the bearer token, with the body
// limit and the error responses every route has.
func op[I, O any](s *Server, o huma.Operation, h func(context.Context, *I) (*O, error)) {
	if s.opts.AuthToken != "" {
		o.Security = []map[string][]string{{"bearer": {}}}
	}
	o.MaxBodyBytes = s.opts.MaxBodyBytes
	if o.DefaultStatus == 0 {
		o.DefaultStatus = http.StatusOK
	}
	o.Errors = append(o.Errors, http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound, http.StatusRequestEntityTooLarge)
	huma.Register(s.api, o, h)
}

func connectorList() []Connector {
	var out []Connector
	for _, name := range connector.Names() {
		c, _ := connector.Lookup(name)
		tester, _ := connector.LookupTester(name)
		profile, table := splitOptions(c, tester)
		d := Connector{
			ID: c.Name, Name: c.Name, Description: c.Description, Enabled: true,
			Source: c.NewSource != nil, Sink: c.NewSink != nil,
			CustomSchemas: c.Schema == nil,
			Testing:       c.NewSource != nil || c.NewSink != nil,
			Hidden:        c.Name == "blackhole",
			TableConfig:   optionSchema(c.Name+" table", table),
		}
		if len(profile) > 0 {
			s := optionSchema(c.Name+" connection", profile)
			d.ConnectionConfig = &s
		}
		out = append(out, d)
	}
	return out
}

// splitOptions divides a connector's options into those of a connection
// profile (as its tester declares) and those of a table.
func splitOptions(c *connector.Connector, t *connector.Tester) (profile, table []connector.Option) {
	for _, o := range c.Options {
		if t != nil && slices.Contains(t.ProfileOptions, o.Name) {
			profile = append(profile, o)
		} else {
			table = append(table, o)
		}
	}
	return profile, table
}

// optionSchema is the JSON Schema (draft 2020-12) of a set of options, as
// a string (Arroyo's connectors send theirs so).
func optionSchema(title string, opts []connector.Option) string {
	props := map[string]any{}
	var required []string
	for _, o := range opts {
		p := map[string]any{"title": o.Name, "description": o.Description}
		switch o.Type {
		case connector.TypeInt:
			p["type"] = "integer"
		case connector.TypeFloat:
			p["type"] = "number"
		case connector.TypeBool:
			p["type"] = "boolean"
		case connector.TypeEnum:
			p["type"] = "string"
			p["enum"] = o.Enum
		case connector.TypeDuration:
			p["type"] = "string"
			p["format"] = "duration"
		default:
			p["type"] = "string"
		}
		if o.MinSet {
			p["minimum"] = o.Min
		}
		if o.Default != "" {
			p["default"] = typedValue(o.Type, o.Default)
		}
		if o.Example != "" {
			p["examples"] = []any{typedValue(o.Type, o.Example)}
		}
		if o.Secret {
			p["format"] = "password"
			p["writeOnly"] = true
			p["x-secret"] = true
		}
		props[o.Name] = p
		if o.Required {
			required = append(required, o.Name)
		}
	}
	doc := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, "type": "object",
		"properties": props, "additionalProperties": false,
	}
	if len(required) > 0 {
		sort.Strings(required)
		doc["required"] = required
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

func typedValue(t connector.OptionType, v string) any {
	switch t {
	case connector.TypeInt:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	case connector.TypeFloat:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	case connector.TypeBool:
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	return v
}

// Redacted replaces secret option values in responses.
const Redacted = "********"

// envRef is a whole-value {{ENV_VAR}} reference: not a secret itself, so
// shown as written.
var envRef = regexp.MustCompile(`^\{\{[A-Za-z_][A-Za-z0-9_]*\}\}$`)

// secretName says whether an option is a secret: declared so, or named
// like one (a connector that forgot to declare it still is not shown).
func secretName(c *connector.Connector, name string) bool {
	if c != nil {
		for _, o := range c.Options {
			if o.Name == name {
				if o.Secret {
					return true
				}
				break
			}
		}
	}
	n := strings.ToLower(name)
	return strings.Contains(n, "password") || strings.Contains(n, "secret") || strings.Contains(n, "token") ||
		strings.HasSuffix(n, "api_key") || strings.HasSuffix(n, ".key") || n == "key"
}

// redact returns cfg with every secret value replaced.
func redact(c *connector.Connector, cfg map[string]string) map[string]string {
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		if secretName(c, k) && !envRef.MatchString(v) {
			v = Redacted
		}
		out[k] = v
	}
	return out
}

var optionKey = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)

// flattenConfig turns a JSON config into option values: nested objects
// join their keys with '.', camelCase keys that are not declared are read
// as snake_case, numbers and booleans become their text. field names the
// body field for errors ("config").
func flattenConfig(field string, cfg map[string]any, decl declared) (map[string]string, error) {
	out := map[string]string{}
	var walk func(prefix string, m map[string]any) error
	walk = func(prefix string, m map[string]any) error {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !optionKey.MatchString(k) {
				return badRequest("%s: option name %q: use letters, digits, '_', '-' and '.'", field, k)
			}
			name := prefix + k
			if _, nested := m[k].(map[string]any); nested {
				// {"schemaRegistry": {"endpoint": ...}} is schema_registry.endpoint.
				if snake := prefix + snakeCase(k); !decl.under(name+".") && decl.under(snake+".") {
					name = snake
				}
			} else if !decl.has(name) {
				if snake := prefix + snakeCase(k); decl.has(snake) {
					name = snake
				}
			}
			var v string
			switch x := m[k].(type) {
			case nil:
				continue
			case string:
				v = x
			case bool:
				v = strconv.FormatBool(x)
			case float64:
				v = strconv.FormatFloat(x, 'f', -1, 64)
			case json.Number:
				v = x.String()
			case map[string]any:
				if err := walk(name+".", x); err != nil {
					return err
				}
				continue
			default:
				return badRequest("%s.%s: expected a string, number, boolean or object, got %s", field, name, jsonKind(x))
			}
			if _, dup := out[name]; dup {
				return badRequest("%s: option '%s' given twice", field, name)
			}
			out[name] = v
		}
		return nil
	}
	if err := walk("", cfg); err != nil {
		return nil, err
	}
	return out, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// declared is a set of option names a config may use.
type declared struct {
	names map[string]bool
	any   bool // every name is accepted
}

func declaredIn(opts []connector.Option, extra ...string) declared {
	d := declared{names: map[string]bool{}}
	for _, o := range opts {
		d.names[o.Name] = true
	}
	for _, e := range extra {
		d.names[e] = true
	}
	return d
}

var anyName = declared{any: true}

func (d declared) has(name string) bool { return d.any || d.names[name] }

// under says whether some name starts with prefix (which ends in '.').
func (d declared) under(prefix string) bool {
	if d.any {
		return true
	}
	for n := range d.names {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}
