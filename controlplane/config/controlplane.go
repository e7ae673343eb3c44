package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// The control plane's sections: the REST API, the admin endpoint, the
// metadata database and logging, with Arroyo's names
// (ARROYO__API__HTTP_PORT, ARROYO__DATABASE__TYPE,
// ARROYO__DATABASE__POSTGRES__HOST, ...).

// API is the [api] section.
type API struct {
	// HTTPPort (api.http_port) is the REST API's port; 0 picks a free one.
	HTTPPort int
	// RunHTTPPort (api.run_http_port) is the port of `arroyo run`'s
	// embedded API (default 0: a free one).
	RunHTTPPort int
	// BindAddress (api.bind_address) is the address it listens on:
	// loopback unless configured.
	BindAddress string
	// AuthMode (api.auth_mode) is "none" or "static": every route but
	// /api/v1/ping then needs "Authorization: Bearer <AuthToken>".
	AuthMode string
	// AuthToken (api.auth_token) is the static key.
	AuthToken string
}

// Admin is the [admin] section: Prometheus metrics and pprof.
type Admin struct {
	// HTTPPort (admin.http_port); 0 picks a free one, -1 disables it.
	HTTPPort    int
	BindAddress string
}

// Database is the [database] section: the metadata store.
type Database struct {
	// Type (database.type) is "sqlite" or "postgres".
	Type string
	// SQLitePath (database.sqlite.path); "" is the default file in the
	// user's configuration directory.
	SQLitePath string
	Postgres   Postgres
}

// Postgres is the [database.postgres] section.
type Postgres struct {
	Host         string
	Port         int
	User         string
	Password     string
	DatabaseName string
	// SSLMode (database.postgres.sslmode) is libpq's sslmode.
	SSLMode string
}

// Logging is the [logging] section.
type Logging struct {
	// Format (logging.format) is "text" or "json" (Arroyo's "plaintext"
	// and "logfmt" are text).
	Format string
	// Level (logging.level) is debug, info, warn or error.
	Level string
}

// Control-plane defaults.
const (
	DefaultAPIPort   = 5115
	DefaultAdminPort = 5114
	DefaultBind      = "127.0.0.1"
)

func controlPlaneDefaults(c *Config) {
	c.API = API{HTTPPort: DefaultAPIPort, BindAddress: DefaultBind, AuthMode: "none"}
	c.Admin = Admin{HTTPPort: DefaultAdminPort, BindAddress: DefaultBind}
	c.Database = Database{Type: "sqlite", Postgres: Postgres{Host: "localhost", Port: 5432, User: "arroyo", DatabaseName: "arroyo", SSLMode: "prefer"}}
	c.Logging = Logging{Format: "text", Level: "info"}
}

func init() {
	str := func(f func(c *Config) *string) key {
		return key{set: func(c *Config, v any) error {
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("expected a string, got %T", v)
			}
			*f(c) = s
			return nil
		}}
	}
	enum := func(f func(c *Config) *string, allowed ...string) key {
		return key{set: func(c *Config, v any) error {
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("expected one of %s, got %T", strings.Join(allowed, ", "), v)
			}
			for _, a := range allowed {
				if s == a {
					*f(c) = s
					return nil
				}
			}
			return fmt.Errorf("allowed values are %s, not %q", strings.Join(allowed, ", "), s)
		}}
	}
	port := func(f func(c *Config) *int, min int) key {
		return key{set: func(c *Config, v any) error {
			var n int64
			switch v := v.(type) {
			case int64:
				n = v
			case string:
				var err error
				if n, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
					return fmt.Errorf("expected a port number, got %q", v)
				}
			default:
				return fmt.Errorf("expected a port number, got %T", v)
			}
			if n < int64(min) || n > 65535 {
				return fmt.Errorf("expected a port from %d to 65535, got %d", min, n)
			}
			*f(c) = int(n)
			return nil
		}}
	}
	for k, v := range map[string]key{
		"api.http_port":                   port(func(c *Config) *int { return &c.API.HTTPPort }, 0),
		"api.run_http_port":               port(func(c *Config) *int { return &c.API.RunHTTPPort }, 0),
		"api.bind_address":                str(func(c *Config) *string { return &c.API.BindAddress }),
		"api.auth_mode":                   enum(func(c *Config) *string { return &c.API.AuthMode }, "none", "static"),
		"api.auth_token":                  str(func(c *Config) *string { return &c.API.AuthToken }),
		"admin.http_port":                 port(func(c *Config) *int { return &c.Admin.HTTPPort }, -1),
		"admin.bind_address":              str(func(c *Config) *string { return &c.Admin.BindAddress }),
		"database.type":                   enum(func(c *Config) *string { return &c.Database.Type }, "sqlite", "postgres"),
		"database.sqlite.path":            str(func(c *Config) *string { return &c.Database.SQLitePath }),
		"database.postgres.host":          str(func(c *Config) *string { return &c.Database.Postgres.Host }),
		"database.postgres.port":          port(func(c *Config) *int { return &c.Database.Postgres.Port }, 1),
		"database.postgres.user":          str(func(c *Config) *string { return &c.Database.Postgres.User }),
		"database.postgres.password":      str(func(c *Config) *string { return &c.Database.Postgres.Password }),
		"database.postgres.database_name": str(func(c *Config) *string { return &c.Database.Postgres.DatabaseName }),
		"database.postgres.sslmode":       enum(func(c *Config) *string { return &c.Database.Postgres.SSLMode }, "disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
		"logging.format":                  enum(func(c *Config) *string { return &c.Logging.Format }, "text", "json", "plaintext", "logfmt"),
		"logging.level":                   enum(func(c *Config) *string { return &c.Logging.Level }, "debug", "info", "warn", "error"),
	} {
		keys[k] = v
	}
}

// ValidateControlPlane checks what single keys cannot: a static auth mode needs its
// token.
func (c *Config) ValidateControlPlane() error {
	if c.API.AuthMode == "static" && c.API.AuthToken == "" {
		return fmt.Errorf("api.auth_mode = \"static\" needs api.auth_token (or ARROYO__API__AUTH_TOKEN)")
	}
	return nil
}

// subsectionKnown reports whether some key lies under the subsection of
// the deeper key k ("database.postgres" for database.postgres.hots).
func subsectionKnown(k string) bool {
	sub := k[:strings.LastIndexByte(k, '.')+1]
	for name := range keys {
		if strings.HasPrefix(name, sub) {
			return true
		}
	}
	return false
}

type keyValue struct {
	key   string
	value any
}

// flattenTable lists a TOML table's values with dotted keys
// ([database.postgres] host = ... is postgres.host of database), sorted so
// the first error is the same on every run.
func flattenTable(prefix string, t map[string]any) []keyValue {
	var out []keyValue
	for k, v := range t {
		if sub, ok := v.(map[string]any); ok {
			out = append(out, flattenTable(prefix+k+".", sub)...)
			continue
		}
		out = append(out, keyValue{prefix + k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}
