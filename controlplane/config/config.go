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
// It must not import engine/dataflow, connectors, udf or cmd.
package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

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
	// CheckpointURL (checkpoint_url, top level as in Arroyo) is where
	// `arroyo run` creates a state directory when none is given.
	CheckpointURL string
	Pipeline      Pipeline
	Worker        Worker
	// The control plane's sections (controlplane.go).
	API      API
	Admin    Admin
	Database Database
	Logging  Logging
	// ConnectionProfiles are the [connection_profiles.NAME] tables: a
	// connection's settings by profile name (the confluent connector's
	// bootstrap_servers, key, secret, schema_registry.*), also settable as
	// ARROYO__CONNECTION_PROFILES__NAME__KEY. Values may be {{ENV_VAR}}
	// templates, expanded when a pipeline connects.
	ConnectionProfiles map[string]map[string]string
	Run                Run
	UDF                UDF
}

// Run is the [run] section: defaults of `arroyo run`.
type Run struct {
	// UDFs (run.udfs) are WebAssembly UDF modules every `arroyo run` loads,
	// before those of its --udf flags. In the environment
	// (ARROYO__RUN__UDFS) the paths are separated by commas.
	UDFs []string
}

// UDF is the [udf] section: the WebAssembly UDF host's sandbox.
type UDF struct {
	// CacheDir (udf.cache_dir) holds compiled modules so that the next
	// start does not compile them again ("": the user cache directory's
	// arroyo/wasm; "off": no cache).
	CacheDir string
	// MemoryLimit (udf.memory_limit) is the most memory one UDF instance
	// may grow to, in bytes.
	MemoryLimit int64
	// CallTimeout (udf.call_timeout) bounds one call into a UDF (one
	// batch); -1 ("off") sets no limit, which makes UDFs several times
	// faster (docs/udfs.md, "Limits") but lets a UDF that never returns
	// hang its pipeline.
	CallTimeout time.Duration
}

// The UDF host's defaults (those of udf/wasm, which this package must not
// import).
const (
	DefaultUDFMemoryLimit = 64 << 20
	DefaultUDFCallTimeout = 10 * time.Second
)

// DefaultCheckpointURL is Arroyo's default checkpoint_url.
const DefaultCheckpointURL = "/tmp/arroyo/checkpoints"

// Pipeline is the [pipeline] section.
type Pipeline struct {
	// MaxParallelism (pipeline.max_parallelism) is the most subtasks per
	// operator a pipeline may ask for.
	MaxParallelism int
	// UpdateAggregateFlushInterval
	// (pipeline.update_aggregate_flush_interval) is how long an updating
	// aggregate may hold back a change, coalescing changes to one key.
	UpdateAggregateFlushInterval time.Duration
	// CheckpointInterval (pipeline.checkpoint_interval) is how often a
	// running pipeline takes a checkpoint.
	CheckpointInterval time.Duration
	// CheckpointsRetained (pipeline.checkpoints_retained) is how many
	// complete checkpoints a job keeps; older ones are deleted.
	CheckpointsRetained int
	// AllowedRestarts (pipeline.allowed_restarts) is how many times a
	// failing job is restarted from its last checkpoint before it is
	// Failed; the count resets once it has run for HealthyDuration
	// (pipeline.healthy_duration) without failing.
	AllowedRestarts int
	HealthyDuration time.Duration
}

// Arroyo's defaults.
const (
	DefaultCheckpointInterval  = 10 * time.Second
	DefaultCheckpointsRetained = 3
	DefaultAllowedRestarts     = 20
	DefaultHealthyDuration     = 2 * time.Minute
)

// DefaultUpdateAggregateFlushInterval is Arroyo's.
const DefaultUpdateAggregateFlushInterval = time.Second

// Worker is the [worker] section: how a worker process runs.
type Worker struct {
	// MemoryLimit (worker.memory_limit) is the soft limit of the Go heap
	// (debug.SetMemoryLimit): the collector runs as often as it must to
	// stay under it, however large GCPercent lets the heap grow otherwise.
	MemoryLimit Size
	// GCPercent (worker.gc_percent) is the collector's target heap growth
	// (debug.SetGCPercent); -1 ("off") leaves collection to the memory
	// limit alone.
	GCPercent int
}

// DefaultMemoryLimit is worker.memory_limit unless configured: three
// quarters of the machine's (or the cgroup's) memory leaves room for what
// the Go heap does not count (stacks, the runtime, the page cache).
var DefaultMemoryLimit = Size{Percent: 75}

// DefaultGCPercent is worker.gc_percent unless configured. Batches die
// young and the live heap is small, so Go's 100 collects hundreds of times
// a second: on Nexmark q1 at two cores 400 is 1.27x faster than 200 and
// 1.66x faster than 100. The memory limit, not GOGC, bounds the heap when
// the live state is large (docs/RATIONALE.md).
const DefaultGCPercent = 400

// Default returns the built-in configuration.
func Default() Config {
	c := Config{
		CheckpointURL: DefaultCheckpointURL,
		Pipeline: Pipeline{
			MaxParallelism: DefaultMaxParallelism, UpdateAggregateFlushInterval: DefaultUpdateAggregateFlushInterval,
			CheckpointInterval: DefaultCheckpointInterval, CheckpointsRetained: DefaultCheckpointsRetained,
			AllowedRestarts: DefaultAllowedRestarts, HealthyDuration: DefaultHealthyDuration,
		},
		Worker: Worker{MemoryLimit: DefaultMemoryLimit, GCPercent: DefaultGCPercent},
		UDF:    UDF{MemoryLimit: DefaultUDFMemoryLimit, CallTimeout: DefaultUDFCallTimeout},
	}
	controlPlaneDefaults(&c)
	return c
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
	"pipeline.update_aggregate_flush_interval": {set: func(c *Config, v any) error {
		return setDuration(&c.Pipeline.UpdateAggregateFlushInterval, v)
	}},
	"pipeline.checkpoint_interval": {set: func(c *Config, v any) error {
		return setDuration(&c.Pipeline.CheckpointInterval, v)
	}},
	"pipeline.healthy_duration": {set: func(c *Config, v any) error {
		return setDuration(&c.Pipeline.HealthyDuration, v)
	}},
	"pipeline.checkpoints_retained": {set: func(c *Config, v any) error {
		n, err := positiveInt(v)
		c.Pipeline.CheckpointsRetained = n
		return err
	}},
	"pipeline.allowed_restarts": {set: func(c *Config, v any) error {
		if n, ok := v.(int64); ok && n == 0 {
			c.Pipeline.AllowedRestarts = 0
			return nil
		}
		if s, ok := v.(string); ok && strings.TrimSpace(s) == "0" {
			c.Pipeline.AllowedRestarts = 0
			return nil
		}
		n, err := positiveInt(v)
		if err != nil {
			return fmt.Errorf("%w (or 0)", err)
		}
		c.Pipeline.AllowedRestarts = n
		return nil
	}},
	"worker.memory_limit": {set: func(c *Config, v any) error {
		text, ok := v.(string)
		if !ok {
			return fmt.Errorf("expected a size such as \"4GiB\", \"512MiB\" or \"75%%\", got %T", v)
		}
		sz, err := ParseSize(text)
		c.Worker.MemoryLimit = sz
		return err
	}},
	"worker.gc_percent": {set: func(c *Config, v any) error {
		if s, ok := v.(string); ok && strings.EqualFold(strings.TrimSpace(s), "off") {
			c.Worker.GCPercent = -1
			return nil
		}
		n, err := positiveInt(v)
		if err != nil {
			return fmt.Errorf("%w (or \"off\")", err)
		}
		c.Worker.GCPercent = n
		return nil
	}},
	"run.udfs": {set: func(c *Config, v any) error {
		var paths []string
		switch v := v.(type) {
		case string:
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					paths = append(paths, p)
				}
			}
		case []any:
			for _, p := range v {
				text, ok := p.(string)
				if !ok || strings.TrimSpace(text) == "" {
					return fmt.Errorf("expected a list of .wasm paths such as [\"udfs.wasm\"], got an element %v", p)
				}
				paths = append(paths, strings.TrimSpace(text))
			}
		default:
			return fmt.Errorf("expected a list of .wasm paths such as [\"udfs.wasm\"], got %T", v)
		}
		c.Run.UDFs = paths
		return nil
	}},
	"udf.cache_dir": {set: func(c *Config, v any) error {
		text, ok := v.(string)
		if !ok {
			return fmt.Errorf("expected a directory (or \"off\"), got %T", v)
		}
		c.UDF.CacheDir = strings.TrimSpace(text)
		return nil
	}},
	"udf.memory_limit": {set: func(c *Config, v any) error {
		text, ok := v.(string)
		if !ok {
			return fmt.Errorf("expected a size such as \"64MiB\", got %T", v)
		}
		sz, err := ParseSize(text)
		if err == nil && (sz.Percent != 0 || sz.Bytes < 64<<10 || sz.Bytes > 4<<30) {
			err = fmt.Errorf("expected a size between 64KiB and 4GiB such as \"64MiB\", got %q", text)
		}
		c.UDF.MemoryLimit = sz.Bytes
		return err
	}},
	"udf.call_timeout": {set: func(c *Config, v any) error {
		if s, ok := v.(string); ok && strings.EqualFold(strings.TrimSpace(s), "off") {
			c.UDF.CallTimeout = -1
			return nil
		}
		if err := setDuration(&c.UDF.CallTimeout, v); err != nil {
			return fmt.Errorf("%w (or \"off\")", err)
		}
		return nil
	}},
}

// topLevel are the keys outside any section (Arroyo's checkpoint-url).
var topLevel = map[string]key{
	"checkpoint_url": {set: func(c *Config, v any) error {
		text, ok := v.(string)
		if !ok || strings.TrimSpace(text) == "" {
			return fmt.Errorf("expected a directory or URL such as \"/tmp/arroyo/checkpoints\" or \"s3://bucket/prefix\"")
		}
		c.CheckpointURL = strings.TrimSpace(text)
		return nil
	}},
}

func setDuration(dst *time.Duration, v any) error {
	text, ok := v.(string)
	if !ok {
		return fmt.Errorf("expected a duration such as \"1s\" or \"500ms\", got %T", v)
	}
	d, err := time.ParseDuration(strings.TrimSpace(text))
	if err != nil || d <= 0 {
		return fmt.Errorf("expected a positive duration such as \"1s\" or \"500ms\", got %q", text)
	}
	*dst = d
	return nil
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
	if !ok && strings.Contains(name, ".") && !subsectionKnown(section+"."+name) {
		return nil // a deeper key of a subsection we do not have
	}
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
		if len(parts) == 1 {
			if k, ok := topLevel[normalize(parts[0])]; ok {
				if err := k.set(&c, v); err != nil {
					return c, fmt.Errorf("environment variable %s: %w", name, err)
				}
			}
			continue
		}
		if len(parts) == 3 && normalize(parts[0]) == profilesSection {
			c.setProfile(strings.ToLower(parts[1]), strings.ToLower(parts[2]), v)
			continue
		}
		// ARROYO__DATABASE__POSTGRES__HOST is database.postgres.host.
		if err := c.set(parts[0], strings.Join(parts[1:], "."), v, "environment variable "+name); err != nil {
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
		if normalize(s) == profilesSection {
			if err := c.loadProfiles(path, doc[s]); err != nil {
				return err
			}
			continue
		}
		table, ok := doc[s].(map[string]any)
		if k, top := topLevel[normalize(s)]; top && !ok {
			if err := k.set(c, doc[s]); err != nil {
				return fmt.Errorf("config %s: %s: %w", path, s, err)
			}
			continue
		}
		if !ok {
			if sections()[normalize(s)] {
				return fmt.Errorf("config %s: '%s' must be a section ([%s])", path, s, s)
			}
			continue
		}
		for _, kv := range flattenTable("", table) {
			if err := c.set(s, kv.key, kv.value, "config "+path); err != nil {
				return err
			}
		}
	}
	return nil
}

// profilesSection holds connection profiles, one table per profile.
const profilesSection = "connection_profiles"

func (c *Config) setProfile(name, key, v string) {
	if c.ConnectionProfiles == nil {
		c.ConnectionProfiles = map[string]map[string]string{}
	}
	if c.ConnectionProfiles[name] == nil {
		c.ConnectionProfiles[name] = map[string]string{}
	}
	c.ConnectionProfiles[name][key] = v
}

// loadProfiles reads [connection_profiles.NAME] tables of string values
// (which keys a profile may hold is the connector's to check).
func (c *Config) loadProfiles(path string, v any) error {
	profiles, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("config %s: '%s' must hold tables ([%s.NAME])", path, profilesSection, profilesSection)
	}
	for name, p := range profiles {
		table, ok := p.(map[string]any)
		if !ok {
			return fmt.Errorf("config %s: %s.%s must be a table ([%s.%s])", path, profilesSection, name, profilesSection, name)
		}
		for k, val := range flattenProfile("", table) {
			text, ok := val.(string)
			if !ok {
				return fmt.Errorf("config %s: %s.%s.%s: expected a string, got %T", path, profilesSection, name, k, val)
			}
			c.setProfile(name, k, text)
		}
	}
	return nil
}

// flattenProfile turns nested tables ([connection_profiles.x.schema_registry])
// into dotted keys (schema_registry.endpoint).
func flattenProfile(prefix string, t map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range t {
		if sub, ok := v.(map[string]any); ok {
			for sk, sv := range flattenProfile(prefix+k+".", sub) {
				out[sk] = sv
			}
			continue
		}
		out[prefix+k] = v
	}
	return out
}
