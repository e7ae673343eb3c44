// Package config is the control plane's configuration: a TOML file plus
// environment overrides, Arroyo's convention. A key section.key is set
// in the file as
//
//	[section]
//	key = value
//
// and overridden by the environment variable ARROYO__SECTION__KEY. Keys
// may be written with '_' or '-' (Arroyo's files use kebab-case).
//
// Unknown keys in a known section are errors, so that a typo does not pass
// silently; sections this implementation does not have yet are ignored, so
// that a configuration written for Arroyo still loads.
//
// It must not import engine/runtime, connectors, udf or cmd.
package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// DefaultMaxParallelism is pipeline.max_parallelism unless configured.
// Every subtask has its goroutines, channels and buffers: a million of them
// took 21 s and 3.8 GB before the first row.
const DefaultMaxParallelism = 1024

// EnvPrefix starts every environment override.
const EnvPrefix = "ARROYO__"

// Config is the configuration. Its zero value is not valid: start from
// Default.
type Config struct {
	Pipeline Pipeline
}

// Pipeline is the [pipeline] section.
type Pipeline struct {
	// MaxParallelism (pipeline.max_parallelism) is the most subtasks per
	// operator a pipeline may ask for.
	MaxParallelism int
}

// Default returns the built-in configuration.
func Default() Config {
	return Config{Pipeline: Pipeline{MaxParallelism: DefaultMaxParallelism}}
}

// key is one settable key: set parses a value given as text (from the
// environment) or as a TOML value.
type key struct {
	set func(c *Config, v any) error
}

var keys = map[string]key{
	"pipeline.max_parallelism": {set: func(c *Config, v any) error {
		n, err := positiveInt(v)
		c.Pipeline.MaxParallelism = n
		return err
	}},
}

func positiveInt(v any) (int, error) {
	var n int64
	switch v := v.(type) {
	case int64:
		n = v
	case string:
		var err error
		if n, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			return 0, errors.New("expected an integer")
		}
	default:
		return 0, fmt.Errorf("expected an integer, got %T", v)
	}
	if n < 1 || int64(int(n)) != n {
		return 0, fmt.Errorf("must be a positive integer, got %d", n)
	}
	return int(n), nil
}

// sections are the sections that have keys.
func sections() map[string]bool {
	s := map[string]bool{}
	for k := range keys {
		s[k[:strings.IndexByte(k, '.')]] = true
	}
	return s
}

func knownKeys(section string) string {
	var ks []string
	for k := range keys {
		if strings.HasPrefix(k, section+".") {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// normalize lower-cases a key and spells '-' as '_'.
func normalize(k string) string { return strings.ReplaceAll(strings.ToLower(k), "-", "_") }

// set applies one value given at where (for error messages).
func (c *Config) set(section, name string, v any, where string) error {
	section, name = normalize(section), normalize(name)
	if !sections()[section] {
		return nil
	}
	k, ok := keys[section+"."+name]
	if !ok {
		return fmt.Errorf("%s: unknown key '%s.%s' (known keys: %s)", where, section, name, knownKeys(section))
	}
	if err := k.set(c, v); err != nil {
		return fmt.Errorf("%s: %s.%s: %w", where, section, name, err)
	}
	return nil
}

// Load returns the default configuration, overridden by the TOML file at
// path (if path is not empty), then by the ARROYO__SECTION__KEY variables
// in environ (os.Environ() form).
func Load(path string, environ []string) (Config, error) {
	c := Default()
	if path != "" {
		if err := c.loadFile(path); err != nil {
			return c, err
		}
	}
	for _, kv := range environ {
		name, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		parts := strings.Split(name[len(EnvPrefix):], "__")
		if len(parts) != 2 {
			continue // deeper keys belong to sections we do not have
		}
		if err := c.set(parts[0], parts[1], v, "environment variable "+name); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (c *Config) loadFile(path string) error {
	text, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	var doc map[string]any
	if _, err := toml.Decode(string(text), &doc); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	names := make([]string, 0, len(doc))
	for s := range doc {
		names = append(names, s)
	}
	sort.Strings(names) // the first error is the same on every run
	for _, s := range names {
		table, ok := doc[s].(map[string]any)
		if !ok {
			if sections()[normalize(s)] {
				return fmt.Errorf("config %s: '%s' must be a section ([%s])", path, s, s)
			}
			continue
		}
		keys := make([]string, 0, len(table))
		for k := range table {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := c.set(s, k, table[k], "config "+path); err != nil {
				return err
			}
		}
	}
	return nil
}
