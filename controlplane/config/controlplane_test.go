package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestControlPlaneKeys(t *testing.T) {
	c := Default()
	if c.API.HTTPPort != 5115 || c.API.BindAddress != "127.0.0.1" || c.Admin.HTTPPort != 5114 || c.Database.Type != "sqlite" || c.API.AuthMode != "none" {
		t.Errorf("defaults: %+v %+v %+v", c.API, c.Admin, c.Database)
	}
	path := filepath.Join(t.TempDir(), "c.toml")
	text := `[api]
http-port = 8000
auth-mode = "static"
auth-token = "file-token"
[api.auth-mode-options]
ignored = true
[database]
type = "postgres"
[database.postgres]
host = "db.internal"
database-name = "meta"
[logging]
format = "json"
`
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, []string{"ARROYO__DATABASE__POSTGRES__PORT=6543", "ARROYO__API__AUTH_TOKEN=env-token", "ARROYO__DATABASE__SQLITE__PATH=/x/y.sqlite", "ARROYO__API__RUN_HTTP_PORT=0"})
	if err != nil {
		t.Fatal(err)
	}
	pg := c.Database.Postgres
	if c.API.HTTPPort != 8000 || c.API.AuthMode != "static" || c.API.AuthToken != "env-token" || c.Database.Type != "postgres" ||
		pg.Host != "db.internal" || pg.Port != 6543 || pg.DatabaseName != "meta" || pg.User != "arroyo" || c.Database.SQLitePath != "/x/y.sqlite" || c.Logging.Format != "json" {
		t.Errorf("loaded: %+v %+v %+v", c.API, c.Database, c.Logging)
	}
	if err := c.ValidateControlPlane(); err != nil {
		t.Error(err)
	}
	for _, tc := range []struct{ env, want string }{
		{"ARROYO__API__HTTP_PORT=70000", "api.http_port: expected a port from 0 to 65535"},
		{"ARROYO__DATABASE__TYPE=mysql", "database.type: allowed values are sqlite, postgres"},
		{"ARROYO__DATABASE__POSTGRES__HOTS=x", "unknown key 'database.postgres.hots'"},
		{"ARROYO__API__AUTH_MODE=oauth", "allowed values are none, static"},
	} {
		if _, err := Load("", []string{tc.env}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.env, err, tc.want)
		}
	}
	c, _ = Load("", []string{"ARROYO__API__AUTH_MODE=static"})
	if err := c.ValidateControlPlane(); err == nil || !strings.Contains(err.Error(), "api.auth_token") {
		t.Errorf("static without a token: %v", err)
	}
}
