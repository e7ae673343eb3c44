package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Size
		wantErr string
	}{
		{in: "4GiB", want: Size{Bytes: 4 << 30}},
		{in: "512MiB", want: Size{Bytes: 512 << 20}},
		{in: "512mib", want: Size{Bytes: 512 << 20}},
		{in: " 2 G ", want: Size{Bytes: 2 << 30}},
		{in: "1.5GiB", want: Size{Bytes: 3 << 29}},
		{in: "2GB", want: Size{Bytes: 2e9}},
		{in: "64kb", want: Size{Bytes: 64e3}},
		{in: "64K", want: Size{Bytes: 64 << 10}},
		{in: "1TiB", want: Size{Bytes: 1 << 40}},
		{in: "1000", want: Size{Bytes: 1000}},
		{in: "1000B", want: Size{Bytes: 1000}},
		{in: "75%", want: Size{Percent: 75}},
		{in: "12.5 %", want: Size{Percent: 12.5}},
		{in: "100%", want: Size{Percent: 100}},
		{in: "0%", wantErr: `percentage "0%" must be a number in (0, 100]`},
		{in: "101%", wantErr: "must be a number in (0, 100]"},
		{in: "lots", wantErr: `size "lots" must be a positive number of bytes with an optional unit (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB) or a percentage ("75%")`},
		{in: "4 PiB", wantErr: "must be a positive number"},
		{in: "0", wantErr: "must be a positive number"},
		{in: "-1GiB", wantErr: "must be a positive number"},
		{in: "", wantErr: "must be a positive number"},
		{in: "0.1B", wantErr: "less than a byte"},
		{in: "9000000TiB", wantErr: "too large"},
	} {
		got, err := ParseSize(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseSize(%q) = %v, %v; want an error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		// String gives back a text that parses to the same size.
		if again, err := ParseSize(got.String()); err != nil || again != got {
			t.Errorf("ParseSize(%q.String() = %q) = %+v, %v", tc.in, got.String(), again, err)
		}
	}
	if got := (Size{Percent: 75}).Resolve(8 << 30); got != 6<<30 {
		t.Errorf("75%% of 8GiB = %d, want %d", got, 6<<30)
	}
	if got := (Size{Bytes: 123}).Resolve(8 << 30); got != 123 {
		t.Errorf("Resolve of bytes = %d", got)
	}
}

func TestWorkerKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.toml")
	if err := os.WriteFile(path, []byte("[worker]\nmemory-limit = \"2GiB\"\ngc-percent = 150\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		path    string
		env     []string
		want    Worker
		wantErr string
	}{
		{name: "default", want: Worker{MemoryLimit: Size{Percent: 75}, GCPercent: DefaultGCPercent}},
		{name: "file", path: path, want: Worker{MemoryLimit: Size{Bytes: 2 << 30}, GCPercent: 150}},
		{name: "env overrides file", path: path, env: []string{"ARROYO__WORKER__MEMORY_LIMIT=50%", "ARROYO__WORKER__GC_PERCENT=off"},
			want: Worker{MemoryLimit: Size{Percent: 50}, GCPercent: -1}},
		{name: "bad size", env: []string{"ARROYO__WORKER__MEMORY_LIMIT=4GiBs"},
			wantErr: `environment variable ARROYO__WORKER__MEMORY_LIMIT: worker.memory_limit: size "4GiBs" must be a positive number`},
		{name: "bad gc", env: []string{"ARROYO__WORKER__GC_PERCENT=0"},
			wantErr: "worker.gc_percent: must be a positive integer, got 0 (or \"off\")"},
		{name: "typo", env: []string{"ARROYO__WORKER__MEMORY=1G"},
			wantErr: "unknown key 'worker.memory' (known keys: worker.gc_percent, worker.memory_limit)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(tc.path, tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || c.Worker != tc.want {
				t.Fatalf("Load = %+v, %v; want %+v", c.Worker, err, tc.want)
			}
		})
	}
	if err := os.WriteFile(path, []byte("[worker]\nmemory_limit = 1024\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, nil); err == nil || !strings.Contains(err.Error(), `worker.memory_limit: expected a size such as "4GiB"`) {
		t.Fatalf("a TOML integer size: %v", err)
	}
}

func TestMachineMemory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	defer func(a, b, c string) { cgroupV2Max, cgroupV1Limit, procMeminfo = a, b, c }(cgroupV2Max, cgroupV1Limit, procMeminfo)
	procMeminfo = write("meminfo", "MemTotal:       16384 kB\nMemFree:        1 kB\n")
	none := filepath.Join(dir, "none")
	for _, tc := range []struct {
		name   string
		v2, v1 string // file contents; "" = no file
		want   uint64
	}{
		{"no cgroup", "", "", 16 << 20},
		{"v2 max", "max\n", "", 16 << 20},
		{"v2 limit", "4194304\n", "", 4 << 20},
		{"v2 above the machine", "1099511627776\n", "", 16 << 20},
		{"v1 limit", "", "8388608\n", 8 << 20},
		{"v1 unlimited", "", "9223372036854771712\n", 16 << 20},
		{"v2 wins over v1", "2097152\n", "8388608\n", 2 << 20},
	} {
		cgroupV2Max, cgroupV1Limit = none, none
		if tc.v2 != "" {
			cgroupV2Max = write("v2", tc.v2)
		}
		if tc.v1 != "" {
			cgroupV1Limit = write("v1", tc.v1)
		}
		got, err := MachineMemory()
		if err != nil || got != tc.want {
			t.Errorf("%s: MachineMemory = %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
	procMeminfo = none
	if _, err := MachineMemory(); err == nil {
		t.Error("MachineMemory without /proc/meminfo: no error")
	}
}
