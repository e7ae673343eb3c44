package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	file := func(text string) string {
		p := filepath.Join(dir, "c.toml")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name    string
		file    string // TOML text; "" = no file
		env     []string
		want    int
		wantErr string
	}{
		{name: "default", want: DefaultMaxParallelism},
		{name: "file", file: "[pipeline]\nmax_parallelism = 64\n", want: 64},
		{name: "kebab-case", file: "[pipeline]\nmax-parallelism = 32\n", want: 32},
		{name: "env", env: []string{"ARROYO__PIPELINE__MAX_PARALLELISM=8"}, want: 8},
		{name: "env overrides file", file: "[pipeline]\nmax_parallelism = 64\n", env: []string{"ARROYO__PIPELINE__MAX_PARALLELISM=8"}, want: 8},
		{name: "other variables", env: []string{"PATH=/bin", "ARROYO__API__HTTP_PORT=8000", "ARROYO__A__B__C=1", "ARROYO=1"}, want: DefaultMaxParallelism},
		{name: "sections we lack are ignored", file: "[controller]\nrpc-port = 9190\n[pipeline]\nmax_parallelism = 2\n", want: 2},
		{name: "bad env value", env: []string{"ARROYO__PIPELINE__MAX_PARALLELISM=lots"},
			wantErr: "environment variable ARROYO__PIPELINE__MAX_PARALLELISM: pipeline.max_parallelism: expected an integer"},
		{name: "zero", env: []string{"ARROYO__PIPELINE__MAX_PARALLELISM=0"}, wantErr: "must be a positive integer, got 0"},
		{name: "typo in env", env: []string{"ARROYO__PIPELINE__MAX_PARALELLISM=8"},
			wantErr: "environment variable ARROYO__PIPELINE__MAX_PARALELLISM: unknown key 'pipeline.max_paralellism' (known keys: pipeline.allowed_restarts, pipeline.checkpoint_interval, pipeline.checkpoints_retained, pipeline.healthy_duration, pipeline.max_parallelism, pipeline.update_aggregate_flush_interval)"},
		{name: "typo in file", file: "[pipeline]\nmax_paralelism = 8\n", wantErr: "unknown key 'pipeline.max_paralelism'"},
		{name: "float in file", file: "[pipeline]\nmax_parallelism = 1.5\n", wantErr: "pipeline.max_parallelism: expected an integer, got float64"},
		{name: "not TOML", file: "[pipeline\n", wantErr: "config " + filepath.Join(dir, "c.toml") + ": toml:"},
		{name: "section as a value", file: "pipeline = 3\n", wantErr: "'pipeline' must be a section ([pipeline])"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = file(tc.file)
			}
			c, err := Load(path, tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Pipeline.MaxParallelism != tc.want {
				t.Fatalf("max_parallelism = %d, want %d", c.Pipeline.MaxParallelism, tc.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "none.toml"), nil); err == nil || !strings.Contains(err.Error(), "read config:") {
		t.Fatalf("Load = %v", err)
	}
}

// TestFlushInterval reads pipeline.update_aggregate_flush_interval from
// the environment and rejects what is not a positive duration.
func TestFlushInterval(t *testing.T) {
	c, err := Load("", []string{"ARROYO__PIPELINE__UPDATE_AGGREGATE_FLUSH_INTERVAL=250ms"})
	if err != nil || c.Pipeline.UpdateAggregateFlushInterval != 250*time.Millisecond {
		t.Fatalf("Load = %v, %v; want 250ms", c.Pipeline.UpdateAggregateFlushInterval, err)
	}
	if Default().Pipeline.UpdateAggregateFlushInterval != time.Second {
		t.Errorf("default is not 1s")
	}
	_, err = Load("", []string{"ARROYO__PIPELINE__UPDATE_AGGREGATE_FLUSH_INTERVAL=-1s"})
	if err == nil || !strings.Contains(err.Error(), "positive duration") {
		t.Errorf("negative interval: %v", err)
	}
}

func TestCheckpointKeys(t *testing.T) {
	c := Default()
	if c.CheckpointURL != DefaultCheckpointURL || c.Pipeline.CheckpointInterval != 10*time.Second || c.Pipeline.AllowedRestarts != 20 || c.Pipeline.CheckpointsRetained != 3 {
		t.Fatalf("defaults: %+v", c)
	}
	p := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(p, []byte("checkpoint-url = \"/data/cp\"\n[pipeline]\ncheckpoint-interval = \"2s\"\nallowed-restarts = 0\ncheckpoints_retained = 5\n"), 0o644)
	c, err := Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.CheckpointURL != "/data/cp" || c.Pipeline.CheckpointInterval != 2*time.Second || c.Pipeline.AllowedRestarts != 0 || c.Pipeline.CheckpointsRetained != 5 {
		t.Fatalf("from file: %+v", c)
	}
	c, err = Load(p, []string{"ARROYO__CHECKPOINT_URL=s3://b/p", "ARROYO__PIPELINE__CHECKPOINT_INTERVAL=500ms"})
	if err != nil {
		t.Fatal(err)
	}
	if c.CheckpointURL != "s3://b/p" || c.Pipeline.CheckpointInterval != 500*time.Millisecond {
		t.Fatalf("from env: %+v", c)
	}
	if _, err := Load("", []string{"ARROYO__PIPELINE__CHECKPOINT_INTERVAL=soon"}); err == nil || !strings.Contains(err.Error(), "pipeline.checkpoint_interval") {
		t.Errorf("bad interval: %v", err)
	}
	if _, err := Load("", []string{"ARROYO__PIPELINE__ALLOWED_RESTARTS=-1"}); err == nil {
		t.Errorf("negative restarts accepted")
	}
}

func TestConnectionProfiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.toml")
	file := "[connection_profiles.cloud]\nbootstrap_servers = \"pkc:9092\"\nkey = \"K\"\nsecret = \"{{SECRET}}\"\n" +
		"[connection_profiles.cloud.schema_registry]\nendpoint = \"https://sr\"\n"
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, []string{"ARROYO__CONNECTION_PROFILES__CLOUD__KEY=K2", "ARROYO__CONNECTION_PROFILES__OTHER__BOOTSTRAP_SERVERS=b:1"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"cloud": {"bootstrap_servers": "pkc:9092", "key": "K2", "secret": "{{SECRET}}", "schema_registry.endpoint": "https://sr"},
		"other": {"bootstrap_servers": "b:1"},
	}
	if !reflect.DeepEqual(c.ConnectionProfiles, want) {
		t.Errorf("profiles = %v, want %v", c.ConnectionProfiles, want)
	}
	if err := os.WriteFile(path, []byte("[connection_profiles.x]\nport = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, nil); err == nil || !strings.Contains(err.Error(), "connection_profiles.x.port: expected a string, got int64") {
		t.Errorf("non-string value: %v", err)
	}
}

func TestUDFKeys(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/c.toml"
	if err := os.WriteFile(path, []byte("[run]\nudfs = [\"a.wasm\", \"b.wasm\"]\n[udf]\ncache_dir = \"/tmp/c\"\nmemory_limit = \"16MiB\"\ncall_timeout = \"2s\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Run.UDFs) != 2 || c.Run.UDFs[1] != "b.wasm" || c.UDF.CacheDir != "/tmp/c" || c.UDF.MemoryLimit != 16<<20 || c.UDF.CallTimeout != 2*time.Second {
		t.Fatalf("loaded %+v %+v", c.Run, c.UDF)
	}
	c, err = Load("", []string{"ARROYO__RUN__UDFS=x.wasm, y.wasm", "ARROYO__UDF__MEMORY_LIMIT=1MiB"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Run.UDFs) != 2 || c.Run.UDFs[0] != "x.wasm" || c.UDF.MemoryLimit != 1<<20 {
		t.Fatalf("from the environment: %+v %+v", c.Run, c.UDF)
	}
	if c, err := Load("", []string{"ARROYO__UDF__CALL_TIMEOUT=off"}); err != nil || c.UDF.CallTimeout != -1 {
		t.Fatalf("call_timeout off: %v %v", c.UDF.CallTimeout, err)
	}
	if d := Default(); d.UDF.MemoryLimit != 64<<20 || d.UDF.CallTimeout != 10*time.Second {
		t.Fatalf("defaults %+v", d.UDF)
	}
	for _, env := range []string{"ARROYO__UDF__MEMORY_LIMIT=50%", "ARROYO__UDF__MEMORY_LIMIT=1KiB", "ARROYO__UDF__CALL_TIMEOUT=soon"} {
		if _, err := Load("", []string{env}); err == nil {
			t.Errorf("%s: no error", env)
		}
	}
}
