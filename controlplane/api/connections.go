package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
	"github.com/arroyogo/arroyo/sqlplan"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
)

type idPath struct {
	ID string `path:"id"`
}

// PageQuery are the pagination parameters of a list (exported because
// huma fills only exported embedded structs).
type PageQuery struct {
	StartingAfter string `query:"starting_after" doc:"The id of the last record of the previous page."`
	Limit         int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

func (q PageQuery) page() store.Page {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	return store.Page{Limit: q.Limit, StartingAfter: q.StartingAfter}
}

type (
	profilePostIn   struct{ Body ConnectionProfilePost }
	profileOut      struct{ Body ConnectionProfile }
	profilesOut     struct{ Body ConnectionProfileCollection }
	tablePostIn     struct{ Body ConnectionTablePost }
	tableOut        struct{ Body ConnectionTable }
	tablesIn        struct{ PageQuery }
	tablesOut       struct{ Body ConnectionTableCollection }
	schemaTestIn    struct{ Body ConnectionSchema }
	profileTestOut  struct{ Body TestSourceMessage }
	autocompleteOut struct{ Body ConnectionAutocompleteResp }
)

func (s *Server) connectionRoutes() {
	tags := []string{"connection_profiles"}
	op(s, huma.Operation{OperationID: "get_connection_profiles", Method: http.MethodGet, Path: Prefix + "/connection_profiles", Summary: "List connection profiles", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*profilesOut, error) {
			ps, err := s.opts.Store.ListConnectionProfiles(ctx)
			if err != nil {
				return nil, s.storeErr(err)
			}
			out := &profilesOut{Body: ConnectionProfileCollection{Data: []ConnectionProfile{}}}
			for i := range ps {
				out.Body.Data = append(out.Body.Data, profileView(&ps[i]))
			}
			return out, nil
		})
	op(s, huma.Operation{OperationID: "create_connection_profile", Method: http.MethodPost, Path: Prefix + "/connection_profiles", Summary: "Create a connection profile", Tags: tags},
		func(ctx context.Context, in *profilePostIn) (*profileOut, error) {
			_, cfg, err := validateProfile(&in.Body)
			if err != nil {
				return nil, err
			}
			raw, _ := json.Marshal(cfg)
			p := &store.ConnectionProfile{Name: in.Body.Name, Connector: in.Body.Connector, Config: raw}
			if err := s.opts.Store.CreateConnectionProfile(ctx, p); err != nil {
				return nil, s.storeErr(err)
			}
			return &profileOut{Body: profileView(p)}, nil
		})
	op(s, huma.Operation{OperationID: "delete_connection_profile", Method: http.MethodDelete, Path: Prefix + "/connection_profiles/{id}", Summary: "Delete a connection profile (409 while tables use it)", Tags: tags, Errors: []int{http.StatusConflict}},
		func(ctx context.Context, in *idPath) (*struct{}, error) {
			return nil, s.storeErr(s.opts.Store.DeleteConnectionProfile(ctx, in.ID))
		})
	op(s, huma.Operation{OperationID: "test_connection_profile", Method: http.MethodPost, Path: Prefix + "/connection_profiles/test", Summary: "Test a connection profile: one TestSourceMessage", Tags: tags},
		func(ctx context.Context, in *profilePostIn) (*profileTestOut, error) {
			return &profileTestOut{Body: s.testProfile(ctx, &in.Body)}, nil
		})

	op(s, huma.Operation{OperationID: "get_connection_profile_autocomplete", Method: http.MethodGet, Path: Prefix + "/connection_profiles/{id}/autocomplete", Summary: "Values a table of this profile may take (Kafka: its topics)", Tags: tags},
		func(ctx context.Context, in *idPath) (*autocompleteOut, error) {
			return s.autocomplete(ctx, in.ID)
		})

	tags = []string{"connection_tables"}
	op(s, huma.Operation{OperationID: "get_connection_tables", Method: http.MethodGet, Path: Prefix + "/connection_tables", Summary: "List connection tables (paginated)", Tags: tags},
		func(ctx context.Context, in *tablesIn) (*tablesOut, error) {
			ts, more, err := s.opts.Store.ListConnectionTables(ctx, in.page())
			if err != nil {
				return nil, s.fieldErr("starting_after", err)
			}
			out := &tablesOut{Body: ConnectionTableCollection{Data: []ConnectionTable{}, HasMore: more}}
			for i := range ts {
				v, err := s.tableView(ctx, &ts[i])
				if err != nil {
					return nil, err
				}
				out.Body.Data = append(out.Body.Data, v)
			}
			return out, nil
		})
	op(s, huma.Operation{OperationID: "create_connection_table", Method: http.MethodPost, Path: Prefix + "/connection_tables", Summary: "Create a connection table (its options validated by the connector's declarations)", Tags: tags, Errors: []int{http.StatusConflict}},
		func(ctx context.Context, in *tablePostIn) (*tableOut, error) {
			pt, err := s.planConnectionTable(ctx, &in.Body)
			if err != nil {
				return nil, err
			}
			schema := in.Body.Schema
			if schema == nil {
				schema = &ConnectionSchema{}
			}
			if len(schema.Fields) == 0 {
				schema.Fields = sourceFields(pt.table.Schema)
			}
			rawSchema, _ := json.Marshal(schema)
			rawCfg, _ := json.Marshal(pt.tableConfig)
			t := &store.ConnectionTable{Name: in.Body.Name, Connector: in.Body.Connector, TableType: pt.role, Config: rawCfg, Schema: rawSchema}
			if pt.profile != nil {
				t.ProfileID = pt.profile.ID
			}
			if err := s.opts.Store.CreateConnectionTable(ctx, t); err != nil {
				return nil, s.fieldErr("connectionProfileId", err)
			}
			v, err := s.tableView(ctx, t)
			if err != nil {
				return nil, err
			}
			return &tableOut{Body: v}, nil
		})
	op(s, huma.Operation{OperationID: "delete_connection_table", Method: http.MethodDelete, Path: Prefix + "/connection_tables/{id}", Summary: "Delete a connection table", Tags: tags},
		func(ctx context.Context, in *idPath) (*struct{}, error) {
			return nil, s.storeErr(s.opts.Store.DeleteConnectionTable(ctx, in.ID))
		})
	op(s, huma.Operation{OperationID: "test_schema", Method: http.MethodPost, Path: Prefix + "/connection_tables/schemas/test", Summary: "Check a table schema (format and fields)", Tags: tags},
		func(ctx context.Context, in *schemaTestIn) (*struct{}, error) {
			return nil, s.testSchema(&in.Body)
		})
	s.registerTableTest()
}

func profileView(p *store.ConnectionProfile) ConnectionProfile {
	var cfg map[string]string
	_ = json.Unmarshal(p.Config, &cfg)
	c, _ := connector.Lookup(p.Connector)
	return ConnectionProfile{ID: p.ID, Name: p.Name, Connector: p.Connector, Config: redact(c, cfg), Description: p.Description}
}

func (s *Server) tableView(ctx context.Context, t *store.ConnectionTable) (ConnectionTable, error) {
	var cfg map[string]string
	_ = json.Unmarshal(t.Config, &cfg)
	c, _ := connector.Lookup(t.Connector)
	v := ConnectionTable{ID: t.ID, Name: t.Name, CreatedAt: micros(t.CreatedAt), Connector: t.Connector, TableType: t.TableType, Config: redact(c, cfg)}
	if len(t.Schema) > 0 {
		v.Schema = &ConnectionSchema{}
		_ = json.Unmarshal(t.Schema, v.Schema)
	}
	if t.ProfileID != "" {
		p, err := s.opts.Store.GetConnectionProfile(ctx, t.ProfileID)
		if err != nil {
			return v, s.storeErr(err)
		}
		pv := profileView(p)
		v.ConnectionProfile = &pv
	}
	return v, nil
}

func lookupConnector(field, name string) (*connector.Connector, error) {
	c, ok := connector.Lookup(name)
	if !ok {
		return nil, badRequest("%s: unknown connector '%s' (available: %s)%s", field, name, strings.Join(connector.Names(), ", "), connector.CaseHint(name, connector.Names()))
	}
	return c, nil
}

// validateProfile checks a profile's config against the connector's
// profile options and returns them as option values (not defaulted).
func validateProfile(p *ConnectionProfilePost) (*connector.Connector, map[string]string, error) {
	c, err := lookupConnector("connector", p.Connector)
	if err != nil {
		return nil, nil, err
	}
	tester, _ := connector.LookupTester(c.Name)
	profile, _ := splitOptions(c, tester)
	cfg, err := flattenConfig("config", p.Config, declaredIn(profile))
	if err != nil {
		return nil, nil, err
	}
	if len(profile) == 0 {
		if len(cfg) > 0 {
			return nil, nil, badRequest("config: connector '%s' takes no connection profile options (put its options on the table)", c.Name)
		}
		return c, cfg, nil
	}
	if _, err := connector.Validate(c.Name, profile, cfg); err != nil {
		return nil, nil, tableErr(err)
	}
	return c, cfg, nil
}

// plannedTable is a connection table validated by planning it.
type plannedTable struct {
	conn    *connector.Connector
	profile *store.ConnectionProfile
	// tableConfig is the table's own options; table (the planned
	// description) has the profile's merged in, defaults filled.
	tableConfig map[string]string
	role        string
	table       *program.Table
}

// planConnectionTable validates a table the one way tables are validated
// everywhere: it writes the CREATE TABLE statement the table stands for
// and plans it with sqlplan, so the connector's and the format's option
// declarations, the schema rules and the defaults are those of SQL.
func (s *Server) planConnectionTable(ctx context.Context, t *ConnectionTablePost) (*plannedTable, error) {
	c, err := lookupConnector("connector", t.Connector)
	if err != nil {
		return nil, err
	}
	pt := &plannedTable{conn: c}
	merged := map[string]string{}
	if t.ConnectionProfileID != nil && *t.ConnectionProfileID != "" {
		p, err := s.opts.Store.GetConnectionProfile(ctx, *t.ConnectionProfileID)
		if err != nil {
			return nil, s.fieldErr("connectionProfileId", err)
		}
		if p.Connector != c.Name {
			return nil, badRequest("connectionProfileId: profile '%s' is for connector '%s', not '%s'", p.Name, p.Connector, c.Name)
		}
		var cfg map[string]string
		if err := json.Unmarshal(p.Config, &cfg); err != nil {
			return nil, s.storeErr(fmt.Errorf("stored profile %s: %w", p.ID, err))
		}
		for k, v := range cfg {
			merged[k] = v
		}
		pt.profile = p
	}
	var formatOpts []connector.Option
	for _, name := range connector.FormatNames() {
		f, _ := connector.LookupFormat(name)
		formatOpts = append(formatOpts, f.Options...)
	}
	declared := declaredIn(append(append([]connector.Option(nil), c.Options...), formatOpts...), "format", "bad_data", "event_time_field", "watermark_field")
	cfg, err := flattenConfig("config", t.Config, declared)
	if err != nil {
		return nil, err
	}
	if _, ok := cfg["connector"]; ok {
		return nil, badRequest("config.connector: give the connector as the body's 'connector' field")
	}
	pt.tableConfig = cfg
	for k, v := range cfg {
		if _, dup := merged[k]; dup && pt.profile != nil {
			return nil, badRequest("config.%s: already set by connection profile '%s'", k, pt.profile.Name)
		}
		merged[k] = v
	}
	var fields []SourceField
	if t.Schema != nil {
		if err := schemaOptions(t.Schema, merged); err != nil {
			return nil, err
		}
		fields = t.Schema.Fields
	}
	role, err := tableRole(c, merged)
	if err != nil {
		return nil, err
	}
	pt.role = role
	prog, err := planTableSQL(t.Name, c, merged, fields, role)
	if err != nil {
		return nil, err
	}
	for _, n := range prog.Nodes {
		if role == "source" && n.Source != nil && n.Source.Name == t.Name {
			pt.table = n.Source
		}
		if role == "sink" && n.Sink != nil && n.Sink.Name == t.Name {
			pt.table = n.Sink
		}
	}
	if pt.table == nil {
		return nil, fmt.Errorf("internal error: the planned table %q is not in its program", t.Name)
	}
	return pt, nil
}

// tableRole is the table's role: its 'type' option, or the connector's only
// role.
func tableRole(c *connector.Connector, opts map[string]string) (string, error) {
	if v, ok := opts["type"]; ok && (v == "source" || v == "sink") {
		if v == "source" && c.NewSource == nil || v == "sink" && c.NewSink == nil {
			return "", badRequest("config.type: connector '%s' cannot be a %s", c.Name, v)
		}
		return v, nil
	}
	switch {
	case c.NewSource != nil && c.NewSink == nil:
		return "source", nil
	case c.NewSink != nil && c.NewSource == nil:
		return "sink", nil
	case c.NewSink == nil && c.NewSource == nil:
		return "", badRequest("connector: '%s' is neither a source nor a sink", c.Name)
	}
	if v, ok := opts["type"]; ok {
		return "", badRequest("config.type: allowed values are 'source', 'sink'%s", connector.CaseHint(v, []string{"source", "sink"}))
	}
	return "", badRequest("config.type: required for connector '%s': 'source' or 'sink'", c.Name)
}

// schemaOptions turns a ConnectionSchema's format and bad-data policy into
// the table options they stand for (format = 'json', 'json.unstructured' =
// 'true', bad_data = 'drop').
func schemaOptions(sc *ConnectionSchema, opts map[string]string) error {
	if len(sc.Format) > 1 {
		return badRequest("schema.format: give one format, not %d", len(sc.Format))
	}
	for name, fo := range sc.Format {
		fname := snakeCase(name)
		if name == "json" {
			if deb, _ := fo["debezium"].(bool); deb {
				fname = "debezium_json"
			}
		}
		f, ok := connector.LookupFormat(fname)
		if !ok {
			return badRequest("schema.format: unknown format '%s' (available: %s)", name, strings.Join(connector.FormatNames(), ", "))
		}
		if v, ok := opts["format"]; ok && v != fname {
			return badRequest("schema.format: '%s' contradicts config.format = '%s'", name, v)
		}
		opts["format"] = fname
		keys := make([]string, 0, len(fo))
		for k := range fo {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := fo[k]
			if k == "debezium" {
				continue
			}
			opt := ""
			for _, cand := range []string{name + "." + snakeCase(k), fname + "." + snakeCase(k), snakeCase(k)} {
				if declaredIn(f.Options).has(cand) {
					opt = cand
					break
				}
			}
			if opt == "" {
				// Arroyo's settings we do not have are fine while unset.
				if v == nil || v == false || v == "" {
					continue
				}
				return badRequest("schema.format.%s.%s: not supported by format '%s'", name, k, fname)
			}
			flat, err := flattenConfig("schema.format."+name, map[string]any{opt: v}, anyName)
			if err != nil {
				return err
			}
			for fk, fv := range flat {
				opts[fk] = fv
			}
		}
	}
	if len(sc.BadData) > 1 {
		return badRequest("schema.badData: give one of 'fail', 'drop'")
	}
	for k := range sc.BadData {
		if k != connector.BadDataFail && k != connector.BadDataDrop {
			return badRequest("schema.badData: allowed values are 'fail', 'drop', not '%s'", k)
		}
		opts["bad_data"] = k
	}
	return nil
}

// sqlTypeName accepts a type name as CREATE TABLE takes it, and nothing
// else: it is written into generated SQL.
var sqlTypeName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9 ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\[\])*$`)

var primitiveSQL = map[string]string{
	"Int8": "TINYINT", "Int16": "SMALLINT", "Int32": "INT", "Int64": "BIGINT",
	"UInt8": "TINYINT UNSIGNED", "UInt16": "SMALLINT UNSIGNED", "UInt32": "INT UNSIGNED", "UInt64": "BIGINT UNSIGNED",
	"F32": "FLOAT", "F64": "DOUBLE", "Bool": "BOOLEAN", "String": "TEXT", "Bytes": "BYTEA",
	"UnixMillis": "TIMESTAMP", "UnixMicros": "TIMESTAMP", "UnixNanos": "TIMESTAMP", "DateTime": "TIMESTAMP",
	"Json": "JSON", "Date": "DATE", "Time": "TIME",
}

func fieldSQLType(i int, f SourceField) (string, error) {
	where := fmt.Sprintf("schema.fields[%d] (%s)", i, f.FieldName)
	if f.FieldType.SQLName != nil && *f.FieldType.SQLName != "" {
		n := strings.TrimSpace(*f.FieldType.SQLName)
		if !sqlTypeName.MatchString(n) {
			return "", badRequest("%s.fieldType.sqlName: %q is not a SQL type name", where, n)
		}
		return n, nil
	}
	if p, ok := f.FieldType.Type["primitive"].(string); ok {
		if t, ok := primitiveSQL[p]; ok {
			return t, nil
		}
		return "", badRequest("%s.fieldType.type.primitive: unknown type '%s'", where, p)
	}
	return "", badRequest("%s.fieldType: give sqlName (e.g. \"BIGINT\") or type.primitive (e.g. \"Int64\")", where)
}

// sourceFields describes a planned schema as ConnectionSchema fields.
func sourceFields(sc *types.Schema) []SourceField {
	if sc == nil {
		return nil
	}
	out := []SourceField{}
	for _, f := range sc.Fields {
		name := f.Type.String()
		out = append(out, SourceField{FieldName: f.Name, FieldType: FieldType{SQLName: &name}, Nullable: f.Nullable})
	}
	return out
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteLit(s string) string   { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// validationSource is the source a sink table is planned against.
const validationSource = "__arroyo_validation_source"

// planTableSQL plans the CREATE TABLE the table stands for, read by a bare
// SELECT (a source) or written from a stand-in source (a sink).
func planTableSQL(name string, c *connector.Connector, opts map[string]string, fields []SourceField, role string) (*program.Program, error) {
	if strings.ContainsAny(name, "\x00") {
		return nil, badRequest("name: must not contain NUL")
	}
	if strings.EqualFold(name, validationSource) {
		return nil, badRequest("name: '%s' is reserved", name)
	}
	var cols []string
	for i, f := range fields {
		if f.FieldName == "" {
			return nil, badRequest("schema.fields[%d].fieldName: must not be empty", i)
		}
		t, err := fieldSQLType(i, f)
		if err != nil {
			return nil, err
		}
		col := quoteIdent(f.FieldName) + " " + t
		if !f.Nullable {
			col += " NOT NULL"
		}
		cols = append(cols, col)
	}
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	with := []string{"connector = " + quoteLit(c.Name)}
	for _, k := range keys {
		with = append(with, quoteLit(k)+" = "+quoteLit(opts[k]))
	}
	var b strings.Builder
	b.WriteString("CREATE TABLE " + quoteIdent(name))
	if len(cols) > 0 {
		b.WriteString(" (" + strings.Join(cols, ", ") + ")")
	}
	b.WriteString(" WITH (" + strings.Join(with, ", ") + ");\n")
	planOpts := sqlplan.Options{Name: "validate", DefaultSink: "blackhole"}
	if role == "source" {
		b.WriteString("SELECT * FROM " + quoteIdent(name) + ";\n")
	} else {
		// A stand-in source with the sink's columns (or impulse's, when
		// the sink takes the query's), never run.
		if len(cols) > 0 {
			b.WriteString("CREATE TABLE " + validationSource + " (" + strings.Join(cols, ", ") +
				") WITH (connector = 'single_file', path = '/nonexistent/arroyo-validation-source.json', type = 'source', format = 'json');\n")
		} else {
			b.WriteString("CREATE TABLE " + validationSource + " WITH (connector = 'impulse', event_rate = '1');\n")
		}
		b.WriteString("INSERT INTO " + quoteIdent(name) + " SELECT * FROM " + validationSource + ";\n")
	}
	prog, err := sqlplan.Plan("", b.String(), planOpts)
	if err != nil {
		return nil, tableErr(err)
	}
	return prog, nil
}

// tableErr words a planning error of a generated statement for the
// person who sent the body: without positions in SQL they never wrote.
func tableErr(err error) error {
	var de *dialect.Error
	var oe *connector.OptionError
	switch {
	case errors.As(err, &oe):
		c, _ := connector.Lookup(oe.Owner)
		if secretName(c, oe.Option) && oe.Value != "" {
			return badRequest("config.%s: invalid value for secret option '%s' (not shown): %s", oe.Option, oe.Option, oe.Problem)
		}
		return badRequest("config.%s: %s", oe.Option, oe.Error())
	case errors.As(err, &de):
		return badRequest("%s", de.Msg)
	}
	return badRequest("%s", err.Error())
}

// testSchema checks a ConnectionSchema alone: its format exists, its
// options are valid and its fields are types SQL knows.
func (s *Server) testSchema(sc *ConnectionSchema) error {
	opts := map[string]string{}
	if err := schemaOptions(sc, opts); err != nil {
		return err
	}
	if _, ok := opts["format"]; !ok {
		return badRequest("schema.format: required (e.g. {\"json\": {}})")
	}
	opts["type"] = "source"
	opts["path"] = "/nonexistent/arroyo-schema-test.json"
	c, ok := connector.Lookup("single_file")
	if !ok {
		return errors.New("schema test needs the single_file connector linked in")
	}
	_, err := planTableSQL("schema_test", c, opts, sc.Fields, "source")
	return err
}

func (s *Server) autocomplete(ctx context.Context, id string) (*autocompleteOut, error) {
	p, err := s.opts.Store.GetConnectionProfile(ctx, id)
	if err != nil {
		return nil, s.storeErr(err)
	}
	c, ok := connector.Lookup(p.Connector)
	if !ok {
		return nil, badRequest("connection profile '%s' is for connector '%s', which this server does not have", p.Name, p.Connector)
	}
	tester, _ := connector.LookupTester(c.Name)
	if tester == nil || tester.Autocomplete == nil {
		return nil, badRequest("connector '%s' offers no autocompletion", c.Name)
	}
	var cfg map[string]string
	if err := json.Unmarshal(p.Config, &cfg); err != nil {
		return nil, s.storeErr(fmt.Errorf("stored profile %s: %w", p.ID, err))
	}
	profile, _ := splitOptions(c, tester)
	opts, err := connector.Validate(c.Name, profile, cfg)
	if err != nil {
		return nil, badRequest("connection profile '%s': %s", p.Name, err)
	}
	actx, cancel := context.WithTimeout(ctx, s.opts.StepTimeout)
	defer cancel()
	values, err := tester.Autocomplete(actx, opts)
	if err != nil {
		return nil, &Error{status: http.StatusBadGateway, Msg: fmt.Sprintf("autocomplete for connection profile '%s': %s", p.Name, err)}
	}
	if values == nil {
		values = map[string][]string{}
	}
	return &autocompleteOut{Body: ConnectionAutocompleteResp{Values: values}}, nil
}
