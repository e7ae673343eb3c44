package dialect

import (
	"fmt"
	"strings"
	"testing"
)

// describeCT renders a CreateTable compactly for comparisons.
func describeCT(ct *CreateTable) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s@%v", ct.Name, ct.NamePos)
	if ct.IfNotExists {
		b.WriteString(" ifnotexists")
	}
	if ct.HasColumns {
		b.WriteString(" cols(")
		for i, c := range ct.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s@%v %s@%v", c.Name, c.Pos, c.Type.String(), c.Type.Pos)
			if c.NotNull {
				b.WriteString(" notnull")
			}
			if c.Generated != nil {
				fmt.Fprintf(&b, " gen[%s]@%v", ct.Stmt.TextOf(c.Generated), ct.Stmt.PosOf(c.Generated))
			}
		}
		b.WriteString(")")
	}
	if w := ct.Watermark; w != nil {
		fmt.Fprintf(&b, " wm(%s@%v", w.Column, w.Pos)
		if w.Expr != nil {
			fmt.Fprintf(&b, " [%s]@%v", ct.Stmt.TextOf(w.Expr), ct.Stmt.PosOf(w.Expr))
		}
		b.WriteString(")")
	}
	if ct.PrimaryKey != nil {
		fmt.Fprintf(&b, " pk%v@%v", ct.PrimaryKey, ct.PrimaryPos)
	}
	if ct.HasWith {
		b.WriteString(" with(")
		for i, o := range ct.Options {
			if i > 0 {
				b.WriteString(", ")
			}
			q := ""
			if o.Quoted {
				q = "'"
			}
			fmt.Fprintf(&b, "%s@%v=%s%s%s@%v", o.Key, o.KeyPos, q, o.Value, q, o.ValuePos)
		}
		b.WriteString(")")
	}
	return b.String()
}

func TestCreateTable(t *testing.T) {
	tests := []struct{ sql, want string }{
		{"CREATE TABLE nexmark WITH (connector = 'nexmark', event_rate = '10')",
			"nexmark@1:14 with(connector@1:28='nexmark'@1:40, event_rate@1:51='10'@1:64)"},
		{"create table t (a BIGINT, b TEXT)",
			"t@1:14 cols(a@1:17 BIGINT@1:19, b@1:27 TEXT@1:29)"},
		{"CREATE TABLE IF NOT EXISTS t (a INT NOT NULL) WITH ('connector' = 'kafka', source.offset = 'latest', \"x.y\" = 1, n = -2.5, b = TRUE)",
			"t@1:28 ifnotexists cols(a@1:31 INT@1:33 notnull) with(connector@1:53='kafka'@1:67, source.offset@1:76='latest'@1:92, x.y@1:102=1@1:110, n@1:113=-2.5@1:117, b@1:123=true@1:127)"},
		{"CREATE TABLE t (ts TIMESTAMP, WATERMARK FOR ts) WITH (connector = 'x')",
			"t@1:14 cols(ts@1:17 TIMESTAMP@1:20) wm(ts@1:45) with(connector@1:55='x'@1:67)"},
		{"CREATE TABLE t (\n  ts TIMESTAMP NOT NULL,\n  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND\n) WITH (connector = 'x')",
			"t@1:14 cols(ts@2:3 TIMESTAMP@2:6 notnull) wm(ts@3:17 [ts - INTERVAL '5' SECOND]@3:23) with(connector@4:9='x'@4:21)"},
		{"CREATE TABLE t (WATERMARK FOR ts AS ts - INTERVAL '5' SECOND, ts TIMESTAMP)",
			"t@1:14 cols(ts@1:63 TIMESTAMP@1:66) wm(ts@1:31 [ts - INTERVAL '5' SECOND]@1:37)"},
		{"CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS (a::bigint * 2) STORED, PRIMARY KEY (a, b))",
			"t@1:14 cols(a@1:17 INT@1:19, b@1:24 INT@1:26 gen[a::bigint * 2]@1:51) pk[a b]@[1:87 1:90]"},
		{"CREATE TABLE t (id BIGINT PRIMARY KEY, \"Key\" TEXT NULL, val TEXT, window STRUCT<start TIMESTAMP, \"end\" TIMESTAMP NOT NULL>, tags TEXT[])",
			"t@1:14 cols(id@1:17 BIGINT@1:20, Key@1:40 TEXT@1:46, val@1:57 TEXT@1:61, window@1:67 STRUCT<start TIMESTAMP, end TIMESTAMP NOT NULL>@1:74, tags@1:125 TEXT[]@1:130) pk[id]@[1:17]"},
		{"CREATE TABLE \"my table\" () WITH ()", "my table@1:14 cols() with()"},
		{"CREATE TABLE t (a DOUBLE PRECISION, b INTEGER UNSIGNED, c CHARACTER VARYING, d numeric(10, 2), e bool, f bytea, g json, h string, i float8)",
			"t@1:14 cols(a@1:17 DOUBLE@1:19, b@1:37 INT UNSIGNED@1:39, c@1:57 VARCHAR@1:59, d@1:78 DECIMAL(10, 2)@1:80, e@1:96 BOOLEAN@1:98, f@1:104 BYTEA@1:106, g@1:113 JSON@1:115, h@1:121 TEXT@1:123, i@1:131 DOUBLE@1:133)"},
		{"CREATE TABLE t WITH (connector = 'x',)", "t@1:14 with(connector@1:22='x'@1:34)"},
	}
	for _, tt := range tests {
		s := parseOne(t, tt.sql)
		if s.CreateTable == nil || s.Node != nil {
			t.Errorf("%s: not parsed as CREATE TABLE", tt.sql)
			continue
		}
		if got := describeCT(s.CreateTable); got != tt.want {
			t.Errorf("%s\n got %s\nwant %s", tt.sql, got, tt.want)
		}
		if s.CreateTable.Stmt != s {
			t.Errorf("%s: Stmt not set", tt.sql)
		}
	}
}

func TestCreateTableOption(t *testing.T) {
	ct := parseOne(t, "CREATE TABLE t WITH (Connector = 'kafka', 'topic' = 'x')").CreateTable
	if o := ct.Option("connector"); o == nil || o.Value != "kafka" {
		t.Errorf("Option(connector) = %+v", o)
	}
	ct = parseOne(t, `CREATE TABLE t WITH (a = E'x\ty', b = $$it's$$)`).CreateTable
	if a, b := ct.Option("a"), ct.Option("b"); a.Value != "x\ty" || b.Value != "it's" || !a.Quoted || !b.Quoted {
		t.Errorf("options %+v %+v", a, b)
	}
	if o := ct.Option("format"); o != nil {
		t.Errorf("Option(format) = %+v, want nil", o)
	}
}
